//! The shared-library closure and the smoke test on a real engine: compiled dependencies whose
//! libraries `runtime:` does not name are given them, or fail the build where asked; a module
//! that cannot import fails the build with the package to add.

use std::fs;
use std::process::Command;

use pyslim_e2e::*;

/// Example `name` without its `runtime:` line, plus `more` spec lines.
fn without_runtime(name: &str, scratch_name: &str, more: &str) -> std::path::PathBuf {
    let dir = copy_example(name, scratch_name);
    let spec = dir.join("pyslim.yaml");
    let text = fs::read_to_string(&spec).expect("spec");
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("runtime:"))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&spec, format!("{text}{more}")).expect("spec");
    dir
}

fn build_log(dir: &std::path::Path, tag: &str) -> (bool, String) {
    require_engine();
    let out = build_dir(dir, tag, &[]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn uwsgi_without_runtime_packages_gets_the_library_it_links() {
    let dir = without_runtime("uwsgi", "closure-uwsgi", "");
    let tag = "pyslim-e2e/closure-uwsgi";
    let (ok, log) = build_log(&dir, tag);
    assert!(ok, "{log}");
    assert!(
        log.contains("apt-get install libxml2 (shared libraries the dependencies need)"),
        "{log}"
    );
    assert!(
        log.contains("SharedLibraryInstalled: installed `libxml2`"),
        "the warning names the package:\n{log}"
    );
    assert!(log.contains("needs libxml2.so.2"), "{log}");
    assert!(log.contains("add `runtime: [libxml2]` to say so"), "{log}");
    let (response, logs) = serve(tag);
    assert!(
        response.contains("Hello from uWSGI, built by pyslim"),
        "{response}\n{logs}"
    );
    assert_clean(tag);
}

#[test]
fn psycopg2_from_source_gets_libpq() {
    let dir = scratch("closure-psycopg2");
    write_files(
        &dir,
        &[
            ("requirements.txt", "psycopg2==2.9.10\n"),
            (
                "pyslim.yaml",
                "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\nentrypoint: [python, -c, \"import psycopg2; print('psycopg2 with libpq', psycopg2.__libpq_version__)\"]\n",
            ),
        ],
    );
    let tag = "pyslim-e2e/closure-psycopg2";
    let (ok, log) = build_log(&dir, tag);
    assert!(ok, "{log}");
    assert!(
        log.contains("SharedLibraryInstalled: installed `libpq5`"),
        "{log}"
    );
    let out = run(docker().args(["run", "--rm", tag]));
    assert!(out.starts_with("psycopg2 with libpq 1"), "{out}");
}

#[test]
fn missing_libraries_error_fails_at_the_requirement_line() {
    let dir = without_runtime("uwsgi", "strict-uwsgi", "missing-libraries: error\n");
    let (ok, log) = build_log(&dir, "pyslim-e2e/strict-uwsgi");
    assert!(!ok, "{log}");
    assert!(
        log.contains("requirements.txt:1:1: error: /usr/local/bin/uwsgi (uwsgi 2.0.28"),
        "{log}"
    );
    assert!(log.contains("needs libxml2.so.2, which the runtime image lacks; the Debian package `libxml2` provides it"), "{log}");
    assert!(log.contains("`runtime: [libxml2]`"), "{log}");
}

#[test]
fn a_library_no_package_provides_fails_naming_the_file_and_the_library() {
    let dir = scratch("closure-nowhere");
    let made = Command::new("python3")
        .arg(repo().join("tests/support/make_elf_wheel.py"))
        .arg(dir.join("wheelhouse"))
        .status()
        .expect("python3");
    assert!(made.success());
    write_files(
        &dir,
        &[
            ("requirements.txt", "pyslim-nowhere==1.0\n"),
            (
                "pyslim.yaml",
                "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\nindex: none\nfind-links: [wheelhouse]\n",
            ),
        ],
    );
    let (ok, log) = build_log(&dir, "pyslim-e2e/closure-nowhere");
    assert!(!ok, "{log}");
    assert!(
        log.contains("requirements.txt:1:1: error: ")
            && log.contains("nowhere_ext.cpython-311-x86_64-linux-gnu.so (pyslim_nowhere 1.0, from pyslim_nowhere-1.0-cp311-cp311-linux_x86_64.whl) needs libpyslimnowhere.so.1, which neither the runtime image nor any Debian package in the compile image provides"),
        "{log}"
    );
}

#[test]
fn a_module_that_cannot_load_its_library_fails_the_smoke_test_with_the_package() {
    let dir = scratch("smoke-ctypes");
    write_files(
        &dir,
        &[
            ("requirements.txt", "six==1.16.0\n"),
            // Loaded at import with ctypes: no ELF file names it, only the import can tell.
            ("main.py", "import ctypes\nctypes.CDLL('libpq.so.5')\n"),
            (
                "pyslim.yaml",
                "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\napp: .\nentrypoint: [python, main.py]\n",
            ),
        ],
    );
    let (ok, log) = build_log(&dir, "pyslim-e2e/smoke-ctypes");
    assert!(!ok, "{log}");
    assert!(
        log.contains("pyslim.yaml:4:6: error: `import main` (the app's) fails in the image: OSError: libpq.so.5: cannot open shared object file"),
        "{log}"
    );
    assert!(
        log.contains("libpq.so.5 is in the Debian package `libpq5`: add `runtime: [libpq5]`"),
        "{log}"
    );
    // Skipped, the same app builds.
    let spec = dir.join("pyslim.yaml");
    let text = fs::read_to_string(&spec).expect("spec");
    fs::write(&spec, format!("{text}smoke-test: {{skip: [main]}}\n")).expect("spec");
    let (ok, log) = build_log(&dir, "pyslim-e2e/smoke-ctypes");
    assert!(ok, "{log}");
}
