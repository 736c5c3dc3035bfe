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
use pyslim_frontend::gateway::Gateway;
use pyslim_frontend::llb::pb;
use pyslim_frontend::options::Options;
use tonic::{Request, Response, Status};

pub const BASE_CONFIG: &str = r#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/bin:/usr/bin:/bin","LANG=C.UTF-8"],"Cmd":["python3"]},"rootfs":{"type":"layers","diff_ids":["sha256:00"]},"history":[{"created_by":"base"}]}"#;

/// What the frontend did, as BuildKit saw it.
#[derive(Default, Debug)]
pub struct Recorded {
    pub solves: Vec<pb::Definition>,
    pub resolved: Vec<api::ResolveImageConfigRequest>,
    pub warnings: Vec<api::WarnRequest>,
    pub returned: Option<api::ReturnRequest>,
}

impl Recorded {
    /// The definition of the image: the last solve.
    pub fn graph(&self) -> &pb::Definition {
        self.solves.last().expect("the frontend solved something")
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
}

/// The files a reference may show: its local source's, less what its include patterns leave out.
struct View<'a> {
    files: Vec<(&'a str, &'a [u8])>,
}

impl Fake {
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
        let definition = request
            .into_inner()
            .definition
            .ok_or_else(|| Status::invalid_argument("no definition"))?;
        let mut recorded = self.recorded.lock().expect("lock");
        recorded.solves.push(definition);
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
        Ok(Response::new(api::PongResponse {
            frontend_api_caps: vec![cap("solve.base"), cap("readfile"), cap("gateway.warnings")],
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
