//! Reproducible images (issue 15): the same spec and context, built twice from nothing, give
//! the same image. Built on the newest engine, whose build cache these tests prune between the
//! two builds (the main engine's cache serves other builds); scripts/test exports what
//! `Engine::newest` reads.
//!
//! `PYSLIM_FRONTEND` names another frontend image in the newest engine's store (a development
//! build); by default the main engine's org/pyslim is used, from the registry.

use std::path::Path;
use std::sync::Mutex;

use pyslim_e2e::*;

/// The two builds of a test run one after the other, and no other test's build runs between
/// them here: a prune in the middle of another build of this binary would lose it its cache.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn frontend() -> String {
    std::env::var("PYSLIM_FRONTEND").unwrap_or_else(|_| frontend_in_registry())
}

/// The flask example in a scratch directory, its spec naming the frontend under test.
fn flask(scratch_name: &str) -> std::path::PathBuf {
    let dir = copy_example("flask", scratch_name);
    use_frontend(&dir, &frontend());
    dir
}

/// Builds DIR from nothing on the newest engine (its build cache pruned first) as TAG: no
/// provenance, whose timestamps say when the build ran, not what it made.
fn clean_build(engine: &Engine, dir: &Path, tag: &str, extra: &[&str]) -> String {
    run(engine
        .docker()
        .args(["builder", "prune", "--all", "--force"]));
    let mut options = vec!["--provenance=false"];
    options.extend(extra);
    let out = engine.build_dir(dir, tag, &options);
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "building {tag} failed:\n{log}");
    assert!(
        log.contains("[slim] install dependencies"),
        "{tag} was built by pyslim:\n{log}"
    );
    log
}

fn layers(engine: &Engine, image: &str) -> Vec<String> {
    let json = engine.inspect(image, "{{json .RootFS.Layers}}");
    serde_json::from_str(&json).expect("RootFS.Layers is a JSON list")
}

#[test]
fn an_epoch_makes_two_clean_builds_one_image() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let engine = Engine::newest();
    let dir = flask("repro-epoch");
    let epoch = ["--build-arg", "SOURCE_DATE_EPOCH=1700000000"];
    let (first, second) = ("pyslim-e2e/repro-epoch-1", "pyslim-e2e/repro-epoch-2");
    let log = clean_build(&engine, &dir, first, &epoch);
    assert!(
        log.contains("pyslim: clamped"),
        "the layers' steps clamp their times:\n{log}"
    );
    clean_build(&engine, &dir, second, &epoch);
    let id = engine.inspect(first, "{{.Id}}");
    assert_eq!(
        id,
        engine.inspect(second, "{{.Id}}"),
        "two clean builds with one epoch: {:#?} vs {:#?}",
        layers(&engine, first),
        layers(&engine, second)
    );
    assert_eq!(
        engine.inspect(first, "{{.Created}}"),
        "2023-11-14T22:13:20Z",
        "the config's time is the epoch"
    );
    // What is in the layers: the epoch at most, no install time of uv's, bytecode by hash.
    let files = engine.sh(
        first,
        "find /usr/local/lib/python3.11/dist-packages /app -newermt @1700000001 | head -n 5; \
         find / -xdev -name uv_cache.json | head -n 5; \
         python3 -c 'import flask, sys, importlib.util as u; \
         f = open(u.cache_from_source(flask.__file__), \"rb\"); f.read(4); \
         sys.stdout.write(\"flags=%d\" % int.from_bytes(f.read(4), \"little\"))'",
    );
    assert_eq!(files.trim(), "flags=3", "{files}");
    // Ageing is off for the user: useradd's date of the day would differ between days.
    let shadow = run(engine.docker().args([
        "run",
        "--rm",
        "--user",
        "0",
        "--entrypoint",
        "getent",
        first,
        "shadow",
        "app",
    ]));
    assert_eq!(shadow.split(':').nth(2), Some(""), "{shadow}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_an_epoch_the_dependency_layers_are_still_identical() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let engine = Engine::newest();
    let dir = flask("repro-no-epoch");
    let (first, second) = ("pyslim-e2e/repro-plain-1", "pyslim-e2e/repro-plain-2");
    clean_build(&engine, &dir, first, &[]);
    clean_build(&engine, &dir, second, &[]);
    let (ours, theirs) = (layers(&engine, first), layers(&engine, second));
    assert_eq!(ours.len(), theirs.len());
    // The last layer is the app's: it may differ, by its files' times. Every one below is the
    // same: the base's, the user, the workdir, the dependencies.
    let below = ours.len() - 1;
    assert_eq!(ours[..below], theirs[..below]);
    let history =
        run(engine
            .docker()
            .args(["history", "--no-trunc", "--format", "{{.CreatedBy}}", first]));
    assert!(
        history
            .lines()
            .next()
            .is_some_and(|l| l.contains("install app")),
        "the last layer is the app's:\n{history}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
