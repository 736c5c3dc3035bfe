//! Wheels that are already built: a wheelhouse in the context for offline builds, and a
//! `wheels` build context whose wheels replace compiling (article 004's inherited wheels).

use std::fs;
use std::path::Path;

use pyslim_e2e::*;

fn make_wheel(name: &str, version: &str, message: &str, dir: &Path) {
    run(std::process::Command::new("python3")
        .arg(repo().join("tests/support/make_wheel.py"))
        .args([name, version, message])
        .arg(dir));
}

fn build(context: &Path, tag: &str, extra: &[&str]) -> String {
    require_engine();
    let mut options = vec!["--no-cache"];
    options.extend(extra);
    let out = build_dir(context, tag, &options);
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "build failed:\n{log}");
    log
}

#[test]
fn offline_build_from_a_wheelhouse_without_network() {
    let context = scratch("offline");
    make_wheel(
        "pyslim-offline",
        "2.0",
        "offline OK",
        &context.join("wheelhouse"),
    );
    fs::write(context.join("requirements.txt"), "pyslim-offline==2.0\n").expect("write");
    fs::write(
        context.join("pyslim.yaml"),
        "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\nindex: none\nfind-links: [wheelhouse]\nentrypoint: [python, -c, \"import pyslim_offline; print(pyslim_offline.MESSAGE)\"]\n",
    )
    .expect("write");
    // --network none: every step runs without a network, so nothing can come from an index.
    let tag = "pyslim-e2e/offline";
    build(&context, tag, &["--network", "none"]);
    assert_eq!(
        run(docker().args(["run", "--rm", tag])).trim(),
        "offline OK"
    );
    assert_clean(tag);
    let _ = fs::remove_dir_all(&context);
}

#[test]
fn a_wheels_context_replaces_compiling() {
    let dir = scratch("wheelhouse");
    let wheels = dir.join("wheels");
    fs::create_dir_all(&wheels).expect("mkdir");
    // The wheel an earlier build (or a shared base image) made.
    let mount = format!("{}:/out", wheels.display());
    // Compiling it needs the LDAP headers, which the spec below does not install: the build can
    // only succeed by taking this wheel.
    run(docker().args([
        "run",
        "--rm",
        "-v",
        &mount,
        "python:3.11",
        "sh",
        "-c",
        "apt-get update -q && apt-get install -y -q --no-install-recommends libldap2-dev libsasl2-dev >/dev/null \
         && python -m pip wheel -q --no-deps -w /out python-ldap==3.4.4",
    ]));
    let context = dir.join("context");
    fs::create_dir_all(&context).expect("mkdir");
    fs::write(context.join("requirements.txt"), "python-ldap==3.4.4\n").expect("write");
    fs::write(
        context.join("pyslim.yaml"),
        "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\nruntime: [libldap-2.5-0, libsasl2-2]\nentrypoint: [python, -c, \"import ldap; print(ldap.__version__)\"]\n",
    )
    .expect("write");
    let tag = "pyslim-e2e/wheels-context";
    let log = build(
        &context,
        tag,
        &["--build-context", &format!("wheels={}", wheels.display())],
    );
    assert!(
        log.contains("/pyslim-wheelhouse/python_ldap-3.4.4-cp311-cp311-linux_x86_64.whl"),
        "{log}"
    );
    assert!(
        !log.contains("Building wheel for python-ldap")
            && !log.contains("pyslim: building python-ldap"),
        "python-ldap was compiled again:\n{log}"
    );
    assert_eq!(run(docker().args(["run", "--rm", tag])).trim(), "3.4.4");
    assert_clean(tag);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn the_wheels_target_feeds_another_build_as_an_image() {
    require_engine();
    // Article 004: a service's image of built wheels, inherited by the services built on it.
    let wheels_image = "pyslim-e2e/ldap-wheels";
    let out = build_example("ldap", wheels_image, &["--target", "wheels"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let layers = layers(wheels_image);
    let files: Vec<&String> = layers.iter().flatten().collect();
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("wheels/python_ldap-3.4.4-") && f.ends_with(".whl")),
        "{files:?}"
    );
    assert!(
        files.iter().all(|f| f.starts_with("wheels")),
        "only the wheels: {files:?}"
    );

    // examples/inherit asks for python-ldap without its headers: only the inherited wheel
    // lets it build.
    let tag = "pyslim-e2e/inherit";
    let source = format!("wheels=docker-image://{wheels_image}");
    let out = build_example("inherit", tag, &["--no-cache", "--build-context", &source]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        !log.contains("Building wheel for python-ldap")
            && !log.contains("pyslim: building python-ldap"),
        "python-ldap was compiled again:\n{log}"
    );
    assert_eq!(
        run(docker().args(["run", "--rm", tag])).trim(),
        "inherited python-ldap 3.4.4"
    );
    assert_clean(tag);
}

#[test]
fn hash_pinned_requirements_with_markers() {
    let context = scratch("hashes");
    // six from its sdist, checked against its hash, then built into a wheel whose hash no file
    // lists: the slim stage installs that wheel all the same. colorama is for Windows only.
    fs::write(
        context.join("requirements.txt"),
        "--no-binary six\nsix==1.16.0 \\\n    --hash=sha256:1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926\ncolorama==0.4.6 ; sys_platform == \"win32\" \\\n    --hash=sha256:4f1d9991f5acc0ca119f9d443620b77f9d6b33703e51011c16baf57afb285fc6\n",
    )
    .expect("write");
    fs::write(
        context.join("pyslim.yaml"),
        "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\nentrypoint: [python, -c, \"import six, importlib.util as u; print(six.__version__, u.find_spec('colorama') is None)\"]\n",
    )
    .expect("write");
    let tag = "pyslim-e2e/hashes";
    let log = build(&context, tag, &[]);
    assert!(
        log.contains("Building wheel for six"),
        "six came from its sdist:\n{log}"
    );
    assert_eq!(
        run(docker().args(["run", "--rm", tag])).trim(),
        "1.16.0 True"
    );

    // A wrong hash stops the build at the dependency step, which says what to check.
    fs::write(
        context.join("requirements.txt"),
        "six==1.16.0 --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
    )
    .expect("write");
    let out = output(
        docker()
            .args(["buildx", "build", "--progress=plain", "-f"])
            .arg(context.join("pyslim.yaml"))
            .arg(&context),
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        log.contains("THESE PACKAGES DO NOT MATCH THE HASHES"),
        "{log}"
    );
    assert!(
        log.contains("build dependency wheels: requirements.txt failed"),
        "{log}"
    );
    let _ = fs::remove_dir_all(&context);
}

#[test]
fn a_new_requirement_downloads_only_itself_and_a_dropped_one_leaves_the_image() {
    require_engine();
    let context = scratch("wheel-cache");
    // A comment unique to this run makes the dependency step run in both builds (not
    // `--no-cache`: BuildKit then gives the step empty cache mounts).
    let nonce = format!("# {:?}\n", std::time::SystemTime::now());
    let spec = "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\nentrypoint: [python, -c, \"import importlib.util as u; print(*(m for m in ['six', 'attrs', 'idna'] if u.find_spec(m)))\"]\n";
    write_files(
        &context,
        &[
            ("pyslim.yaml", spec),
            (
                "requirements.txt",
                &format!("{nonce}six==1.16.0\nattrs==23.1.0\n"),
            ),
        ],
    );
    let tag = "pyslim-e2e/wheel-cache";
    let built = |context: &Path| {
        let out = build_dir(context, tag, &[]);
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "build failed:\n{log}");
        log
    };
    built(&context);
    assert_eq!(run(docker().args(["run", "--rm", tag])).trim(), "six attrs");

    // Whatever earlier builds left in the wheel cache, six is in it now: only idna is fetched,
    // and attrs, still in the cache, is not installed.
    fs::write(
        context.join("requirements.txt"),
        format!("{nonce}six==1.16.0\nidna==3.4\n"),
    )
    .expect("write");
    let log = built(&context);
    // uv resolves (the default installer, from PyPI) and the script downloads what its cache
    // lacks, naming each file.
    let summary = log
        .lines()
        .find_map(|l| l.split("pyslim: uv resolved 2 packages: ").nth(1))
        .unwrap_or_else(|| panic!("no wheel summary:\n{log}"));
    let counts: Vec<u32> = summary
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let [downloaded, reused, ..] = counts[..] else {
        panic!("no counts in {summary}");
    };
    assert!(reused >= 1 && downloaded + reused == 2, "{log}");
    assert!(
        !log.contains("pyslim: downloading six-"),
        "six was downloaded again:\n{log}"
    );
    assert_eq!(run(docker().args(["run", "--rm", tag])).trim(), "six idna");
    assert_clean(tag);
    let _ = fs::remove_dir_all(&context);
}

#[test]
fn a_requirements_file_with_nothing_in_it_yet_builds() {
    require_engine();
    let context = scratch("empty-requirements");
    write_files(
        &context,
        &[
            (
                "pyslim.yaml",
                "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\nentrypoint: [python, -c, \"print('empty OK')\"]\n",
            ),
            ("requirements.txt", "# dependencies go here\n"),
        ],
    );
    let tag = "pyslim-e2e/empty-requirements";
    // --no-cache: the install step must run for its message to show, however often this ran.
    let out = build_dir(&context, tag, &["--no-cache"]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("nothing to install"), "{log}");
    assert_eq!(run(docker().args(["run", "--rm", tag])).trim(), "empty OK");
    let _ = fs::remove_dir_all(&context);
}
