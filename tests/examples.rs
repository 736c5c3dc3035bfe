//! Each example, built by the real frontend image on a real BuildKit and run.

use std::fs;

use pyslim_e2e::*;

fn build(name: &str) -> String {
    build_with(name, name, &[])
}

/// Builds example `name` as `pyslim-e2e/TAG` with extra build options.
fn build_with(name: &str, tag: &str, extra: &[&str]) -> String {
    require_engine();
    let tag = format!("pyslim-e2e/{tag}");
    let mut options = vec!["--label", "org.pyslim.e2e=yes"];
    options.extend(extra);
    let out = build_example(name, &tag, &options);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "building {name} failed:\n{log}");
    assert!(
        log.contains("[slim] install dependencies"),
        "progress names the steps:\n{log}"
    );
    // `--label` reaches the image config, and every layer we add has its history entry.
    assert_eq!(
        inspect(&tag, "{{index .Config.Labels \"org.pyslim.e2e\"}}"),
        "yes"
    );
    let history = history(&tag);
    assert!(
        history.contains("pyslim: install dependencies"),
        "{history}"
    );
    tag
}

#[test]
fn flask_serves_http() {
    let image = build("flask");
    let (response, logs) = serve(&image);
    assert!(
        response.contains("Hello from pyslim!"),
        "unexpected answer: {response}\nlogs: {logs}"
    );
    assert_runs_as(&image, "app", "10001:10001");
    assert_eq!(inspect(&image, "{{.Config.WorkingDir}}"), "/app");
    assert_eq!(
        inspect(
            &image,
            "{{index .Config.Labels \"org.opencontainers.image.title\"}}"
        ),
        "hello"
    );
    assert_clean(&image);
}

#[test]
fn a_directory_of_code_is_copied_and_runs_from_the_workdir() {
    let image = build("script");
    let (response, logs) = serve(&image);
    assert!(
        response.contains("Hello from a script app at /app/main.py"),
        "unexpected answer: {response}\nlogs: {logs}"
    );
    assert_eq!(inspect(&image, "{{.Config.WorkingDir}}"), "/app");
    assert_runs_as(&image, "app", "10001:10001");
    // The code is root's, readable by the app's user, not writable by it; .dockerignore holds.
    let check = sh(
        &image,
        "stat -c '%U %n' main.py templates/index.txt; test -r main.py && echo readable; \
         touch main.py 2>/dev/null || echo read-only; test -e notes.txt || echo ignored; \
         python -c 'import main; print(main.app.name)'",
    );
    assert_eq!(
        check.lines().collect::<Vec<_>>(),
        [
            "root main.py",
            "root templates/index.txt",
            "readable",
            "read-only",
            "ignored",
            "main"
        ],
        "{check}"
    );
    let history = history(&image);
    assert!(history.contains("pyslim: copy app . to /app"), "{history}");
    assert_clean(&image);
}

#[test]
fn a_uv_build_package_brings_its_own_dependencies_and_console_script() {
    let image = build("uv-build");
    let out = run(docker().args(["run", "--rm", &image]));
    assert_eq!(
        out.trim(),
        "Hello from a uv_build package (six 1.16.0)",
        "{out}"
    );
    assert_runs_as(&image, "app", "10001:10001");
    assert_clean(&image);
}

#[test]
fn a_django_project_collects_static_at_build_time_and_writes_media_as_a_numeric_user() {
    let image = build("django");
    let (response, logs) = serve(&image);
    assert!(
        response.contains("Hello from Django: media writable, static collected: True"),
        "unexpected answer: {response}\nlogs: {logs}"
    );
    // Kubernetes' runAsNonRoot can check a numeric user.
    assert_runs_as(&image, "app", "10001:10001");
    // collectstatic ran in the build, as the image's user, into the directory it owns: the app's
    // own static files and Django admin's.
    let check = sh(
        &image,
        "stat -c '%u %n' static/mysite/site.css static/admin/css/base.css media manage.py",
    );
    assert_eq!(
        check.lines().collect::<Vec<_>>(),
        [
            "10001 static/mysite/site.css",
            "10001 static/admin/css/base.css",
            "10001 media",
            "0 manage.py"
        ],
        "{check}"
    );
    let history = history(&image);
    assert!(
        history.contains("pyslim: run python manage.py collectstatic --noinput"),
        "{history}"
    );
    assert_clean(&image);
}

#[test]
fn ldap_runs_with_runtime_libraries_only() {
    let image = build("ldap");
    let out = run(docker().args(["run", "--rm", &image]));
    assert!(
        out.contains("python-ldap 3.4.4 OK: pyslim"),
        "unexpected output: {out}"
    );
    // The runtime library came from `runtime:`, the headers stayed in the compile stage.
    let libs = sh(
        &image,
        "ls /usr/lib/*/libldap* ; ls /usr/include/ldap.h 2>&1 || true",
    );
    assert!(libs.contains("libldap-2.5.so.0"), "{libs}");
    // Scanners still see the runtime packages: dpkg's status database is in the image.
    let status = run(docker().args([
        "run",
        "--rm",
        "--entrypoint",
        "dpkg-query",
        &image,
        "-W",
        "libldap-2.5-0",
    ]));
    assert!(status.starts_with("libldap-2.5-0"), "{status}");
    // The test tools belong to the `test` target only.
    let pytest = output(docker().args([
        "run",
        "--rm",
        "--entrypoint",
        "python",
        &image,
        "-c",
        "import pytest",
    ]));
    assert!(
        !pytest.status.success(),
        "pytest must not be in the default image"
    );
    assert!(
        libs.contains("No such file"),
        "headers must not reach the image: {libs}"
    );
    assert_runs_as(&image, "app", "10001:10001");
    assert_clean(&image);
}

#[test]
fn ldap_test_target_adds_test_tools_and_runs_the_tests() {
    // requirements-dev.txt pulls requirements.txt in with `-r`: both reach the dependency step.
    let image = build_with("ldap", "ldap-test", &["--target", "test"]);
    let out = output(docker().args(["run", "--rm", &image]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the tests fail in the test image:\n{text}"
    );
    assert!(text.contains("1 passed"), "{text}");
    assert_runs_as(&image, "app", "10001:10001");
    assert_clean(&image);
}

#[test]
fn pyproject_dependencies_extras_and_build_args() {
    let image = build_with("pyproject", "pyproject", &["--build-arg", "PYTHON=3.11"]);
    let out = run(docker().args(["run", "--rm", &image]));
    assert!(
        out.contains("greet OK: six 1.16.0, click 8.1.7"),
        "unexpected output: {out}"
    );
    assert_clean(&image);
}

#[test]
fn cli_console_script_runs_from_path() {
    let image = build("cli");
    let out = run(docker().args(["run", "--rm", &image]));
    assert_eq!(
        out.trim(),
        "Hello, world! (installed by setup.py, run from PATH)"
    );
    assert_runs_as(&image, "app", "10001:10001");
    assert_clean(&image);
}

#[test]
fn uwsgi_compiles_without_leaving_a_compiler_and_serves() {
    let image = build("uwsgi");
    // uWSGI links libxml2, which slim lacks: `runtime:` brought it, and the binary resolves it.
    let ldd = sh(&image, "ldd \"$(command -v uwsgi)\"");
    assert!(!ldd.contains("not found"), "{ldd}");
    assert!(ldd.contains("libxml2"), "{ldd}");
    let (response, _) = serve(&image);
    assert!(
        response.contains("Hello from uWSGI, built by pyslim"),
        "{response}"
    );
    assert_clean(&image);
}

#[test]
fn uv_and_pip_install_the_same_files_and_freeze_to_versions() {
    require_engine();
    // examples/cli (a console script, dependencies, an app), once per installer.
    let mut files = Vec::new();
    for installer in ["uv", "pip"] {
        let dir = scratch(&format!("installer-{installer}"));
        run(std::process::Command::new("cp")
            .arg("-r")
            .arg(repo().join("examples/cli/."))
            .arg(&dir));
        let spec = fs::read_to_string(dir.join("pyslim.yaml")).expect("read");
        fs::write(
            dir.join("pyslim.yaml"),
            format!("{spec}installer: {installer}\n"),
        )
        .expect("write");
        let tag = format!("pyslim-e2e/installer-{installer}");
        let out = build_dir(&dir, &tag, &[]);
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{log}");
        assert!(
            log.contains(&format!("[slim] install dependencies with {installer}")),
            "{log}"
        );
        assert_eq!(
            run(docker().args(["run", "--rm", &tag])).trim(),
            "Hello, world! (installed by setup.py, run from PATH)"
        );
        // Installed by name, not from a file path: nothing records /wheels (PEP 610), so
        // `pip freeze` names versions.
        let freeze = run(docker().args(["run", "--rm", "--entrypoint", "pip", &tag, "freeze"]));
        assert!(
            freeze.lines().all(|l| l.contains("==")) && freeze.contains("hello-cli=="),
            "{freeze}"
        );
        let mut added: Vec<String> = added_layers(&tag, "python:3.11-slim")
            .into_iter()
            .flatten()
            .filter(|f| !f.ends_with("/uv_cache.json"))
            .collect();
        assert!(
            added.iter().all(|f| !f.ends_with("direct_url.json")),
            "{added:?}"
        );
        assert!(
            added.iter().any(|f| f.ends_with(".cpython-311.pyc")),
            "installed code is compiled: {added:?}"
        );
        added.sort();
        files.push(added);
        let _ = fs::remove_dir_all(&dir);
    }
    assert_eq!(files[0], files[1], "uv and pip leave the same files");
}
