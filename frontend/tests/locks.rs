//! Locks through the real frontend loop against the fake gateway: which lock is honoured and
//! how the build says so, and every mistake with a lock as a located diagnostic.

mod support;

use std::fs;
use std::path::Path;

fn example(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/uv-lock")
        .join(file);
    fs::read_to_string(path).expect("the uv-lock example")
}

/// Builds `spec` over the uv-lock example's project with `changes` to its files (a `None`
/// text leaves a file out): the error message, if it failed, and the graph's step names.
async fn build(spec: &str, changes: &[(&str, Option<String>)]) -> (Option<String>, Vec<String>) {
    let mut files: Vec<(String, String)> =
        ["pyproject.toml", "uv.lock", "src/hello_lock/__init__.py"]
            .iter()
            .map(|f| (f.to_string(), example(f)))
            .collect();
    for (name, text) in changes {
        files.retain(|(f, _)| f != name);
        if let Some(text) = text {
            files.push((name.to_string(), text.clone()));
        }
    }
    let context: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(f, t)| (f.as_str(), t.as_bytes()))
        .collect();
    let (result, recorded) = support::build(spec, &context, &[("filename", "pyslim.yaml")]).await;
    match result {
        Ok(()) => {
            let names = recorded
                .graph()
                .metadata
                .values()
                .filter_map(|m| m.description.get("llb.customname").cloned())
                .collect();
            (None, names)
        }
        Err(_) => (Some(recorded.error().message.clone()), Vec::new()),
    }
}

const APP: &str = "# syntax=org/pyslim\npython: \"3.11\"\napp: .\n";

#[tokio::test]
async fn the_lock_beside_the_app_is_honoured_and_named() {
    let (error, steps) = build(APP, &[]).await;
    assert_eq!(error, None);
    assert!(
        steps.iter().any(|s| s
            == "[compile] build dependency wheels: uv.lock, 8 packages pinned with their hashes"),
        "{steps:?}"
    );
}

#[tokio::test]
async fn a_lock_named_under_requirements_installs_without_the_app() {
    let spec = "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: uv.lock\n";
    let (error, steps) = build(spec, &[]).await;
    assert_eq!(error, None);
    assert!(
        steps
            .iter()
            .any(|s| s.contains("build dependency wheels: uv.lock, 8 packages")),
        "{steps:?}"
    );
    assert!(!steps.iter().any(|s| s.contains("app wheel")), "{steps:?}");
}

#[tokio::test]
async fn a_stale_lock_is_an_error_in_the_lock_naming_the_command() {
    let bumped = example("pyproject.toml").replace("\"flask>=3.0\"", "\"flask>=3.1\"");
    let (error, _) = build(APP, &[("pyproject.toml", Some(bumped))]).await;
    let error = error.expect("a stale lock fails");
    assert!(error.contains("uv.lock:77:1: error: the lock file `uv.lock` is out of date with pyproject.toml: dependencies has `flask>=3.1`, which the lock does not"), "{error}");
    assert!(
        error.contains("hint: run `uv lock` and commit uv.lock"),
        "{error}"
    );
}

#[tokio::test]
async fn a_broken_lock_is_an_error_at_its_line() {
    let broken = example("uv.lock").replacen("version = \"1.9.0\"", "version = 1.9.0", 1);
    let (error, _) = build(APP, &[("uv.lock", Some(broken))]).await;
    let error = error.expect("a broken lock fails");
    assert!(error.contains("uv.lock:7:14: error"), "{error}");
    assert!(
        error.contains("is not a uv.lock pyslim can read"),
        "{error}"
    );
}

#[tokio::test]
async fn an_extra_the_lock_does_not_have_is_an_error_listing_none() {
    let spec = format!("{APP}extras: [postgres]\n");
    let (error, _) = build(&spec, &[]).await;
    let error = error.expect("an unknown extra fails");
    assert!(
        error.contains(
            "pyslim.yaml:4:10: error: `uv.lock` locks no extra `postgres`; it has: dotenv"
        ),
        "{error}"
    );
}

#[tokio::test]
async fn requirements_beside_a_lock_are_refused() {
    let spec = format!("{APP}requirements: requirements.txt\n");
    let (error, _) = build(&spec, &[("requirements.txt", Some("flask\n".into()))]).await;
    let error = error.expect("requirements beside a lock fail");
    assert!(error.contains("pyslim.yaml:4:15: error: `requirements.txt` cannot be installed beside the lock `uv.lock`"), "{error}");
    assert!(error.contains("run `uv lock`"), "{error}");
}

#[tokio::test]
async fn a_lock_under_another_name_is_not_handed_to_pip() {
    let spec = "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: deps.lock\n";
    let (error, _) = build(spec, &[("deps.lock", Some(example("uv.lock")))]).await;
    let error = error.expect("a lock under another name fails");
    assert!(error.contains("deps.lock:1:1: error: `deps.lock` is not a requirements file: it reads like TOML or JSON"), "{error}");
    assert!(
        error.contains("uv.lock, poetry.lock, pdm.lock, Pipfile.lock, pylock.toml"),
        "{error}"
    );
}

#[tokio::test]
async fn a_project_without_its_lock_builds_from_its_metadata() {
    let (error, steps) = build(APP, &[("uv.lock", None)]).await;
    assert_eq!(error, None);
    assert!(
        steps
            .iter()
            .any(|s| s.contains("build dependency wheels: the app's dependencies")),
        "{steps:?}"
    );
}

#[tokio::test]
async fn an_extra_of_the_lock_adds_its_packages() {
    let spec = format!("{APP}extras: [dotenv]\n");
    let (error, steps) = build(&spec, &[]).await;
    assert_eq!(error, None);
    assert!(
        steps
            .iter()
            .any(|s| s.contains("build dependency wheels: uv.lock, 9 packages")),
        "{steps:?}"
    );
}

#[tokio::test]
async fn a_group_adds_its_packages_and_a_target_may_add_one() {
    let spec = format!("{APP}groups: [dev]\n");
    let (error, steps) = build(&spec, &[]).await;
    assert_eq!(error, None);
    assert!(
        steps
            .iter()
            .any(|s| s.contains("build dependency wheels: uv.lock, 13 packages")),
        "{steps:?}"
    );
    let spec = format!("{APP}targets:\n  test:\n    groups: [dev]\n");
    let (result, recorded) = support::build(
        &spec,
        &[
            ("pyproject.toml", example("pyproject.toml").as_bytes()),
            ("uv.lock", example("uv.lock").as_bytes()),
        ],
        &[("filename", "pyslim.yaml"), ("target", "test")],
    )
    .await;
    assert!(result.is_ok(), "{:?}", recorded.error());
    let names: Vec<String> = recorded
        .graph()
        .metadata
        .values()
        .filter_map(|m| m.description.get("llb.customname").cloned())
        .collect();
    assert!(
        names.iter().any(|s| s.contains("uv.lock, 13 packages")),
        "{names:?}"
    );
}

#[tokio::test]
async fn a_group_the_lock_does_not_have_is_an_error_listing_the_valid_ones() {
    let spec = format!("{APP}groups: [tests]\n");
    let (error, _) = build(&spec, &[]).await;
    let error = error.expect("an unknown group fails");
    assert!(
        error.contains("pyslim.yaml:4:10: error: `uv.lock` locks no group `tests`; it has: dev"),
        "{error}"
    );
}

#[tokio::test]
async fn groups_without_a_lock_come_from_the_pyprojects_dependency_groups() {
    let spec =
        "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: pyproject.toml\ngroups: [dev]\n";
    let (error, _) = build(spec, &[("uv.lock", None)]).await;
    assert_eq!(error, None);
    let spec =
        "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: pyproject.toml\ngroups: [lint]\n";
    let (error, _) = build(spec, &[("uv.lock", None)]).await;
    let error = error.expect("an unknown group fails");
    assert!(
        error.contains("has no dependency group `lint`; it has: dev"),
        "{error}"
    );
}

#[tokio::test]
async fn a_python_the_lock_was_not_written_for_is_an_error_at_python() {
    let spec = "# syntax=org/pyslim\npython: \"3.10\"\nrequirements: uv.lock\n";
    let (error, _) = build(spec, &[("pyproject.toml", None)]).await;
    let error = error.expect("a Python outside the lock fails");
    assert!(
        error.contains("pyslim.yaml:2:9: error: python 3.10 is not one the lock `uv.lock` was written for: its requires-python is `>=3.11`"),
        "{error}"
    );
    assert!(error.contains("(`uv lock`)"), "{error}");
}

#[tokio::test]
async fn a_workspace_member_is_installed_from_the_workspaces_lock() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/uv-workspace");
    let files = support::directory(&dir);
    let context: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(path, data)| (path.as_str(), data.as_slice()))
        .collect();
    let spec = fs::read_to_string(dir.join("pyslim.yaml")).expect("spec");
    let (result, recorded) = support::build(&spec, &context, &[("filename", "pyslim.yaml")]).await;
    assert!(result.is_ok(), "{:?}", recorded.error());
    let graph = pyslim_frontend::llb::render(recorded.graph());
    assert!(
        graph.contains("build dependency wheels: uv.lock, 9 packages pinned with their hashes"),
        "{graph}"
    );
    // The neighbour is built from its directory, which the step sees; the app's own code is not.
    let step = graph
        .lines()
        .find(|l| l.contains("build dependency wheels"))
        .expect("the dependency step");
    assert!(step.contains("--unhashed-requirement"), "{step}");
    // The only context the dependency step reads is the neighbour's directory: an edit of the
    // app's code leaves it cached.
    assert!(
        graph.contains("source local://context local.includepattern=[\"libs/greet\"]"),
        "{graph}"
    );
}
