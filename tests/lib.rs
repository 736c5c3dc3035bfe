//! Helpers for the end-to-end tests: drive the docker CLI against the engine that
//! `scripts/engine.sh` started, and look inside the images it builds.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repo")
        .to_path_buf()
}

/// The docker CLI, pointed at the engine by DOCKER_HOST (scripts/test sets both).
pub fn docker() -> Command {
    Engine::main().docker()
}

/// An engine and the docker CLI that drives it: the main one (Docker 26.1, scripts/engine.sh),
/// or the newest Debian ships (scripts/engine-newest.sh), which runs beside it.
pub struct Engine {
    cli: String,
    /// DOCKER_HOST and DOCKER_CONFIG (where the CLI finds its buildx), when not inherited.
    env: Vec<(&'static str, String)>,
}

impl Engine {
    /// The engine at DOCKER_HOST, with the CLI named by DOCKER.
    pub fn main() -> Engine {
        Engine {
            cli: std::env::var("DOCKER").unwrap_or_else(|_| "docker".into()),
            env: Vec::new(),
        }
    }

    /// The newest engine, as `eval "$(scripts/engine-newest.sh)"` exports it (scripts/test does).
    pub fn newest() -> Engine {
        Engine::newest_instance(1)
    }

    /// Instance `n` of the newest engine: `PYSLIM_NEWEST_INSTANCE=n scripts/engine-newest.sh`
    /// starts it beside the first, with a data root of its own (an empty machine to a cache).
    pub fn newest_instance(n: u32) -> Engine {
        let suffix = if n == 1 { String::new() } else { n.to_string() };
        let var = |name: &str| {
            let name = format!("PYSLIM_NEWEST{suffix}_{name}");
            std::env::var(&name).unwrap_or_else(|_| {
                panic!(
                    "{name} is not set: instance {n} of the newest engine is not up. Run \
                     scripts/test, or `eval \"$(PYSLIM_NEWEST_INSTANCE={n} \
                     scripts/engine-newest.sh)\"` before cargo test"
                )
            })
        };
        Engine {
            cli: var("DOCKER"),
            env: vec![
                ("DOCKER_HOST", var("HOST")),
                ("DOCKER_CONFIG", var("CONFIG")),
            ],
        }
    }

    pub fn docker(&self) -> Command {
        let mut command = Command::new(&self.cli);
        command.current_dir(repo());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    /// `docker buildx build --load -t TAG EXTRA -f DIR/pyslim.yaml DIR`.
    pub fn build_dir(&self, dir: &Path, tag: &str, extra: &[&str]) -> Output {
        let build = || {
            output(
                self.docker()
                    .args(["buildx", "build", "--progress=plain", "--load", "-t", tag])
                    .args(extra)
                    .arg("-f")
                    .arg(dir.join("pyslim.yaml"))
                    .arg(dir),
            )
        };
        let out = build();
        // The containerd image store now and then loses a layer's parent snapshot while it
        // unpacks a finished image (moby/buildkit#6521, open): the build itself succeeded,
        // and the same build again finds everything cached and unpacks it.
        let log = String::from_utf8_lossy(&out.stderr);
        if !out.status.success()
            && log.contains("failed to prepare extraction snapshot")
            && log.contains("does not exist: not found")
        {
            eprintln!("{tag}: the image store lost a snapshot while unpacking; building again");
            return build();
        }
        out
    }

    /// `sh -c SCRIPT` in a container of the image (in its workdir, as its user): the output.
    pub fn sh(&self, image: &str, script: &str) -> String {
        run(self
            .docker()
            .args(["run", "--rm", "--entrypoint", "sh", image, "-c", script]))
    }

    pub fn inspect(&self, image: &str, format: &str) -> String {
        run(self
            .docker()
            .args(["image", "inspect", image, "--format", format]))
        .trim()
        .to_string()
    }

    /// Runs the image with its port 8000 published on loopback, and GETs `/` from it: the
    /// answer, and the container's log.
    pub fn serve(&self, image: &str) -> (String, String) {
        self.serve_with(image, &[])
    }

    /// [`Engine::serve`] with more `docker run` options (e.g. `--platform linux/arm64`).
    pub fn serve_with(&self, image: &str, options: &[&str]) -> (String, String) {
        let id = run(self
            .docker()
            .args(["run", "-d", "-p", "127.0.0.1::8000"])
            .args(options)
            .arg(image));
        let id = id.trim();
        let port = run(self.docker().args(["port", id, "8000/tcp"]));
        let port: u16 = port
            .lines()
            .next()
            .and_then(|l| l.rsplit(':').next())
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("no published port in {port:?}"));
        let response = http_get(port, "/", Duration::from_secs(60));
        let logs = output(self.docker().args(["logs", id]));
        let _ = output(self.docker().args(["rm", "-f", id]));
        (response, String::from_utf8_lossy(&logs.stderr).into_owned())
    }

    /// The image's config names its user by ids, `UID:GID` (Kubernetes' `runAsNonRoot` cannot
    /// check a name), and those ids are the user `name` inside.
    pub fn assert_runs_as(&self, image: &str, name: &str, ids: &str) {
        assert_eq!(self.inspect(image, "{{.Config.User}}"), ids);
        let (uid, gid) = ids.split_once(':').expect("ids are UID:GID");
        let id = run(self
            .docker()
            .args(["run", "--rm", "--entrypoint", "id", image]));
        assert!(
            id.starts_with(&format!("uid={uid}({name}) gid={gid}(")),
            "{image} runs as {id}"
        );
    }
}

/// The registry on loopback that scripts/registry.sh starts (`localhost:PORT`).
pub fn registry() -> String {
    std::env::var("PYSLIM_REGISTRY").unwrap_or_else(|_| {
        panic!(
            "PYSLIM_REGISTRY is not set: the registry is not up. Run scripts/test, or \
             `eval \"$(scripts/registry.sh)\"` before cargo test"
        )
    })
}

/// The frontend image under test: org/pyslim, or the one PYSLIM_FRONTEND_IMAGE names (as
/// scripts/frontend-image.sh built it).
pub fn frontend_image() -> String {
    std::env::var("PYSLIM_FRONTEND_IMAGE").unwrap_or_else(|_| "org/pyslim".into())
}

/// The main engine's frontend image, pushed to the registry as `REGISTRY/NAME:TAG` (NAME the
/// image's last path part), TAG from its image ID (a new frontend, a new tag). No local image
/// keeps that name, so a build that names it makes BuildKit fetch it. Pushed once per test binary.
/// PYSLIM_FRONTEND_REF names one already there instead (the index of both platforms that
/// `PYSLIM_FRONTEND_PLATFORMS=linux/amd64,linux/arm64 scripts/frontend-image.sh` pushes).
pub fn frontend_in_registry() -> String {
    static PUSHED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PUSHED
        .get_or_init(|| {
            if let Ok(reference) = std::env::var("PYSLIM_FRONTEND_REF") {
                return reference;
            }
            require_engine();
            let image = frontend_image();
            let name = image.rsplit('/').next().unwrap_or(&image);
            // By ID, not by name: the frontend may be rebuilt (and its name moved) meanwhile.
            let id = inspect(&image, "{{.Id}}");
            let hex = id.strip_prefix("sha256:").unwrap_or(&id);
            let reference = format!("{}/{name}:{}", registry(), &hex[..12]);
            run(docker().args(["tag", &id, &reference]));
            let pushed = output(docker().args(["push", "-q", &reference]));
            // Only the name goes: the image stays under its own.
            run(docker().args(["image", "rm", &reference]));
            assert!(
                pushed.status.success(),
                "docker push {reference} failed:\n{}",
                String::from_utf8_lossy(&pushed.stderr)
            );
            reference
        })
        .clone()
}

/// Rewrites the `# syntax=` line of DIR/pyslim.yaml to name `frontend`.
pub fn use_frontend(dir: &Path, frontend: &str) {
    let file = dir.join("pyslim.yaml");
    let spec = std::fs::read_to_string(&file).expect("read the spec");
    let (first, rest) = spec.split_once('\n').expect("a spec of several lines");
    assert!(first.starts_with("# syntax="), "{first}");
    std::fs::write(&file, format!("# syntax={frontend}\n{rest}")).expect("write the spec");
}

/// Runs a docker command; panics with its output when it fails.
pub fn run(command: &mut Command) -> String {
    let output = output(command);
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn output(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} did not start: {e}"))
}

/// Every test needs the engine and the frontend image; say how to get them rather than fail obscurely.
pub fn require_engine() {
    let info = output(docker().args(["image", "inspect", "org/pyslim"]));
    assert!(
        info.status.success(),
        "the frontend image org/pyslim is not in the engine at DOCKER_HOST={:?}; run scripts/test, \
         which starts the engine and builds it",
        std::env::var("DOCKER_HOST").ok()
    );
}

/// `docker buildx build -f examples/NAME/pyslim.yaml examples/NAME`, as a user would run it.
pub fn build_example(name: &str, tag: &str, extra: &[&str]) -> Output {
    build_dir(&repo().join("examples").join(name), tag, extra)
}

/// `docker buildx build --load -t TAG EXTRA -f DIR/pyslim.yaml DIR`.
pub fn build_dir(dir: &Path, tag: &str, extra: &[&str]) -> Output {
    Engine::main().build_dir(dir, tag, extra)
}

/// A copy of example `name` in a fresh temporary directory, to build a variant of it.
pub fn copy_example(name: &str, scratch_name: &str) -> PathBuf {
    let dir = scratch(scratch_name);
    run(Command::new("cp")
        .arg("-r")
        .arg(repo().join("examples").join(name).join("."))
        .arg(&dir));
    dir
}

/// A fresh, empty temporary directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pyslim-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// Writes `(path, text)` files under `dir`, making their directories.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().expect("file in a dir")).expect("mkdir");
        std::fs::write(file, text).expect("write");
    }
}

/// `sh -c SCRIPT` in a container of the image (in its workdir, as its user): the output.
pub fn sh(image: &str, script: &str) -> String {
    Engine::main().sh(image, script)
}

/// What made each layer of the image, one history entry per line.
pub fn history(image: &str) -> String {
    run(docker().args(["history", "--no-trunc", "--format", "{{.CreatedBy}}", image]))
}

pub fn inspect(image: &str, format: &str) -> String {
    Engine::main().inspect(image, format)
}

/// The paths of every file in every layer the image adds on top of `base`, by layer.
/// Base layers must be an exact prefix: pyslim installs into the runtime base, it never rewrites it.
pub fn added_layers(image: &str, base: &str) -> Vec<Vec<String>> {
    let diff_ids = |i: &str| -> Vec<String> {
        let json = inspect(i, "{{json .RootFS.Layers}}");
        serde_json::from_str(&json).expect("RootFS.Layers is a JSON list")
    };
    let (ours, theirs) = (diff_ids(image), diff_ids(base));
    assert!(
        ours.starts_with(&theirs),
        "{image}'s layers do not start with {base}'s"
    );
    let mut layers = layers(image);
    assert_eq!(layers.len(), ours.len(), "one saved layer per diff id");
    layers.split_off(theirs.len())
}

/// The paths in each layer of an image, bottom first, read from `docker save`.
pub fn layers(image: &str) -> Vec<Vec<String>> {
    let saved = output(docker().args(["save", image]));
    assert!(saved.status.success(), "docker save {image} failed");
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    let mut archive = tar::Archive::new(saved.stdout.as_slice());
    for entry in archive.entries().expect("docker save writes a tar") {
        let mut entry = entry.expect("tar entry");
        let path = entry
            .path()
            .expect("entry path")
            .to_string_lossy()
            .into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("entry data");
        files.insert(path, data);
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&files["manifest.json"]).expect("manifest.json");
    manifest[0]["Layers"]
        .as_array()
        .expect("Layers")
        .iter()
        .map(|l| {
            let path = l.as_str().expect("layer path");
            let mut layer = tar::Archive::new(files[path].as_slice());
            layer
                .entries()
                .expect("layer is a tar")
                .map(|e| {
                    let e = e.expect("layer entry");
                    e.path().expect("path").to_string_lossy().into_owned()
                })
                .collect()
        })
        .collect()
}

/// Runs the image with its port 8000 published on loopback, and GETs `/` from it: the answer,
/// and the container's log.
pub fn serve(image: &str) -> (String, String) {
    Engine::main().serve(image)
}

/// GET a page from a server on loopback, retrying while it starts.
pub fn http_get(port: u16, path: &str, wait: Duration) -> String {
    let deadline = Instant::now() + wait;
    loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut stream = TcpStream::connect(("127.0.0.1", port))?;
            stream.set_read_timeout(Some(Duration::from_secs(5)))?;
            write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
            let mut response = String::new();
            stream.read_to_string(&mut response)?;
            Ok(response)
        })();
        match attempt {
            Ok(response) if response.starts_with("HTTP/") => return response,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(500)),
            other => panic!("no HTTP answer on 127.0.0.1:{port}{path}: {other:?}"),
        }
    }
}

/// What no layer added by pyslim may hold: wheels, installer caches, apt lists and logs,
/// debconf's and ldconfig's caches, compilers.
pub fn assert_clean(image: &str) {
    assert_clean_on(image, "python:3.11-slim");
}

/// [`assert_clean`] for an image built on `base`.
pub fn assert_clean_on(image: &str, base: &str) {
    let layers = added_layers(image, base);
    assert!(!layers.is_empty(), "{image} adds layers");
    for (i, files) in layers.iter().enumerate() {
        for path in files {
            let p = format!("/{}", path.trim_start_matches("./"));
            let bad = p.ends_with(".whl")
                || p.contains("/.cache/pip")
                || p.contains("/.cache/uv")
                || p.contains("/var/cache/pyslim")
                || (p.starts_with("/var/lib/apt/lists/")
                    && !p.ends_with("/")
                    && !p.ends_with("lock")
                    && !p.contains("/partial"))
                || p.starts_with("/var/cache/apt/archives/") && p.ends_with(".deb")
                || (["/var/log/", "/var/cache/debconf/", "/var/cache/ldconfig/"]
                    .iter()
                    .any(|d| p.starts_with(d))
                    && !p.ends_with('/'))
                || p == "/var/lib/dpkg/status-old"
                || p.starts_with("/wheels")
                || p.starts_with("/pyslim")
                || [
                    "/usr/bin/gcc",
                    "/usr/bin/cc",
                    "/usr/bin/g++",
                ]
                .contains(&p.as_str())
                // Debian's versioned compiler, whichever release the base is (12 on bookworm,
                // 14 on trixie).
                || p.strip_prefix("/usr/bin/x86_64-linux-gnu-gcc-")
                    .is_some_and(|v| v.bytes().all(|b| b.is_ascii_digit()));
            assert!(!bad, "{image}: layer {i} added by pyslim holds {p}");
        }
    }
    let found = sh(image, "command -v gcc cc c++ clang || true");
    assert_eq!(found.trim(), "", "{image} has a compiler on PATH");
}

/// The image's config names its user by ids, `UID:GID` (Kubernetes' `runAsNonRoot` cannot check
/// a name), and those ids are the user `name` inside.
pub fn assert_runs_as(image: &str, name: &str, ids: &str) {
    Engine::main().assert_runs_as(image, name, ids)
}
