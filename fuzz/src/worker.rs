//! The fuzzing loop: input `i` is mutation `i` of the corpus as it stands, run under
//! `catch_unwind` and timed. An input that reaches a feature no earlier one did joins the corpus
//! (and its directory, so a new worker picks up where a dead one stopped).

use std::collections::HashSet;
use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::mutate::{Corpus, Rng, mutate};
use crate::target;

/// The corpus stops growing here: past it a run mostly re-mutates what it has.
pub const MAX_CORPUS: usize = 4096;

pub struct Config {
    pub seed: u64,
    /// The first input's index, and the index to stop before.
    pub start: u64,
    pub end: Option<u64>,
    pub deadline: Option<Instant>,
    /// An input that takes longer is reported as a hang.
    pub slow: Duration,
    pub seeds: Vec<Vec<u8>>,
    pub corpus_dir: PathBuf,
    pub crashes_dir: PathBuf,
}

/// What the loop tells its caller: the supervisor reads these as lines on a worker's stdout.
pub enum Event {
    /// Seed `k` runs next (while the corpus is loaded).
    Seed(usize),
    Ready {
        corpus: usize,
    },
    /// Input `i` runs next.
    Input(u64),
    Crash {
        index: u64,
        kind: &'static str,
        path: PathBuf,
        what: String,
    },
    /// Running totals of this worker: valid specs, plans marshalled, corpus size.
    Stats {
        valid: u64,
        planned: u64,
        corpus: usize,
    },
}

impl Event {
    pub fn line(&self) -> String {
        match self {
            Event::Seed(k) => format!("seed {k}"),
            Event::Ready { corpus } => format!("ready {corpus}"),
            Event::Input(i) => format!("{i}"),
            Event::Crash {
                index,
                kind,
                path,
                what,
            } => format!(
                "crash {index} {kind} {} {}",
                path.display(),
                what.replace('\n', " ")
            ),
            Event::Stats {
                valid,
                planned,
                corpus,
            } => format!("stats {valid} {planned} {corpus}"),
        }
    }
}

static PANIC: Mutex<Option<(String, String)>> = Mutex::new(None);

/// Panics are caught and told as crashes, not printed: keep their message and place.
pub fn quiet_panics() {
    panic::set_hook(Box::new(|info| {
        let message = if let Some(s) = info.payload().downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = info.payload().downcast_ref::<String>() {
            s.clone()
        } else {
            "(a panic without a message)".to_string()
        };
        let place = info
            .location()
            .map_or_else(|| "unknown place".to_string(), |l| l.to_string());
        if let Ok(mut last) = PANIC.lock() {
            *last = Some((place, message));
        }
    }));
}

/// Runs one input, catching a panic: `Err((place, message))`.
pub fn run_one(input: &[u8]) -> Result<target::Outcome, (String, String)> {
    panic::catch_unwind(AssertUnwindSafe(|| target::run(input))).map_err(|_| {
        PANIC
            .lock()
            .ok()
            .and_then(|mut p| p.take())
            .unwrap_or_else(|| ("unknown place".into(), "panic".into()))
    })
}

/// The corpus as it stood before input `before`: the seeds, run again (`report` is told which) to
/// know which are valid and every feature they reached, and the additions with what the worker
/// that added them noted (run again when that is missing). A new worker after a crash starts
/// from here, so this must be quick: the corpus holds thousands.
pub fn corpus(
    seeds: &[Vec<u8>],
    corpus_dir: &std::path::Path,
    before: u64,
    report: &mut dyn FnMut(usize),
) -> std::io::Result<(Corpus, HashSet<String>)> {
    let mut inputs: Vec<(Vec<u8>, Option<String>)> =
        seeds.iter().map(|s| (s.clone(), None)).collect();
    inputs.extend(crate::additions(corpus_dir, before)?);
    let mut corpus = Corpus::default();
    let mut seen = HashSet::new();
    for (k, (input, noted)) in inputs.into_iter().enumerate() {
        let valid = match noted {
            Some(noted) => {
                let mut lines = noted.lines();
                let valid = lines.next() == Some("valid");
                seen.extend(lines.map(String::from));
                valid
            }
            None => {
                report(k);
                // A seed that panics adds nothing here; mutations of it find the panic again.
                match run_one(&input) {
                    Ok(outcome) => {
                        seen.extend(outcome.features);
                        outcome.valid
                    }
                    Err(_) => false,
                }
            }
        };
        corpus.push(input, valid);
    }
    Ok((corpus, seen))
}

pub fn run(config: &Config, report: &mut dyn FnMut(Event)) -> std::io::Result<()> {
    quiet_panics();
    let (mut corpus, mut seen) =
        corpus(&config.seeds, &config.corpus_dir, config.start, &mut |k| {
            report(Event::Seed(k))
        })?;
    report(Event::Ready {
        corpus: corpus.len(),
    });
    fs::create_dir_all(&config.corpus_dir)?;
    let (mut valid, mut planned) = (0u64, 0u64);
    let mut signatures: HashSet<String> = HashSet::new();
    let mut last_stats = Instant::now();
    let mut index = config.start;
    loop {
        if config.end.is_some_and(|end| index >= end)
            || config.deadline.is_some_and(|d| Instant::now() >= d)
        {
            break;
        }
        let input = mutate(&corpus, &mut Rng::for_input(config.seed, index));
        report(Event::Input(index));
        let began = Instant::now();
        let result = run_one(&input);
        let took = began.elapsed();
        match result {
            Ok(outcome) => {
                valid += u64::from(outcome.valid);
                planned += outcome.planned as u64;
                let new = outcome.features.iter().any(|f| !seen.contains(f));
                if new && corpus.len() < MAX_CORPUS {
                    // What it reached, for a later worker's `corpus`; then the input, whose
                    // file is what makes it an addition.
                    let path = config.corpus_dir.join(format!("{index:012}.yaml"));
                    let mut noted = String::from(if outcome.valid { "valid" } else { "invalid" });
                    for feature in &outcome.features {
                        noted.push('\n');
                        noted.push_str(feature);
                    }
                    fs::write(path.with_extension("features"), noted)?;
                    fs::write(&path, &input)?;
                    corpus.push(input.clone(), outcome.valid);
                    seen.extend(outcome.features);
                }
            }
            Err((place, message)) => {
                // One file per place that panics; the same panic again is only counted.
                let first = signatures.insert(format!("panic {place}"));
                let what = format!("panicked at {place}: {message}");
                let path = if first {
                    crate::save_crash(
                        &config.crashes_dir,
                        "panic",
                        config.seed,
                        index,
                        &input,
                        &what,
                    )?
                } else {
                    PathBuf::new()
                };
                report(Event::Crash {
                    index,
                    kind: "panic",
                    path,
                    what,
                });
            }
        }
        if took > config.slow {
            let what = format!(
                "took {:.1} s (the bound is {:?})",
                took.as_secs_f64(),
                config.slow
            );
            let path = crate::save_crash(
                &config.crashes_dir,
                "slow",
                config.seed,
                index,
                &input,
                &what,
            )?;
            report(Event::Crash {
                index,
                kind: "slow",
                path,
                what,
            });
        }
        if last_stats.elapsed() > Duration::from_millis(500) {
            last_stats = Instant::now();
            report(Event::Stats {
                valid,
                planned,
                corpus: corpus.len(),
            });
        }
        index += 1;
    }
    report(Event::Stats {
        valid,
        planned,
        corpus: corpus.len(),
    });
    Ok(())
}
