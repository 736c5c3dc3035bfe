//! `flavor: minimal`: every example gathered onto nothing runs as it does on slim, has no
//! shell, and records in dpkg's status.d exactly the Debian packages its files came from.

use std::collections::BTreeSet;
use std::fs;

use pyslim_e2e::*;

/// Example `name` with `flavor` added, built as `pyslim-e2e/FLAVOR-NAME`.
fn build_flavor(name: &str, flavor: &str) -> String {
    build_flavor_with(name, flavor, &[])
}

fn build_flavor_with(name: &str, flavor: &str, extra: &[&str]) -> String {
    require_engine();
    let dir = copy_example(name, &format!("{flavor}-{name}"));
    let spec = dir.join("pyslim.yaml");
    let mut text = fs::read_to_string(&spec).expect("spec");
    text.push_str(&format!("flavor: {flavor}\n"));
    fs::write(&spec, text).expect("spec");
    let tag = format!("pyslim-e2e/{flavor}-{name}");
    let out = build_dir(&dir, &tag, extra);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "building {name} as {flavor} failed:\n{log}"
    );
    if flavor != "slim" {
        assert!(
            log.contains("[minimal] gather the minimal interpreter"),
            "{log}"
        );
    }
    tag
}

fn assert_no_shell(image: &str) {
    for shell in ["sh", "/bin/sh", "bash", "apt-get", "dpkg", "pip"] {
        let out =
            output(docker().args(["run", "--rm", "--entrypoint", shell, image, "-c", "true"]));
        assert!(!out.status.success(), "{image} has {shell}");
    }
}

/// Every path in the image, from `docker export`: (path, is a regular file or symlink).
fn files(image: &str) -> Vec<String> {
    let id = run(docker().args(["create", image])).trim().to_string();
    let exported = output(docker().args(["export", &id]));
    let _ = output(docker().args(["rm", "-f", &id]));
    assert!(exported.status.success());
    let mut archive = tar::Archive::new(exported.stdout.as_slice());
    let mut paths = Vec::new();
    for entry in archive.entries().expect("tar") {
        let entry = entry.expect("entry");
        let kind = entry.header().entry_type();
        if kind.is_file() || kind.is_symlink() {
            let path = entry.path().expect("path").to_string_lossy().into_owned();
            paths.push(format!("/{}", path.trim_start_matches("./")));
        }
    }
    paths
}

/// Which Debian package owns each of `paths` in `slim` (where dpkg's lists are), as dpkg's
/// lists say modulo merged /usr.
const OWNERS: &str = r#"
import glob, os, sys
alias = lambda p: [p, p[4:] if p.startswith("/usr/") else "/usr" + p]
owner = {}
for listing in glob.glob("/var/lib/dpkg/info/*.list"):
    package = os.path.basename(listing)[:-5].split(":")[0]
    for line in open(listing):
        path = line.strip()
        if path and not os.path.isdir(path):
            for p in alias(path):
                owner.setdefault(p, package)
found = set()
for path in sys.stdin.read().split():
    for p in alias(path):
        if p in owner:
            found.add(owner[p])
print("\n".join(sorted(found)))
"#;

fn recorded_packages(paths: &[String]) -> BTreeSet<String> {
    paths
        .iter()
        .filter_map(|p| p.strip_prefix("/var/lib/dpkg/status.d/"))
        .filter(|name| !name.is_empty() && !name.ends_with(".md5sums"))
        .map(String::from)
        .collect()
}

fn owners(slim: &str, paths: &[String]) -> BTreeSet<String> {
    let mut child = docker()
        .args([
            "run",
            "--rm",
            "-i",
            "--entrypoint",
            "python3",
            slim,
            "-c",
            OWNERS,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("docker run");
    use std::io::Write;
    let listed: Vec<&str> = paths
        .iter()
        .map(String::as_str)
        .filter(|p| !p.starts_with("/var/lib/dpkg/") && !["/etc/passwd", "/etc/group"].contains(p))
        .collect();
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(listed.join("\n").as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn flask_in_minimal_serves_is_small_and_records_its_packages() {
    let image = build_flavor("flask", "minimal");
    let (response, logs) = serve(&image);
    assert!(
        response.contains("Hello from pyslim!"),
        "{response}\n{logs}"
    );
    assert_no_shell(&image);
    // No `id` to ask: the interpreter says who it runs as, by the passwd file gathered.
    assert_eq!(inspect(&image, "{{.Config.User}}"), "10001:10001");
    let who = run(docker().args([
        "run",
        "--rm",
        "--entrypoint",
        "python",
        &image,
        "-c",
        "import os, pwd; print(pwd.getpwuid(os.getuid()).pw_name, os.getuid(), os.getgid(), os.path.expanduser('~'))",
    ]));
    assert_eq!(who.trim(), "app 10001 10001 /home/app");
    let size: u64 = inspect(&image, "{{.Size}}").parse().expect("size");
    assert!(size <= 50_000_000, "{image} is {size} bytes");
    let paths = files(&image);
    // Interpreter, standard library without its test suites and tools, no installers.
    let has = |p: &str| paths.iter().any(|f| f.contains(p));
    assert!(has("/os.py") && has("/gunicorn/") && has("/ssl/certs/ca-certificates.crt"));
    for gone in [
        "/test/test_os.py",
        "/idlelib/",
        "/tkinter/",
        "/ensurepip/",
        "/pip/",
        "/bin/sh",
    ] {
        assert!(!has(gone), "{image} holds {gone}");
    }
    // The packages its dpkg records name are the packages its files came from.
    let slim = build_flavor("flask", "slim");
    assert_eq!(recorded_packages(&paths), owners(&slim, &paths));
    assert!(recorded_packages(&paths).contains("libc6"));
    // Only pyslim's own layers: none of the base's.
    let history = history(&image);
    assert_eq!(history.lines().count(), 3, "{history}");
}

#[test]
fn compiled_examples_run_in_minimal_with_the_libraries_they_load() {
    let image = build_flavor("uwsgi", "minimal");
    let (response, logs) = serve(&image);
    assert!(
        response.contains("Hello from uWSGI, built by pyslim"),
        "{response}\n{logs}"
    );
    assert_no_shell(&image);
    let paths = files(&image);
    assert!(
        paths.iter().any(|p| p.contains("libxml2.so.2")),
        "{paths:?}"
    );
    assert!(recorded_packages(&paths).contains("libxml2"));

    let image = build_flavor("ldap", "minimal");
    let out = run(docker().args(["run", "--rm", &image]));
    assert!(out.contains("python-ldap 3.4.4 OK: pyslim"), "{out}");
    assert_no_shell(&image);
    let slim = build_flavor("ldap", "slim");
    let paths = files(&image);
    assert_eq!(recorded_packages(&paths), owners(&slim, &paths));

    // Article 004's inherited wheels: python-ldap from another image, its libraries gathered.
    let wheels = "pyslim-e2e/minimal-ldap-wheels";
    let out = build_example("ldap", wheels, &["--target", "wheels"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let context = format!("wheels=docker-image://{wheels}");
    let image = build_flavor_with("inherit", "minimal", &["--build-context", &context]);
    let out = run(docker().args(["run", "--rm", &image]));
    assert!(out.contains("inherited python-ldap 3.4.4"), "{out}");
    assert_no_shell(&image);

    let image = build_flavor("maturin", "minimal");
    let out = run(docker().args(["run", "--rm", &image]));
    assert_eq!(out.trim(), "Hello, pyslim, from Rust! 2 + 3 = 5");
}

#[test]
fn apps_of_every_shape_run_in_minimal() {
    for (name, said) in [
        (
            "cli",
            "Hello, world! (installed by setup.py, run from PATH)",
        ),
        ("uv-build", "Hello from a uv_build package (six 1.16.0)"),
        ("pyproject", "greet OK: six 1.16.0, click 8.1.7"),
    ] {
        let image = build_flavor(name, "minimal");
        let out = run(docker().args(["run", "--rm", &image]));
        assert!(out.contains(said), "{name}: {out}");
        assert_no_shell(&image);
    }
    for (name, said) in [
        ("script", "Hello from a script app at /app/main.py"),
        (
            "django",
            "Hello from Django: media writable, static collected: True",
        ),
        ("uv-lock", "HTTP/1"),
        ("uv-workspace", "Hello, workspace, from a uv workspace"),
    ] {
        let image = build_flavor(name, "minimal");
        let (response, logs) = serve(&image);
        assert!(response.contains(said), "{name}: {response}\n{logs}");
        assert_no_shell(&image);
    }
}

#[test]
fn minimal_debug_has_a_busybox_shell() {
    let image = build_flavor("cli", "minimal-debug");
    let said = sh(&image, "echo from busybox; ls /usr/bin/busybox");
    assert_eq!(said, "from busybox\n/usr/bin/busybox\n");
    let paths = files(&image);
    assert!(recorded_packages(&paths).contains("busybox-static"));
}
