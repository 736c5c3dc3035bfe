//! The one straight line of a build: spec bytes → [`Spec`] → dependency sources → [`Plan`] →
//! LLB → Solve → Return. What every platform shares is read once ([`build`]); each platform is
//! planned ([`plan_platform`]) and built ([`crate::build`]) in turn. Every failure on the way is a [`Failure`] that says what
//! to do, located in the spec where it can be.

use pyslim_spec::{Base, Diagnostic, LoadOptions, Partial, SourceFile, Spec, WHEELS_TARGET};

pub use crate::failure::Failure;

use crate::build::{self, Planned};
use crate::context::{Context, json_list, local};
use crate::epoch;
use crate::gateway::{Gateway, GatewayError};
use crate::image;
use crate::lint::{self, Warning};
use crate::llb;
use crate::lock;
use crate::lower::BuildSite;
use crate::options::Options;
use crate::plan::{self, BaseImage, Closure, ResolvedBases, Settings};
use crate::platform::Platform;
use crate::sources::{self, Found, Problems, Python};
use crate::subrequest::{self, Request};
use crate::verify;

/// Builds the image the spec describes and returns it to BuildKit — or, for `--call`, the
/// information asked for.
pub async fn build(gw: &mut Gateway, options: &Options) -> Result<(), Failure> {
    match &options.request {
        Some(Request::Describe) => return Ok(gw.return_metadata(subrequest::describe()).await?),
        Some(Request::Unknown(other)) => return Err(Failure::UnknownRequest(other.clone())),
        _ => {}
    }
    let platforms = target_platforms(options);
    gw.import_caches(&options.cache_imports);
    let caps = gw.frontend_caps().await?;
    let (source, spec_digest) = read_spec(gw, options).await?;
    let spec_options = LoadOptions {
        build_args: options.build_args.clone(),
        target: options.target.clone(),
    };
    let spec = match pyslim_spec::load_partial(source.clone(), &spec_options) {
        Partial::Valid(spec) => *spec,
        Partial::Invalid { diagnostics, spec } => {
            // What the sound part names in the build context is checked too: every problem in
            // one round, not the misspellings first and the missing files in the next build.
            let mut found = Problems::default();
            if let Some(spec) = spec
                && let (_, Err(problems)) = read_sources(gw, options, &spec).await?
            {
                found = problems;
            }
            let all = found.into_diagnostics(source.clone(), diagnostics.problems);
            return Err(Failure::Spec(all));
        }
    };
    let options = &epoch::resolve(options, &spec, &source)?;
    if let Some(request @ (Request::Outline | Request::Targets)) = &options.request {
        let python = read_python(gw, options, &spec, &source).await?;
        let answer = match request {
            Request::Outline => subrequest::outline(&spec, &source, &python),
            _ => subrequest::targets(&spec, &source, &python),
        };
        return Ok(gw.return_metadata(answer).await?);
    }

    let (excludes, found) = read_sources(gw, options, &spec).await?;
    let found = found
        .map_err(|problems| Failure::Spec(problems.into_diagnostics(source.clone(), Vec::new())))?;
    if spec.target.as_deref() == Some(WHEELS_TARGET) && found.dependencies.inputs.is_empty() {
        return Err(Failure::NoWheelsToCollect);
    }
    let mut warnings = lint::check(&spec, &found.files, found.dependencies.lock());
    let shared = Shared {
        options,
        source: &source,
        spec: &spec,
        found: &found,
        excludes: &excludes,
        evaluate: caps.iter().any(|c| c == "gateway.solve.evaluate"),
    };
    // Each platform is planned just before it is built: the scans' and the smoke tests' solves
    // of one platform then run before the next platform's, and the first failure stops the rest.
    let mut planned = plan_platform(gw, &shared, &platforms[0]).await?;
    let scans = planned.plan.scans;
    if scans.dependencies.is_some() || scans.app.is_some() {
        // The scan finds exactly which libraries the built files lack, and installs them: the
        // lint's guesses from package names would only say the same less precisely.
        warnings.retain(|w| !lint::GUESSES_LIBRARIES.contains(&w.rule));
    }
    if options.request == Some(Request::Lint) {
        // What the scan finds is known only once the wheels are built: the check builds them
        // (a build before it leaves them in the cache).
        warnings.extend(build::scan(gw, &shared, &mut planned).await?);
        let answer = subrequest::lint(&source, &found.files, &warnings, &found.python);
        return Ok(gw.return_metadata(answer).await?);
    }
    let warns = caps.iter().any(|c| c == "gateway.warnings");
    if warns {
        warn(gw, &spec_digest, &source, &found.files, &warnings).await?;
    }
    let mut results = Vec::new();
    let mut planned = Some(planned);
    for platform in &platforms {
        let planned = match planned.take() {
            Some(first) => first,
            None => plan_platform(gw, &shared, platform).await?,
        };
        let built = build::image(gw, &shared, planned).await?;
        if warns {
            warn(gw, &spec_digest, &source, &found.files, &built.warnings).await?;
        }
        results.push((platform.clone(), built));
    }
    let multi_platform = options.multi_platform || platforms.len() > 1;
    let mut result = build::result(results, multi_platform);
    result.metadata.extend(epoch::metadata(options));
    gw.return_result(result.images, result.metadata, &result.attestations)
        .await?;
    Ok(())
}

/// The `.dockerignore` patterns, and what the spec's files say (or what is wrong with them).
async fn read_sources(
    gw: &mut Gateway,
    options: &Options,
    spec: &Spec,
) -> Result<(Vec<String>, Result<Found, Problems>), Failure> {
    in_context(gw, options, async |context| {
        sources::read(context, spec).await
    })
    .await
}

/// Just the Python the build is for, for the answers that describe the build without reading
/// what it installs.
async fn read_python(
    gw: &mut Gateway,
    options: &Options,
    spec: &Spec,
    source: &SourceFile,
) -> Result<Python, Failure> {
    let mut problems = Problems::default();
    let (_, python) = in_context(gw, options, async |context| {
        sources::python::choose(context, spec, &mut problems).await
    })
    .await?;
    match python {
        Some(python) if problems.problems.is_empty() => Ok(python),
        _ => Err(Failure::Spec(
            problems.into_diagnostics(source.clone(), Vec::new()),
        )),
    }
}

/// Runs `read` on the build context as the build sees it: the client's context, less what
/// `.dockerignore` leaves out (whose patterns come back with what `read` returned).
async fn in_context<T>(
    gw: &mut Gateway,
    options: &Options,
    read: impl AsyncFnOnce(&mut Context<'_>) -> Result<T, GatewayError>,
) -> Result<(Vec<String>, T), Failure> {
    let session_id = options.sessions.of(&options.context_key);
    let mut context = Context {
        gateway: gw,
        name: &options.context_key,
        session_id: &session_id,
        excludes: &[],
    };
    let excludes = context.dockerignore().await?;
    context.excludes = &excludes;
    let read = read(&mut context).await?;
    Ok((excludes, read))
}

/// What every platform's build reads the same: read once, before any platform is built.
pub struct Shared<'a> {
    pub options: &'a Options,
    pub source: &'a SourceFile,
    pub spec: &'a Spec,
    pub found: &'a Found,
    pub excludes: &'a [String],
    /// The engine can solve and wait for the result (`gateway.solve.evaluate`), so a failed
    /// step is known here and gets our advice.
    pub evaluate: bool,
}

/// Resolves the bases for `platform` and plans the build as far as the scan.
pub async fn plan_platform(
    gw: &mut Gateway,
    shared: &Shared<'_>,
    platform: &Platform,
) -> Result<Planned, Failure> {
    let (options, spec, source) = (shared.options, shared.spec, shared.source);
    let python = &shared.found.python;
    let compile_base = spec.base.compile_image(&python.version);
    let compile = resolve(gw, &compile_base, python, source, platform, options).await?;
    let runtime = spec.base.runtime_image(&python.version);
    let runtime = resolve(gw, &runtime, python, source, platform, options).await?;
    // A target the engine runs under emulation gets its binary wheels downloaded natively: the
    // frontend runs on the build platform, so that is its own.
    let build_platform = Platform::host();
    let native = match machine(platform) {
        Some(machine) if *platform != build_platform => {
            let native =
                resolve(gw, &compile_base, python, source, &build_platform, options).await?;
            Some(plan::Native {
                compile: BaseImage {
                    reference: native.reference,
                    env: image::env(&native.config),
                },
                platform: build_platform,
                machine: machine.into(),
                python: python.version.to_string(),
                complete: None,
            })
        }
        _ => None,
    };
    let mut bases = ResolvedBases {
        platform: platform.clone(),
        compile: BaseImage {
            reference: compile.reference.clone(),
            env: image::env(&compile.config),
        },
        runtime: BaseImage {
            reference: runtime.reference.clone(),
            env: image::env(&runtime.config),
        },
        native,
    };
    let dependencies = for_target(shared, &bases.compile, platform)?;
    let settings = Settings::of(options);
    let mut plan = plan::plan(
        spec,
        &dependencies,
        bases.clone(),
        &settings,
        &Closure::default(),
    );
    let site = BuildSite {
        platform: platform.clone(),
        proxy: options.proxy.clone(),
        sessions: options.sessions.clone(),
        context: options.context_key.clone(),
        excludes: shared.excludes.to_vec(),
        network: options.network,
        named_platform: options.multi_platform || target_platforms(options).len() > 1,
    };
    if let (Some(step), Some(native)) = (plan.native_wheels, bases.native.as_mut()) {
        let report: verify::native::Report =
            build::read_report(gw, shared, &site, &plan, step, plan::NATIVE_REPORT).await?;
        let found = shared.found;
        verify::native::check(&report, platform, &native.python, spec, source, found)?;
        native.complete = Some(report.complete);
        plan = plan::plan(spec, &dependencies, bases, &settings, &Closure::default());
    }
    Ok(Planned {
        plan,
        dependencies,
        site,
        runtime,
    })
}

/// The target's `platform.machine()`, for the platforms whose wheels are downloaded natively.
fn machine(platform: &Platform) -> Option<&'static str> {
    match (platform.os.as_str(), platform.architecture.as_str()) {
        ("linux", "amd64") => Some("x86_64"),
        ("linux", "arm64") => Some("aarch64"),
        _ => None,
    }
}

/// What `platform` installs: a lock's packages chosen for the compile image's Python there.
fn for_target(
    shared: &Shared<'_>,
    compile: &BaseImage,
    platform: &Platform,
) -> Result<sources::Dependencies, Failure> {
    let dependencies = &shared.found.dependencies;
    if dependencies.lock().is_none() {
        return Ok(dependencies.clone());
    }
    // The official images say their exact version; one that does not is taken at the chosen
    // `X.Y` (a marker on a patch release then reads it as X.Y.0).
    let chosen = &shared.found.python;
    let python = compile
        .env
        .iter()
        .find_map(|e| e.strip_prefix("PYTHON_VERSION="))
        .map_or_else(|| chosen.version.to_string(), String::from);
    let env = lock::Environment::new(&python, platform).map_err(|why| {
        let span = match &chosen.origin {
            sources::python::Origin::Spec(span) => *span,
            sources::python::Origin::Project { .. } => shared.spec.top,
        };
        Failure::Spec(pyslim_spec::Diagnostics::new(
            shared.source.clone(),
            vec![Diagnostic::new(
                span,
                format!("cannot evaluate the lock's markers for Python `{python}`: {why}"),
            )],
        ))
    })?;
    let extras: Vec<String> = shared.spec.extras.iter().map(|e| e.to_string()).collect();
    let groups: Vec<String> = shared.spec.groups.iter().map(|g| g.to_string()).collect();
    let groups = (!groups.is_empty()).then_some(groups.as_slice());
    dependencies
        .for_target(&env, &extras, groups, plan::CONTEXT)
        .map_err(|problems| {
            Failure::Spec(problems.into_diagnostics(shared.source.clone(), Vec::new()))
        })
}

/// `--platform`'s platforms, each once, in the order given; the engine's own when none.
fn target_platforms(options: &Options) -> Vec<Platform> {
    let mut platforms: Vec<Platform> = Vec::new();
    for platform in &options.platforms {
        if !platforms.contains(platform) {
            platforms.push(platform.clone());
        }
    }
    if platforms.is_empty() {
        platforms.push(Platform::host());
    }
    platforms
}

/// Shows the check's findings in the build's progress (on engines that take warnings).
async fn warn(
    gw: &mut Gateway,
    digest: &str,
    source: &SourceFile,
    files: &[SourceFile],
    warnings: &[Warning],
) -> Result<(), Failure> {
    for warning in warnings {
        let file = match warning.file {
            0 => source,
            n => &files[n - 1],
        };
        let short = format!("{}: {}", warning.rule, warning.detail);
        gw.warn(digest, &short, &[warning.description], file, warning.line)
            .await?;
    }
    Ok(())
}

/// The spec file, read from the client's `dockerfile` source like the Dockerfile frontend
/// does; and the digest of that source's op, which warnings about the spec attach to.
async fn read_spec(gw: &mut Gateway, options: &Options) -> Result<(SourceFile, String), Failure> {
    let name = &options.dockerfile_key;
    let filename = &options.filename;
    let files = json_list(&[filename]);
    let state = local(
        name,
        &options.sessions.of(name),
        &[
            ("local.followpaths", files.clone()),
            ("local.includepattern", files),
            ("local.differ", "none".into()),
        ],
    );
    let definition = llb::marshal(&state, None);
    let digest = llb::digest(&definition.def[0]);
    let reference = gw.solve(definition).await?;
    let bytes = gw
        .read_file(&reference, filename)
        .await
        .map_err(|e| Failure::SpecUnreadable {
            filename: filename.clone(),
            why: e.to_string(),
        })?;
    let text = String::from_utf8(bytes).map_err(|_| Failure::SpecNotUtf8 {
        filename: filename.clone(),
    })?;
    Ok((SourceFile::new(filename.clone(), text), digest))
}

/// A base image as the engine resolved it for the target platform.
pub struct Resolved {
    /// Normalised, e.g. `docker.io/library/python:3.11-slim`.
    pub reference: String,
    /// Empty for an image only in the engine's local store.
    pub digest: String,
    pub config: Vec<u8>,
}

/// Resolves a base image. One the spec left to the Python says, in the log line, which Python
/// that is and where it came from: the build log shows it whether or not anything is cached.
async fn resolve(
    gw: &mut Gateway,
    base: &Base,
    python: &Python,
    source: &SourceFile,
    platform: &Platform,
    options: &Options,
) -> Result<Resolved, Failure> {
    let reference = llb::normalize_image_ref(base.image.as_str());
    let mut log_name = format!("[internal] load metadata for {reference}");
    if base.written.is_none() {
        log_name = format!("{log_name} ({})", python.describe(&source.name));
    }
    match gw
        .resolve_image_config(
            &reference,
            Some(platform),
            &log_name,
            options.sessions.default.as_deref(),
        )
        .await
    {
        Ok((digest, config)) => Ok(Resolved {
            reference,
            digest,
            config,
        }),
        Err(error) => {
            // The platform is named: an image that exists for one platform may lack another.
            let message = format!(
                "cannot resolve the base image `{}` for {platform}: {error}",
                base.image
            );
            let hint = "check that the engine can pull it, or load it with `docker load`; set `base:` to use another image";
            let mut problems = Problems::default();
            match base.written {
                Some(span) => problems
                    .problems
                    .push(Diagnostic::new(span, message).with_hint(hint)),
                None => python.problem(message, hint, &mut problems),
            }
            Err(Failure::Spec(
                problems.into_diagnostics(source.clone(), Vec::new()),
            ))
        }
    }
}
