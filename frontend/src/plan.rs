//! Spec → Plan: which steps run on which filesystem, what each one mounts, and which of them
//! leave a layer in the image. Pure data and no I/O: the plan knows nothing of protobufs.
//!
//! The graph is small and fixed in shape:
//!
//! ```text
//! compile base ─┬─ [apt: system] ─┬─ [wheels: requirements] ──────────────┐ (ro bind /wheels)
//!               │                 └─ [wheel: app] ───────────────────────┐│ (ro bind /pyslim-app)
//!               └─ [uv] ────────────────────────────────────────────────┐││ (ro bind /pyslim-uv)
//! runtime base ─ [apt: runtime] ─ [user] ─ [workdir] ─ [install deps] ─ [install app] = image
//! ```
//! The dependency wheels see only the requirements files, so editing the app rebuilds nothing
//! but the app's wheel and its one layer.

use pyslim_spec::{Installer, Span, Spec, User, WHEELS_TARGET};

/// A base image as resolved by the engine: what `RUN` steps on it see in their environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseImage {
    pub reference: String,
    pub env: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bases {
    pub compile: BaseImage,
    pub runtime: BaseImage,
}

/// What the build options change about the plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Stages whose steps must not come from the cache (`--no-cache`, or `--no-cache-filter`).
    pub no_cache: Vec<Stage>,
    /// A `wheels` build context is given: its wheels are used before anything is built.
    pub wheelhouse: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    Compile,
    Slim,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Compile => "compile",
            Stage::Slim => "slim",
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
    pub advice: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Run(Run),
    /// Copy `path` of an earlier step's output to the same path.
    Copy {
        from: StepId,
        path: String,
    },
    /// Create a directory owned by a user of the image.
    Mkdir {
        path: String,
        owner: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// Always an argv: user strings are arguments, never part of a shell line.
    pub args: Vec<String>,
    /// Added to the base image's environment.
    pub env: Vec<(String, String)>,
    pub cwd: String,
    pub mounts: Vec<Mount>,
    /// Download through the host's network (`network: host`) instead of the build sandbox's.
    pub host_network: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mount {
    /// The build context, narrowed to `include` (all of it when empty). Writes are discarded.
    Context {
        dest: String,
        include: Vec<String>,
        writable: bool,
    },
    /// A directory of an earlier step's output, read-only: it is seen, never copied into a layer.
    Output {
        dest: String,
        from: StepId,
        path: String,
    },
    /// An empty in-memory filesystem, gone when the step ends: scratch space (`/tmp`) that
    /// leaves nothing, not even a changed directory time, in the layer.
    Tmpfs { dest: String },
    /// The `wheels` build context, read-only.
    Wheelhouse { dest: String },
    /// The client's SSH agent socket, present only while the step runs.
    Ssh { dest: String, id: String },
    /// A BuildKit secret as a file, present only while the step runs.
    Secret { dest: String, id: String },
    /// Files the frontend writes, as a read-only directory.
    Files {
        dest: String,
        files: Vec<(String, String)>,
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
    pub bases: Bases,
    pub steps: Vec<Step>,
    pub result: Fs,
}

impl Plan {
    pub fn step(&self, id: StepId) -> &Step {
        &self.steps[id.0]
    }

    /// The history entries of the layers this plan adds, in order.
    pub fn layers(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().filter_map(|s| s.history.as_deref())
    }
}

// Mount points in the slim stage sit directly under `/`: BuildKit removes the stub directory
// it creates for a mount, but not the parents it had to create on the way.
const CONTEXT: &str = "/pyslim-context";
const WHEELS: &str = "/wheels";
const APP_WHEEL: &str = "/pyslim-app";
const PIP_CACHE: &str = "/var/cache/pyslim/pip";
/// Every wheel downloaded before, kept by file name (see `fetch_wheels.py`).
const WHEEL_CACHE: &str = "/var/cache/pyslim/wheels";
/// Scripts of ours the compile stage runs.
const TOOLS: &str = "/pyslim-tools";
const FETCH_WHEELS: &str = include_str!("../python/fetch_wheels.py");
const INSTALL_WHEELS: &str = include_str!("../python/install_wheels.py");
/// uv, pinned: an installer that changed on its own would change images without a spec change.
const UV_VERSION: &str = "0.13.9";
/// Where the compile stage installs uv; the slim stage runs it from a read-only mount.
const UV_PREFIX: &str = "/pyslim-uv";
/// The forwarded SSH agent and the known_hosts pyslim writes (compile stage only).
const SSH_AGENT: &str = "/run/buildkit/ssh_agent.0";
const SSH_CONFIG: &str = "/pyslim-ssh";
/// Where the `wheels` build context is seen (compile stage only).
const WHEELHOUSE: &str = "/pyslim-wheelhouse";
/// Requirements files the frontend writes (compile stage only).
const GENERATED: &str = "/pyslim-requirements";

/// `apt-get` needs two commands; the package names reach it as positional arguments, never
/// pasted into this line.
const APT_INSTALL: &str = "set -e; export DEBIAN_FRONTEND=noninteractive; \
     apt-get -c /pyslim-apt/keep-downloads.conf update -q; \
     apt-get -c /pyslim-apt/keep-downloads.conf install -y -q --no-install-recommends \"$@\"; \
     rm -f /var/lib/dpkg/status-old";
/// Debian's official images delete every downloaded archive after each apt run
/// (`/etc/apt/apt.conf.d/docker-clean`), which would leave the archives cache mount empty. A
/// file given with `-c` is read after that one, so clearing its hooks here undoes it for our
/// runs only; the image's own configuration is untouched.
const APT_KEEP_DOWNLOADS: &str = "#clear DPkg::Post-Invoke;\n#clear APT::Update::Post-Invoke;\n";

/// The app's build backend is installed here, in the compile stage.
const BUILD_BACKEND: &str = "/pyslim-build";

const APT_ADVICE: &str = "apt-get could not install one of these packages. Check each name \
     for the base image's Debian release (`apt-cache policy NAME` in a container of the base \
     image): `system:` packages are for building, `runtime:` packages go into the image.";
const DEPENDENCY_ADVICE: &str = "a dependency did not build. If the log above shows a missing \
     header or tool (`fatal error: ldap.h: No such file or directory`, `pg_config executable not \
     found`), add the -dev package that provides it to `system:` and its library to `runtime:`: \
     libldap2-dev + libsasl2-dev (python-ldap), libpq-dev (psycopg2), libffi-dev (cffi), \
     libssl-dev (cryptography), libxml2-dev + libxslt1-dev (lxml), libjpeg-dev + zlib1g-dev \
     (Pillow). If a version was not found, check the pin and `index:`.";
const APP_ADVICE: &str = "your project did not build to a wheel. Check that `app:` points at \
     its directory and that `pip wheel --no-deps .` works there; its build requirements come \
     from `index:`.";
/// The default installer must not fail a build that pip would finish (a private index without
/// uv): unless the spec asked for uv, a failed download leaves the install to pip, and an
/// empty directory where uv would be. The arguments: that directory, then the command.
const UV_OR_PIP: &str = "dir=$1; shift; \"$@\" || { echo 'pyslim: uv could not be installed \
     from the index: the wheels will be installed with pip' >&2; mkdir -p \"$dir\"; }";
const UV_ADVICE: &str = "uv could not be installed from the index. Check `index:`, or \
     set `installer: pip`, which needs nothing from the index.";
const INSTALL_ADVICE: &str = "a built wheel did not install into the runtime image. The two \
     bases must have the same Python and a compatible C library: keep `base:` pairs matched \
     (python:X and python:X-slim).";

/// What the dependency step reads, as found in the build context (see `requirements`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dependencies {
    /// Every context path the step must see: the requirements files, the files they include,
    /// the local projects and wheel directories they name.
    pub context: Vec<String>,
    /// The files pip reads, in the spec's order.
    pub inputs: Vec<Input>,
    /// What building the app needs (its `[build-system] requires`): installed once in a step of
    /// its own, so an app-code change rebuilds the app's wheel without setting them up again.
    pub app_build_requires: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A requirements file in the context.
    File(String),
    /// A requirements file made by the frontend, e.g. from a pyproject.toml's dependencies.
    Generated { name: String, text: String },
}

impl Dependencies {
    /// The spec's requirements files as they are, with nothing found inside them.
    pub fn of(spec: &Spec) -> Dependencies {
        let files: Vec<String> = spec.requirements.iter().map(|r| r.to_string()).collect();
        Dependencies {
            context: files.clone(),
            inputs: files.into_iter().map(Input::File).collect(),
            app_build_requires: vec!["setuptools>=61".into()],
        }
    }
}

pub fn plan(spec: &Spec, dependencies: &Dependencies, bases: Bases, settings: &Settings) -> Plan {
    let mut b = Builder {
        steps: Vec::new(),
        settings,
    };

    // Compile stage.
    let mut compile = Fs::Base(Stage::Compile);
    if !spec.system.is_empty() {
        let packages: Vec<String> = spec.system.iter().map(|p| p.to_string()).collect();
        compile = b.apt(Stage::Compile, compile, &packages, spec.system[0].span);
    }
    let fetch = Fetch::of(spec, settings);
    let deps = (!dependencies.inputs.is_empty()).then(|| {
        let mut args = strings(&[
            "python",
            &format!("{TOOLS}/fetch_wheels.py"),
            WHEEL_CACHE,
            WHEELS,
        ]);
        args.extend(fetch.args.iter().cloned());
        let mut generated = Vec::new();
        for input in &dependencies.inputs {
            let path = match input {
                Input::File(file) => format!("{CONTEXT}/{file}"),
                Input::Generated { name, text } => {
                    generated.push((name.clone(), text.clone()));
                    format!("{GENERATED}/{name}")
                }
            };
            args.extend(["--requirement".to_string(), path]);
        }
        let mut see = dependencies.context.clone();
        see.extend(fetch.context.iter().cloned());
        let mut mounts = fetch.mounts.clone();
        mounts.push(tool("fetch_wheels.py", FETCH_WHEELS));
        mounts.push(fetch.wheel_cache.clone());
        // Without files to see (a pyproject's list is generated), the step sees no context at
        // all: an empty include list would mean all of it.
        if !see.is_empty() {
            mounts.push(context(&see, false));
        }
        if !generated.is_empty() {
            mounts.push(Mount::Files {
                dest: GENERATED.into(),
                files: generated,
            });
        }
        let names: Vec<String> = spec.requirements.iter().map(|r| r.to_string()).collect();
        b.compile(
            format!("build dependency wheels: {}", names.join(" ")),
            compile,
            Run {
                args,
                env: fetch.env.clone(),
                cwd: if see.is_empty() { "/" } else { CONTEXT }.into(),
                mounts,
                host_network: fetch.host_network,
            },
            spec.requirements.first().map(|r| r.span),
            Some(DEPENDENCY_ADVICE),
        )
    });
    let app = spec.app.as_ref().map(|app| {
        // The build backend in a directory of its own on PYTHONPATH, installed by a step that
        // depends only on the build requirements; offline, the compile image's own setuptools
        // builds the app. (A virtualenv would cost a second or two: seeding pip into it, or
        // pip re-executing itself there.)
        let mut env = fetch.env.clone();
        let builder = if spec.index.offline {
            compile
        } else {
            let mut args = strings(&["python", "-m", "pip", "install", "--target", BUILD_BACKEND]);
            args.extend(fetch.args.iter().cloned());
            args.extend(dependencies.app_build_requires.iter().cloned());
            let backend = b.compile(
                format!(
                    "install app build backend: {}",
                    dependencies.app_build_requires.join(" ")
                ),
                compile,
                Run {
                    args,
                    env: fetch.env.clone(),
                    cwd: "/".into(),
                    mounts: fetch.mounts.clone(),
                    host_network: fetch.host_network,
                },
                Some(app.span),
                Some(APP_ADVICE),
            );
            env.push(("PYTHONPATH".into(), BUILD_BACKEND.into()));
            Fs::Step(backend)
        };
        let mut args = strings(&[
            "python",
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            APP_WHEEL,
        ]);
        args.extend(fetch.args.iter().cloned());
        args.push(project_dir(app.as_str()));
        let mut see = include_app(app.as_str());
        if !see.is_empty() {
            see.extend(fetch.context.iter().cloned());
        }
        let mut mounts = fetch.mounts.clone();
        // Building in-tree writes build/ and *.egg-info into the project; let it, then discard.
        mounts.push(context(&see, true));
        b.compile(
            format!("build app wheel: {app}"),
            builder,
            Run {
                args,
                env,
                cwd: CONTEXT.into(),
                mounts,
                host_network: fetch.host_network,
            },
            Some(app.span),
            Some(APP_ADVICE),
        )
    });

    // `--target wheels`: an image of just the dependency wheels, for other builds to reuse.
    if spec.target.as_deref() == Some(WHEELS_TARGET)
        && let Some(deps) = deps
    {
        let wheels = b.push(Step {
            stage: Stage::Compile,
            name: "collect dependency wheels".into(),
            on: Fs::Empty,
            action: Action::Copy {
                from: deps,
                path: WHEELS.into(),
            },
            origin: spec.requirements.first().map(|r| r.span),
            history: Some(format!("pyslim: dependency wheels in {WHEELS}")),
            ignore_cache: false,
            advice: None,
        });
        return Plan {
            bases,
            steps: b.steps,
            result: Fs::Step(wheels),
        };
    }

    // Slim stage.
    let mut slim = Fs::Base(Stage::Slim);
    if !spec.runtime.is_empty() {
        let packages: Vec<String> = spec.runtime.iter().map(|p| p.to_string()).collect();
        slim = b.apt(Stage::Slim, slim, &packages, spec.runtime[0].span);
    }
    if let User::Named(name) = &spec.user.value {
        slim = b.run(
            Stage::Slim,
            slim,
            format!("create user {name}"),
            // --no-log-init: a large uid would otherwise make /var/log/lastlog a huge sparse file.
            strings(&[
                "useradd",
                "--create-home",
                "--user-group",
                "--no-log-init",
                "--shell",
                "/bin/sh",
                name,
            ]),
            Vec::new(),
            Some(spec.user.span).filter(|span| span.line > 0),
        );
    }
    if let Some(workdir) = &spec.workdir {
        let owner = match &spec.user.value {
            User::Named(name) => Some(name.clone()),
            User::Root => None,
        };
        slim = Fs::Step(b.push(Step {
            stage: Stage::Slim,
            name: format!("create workdir {workdir}"),
            on: slim,
            action: Action::Mkdir {
                path: workdir.to_string(),
                owner,
            },
            origin: Some(workdir.span),
            history: Some(format!("WORKDIR {workdir}")),
            ignore_cache: false,
            advice: None,
        }));
    }
    // Installing exactly the wheels the compile stage built (rather than re-reading the
    // requirements) keeps hashes, markers and extras a matter of the compile stage alone.
    let installer = Install::new(&mut b, spec, &fetch);
    if let Some(deps) = deps {
        let mut mounts = installer.mounts.clone();
        mounts.push(wheels(deps));
        slim = b.run(
            Stage::Slim,
            slim,
            format!("install dependencies with {}", installer.installer.name()),
            installer.args(&["--no-deps", WHEELS]),
            mounts,
            spec.requirements.first().map(|r| r.span),
        );
        slim = b.advise(slim, INSTALL_ADVICE);
    }
    if let Some(app) = app {
        let mut mounts = installer.mounts.clone();
        mounts.push(Mount::Output {
            dest: APP_WHEEL.into(),
            from: app,
            path: APP_WHEEL.into(),
        });
        mounts.extend(deps.map(wheels));
        let from: &[&str] = if deps.is_some() {
            &[APP_WHEEL, WHEELS]
        } else {
            &[APP_WHEEL]
        };
        slim = b.run(
            Stage::Slim,
            slim,
            format!("install app with {}", installer.installer.name()),
            installer.args(from),
            mounts,
            spec.app.as_ref().map(|a| a.span),
        );
        slim = b.advise(slim, INSTALL_ADVICE);
    }

    Plan {
        bases,
        steps: b.steps,
        result: slim,
    }
}

/// What installs the wheels in the slim stage: pip, or uv from a compile-stage step of its own.
struct Install {
    installer: Installer,
    /// `pip`, or the path of uv's binary.
    program: String,
    mounts: Vec<Mount>,
}

impl Install {
    fn new(b: &mut Builder, spec: &Spec, fetch: &Fetch) -> Install {
        let tools = tool("install_wheels.py", INSTALL_WHEELS);
        // Written in the spec, not defaulted.
        let asked = spec.installer.span.line > 0;
        // uv comes from the index: an offline spec that did not ask for it installs with pip.
        if spec.installer.value == Installer::Pip || (spec.index.offline && !asked) {
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
        args.extend(fetch.args.iter().cloned());
        args.push(format!("uv=={UV_VERSION}"));
        let mut mounts = fetch.mounts.clone();
        if !fetch.context.is_empty() {
            mounts.push(context(&fetch.context, false));
        }
        // On the bare compile image: uv does not wait for, or change with, `system:` packages.
        let uv = b.compile(
            format!("install uv {UV_VERSION}"),
            Fs::Base(Stage::Compile),
            Run {
                args,
                env: fetch.env.clone(),
                cwd: "/".into(),
                mounts,
                host_network: fetch.host_network,
            },
            asked.then_some(spec.installer.span),
            asked.then_some(UV_ADVICE),
        );
        Install {
            installer: Installer::Uv,
            program: format!("{UV_PREFIX}/bin/uv"),
            mounts: vec![
                tools,
                Mount::Output {
                    dest: UV_PREFIX.into(),
                    from: uv,
                    path: UV_PREFIX.into(),
                },
            ],
        }
    }

    fn args(&self, rest: &[&str]) -> Vec<String> {
        let mut args = vec![
            "python".to_string(),
            format!("{TOOLS}/install_wheels.py"),
            self.program.clone(),
        ];
        args.extend(strings(rest));
        args
    }
}

/// How the compile stage's pip reaches packages: which index, which wheel directories, with
/// which credentials, over which network.
struct Fetch {
    args: Vec<String>,
    env: Vec<(String, String)>,
    mounts: Vec<Mount>,
    /// Context directories the downloading steps must see (`find-links`).
    context: Vec<String>,
    host_network: bool,
    /// Where downloaded wheels are kept by file name (see `fetch_wheels.py`).
    wheel_cache: Mount,
}

impl Fetch {
    fn of(spec: &Spec, settings: &Settings) -> Fetch {
        let index = &spec.index;
        // One wheel cache per set of indexes: two may serve different files under one name (a
        // mirror that rebuilds wheels), and one must not stand in for the other.
        let indexes = if index.offline {
            "none".to_string()
        } else {
            let mut urls = vec![index.url.as_ref().map_or("pypi", |u| u.as_str())];
            urls.extend(index.extra.iter().map(|u| u.as_str()));
            urls.join(" ")
        };
        let mut args = Vec::new();
        if index.offline {
            args.push("--no-index".to_string());
        }
        if let Some(url) = &index.url {
            args.extend(["--index-url".to_string(), url.to_string()]);
        }
        for url in &index.extra {
            args.extend(["--extra-index-url".to_string(), url.to_string()]);
        }
        for dir in &spec.find_links {
            args.extend(["--find-links".to_string(), format!("{CONTEXT}/{dir}")]);
        }
        // The compile stage is a throwaway root filesystem: pip's warning about root is noise.
        // A variable, unlike the flag, older pips ignore.
        let mut env = vec![
            ("PIP_CACHE_DIR".to_string(), PIP_CACHE.to_string()),
            ("PIP_ROOT_USER_ACTION".to_string(), "ignore".to_string()),
        ];
        let mut mounts = vec![pip_cache()];
        if settings.wheelhouse {
            // Wheels built before (article 004's inherited wheels): pip takes a wheel over
            // building the same version from source.
            args.extend(["--find-links".to_string(), WHEELHOUSE.to_string()]);
            mounts.push(Mount::Wheelhouse {
                dest: WHEELHOUSE.into(),
            });
        }
        if let Some(ssh) = &spec.ssh {
            env.push(("SSH_AUTH_SOCK".into(), SSH_AGENT.into()));
            mounts.push(Mount::Ssh {
                dest: SSH_AGENT.into(),
                id: ssh.id.to_string(),
            });
            // git runs ssh through this variable; the host keys are a file we write, never
            // part of the command.
            let command = if ssh.known_hosts.is_empty() {
                "ssh -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=/dev/null"
                    .to_string()
            } else {
                let mut lines: Vec<String> =
                    ssh.known_hosts.iter().map(|l| l.to_string()).collect();
                lines.push(String::new());
                mounts.push(Mount::Files {
                    dest: SSH_CONFIG.into(),
                    files: vec![("known_hosts".into(), lines.join("\n"))],
                });
                format!(
                    "ssh -o StrictHostKeyChecking=yes -o UserKnownHostsFile={SSH_CONFIG}/known_hosts"
                )
            };
            env.push(("GIT_SSH_COMMAND".into(), command));
        }
        if let Some(id) = &index.secret {
            // pip (through requests) reads credentials from the netrc file $NETRC names: the
            // environment holds a path, the secret stays in the secret mount.
            let dest = format!("/run/secrets/{id}");
            env.push(("NETRC".into(), dest.clone()));
            mounts.push(Mount::Secret {
                dest,
                id: id.to_string(),
            });
        }
        Fetch {
            args,
            env,
            mounts,
            context: spec.find_links.iter().map(|d| d.to_string()).collect(),
            host_network: spec.host_network.is_some(),
            wheel_cache: Mount::Cache {
                dest: WHEEL_CACHE.into(),
                id: format!("pyslim-wheels-{:016x}", fnv1a(indexes.as_bytes())),
                // pip writes into its wheel directory without atomic renames.
                locked: true,
            },
        }
    }
}

/// A hash that stays the same across Rust versions and machines, unlike `DefaultHasher`'s.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

struct Builder<'a> {
    steps: Vec<Step>,
    settings: &'a Settings,
}

impl Builder<'_> {
    fn push(&mut self, mut step: Step) -> StepId {
        step.ignore_cache = self.settings.no_cache.contains(&step.stage);
        step.name = format!("[{}] {}", step.stage.name(), step.name);
        self.steps.push(step);
        StepId(self.steps.len() - 1)
    }

    /// A command whose output is the next layer of its stage.
    fn run(
        &mut self,
        stage: Stage,
        on: Fs,
        name: String,
        args: Vec<String>,
        mounts: Vec<Mount>,
        origin: Option<Span>,
    ) -> Fs {
        let history = (stage == Stage::Slim).then(|| format!("pyslim: {name}"));
        let mut mounts = mounts;
        if stage == Stage::Slim {
            mounts.push(Mount::Tmpfs {
                dest: "/tmp".into(),
            });
        }
        Fs::Step(self.push(Step {
            stage,
            name,
            on,
            action: Action::Run(Run {
                args,
                env: Vec::new(),
                cwd: "/".into(),
                mounts,
                host_network: false,
            }),
            origin,
            history,
            ignore_cache: false,
            advice: None,
        }))
    }

    /// A compile-stage command: what it makes is mounted into later steps, never a layer.
    fn compile(
        &mut self,
        name: String,
        on: Fs,
        run: Run,
        origin: Option<Span>,
        advice: Option<&'static str>,
    ) -> StepId {
        self.push(Step {
            stage: Stage::Compile,
            name,
            on,
            action: Action::Run(run),
            origin,
            history: None,
            ignore_cache: false,
            advice,
        })
    }

    /// Attaches advice to the step that made `fs`.
    fn advise(&mut self, fs: Fs, advice: &'static str) -> Fs {
        if let Fs::Step(id) = fs {
            self.steps[id.0].advice = Some(advice);
        }
        fs
    }

    /// apt-get install with its lists and downloads on cache mounts, so neither lands in a layer.
    fn apt(&mut self, stage: Stage, on: Fs, packages: &[String], origin: Span) -> Fs {
        let mut args = strings(&["sh", "-c", APT_INSTALL, "apt-install"]);
        args.extend(packages.iter().cloned());
        let cache = |dest: &str, what: &str| Mount::Cache {
            dest: dest.into(),
            id: format!("pyslim-apt-{what}-{}", stage.name()),
            locked: true,
        };
        let mut mounts = vec![
            cache("/var/cache/apt", "archives"),
            cache("/var/lib/apt/lists", "lists"),
            Mount::Files {
                dest: "/pyslim-apt".into(),
                files: vec![("keep-downloads.conf".into(), APT_KEEP_DOWNLOADS.into())],
            },
        ];
        if stage == Stage::Slim {
            // apt's and dpkg's bookkeeping (logs, debconf's database, ldconfig's cache) is
            // written to memory and dropped; dpkg's status database, which scanners read, stays.
            for dest in ["/var/log", "/var/cache/debconf", "/var/cache/ldconfig"] {
                mounts.push(Mount::Tmpfs { dest: dest.into() });
            }
        }
        let fs = self.run(
            stage,
            on,
            format!("apt-get install {}", packages.join(" ")),
            args,
            mounts,
            Some(origin),
        );
        self.advise(fs, APT_ADVICE)
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// One of our scripts, as a read-only file under `TOOLS` for the step that runs it.
fn tool(name: &str, text: &str) -> Mount {
    Mount::Files {
        dest: TOOLS.into(),
        files: vec![(name.into(), text.into())],
    }
}

fn context(include: &[String], writable: bool) -> Mount {
    Mount::Context {
        dest: CONTEXT.into(),
        include: include.to_vec(),
        writable,
    }
}

/// pip writes its cache with atomic renames, so concurrent builds may share it.
fn pip_cache() -> Mount {
    Mount::Cache {
        dest: PIP_CACHE.into(),
        id: "pyslim-pip".into(),
        locked: false,
    }
}

fn wheels(from: StepId) -> Mount {
    Mount::Output {
        dest: WHEELS.into(),
        from,
        path: WHEELS.into(),
    }
}

fn project_dir(app: &str) -> String {
    if app == "." {
        CONTEXT.to_string()
    } else {
        format!("{CONTEXT}/{app}")
    }
}

/// The whole context for `app: .`; otherwise only the project's directory.
fn include_app(app: &str) -> Vec<String> {
    if app == "." {
        Vec::new()
    } else {
        vec![app.to_string()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyslim_spec::{SourceFile, load};

    fn bases() -> Bases {
        let base = |r: &str| BaseImage {
            reference: r.into(),
            env: vec!["PATH=/usr/bin".into()],
        };
        Bases {
            compile: base("python:3.11"),
            runtime: base("python:3.11-slim"),
        }
    }

    fn plan_of(yaml: &str, settings: &Settings) -> Plan {
        let spec = load(SourceFile::new("pyslim.yaml", yaml)).expect("valid spec");
        plan(&spec, &Dependencies::of(&spec), bases(), settings)
    }

    fn named<'p>(plan: &'p Plan, name: &str) -> &'p Step {
        plan.steps
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no step {name} in {:#?}", plan.steps))
    }

    fn run(step: &Step) -> &Run {
        match &step.action {
            Action::Run(run) => run,
            other => panic!("{} is not a run: {other:?}", step.name),
        }
    }

    const FULL: &str = "python: '3.11'\nrequirements: [requirements.txt, dev.txt]\napp: src/app\nsystem: [libpq-dev]\nruntime: [libpq5]\nworkdir: /srv\n";

    #[test]
    fn dependencies_see_only_the_requirements_files() {
        let plan = plan_of(FULL, &Settings::default());
        let wheels = named(
            &plan,
            "[compile] build dependency wheels: requirements.txt dev.txt",
        );
        assert!(run(wheels).mounts.contains(&Mount::Context {
            dest: CONTEXT.into(),
            include: vec!["requirements.txt".into(), "dev.txt".into()],
            writable: false,
        }));
        let app = named(&plan, "[compile] build app wheel: src/app");
        assert!(run(app).mounts.contains(&Mount::Context {
            dest: CONTEXT.into(),
            include: vec!["src/app".into()],
            writable: true,
        }));
        // The app's wheel does not wait for, or depend on, the dependency wheels: it builds on
        // the build backend's steps, which start where the dependency wheels start.
        let mut on = app.on;
        while on != wheels.on {
            let Fs::Step(id) = on else {
                panic!("the app's steps do not start where the dependency wheels start")
            };
            let step = plan.step(id);
            assert!(!step.name.contains("dependency wheels"), "{}", step.name);
            on = step.on;
        }
        let backend = named(&plan, "[compile] install app build backend: setuptools>=61");
        assert_eq!(
            app.on,
            Fs::Step(StepId(
                plan.steps
                    .iter()
                    .position(|s| s == backend)
                    .expect("backend")
            ))
        );
        assert!(run(app).args.contains(&"--no-build-isolation".to_string()));
    }

    #[test]
    fn slim_stage_installs_through_read_only_mounts_of_the_compile_stage() {
        let plan = plan_of(FULL, &Settings::default());
        let deps = plan
            .steps
            .iter()
            .position(|s| s.name == "[compile] build dependency wheels: requirements.txt dev.txt")
            .map(StepId)
            .expect("deps step");
        let install = named(&plan, "[slim] install dependencies with uv");
        assert!(run(install).mounts.contains(&Mount::Output {
            dest: WHEELS.into(),
            from: deps,
            path: WHEELS.into(),
        }));
        assert_eq!(
            run(install).args,
            [
                "python",
                "/pyslim-tools/install_wheels.py",
                "/pyslim-uv/bin/uv",
                "--no-deps",
                "/wheels"
            ]
        );
        // uv is made in the compile stage and only seen, read-only, by the slim stage.
        let uv = plan
            .steps
            .iter()
            .position(|s| s.name == "[compile] install uv 0.13.9")
            .map(StepId)
            .expect("uv step");
        assert_eq!(plan.step(uv).on, Fs::Base(Stage::Compile));
        for name in [
            "[slim] install dependencies with uv",
            "[slim] install app with uv",
        ] {
            assert!(run(named(&plan, name)).mounts.contains(&Mount::Output {
                dest: UV_PREFIX.into(),
                from: uv,
                path: UV_PREFIX.into(),
            }));
        }
        let app = run(named(&plan, "[slim] install app with uv"));
        assert_eq!(app.args[3..], ["/pyslim-app", "/wheels"]);
        // Every slim step is a layer with a history entry; compile steps are not.
        for step in &plan.steps {
            assert_eq!(
                step.history.is_some(),
                step.stage == Stage::Slim,
                "{}",
                step.name
            );
        }
        assert_eq!(plan.layers().count(), 5, "apt, user, workdir, deps, app");
        assert_eq!(plan.result, Fs::Step(StepId(plan.steps.len() - 1)));
    }

    #[test]
    fn hostile_strings_stay_single_arguments() {
        // Paths may hold any character a file name can; they must reach pip as one argument
        // each, and no shell line may be built from them.
        let hostile = "r e$(touch /pwned)`id`;'\"x\".txt";
        let yaml = format!(
            "python: '3.11'\nrequirements: [{hostile:?}]\napp: \"a b;$(id)\"\nruntime: [libpq5, libssl3]\n"
        );
        let plan = plan_of(&yaml, &Settings::default());
        let wheels = run(&plan.steps[0]);
        assert!(
            wheels.args.contains(&format!("{CONTEXT}/{hostile}")),
            "{:?}",
            wheels.args
        );
        let app = run(named(&plan, "[compile] build app wheel: a b;$(id)"));
        assert_eq!(app.args.last(), Some(&format!("{CONTEXT}/a b;$(id)")));
        let apt = named(&plan, "[slim] apt-get install libpq5 libssl3");
        assert_eq!(run(apt).args[..4], ["sh", "-c", APT_INSTALL, "apt-install"]);
        assert_eq!(run(apt).args[4..], ["libpq5", "libssl3"]);
        for step in &plan.steps {
            if let Action::Run(run) = &step.action
                && run.args.first().is_some_and(|a| a == "sh")
            {
                assert!([APT_INSTALL, UV_OR_PIP].contains(&run.args[2].as_str()));
            }
        }
    }

    #[test]
    fn index_secret_find_links_and_network_reach_both_downloading_steps() {
        let plan = plan_of(
            "python: '3.11'\nrequirements: r.txt\napp: src\nfind-links: [wheelhouse]\nnetwork: host\nindex:\n  url: https://pypi.example.com/simple\n  extra: [https://extra.example.com/simple]\n  secret: pypi-netrc\n",
            &Settings::default(),
        );
        for name in [
            "[compile] build dependency wheels: r.txt",
            "[compile] build app wheel: src",
        ] {
            let run = run(named(&plan, name));
            let args = run.args.join(" ");
            assert!(args.contains("--index-url https://pypi.example.com/simple --extra-index-url https://extra.example.com/simple --find-links /pyslim-context/wheelhouse"), "{args}");
            assert!(run.mounts.contains(&Mount::Secret {
                dest: "/run/secrets/pypi-netrc".into(),
                id: "pypi-netrc".into()
            }));
            assert!(
                run.env
                    .contains(&("NETRC".into(), "/run/secrets/pypi-netrc".into()))
            );
            assert!(run.host_network, "{name}");
            let sees_wheelhouse = run.mounts.iter().any(|m| matches!(m, Mount::Context { include, .. } if include.contains(&"wheelhouse".to_string())));
            assert!(sees_wheelhouse, "{name}: {:?}", run.mounts);
        }
        // Installing in the slim stage downloads nothing: no secret, no host network.
        for step in plan.steps.iter().filter(|s| s.stage == Stage::Slim) {
            if let Action::Run(run) = &step.action {
                assert!(
                    !run.host_network
                        && !run.mounts.iter().any(|m| matches!(m, Mount::Secret { .. }))
                );
            }
        }
        let offline = plan_of(
            "python: '3.11'\nrequirements: r.txt\napp: .\nindex: none\nfind-links: [wheels]\n",
            &Settings::default(),
        );
        let app = run(named(&offline, "[compile] build app wheel: ."));
        assert!(
            app.args.contains(&"--no-index".to_string())
                && app.args.contains(&"--no-build-isolation".to_string())
        );
    }

    #[test]
    fn pip_installs_without_uv_and_offline_specs_need_nothing_from_an_index() {
        for yaml in [
            format!("{FULL}installer: pip\n"),
            "python: '3.11'\nrequirements: r.txt\nindex: none\nfind-links: [wheels]\n".into(),
        ] {
            let plan = plan_of(&yaml, &Settings::default());
            assert!(plan.steps.iter().all(|s| !s.name.contains("uv")), "{yaml}");
            let install = run(named(&plan, "[slim] install dependencies with pip"));
            assert_eq!(install.args[2..], ["pip", "--no-deps", "/wheels"]);
        }
        // Asked for, uv comes from the wheel directories of an offline spec.
        let plan = plan_of(
            "python: '3.11'\nrequirements: r.txt\nindex: none\nfind-links: [wheels]\ninstaller: uv\n",
            &Settings::default(),
        );
        let uv = run(named(&plan, "[compile] install uv 0.13.9"));
        assert!(
            uv.args
                .join(" ")
                .contains("--no-index --find-links /pyslim-context/wheels uv==0.13.9")
        );
        // Asked for, uv must be there; by default, pip takes over when it cannot be fetched.
        assert_eq!(uv.args[0], "python");
        let default = plan_of(FULL, &Settings::default());
        let uv = run(named(&default, "[compile] install uv 0.13.9"));
        assert_eq!(
            uv.args[..6],
            ["sh", "-c", UV_OR_PIP, "install-uv", UV_PREFIX, "python"]
        );
    }

    #[test]
    fn the_wheel_cache_is_one_per_index() {
        let cache = |yaml: &str| {
            let plan = plan_of(yaml, &Settings::default());
            let deps = run(&plan.steps[0]);
            deps.mounts
                .iter()
                .find_map(|m| match m {
                    Mount::Cache { dest, id, locked } if dest == WHEEL_CACHE => {
                        assert!(locked);
                        Some(id.clone())
                    }
                    _ => None,
                })
                .expect("a wheel cache")
        };
        let pypi = cache("python: '3.11'\nrequirements: r.txt\n");
        assert_eq!(
            pypi,
            cache("python: '3.11'\nrequirements: [r.txt, s.txt]\n")
        );
        assert_ne!(
            pypi,
            cache(
                "python: '3.11'\nrequirements: r.txt\nindex: {url: 'https://mirror.example/simple'}\n"
            )
        );
    }

    #[test]
    fn no_cache_marks_the_named_stages() {
        let all = Settings {
            no_cache: vec![Stage::Compile, Stage::Slim],
            ..Settings::default()
        };
        assert!(plan_of(FULL, &all).steps.iter().all(|s| s.ignore_cache));
        let compile_only = Settings {
            no_cache: vec![Stage::Compile],
            ..Settings::default()
        };
        for step in plan_of(FULL, &compile_only).steps {
            assert_eq!(step.ignore_cache, step.stage == Stage::Compile);
        }
    }

    #[test]
    fn root_gets_no_user_and_no_owner() {
        let plan = plan_of(
            "python: '3.11'\napp: .\nuser: root\nworkdir: /srv\n",
            &Settings::default(),
        );
        assert!(plan.steps.iter().all(|s| !s.name.contains("create user")));
        let workdir = named(&plan, "[slim] create workdir /srv");
        assert_eq!(
            workdir.action,
            Action::Mkdir {
                path: "/srv".into(),
                owner: None
            }
        );
    }
}
