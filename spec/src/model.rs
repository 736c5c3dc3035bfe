//! The validated spec: what a pyslim.yaml means, in small types that cannot hold a bad value.
//! Every value keeps its span so later steps (the context check, a failing build step) can
//! still point at the line that asked for it.

use std::collections::BTreeMap;
use std::fmt;

use crate::source::{Defaulted, Span, Spanned};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// `python:` as written. Left out, the build takes the version the project names
    /// (`.python-version`, `requires-python`, …): only the frontend can read those files.
    pub python: Option<Spanned<PythonVersion>>,
    /// Requirements files, relative to the build context, in the order given.
    pub requirements: Vec<Spanned<ContextPath>>,
    /// The app: a project built to a wheel, or a directory of code copied as it is.
    pub app: Option<App>,
    /// Build-time apt packages: compile stage only.
    pub system: Vec<Spanned<AptPackage>>,
    /// Run-time apt packages: installed into the slim image.
    pub runtime: Vec<Spanned<AptPackage>>,
    /// `None` keeps the runtime base image's; `Some([])` clears it.
    pub entrypoint: Option<Spanned<Vec<String>>>,
    pub cmd: Option<Spanned<Vec<String>>>,
    pub env: Vec<(Spanned<EnvName>, Spanned<String>)>,
    pub workdir: Option<Spanned<AbsolutePath>>,
    /// Who the container runs as; `app` unless the spec says otherwise.
    pub user: Defaulted<User>,
    /// Directories the app writes, made in the image and owned by `user`, in the order given.
    pub writable: Vec<Writable>,
    /// Commands run in the finished image at build time, in order.
    pub build_commands: Vec<BuildCommand>,
    pub expose: Vec<Spanned<Port>>,
    pub labels: BTreeMap<String, String>,
    pub base: Bases,
    /// Optional dependency groups to install with a `pyproject.toml` in `requirements`.
    pub extras: Vec<Spanned<Extra>>,
    /// Dependency groups to install besides the project's own dependencies.
    pub groups: Vec<Spanned<Group>>,
    /// Where packages come from.
    pub index: Index,
    /// Wheel directories in the build context that pip looks in before any index.
    pub find_links: Vec<Spanned<ContextPath>>,
    /// An SSH agent forwarded to the downloading steps, for git dependencies over SSH.
    pub ssh: Option<Ssh>,
    /// `network: host`: the steps that download use the host's network.
    pub host_network: Option<Span>,
    /// What installs the wheels into the image; uv unless the spec says otherwise.
    pub installer: Defaulted<Installer>,
    /// What the image is built on: the slim Debian runtime unless the spec says otherwise.
    pub flavor: Defaulted<Flavor>,
    /// What a build does with a shared library a compiled file needs and the image lacks.
    pub missing_libraries: Defaulted<MissingLibraries>,
    /// The imports checked in the finished image before it is returned.
    pub smoke_test: SmokeTest,
    /// A command run in the finished image at build time, after the smoke test's imports.
    pub test: Option<Spanned<Vec<String>>>,
    /// The build arguments the spec declares, with the values this build uses.
    pub args: Vec<Arg>,
    /// Every target the spec defines; the spec's fields above are already those of `target`.
    pub targets: Vec<TargetInfo>,
    pub target: Option<String>,
    /// Where a problem with the spec as a whole is shown: its first key.
    pub top: Span,
}

/// The package index: PyPI (or whatever the base image's pip is configured with) by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Index {
    /// `index: none`: no index at all, only `find-links` (offline builds).
    pub offline: bool,
    /// Replaces the default index (`--index-url`).
    pub url: Option<Spanned<IndexUrl>>,
    /// Searched as well (`--extra-index-url`).
    pub extra: Vec<Spanned<IndexUrl>>,
    /// A BuildKit secret holding a netrc file with the index credentials. Only its id is in the
    /// spec; the file is mounted for the steps that download and never reaches a layer.
    pub secret: Option<Spanned<SecretId>>,
}

/// `ssh:` — the client's agent (`docker buildx build --ssh ID`) for `git+ssh://` requirements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ssh {
    pub id: Spanned<SecretId>,
    /// `known_hosts` lines git may connect to. Empty: a host's key is accepted on first use.
    pub known_hosts: Vec<Spanned<String>>,
}

/// A build argument: `args: {NAME: default}`, set with `--build-arg NAME=value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    pub name: Spanned<String>,
    pub default: Option<String>,
    /// What `${NAME}` expands to in this build; `None` when neither a default nor a build
    /// argument gives one.
    pub value: Option<String>,
}

/// A named variant of the image, chosen with `docker buildx build --target NAME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetInfo {
    pub name: Spanned<String>,
    pub description: Option<String>,
}

/// `base:` as written. An image left out is the official one of the python the build uses,
/// which may come from the project rather than the spec: see [`Bases::compile_image`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bases {
    pub compile: Option<Spanned<ImageRef>>,
    pub runtime: Option<Spanned<ImageRef>>,
}

/// A base image of a build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Base {
    pub image: ImageRef,
    /// The `base:` entry that names it; `None` for the official image of the build's python.
    pub written: Option<Span>,
}

impl Bases {
    /// The image that builds the wheels: `base: {compile}`, or `python:X`.
    pub fn compile_image(&self, python: &PythonVersion) -> Base {
        Base::of(self.compile.as_ref(), || python.compile_image())
    }

    /// The image the result is built on: `base: {runtime}`, or `python:X-slim`.
    pub fn runtime_image(&self, python: &PythonVersion) -> Base {
        Base::of(self.runtime.as_ref(), || python.runtime_image())
    }
}

impl Base {
    fn of(written: Option<&Spanned<ImageRef>>, default: impl FnOnce() -> ImageRef) -> Base {
        match written {
            Some(image) => Base {
                image: image.value.clone(),
                written: Some(image.span),
            },
            None => Base {
                image: default(),
                written: None,
            },
        }
    }
}

macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub(crate) String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

text_newtype!(
    /// `MAJOR.MINOR` or `MAJOR.MINOR.PATCH`, as the official image tags spell it.
    PythonVersion
);
text_newtype!(
    /// A path inside the build context: relative, normalised, never leaving the context.
    /// `.` is the context itself.
    ContextPath
);
text_newtype!(
    /// A Debian package name, optionally with `:arch` and `=version`.
    AptPackage
);
text_newtype!(
    /// A POSIX environment variable name.
    EnvName
);
text_newtype!(
    /// An absolute path in the image.
    AbsolutePath
);
text_newtype!(
    /// An image reference as `docker pull` takes it.
    ImageRef
);
text_newtype!(
    /// An http(s) URL of a PEP 503 simple index, with no credentials in it.
    IndexUrl
);
text_newtype!(
    /// The id of a BuildKit secret (`docker buildx build --secret id=ID,src=FILE`).
    SecretId
);
text_newtype!(
    /// A PEP 685 extra name (`[project.optional-dependencies]` key), normalised.
    Extra
);
text_newtype!(
    /// A dependency group's name (PEP 735 `[dependency-groups]`, poetry's groups, pdm's
    /// dev-groups, Pipfile's `develop` as `dev`), normalised as PEP 503 names are.
    Group
);

/// `app:` — where the app is in the build context, and how it is deployed when the spec says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct App {
    pub path: Spanned<ContextPath>,
    /// `as:`; without it, the project itself decides (see [`Deploy`]).
    pub deploy: Option<Spanned<Deploy>>,
}

/// How the app reaches the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deploy {
    /// Built to a wheel and installed like a dependency: what a project with a build system
    /// gets unless it says it is not a package.
    Package,
    /// Copied into the workdir as it is: a directory of code (`main.py`, a Django project),
    /// or a project that says it is not a package.
    Source,
}

impl Deploy {
    pub const ALL: [Deploy; 2] = [Deploy::Package, Deploy::Source];

    pub fn name(self) -> &'static str {
        match self {
            Deploy::Package => "package",
            Deploy::Source => "source",
        }
    }
}

/// What a file named under `requirements:` is. Decided here, from its name, and nowhere else:
/// validation and the frontend's readers both ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DependencyKind {
    /// A pip requirements file, with the files it includes.
    Requirements,
    /// A PEP 621 `pyproject.toml`: its `[project] dependencies` and the chosen extras.
    Pyproject,
    /// A lock file (`uv.lock`, `poetry.lock`, `pdm.lock`, `Pipfile.lock`, `pylock.toml`,
    /// `pylock.NAME.toml`): installed exactly, never read as requirements.
    Lock,
}

impl DependencyKind {
    /// How the file is shown in diagnostics and source maps.
    pub fn source_kind(self) -> crate::source::SourceKind {
        match self {
            DependencyKind::Requirements => crate::source::SourceKind::Requirements,
            DependencyKind::Pyproject => crate::source::SourceKind::Pyproject,
            DependencyKind::Lock => crate::source::SourceKind::LockToml,
        }
    }
}

impl ContextPath {
    pub fn dependency_kind(&self) -> DependencyKind {
        match self.0.rsplit('/').next() {
            Some("pyproject.toml") => DependencyKind::Pyproject,
            Some("uv.lock" | "poetry.lock" | "pdm.lock" | "Pipfile.lock" | "pylock.toml") => {
                DependencyKind::Lock
            }
            Some(name) if name.starts_with("pylock.") && name.ends_with(".toml") => {
                DependencyKind::Lock
            }
            _ => DependencyKind::Requirements,
        }
    }
}

impl Group {
    pub fn normalised(name: &str) -> Group {
        Group(Extra::normalised(name).0)
    }
}

impl Extra {
    /// PEP 685: extras compare lower-cased, with runs of `-`, `_` and `.` as one `-`.
    pub fn normalised(name: &str) -> Extra {
        let mut out = String::with_capacity(name.len());
        for c in name.chars() {
            if "-_.".contains(c) {
                if !out.ends_with('-') {
                    out.push('-');
                }
            } else {
                out.push(c.to_ascii_lowercase());
            }
        }
        Extra(out)
    }
}

impl PythonVersion {
    /// `3.X` or `3.X.Y`: a CPython version the official images have a tag for.
    pub fn parse(text: &str) -> Option<PythonVersion> {
        let parts: Vec<&str> = text.split('.').collect();
        let numeric = parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        (numeric && (2..=3).contains(&parts.len()) && parts[0] == "3")
            .then(|| PythonVersion(text.to_string()))
    }

    /// The `3.X` series a version belongs to: what the stand-in and official tags name.
    pub fn series(&self) -> PythonVersion {
        let mut parts = self.0.splitn(3, '.');
        let (major, minor) = (parts.next().unwrap_or("3"), parts.next().unwrap_or("0"));
        PythonVersion(format!("{major}.{minor}"))
    }

    pub fn compile_image(&self) -> ImageRef {
        ImageRef(format!("python:{}", self.0))
    }

    pub fn runtime_image(&self) -> ImageRef {
        ImageRef(format!("python:{}-slim", self.0))
    }
}

/// The tool that installs the built wheels in the slim stage. Both leave the same files;
/// uv unpacks in parallel and starts in milliseconds, so it is the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Installer {
    #[default]
    Uv,
    Pip,
}

impl Installer {
    pub fn name(self) -> &'static str {
        match self {
            Installer::Uv => "uv",
            Installer::Pip => "pip",
        }
    }
}

/// The runtime an image is built on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Flavor {
    /// `python:X-slim`: Debian with a shell, apt and pip, and what pyslim installs.
    #[default]
    Slim,
    /// Nothing but the interpreter, its standard library, what pyslim installs and the shared
    /// libraries all of those load, with a dpkg record for every Debian package they come from.
    Minimal,
    /// `Minimal` with a busybox shell, for looking inside.
    MinimalDebug,
}

impl Flavor {
    pub const ALL: [Flavor; 3] = [Flavor::Slim, Flavor::Minimal, Flavor::MinimalDebug];

    pub fn name(self) -> &'static str {
        match self {
            Flavor::Slim => "slim",
            Flavor::Minimal => "minimal",
            Flavor::MinimalDebug => "minimal-debug",
        }
    }
}

/// What happens to a shared library that a file pyslim installs needs and the runtime lacks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissingLibraries {
    /// The Debian package that provides it is installed, and the build says so.
    #[default]
    Install,
    /// The build fails: every library must come with the base or `runtime:`.
    Error,
}

impl MissingLibraries {
    pub fn name(self) -> &'static str {
        match self {
            MissingLibraries::Install => "install",
            MissingLibraries::Error => "error",
        }
    }
}

/// `smoke-test:` — every top-level module pyslim installs is imported in the finished image
/// before it is returned, unless turned off or skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmokeTest {
    pub enabled: bool,
    /// Top-level modules not imported: those that need a service at import time.
    pub skip: Vec<Spanned<String>>,
    /// Where the spec wrote `smoke-test:`.
    pub span: Option<Span>,
}

impl Default for SmokeTest {
    fn default() -> SmokeTest {
        SmokeTest {
            enabled: true,
            skip: Vec::new(),
            span: None,
        }
    }
}

/// Not written: the smoke test runs, skipping nothing.
impl From<Option<SmokeTest>> for SmokeTest {
    fn from(written: Option<SmokeTest>) -> SmokeTest {
        written.unwrap_or_default()
    }
}

/// Who the container runs as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum User {
    /// The base image's root, uid 0.
    Root,
    /// A non-root user that pyslim creates in the image, with the ids it is given.
    Created(Account),
}

/// A user pyslim creates: its name, which is also the name of its primary group (unless that
/// group is 0, root's, which exists already), and its ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

impl User {
    pub const DEFAULT: &'static str = "app";
    /// The uid and gid of a user the spec names without ids. Fixed, because useradd would
    /// otherwise take the next free id of whatever base image the build runs on, and the
    /// image's files and config would change with it. Above 10000 because distributions hand
    /// out ids from 1000 to the people of a machine: a container writing to a bind mount then
    /// never does so as a person of the host (the same reason Kubesec and others ask for a
    /// `runAsUser` above 10000).
    pub const DEFAULT_ID: u32 = 10001;
    /// The largest uid or gid a spec may give. Ids from 2^31 read as negative numbers wherever
    /// ids are kept signed; the largest signed value is left out as well, as shadow leaves out
    /// the largest unsigned one, `(uid_t) -1`, which means "no id" to chown.
    pub const MAX_ID: u32 = (1 << 31) - 2;

    pub fn name(&self) -> &str {
        match self {
            User::Root => "root",
            User::Created(account) => &account.name,
        }
    }

    /// The image config's `User`. Numeric for a created user: Kubernetes' `runAsNonRoot` cannot
    /// look a name up in the image, so it refuses to start an image whose user is a name
    /// ("image has non-numeric user (app), cannot verify user is non-root").
    pub fn config(&self) -> String {
        match self {
            User::Root => "root".to_string(),
            User::Created(account) => format!("{}:{}", account.uid, account.gid),
        }
    }

    /// The created user, if it is not root.
    pub fn account(&self) -> Option<&Account> {
        match self {
            User::Root => None,
            User::Created(account) => Some(account),
        }
    }
}

impl Default for User {
    fn default() -> User {
        User::Created(Account {
            name: User::DEFAULT.to_string(),
            uid: User::DEFAULT_ID,
            gid: User::DEFAULT_ID,
        })
    }
}

/// `build-commands:` — a command run in the finished image at build time (collectstatic,
/// compileall, fetching data a library needs), leaving a layer of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildCommand {
    /// Always an argv: no shell reads it.
    pub argv: Spanned<Vec<String>>,
    /// `network: true`: the sandbox's network; without it, none, so the build does not
    /// depend on what a command might fetch.
    pub network: bool,
    /// `user: root`; otherwise the image's user runs it, as the container will.
    pub root: bool,
}

/// `writable:` — a directory the app writes (uploads, an instance folder, a cache), made in the
/// image and owned by its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Writable {
    /// Normalised: no `.`, no empty component, no trailing `/`.
    pub path: Spanned<AbsolutePath>,
    /// Also a `VOLUME` of the image: a volume a container gets there starts as a copy of the
    /// directory, owner included, so the user can write it too.
    pub volume: bool,
}

/// Where no `writable:` directory may be: under a mount point of pyslim's own steps, which
/// would hide it while they run and leave a stub of ours in the image, or where the container
/// runtime mounts its own filesystems. The reason, for the message, when `path` is one.
pub fn reserved_path(path: &str) -> Option<&'static str> {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    Some(match first {
        "wheels" => "pyslim mounts the dependency wheels at `/wheels` while it installs them",
        "tmp" => {
            "pyslim's steps mount scratch space at `/tmp`, and every user may write there already"
        }
        "proc" | "sys" | "dev" => "the container runtime mounts its own filesystem there",
        _ if first == "pyslim" || first.starts_with("pyslim-") => {
            "pyslim mounts its own tools and files at `/pyslim-…` while it builds"
        }
        _ => return None,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Port {
    pub number: u16,
    pub protocol: Protocol,
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let protocol = match self.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        };
        write!(f, "{}/{protocol}", self.number)
    }
}
