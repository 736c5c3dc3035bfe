//! Where things sit in the steps' filesystems, and the mounts every part of the plan shares.
//!
//! Mount points in the slim stage sit directly under `/`: BuildKit removes the stub directory
//! it creates for a mount, but not the parents it had to create on the way.

use super::types::{StepId, StepMount};

pub const CONTEXT: &str = "/pyslim-context";
pub const WHEELS: &str = "/wheels";
pub const APP_WHEEL: &str = "/pyslim-app";
pub const PIP_CACHE: &str = "/var/cache/pyslim/pip";
/// uv's cache, for the compile steps that download with it.
pub const UV_CACHE: &str = "/var/cache/pyslim/uv";
/// Every wheel downloaded before, kept by file name (see `fetch_wheels.py`).
pub const WHEEL_CACHE: &str = "/var/cache/pyslim/wheels";
/// cargo's home for a Rust extension's build (maturin, setuptools-rust): the crates it downloads
/// are kept between builds, so an app-code edit does not fetch them again.
pub const CARGO_HOME: &str = "/var/cache/pyslim/cargo";
/// Scripts of ours the steps run.
pub const TOOLS: &str = "/pyslim-tools";
pub const FETCH_WHEELS: &str = include_str!("../../python/fetch_wheels.py");
/// pip run in the dependency step, and the exit codes that say what its output showed.
pub const PIP_RUN: &str = include_str!("../../python/pip_run.py");
/// The modules `fetch_wheels.py` imports (see there).
const FETCH_MODULES: [(&str, &str); 4] = [
    ("pip_run.py", PIP_RUN),
    ("index.py", include_str!("../../python/index.py")),
    ("uv_route.py", include_str!("../../python/uv_route.py")),
    ("lock_route.py", include_str!("../../python/lock_route.py")),
];
pub const INSTALL_WHEELS: &str = include_str!("../../python/install_wheels.py");
pub const TARGET_WHEELS: &str = include_str!("../../python/target_wheels.py");
/// Whether the build platform found a binary wheel of every dependency for the target.
pub const NATIVE_REPORT: &str = "/pyslim-report/native.json";
/// Runs a layer's command, then clamps the times of what it changed (see `times`).
pub const CLAMP_TIMES: &str = include_str!("../../python/clamp_times.py");
/// What earlier installs unpacked and compiled — uv's cache, and bytecode kept by what it was
/// compiled from (see `install_wheels.py`): a cache mount of the slim stage's install steps.
pub const INSTALL_CACHE: &str = "/pyslim-install-cache";
/// Where the compile stage installs uv; the slim stage runs it from a read-only mount.
pub const UV_PREFIX: &str = "/pyslim-uv";
/// The forwarded SSH agent and the known_hosts pyslim writes (compile stage only).
pub const SSH_AGENT: &str = "/run/buildkit/ssh_agent.0";
pub const SSH_CONFIG: &str = "/pyslim-ssh";
/// Where the `wheels` build context is seen (compile stage only).
pub const WHEELS_CONTEXT: &str = "/pyslim-wheelhouse";
/// Requirements files the frontend writes (compile stage only).
pub const GENERATED: &str = "/pyslim-requirements";
/// The app's build backend is installed here, in the compile stage.
pub const BUILD_BACKEND: &str = "/pyslim-build";
/// Where the app's backend-reported dependencies are written (compile stage only).
pub const APP_METADATA: &str = "/pyslim-app-metadata";
pub const BACKEND: &str = include_str!("../../python/backend.py");
/// The ELF reader and loader the scripts below share.
pub const ELF: &str = include_str!("../../python/elf.py");
/// What the scripts below and `sbom.py` share, besides `elf.py`.
pub const COMMON: &str = include_str!("../../python/common.py");
pub const LIBRARIES: &str = include_str!("../../python/libraries.py");
pub const MINIMAL: &str = include_str!("../../python/minimal.py");
pub const SMOKE: &str = include_str!("../../python/smoke.py");
/// The scan's report, in its step's output.
pub const SCAN_REPORT: &str = "/pyslim-report/libraries.json";
pub const SBOM_SCRIPT: &str = include_str!("../../python/sbom.py");
/// The SBOM, in its step's output.
pub const SBOM: &str = "/pyslim-report/sbom.spdx.json";
/// The smoke test's report, in its step's output.
pub const SMOKE_REPORT: &str = "/pyslim-report/smoke.json";
/// Where the compile stage's filesystem is seen by the steps that ask it which Debian package
/// holds a library.
pub const COMPILE_ROOT: &str = "/pyslim-compile";
/// Where a `flavor: minimal` gathering step writes its part of the image.
pub const MINIMAL_OUT: &str = "/pyslim-minimal";
/// Where the parts gathered before are seen by the next gathering step.
pub const MINIMAL_HAVE: &str = "/pyslim-have";

pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// Our scripts, as read-only files under `TOOLS` for the step that runs one of them.
fn tools(files: &[(&str, &str)]) -> StepMount {
    StepMount::Files {
        dest: TOOLS.into(),
        files: files
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect(),
    }
}

/// One of our scripts, for the step that runs it.
pub fn tool(name: &str, text: &str) -> StepMount {
    tools(&[(name, text)])
}

/// One of the scripts that import `common.py`, with it.
pub fn common_tool(name: &str, text: &str) -> StepMount {
    tools(&[("common.py", COMMON), (name, text)])
}

/// `fetch_wheels.py`, with the modules it imports.
pub fn fetch_tool() -> StepMount {
    let mut files = vec![("common.py", COMMON)];
    files.extend(FETCH_MODULES);
    files.push(("fetch_wheels.py", FETCH_WHEELS));
    tools(&files)
}

/// One of the scripts that read ELF files, with the modules they share.
pub fn elf_tool(name: &str, text: &str) -> StepMount {
    tools(&[("common.py", COMMON), ("elf.py", ELF), (name, text)])
}

pub fn context(include: &[String], writable: bool) -> StepMount {
    StepMount::Context {
        dest: CONTEXT.into(),
        include: include.to_vec(),
        writable,
    }
}

/// pip writes its cache with atomic renames, so concurrent builds may share it.
pub fn pip_cache() -> StepMount {
    StepMount::Cache {
        dest: PIP_CACHE.into(),
        id: "pyslim-pip".into(),
        locked: false,
    }
}

/// Where a step writes what later steps mount of it (see [`StepMount::Produced`]).
pub fn produced(dest: &str) -> StepMount {
    StepMount::Produced { dest: dest.into() }
}

/// The dependency wheels the step `from` built, read-only.
pub fn wheels(from: StepId) -> StepMount {
    StepMount::Output {
        dest: WHEELS.into(),
        from,
        path: WHEELS.into(),
    }
}

/// uv's binary (in `bin/`) the step `from` fetched, read-only.
pub fn uv(from: StepId) -> StepMount {
    StepMount::Output {
        dest: UV_PREFIX.into(),
        from,
        path: UV_PREFIX.into(),
    }
}

/// The app's wheel the step `from` built, read-only.
pub fn app_wheel(from: StepId) -> StepMount {
    StepMount::Output {
        dest: APP_WHEEL.into(),
        from,
        path: APP_WHEEL.into(),
    }
}

/// Where the project at the context path `app` is seen.
pub fn project_dir(app: &str) -> String {
    if app == "." {
        CONTEXT.to_string()
    } else {
        format!("{CONTEXT}/{app}")
    }
}

/// The whole context for `app: .`; otherwise only the project's directory.
pub fn include_app(app: &str) -> Vec<String> {
    if app == "." {
        Vec::new()
    } else {
        vec![app.to_string()]
    }
}
