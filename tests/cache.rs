//! A build cache that travels between machines through a registry, as between CI runners:
//! engine A builds cold and exports its cache (`--cache-to type=registry,mode=max`); engine B,
//! empty, builds after an edit of the app's code with `--cache-from` and compiles nothing.
//! Both are instances of the newest engine (the containerd image store exports caches; the
//! classic store refuses), each with a data root of its own, started by scripts/test.

use std::fs;
use std::time::Instant;

use pyslim_e2e::*;

/// The progress vertex whose name contains `name`, e.g. `#12`.
fn vertex<'a>(log: &'a str, name: &str) -> &'a str {
    log.lines()
        .find_map(|line| {
            let (number, rest) = line.split_once(' ')?;
            (number.starts_with('#') && rest.starts_with('[') && rest.contains(name))
                .then_some(number)
        })
        .unwrap_or_else(|| panic!("no step `{name}` in the progress:\n{log}"))
}

/// Whether the step came from the cache: BuildKit says `CACHED`, or — when a later step needs
/// its files, which an empty machine does not have — only pulls its layer from the imported
/// cache (`sha256:… done`, `extracting …`), with no line of a running command (`#12 0.301 …`).
fn cached(log: &str, name: &str) -> bool {
    let vertex = vertex(log, name);
    let lines: Vec<&str> = log
        .lines()
        .filter_map(|line| line.strip_prefix(vertex)?.strip_prefix(' '))
        .collect();
    let ran = lines.iter().any(|line| {
        line.split_whitespace()
            .next()
            .is_some_and(|word| word.contains('.') && word.parse::<f64>().is_ok())
    });
    let pulled = lines
        .iter()
        .any(|line| line.starts_with("extracting sha256:"));
    lines.contains(&"CACHED") || (pulled && !ran)
}

/// Builds DIR on `engine` as TAG with `extra`; the seconds it took and its progress.
fn timed(engine: &Engine, dir: &std::path::Path, tag: &str, extra: &[&str]) -> (f64, String) {
    let started = Instant::now();
    let out = engine.build_dir(dir, tag, extra);
    let seconds = started.elapsed().as_secs_f64();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "building {tag} failed:\n{log}");
    (seconds, log)
}

#[test]
fn a_registry_cache_lets_an_empty_engine_skip_the_compiler() {
    let a = Engine::newest_instance(2);
    let b = Engine::newest_instance(3);
    // Both start empty: A's time is a cold build's, and nothing B built before may stand in for
    // the imported cache. The wheel caches (cache mounts) go too: they never travel.
    for engine in [&a, &b] {
        run(engine.docker().args(["builder", "prune", "-af"]));
    }
    let dir = copy_example("uwsgi", "cache-uwsgi");
    use_frontend(&dir, &frontend_in_registry());
    let cache = format!("{}/pyslim-e2e-cache:uwsgi", registry());
    let tag = "pyslim-e2e/cache-uwsgi";

    let (cold, log_a) = timed(
        &a,
        &dir,
        tag,
        &[&format!("--cache-to=type=registry,ref={cache},mode=max")],
    );
    assert!(
        log_a.contains("pyslim: building uwsgi 2.0.28 from source"),
        "A compiles uWSGI:\n{log_a}"
    );

    // An edit of the app's code: its wheel and the image's last layers change, the
    // dependencies do not.
    let wsgi = dir.join("site_app/wsgi.py");
    let code = fs::read_to_string(&wsgi).expect("read the app");
    let edited = code.replace("built by pyslim", "built by pyslim from a travelling cache");
    assert_ne!(code, edited, "the edit changes the app");
    fs::write(&wsgi, edited).expect("edit the app");

    let (warm, log_b) = timed(
        &b,
        &dir,
        tag,
        &[&format!("--cache-from=type=registry,ref={cache}")],
    );
    let ratio = warm / cold;
    eprintln!("uwsgi: A cold {cold:.1} s, B with --cache-from {warm:.1} s, B/A = {ratio:.2}");
    assert!(
        cached(&log_b, "build dependency wheels"),
        "B takes the dependency wheels from the cache:\n{log_b}"
    );
    for compiling in [
        "pyslim: building uwsgi",
        "Building wheel for uwsgi",
        "gcc",
        "x86_64-linux-gnu-gcc",
    ] {
        assert!(
            !log_b.contains(compiling),
            "B runs no compiler (`{compiling}`):\n{log_b}"
        );
    }
    assert!(
        ratio <= 0.35,
        "B took {warm:.1} s, {ratio:.2} of A's cold {cold:.1} s:\n{log_b}"
    );
    let (response, logs) = b.serve(tag);
    assert!(
        response.contains("built by pyslim from a travelling cache"),
        "B's image serves the edited app: {response}\nlogs: {logs}"
    );
    let _ = fs::remove_dir_all(&dir);
}
