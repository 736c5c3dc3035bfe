//! What installs the built wheels into the image — uv or pip, decided here and nowhere else —
//! and the compile-stage step that fetches uv.

use pyslim_spec::{Installer, Spec};

use super::advice::Advice;
use super::builder::Builder;
use super::fetch::Fetch;
use super::layout::{
    self, INSTALL_CACHE, INSTALL_WHEELS, TOOLS, UV_PREFIX, produced, strings, tool,
};
use super::types::{Fs, Run, Stage, StepId, StepMount, StepNetwork};

/// uv, pinned: an installer that changed on its own would change images without a spec change.
pub const UV_VERSION: &str = "0.13.9";

/// uv's wheels on PyPI, by target architecture: what pip would install there, fetched by the
/// engine and checked against PyPI's SHA-256 (`https://pypi.org/simple/uv/`).
const UV_WHEELS: &[(&str, &str, &str)] = &[
    (
        "amd64",
        "https://files.pythonhosted.org/packages/3d/aa/26d64642d808de4a652579ef950d7cd2d37f080a8babf9c67c6b75fc4c3f/uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19",
    ),
    (
        "arm64",
        "https://files.pythonhosted.org/packages/fe/2f/51a5de367c602592c018a42a23d57fba5f2689fe6c3bf025dcf043b39c61/uv-0.13.9-py3-none-manylinux_2_28_aarch64.whl",
        "ecb6028d79dc96fbeafffe5c8af62a7099487ebc05a701e76714eebcffd06375",
    ),
];

/// Where the step unpacking uv sees its wheel.
const UV_WHEEL: &str = "/pyslim-uv-wheel";

/// Takes uv's binary alone out of its wheel (a zip) into `$2/bin/uv`, where pip's `--target`
/// puts it: the rest of the wheel (uvx, the Python package) is not needed. The arguments: the
/// wheel, the directory.
pub const UNPACK_UV: &str = "import os, shutil, sys, zipfile
wheel, prefix = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    member = next(n for n in z.namelist() if n.endswith('.data/scripts/uv'))
    os.makedirs(prefix + '/bin')
    with z.open(member) as source, open(prefix + '/bin/uv', 'wb') as binary:
        shutil.copyfileobj(source, binary)
os.chmod(prefix + '/bin/uv', 0o755)
";

/// uv from its wheel on PyPI, downloaded by the engine (cached by its hash, like a step) and
/// unpacked by a step without network: no pip run, which takes seconds. `None` where uv is not
/// to be had that way: pip is the installer, the steps download from elsewhere than PyPI, or
/// PyPI has no wheel of it for the target.
pub fn unpacked_uv(b: &mut Builder, spec: &Spec, fetch: &Fetch) -> Option<StepId> {
    if spec.installer.value == Installer::Pip {
        return None;
    }
    let platform = fetch.from_pypi.as_ref()?;
    let (_, url, sha256) = UV_WHEELS.iter().find(|w| w.0 == platform.architecture)?;
    let filename = url.rsplit('/').next().unwrap_or(url).to_string();
    let wheel = format!("{UV_WHEEL}/{filename}");
    let run = Run {
        args: strings(&["python", "-c", UNPACK_UV, &wheel, UV_PREFIX]),
        env: Vec::new(),
        cwd: "/".into(),
        mounts: vec![
            StepMount::Download {
                dest: UV_WHEEL.into(),
                url: url.to_string(),
                sha256: sha256.to_string(),
                filename,
            },
            produced(UV_PREFIX),
        ],
        network: StepNetwork::None,
        user: None,
    };
    let asked = spec.installer.written().is_some();
    Some(b.compile(
        format!("install uv {UV_VERSION}"),
        Fs::Base(Stage::Compile),
        run,
        spec.installer.written(),
        asked.then_some(Advice::Uv),
    ))
}

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
    /// (uv comes from the index); otherwise uv — the step `unpacked` made ([`unpacked_uv`]),
    /// or one fetching it pushed here.
    pub fn new(b: &mut Builder, spec: &Spec, fetch: &Fetch, unpacked: Option<StepId>) -> Install {
        let tools = tool("install_wheels.py", INSTALL_WHEELS);
        let asked = spec.installer.written().is_some();
        if spec.installer.value == Installer::Pip || (fetch.offline && !asked) {
            return Install {
                installer: Installer::Pip,
                program: "pip".into(),
                mounts: vec![tools],
            };
        }
        if let Some(uv) = unpacked.or_else(|| unpacked_uv(b, spec, fetch)) {
            return Install::uv(uv, tools);
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
        let mut mounts = fetch.mounts_with_find_links();
        mounts.push(produced(UV_PREFIX));
        let mut run = fetch.run(args, "/", mounts);
        run.args.push(format!("uv=={UV_VERSION}"));
        // On the bare compile image: uv does not wait for, or change with, `system:` packages.
        let uv = b.compile(
            format!("install uv {UV_VERSION}"),
            Fs::Base(Stage::Compile),
            run,
            spec.installer.written(),
            asked.then_some(Advice::Uv),
        );
        Install::uv(uv, tools)
    }

    fn uv(step: StepId, tools: StepMount) -> Install {
        let cache = StepMount::Cache {
            dest: INSTALL_CACHE.into(),
            id: "pyslim-install".into(),
            locked: false,
        };
        Install {
            installer: Installer::Uv,
            program: format!("{UV_PREFIX}/bin/uv"),
            mounts: vec![tools, layout::uv(step), cache],
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
        // pip compiles as it installs; uv leaves it to the script, which keeps what uv unpacked
        // and what it compiled.
        if self.installer == Installer::Uv {
            args.extend(strings(&["--cache", INSTALL_CACHE]));
        }
        args.extend(strings(rest));
        args
    }
}
