//! Users and writable directories on a real engine: the image names its user by ids, the user
//! exists inside with those ids and a home, and it can write the directories the spec lists and
//! nothing of the system's.

use std::path::Path;
use std::process::Output;

use pyslim_e2e::*;

/// Builds `spec` (with a one-wheel requirements file) as `tag`.
fn build(name: &str, tag: &str, spec: &str) {
    require_engine();
    let context = scratch(name);
    write_files(
        &context,
        &[("requirements.txt", "six==1.16.0\n"), ("pyslim.yaml", spec)],
    );
    let out = build_dir(&context, tag, &["--label", "org.pyslim.e2e=yes"]);
    assert!(
        out.status.success(),
        "building {tag} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&context);
}

/// Runs `program args…` in the image, as the image's user.
fn probe(image: &str, program: &str, args: &[&str]) -> Output {
    output(
        docker()
            .args(["run", "--rm", "--entrypoint", program, image])
            .args(args),
    )
}

fn assert_writes(image: &str, dir: &str, expected: bool) {
    let file = Path::new(dir).join("pyslim-probe");
    let touched = probe(image, "touch", &[file.to_str().expect("UTF-8 path")]);
    assert_eq!(
        touched.status.success(),
        expected,
        "{image}: writing in {dir}: {}",
        String::from_utf8_lossy(&touched.stderr)
    );
}

#[test]
fn a_numeric_user_owns_its_writable_directories_and_nothing_else() {
    let tag = "pyslim-e2e/users-numeric";
    build(
        "users-numeric",
        tag,
        "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\nuser: \"20001:20002\"\nworkdir: /app\nwritable: [/data/uploads, /app/media, {path: /srv, volume: true}]\n",
    );
    assert_runs_as(tag, "app", "20001:20002");
    assert_eq!(inspect(tag, "{{json .Config.Volumes}}"), r#"{"/srv":{}}"#);
    // `/srv` is in the base image already: it is handed over all the same.
    for dir in ["/data/uploads", "/app/media", "/srv", "/app", "/home/app"] {
        assert_writes(tag, dir, true);
    }
    // `/data` was made on the way to `/data/uploads`: it stays root's; so does where the
    // dependencies went (asked of the interpreter: Debian's and the official images differ).
    let site = probe(
        tag,
        "python",
        &[
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ],
    );
    let site = String::from_utf8_lossy(&site.stdout).trim().to_string();
    assert!(site.starts_with('/'), "{site:?}");
    for dir in ["/data", "/usr", site.as_str(), "/etc"] {
        assert_writes(tag, dir, false);
    }
    let owners = probe(
        tag,
        "stat",
        &["-c", "%n %u:%g %a", "/data", "/data/uploads", "/srv"],
    );
    assert_eq!(
        String::from_utf8_lossy(&owners.stdout),
        "/data 0:0 755\n/data/uploads 20001:20002 755\n/srv 20001:20002 755\n"
    );
    // A passwd entry and a home: what getpass, pip and `~` need.
    let who = probe(
        tag,
        "python",
        &[
            "-c",
            "import getpass, os; print(getpass.getuser(), os.path.expanduser('~'))",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&who.stdout).trim(), "app /home/app");
    assert_clean(tag);
}

#[test]
fn the_default_user_is_app_with_fixed_ids() {
    let tag = "pyslim-e2e/users-default";
    build(
        "users-default",
        tag,
        "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\nwritable: [/data]\n",
    );
    assert_runs_as(tag, "app", "10001:10001");
    let uid = probe(tag, "id", &["-u"]);
    assert_eq!(String::from_utf8_lossy(&uid.stdout).trim(), "10001");
    assert_writes(tag, "/data", true);
    assert_writes(tag, "/usr", false);
    assert_eq!(inspect(tag, "{{json .Config.Volumes}}"), "null");
}

#[test]
fn a_workdir_the_base_has_already_is_handed_to_the_user() {
    let tag = "pyslim-e2e/users-workdir";
    // Debian's base-files ships /srv, owned by root: BuildKit's mkdir would leave it so.
    build(
        "users-workdir",
        tag,
        "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\nworkdir: /srv\n",
    );
    assert_eq!(inspect(tag, "{{.Config.WorkingDir}}"), "/srv");
    let owner = probe(tag, "stat", &["-c", "%n %u:%g %a", "/srv"]);
    assert_eq!(
        String::from_utf8_lossy(&owner.stdout),
        "/srv 10001:10001 755\n"
    );
    assert_writes(tag, "/srv", true);
    assert_writes(tag, "/usr", false);
    assert_clean(tag);
}
