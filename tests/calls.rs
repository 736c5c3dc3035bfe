//! `--call` (`--print` on buildx 0.13, behind BUILDX_EXPERIMENTAL) and build warnings, on the
//! real engine: what a user sees in the terminal.

use std::fs;

use pyslim_e2e::*;

fn call(what: &str, spec: &str, context: &str) -> (bool, String) {
    require_engine();
    let out = output(docker().env("BUILDX_EXPERIMENTAL", "1").args([
        "buildx",
        "build",
        "--progress=plain",
        &format!("--print={what}"),
        "-f",
        spec,
        context,
    ]));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn targets_and_outline_describe_the_spec() {
    let (ok, text) = call("targets", "examples/ldap/pyslim.yaml", "examples/ldap");
    assert!(ok, "{text}");
    assert!(
        text.contains("The production image plus pytest, running the package's tests"),
        "{text}"
    );
    let (ok, text) = call(
        "outline",
        "examples/pyproject/pyslim.yaml",
        "examples/pyproject",
    );
    assert!(ok, "{text}");
    assert!(text.contains("PYTHON") && text.contains("3.11"), "{text}");
}

#[test]
fn check_and_build_warnings_point_at_soft_problems() {
    let dir = scratch("lint");
    fs::write(dir.join("requirements.txt"), "six>=1\n").expect("write");
    fs::write(
        dir.join("pyslim.yaml"),
        "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\nruntime: [libpq-dev]\n",
    )
    .expect("write");
    let spec = dir.join("pyslim.yaml");
    let (_, text) = call("lint", &spec.to_string_lossy(), &dir.to_string_lossy());
    assert!(
        text.contains("WARNING: RuntimeDevPackage - pyslim.yaml:4"),
        "{text}"
    );
    assert!(
        text.contains("WARNING: UnpinnedRequirement - requirements.txt:1"),
        "{text}"
    );

    // A plain build still builds, and shows the same findings as warnings.
    let out = output(
        docker()
            .args(["buildx", "build", "--progress=plain"])
            .arg("-f")
            .arg(&spec)
            .arg(&dir),
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("2 warnings found"), "{log}");
    assert!(
        log.contains("RuntimeDevPackage: `libpq-dev` in `runtime:`"),
        "{log}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn check_answers_every_documented_spelling() {
    // psycopg2 builds against the compile image's own libpq-dev, then fails at import in the
    // image: the check builds it, reads the extension and says which package it adds.
    let dir = scratch("check-spellings");
    write_files(
        &dir,
        &[
            (
                "pyslim.yaml",
                "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\n",
            ),
            ("requirements.txt", "psycopg2==2.9.9\n"),
        ],
    );
    let spec = dir.join("pyslim.yaml");
    // buildx 0.13 sends `--print=check` as `frontend.check` and `--print=lint` as
    // `frontend.lint`; later versions send `frontend.lint` for both.
    for what in ["check", "lint"] {
        let (_, text) = call(what, &spec.to_string_lossy(), &dir.to_string_lossy());
        assert!(!text.contains("cannot answer"), "--print={what}: {text}");
        assert!(
            text.contains("SharedLibraryInstalled") && text.contains("requirements.txt:1"),
            "--print={what}: {text}"
        );
        assert!(
            text.contains("add `runtime: [libpq5]`"),
            "--print={what}: {text}"
        );
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn outline_of_a_spec_without_arguments_says_what_the_build_reads() {
    // examples/flask declares no build arguments, secrets or SSH: buildx prints only the
    // target's name and description, which must carry the rest.
    let (ok, text) = call("outline", "examples/flask/pyslim.yaml", "examples/flask");
    assert!(ok, "{text}");
    assert!(
        text.contains("DESCRIPTION: the image the spec describes"),
        "{text}"
    );
    assert!(
        text.contains("build context: requirements.txt, the app in ."),
        "{text}"
    );
    assert!(
        text.contains("build arguments: none declared; add one under `args:`"),
        "{text}"
    );
}
