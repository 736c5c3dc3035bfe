//! An image of system packages only: `runtime:` and no Python package (a helper image for a
//! test setup, say), built by the real frontend and run.

use std::fs;
use std::time::{Duration, Instant};

use pyslim_e2e::*;

#[test]
fn a_redis_helper_image_builds_from_runtime_packages_alone() {
    require_engine();
    let dir = scratch("system-packages");
    fs::write(
        dir.join("pyslim.yaml"),
        "# syntax=org/pyslim\npython: \"3.11\"\nruntime: [redis-server]\nentrypoint: [redis-server, --port, \"6390\"]\n",
    )
    .expect("write");
    let tag = "pyslim-e2e/system-packages";
    let out = build_dir(&dir, tag, &[]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("[slim] apt-get install redis-server"), "{log}");
    // Nothing is installed from an index, so nothing is fetched or compiled for it.
    assert!(!log.contains("install uv"), "{log}");
    assert!(!log.contains("[compile]"), "{log}");

    // The package works: the image's own entrypoint serves, and its client (a dependency of
    // redis-server) answers from inside the container.
    let id = run(docker().args(["run", "-d", tag]));
    let id = id.trim();
    let deadline = Instant::now() + Duration::from_secs(30);
    let pong = loop {
        let ping = output(docker().args(["exec", id, "redis-cli", "-p", "6390", "ping"]));
        let text = String::from_utf8_lossy(&ping.stdout).trim().to_string();
        if text == "PONG" || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let logs = output(docker().args(["logs", id]));
    let _ = output(docker().args(["rm", "-f", id]));
    assert_eq!(
        pong,
        "PONG",
        "redis-server did not answer; its log:\n{}{}",
        String::from_utf8_lossy(&logs.stdout),
        String::from_utf8_lossy(&logs.stderr)
    );
    assert_runs_as(tag, "app", "10001:10001");
    // The apt step left no lists, archives or logs, like every other image's...
    assert_clean(tag);
    // ...but the directories packages make under /var/log are the image's: redis-server's
    // own config logs to /var/log/redis.
    let logs = sh(
        tag,
        "if [ -d /var/log/redis ]; then echo directory; else ls -la /var/log; fi",
    );
    assert_eq!(logs.trim(), "directory", "no /var/log/redis in:\n{logs}");
    let _ = fs::remove_dir_all(&dir);
}
