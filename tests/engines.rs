//! The frontend as users get it, from a registry (`# syntax=localhost:PORT/pyslim:TAG`), and the
//! examples on the newest engine Debian ships beside the main Docker 26.1: Docker 28 or later
//! with BuildKit 0.25 or later, its containerd image store, and buildx with `--call`.
//! scripts/test starts the registry (scripts/registry.sh) and the engine
//! (scripts/engine-newest.sh) and exports what these tests read.

use std::fs;

use pyslim_e2e::*;

/// Example `name` in a scratch directory, its spec naming the frontend in the registry.
fn example_from_the_registry(name: &str, scratch_name: &str) -> std::path::PathBuf {
    let dir = copy_example(name, scratch_name);
    use_frontend(&dir, &frontend_in_registry());
    dir
}

/// Builds DIR on `engine` as TAG; the build's progress, after checking it succeeded, ran the
/// frontend from the registry and labelled the image.
fn built(engine: &Engine, dir: &std::path::Path, tag: &str, extra: &[&str]) -> String {
    let mut options = vec!["--label", "org.pyslim.e2e=yes"];
    options.extend(extra);
    let out = engine.build_dir(dir, tag, &options);
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "building {tag} failed:\n{log}");
    let frontend = frontend_in_registry();
    assert!(
        log.contains(&format!("docker-image://{frontend}")),
        "the frontend came from {frontend}:\n{log}"
    );
    assert!(
        log.contains("[slim] install "),
        "progress names the steps:\n{log}"
    );
    assert_eq!(
        engine.inspect(tag, "{{index .Config.Labels \"org.pyslim.e2e\"}}"),
        "yes"
    );
    log
}

#[test]
fn frontend_from_the_registry() {
    let engine = Engine::main();
    let frontend = frontend_in_registry();
    // Nothing local answers to the name: BuildKit must fetch the frontend from the registry.
    let local = output(engine.docker().args(["image", "inspect", &frontend]));
    assert!(
        !local.status.success(),
        "{frontend} is in the engine's image store"
    );
    let dir = example_from_the_registry("flask", "registry-flask");
    let tag = "pyslim-e2e/registry-flask";
    built(&engine, &dir, tag, &[]);
    let (response, logs) = engine.serve(tag);
    assert!(
        response.contains("Hello from pyslim!"),
        "unexpected answer: {response}\nlogs: {logs}"
    );
    engine.assert_runs_as(tag, "app", "10001:10001");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn examples_on_the_newest_engine() {
    let engine = Engine::newest();
    let version = run(engine
        .docker()
        .args(["version", "--format", "{{.Server.Version}}"]));
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.trim().parse().ok())
        .unwrap_or_else(|| panic!("engine version {version:?}"));
    assert!(major >= 28, "the newest engine is Docker {version}");

    let dir = example_from_the_registry("flask", "newest-flask");
    let flask = "pyslim-e2e/flask";
    built(&engine, &dir, flask, &[]);
    let (response, logs) = engine.serve(flask);
    assert!(
        response.contains("Hello from pyslim!"),
        "unexpected answer: {response}\nlogs: {logs}"
    );
    engine.assert_runs_as(flask, "app", "10001:10001");
    assert_eq!(engine.inspect(flask, "{{.Config.WorkingDir}}"), "/app");
    let _ = fs::remove_dir_all(&dir);

    // python-ldap compiles from source against the -dev packages of `system:`.
    let dir = example_from_the_registry("ldap", "newest-ldap");
    let ldap = "pyslim-e2e/ldap";
    built(&engine, &dir, ldap, &[]);
    let out = run(engine.docker().args(["run", "--rm", ldap]));
    assert!(
        out.contains("python-ldap 3.4.4 OK: pyslim"),
        "unexpected output: {out}"
    );
    let libs = engine.sh(
        ldap,
        "ls /usr/lib/*/libldap* ; ls /usr/include/ldap.h 2>&1 || true",
    );
    assert!(libs.contains("libldap-2.5.so.0"), "{libs}");
    assert!(
        libs.contains("No such file"),
        "headers must not reach the image: {libs}"
    );
    let compiler = engine.sh(ldap, "command -v gcc cc c++ clang || true");
    assert_eq!(compiler.trim(), "", "{ldap} has a compiler on PATH");
    engine.assert_runs_as(ldap, "app", "10001:10001");
    let _ = fs::remove_dir_all(&dir);
}

/// The other examples, built and run on the newest engine as on the main one: what they print
/// or serve. (inherit needs another image's wheels; tests/minimal.rs builds it on the main one.)
#[test]
fn every_other_example_on_the_newest_engine() {
    let engine = Engine::newest();
    for (name, said) in [
        (
            "cli",
            "Hello, world! (installed by setup.py, run from PATH)",
        ),
        ("uv-build", "Hello from a uv_build package (six 1.16.0)"),
        ("pyproject", "greet OK: six 1.16.0, click 8.1.7"),
        ("maturin", "Hello, pyslim, from Rust! 2 + 3 = 5"),
    ] {
        let dir = example_from_the_registry(name, &format!("newest-{name}"));
        let tag = format!("pyslim-e2e/newest-{name}");
        built(&engine, &dir, &tag, &[]);
        let out = run(engine.docker().args(["run", "--rm", &tag]));
        assert!(out.contains(said), "{name}: {out}");
        let _ = fs::remove_dir_all(&dir);
    }
    for (name, said) in [
        ("script", "Hello from a script app at /app/main.py"),
        (
            "django",
            "Hello from Django: media writable, static collected: True",
        ),
        ("uwsgi", "Hello from uWSGI, built by pyslim"),
        ("uv-lock", "HTTP/1"),
        ("uv-workspace", "Hello, workspace, from a uv workspace"),
    ] {
        let dir = example_from_the_registry(name, &format!("newest-{name}"));
        let tag = format!("pyslim-e2e/newest-{name}");
        built(&engine, &dir, &tag, &[]);
        let (response, logs) = engine.serve(&tag);
        assert!(response.contains(said), "{name}: {response}\n{logs}");
        let _ = fs::remove_dir_all(&dir);
    }
}

/// `--call=check`, spelled natively (buildx 0.29 and later): buildx renders the frontend's lint
/// results itself, and its exit status says whether there were warnings.
#[test]
fn call_check_on_the_newest_engine() {
    let engine = Engine::newest();
    let call = |what: &str, dir: &std::path::Path| {
        let out = output(
            engine
                .docker()
                .args(["buildx", "build", &format!("--call={what}"), "-f"])
                .arg(dir.join("pyslim.yaml"))
                .arg(dir),
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.success(), text, log)
    };

    let dir = example_from_the_registry("flask", "newest-check-flask");
    let (ok, text, log) = call("check", &dir);
    assert!(ok, "{text}\n{log}");
    assert!(
        text.contains("Check complete, no warnings found."),
        "{text}\n{log}"
    );
    let _ = fs::remove_dir_all(&dir);

    // psycopg2 builds against the compile image's libpq-dev: the check reads the extension and
    // names the package it adds.
    let dir = scratch("newest-check-psycopg2");
    write_files(
        &dir,
        &[
            (
                "pyslim.yaml",
                &format!(
                    "# syntax={}\npython: \"3.11\"\nrequirements: requirements.txt\n",
                    frontend_in_registry()
                ),
            ),
            ("requirements.txt", "psycopg2==2.9.9\n"),
        ],
    );
    let (ok, text, log) = call("check", &dir);
    assert!(!ok, "a warning fails the check:\n{text}\n{log}");
    assert!(
        text.contains("Check complete, 1 warning has been found!")
            && text.contains("WARNING: SharedLibraryInstalled")
            && text.contains("add `runtime: [libpq5]`"),
        "{text}\n{log}"
    );
    // The text names the spec as the warning's file whatever source it is in: buildx gives
    // every source the -f file's name. The JSON keeps the frontend's: requirements.txt, line 1.
    let (ok, json, log) = call("check,format=json", &dir);
    assert!(!ok, "{json}\n{log}");
    let results: serde_json::Value = serde_json::from_str(&json).expect("lint results are JSON");
    let warning = &results["warnings"][0];
    assert_eq!(warning["ruleName"], "SharedLibraryInstalled", "{json}");
    let source = warning["location"]["sourceIndex"]
        .as_u64()
        .expect("a located warning") as usize;
    assert_eq!(
        results["sources"][source]["filename"], "requirements.txt",
        "{json}"
    );
    assert_eq!(
        warning["location"]["ranges"][0]["start"]["line"], 1,
        "{json}"
    );
    let _ = fs::remove_dir_all(&dir);
}
