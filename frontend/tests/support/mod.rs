//! An in-process fake of BuildKit's LLBBridge: it serves a spec file and a build context from
//! memory, answers like BuildKit does (lazily solved references, stat/read of files that the
//! solved local source includes), and records everything the frontend sends.

#![allow(dead_code)] // each test binary uses its own part of the support module

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use api::llb_bridge_server::{LlbBridge, LlbBridgeServer};
use bollard_buildkit_proto::fsutil::types::Stat;
use bollard_buildkit_proto::moby::buildkit::v1::apicaps::ApiCap;
use bollard_buildkit_proto::moby::buildkit::v1::frontend as api;
use prost::Message;
use pyslim_frontend::convert::{self, Failure};
use pyslim_frontend::gateway;
use pyslim_frontend::gateway::Gateway;
use pyslim_frontend::llb::pb;
use pyslim_frontend::options::Options;
use tonic::{Request, Response, Status};

pub const BASE_CONFIG: &str = r#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/bin:/usr/bin:/bin","LANG=C.UTF-8"],"Cmd":["python3"]},"rootfs":{"type":"layers","diff_ids":["sha256:00"]},"history":[{"created_by":"base"}]}"#;

/// What the frontend did, as BuildKit saw it.
#[derive(Default, Debug)]
pub struct Recorded {
    pub solves: Vec<pb::Definition>,
    /// The caches each solve asked BuildKit to import from, in the order of `solves`.
    pub cache_imports: Vec<Vec<api::CacheOptionsEntry>>,
    pub resolved: Vec<api::ResolveImageConfigRequest>,
    pub warnings: Vec<api::WarnRequest>,
    pub returned: Option<api::ReturnRequest>,
}

impl Recorded {
    /// Every op the build solved, each once: the image's graph as it was solved, then what the
    /// other solves (the scan, the smoke test) added, inputs before what uses them; the solves
    /// that only read the client's files are left out.
    pub fn build_graph(&self) -> pb::Definition {
        let mut merged = pb::Definition::default();
        let mut seen = std::collections::HashSet::new();
        let image = self.graph();
        // The other solves are made at once, in no set order: taken by their output's digest.
        let mut others: Vec<&pb::Definition> = self.solves.iter().collect();
        others.sort_by_key(|solve| solve.def.last().cloned());
        for solve in std::iter::once(image).chain(others) {
            let builds = solve.def.iter().any(|bytes| {
                matches!(
                    pb::Op::decode(bytes.as_slice()).ok().and_then(|op| op.op),
                    Some(pb::op::Op::Exec(_) | pb::op::Op::File(_))
                )
            });
            if !builds {
                continue;
            }
            for bytes in &solve.def {
                if seen.insert(bytes.clone()) {
                    merged.def.push(bytes.clone());
                }
            }
            merged.metadata.extend(solve.metadata.clone());
            // Every solve names the spec as its one source: its locations are the same map's.
            match (&mut merged.source, &solve.source) {
                (Some(all), Some(more)) => all.locations.extend(more.locations.clone()),
                (all, more) => all.clone_from(more),
            }
        }
        merged
    }

    /// The image's graph: the solve whose result was returned, else the last one.
    pub fn graph(&self) -> &pb::Definition {
        let returned = self
            .returned
            .as_ref()
            .and_then(|r| r.result.as_ref())
            .and_then(|r| match &r.result {
                Some(api::result::Result::Ref(r)) => r.id.strip_prefix("ref-")?.parse().ok(),
                _ => None,
            });
        returned
            .and_then(|n: usize| self.solves.get(n))
            .or(self.solves.last())
            .expect("the frontend solved something")
    }

    /// The metadata of a Return without an image (`--call`).
    pub fn answer(&self) -> &std::collections::HashMap<String, Vec<u8>> {
        let result = self
            .returned
            .as_ref()
            .and_then(|r| r.result.as_ref())
            .expect("a result was returned");
        assert!(result.result.is_none(), "an answer carries no image");
        &result.metadata
    }

    /// The metadata the build returned with its image(s).
    pub fn returned_metadata(&self) -> &std::collections::HashMap<String, Vec<u8>> {
        &self
            .returned
            .as_ref()
            .and_then(|r| r.result.as_ref())
            .expect("a result was returned")
            .metadata
    }

    pub fn config(&self) -> serde_json::Value {
        let result = self
            .returned
            .as_ref()
            .and_then(|r| r.result.as_ref())
            .expect("a result was returned");
        serde_json::from_slice(&result.metadata["containerimage.config"]).expect("config JSON")
    }

    pub fn error(&self) -> &bollard_buildkit_proto::google::rpc::Status {
        self.returned
            .as_ref()
            .and_then(|r| r.error.as_ref())
            .expect("an error was returned")
    }
}

#[derive(Clone)]
struct Fake {
    spec_name: String,
    spec: Vec<u8>,
    context: Arc<BTreeMap<String, Vec<u8>>>,
    recorded: Arc<Mutex<Recorded>>,
    /// The step (by `llb.customname`) an evaluated solve fails at; the engine then also says
    /// it can evaluate, which is what makes the frontend ask for it.
    fail_at: Option<String>,
    /// BuildKit's message for that failure; `None`: a `RUN` that exited 1.
    fail_with: Option<String>,
    /// What the scans and the smoke tests report (`/pyslim-report/…`), by path: the
    /// dependencies' step's as `PATH`, the app's as `PATH#app`. By step, not by the order of
    /// reads: the frontend solves both at once, and may solve a step again.
    reports: Arc<BTreeMap<String, String>>,
}

/// What a step of ours reports when the test says nothing else: nothing missing, nothing failed.
pub const NOTHING_MISSING: &str =
    r#"{"version": 1, "scanned": {"wheels": 2, "elf_files": 0}, "missing": []}"#;
/// The modules it found include one a service-needing package would have, for specs that skip it.
pub const ALL_IMPORTED: &str = r#"{"modules": 3, "distributions": 2, "seconds": 0.4,
    "found": ["app", "flask", "redis_om"], "failures": [], "test": null}"#;

/// How BuildKit ends the message of a failed `RUN`.
pub const FAILED_STEP: &str = "did not complete successfully: exit code: 1";
/// A detail BuildKit attaches to every error, which a frontend has no business dropping.
pub const STACK_TYPE: &str = "github.com/moby/buildkit/stack+json";

/// BuildKit's answer to a solve that failed at `step`: its command in the message, and in the
/// details a stack trace and the failing vertex, as JSON the way its grpcerrors package
/// marshals typed errors (what `gateway::failed_vertex` reads).
fn failed_step(definition: &pb::Definition, step: &str, message: Option<&str>) -> Status {
    let (vertex, op) = definition
        .def
        .iter()
        .map(|bytes| (pyslim_frontend::llb::digest(bytes), bytes))
        .find(|(digest, _)| {
            definition
                .metadata
                .get(digest)
                .and_then(|m| m.description.get("llb.customname"))
                .is_some_and(|name| name == step)
        })
        .unwrap_or_else(|| panic!("the fake was told to fail `{step}`, which is not in the graph"));
    // BuildKit names the command, not the step: the step's name reaches the message only
    // through the frontend's advice.
    let command = match pb::Op::decode(op.as_slice()).ok().and_then(|op| op.op) {
        Some(pb::op::Op::Exec(exec)) => exec.meta.map(|m| m.args.join(" ")).unwrap_or_default(),
        _ => "file operation".into(),
    };
    let message = message.map_or_else(
        || format!("process \"{command}\" {FAILED_STEP}"),
        |m| m.replace("{command}", &command),
    );
    let any =
        |type_url: &str, value: serde_json::Value| bollard_buildkit_proto::google::protobuf::Any {
            type_url: type_url.into(),
            value: serde_json::to_vec(&value).expect("json"),
        };
    let status = gateway::Status {
        code: tonic::Code::Unknown as i32,
        message: message.clone(),
        details: vec![
            any(
                STACK_TYPE,
                serde_json::json!({"frames": [], "version": "v0.29.0"}),
            ),
            any(
                "github.com/moby/buildkit/errdefs.Vertex+json",
                serde_json::json!({"digest": vertex}),
            ),
        ],
    };
    Status::with_details(tonic::Code::Unknown, message, status.encode_to_vec().into())
}

/// The files a reference may show: its local source's, less what its include patterns leave out.
struct View<'a> {
    files: Vec<(&'a str, &'a [u8])>,
}

impl Fake {
    /// The name (`llb.customname`) of the step a solved reference is the output of.
    fn output_name(&self, reference: &str) -> Result<String, Status> {
        let recorded = self.recorded.lock().expect("lock");
        let definition = reference
            .strip_prefix("ref-")
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|index| recorded.solves.get(index))
            .ok_or_else(|| Status::not_found("no such reference"))?;
        // The last op only points at the output, by the digest of the op that makes it.
        let last = definition
            .def
            .last()
            .map(|bytes| pb::Op::decode(bytes.as_slice()));
        let output = match last {
            Some(Ok(op)) => op.inputs.first().map(|input| input.digest.clone()),
            _ => None,
        };
        Ok(output
            .and_then(|digest| definition.metadata.get(&digest))
            .and_then(|m| m.description.get("llb.customname").cloned())
            .unwrap_or_default())
    }

    fn view(&self, reference: &str) -> Result<View<'_>, Status> {
        let index: usize = reference
            .strip_prefix("ref-")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| Status::invalid_argument("unknown reference"))?;
        let recorded = self.recorded.lock().expect("lock");
        let definition = recorded
            .solves
            .get(index)
            .ok_or_else(|| Status::not_found("no such reference"))?;
        let source = definition
            .def
            .iter()
            .filter_map(|bytes| pb::Op::decode(bytes.as_slice()).ok())
            .find_map(|op| match op.op {
                Some(pb::op::Op::Source(source)) => Some(source),
                _ => None,
            })
            .ok_or_else(|| Status::unimplemented("the fake reads only local sources"))?;
        let include: Vec<String> = source
            .attrs
            .get("local.includepattern")
            .map(|p| serde_json::from_str(p).expect("include patterns are a JSON list"))
            .unwrap_or_default();
        let visible = |path: &str| {
            include.is_empty()
                || include
                    .iter()
                    .any(|p| p == "." || path == p || path.starts_with(&format!("{p}/")))
        };
        let files: Vec<(&str, &[u8])> = match source.identifier.as_str() {
            "local://dockerfile" => vec![(self.spec_name.as_str(), self.spec.as_slice())],
            "local://context" => self
                .context
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_slice()))
                .collect(),
            other => return Err(Status::unimplemented(format!("source {other}"))),
        };
        Ok(View {
            files: files
                .into_iter()
                .filter(|(path, _)| visible(path))
                .collect(),
        })
    }
}

fn not_found(path: &str) -> Status {
    Status::not_found(format!("stat {path}: no such file or directory"))
}

#[tonic::async_trait]
impl LlbBridge for Fake {
    async fn resolve_image_config(
        &self,
        request: Request<api::ResolveImageConfigRequest>,
    ) -> Result<Response<api::ResolveImageConfigResponse>, Status> {
        let request = request.into_inner();
        if request.r#ref.contains("does-not-exist") {
            return Err(Status::not_found(format!("{}: not found", request.r#ref)));
        }
        let architecture = request.platform.as_ref().map(|p| p.architecture.as_str());
        if request.r#ref.contains("amd64-only") && architecture != Some("amd64") {
            // What BuildKit says of an index without the platform.
            return Err(Status::not_found(format!(
                "{}: no match for platform in manifest: not found",
                request.r#ref
            )));
        }
        self.recorded.lock().expect("lock").resolved.push(request);
        Ok(Response::new(api::ResolveImageConfigResponse {
            digest: "sha256:feed".into(),
            config: BASE_CONFIG.as_bytes().to_vec(),
            ..Default::default()
        }))
    }

    async fn solve(
        &self,
        request: Request<api::SolveRequest>,
    ) -> Result<Response<api::SolveResponse>, Status> {
        let request = request.into_inner();
        let definition = request
            .definition
            .ok_or_else(|| Status::invalid_argument("no definition"))?;
        let mut recorded = self.recorded.lock().expect("lock");
        let failure = match &self.fail_at {
            Some(step) if request.evaluate => {
                Some(failed_step(&definition, step, self.fail_with.as_deref()))
            }
            _ => None,
        };
        recorded.solves.push(definition);
        recorded.cache_imports.push(request.cache_imports);
        if let Some(status) = failure {
            return Err(status);
        }
        let id = format!("ref-{}", recorded.solves.len() - 1);
        Ok(Response::new(api::SolveResponse {
            r#ref: String::new(),
            result: Some(api::Result {
                result: Some(api::result::Result::Ref(api::Ref { id, def: None })),
                ..Default::default()
            }),
        }))
    }

    async fn read_file(
        &self,
        request: Request<api::ReadFileRequest>,
    ) -> Result<Response<api::ReadFileResponse>, Status> {
        let request = request.into_inner();
        if let Some(report) = request.file_path.strip_prefix("/pyslim-report/") {
            let default = match report {
                "libraries.json" => NOTHING_MISSING,
                "smoke.json" => ALL_IMPORTED,
                "native.json" => r#"{"complete": true}"#,
                other => return Err(not_found(other)),
            };
            let key = match self.output_name(&request.r#ref)?.contains("the app") {
                true => format!("{}#app", request.file_path),
                false => request.file_path.clone(),
            };
            let text = self.reports.get(&key).map_or(default, String::as_str);
            return Ok(Response::new(api::ReadFileResponse {
                data: text.as_bytes().to_vec(),
            }));
        }
        let view = self.view(&request.r#ref)?;
        let (_, data) = view
            .files
            .iter()
            .find(|(path, _)| *path == request.file_path)
            .ok_or_else(|| not_found(&request.file_path))?;
        Ok(Response::new(api::ReadFileResponse {
            data: data.to_vec(),
        }))
    }

    async fn stat_file(
        &self,
        request: Request<api::StatFileRequest>,
    ) -> Result<Response<api::StatFileResponse>, Status> {
        let request = request.into_inner();
        let view = self.view(&request.r#ref)?;
        let path = request.path.as_str();
        let mode = if view.files.iter().any(|(p, _)| *p == path) {
            0o100644
        } else if view
            .files
            .iter()
            .any(|(p, _)| p.starts_with(&format!("{path}/")))
        {
            0o040755
        } else {
            return Err(not_found(path));
        };
        Ok(Response::new(api::StatFileResponse {
            stat: Some(Stat {
                path: path.into(),
                mode,
                ..Default::default()
            }),
        }))
    }

    async fn ping(
        &self,
        _: Request<api::PingRequest>,
    ) -> Result<Response<api::PongResponse>, Status> {
        let cap = |id: &str| ApiCap {
            id: id.into(),
            enabled: true,
            ..Default::default()
        };
        let mut frontend_api_caps =
            vec![cap("solve.base"), cap("readfile"), cap("gateway.warnings")];
        if self.fail_at.is_some() {
            frontend_api_caps.push(cap("gateway.solve.evaluate"));
        }
        Ok(Response::new(api::PongResponse {
            frontend_api_caps,
            llb_caps: vec![cap("exec.mount.bind"), cap("exec.mount.selector")],
            workers: Vec::new(),
        }))
    }

    async fn r#return(
        &self,
        request: Request<api::ReturnRequest>,
    ) -> Result<Response<api::ReturnResponse>, Status> {
        let mut recorded = self.recorded.lock().expect("lock");
        if recorded.returned.is_some() {
            return Err(Status::failed_precondition("Return may be called once"));
        }
        recorded.returned = Some(request.into_inner());
        Ok(Response::new(api::ReturnResponse {}))
    }

    async fn resolve_source_meta(
        &self,
        _: Request<api::ResolveSourceMetaRequest>,
    ) -> Result<Response<api::ResolveSourceMetaResponse>, Status> {
        Err(Status::unimplemented("resolve_source_meta"))
    }
    async fn read_dir(
        &self,
        _: Request<api::ReadDirRequest>,
    ) -> Result<Response<api::ReadDirResponse>, Status> {
        Err(Status::unimplemented("read_dir"))
    }
    async fn evaluate(
        &self,
        _: Request<api::EvaluateRequest>,
    ) -> Result<Response<api::EvaluateResponse>, Status> {
        Err(Status::unimplemented("evaluate"))
    }
    async fn inputs(
        &self,
        _: Request<api::InputsRequest>,
    ) -> Result<Response<api::InputsResponse>, Status> {
        Err(Status::unimplemented("inputs"))
    }
    async fn new_container(
        &self,
        _: Request<api::NewContainerRequest>,
    ) -> Result<Response<api::NewContainerResponse>, Status> {
        Err(Status::unimplemented("new_container"))
    }
    async fn release_container(
        &self,
        _: Request<api::ReleaseContainerRequest>,
    ) -> Result<Response<api::ReleaseContainerResponse>, Status> {
        Err(Status::unimplemented("release_container"))
    }
    type ExecProcessStream = tokio_stream::Empty<Result<api::ExecMessage, Status>>;
    async fn exec_process(
        &self,
        _: Request<tonic::Streaming<api::ExecMessage>>,
    ) -> Result<Response<Self::ExecProcessStream>, Status> {
        Err(Status::unimplemented("exec_process"))
    }
    async fn read_file_container(
        &self,
        _: Request<api::ReadFileRequest>,
    ) -> Result<Response<api::ReadFileResponse>, Status> {
        Err(Status::unimplemented("read_file_container"))
    }
    async fn read_dir_container(
        &self,
        _: Request<api::ReadDirRequest>,
    ) -> Result<Response<api::ReadDirResponse>, Status> {
        Err(Status::unimplemented("read_dir_container"))
    }
    async fn stat_file_container(
        &self,
        _: Request<api::StatFileRequest>,
    ) -> Result<Response<api::StatFileResponse>, Status> {
        Err(Status::unimplemented("stat_file_container"))
    }
    async fn warn(
        &self,
        request: Request<api::WarnRequest>,
    ) -> Result<Response<api::WarnResponse>, Status> {
        let mut recorded = self.recorded.lock().expect("lock");
        recorded.warnings.push(request.into_inner());
        Ok(Response::new(api::WarnResponse {}))
    }
}

/// A build as BuildKit would run it: the frontend loop against the fake, over an in-memory
/// HTTP/2 stream; a failure is returned to the fake the way `main` returns it.
pub async fn build(
    spec: &str,
    context: &[(&str, &[u8])],
    options: &[(&str, &str)],
) -> (Result<(), Failure>, Recorded) {
    run(spec, context, options, None, None, &[]).await
}

/// A build whose scan or smoke test reports `reports` (by path, `/pyslim-report/…`).
pub async fn build_reporting(
    spec: &str,
    context: &[(&str, &[u8])],
    options: &[(&str, &str)],
    reports: &[(&str, &str)],
) -> (Result<(), Failure>, Recorded) {
    run(spec, context, options, None, None, reports).await
}

/// A build whose image solve fails at the step named `step`, as BuildKit reports a failed
/// `RUN`: the engine evaluates the graph when asked, and the error names the vertex.
pub async fn build_failing_at(
    spec: &str,
    context: &[(&str, &[u8])],
    options: &[(&str, &str)],
    step: &str,
) -> (Result<(), Failure>, Recorded) {
    run(spec, context, options, Some(step.to_string()), None, &[]).await
}

/// A build whose image solve fails at `step` with BuildKit's `message` (`{command}` in it
/// stands for the step's command).
pub async fn build_failing_with(
    spec: &str,
    context: &[(&str, &[u8])],
    options: &[(&str, &str)],
    step: &str,
    message: &str,
) -> (Result<(), Failure>, Recorded) {
    run(
        spec,
        context,
        options,
        Some(step.to_string()),
        Some(message.to_string()),
        &[],
    )
    .await
}

async fn run(
    spec: &str,
    context: &[(&str, &[u8])],
    options: &[(&str, &str)],
    fail_at: Option<String>,
    fail_with: Option<String>,
    reports: &[(&str, &str)],
) -> (Result<(), Failure>, Recorded) {
    let recorded = Arc::new(Mutex::new(Recorded::default()));
    let options = Options::from_pairs(options.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .expect("valid options");
    let fake = Fake {
        spec_name: options.filename.clone(),
        spec: spec.as_bytes().to_vec(),
        context: Arc::new(
            context
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_vec()))
                .collect(),
        ),
        recorded: recorded.clone(),
        fail_at,
        fail_with,
        reports: Arc::new(
            reports
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
    };
    let (client, server) = tokio::io::duplex(1 << 20);
    let serving = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(LlbBridgeServer::new(fake))
            .serve_with_incoming(tokio_stream::once(Ok::<_, std::io::Error>(server))),
    );
    let mut gateway = Gateway::over(client).await.expect("connects to the fake");
    let result = convert::build(&mut gateway, &options).await;
    if let Err(failure) = &result {
        gateway
            .return_error(failure.status())
            .await
            .expect("the error is returned");
    }
    drop(gateway);
    serving.abort();
    let recorded = std::mem::take(&mut *recorded.lock().expect("lock"));
    (result, recorded)
}

/// Every file under `dir`, by path relative to it, as a build context.
pub fn directory(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("readable directory")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .into_owned();
                out.push((relative, std::fs::read(&path).expect("readable file")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}
