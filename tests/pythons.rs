//! The Pythons besides the examples' 3.11: an example built for 3.13 (the `python:3.13`
//! stand-ins of scripts/engine.sh, or the official images), and a spec that leaves the version
//! to the project's `.python-version`.

use std::fs;

use pyslim_e2e::*;

/// The build's progress, after checking it succeeded.
fn built(dir: &std::path::Path, tag: &str) -> String {
    require_engine();
    let out = build_dir(dir, tag, &["--label", "org.pyslim.e2e=yes"]);
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "building {tag} failed:\n{log}");
    log
}

#[test]
fn flask_builds_and_serves_on_python_3_13() {
    let dir = copy_example("flask", "flask-py313");
    let spec = fs::read_to_string(dir.join("pyslim.yaml")).expect("read the spec");
    assert!(spec.contains("\npython: \"3.11\"\n"), "{spec}");
    let spec = spec.replace("\npython: \"3.11\"\n", "\npython: \"3.13\"\n");
    fs::write(dir.join("pyslim.yaml"), spec).expect("write the spec");
    let tag = "pyslim-e2e/flask-py313";
    built(&dir, tag);
    let version = run(docker().args(["run", "--rm", "--entrypoint", "python", tag, "--version"]));
    assert!(version.starts_with("Python 3.13."), "{version}");
    let (response, logs) = serve(tag);
    assert!(
        response.contains("Hello from pyslim!"),
        "unexpected answer: {response}\nlogs: {logs}"
    );
    // Installed into 3.13's own site-packages, and compiled by 3.13.
    let added: Vec<String> = added_layers(tag, "python:3.13-slim")
        .into_iter()
        .flatten()
        .collect();
    assert!(
        added
            .iter()
            .any(|f| f.contains("/python3.13/") && f.ends_with(".cpython-313.pyc")),
        "{added:?}"
    );
    assert_runs_as(tag, "app", "10001:10001");
    assert_clean_on(tag, "python:3.13-slim");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_spec_without_python_builds_for_the_python_version_file() {
    let dir = scratch("python-version");
    write_files(
        &dir,
        &[
            (
                "pyslim.yaml",
                "# syntax=org/pyslim\napp: .\nentrypoint: [python, main.py]\n",
            ),
            (".python-version", "3.13\n"),
            (
                "main.py",
                "import sys\nprint('running on', sys.version.split()[0])\n",
            ),
        ],
    );
    let tag = "pyslim-e2e/python-version";
    let log = built(&dir, tag);
    // The log says which Python, and why.
    assert!(
        log.contains(
            "load metadata for docker.io/library/python:3.13-slim (python 3.13, from .python-version)"
        ),
        "{log}"
    );
    let said = run(docker().args(["run", "--rm", tag]));
    assert!(said.starts_with("running on 3.13."), "{said}");
    assert_clean_on(tag, "python:3.13-slim");
    let _ = fs::remove_dir_all(&dir);
}
