//! pyslim-fuzz: mutates the example specs and the spec fixtures for a while and runs each through
//! the loader and the plan → lower → marshal path; saves every input that panics, aborts or hangs.
//!
//!   cargo run --profile fuzz -p pyslim-fuzz -- --seconds 60 [--seed N]
//!   cargo run --profile fuzz -p pyslim-fuzz -- --replay CRASH.yaml...
//!
//! The run happens in a child process (this same binary with `--worker`) that the parent
//! watches. A panic is caught in the child, which saves the input and goes on. A stack overflow
//! or an abort cannot be caught in-process (Rust aborts the whole process on them; a thread with
//! a bounded stack aborts the same way), and a hang never returns: the parent sees the child die
//! or go quiet, knows from the child's output which input it had started, rebuilds that input from
//! the seed (input `i` depends only on the seed, `i` and the corpus before `i`, which is on
//! disk), saves it, and starts a new child at the next input. So no input can end the run, and
//! the run is the same for the same seed.
//!
//! Exit status: 0 when nothing was found, 1 when something was (the inputs are in `--crashes`),
//! 2 for a usage or setup error.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pyslim_fuzz::worker::{self, Config, Event};

const USAGE: &str = "\
usage: pyslim-fuzz [--seconds N] [--runs N] [--seed N] [--slow-ms N] [--seeds DIR]...
                   [--crashes DIR] [--work DIR] [--in-process]
       pyslim-fuzz --replay FILE...

  --seconds N    stop after N seconds (default 60)
  --runs N       stop after inputs 0..N (with --seed: exactly the same inputs every time)
  --seed N       the run's seed (default: the time; printed either way)
  --slow-ms N    an input taking longer is a hang (default 2000)
  --seeds DIR    more seed inputs: the .yaml files under DIR (say, an earlier run's corpus)
  --crashes DIR  where crashing inputs go (default target/pyslim-fuzz/crashes)
  --work DIR     the run's corpus (default target/pyslim-fuzz/work; emptied at the start)
  --in-process   no child process: faster to debug, but an abort or a hang ends the run
  --replay       run the given inputs once each and say what happened";

struct Args {
    seconds: Option<u64>,
    runs: Option<u64>,
    seed: u64,
    slow: Duration,
    seeds: Vec<PathBuf>,
    crashes: PathBuf,
    work: PathBuf,
    in_process: bool,
    replay: Vec<PathBuf>,
    /// Internal: this process is a child, starting at this input.
    worker: Option<u64>,
}

fn parse_args() -> Result<Args, String> {
    let root = pyslim_fuzz::repo_root();
    let mut args = Args {
        seconds: None,
        runs: None,
        seed: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        slow: Duration::from_millis(2000),
        seeds: Vec::new(),
        crashes: root.join("target/pyslim-fuzz/crashes"),
        work: root.join("target/pyslim-fuzz/work"),
        in_process: false,
        replay: Vec::new(),
        worker: None,
    };
    let mut it = std::env::args().skip(1);
    let number = |it: &mut dyn Iterator<Item = String>, flag: &str| -> Result<u64, String> {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        value
            .parse()
            .map_err(|_| format!("{flag}: not a number: {value}"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => args.seconds = Some(number(&mut it, "--seconds")?),
            "--runs" => args.runs = Some(number(&mut it, "--runs")?),
            "--seed" => args.seed = number(&mut it, "--seed")?,
            "--slow-ms" => args.slow = Duration::from_millis(number(&mut it, "--slow-ms")?),
            "--seeds" => args
                .seeds
                .push(it.next().ok_or("--seeds needs a directory")?.into()),
            "--crashes" => args.crashes = it.next().ok_or("--crashes needs a directory")?.into(),
            "--work" => args.work = it.next().ok_or("--work needs a directory")?.into(),
            "--in-process" => args.in_process = true,
            "--worker" => args.worker = Some(number(&mut it, "--worker")?),
            "--replay" => {
                args.replay.extend(it.by_ref().map(PathBuf::from));
                if args.replay.is_empty() {
                    return Err("--replay needs files".into());
                }
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    if args.seconds.is_none() && args.runs.is_none() {
        args.seconds = Some(60);
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(why) => {
            if !why.is_empty() {
                eprintln!("pyslim-fuzz: {why}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = if !args.replay.is_empty() {
        replay(&args.replay)
    } else if let Some(start) = args.worker {
        run_worker(&args, start).map(|()| true)
    } else {
        fuzz(&args)
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(why) => {
            eprintln!("pyslim-fuzz: {why}");
            ExitCode::from(2)
        }
    }
}

fn seed_inputs(args: &Args) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let root = pyslim_fuzz::repo_root();
    let seeds = pyslim_fuzz::seeds(&root, &args.seeds).map_err(|e| format!("seeds: {e}"))?;
    if seeds.is_empty() {
        return Err(format!("no seed inputs under {}", root.display()));
    }
    Ok(seeds)
}

fn config(args: &Args, start: u64, deadline: Option<Instant>) -> Result<Config, String> {
    Ok(Config {
        seed: args.seed,
        start,
        end: args.runs,
        deadline,
        slow: args.slow,
        seeds: seed_inputs(args)?.into_iter().map(|(_, b)| b).collect(),
        corpus_dir: args.work.join("corpus"),
        crashes_dir: args.crashes.clone(),
    })
}

/// The child: the loop, its events as lines on stdout.
fn run_worker(args: &Args, start: u64) -> Result<(), String> {
    let deadline = args
        .seconds
        .map(|s| Instant::now() + Duration::from_secs(s));
    let config = config(args, start, deadline)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failed = None;
    worker::run(&config, &mut |event| {
        // Written and flushed before the input runs: the parent must know it if the input kills
        // this process.
        if let Err(e) = writeln!(out, "{}", event.line()).and_then(|()| out.flush()) {
            failed.get_or_insert(e);
        }
    })
    .map_err(|e| format!("worker: {e}"))?;
    match failed {
        Some(e) => Err(format!("worker output: {e}")),
        None => Ok(()),
    }
}

/// Totals over every worker of a run.
#[derive(Default)]
struct Totals {
    runs: u64,
    valid: u64,
    planned: u64,
    corpus: usize,
    crashes: u64,
    saved: Vec<PathBuf>,
}

impl Totals {
    /// The totals, with the current worker's `valid` and `planned` added.
    fn line(&self, began: Instant, valid: u64, planned: u64) -> String {
        let secs = began.elapsed().as_secs_f64();
        format!(
            "{:>5.0} s: {} inputs ({:.0}/s), {} valid, {} plans marshalled, corpus {}, {} crashes",
            secs,
            self.runs,
            self.runs as f64 / secs.max(1e-9),
            self.valid + valid,
            self.planned + planned,
            self.corpus,
            self.crashes
        )
    }
}

fn fuzz(args: &Args) -> Result<bool, String> {
    let began = Instant::now();
    let deadline = args.seconds.map(|s| began + Duration::from_secs(s));
    let seeds = seed_inputs(args)?;
    eprintln!(
        "pyslim-fuzz: seed {} ({} seed inputs){}{}",
        args.seed,
        seeds.len(),
        args.seconds
            .map_or(String::new(), |s| format!(", for {s} s")),
        args.runs
            .map_or(String::new(), |r| format!(", inputs 0..{r}"))
    );
    let seed_bytes: Vec<Vec<u8>> = seeds.iter().map(|(_, b)| b.clone()).collect();
    let corpus_dir = args.work.join("corpus");
    if corpus_dir.exists() {
        std::fs::remove_dir_all(&corpus_dir)
            .map_err(|e| format!("{}: {e}", corpus_dir.display()))?;
    }
    if args.in_process {
        return in_process(args, deadline, began);
    }
    let mut totals = Totals::default();
    // An abort is saved once per way it died (its last line on stderr).
    let mut aborts: HashSet<String> = HashSet::new();
    let mut start = 0u64;
    let mut last_report = Instant::now();
    loop {
        if args.runs.is_some_and(|r| start >= r) || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let mut child = spawn(args, start, deadline)?;
        let (lines, stderr) = listen(&mut child);
        // Quiet for this long means an input is stuck: the worker reports every input it starts,
        // and its totals every half second.
        let watchdog = (args.slow * 3).max(Duration::from_secs(5));
        let mut current: Option<u64> = None;
        let mut seed_running: Option<usize> = None;
        let (mut valid, mut planned) = (0, 0);
        let died = loop {
            match lines.recv_timeout(watchdog) {
                Ok(line) => {
                    let (word, rest) = line.split_once(' ').unwrap_or((&line, ""));
                    match word {
                        "seed" => seed_running = rest.parse().ok(),
                        "ready" => seed_running = None,
                        "stats" => {
                            let n: Vec<u64> =
                                rest.split(' ').filter_map(|n| n.parse().ok()).collect();
                            if let [v, p, c] = n[..] {
                                (valid, planned) = (v, p);
                                totals.corpus = c as usize;
                            }
                        }
                        "crash" => {
                            totals.crashes += 1;
                            let mut parts = rest.splitn(4, ' ');
                            let (index, kind, path, what) = (
                                parts.next().unwrap_or(""),
                                parts.next().unwrap_or(""),
                                parts.next().unwrap_or(""),
                                parts.next().unwrap_or(""),
                            );
                            if path.is_empty() {
                                eprintln!("  {kind} at input {index} (seen before): {what}");
                            } else {
                                eprintln!("  {kind} at input {index}: {what}\n    saved: {path}");
                                totals.saved.push(path.into());
                            }
                        }
                        _ => match line.parse::<u64>() {
                            Ok(i) => {
                                current = Some(i);
                                totals.runs += 1;
                            }
                            Err(_) => eprintln!("  worker: {line}"),
                        },
                    }
                    if last_report.elapsed() > Duration::from_secs(10) {
                        last_report = Instant::now();
                        eprintln!("{}", totals.line(began, valid, planned));
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break None,
                Err(RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    break Some("hang");
                }
            }
        };
        totals.valid += valid;
        totals.planned += planned;
        let status = child.wait().map_err(|e| format!("worker: {e}"))?;
        let stderr = stderr.join().unwrap_or_default();
        if died.is_none() && status.success() {
            break;
        }
        let kind = died.unwrap_or("abort");
        let how = match (kind, last_line(&stderr)) {
            ("hang", _) => format!("no answer for {watchdog:?}: killed"),
            (_, Some(line)) => format!("{status}: {line}"),
            (_, None) => status.to_string(),
        };
        if let Some(k) = seed_running {
            let path = seeds.get(k).map_or_else(
                || format!("corpus entry {k}"),
                |(p, _)| p.display().to_string(),
            );
            return Err(format!("the seed {path} kills the worker ({how})"));
        }
        let Some(index) = current else {
            return Err(format!(
                "the worker died before its first input ({how})\n{stderr}"
            ));
        };
        totals.crashes += 1;
        let input = pyslim_fuzz::rebuild(&seed_bytes, &corpus_dir, args.seed, index)
            .map_err(|e| format!("rebuilding input {index}: {e}"))?;
        if aborts.insert(format!("{kind} {}", last_line(&stderr).unwrap_or_default())) {
            let path = pyslim_fuzz::save_crash(&args.crashes, kind, args.seed, index, &input, &how)
                .map_err(|e| format!("saving a crash: {e}"))?;
            eprintln!(
                "  {kind} at input {index}: {how}\n    saved: {}",
                path.display()
            );
            totals.saved.push(path);
        } else {
            eprintln!("  {kind} at input {index} (seen before): {how}");
        }
        start = index + 1;
    }
    finish(&totals, began)
}

fn finish(totals: &Totals, began: Instant) -> Result<bool, String> {
    eprintln!("{}", totals.line(began, 0, 0));
    if totals.crashes == 0 {
        eprintln!("pyslim-fuzz: nothing found");
        return Ok(true);
    }
    eprintln!(
        "pyslim-fuzz: {} crashing inputs, {} saved:",
        totals.crashes,
        totals.saved.len()
    );
    for path in &totals.saved {
        eprintln!("  {}", path.display());
    }
    eprintln!(
        "replay one with `cargo run --profile fuzz -p pyslim-fuzz -- --replay FILE`; \
         make it a regression test as the README says (fuzz/regressions)"
    );
    Ok(false)
}

fn spawn(args: &Args, start: u64, deadline: Option<Instant>) -> Result<Child, String> {
    let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    let mut command = Command::new(exe);
    command
        .arg("--worker")
        .arg(start.to_string())
        .arg("--seed")
        .arg(args.seed.to_string())
        .arg("--slow-ms")
        .arg(args.slow.as_millis().to_string())
        .arg("--crashes")
        .arg(&args.crashes)
        .arg("--work")
        .arg(&args.work);
    for dir in &args.seeds {
        command.arg("--seeds").arg(dir);
    }
    if let Some(runs) = args.runs {
        command.arg("--runs").arg(runs.to_string());
    }
    // Whole seconds, rounded up: the parent's deadline ends the run either way.
    let left = deadline.map(|d| d.saturating_duration_since(Instant::now()).as_secs() + 1);
    command
        .arg("--seconds")
        .arg(left.unwrap_or(u64::MAX / 4).to_string());
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting a worker: {e}"))
}

/// The child's stdout as lines on a channel, and its stderr (kept whole: a stack overflow or a
/// panic outside an input says what it was there).
fn listen(child: &mut Child) -> (mpsc::Receiver<String>, std::thread::JoinHandle<String>) {
    let (send, lines) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
    }
    let stderr = child.stderr.take();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut stderr) = stderr {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    });
    (lines, stderr)
}

fn last_line(text: &str) -> Option<String> {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
}

/// `--in-process`: the loop in this process, reporting as it goes.
fn in_process(args: &Args, deadline: Option<Instant>, began: Instant) -> Result<bool, String> {
    let config = config(args, 0, deadline)?;
    let mut totals = Totals::default();
    let mut last_report = Instant::now();
    worker::run(&config, &mut |event| match event {
        Event::Input(_) => totals.runs += 1,
        Event::Stats {
            valid,
            planned,
            corpus,
        } => {
            (totals.valid, totals.planned, totals.corpus) = (valid, planned, corpus);
            if last_report.elapsed() > Duration::from_secs(10) {
                last_report = Instant::now();
                eprintln!("{}", totals.line(began, 0, 0));
            }
        }
        Event::Crash {
            index,
            kind,
            path,
            what,
        } => {
            totals.crashes += 1;
            eprintln!("  {kind} at input {index}: {what}");
            if !path.as_os_str().is_empty() {
                eprintln!("    saved: {}", path.display());
                totals.saved.push(path);
            }
        }
        Event::Seed(_) | Event::Ready { .. } => {}
    })
    .map_err(|e| format!("fuzzing: {e}"))?;
    finish(&totals, began)
}

/// `--replay`: each file once, in this process (a stack overflow still aborts it: that is the
/// answer then).
fn replay(files: &[PathBuf]) -> Result<bool, String> {
    worker::quiet_panics();
    let mut clean = true;
    for file in files {
        let input = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let began = Instant::now();
        let result = worker::run_one(&input);
        let took = began.elapsed().as_secs_f64();
        match result {
            Ok(outcome) => println!(
                "{}: ok in {took:.3} s ({}, {} plans marshalled)",
                file.display(),
                if outcome.valid { "valid" } else { "invalid" },
                outcome.planned
            ),
            Err((place, message)) => {
                clean = false;
                println!("{}: panicked at {place}: {message}", file.display());
            }
        }
    }
    Ok(clean)
}
