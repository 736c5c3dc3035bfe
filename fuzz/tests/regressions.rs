//! Every input the fuzzer ever found crashing, kept in `fuzz/regressions/`: each must now go
//! through the loader (and, when valid, plan → lower → marshal) without a panic, and quickly.
//! They are seeds of every fuzzing run too.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use pyslim_fuzz::worker;

#[test]
fn no_regression_crashes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("fuzz/regressions")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    worker::quiet_panics();
    for path in files {
        let input = fs::read(&path).expect("readable");
        let began = Instant::now();
        if let Err((place, message)) = worker::run_one(&input) {
            panic!("{}: panicked at {place}: {message}", path.display());
        }
        // A debug build is slower than the fuzzer's: the bound is generous.
        let took = began.elapsed();
        assert!(
            took < Duration::from_secs(10),
            "{}: took {took:?}",
            path.display()
        );
    }
}
