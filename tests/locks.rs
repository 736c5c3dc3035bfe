//! Lock files honoured exactly: the image holds the lock's versions and no others, a file
//! whose hash differs fails the build, and a lock out of date with its project is refused.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use pyslim_e2e::*;

/// `name → version` of every package a lock pins (names PEP 503-normalised).
fn pinned(lock: &str) -> BTreeMap<String, String> {
    let table: toml::Table = toml::from_str(lock).expect("a TOML lock");
    table["package"]
        .as_array()
        .expect("[[package]]")
        .iter()
        .filter_map(|p| {
            Some((
                normalise(p.get("name")?.as_str()?),
                p.get("version")?.as_str()?.to_string(),
            ))
        })
        .collect()
}

fn normalise(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// `name → version` of every distribution installed in the image.
fn installed(image: &str) -> BTreeMap<String, String> {
    let listing = run(docker().args([
        "run",
        "--rm",
        "--entrypoint",
        "python",
        image,
        "-c",
        "import importlib.metadata as m\nfor d in m.distributions(): print(d.metadata['Name'], d.version)",
    ]));
    listing
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, v)| (normalise(n), v.to_string()))
        .collect()
}

/// A copy of `examples/NAME` to change, in a scratch directory of its own named `as_`.
fn copy_example(name: &str, as_: &str) -> std::path::PathBuf {
    let dir = scratch(as_);
    copy(&repo().join("examples").join(name), &dir);
    dir
}

fn copy(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).expect("a directory") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            fs::create_dir_all(&target).expect("mkdir");
            copy(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).expect("copy");
        }
    }
}

#[test]
fn a_uv_lock_is_installed_exactly() {
    require_engine();
    let tag = "pyslim-e2e/uv-lock";
    let out = build_example("uv-lock", tag, &[]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("build dependency wheels: uv.lock, 8 packages pinned with their hashes"),
        "the log says which lock it honoured:\n{log}"
    );
    let lock =
        pinned(&fs::read_to_string(repo().join("examples/uv-lock/uv.lock")).expect("uv.lock"));
    let image = installed(tag);
    // The base image's own installers are not the lock's business.
    let ours: BTreeMap<&String, &String> = image
        .iter()
        .filter(|(n, _)| !["pip", "setuptools", "wheel"].contains(&n.as_str()))
        .collect();
    for (name, version) in &ours {
        assert_eq!(
            lock.get(*name),
            Some(*version),
            "{name} {version} is not the lock's"
        );
    }
    // 16 pinned: the 8 a plain install needs, and the app itself; not the `dev` group
    // (pytest and its own), nor the `dotenv` extra.
    assert_eq!(ours.len(), 9, "{ours:?}");
    assert_eq!(image.get("flask").map(String::as_str), Some("3.1.3"));
    assert!(!image.contains_key("pytest") && !image.contains_key("python-dotenv"));
    // It serves, with the lock's versions.
    let answer = sh(
        tag,
        "python -c 'import hello_lock; print(hello_lock.app.test_client().get(\"/\").json)'",
    );
    assert!(
        answer.contains("'flask': '3.1.3'") && answer.contains("'gunicorn': '27.0.1'"),
        "{answer}"
    );
}

#[test]
fn a_file_whose_hash_differs_fails_naming_it() {
    require_engine();
    let dir = copy_example("uv-lock", "uv-lock-tampered");
    let lock = fs::read_to_string(dir.join("uv.lock")).expect("uv.lock");
    // Both of click's files: with one left, pip takes the file whose hash matches, which is
    // as safe (nothing unchecked is installed).
    let wheel = "8bb5376d2006950386f8c6427613334a2acadc5f559cb80e638d00b4df957e37";
    let sdist = "9bbfada76703fd1d784b83eea012e3e8c6a001a876543ef104fa56aaaeb072b4";
    assert!(
        lock.contains(wheel) && lock.contains(sdist),
        "click's hashes"
    );
    // Unique per run: a build that got through once would be taken from the cache.
    let forged = format!("{:064x}", std::process::id());
    let tampered = lock.replace(wheel, &forged).replace(sdist, &forged);
    fs::write(dir.join("uv.lock"), tampered).expect("write");
    let out = build_dir(&dir, "pyslim-e2e/uv-lock-tampered", &[]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a tampered lock built:\n{log}");
    assert!(log.contains("click==8.5.1"), "names the package:\n{log}");
    assert!(
        log.contains("click-8.5.1-py3-none-any.whl"),
        "names the file:\n{log}"
    );
    assert!(
        log.contains(&forged) && log.contains(wheel),
        "names both hashes:\n{log}"
    );
}

#[test]
fn a_lock_out_of_date_with_its_project_is_refused() {
    require_engine();
    let dir = copy_example("uv-lock", "uv-lock-stale");
    let project = fs::read_to_string(dir.join("pyproject.toml")).expect("pyproject.toml");
    let bumped = project.replace("\"flask>=3.0\"", "\"flask>=3.1\"");
    fs::write(dir.join("pyproject.toml"), bumped).expect("write");
    let out = build_dir(&dir, "pyslim-e2e/uv-lock-stale", &[]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a stale lock built:\n{log}");
    assert!(
        log.contains("uv.lock` is out of date with pyproject.toml"),
        "{log}"
    );
    assert!(log.contains("`flask>=3.1`"), "{log}");
    assert!(log.contains("run `uv lock`"), "{log}");
}

/// A scratch project of the lock fixture `fixture` (frontend/tests/fixtures/locks) and `files`.
fn fixture_project(fixture: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = scratch(fixture);
    copy(
        &repo().join("frontend/tests/fixtures/locks").join(fixture),
        &dir,
    );
    write_files(&dir, files);
    dir
}

/// The image's distributions besides the base image's installers.
fn ours(image: &str) -> BTreeMap<String, String> {
    installed(image)
        .into_iter()
        .filter(|(n, _)| !["pip", "setuptools", "wheel"].contains(&n.as_str()))
        .collect()
}

#[test]
fn a_pipfile_lock_beside_a_source_app_is_installed_exactly() {
    require_engine();
    let dir = fixture_project(
        "pipfile-webapp",
        &[
            (
                "pyslim.yaml",
                "# syntax=org/pyslim\npython: \"3.11\"\napp: .\nentrypoint: [gunicorn, \"app:app\"]\n",
            ),
            ("app.py", "from flask import Flask\napp = Flask(__name__)\n"),
        ],
    );
    let tag = "pyslim-e2e/pipfile-lock";
    let out = build_dir(&dir, tag, &[]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("build dependency wheels: Pipfile.lock, 14 packages"),
        "{log}"
    );
    let lock: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("Pipfile.lock")).expect("lock"))
            .expect("JSON");
    let default = lock["default"].as_object().expect("default");
    let image = ours(tag);
    // Every `default` package but Windows' colorama; none of `develop`.
    assert_eq!(image.len(), default.len() - 1, "{image:?}");
    for (name, version) in &image {
        assert_eq!(
            default[name.as_str()]["version"].as_str(),
            Some(format!("=={version}").as_str()),
            "{name}"
        );
    }
    assert_eq!(
        sh(tag, "python -c 'import app, socks; print(app.app.name)'").trim(),
        "app"
    );
}

#[test]
fn a_pylock_named_under_requirements_is_installed_exactly() {
    require_engine();
    let dir = fixture_project(
        "pylock-webapp-uv",
        &[(
            "pyslim.yaml",
            "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: pylock.toml\n",
        )],
    );
    let tag = "pyslim-e2e/pylock";
    let out = build_dir(&dir, tag, &[]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("build dependency wheels: pylock.toml, 8 packages"),
        "{log}"
    );
    let lock: toml::Table =
        toml::from_str(&fs::read_to_string(dir.join("pylock.toml")).expect("lock")).expect("TOML");
    let pinned: BTreeMap<String, String> = lock["packages"]
        .as_array()
        .expect("[[packages]]")
        .iter()
        .filter_map(|p| {
            Some((
                normalise(p.get("name")?.as_str()?),
                p.get("version")?.as_str()?.to_string(),
            ))
        })
        .collect();
    let image = ours(tag);
    // The project itself is not installed from its lock; on 3.11 neither tomli nor the other
    // `python_full_version < '3.11'` backports, nor Windows' colorama.
    let expected = [
        "click",
        "gunicorn",
        "iniconfig",
        "packaging",
        "pluggy",
        "pygments",
        "pysocks",
        "pytest",
    ];
    assert_eq!(
        image.keys().map(String::as_str).collect::<Vec<_>>(),
        expected
    );
    for (name, version) in &image {
        assert_eq!(pinned.get(name), Some(version), "{name}");
    }
}

#[test]
fn a_test_target_adds_a_locked_group() {
    require_engine();
    let dir = copy_example("uv-lock", "uv-lock-test-target");
    let spec = fs::read_to_string(dir.join("pyslim.yaml")).expect("spec");
    let spec = format!(
        "{spec}targets:\n  test:\n    groups: [dev]\n    entrypoint: [python, -m, pytest]\n"
    );
    fs::write(dir.join("pyslim.yaml"), spec).expect("write");
    let tag = "pyslim-e2e/uv-lock-test";
    let out = build_dir(&dir, tag, &["--target", "test"]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let image = installed(tag);
    assert_eq!(
        image.get("pytest").map(String::as_str),
        Some("9.2.0"),
        "{image:?}"
    );
    assert_eq!(
        image.get("flask").map(String::as_str),
        Some("3.1.3"),
        "{image:?}"
    );
    let version = run(docker().args(["run", "--rm", tag, "--version"]));
    assert!(version.contains("pytest 9.2.0"), "{version}");
}

#[test]
fn a_uv_workspace_member_builds_from_the_workspace_lock() {
    require_engine();
    let tag = "pyslim-e2e/uv-workspace";
    let out = build_example("uv-workspace", tag, &[]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let image = ours(tag);
    // The member's locked set, its workspace neighbour built from its directory, and itself.
    assert_eq!(
        image.get("greet").map(String::as_str),
        Some("0.2.0"),
        "{image:?}"
    );
    assert_eq!(
        image.get("api").map(String::as_str),
        Some("0.1.0"),
        "{image:?}"
    );
    assert_eq!(
        image.get("flask").map(String::as_str),
        Some("3.1.3"),
        "{image:?}"
    );
    assert!(
        !image.contains_key("monorepo"),
        "the virtual root is not installed"
    );
    let answer = sh(
        tag,
        "python -c 'import api; print(api.app.test_client().get(\"/\").text)'",
    );
    assert_eq!(answer.trim(), "Hello, workspace, from a uv workspace");
}

/// Builds `requirements: LOCK` of fixture `fixture` with `more` spec lines: the image, and the
/// count of packages the build log says it pinned.
fn build_locked(fixture: &str, lock: &str, more: &str) -> (String, usize) {
    require_engine();
    let spec = format!("# syntax=org/pyslim\npython: \"3.11\"\nrequirements: {lock}\n{more}");
    let dir = fixture_project(fixture, &[("pyslim.yaml", &spec)]);
    let tag = format!("pyslim-e2e/{fixture}");
    let out = build_dir(&dir, &tag, &[]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let said = format!("build dependency wheels: {lock}, ");
    let count = log
        .split(&said)
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the log names the lock:\n{log}"));
    (tag, count)
}

/// `name → every version` a TOML lock pins (`[[package]]`).
fn pinned_versions(path: &Path) -> BTreeMap<String, Vec<String>> {
    let table: toml::Table =
        toml::from_str(&fs::read_to_string(path).expect("lock")).expect("TOML");
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for package in table["package"].as_array().expect("[[package]]") {
        if let (Some(name), Some(version)) = (
            package.get("name").and_then(|v| v.as_str()),
            package.get("version").and_then(|v| v.as_str()),
        ) {
            out.entry(normalise(name))
                .or_default()
                .push(version.to_string());
        }
    }
    out
}

#[test]
fn a_poetry_lock_with_an_extra_is_installed_exactly() {
    let (tag, count) = build_locked("poetry-2-webapp", "poetry.lock", "extras: [cache]\n");
    let lock =
        pinned_versions(&repo().join("frontend/tests/fixtures/locks/poetry-2-webapp/poetry.lock"));
    let image = ours(&tag);
    assert_eq!(image.len(), count, "{image:?}");
    for (name, version) in &image {
        assert!(
            lock.get(name).is_some_and(|v| v.contains(version)),
            "{name} {version}"
        );
    }
    assert!(
        image.contains_key("flask") && image.contains_key("redis"),
        "{image:?}"
    );
    // The `test` group is not the image's unless the spec names it.
    assert!(
        !image.contains_key("pytest") && !image.contains_key("colorama"),
        "{image:?}"
    );
}

#[test]
fn a_pdm_lock_with_a_group_is_installed_exactly() {
    let (tag, count) = build_locked("pdm-webapp", "pdm.lock", "groups: [test]\n");
    let lock = pinned_versions(&repo().join("frontend/tests/fixtures/locks/pdm-webapp/pdm.lock"));
    let image = ours(&tag);
    assert_eq!(image.len(), count, "{image:?}");
    for (name, version) in &image {
        assert!(
            lock.get(name).is_some_and(|v| v.contains(version)),
            "{name} {version}"
        );
    }
    // flask[dotenv]'s extra, and the group asked for; not the other dev group.
    for wanted in ["flask", "python-dotenv", "pytest"] {
        assert!(image.contains_key(wanted), "{wanted} in {image:?}");
    }
    assert!(!image.contains_key("pyflakes"), "{image:?}");
}
