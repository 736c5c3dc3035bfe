//! What the frontend does with its own steps' reports, against the fake LLBBridge: the scan's
//! missing shared libraries (installed with a warning, or errors at the requirement's line),
//! the smoke test's failed imports, and a cross-platform build's package with nothing to
//! install it from.

mod support;

use pyslim_frontend::llb;

const SPEC: &str = "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\napp: .\nentrypoint: [uwsgi]\n";

fn context() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("requirements.txt", b"flask==3.0.3\nuWSGI==2.0.28\n".as_slice()),
        (
            "pyproject.toml",
            b"[project]\nname='app'\nversion='1'\n[build-system]\nbuild-backend='setuptools.build_meta'\n"
                .as_slice(),
        ),
    ]
}

/// The error a build returns when the scan or the smoke test reports `reports`.
async fn error(spec: &str, context: &[(&str, &[u8])], reports: &[(&str, &str)]) -> String {
    let (result, recorded) =
        support::build_reporting(spec, context, &[("filename", "pyslim.yaml")], reports).await;
    assert!(result.is_err(), "the build fails");
    assert!(
        recorded
            .returned
            .as_ref()
            .is_some_and(|r| r.result.is_none()),
        "no image is returned"
    );
    recorded.error().message.clone()
}

const SCAN: &str = "/pyslim-report/libraries.json";
const SMOKE: &str = "/pyslim-report/smoke.json";

/// uWSGI's binary needs libxml2, which the compile image has from Debian's libxml2; the other
/// library no package has.
fn missing(provided: bool) -> String {
    let package = if provided { r#""libxml2""# } else { "null" };
    format!(
        r#"{{"version": 1, "scanned": {{"wheels": 3, "elf_files": 4}}, "missing": [
        {{"library": "libxml2.so.2", "package": {package}, "package_version": "2.9.14+dfsg-1.3~deb12u1",
          "provided_by": "/usr/lib/x86_64-linux-gnu/libxml2.so.2",
          "needed_by": [{{"wheel": "uWSGI-2.0.28-cp311-cp311-linux_x86_64.whl", "distribution": "uWSGI",
                          "version": "2.0.28", "file": "/usr/local/bin/uwsgi", "via": null, "directory": "/wheels"}}]}},
        {{"library": "libicuuc.so.72", "package": "libicu72", "package_version": "72.1-3+deb12u1",
          "provided_by": "/usr/lib/x86_64-linux-gnu/libicuuc.so.72",
          "needed_by": [{{"wheel": "uWSGI-2.0.28-cp311-cp311-linux_x86_64.whl", "distribution": "uWSGI",
                          "version": "2.0.28", "file": "/usr/local/bin/uwsgi", "via": "libxml2.so.2", "directory": "/wheels"}}]}}]}}"#
    )
}

#[tokio::test]
async fn a_missing_library_is_installed_with_a_warning_at_its_requirement() {
    let report = missing(true);
    let (result, recorded) = support::build_reporting(
        SPEC,
        &context(),
        &[("filename", "pyslim.yaml")],
        &[(SCAN, &report)],
    )
    .await;
    result.expect("the build succeeds");
    let image = llb::render(recorded.graph());
    assert!(
        image.contains(
            r#""[slim] apt-get install libxml2 (shared libraries the dependencies need)""#
        ),
        "{image}"
    );
    // Before the dependencies, after the scan's filesystem: an app edit keeps the layer.
    let apt = image.find("apt-get install libxml2").expect("apt");
    let deps = image.find("install dependencies with uv").expect("deps");
    assert!(apt < deps);
    let config = recorded.config();
    let history = config["history"].to_string();
    assert!(
        history.contains("pyslim: apt-get install libxml2"),
        "{history}"
    );

    let warning = recorded
        .warnings
        .iter()
        .find(|w| String::from_utf8_lossy(&w.short).starts_with("SharedLibraryInstalled"))
        .expect("a warning for the installed package");
    let short = String::from_utf8_lossy(&warning.short);
    assert!(
        short.contains("installed `libxml2` 2.9.14+dfsg-1.3~deb12u1 in the image: /usr/local/bin/uwsgi (uWSGI 2.0.28, from uWSGI-2.0.28-cp311-cp311-linux_x86_64.whl) needs libxml2.so.2; add `runtime: [libxml2]`"),
        "{short}"
    );
    assert_eq!(
        warning.info.as_ref().map(|i| i.filename.as_str()),
        Some("requirements.txt")
    );
    assert_eq!(warning.ranges[0].start.as_ref().map(|p| p.line), Some(2));
}

#[tokio::test]
async fn missing_libraries_error_fails_at_the_requirement() {
    let report = missing(true);
    let spec = format!("{SPEC}missing-libraries: error\n");
    let message = error(&spec, &context(), &[(SCAN, &report)]).await;
    assert!(
        message.contains("requirements.txt:2:1: error: /usr/local/bin/uwsgi (uWSGI 2.0.28, from uWSGI-2.0.28-cp311-cp311-linux_x86_64.whl) needs libxml2.so.2, which the runtime image lacks; the Debian package `libxml2` provides it"),
        "{message}"
    );
    assert!(message.contains("2 | uWSGI==2.0.28"), "{message}");
    assert!(message.contains("`runtime: [libxml2]`"), "{message}");
}

#[tokio::test]
async fn a_library_no_package_provides_fails_the_build() {
    let report = missing(false);
    let message = error(SPEC, &context(), &[(SCAN, &report)]).await;
    assert!(
        message.contains("requirements.txt:2:1: error: /usr/local/bin/uwsgi (uWSGI 2.0.28, from uWSGI-2.0.28-cp311-cp311-linux_x86_64.whl) needs libxml2.so.2, which neither the runtime image nor any Debian package in the compile image provides"),
        "{message}"
    );
}

#[tokio::test]
async fn a_failed_import_fails_the_build_with_the_package_to_add() {
    let report = r#"{"modules": 4, "distributions": 3, "seconds": 0.7, "failures": [
        {"module": "psycopg2", "distribution": "psycopg2", "version": "2.9.9", "directory": "/wheels",
         "error": "ImportError: libpq.so.5: cannot open shared object file: No such file or directory",
         "library": "libpq.so.5", "package": "libpq5"}], "test": null}"#;
    let context = vec![
        ("requirements.txt", b"psycopg2==2.9.9\n".as_slice()),
        ("main.py", b"import psycopg2\n".as_slice()),
    ];
    let spec = "python: \"3.11\"\nrequirements: requirements.txt\napp: .\n";
    let message = error(spec, &context, &[(SMOKE, report)]).await;
    assert!(
        message.contains("requirements.txt:1:1: error: `import psycopg2` (from psycopg2 2.9.9) fails in the image: ImportError: libpq.so.5: cannot open shared object file"),
        "{message}"
    );
    assert!(
        message.contains("libpq.so.5 is in the Debian package `libpq5`: add `runtime: [libpq5]`"),
        "{message}"
    );
}

#[tokio::test]
async fn a_failed_test_command_fails_at_its_line() {
    let report = r#"{"modules": 1, "distributions": 1, "seconds": 0.2, "failures": [], "test": {"status": 3}}"#;
    let spec = format!("{SPEC}test: [python, -c, \"raise SystemExit(3)\"]\n");
    // The app's smoke test (the second) runs `test:`.
    let message = error(&spec, &context(), &[(&format!("{SMOKE}#app"), report)]).await;
    assert!(
        message.contains("pyslim.yaml:6:8: error: `test:` exited with status 3 in the image"),
        "{message}"
    );
}

#[tokio::test]
async fn the_smoke_test_is_solved_and_the_image_returned_after_it() {
    let (result, recorded) = support::build(SPEC, &context(), &[("filename", "pyslim.yaml")]).await;
    result.expect("the build succeeds");
    // The scans first (the dependencies', then the app's on them), then the image, then the
    // smoke tests (the dependencies', the app's on the image): five solves that build.
    let names: Vec<String> = recorded
        .solves
        .iter()
        .map(llb::render)
        .filter(|text| text.contains(" exec "))
        .map(|text| text.lines().rev().nth(1).unwrap_or_default().to_string())
        .collect();
    assert_eq!(names.len(), 5, "{names:#?}");
    assert!(
        names[0].contains("libraries the dependencies need"),
        "{names:#?}"
    );
    assert!(names[1].contains("libraries the app needs"), "{names:#?}");
    assert!(names[2].contains("install app"), "{names:#?}");
    assert!(
        names[3].contains("smoke test: import the dependencies"),
        "{names:#?}"
    );
    assert!(
        names[4].contains("smoke test: import the app"),
        "{names:#?}"
    );
    // The smoke test runs on the image returned.
    let image = llb::render(recorded.graph());
    assert!(!image.contains("smoke test"), "{image}");
}

#[tokio::test]
async fn an_sbom_asked_for_is_returned_as_the_image_attestation() {
    let options = [
        ("filename", "pyslim.yaml"),
        ("platform", "linux/amd64"),
        ("attest:sbom", ""),
    ];
    let (result, recorded) = support::build(SPEC, &context(), &options).await;
    result.expect("the build succeeds");
    let returned = recorded
        .returned
        .as_ref()
        .and_then(|r| r.result.as_ref())
        .expect("a result");
    let attested = &returned.attestations["linux/amd64"].attestation;
    assert_eq!(attested.len(), 1);
    let sbom = &attested[0];
    assert_eq!(sbom.in_toto_predicate_type, "https://spdx.dev/Document");
    assert_eq!(sbom.path, "/pyslim-report/sbom.spdx.json");
    assert!(sbom.in_toto_subjects.is_empty(), "the image itself");
    // The document is made in the image as returned.
    let id = sbom.r#ref.as_ref().expect("a ref").id.clone();
    let n: usize = id
        .strip_prefix("ref-")
        .and_then(|n| n.parse().ok())
        .expect("ref-N");
    let made = llb::render(&recorded.solves[n]);
    assert!(made.contains(r#""[slim] write the SBOM""#), "{made}");
    assert!(
        made.contains(
            r#"args=["python", "/pyslim-tools/sbom.py", "--out", "/pyslim-report/sbom.spdx.json""#
        ),
        "{made}"
    );

    // Not asked for (or `--sbom=false`): no step, no attestation.
    let options = [
        ("filename", "pyslim.yaml"),
        ("attest:sbom", "disabled=true"),
    ];
    let (result, recorded) = support::build(SPEC, &context(), &options).await;
    result.expect("the build succeeds");
    let returned = recorded.returned.as_ref().and_then(|r| r.result.as_ref());
    assert!(returned.expect("a result").attestations.is_empty());
    assert!(
        !recorded
            .solves
            .iter()
            .map(llb::render)
            .any(|g| g.contains("write the SBOM"))
    );
}

#[tokio::test]
async fn a_skipped_module_no_step_found_is_an_error_at_its_line() {
    let spec = format!("{SPEC}smoke-test: {{skip: [flsk]}}\n");
    let deps = r#"{"modules": 2, "distributions": 2, "seconds": 0.1, "found": ["flask", "uwsgidecorators"], "failures": [], "test": null}"#;
    let app = r#"{"modules": 1, "distributions": 1, "seconds": 0.1, "found": ["app"], "failures": [], "test": null}"#;
    let message = error(
        &spec,
        &context(),
        &[(SMOKE, deps), (&format!("{SMOKE}#app"), app)],
    )
    .await;
    assert!(
        message.contains("pyslim.yaml:6:21: error: `flsk` is not a module pyslim installed"),
        "{message}"
    );
    assert!(
        message.contains("top-level modules are: app, flask, uwsgidecorators"),
        "{message}"
    );
}

#[tokio::test]
async fn a_package_with_no_wheel_for_the_target_and_no_source_fails_at_its_requirement() {
    // The build platform is the frontend's own; only a target other than it gets the download,
    // and the message names the target, never the build platform.
    let (target, other) = match std::env::consts::ARCH {
        "x86_64" => ("linux/arm64", "linux/amd64"),
        _ => ("linux/amd64", "linux/arm64"),
    };
    let report = r#"{"complete": false, "why": "a dependency has no wheel for the target",
        "unbuildable": [{"requirement": "uWSGI==2.0.28", "name": "uwsgi"}]}"#;
    let options = [("filename", "pyslim.yaml"), ("platform", target)];
    let reports = [("/pyslim-report/native.json", report)];
    let (result, recorded) = support::build_reporting(SPEC, &context(), &options, &reports).await;
    assert!(result.is_err(), "the build fails");
    let message = &recorded.error().message;
    assert!(
        message.contains(&format!("requirements.txt:2:1: error: no wheel of `uWSGI==2.0.28` for {target} (CPython 3.11) on the index, and no source distribution to build one from")),
        "{message}"
    );
    assert!(message.contains("2 | uWSGI==2.0.28"), "{message}");
    assert!(
        message.contains(&format!(
            "a version of `uwsgi` that publishes a wheel for {target}"
        )),
        "{message}"
    );
    assert!(!message.contains(other), "{message}");
}
