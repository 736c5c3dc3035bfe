//! What installs the built wheels into the image — uv or pip, decided here and nowhere else —
//! and the compile-stage step that fetches uv.

use pyslim_spec::{Installer, Spec};

use super::advice::Advice;
use super::builder::Builder;
use super::fetch::Fetch;
use super::layout::{INSTALL_WHEELS, TOOLS, UV_PREFIX, strings, tool};
use super::types::{Fs, Stage, StepMount};

/// uv, pinned: an installer that changed on its own would change images without a spec change.
pub const UV_VERSION: &str = "0.13.9";

/// The default installer must not fail a build that pip would finish (a private index without
/// uv): unless the spec asked for uv, a failed download leaves the install to pip, and an
/// empty directory where uv would be. The arguments: that directory, then the command.
pub const UV_OR_PIP: &str = "dir=$1; shift; \"$@\" || { echo 'pyslim: uv could not be installed \
     from the index: the wheels will be installed with pip' >&2; mkdir -p \"$dir\"; }";

/// The installer a build uses, with what its steps must mount to run it.
pub struct Install {
    pub installer: Installer,
    /// `pip`, or the path of uv's binary.
    program: String,
    pub mounts: Vec<StepMount>,
}

impl Install {
    /// Decides the installer: pip when asked for, or when an offline spec did not ask for uv
    /// (uv comes from the index); otherwise uv, fetched by a compile step pushed here.
    pub fn new(b: &mut Builder, spec: &Spec, fetch: &Fetch) -> Install {
        let tools = tool("install_wheels.py", INSTALL_WHEELS);
        let asked = spec.installer.written().is_some();
        if spec.installer.value == Installer::Pip || (fetch.offline && !asked) {
            return Install {
                installer: Installer::Pip,
                program: "pip".into(),
                mounts: vec![tools],
            };
        }
        let mut args = if asked {
            Vec::new()
        } else {
            strings(&["sh", "-c", UV_OR_PIP, "install-uv", UV_PREFIX])
        };
        args.extend(strings(&[
            "python",
            "-m",
            "pip",
            "install",
            "--no-deps",
            // `--prefix` would follow the interpreter's scheme (Debian's adds `local/`).
            "--target",
            UV_PREFIX,
        ]));
        let mut run = fetch.run(args, "/", fetch.mounts_with_find_links());
        run.args.push(format!("uv=={UV_VERSION}"));
        // On the bare compile image: uv does not wait for, or change with, `system:` packages.
        let uv = b.compile(
            format!("install uv {UV_VERSION}"),
            Fs::Base(Stage::Compile),
            run,
            spec.installer.written(),
            asked.then_some(Advice::Uv),
        );
        Install {
            installer: Installer::Uv,
            program: format!("{UV_PREFIX}/bin/uv"),
            mounts: vec![
                tools,
                StepMount::Output {
                    dest: UV_PREFIX.into(),
                    from: uv,
                    path: UV_PREFIX.into(),
                },
            ],
        }
    }

    pub fn name(&self) -> &'static str {
        self.installer.name()
    }

    /// `install_wheels.py` with this installer, then `rest` (see the script for its arguments).
    pub fn args(&self, rest: &[&str]) -> Vec<String> {
        let mut args = vec![
            "python".to_string(),
            format!("{TOOLS}/install_wheels.py"),
            self.program.clone(),
        ];
        args.extend(strings(rest));
        args
    }
}
