//! The one straight line of a build: spec bytes → [`Spec`] → [`Plan`] → LLB → Solve → Return.
//! Every failure on the way becomes a [`Failure`] that says what to do, located in the spec
//! where it can be.

use std::collections::BTreeMap;

use pyslim_spec::{Diagnostic, Diagnostics, LoadOptions, SourceFile, Spanned, WHEELS_TARGET};

use crate::context::{Context, RequirementsFile, json_list, local};
use crate::gateway::{self, Gateway, GatewayError};
use crate::image;
use crate::lint::{self, Warning};
use crate::llb::{self, State};
use crate::lower::{self, Target};
use crate::options::{NoCache, Options};
use crate::plan::{self, BaseImage, Bases, Settings, Stage};
use crate::platform::Platform;
use crate::subrequest;

/// Why a build did not return an image.
#[derive(Debug)]
pub enum Failure {
    /// The spec is wrong: every problem, with its lines.
    Spec(Diagnostics),
    /// BuildKit failed a step: its status carries the vertex and our source map; pass it on as is.
    Solve(gateway::Status),
    /// Anything else, in words that say what to do.
    Other(String),
}

impl Failure {
    /// The status to return to BuildKit, which shows it to the user.
    pub fn status(&self) -> gateway::Status {
        match self {
            Failure::Spec(diagnostics) => {
                let sources: Vec<_> = diagnostics
                    .lines_by_file()
                    .into_iter()
                    .map(|(source, lines)| gateway::SourceRange {
                        filename: source.name.clone(),
                        data: source.text.clone().into_bytes(),
                        language: source.kind.language().into(),
                        ranges: lines.into_iter().map(|l| (l, l)).collect(),
                    })
                    .collect();
                gateway::error_status(&diagnostics.to_string(), &sources)
            }
            Failure::Solve(status) => status.clone(),
            Failure::Other(message) => gateway::error_status(message, &[]),
        }
    }
}

impl From<GatewayError> for Failure {
    fn from(error: GatewayError) -> Failure {
        match error {
            GatewayError::Rpc(status) => Failure::Solve(gateway::status_from_tonic(&status)),
            other => Failure::Other(other.to_string()),
        }
    }
}

/// Builds the image the spec describes and returns it to BuildKit — or, for `--call`, the
/// information asked for.
pub async fn build(gw: &mut Gateway, options: &Options) -> Result<(), Failure> {
    let request = options.request_id.as_deref();
    match request {
        None | Some(subrequest::OUTLINE | subrequest::TARGETS | subrequest::LINT) => {}
        Some(subrequest::DESCRIBE) => {
            return Ok(gw.return_metadata(subrequest::describe()).await?);
        }
        Some(other) => {
            return Err(Failure::Other(format!(
                "pyslim cannot answer `{other}`; it answers --call=outline, --call=targets and --call=check"
            )));
        }
    }
    let platform = target_platform(options)?;
    let caps = gw.frontend_caps().await?;
    let (source, spec_digest) = read_spec(gw, options).await?;
    let spec_options = LoadOptions {
        build_args: options.build_args.clone(),
        target: options.target.clone(),
    };
    let spec = pyslim_spec::load_with(source.clone(), &spec_options).map_err(Failure::Spec)?;
    match request {
        Some(subrequest::OUTLINE) => {
            return Ok(gw
                .return_metadata(subrequest::outline(&spec, &source))
                .await?);
        }
        Some(subrequest::TARGETS) => {
            return Ok(gw
                .return_metadata(subrequest::targets(&spec, &source))
                .await?);
        }
        _ => {}
    }

    let session_id = session(options, &options.context_key);
    let mut context = Context {
        gateway: gw,
        name: &options.context_key,
        session_id: &session_id,
        excludes: &[],
    };
    let excludes = context.dockerignore().await?;
    context.excludes = &excludes;
    let found = context
        .dependencies(&spec)
        .await?
        .map_err(|problems| Failure::Spec(Diagnostics::new(source.clone(), problems)))?;
    let wheels_only = spec.target.as_deref() == Some(WHEELS_TARGET);
    if wheels_only && found.dependencies.inputs.is_empty() {
        return Err(Failure::Other(format!(
            "`--target {WHEELS_TARGET}` collects the dependency wheels, and this spec has no `requirements`"
        )));
    }
    let warnings = lint::check(&spec, &found.files);
    if request == Some(subrequest::LINT) {
        let answer = subrequest::lint(&source, &found.files, &warnings);
        return Ok(gw.return_metadata(answer).await?);
    }
    if caps.iter().any(|c| c == "gateway.warnings") {
        warn(gw, &spec_digest, &source, &found.files, &warnings).await?;
    }
    let target = Target {
        platform: platform.clone(),
        session_id,
        context: options.context_key.clone(),
        excludes,
        proxy: proxy(options),
        wheelhouse: wheelhouse(options, &platform)?,
        network: match options.network.as_deref() {
            None | Some("sandbox") => None,
            Some("none") => Some(llb::Network::None),
            Some("host") => Some(llb::Network::Host),
            Some(other) => {
                return Err(Failure::Other(format!(
                    "pyslim cannot build with `--network {other}`; use none, host or default"
                )));
            }
        },
    };

    let (compile, runtime) = (&spec.base.compile, &spec.base.runtime);
    let compile = resolve(gw, compile, &source, &platform, options).await?;
    let runtime = resolve(gw, runtime, &source, &platform, options).await?;
    let bases = Bases {
        compile: BaseImage {
            reference: compile.reference.clone(),
            env: image::env(&compile.config),
        },
        runtime: BaseImage {
            reference: runtime.reference.clone(),
            env: image::env(&runtime.config),
        },
    };

    let plan = plan::plan(&spec, &found.dependencies, bases, &settings(options));
    let state = lower::lower(&plan, &target);
    let definition = llb::marshal(&state, Some(&llb_source(&source)));
    let reference = if caps.iter().any(|c| c == "gateway.solve.evaluate") {
        gw.evaluate(definition.clone())
            .await
            .map_err(|error| advise(error, &definition, &plan))?
    } else {
        gw.solve(definition).await?
    };

    let layers: Vec<&str> = plan.layers().collect();
    let base = image::Base {
        config: &runtime.config,
        name: &runtime.reference,
        digest: &runtime.digest,
    };
    let config = if wheels_only {
        image::files_only(&options.labels, &platform, &layers)
    } else {
        image::config(&base, &spec, &options.labels, &platform, &layers)
    };
    let metadata = BTreeMap::from([(
        "containerimage.config".to_string(),
        serde_json::to_vec(&config).expect("a JSON value always serialises"),
    )]);
    gw.return_result(&reference, metadata).await?;
    Ok(())
}

fn target_platform(options: &Options) -> Result<Platform, Failure> {
    match options.platforms.as_slice() {
        [] => Ok(Platform::host()),
        [one] => Ok(one.clone()),
        many => Err(Failure::Other(format!(
            "pyslim builds one platform at a time, and was asked for {}; run one build per platform",
            many.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn session(options: &Options, local: &str) -> String {
    options
        .local_session_ids
        .get(local)
        .or(options.session_id.as_ref())
        .cloned()
        .unwrap_or_default()
}

fn settings(options: &Options) -> Settings {
    let no_cache = match &options.no_cache {
        NoCache::None => Vec::new(),
        NoCache::All => vec![Stage::Compile, Stage::Slim],
        NoCache::Stages(names) => [Stage::Compile, Stage::Slim]
            .into_iter()
            .filter(|s| names.iter().any(|n| n == s.name()))
            .collect(),
    };
    Settings {
        no_cache,
        wheelhouse: options.contexts.contains_key(WHEELS_CONTEXT),
    }
}

/// The name of the build context that holds reusable wheels.
const WHEELS_CONTEXT: &str = "wheels";

/// The `wheels` build context as a state, and the directory of it that holds the wheels: all
/// of a local directory, or `/wheels` of an image.
fn wheelhouse(options: &Options, platform: &Platform) -> Result<Option<(State, String)>, Failure> {
    let Some(value) = options.contexts.get(WHEELS_CONTEXT) else {
        return Ok(None);
    };
    if let Some(name) = value.strip_prefix("local:") {
        return Ok(Some((
            local(name, &session(options, name), &[]),
            String::new(),
        )));
    }
    if let Some(reference) = value.strip_prefix("docker-image://") {
        return Ok(Some((
            State::image(reference, Some(platform)),
            "/wheels".into(),
        )));
    }
    Err(Failure::Other(format!(
        "the `wheels` build context `{value}` is neither a directory nor an image; pass `--build-context wheels=DIR` or `--build-context wheels=docker-image://IMAGE` (whose /wheels holds the wheels)"
    )))
}

/// A failed step's error, with what to check for that step: BuildKit names the failing vertex,
/// its name leads back to the plan step. The status keeps every detail BuildKit attached (the
/// spec lines of the step among them).
fn advise(error: GatewayError, definition: &llb::pb::Definition, plan: &plan::Plan) -> Failure {
    let GatewayError::Rpc(status) = error else {
        return error.into();
    };
    let mut status = gateway::status_from_tonic(&status);
    let step = gateway::failed_vertex(&status)
        .and_then(|digest| definition.metadata.get(&digest))
        .and_then(|meta| meta.description.get("llb.customname"))
        .and_then(|name| plan.steps.iter().find(|s| s.name == *name));
    if let Some(step) = step
        && let Some(advice) = step.advice
    {
        status.message = format!("{}\n\n{} failed: {advice}", status.message, step.name);
    }
    Failure::Solve(status)
}

/// Shows the check's findings in the build's progress (on engines that take warnings).
async fn warn(
    gw: &mut Gateway,
    digest: &str,
    source: &SourceFile,
    files: &[RequirementsFile],
    warnings: &[Warning],
) -> Result<(), Failure> {
    for warning in warnings {
        let file = match warning.file {
            0 => llb_source(source),
            n => llb::SourceFile {
                filename: files[n - 1].path.clone(),
                data: files[n - 1].text.clone().into_bytes(),
                language: "requirements".into(),
            },
        };
        let short = format!("{}: {}", warning.rule, warning.detail);
        gw.warn(digest, &short, &[warning.description], &file, warning.line)
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
        &session(options, name),
        &[
            ("local.followpaths", files.clone()),
            ("local.includepattern", files),
            ("local.differ", "none".into()),
        ],
    );
    let definition = llb::marshal(&state, None);
    let digest = llb::digest(&definition.def[0]);
    let reference = gw.solve(definition).await?;
    let bytes = gw.read_file(&reference, filename).await.map_err(|e| {
        Failure::Other(format!(
            "cannot read the spec file {filename}: {e}; pass it with `docker buildx build -f pyslim.yaml .`"
        ))
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::Other(format!("{filename} is not UTF-8 text; save it as UTF-8")))?;
    Ok((SourceFile::new(filename.clone(), text), digest))
}

/// A base image as the engine resolved it for the target platform.
struct Resolved {
    /// Normalised, e.g. `docker.io/library/python:3.11-slim`.
    reference: String,
    /// Empty for an image only in the engine's local store.
    digest: String,
    config: Vec<u8>,
}

async fn resolve(
    gw: &mut Gateway,
    image: &Spanned<pyslim_spec::ImageRef>,
    source: &SourceFile,
    platform: &Platform,
    options: &Options,
) -> Result<Resolved, Failure> {
    let reference = llb::normalize_image_ref(image.as_str());
    let log_name = format!("[internal] load metadata for {reference}");
    match gw
        .resolve_image_config(&reference, Some(platform), &log_name, options.session_id.as_deref())
        .await
    {
        Ok((digest, config)) => Ok(Resolved { reference, digest, config }),
        Err(error) => Err(Failure::Spec(Diagnostics::new(
            source.clone(),
            vec![
                Diagnostic::new(image.span, format!("cannot resolve the base image `{image}`: {error}"))
                    .with_hint("check that the engine can pull it, or load it with `docker load`; set `base:` to use another image"),
            ],
        ))),
    }
}

fn llb_source(source: &SourceFile) -> llb::SourceFile {
    llb::SourceFile {
        filename: source.name.clone(),
        data: source.text.clone().into_bytes(),
        language: "yaml".into(),
    }
}

/// The proxy build args Docker predefines: usable by every step without being declared.
fn proxy(options: &Options) -> BTreeMap<String, String> {
    const NAMES: [&str; 5] = [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "FTP_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
    ];
    let mut proxy = BTreeMap::new();
    for name in NAMES {
        let lower = name.to_ascii_lowercase();
        if let Some(value) = options
            .build_args
            .get(name)
            .or(options.build_args.get(&lower))
        {
            proxy.insert(name.to_string(), value.clone());
        }
    }
    proxy
}
