//! Bad specs, built by the real frontend on a real engine: the user's terminal shows the spec
//! lines (from the errdefs.Source detail) and our located message, and no image is made.

use std::fs;

use pyslim_e2e::*;

fn failed_build(name: &str, files: &[(&str, &str)]) -> String {
    require_engine();
    let dir = scratch(name);
    write_files(&dir, files);
    let tag = format!("pyslim-e2e/error-{name}");
    let _ = output(docker().args(["image", "rm", "-f", &tag]));
    let out = build_dir(&dir, &tag, &[]);
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "a bad spec must fail the build:\n{log}"
    );
    let image = output(docker().args(["image", "inspect", &tag]));
    assert!(
        !image.status.success(),
        "a failed build must not leave an image"
    );
    let _ = fs::remove_dir_all(&dir);
    log
}

#[test]
fn spec_errors_show_the_spec_lines_in_the_terminal() {
    let log = failed_build(
        "typo",
        &[(
            "pyslim.yaml",
            "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\npyhton: 3\nexpose: [80000]\n",
        )],
    );
    // Our own rendering, with file, line, column, carets and hint, for every problem at once...
    assert!(log.contains("pyslim.yaml:4:1: error:"), "{log}");
    assert!(log.contains("did you mean `python`?"), "{log}");
    assert!(log.contains("pyslim.yaml:5:10: error:"), "{log}");
    // The file the sound part of the spec names is checked in the same round.
    assert!(
        log.contains("pyslim.yaml:3:15: error: the requirements file `requirements.txt` is not in the build context"),
        "{log}"
    );
    assert!(log.contains("3 problems in pyslim.yaml"), "{log}");
    // ...and the CLI's, which it draws only from the errdefs.Source detail we attach.
    assert!(log.contains(">>> pyhton: 3"), "{log}");
    assert!(log.contains(">>> expose: [80000]"), "{log}");
}

#[test]
fn paths_missing_from_the_context_are_located_errors() {
    let log = failed_build(
        "missing",
        &[
            (
                "pyslim.yaml",
                "# syntax=org/pyslim\npython: \"3.11\"\nrequirements:\n  - requirements.txt\n  - extra/dev.txt\napp: src\n",
            ),
            ("requirements.txt", "six==1.16.0\n"),
        ],
    );
    assert!(log.contains("pyslim.yaml:5:5: error: the requirements file `extra/dev.txt` is not in the build context"), "{log}");
    assert!(
        log.contains(
            "pyslim.yaml:6:6: error: the app's directory `src` is not in the build context"
        ),
        "{log}"
    );
    assert!(log.contains(">>>   - extra/dev.txt"), "{log}");
}

#[test]
fn a_failing_step_points_at_its_spec_line_and_says_what_to_check() {
    let log = failed_build(
        "pip",
        &[
            (
                "pyslim.yaml",
                "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\n",
            ),
            ("requirements.txt", "pyslim-no-such-package-xyz==1.0\n"),
        ],
    );
    assert!(log.contains(">>> requirements: requirements.txt"), "{log}");
    assert!(
        log.contains(
            "[compile] build dependency wheels: requirements.txt failed: pip could not resolve or build the dependencies"
        ),
        "{log}"
    );

    let log = failed_build(
        "apt",
        &[
            (
                "pyslim.yaml",
                "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\nruntime: [libpyslim-no-such-package0]\n",
            ),
            ("requirements.txt", "six==1.16.0\n"),
        ],
    );
    assert!(
        log.contains(">>> runtime: [libpyslim-no-such-package0]"),
        "{log}"
    );
    assert!(
        log.contains(
            "[slim] apt-get install libpyslim-no-such-package0 failed: apt-get could not install"
        ),
        "{log}"
    );
}

#[test]
fn a_secret_the_build_was_not_given_points_at_the_index() {
    // BuildKit refuses the first step that mounts the secret before it runs: the index is never
    // asked, so it need not exist.
    let log = failed_build(
        "secret",
        &[
            (
                "pyslim.yaml",
                "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\nindex:\n  url: https://pypi.example.invalid/simple/\n  secret: pypi-netrc\n",
            ),
            ("requirements.txt", "six==1.16.0\n"),
        ],
    );
    assert!(
        log.contains("pyslim.yaml:6:11: error: the build was not given the secret `pypi-netrc`, which holds the credentials for `index:`"),
        "{log}"
    );
    assert!(
        log.contains(
            "hint: pass it to the build: `docker buildx build --secret id=pypi-netrc,src=FILE …`"
        ),
        "{log}"
    );
    // The CLI shows the index's line, not the step's, and no advice about headers.
    assert!(log.contains(">>>   secret: pypi-netrc"), "{log}");
    assert!(!log.contains(">>> requirements: requirements.txt"), "{log}");
    assert!(!log.contains("-dev packages"), "{log}");
}
