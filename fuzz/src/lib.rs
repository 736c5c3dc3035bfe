//! pyslim's fuzzer: mutated specs through the loader and the plan → lower → marshal path, on
//! stable Rust with nothing but the standard library.
//!
//! [`mutate`] makes the inputs, [`target`] runs one, and [`worker`] runs them in a loop in a
//! child process that `main`'s supervisor watches: a panic is caught in the worker, but a stack
//! overflow or an abort kills the process, and a hang never returns, so the supervisor is what
//! notices those, rebuilds the input from the seed, saves it, and starts a new worker after it.

pub mod mutate;
pub mod target;
pub mod worker;

use std::fs;
use std::path::{Path, PathBuf};

/// The repository the fuzzer was built in: where the seeds are.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the fuzz crate sits in the repository")
        .to_path_buf()
}

/// The seed inputs, in a fixed order: every example's spec, every spec fixture, every regression
/// the fuzzer found before, and the `.yaml` files of `extra` directories.
pub fn seeds(root: &Path, extra: &[PathBuf]) -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(root.join("examples"))? {
        let path = entry?.path().join("pyslim.yaml");
        if path.is_file() {
            paths.push(path);
        }
    }
    yaml_files(&root.join("spec/tests/fixtures"), &mut paths)?;
    yaml_files(&root.join("fuzz/regressions"), &mut paths)?;
    let mut extras = Vec::new();
    for dir in extra {
        yaml_files(dir, &mut extras)?;
    }
    paths.sort();
    extras.sort();
    paths.extend(extras);
    paths
        .into_iter()
        .map(|p| fs::read(&p).map(|bytes| (p, bytes)))
        .collect()
}

/// Every `.yaml` under `dir`, at any depth.
fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            yaml_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
    Ok(())
}

/// The inputs a run added to its corpus before input `before`, in the order added, each with what
/// running it gave when the worker has noted that (`valid` or `invalid`, then its features, one a
/// line). They are files named by the input's index, written before the next input runs.
pub fn additions(dir: &Path, before: u64) -> std::io::Result<Vec<(Vec<u8>, Option<String>)>> {
    let mut found: Vec<(u64, PathBuf)> = Vec::new();
    if dir.is_dir() {
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            let index = path
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<u64>().ok());
            if let Some(index) = index
                && index < before
            {
                found.push((index, path));
            }
        }
    }
    found.sort();
    found
        .into_iter()
        .map(|(_, p)| {
            Ok((
                fs::read(&p)?,
                fs::read_to_string(p.with_extension("features")).ok(),
            ))
        })
        .collect()
}

/// Input `index` of the run seeded with `seed`, as the worker made it: rebuilt from the seeds and
/// what the run had added to its corpus by then.
pub fn rebuild(
    seeds: &[Vec<u8>],
    corpus_dir: &Path,
    seed: u64,
    index: u64,
) -> std::io::Result<Vec<u8>> {
    worker::quiet_panics();
    let (corpus, _) = worker::corpus(seeds, corpus_dir, index, &mut |_| {})?;
    Ok(mutate::mutate(
        &corpus,
        &mut mutate::Rng::for_input(seed, index),
    ))
}

/// Saves a crashing input as `KIND-SEED-INDEX.yaml` with what happened beside it in `.txt`.
pub fn save_crash(
    dir: &Path,
    kind: &str,
    seed: u64,
    index: u64,
    input: &[u8],
    what: &str,
) -> std::io::Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let path = dir.join(format!("{kind}-{seed}-{index}.yaml"));
    fs::write(&path, input)?;
    let note = format!(
        "{kind} at input {index} of the run with --seed {seed}\n{what}\n\n\
         reproduce: cargo run --profile fuzz -p pyslim-fuzz -- --replay {}\n",
        path.display()
    );
    fs::write(path.with_extension("txt"), note)?;
    Ok(path)
}
