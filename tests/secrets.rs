//! A private package index that requires credentials: the build gets them only as a BuildKit
//! secret, and they appear nowhere afterwards — not in a layer, the image config, the history
//! or the build log.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use pyslim_e2e::*;

struct Index {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Index {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_index(dir: &std::path::Path, user: &str, password: &str) -> Index {
    let log = dir.join("index.log");
    let mut child = Command::new("python3")
        .arg(repo().join("tests/support/private_index.py"))
        .args([user, password])
        .arg(&log)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 starts the private index");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the index prints its port");
    let port = line.trim().parse().expect("a port number");
    Index { child, port, log }
}

const SPEC: &str = r#"# syntax=org/pyslim
python: "3.11"
args:
  INDEX_PORT:
requirements: requirements.txt
index:
  url: "http://127.0.0.1:${INDEX_PORT}/simple/"
  secret: pypi-netrc
network: host
entrypoint: [python, -c, "import pyslim_private; print(pyslim_private.MESSAGE)"]
"#;

#[test]
fn private_index_credentials_come_only_from_a_secret() {
    require_engine();
    let dir = scratch("secret");
    let password = format!(
        "pw-{:x}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos()
    );
    let index = start_index(&dir, "pyslim", &password);
    let context = dir.join("context");
    fs::create_dir_all(&context).expect("mkdir");
    fs::write(context.join("pyslim.yaml"), SPEC).expect("spec");
    fs::write(context.join("requirements.txt"), "pyslim-private==1.0\n").expect("requirements");
    let netrc = dir.join("netrc");
    fs::write(
        &netrc,
        format!("machine 127.0.0.1\nlogin pyslim\npassword {password}\n"),
    )
    .expect("netrc");

    let tag = "pyslim-e2e/private-index";
    let port = format!("INDEX_PORT={}", index.port);
    let secret = format!("id=pypi-netrc,src={}", netrc.display());
    let build = |with_secret: bool| {
        let mut options = vec![
            "--no-cache",
            "--build-arg",
            &port,
            "--allow",
            "network.host",
        ];
        if with_secret {
            options.extend(["--secret", &secret]);
        }
        build_dir(&context, tag, &options)
    };

    // Without the secret the step that downloads cannot run, and says which secret it needs.
    let _ = output(docker().args(["image", "rm", "-f", tag]));
    let failed = build(false);
    let log = String::from_utf8_lossy(&failed.stderr);
    assert!(
        !failed.status.success(),
        "built without credentials:\n{log}"
    );
    assert!(
        log.contains("pypi-netrc"),
        "the error names the secret:\n{log}"
    );

    let built = build(true);
    let log = String::from_utf8_lossy(&built.stderr).into_owned();
    assert!(built.status.success(), "build failed:\n{log}");
    let out = run(docker().args(["run", "--rm", tag]));
    assert_eq!(out.trim(), "private index OK");
    // This index has no uv: the default installer gives way to pip, and says so.
    assert!(
        log.contains("pyslim: uv could not be installed from the index"),
        "{log}"
    );

    // The index saw the credentials...
    let requests = fs::read_to_string(&index.log).expect("index log");
    assert!(
        requests.contains("GET /files/pyslim_private-1.0-py3-none-any.whl 200 True"),
        "{requests}"
    );
    // ...and nothing that leaves the build holds them.
    assert!(!log.contains(&password), "the build log shows the password");
    let saved = output(docker().args(["save", tag]));
    assert!(saved.status.success());
    let needle = password.as_bytes();
    assert!(
        !saved.stdout.windows(needle.len()).any(|w| w == needle),
        "an image layer or the config holds the password"
    );
    for what in [
        run(docker().args(["image", "inspect", tag])),
        run(docker().args(["history", "--no-trunc", tag])),
    ] {
        assert!(!what.contains(&password) && !what.contains("netrc\npassword"));
    }
    let _ = fs::remove_dir_all(&dir);
}
