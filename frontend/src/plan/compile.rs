//! The compile stage, on the full image: `system:` packages, the dependency wheels and the
//! app's wheel, each in a step of its own that sees only the files it reads. Nothing here is a
//! layer of the image; the runtime stage mounts what these steps make.

use pyslim_spec::{ContextPath, Deploy, Spanned, Spec};

use super::advice::Advice;
use super::apt;
use super::builder::Builder;
use super::fetch::Fetch;
use super::install::unpacked_uv;
use super::layout::{
    self, APP_METADATA, APP_WHEEL, BACKEND, BUILD_BACKEND, CARGO_HOME, CONTEXT, GENERATED,
    NATIVE_REPORT, TARGET_WHEELS, TOOLS, UV_CACHE, UV_PREFIX, WHEEL_CACHE, WHEELS, common_tool,
    context, fetch_tool, include_app, produced, project_dir, strings, tool,
};
use super::types::{
    Action, BaseImage, CopyFrom, Fs, Native, ResolvedBases, Run, Stage, StepId, StepMount,
    StepNetwork,
};
use crate::sources::app::metadata_files;
use crate::sources::{Dependencies, FoundApp, Input};

/// What the compile stage made, for a runtime stage to install.
#[derive(Clone, Copy, Debug)]
pub struct Compiled {
    /// The step whose `/wheels` holds the dependency wheels.
    pub dependencies: Option<StepId>,
    /// The step whose `/pyslim-app` holds the app's wheel.
    pub app: Option<StepId>,
    /// The filesystem they were built on (the compile image with `system:` packages): where a
    /// library they link was found, and so which Debian package has it.
    pub built_on: Fs,
    /// The download of the target's wheels on the build platform, to be read before planning
    /// further (see [`Native::complete`]).
    pub native_wheels: Option<StepId>,
    /// uv, unpacked for the app's backend: the runtime stage installs with the same step.
    pub uv: Option<StepId>,
}

pub fn stage(
    b: &mut Builder,
    spec: &Spec,
    dependencies: &Dependencies,
    fetch: &Fetch,
    bases: &ResolvedBases,
) -> Compiled {
    let base = &bases.compile;
    let package = match (&spec.app, &dependencies.app) {
        (Some(app), Some(found)) if found.deploy == Deploy::Package => Some((&app.path, found)),
        _ => None,
    };
    // An image of system packages (or source) only compiles nothing: `system:` packages would
    // be installed for no step (the lint says so).
    if dependencies.inputs.is_empty() && package.is_none() {
        return Compiled {
            dependencies: None,
            app: None,
            built_on: Fs::Base(Stage::Compile),
            native_wheels: None,
            uv: None,
        };
    }
    let mut on = Fs::Base(Stage::Compile);
    if let Some(first) = spec.system.first() {
        let packages: Vec<String> = spec.system.iter().map(|p| p.to_string()).collect();
        on = apt::install(b, Stage::Compile, on, &packages, first.span);
    }
    // The backend is set up before the dependency wheels only when they need its answer, so
    // other plans keep their order.
    let mut backend = None;
    let mut metadata = None;
    // uv resolves the dependencies too, unless a lock already did (see `fetch_wheels.py`).
    let resolves = dependencies
        .inputs
        .iter()
        .any(|input| !matches!(input, Input::Pinned { .. } | Input::Lock(_)));
    let uv = (package.is_some() || resolves)
        .then(|| unpacked_uv(b, spec, fetch))
        .flatten();
    if let Some((app, found)) = package
        && dependencies.inputs.contains(&Input::AppMetadata)
    {
        let set_up = build_backend(b, app, found, fetch, on, base, uv);
        metadata = Some(app_metadata(b, app, &set_up));
        backend = Some(set_up);
    }
    let mut native_wheels = None;
    let wheels = (!dependencies.inputs.is_empty()).then(|| {
        let (wheels, native) = dependency_wheels(
            b,
            spec,
            dependencies,
            fetch,
            on,
            metadata,
            bases.native.as_ref(),
            uv.filter(|_| resolves),
        );
        native_wheels = native;
        wheels
    });
    Compiled {
        native_wheels,
        dependencies: wheels,
        app: package.map(|(app, found)| {
            let backend =
                backend.unwrap_or_else(|| build_backend(b, app, found, fetch, on, base, uv));
            app_wheel(b, app, found, fetch, &backend)
        }),
        built_on: on,
        uv,
    }
}

/// Every dependency built to a wheel in `/wheels`, by `fetch_wheels.py` (see there); with the
/// app's backend-reported dependencies, the step `metadata` wrote them. For a target that is
/// not the build platform, the target's binary wheels are first downloaded on the build
/// platform (`target_wheels.py`): when they are all there, that step's `/wheels` is the
/// dependency wheels and no pip runs under emulation. Also returned while that is not known.
/// With `uv`, uv resolves them.
#[allow(clippy::too_many_arguments)]
fn dependency_wheels(
    b: &mut Builder,
    spec: &Spec,
    dependencies: &Dependencies,
    fetch: &Fetch,
    on: Fs,
    metadata: Option<StepId>,
    native: Option<&Native>,
    uv: Option<StepId>,
) -> (StepId, Option<StepId>) {
    let mut requirements = Vec::new();
    let mut generated = Vec::new();
    let mut mounts = fetch.mounts.clone();
    let mut locked = None;
    for input in &dependencies.inputs {
        let path = match input {
            Input::Pinned {
                lock,
                hashed,
                unhashed,
            } => {
                // Exactly the lock's set: no resolution, so no dependency of a package can
                // bring in anything else.
                requirements.push("--no-deps".into());
                let mut files = Vec::new();
                for (name, lines) in [("locked.txt", hashed), ("locked-unhashed.txt", unhashed)] {
                    if !lines.is_empty() {
                        generated.push((name.to_string(), lines_text(lines)));
                        files.push(format!("{GENERATED}/{name}"));
                    }
                }
                // pip checks hashes for all of a run or none: what has none goes in a second.
                if let [hashed, unhashed] = files.as_slice() {
                    requirements.extend(["--unhashed-requirement".to_string(), unhashed.clone()]);
                    requirements.extend(["--requirement".to_string(), hashed.clone()]);
                } else if let [one] = files.as_slice() {
                    requirements.extend(["--requirement".to_string(), one.clone()]);
                }
                locked = Some(format!(
                    "{lock}, {} packages pinned with their hashes",
                    hashed.len() + unhashed.len()
                ));
                continue;
            }
            // Planned only through `Dependencies::for_target`, which pins a lock for the
            // target; there is nothing to install without one.
            Input::Lock(_) => continue,
            Input::File(file) => format!("{CONTEXT}/{file}"),
            Input::Generated { name, text } => {
                generated.push((name.clone(), text.clone()));
                format!("{GENERATED}/{name}")
            }
            Input::AppMetadata => {
                // Only a package's backend is asked, and the sources name it only for one.
                let Some(from) = metadata else { continue };
                mounts.push(StepMount::Output {
                    dest: APP_METADATA.into(),
                    from,
                    path: APP_METADATA.into(),
                });
                format!("{APP_METADATA}/requirements.txt")
            }
        };
        requirements.extend(["--requirement".to_string(), path]);
    }
    let mut see = dependencies.context.clone();
    see.extend(fetch.context.iter().cloned());
    mounts.push(fetch_tool());
    mounts.push(fetch.wheel_cache.clone());
    mounts.push(produced(WHEELS));
    // Without files to see (a pyproject's list is generated), the step sees no context at
    // all: an empty include list would mean all of it.
    if !see.is_empty() {
        // A lock's local directories (workspace members) are built in their own tree, which
        // writes there: let it, then discard.
        let builds_in_tree = dependencies
            .inputs
            .iter()
            .any(|input| matches!(input, Input::Pinned { unhashed, .. } if !unhashed.is_empty()));
        mounts.push(context(&see, builds_in_tree));
    }
    if !generated.is_empty() {
        mounts.push(StepMount::Files {
            dest: GENERATED.into(),
            files: generated,
        });
    }
    // What the wheels are for: the spec's files, or else the app's own dependency list.
    let mut names: Vec<String> = spec.requirements.iter().map(|r| r.to_string()).collect();
    if let Some(locked) = locked {
        names = vec![locked];
    } else if names.is_empty() {
        names.push("the app's dependencies".into());
    }
    let cwd = if see.is_empty() { "/" } else { CONTEXT };
    if let Some(native) = native.filter(|n| n.complete != Some(false)) {
        let mounts = mounts
            .iter()
            .filter(|m| **m != fetch.wheel_cache)
            .map(|m| match m {
                StepMount::Files { dest, .. } if dest == TOOLS => {
                    common_tool("target_wheels.py", TARGET_WHEELS)
                }
                other => other.clone(),
            })
            .collect();
        let script = format!("{TOOLS}/target_wheels.py");
        let mut run = fetch.run(
            strings(&[
                "python",
                &script,
                NATIVE_REPORT,
                WHEELS,
                &native.machine,
                &native.python,
            ]),
            cwd,
            mounts,
        );
        run.args.extend(requirements);
        let step = b.compile(
            format!(
                "download binary wheels on {}: {}",
                native.platform,
                names.join(" ")
            ),
            Fs::Native,
            run,
            spec.requirements.first().map(|r| r.span),
            Some(Advice::Dependency),
        );
        return (step, native.complete.is_none().then_some(step));
    }
    let script = format!("{TOOLS}/fetch_wheels.py");
    let mut args = strings(&["python", &script, WHEEL_CACHE, WHEELS]);
    if uv.is_some() {
        args.extend(["--uv".to_string(), format!("{UV_PREFIX}/bin/uv")]);
    }
    let mut run = fetch.run(args, cwd, mounts);
    if let Some(uv) = uv {
        runs_uv(&mut run, uv);
    }
    run.args.extend(requirements);
    let step = b.compile(
        format!("build dependency wheels: {}", names.join(" ")),
        on,
        run,
        spec.requirements.first().map(|r| r.span),
        Some(Advice::Dependency),
    );
    (step, None)
}

/// What a compile step running the uv the step `uv` unpacked adds: its binary, and uv's cache
/// (shared by every such step) with where it is.
fn runs_uv(run: &mut Run, uv: StepId) {
    run.mounts.push(layout::uv(uv));
    run.mounts.push(StepMount::Cache {
        dest: UV_CACHE.into(),
        id: "pyslim-uv".into(),
        locked: false,
    });
    run.env.push(("UV_CACHE_DIR".into(), UV_CACHE.into()));
}

/// Requirement lines as a file.
fn lines_text(lines: &[String]) -> String {
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// Where the app's build backend runs: the filesystem, and what its steps add to the
/// environment to find it.
struct Backend {
    on: Fs,
    env: Vec<(String, String)>,
}

/// The app's build backend, set up in a step of its own that depends only on the build
/// requirements: an app-code change rebuilds only the wheel.
fn build_backend(
    b: &mut Builder,
    app: &Spanned<ContextPath>,
    found: &FoundApp,
    fetch: &Fetch,
    on: Fs,
    base: &BaseImage,
    uv: Option<StepId>,
) -> Backend {
    // The build backend in a directory of its own on PYTHONPATH, installed by a step that
    // depends only on the build requirements; offline, the compile image's own setuptools
    // builds the app. (A virtualenv would cost a second or two: seeding pip into it, or pip
    // re-executing itself there.)
    let mut env = fetch.env.clone();
    let builder = if fetch.offline {
        on
    } else {
        let mut run = match uv {
            // uv installs in a fraction of pip's time, with a cache of its own.
            Some(uv) => {
                let program = format!("{UV_PREFIX}/bin/uv");
                let mounts = fetch.mounts_with_find_links();
                // Bytecode, as pip would compile it: the backend is imported anew by every
                // build of the app's wheel (setuptools: 0.23 s from source, 0.12 s compiled).
                let args = [
                    "pip",
                    "install",
                    "--compile-bytecode",
                    "--python",
                    "python",
                    "--target",
                    BUILD_BACKEND,
                ];
                let mut args = strings(&args);
                args.insert(0, program);
                let mut run = fetch.run(args, "/", mounts);
                runs_uv(&mut run, uv);
                // The cache is a mount, the target is not: hardlinks cannot cross them.
                run.env.push(("UV_LINK_MODE".into(), "copy".into()));
                run
            }
            None => {
                let pip = strings(&["python", "-m", "pip", "install", "--target", BUILD_BACKEND]);
                fetch.run(pip, "/", fetch.mounts_with_find_links())
            }
        };
        run.args.extend(found.build_requires.iter().cloned());
        let backend = b.compile(
            format!(
                "install app build backend: {}",
                found.build_requires.join(" ")
            ),
            on,
            run,
            Some(app.span),
            Some(Advice::App),
        );
        env.push(("PYTHONPATH".into(), BUILD_BACKEND.into()));
        // Backends that run a binary of theirs look for it on PATH (uv_build's `uv-build`);
        // `--target` puts it in bin/ beside the packages.
        let path = base
            .env
            .iter()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or("/usr/local/bin:/usr/bin:/bin");
        env.push(("PATH".into(), format!("{BUILD_BACKEND}/bin:{path}")));
        Fs::Step(backend)
    };
    Backend { on: builder, env }
}

/// The dependencies the app's backend reports (PEP 517 `prepare_metadata_for_build_wheel`),
/// in `APP_METADATA/requirements.txt`, by `backend.py metadata` (see there). The step sees the
/// project's metadata files only, so a code edit neither reruns it nor rebuilds the dependency
/// wheels; it needs no network, only the backend already set up.
fn app_metadata(b: &mut Builder, app: &Spanned<ContextPath>, backend: &Backend) -> StepId {
    let args = backend_command("metadata", app, APP_METADATA);
    // Backends write scratch files (setuptools' egg-info) into the project; let them.
    let mounts = vec![
        tool("backend.py", BACKEND),
        produced(APP_METADATA),
        // A name that is not there matches nothing.
        context(&metadata_files(app.as_str()), true),
    ];
    b.compile(
        format!("read app metadata: {app}"),
        backend.on,
        Run {
            args,
            env: backend.env.clone(),
            cwd: CONTEXT.into(),
            mounts,
            network: StepNetwork::None,
            user: None,
        },
        Some(app.span),
        Some(Advice::AppMetadata),
    )
}

/// The app built to a wheel in `/pyslim-app` by its build backend's own hook (`backend.py
/// wheel`): no pip on an app-code edit's critical path.
fn app_wheel(
    b: &mut Builder,
    app: &Spanned<ContextPath>,
    found: &FoundApp,
    fetch: &Fetch,
    backend: &Backend,
) -> StepId {
    let see = include_app(app.as_str());
    let mut mounts = fetch.mounts.clone();
    mounts.push(tool("backend.py", BACKEND));
    mounts.push(produced(APP_WHEEL));
    // Building in-tree writes build/ and *.egg-info into the project; let it, then discard.
    mounts.push(context(&see, true));
    let rust = found.build_requires.iter().any(|r| {
        r.trim_start().starts_with("maturin") || r.trim_start().starts_with("setuptools-rust")
    });
    if rust {
        // cargo locks its own files: builds may share the cache.
        mounts.push(StepMount::Cache {
            dest: CARGO_HOME.into(),
            id: "pyslim-cargo".into(),
            locked: false,
        });
    }
    // The backend asks no index (its requirements are set up already); a Rust backend's cargo
    // still fetches crates over the build's network.
    let args = backend_command("wheel", app, APP_WHEEL);
    let mut run = fetch.run_without_pip(args, CONTEXT, mounts);
    run.env.clone_from(&backend.env);
    if rust {
        run.env.push(("CARGO_HOME".into(), CARGO_HOME.into()));
    }
    b.compile(
        format!("build app wheel: {app}"),
        backend.on,
        run,
        Some(app.span),
        Some(Advice::App),
    )
}

/// `backend.py`'s command `command` on the app's project directory, writing to `out`.
fn backend_command(command: &str, app: &Spanned<ContextPath>, out: &str) -> Vec<String> {
    let script = format!("{TOOLS}/backend.py");
    vec![
        "python".into(),
        script,
        command.into(),
        project_dir(app.as_str()),
        out.into(),
    ]
}

/// `--target wheels`: an image of just the dependency wheels, for other builds to reuse.
pub fn collect_wheels(b: &mut Builder, spec: &Spec, dependencies: StepId) -> Fs {
    b.file_layer(
        Stage::Compile,
        Fs::Empty,
        "collect dependency wheels".into(),
        Action::Copy {
            from: CopyFrom::Step(dependencies),
            src: WHEELS.into(),
            dest: WHEELS.into(),
        },
        spec.requirements.first().map(|r| r.span),
        format!("pyslim: dependency wheels in {WHEELS}"),
    )
}
