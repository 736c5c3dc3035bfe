//! A git dependency over SSH: the build reaches a git server on loopback through the client's
//! forwarded SSH agent (`--ssh default`), checking the host key pyslim was told to expect.
//! No key reaches the image.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pyslim_e2e::*;

struct Daemons {
    children: Vec<Child>,
}

impl Drop for Daemons {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn sh(command: &mut Command) -> String {
    run(command)
}

fn wait_for(what: &str, ready: impl Fn() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what} did not come up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn keygen(path: &Path) {
    sh(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path));
}

/// A bare git repository holding a small Python project.
fn repository(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    fs::create_dir_all(src.join("pyslim_gitdep")).expect("mkdir");
    fs::write(
        src.join("pyproject.toml"),
        "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"pyslim-gitdep\"\nversion = \"1.0\"\n",
    )
    .expect("write");
    fs::write(
        src.join("pyslim_gitdep/__init__.py"),
        "MESSAGE = \"git over ssh OK\"\n",
    )
    .expect("write");
    let git = |args: &[&str]| {
        sh(Command::new("git")
            .args([
                "-c",
                "user.name=pyslim",
                "-c",
                "user.email=pyslim@localhost",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(&src))
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "pyslim-gitdep 1.0"]);
    let bare = dir.join("repo.git");
    sh(Command::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(&src)
        .arg(&bare));
    bare
}

#[test]
fn git_dependency_over_a_forwarded_ssh_agent() {
    require_engine();
    let dir = scratch("ssh");
    let bare = repository(&dir);

    // sshd on loopback, trusting one user key.
    keygen(&dir.join("host_key"));
    keygen(&dir.join("user_key"));
    fs::copy(dir.join("user_key.pub"), dir.join("authorized_keys")).expect("copy");
    let port = free_port();
    let config = dir.join("sshd_config");
    fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\nPidFile {d}/sshd.pid\nStrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n",
            d = dir.display()
        ),
    )
    .expect("write");
    fs::create_dir_all("/run/sshd").expect("sshd's privilege separation directory");
    let sshd = Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sshd starts");
    let agent_sock = dir.join("agent.sock");
    let agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&agent_sock)
        .stdout(Stdio::null())
        .spawn()
        .expect("ssh-agent starts");
    let _daemons = Daemons {
        children: vec![sshd, agent],
    };
    wait_for("sshd", || TcpStream::connect(("127.0.0.1", port)).is_ok());
    wait_for("ssh-agent", || agent_sock.exists());
    sh(Command::new("ssh-add")
        .arg(dir.join("user_key"))
        .env("SSH_AUTH_SOCK", &agent_sock));

    let host_key = fs::read_to_string(dir.join("host_key.pub")).expect("host key");
    let host_key: Vec<&str> = host_key.split_whitespace().take(2).collect();
    let context = dir.join("context");
    fs::create_dir_all(&context).expect("mkdir");
    fs::write(
        context.join("requirements.txt"),
        format!(
            "pyslim-gitdep @ git+ssh://root@127.0.0.1:{port}{}\n",
            bare.display()
        ),
    )
    .expect("write");
    fs::write(
        context.join("pyslim.yaml"),
        format!(
            "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\nnetwork: host\nssh:\n  id: default\n  known-hosts: [\"[127.0.0.1]:{port} {} {}\"]\nentrypoint: [python, -c, \"import pyslim_gitdep; print(pyslim_gitdep.MESSAGE)\"]\n",
            host_key[0], host_key[1]
        ),
    )
    .expect("write");

    let tag = "pyslim-e2e/git-ssh";
    let agent = format!("default={}", agent_sock.display());
    let build = |ssh: bool| {
        let mut options = vec!["--no-cache", "--allow", "network.host"];
        if ssh {
            options.extend(["--ssh", &agent]);
        }
        build_dir(&context, tag, &options)
    };
    let failed = build(false);
    assert!(!failed.status.success(), "built without an SSH agent");

    let built = build(true);
    let log = String::from_utf8_lossy(&built.stderr);
    assert!(built.status.success(), "build failed:\n{log}");
    assert_eq!(
        run(docker().args(["run", "--rm", tag])).trim(),
        "git over ssh OK"
    );
    assert_clean(tag);
    // The private key never left the agent; nothing of it is in the image.
    let key = fs::read_to_string(dir.join("user_key")).expect("key");
    let body: String = key.lines().nth(1).unwrap_or_default().to_string();
    let saved = output(docker().args(["save", tag]));
    assert!(
        !body.is_empty()
            && !saved
                .stdout
                .windows(body.len())
                .any(|w| w == body.as_bytes())
    );
    let _ = fs::remove_dir_all(&dir);
}
