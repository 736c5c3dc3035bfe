//! The plan's vocabulary: steps, the filesystems they run on and mount, and the layers they
//! leave. Plain data, compared in tests and lowered to LLB by `lower`.

use pyslim_spec::Span;

use super::advice::Advice;
use crate::options::{NoCache, Options, WheelsContext};
use crate::platform::Platform;

/// A base image as resolved by the engine: what `RUN` steps on it see in their environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseImage {
    pub reference: String,
    pub env: Vec<String>,
}

/// The two images a build starts from, as resolved (the spec's `base:` names them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedBases {
    /// The platform they were resolved for: the target's.
    pub platform: Platform,
    pub compile: BaseImage,
    pub runtime: BaseImage,
    /// For a target that is not the build platform: the compile image on the build platform,
    /// where the target's binary wheels are downloaded without emulation.
    pub native: Option<Native>,
}

/// The compile image on the build platform, and what downloading the target's wheels there
/// found out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Native {
    pub compile: BaseImage,
    pub platform: Platform,
    /// The target's `platform.machine()` (aarch64) and Python (`X.Y`): the wheels to ask for.
    pub machine: String,
    pub python: String,
    /// Whether every dependency had a binary wheel for the target: `None` before the download
    /// has run (the plan then runs it first, [`Plan::native_wheels`]); with `Some(true)` its
    /// output is the dependency wheels and no pip runs under emulation; with `Some(false)` the
    /// target's own step builds them, as without a build platform.
    pub complete: Option<bool>,
}

/// What the build options change about the plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Stages whose steps must not come from the cache (`--no-cache`, or `--no-cache-filter`).
    pub no_cache: Vec<Stage>,
    /// `--build-context wheels=…`: wheels built before, used before anything is built.
    pub wheels_context: Option<WheelsContext>,
    /// `SOURCE_DATE_EPOCH`: the latest file time of the app's layers.
    pub epoch: Option<u64>,
    /// `--sbom=true`: a step that writes the image's SBOM.
    pub sbom: bool,
    /// The build was given a proxy (`--build-arg HTTPS_PROXY` & co.): its steps reach the
    /// network through it, which the engine's own downloads would not.
    pub proxied: bool,
}

impl Settings {
    pub fn of(options: &Options) -> Settings {
        let no_cache = match &options.no_cache {
            NoCache::None => Vec::new(),
            NoCache::All => Stage::ALL.to_vec(),
            NoCache::Stages(names) => Stage::ALL
                .into_iter()
                .filter(|s| names.iter().any(|n| n == s.name()))
                .collect(),
        };
        Settings {
            no_cache,
            wheels_context: options.wheels_context.clone(),
            epoch: options.epoch,
            sbom: options.sbom,
            proxied: !options.proxy.is_empty(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    Compile,
    Slim,
    /// `flavor: minimal`: what is gathered from the slim stage onto nothing.
    Minimal,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Compile, Stage::Slim, Stage::Minimal];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Compile => "compile",
            Stage::Slim => "slim",
            Stage::Minimal => "minimal",
        }
    }
}

/// Index of a step in [`Plan::steps`]; steps only refer to earlier ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StepId(pub usize);

/// A filesystem a step runs on or mounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fs {
    Base(Stage),
    Step(StepId),
    /// Nothing: what an image of just some files starts from.
    Empty,
    /// The compile image on the build platform ([`ResolvedBases::native`]).
    Native,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub stage: Stage,
    /// Shown in the build progress, e.g. `[compile] build dependency wheels`.
    pub name: String,
    pub on: Fs,
    pub action: Action,
    /// The spec line that asked for this step, so a failure can point at it.
    pub origin: Option<Span>,
    /// The image history entry, for steps whose output becomes a layer of the image.
    pub history: Option<String>,
    pub ignore_cache: bool,
    /// What to check when this step fails, shown with BuildKit's error.
    pub advice: Option<Advice>,
    /// If the step is a layer of the image: the latest time (seconds since 1970) a file it
    /// makes or changes may have, so that the layer's bytes do not depend on when it was built.
    /// `None` leaves the times of the build (an app layer built without `SOURCE_DATE_EPOCH`).
    pub times: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Run(Run),
    /// Copy the directory `src` of `from` (its contents) to `dest`.
    Copy {
        from: CopyFrom,
        src: String,
        dest: String,
    },
    /// Create a directory owned by a user of the image (root when `owner` is `None`).
    Mkdir {
        path: String,
        owner: Option<Owner>,
    },
}

/// Who owns what a step makes, by id: no name to look up in the image's passwd file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// Always an argv: user strings are arguments, never part of a shell line.
    pub args: Vec<String>,
    /// Added to the base image's environment.
    pub env: Vec<(String, String)>,
    pub cwd: String,
    pub mounts: Vec<StepMount>,
    pub network: StepNetwork,
    /// `UID:GID` to run as; `None` for root, as the image's other steps run.
    pub user: Option<String>,
}

impl Run {
    /// A command of ours run as root in `/`, with no network: it reads what it is shown and
    /// writes a report or a tree, so nothing it could fetch may change what it says.
    pub fn offline(args: Vec<String>, mounts: Vec<StepMount>) -> Run {
        Run {
            args,
            env: Vec::new(),
            cwd: "/".into(),
            mounts,
            network: StepNetwork::None,
            user: None,
        }
    }
}

/// Where a copy takes its files from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CopyFrom {
    /// An earlier step's output.
    Step(StepId),
    /// The build context, narrowed to `include` (all of it when empty). What comes from the
    /// client is owned by root in the image, whoever owns it on the client.
    Context { include: Vec<String> },
}

/// The network a step runs with (unless `--network` forces one on every step).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StepNetwork {
    /// The build sandbox's.
    #[default]
    Sandbox,
    /// The host's (`network: host`): an index on the host's loopback or VPN.
    Host,
    /// None: a build command that must not depend on what it could fetch.
    None,
}

/// What a step sees at `dest` while it runs, besides the filesystem it runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepMount {
    /// The build context, narrowed to `include` (all of it when empty). Writes are discarded.
    Context {
        dest: String,
        include: Vec<String>,
        writable: bool,
    },
    /// An empty directory the step writes for later steps, as an output of its own: what they
    /// mount of it ([`StepMount::Output`] of this path) is that directory alone — cheap to
    /// mount and to hash, where a directory of the whole compile filesystem is not.
    Produced { dest: String },
    /// A directory of an earlier step's output, read-only: it is seen, never copied into a layer.
    Output {
        dest: String,
        from: StepId,
        path: String,
    },
    /// A whole filesystem (a base image, or a step's output), read-only.
    Root { dest: String, fs: Fs },
    /// An empty in-memory filesystem, gone when the step ends: scratch space (`/tmp`) that
    /// leaves nothing, not even a changed directory time, in the layer.
    Tmpfs { dest: String },
    /// An empty file over the file at `dest`, written to and dropped when the step ends: a log
    /// the step's programs append to stays out of the layer, and the directory that holds it
    /// stays the step's own.
    Sink { dest: String },
    /// The `wheels` build context, read-only.
    WheelsContext { dest: String, wheels: WheelsContext },
    /// The client's SSH agent socket, present only while the step runs.
    Ssh { dest: String, id: String },
    /// A BuildKit secret as a file, present only while the step runs.
    Secret { dest: String, id: String },
    /// Files the frontend writes, as a read-only directory.
    Files {
        dest: String,
        files: Vec<(String, String)>,
    },
    /// A file downloaded by the engine, checked against its SHA-256, in a read-only directory
    /// of its own: content-addressed, so fetched once and cached like any step.
    Download {
        dest: String,
        url: String,
        sha256: String,
        filename: String,
    },
    /// A persistent cache shared between builds (package downloads, apt lists). `locked` for
    /// tools that cannot share it with a concurrent build (apt).
    Cache {
        dest: String,
        id: String,
        locked: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub bases: ResolvedBases,
    /// The image's working directory: the spec's, or where a source app is copied.
    pub workdir: Option<String>,
    pub steps: Vec<Step>,
    pub result: Fs,
    /// The image starts from nothing (`flavor: minimal`): none of the base image's layers, nor
    /// its history, are the image's.
    pub from_scratch: bool,
    /// The steps that read every compiled file of the dependencies' wheels, and of the app's,
    /// for the shared libraries they need; each reports at
    /// [`SCAN_REPORT`](super::layout::SCAN_REPORT) of its output.
    pub scans: Scans,
    /// The smoke test, in two parts: the dependencies' modules (on the image as it is before
    /// the app, so an app-code edit finds them tested), then the app's and `test:`. Their
    /// outputs are thrown away.
    pub smoke: Vec<StepId>,
    /// The download of the target's binary wheels on the build platform, while it is not known
    /// whether they are all there: its report is at [`NATIVE_REPORT`](super::layout::NATIVE_REPORT).
    pub native_wheels: Option<StepId>,
    /// The step that writes the image's SBOM at [`SBOM`](super::layout::SBOM) of its output.
    pub sbom: Option<StepId>,
}

/// The scans of a plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scans {
    pub dependencies: Option<StepId>,
    /// On the filesystem with the dependencies installed: planned for real once their scan
    /// has run.
    pub app: Option<StepId>,
}

/// What the scans of the built files found the runtime stage lacks: the Debian packages that
/// provide the shared libraries the dependencies' files need, then the app's. Each is `None`
/// until its scan has run (an empty list when nothing is missing); the plan installs what is
/// known, and the frontend plans again once it knows more.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Closure {
    pub dependencies: Option<Vec<String>>,
    pub app: Option<Vec<String>>,
}

impl Plan {
    pub fn step(&self, id: StepId) -> &Step {
        &self.steps[id.0]
    }

    /// The history entries of the layers this plan adds, in order.
    pub fn layers(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().filter_map(|s| s.history.as_deref())
    }

    /// The step BuildKit reported by its progress name, for the advice on a failure.
    pub fn step_named(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }
}
