//! One build, two platforms: linux/amd64 and linux/arm64 images of an example from one
//! `docker buildx build --platform linux/amd64,linux/arm64`, the arm64 steps under QEMU, as one
//! index in the registry. On the newest engine (its containerd image store keeps an index; the
//! classic store refuses), with the frontend from the registry and the bases from
//! scripts/platforms.sh (stand-ins of both platforms in the registry; QEMU registered).

use std::collections::BTreeMap;
use std::fs;
use std::time::Instant;

use pyslim_e2e::*;

const PLATFORMS: &str = "linux/amd64,linux/arm64";

/// Example `name` naming the frontend in the registry and the two-platform stand-ins as bases.
fn example(name: &str) -> std::path::PathBuf {
    let dir = copy_example(name, &format!("platforms-{name}"));
    use_frontend(&dir, &frontend_in_registry());
    let stand_ins = std::env::var("PYSLIM_STAND_INS").unwrap_or_else(|_| {
        panic!(
            "PYSLIM_STAND_INS is not set: the bases of two platforms are not in the registry. \
             Run scripts/test, or `eval \"$(scripts/platforms.sh)\"` before cargo test"
        )
    });
    let spec = dir.join("pyslim.yaml");
    let mut text = fs::read_to_string(&spec).expect("read the spec");
    text.push_str(&format!(
        "base: {{compile: \"{stand_ins}/python:3.11\", runtime: \"{stand_ins}/python:3.11-slim\"}}\n"
    ));
    fs::write(&spec, text).expect("write the spec");
    dir
}

/// Seconds of the finished steps of each platform, by the platform their names start with; a
/// foreign platform's steps that ran on the build platform (`… on linux/amd64`) apart.
fn step_seconds(log: &str) -> BTreeMap<String, f64> {
    let mut platform_of = BTreeMap::new();
    let mut seconds = BTreeMap::new();
    for line in log.lines() {
        let Some((vertex, rest)) = line.split_once(' ') else {
            continue;
        };
        if let Some(named) = rest.strip_prefix("[linux/") {
            let platform = named.split([' ', ']']).next().unwrap_or_default();
            let mut key = format!("linux/{platform}");
            if platform != "amd64" && named.contains(" on linux/amd64") {
                key.push_str(" natively");
            }
            platform_of.insert(vertex.to_string(), key);
        } else if let Some(done) = rest.strip_prefix("DONE ")
            && let Some(platform) = platform_of.get(vertex)
            && let Ok(s) = done.trim_end_matches('s').parse::<f64>()
        {
            *seconds.entry(platform.clone()).or_default() += s;
        }
    }
    seconds
}

/// Builds DIR for both platforms, loads the index and pushes it: the tag, and the build's log.
fn build_both(engine: &Engine, dir: &std::path::Path, name: &str) -> (String, String) {
    let tag = format!("{}/pyslim-e2e/platforms-{name}", registry());
    let started = Instant::now();
    let out = engine.build_dir(dir, &tag, &["--platform", PLATFORMS]);
    let wall = started.elapsed().as_secs_f64();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "building {name} for {PLATFORMS} failed:\n{log}"
    );
    let steps = step_seconds(&log);
    eprintln!("{name}: {wall:.0} s for both platforms; step seconds by platform {steps:?}");
    // Named, whether they ran or came from the cache (then no time is shown for them).
    assert!(
        log.contains(" [linux/amd64 "),
        "the amd64 steps are named for their platform:\n{log}"
    );
    assert!(
        log.contains(" [linux/arm64 "),
        "the arm64 steps are named for their platform:\n{log}"
    );
    run(engine.docker().args(["push", "-q", &tag]));
    let raw = run(engine
        .docker()
        .args(["buildx", "imagetools", "inspect", "--raw", &tag]));
    let index: serde_json::Value = serde_json::from_str(&raw).expect("an index");
    let mut pushed: Vec<String> = index["manifests"]
        .as_array()
        .unwrap_or_else(|| panic!("{tag} is not an index: {raw}"))
        .iter()
        .filter_map(|m| m["platform"]["architecture"].as_str().map(String::from))
        .filter(|a| a != "unknown")
        .collect();
    pushed.sort();
    assert_eq!(pushed, ["amd64", "arm64"], "{raw}");
    (tag, log)
}

fn machine(engine: &Engine, tag: &str, platform: &str) -> String {
    run(engine.docker().args([
        "run",
        "--rm",
        "--platform",
        platform,
        "--entrypoint",
        "python",
        tag,
        "-c",
        "import platform; print(platform.machine())",
    ]))
    .trim()
    .to_string()
}

#[test]
fn flask_and_ldap_for_amd64_and_arm64_in_one_build() {
    let engine = Engine::newest();

    // Pure wheels: the arm64 image installs the same files.
    let dir = example("flask");
    let (flask, log) = build_both(&engine, &dir, "flask");
    // Every dependency has a wheel for arm64: downloaded natively, no pip under emulation.
    assert!(
        log.contains("[linux/arm64 compile] download binary wheels on linux/amd64"),
        "{log}"
    );
    assert!(
        !log.contains("[linux/arm64 compile] build dependency wheels"),
        "{log}"
    );
    assert_eq!(machine(&engine, &flask, "linux/amd64"), "x86_64");
    assert_eq!(machine(&engine, &flask, "linux/arm64"), "aarch64");
    let (response, logs) = engine.serve_with(&flask, &["--platform", "linux/arm64"]);
    assert!(
        response.contains("Hello from pyslim!"),
        "arm64 answers: {response}\nlogs: {logs}"
    );
    let _ = fs::remove_dir_all(&dir);

    // python-ldap has no wheel: it compiles on each platform, arm64's under emulation.
    let dir = example("ldap");
    let (ldap, log) = build_both(&engine, &dir, "ldap");
    assert!(
        log.contains("[linux/arm64 compile] build dependency wheels"),
        "the arm64 compile step is its own:\n{log}"
    );
    for (platform, uname) in [("linux/amd64", "x86_64"), ("linux/arm64", "aarch64")] {
        assert_eq!(machine(&engine, &ldap, platform), uname);
        let out = run(engine
            .docker()
            .args(["run", "--rm", "--platform", platform, &ldap]));
        assert!(
            out.contains("python-ldap 3.4.4 OK: pyslim"),
            "{platform}: {out}"
        );
        // The extension was built for the platform: its ELF machine is the platform's.
        let elf = run(engine.docker().args([
            "run",
            "--rm",
            "--platform",
            platform,
            "--entrypoint",
            "python",
            &ldap,
            "-c",
            "import _ldap; f = open(_ldap.__file__, 'rb'); f.seek(18); print(int.from_bytes(f.read(2), 'little'))",
        ]));
        let expected = if uname == "aarch64" { "183" } else { "62" };
        assert_eq!(elf.trim(), expected, "{platform}: e_machine of _ldap");
    }
    let _ = fs::remove_dir_all(&dir);
}

/// The frontend in the registry is one index of linux/amd64 and linux/arm64 (scripts/test
/// pushes it so, `PYSLIM_FRONTEND_REF`): `# syntax=` runs natively on arm64 builders. Its arm64
/// binary runs (under emulation here) and answers as a frontend does outside BuildKit.
#[test]
fn the_frontend_is_an_index_of_both_platforms() {
    let engine = Engine::newest();
    let frontend = frontend_in_registry();
    let raw = run(engine
        .docker()
        .args(["buildx", "imagetools", "inspect", "--raw", &frontend]));
    let index: serde_json::Value = serde_json::from_str(&raw).expect("JSON");
    let mut platforms: Vec<String> = index["manifests"]
        .as_array()
        .unwrap_or_else(|| panic!("{frontend} is not an index: {raw}"))
        .iter()
        .filter_map(|m| m["platform"]["architecture"].as_str().map(String::from))
        .filter(|a| a != "unknown")
        .collect();
    platforms.sort();
    assert_eq!(platforms, ["amd64", "arm64"], "{raw}");
    // The arm64 image's binary is an aarch64 ELF: run it with no gateway on its stdin, it fails
    // the way the frontend fails outside BuildKit, after starting.
    let out = output(
        engine
            .docker()
            .args(["run", "--rm", "--platform", "linux/arm64", &frontend]),
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("pyslim: cannot reach BuildKit's gateway"),
        "the arm64 frontend ran: {said}"
    );
}
