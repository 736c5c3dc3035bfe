//! The client side of BuildKit's `LLBBridge`: the RPCs a frontend makes, over the pipes
//! BuildKit gives it as stdin/stdout, with errors shaped the way the docker CLI shows them.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bollard_buildkit_proto::fsutil::types::Stat;
use bollard_buildkit_proto::google::protobuf::Any;
use bollard_buildkit_proto::moby::buildkit::v1::frontend as api;
use bollard_buildkit_proto::pb;
use hyper_util::rt::TokioIo;
use prost::Message;
use pyslim_spec::SourceFile;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::unix::pipe;
use tonic::transport::{Channel, Endpoint, Uri};

use crate::llb;
use crate::options::CacheImport;
use crate::platform::Platform;

pub use bollard_buildkit_proto::google::rpc::Status;

type Client = api::llb_bridge_client::LlbBridgeClient<Channel>;

/// BuildKit accepts 16 MiB messages each way (v0.14+); tonic's default decode limit is 4 MB.
const MESSAGE_LIMIT: usize = 16 << 20;

/// The gRPC code BuildKit uses for a failed build (`Unknown`).
const CODE_UNKNOWN: i32 = 2;

/// The detail type the docker CLI renders as the spec lines around an error.
const SOURCE_TYPE_URL: &str = "github.com/moby/buildkit/errdefs.Source+json";

#[derive(Debug)]
pub enum GatewayError {
    Transport(String),
    /// BuildKit answered with an error, e.g. a failed step: its status carries the details.
    Rpc(tonic::Status),
    /// BuildKit answered something a gateway never should.
    Protocol(String),
}

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GatewayError::Transport(e) => write!(f, "gateway transport: {e}"),
            GatewayError::Rpc(status) => f.write_str(status.message()),
            GatewayError::Protocol(e) => write!(f, "unexpected gateway answer: {e}"),
        }
    }
}

impl std::error::Error for GatewayError {}

impl From<tonic::Status> for GatewayError {
    fn from(status: tonic::Status) -> GatewayError {
        GatewayError::Rpc(status)
    }
}

/// A reference to a solved result, for reading its files or returning it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SolvedRef(pub String);

/// What a build returns: one image, or one per platform keyed by platform id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Returned {
    One(SolvedRef),
    ByPlatform(BTreeMap<String, SolvedRef>),
}

/// Cheap to clone: clones share the one connection, so a build can make several requests at
/// once (BuildKit solves them in parallel).
#[derive(Clone)]
pub struct Gateway {
    client: Client,
    /// Passed with every solve: BuildKit looks in an imported cache only for the solves that
    /// name it, and a frontend's solves are its own requests, not the client's.
    cache_imports: Vec<api::CacheOptionsEntry>,
}

impl Gateway {
    /// BuildKit serves the gateway as HTTP/2 without TLS on the pipes it gave us as fd 0 and 1.
    pub async fn connect_stdio() -> Result<Gateway, GatewayError> {
        let transport = |e: std::io::Error| GatewayError::Transport(e.to_string());
        // Own duplicates, as non-blocking pipe ends driven by tokio's reactor; tokio::io::stdin
        // would read on a blocking thread that keeps the process alive after Return.
        let input = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map_err(transport)?;
        let output = std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .map_err(transport)?;
        let stream = Stdio {
            input: pipe::Receiver::from_owned_fd(input).map_err(transport)?,
            output: pipe::Sender::from_owned_fd(output).map_err(transport)?,
        };
        Gateway::over(stream).await
    }

    /// The gateway over any byte stream: the pipes in production, an in-memory duplex in tests.
    pub async fn over<S>(stream: S) -> Result<Gateway, GatewayError>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        // A connector that hands out the one stream once: there is nothing to reconnect to.
        let slot = Arc::new(Mutex::new(Some(TokioIo::new(stream))));
        let connector = tower::service_fn(move |_: Uri| {
            let stream = slot.lock().ok().and_then(|mut s| s.take());
            async move {
                stream.ok_or_else(|| std::io::Error::other("the gateway stream was already used"))
            }
        });
        let channel = Endpoint::from_static("http://localhost")
            .connect_with_connector(connector)
            .await
            .map_err(|e| GatewayError::Transport(e.to_string()))?;
        let client = Client::new(channel)
            .max_decoding_message_size(MESSAGE_LIMIT)
            .max_encoding_message_size(MESSAGE_LIMIT);
        Ok(Gateway {
            client,
            cache_imports: Vec::new(),
        })
    }

    /// The caches (`--cache-from`) every later solve may take results from.
    pub fn import_caches(&mut self, imports: &[CacheImport]) {
        self.cache_imports = imports
            .iter()
            .map(|import| api::CacheOptionsEntry {
                r#type: import.kind.clone(),
                attrs: import.attrs.clone().into_iter().collect(),
            })
            .collect();
    }

    /// Hands a definition to the solver. Lazy: it runs when its files are read or it is returned.
    pub async fn solve(&mut self, definition: pb::Definition) -> Result<SolvedRef, GatewayError> {
        self.solve_with(definition, false).await
    }

    /// Solves now rather than when the result is returned, so a failing step's error comes
    /// back to the frontend (which can add advice) instead of straight to the user.
    pub async fn evaluate(
        &mut self,
        definition: pb::Definition,
    ) -> Result<SolvedRef, GatewayError> {
        self.solve_with(definition, true).await
    }

    async fn solve_with(
        &mut self,
        definition: pb::Definition,
        evaluate: bool,
    ) -> Result<SolvedRef, GatewayError> {
        let response = self
            .client
            .solve(api::SolveRequest {
                definition: Some(definition),
                allow_result_return: true,
                allow_result_array_ref: true,
                evaluate,
                cache_imports: self.cache_imports.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        use api::result::Result as R;
        match response.result.and_then(|r| r.result) {
            Some(R::Ref(reference)) => Ok(SolvedRef(reference.id)),
            Some(R::RefDeprecated(id)) => Ok(SolvedRef(id)),
            None if !response.r#ref.is_empty() => Ok(SolvedRef(response.r#ref)),
            other => Err(GatewayError::Protocol(format!(
                "a solve returned no single reference: {other:?}"
            ))),
        }
    }

    pub async fn read_file(
        &mut self,
        reference: &SolvedRef,
        path: &str,
    ) -> Result<Vec<u8>, GatewayError> {
        let response = self
            .client
            .read_file(api::ReadFileRequest {
                r#ref: reference.0.clone(),
                file_path: path.into(),
                ..Default::default()
            })
            .await?;
        Ok(response.into_inner().data)
    }

    /// The file's metadata, or `None` when it does not exist.
    pub async fn stat_file(
        &mut self,
        reference: &SolvedRef,
        path: &str,
    ) -> Result<Option<Stat>, GatewayError> {
        let request = api::StatFileRequest {
            r#ref: reference.0.clone(),
            path: path.into(),
            ..Default::default()
        };
        match self.client.stat_file(request).await {
            Ok(response) => Ok(response.into_inner().stat),
            Err(status) if is_not_found(&status) => Ok(None),
            Err(status) => Err(status.into()),
        }
    }

    /// The image's digest and config JSON, for the target platform.
    pub async fn resolve_image_config(
        &mut self,
        reference: &str,
        platform: Option<&Platform>,
        log_name: &str,
        session_id: Option<&str>,
    ) -> Result<(String, Vec<u8>), GatewayError> {
        let response = self
            .client
            .resolve_image_config(api::ResolveImageConfigRequest {
                r#ref: reference.into(),
                platform: platform.map(llb::pb_platform),
                resolve_mode: "default".into(),
                log_name: log_name.into(),
                session_id: session_id.unwrap_or_default().into(),
                ..Default::default()
            })
            .await?
            .into_inner();
        Ok((response.digest, response.config))
    }

    /// Returns the image (one, or one per platform) and its metadata (`containerimage.config`…).
    pub async fn return_result(
        &mut self,
        returned: Returned,
        metadata: BTreeMap<String, Vec<u8>>,
        attestations: &[(String, Attested)],
    ) -> Result<(), GatewayError> {
        let reference = |r: SolvedRef| api::Ref { id: r.0, def: None };
        let image = match returned {
            Returned::One(r) => api::result::Result::Ref(reference(r)),
            Returned::ByPlatform(refs) => api::result::Result::Refs(api::RefMap {
                refs: refs.into_iter().map(|(k, r)| (k, reference(r))).collect(),
            }),
        };
        let attestations = attestations
            .iter()
            .map(|(platform, attested)| {
                let attestation = api::Attestation {
                    kind: api::AttestationKind::InToto as i32,
                    // BuildKit's own scanner marks its SBOMs so; the exporter reads the reason.
                    metadata: HashMap::from([("reason".to_string(), b"sbom".to_vec())]),
                    r#ref: Some(api::Ref {
                        id: attested.reference.0.clone(),
                        def: None,
                    }),
                    path: attested.path.clone(),
                    in_toto_predicate_type: attested.predicate_type.clone(),
                    // None: the image itself, which only the exporter knows by digest.
                    in_toto_subjects: Vec::new(),
                };
                let all = api::Attestations {
                    attestation: vec![attestation],
                };
                (platform.clone(), all)
            })
            .collect();
        self.finish(Some(image), metadata, attestations, None).await
    }

    /// Returns information instead of an image (`--call`): metadata and no reference.
    pub async fn return_metadata(
        &mut self,
        metadata: BTreeMap<String, Vec<u8>>,
    ) -> Result<(), GatewayError> {
        self.finish(None, metadata, HashMap::new(), None).await
    }

    pub async fn return_error(&mut self, status: Status) -> Result<(), GatewayError> {
        self.finish(None, BTreeMap::new(), HashMap::new(), Some(status))
            .await
    }

    /// The one `Return` a frontend makes.
    async fn finish(
        &mut self,
        image: Option<api::result::Result>,
        metadata: BTreeMap<String, Vec<u8>>,
        attestations: HashMap<String, api::Attestations>,
        error: Option<Status>,
    ) -> Result<(), GatewayError> {
        let result = error.is_none().then(|| api::Result {
            metadata: metadata.into_iter().collect::<HashMap<_, _>>(),
            result: image,
            attestations,
        });
        self.client
            .r#return(api::ReturnRequest { result, error })
            .await?;
        Ok(())
    }

    /// The gateway API capabilities the engine supports, by id.
    pub async fn frontend_caps(&mut self) -> Result<Vec<String>, GatewayError> {
        let pong = self.client.ping(api::PingRequest {}).await?.into_inner();
        Ok(pong
            .frontend_api_caps
            .into_iter()
            .filter(|c| c.enabled)
            .map(|c| c.id)
            .collect())
    }

    /// A warning in the build's progress, attached to the vertex `digest` and pointing at
    /// `line` of a source file.
    pub async fn warn(
        &mut self,
        digest: &str,
        short: &str,
        detail: &[&str],
        source: &SourceFile,
        line: u32,
    ) -> Result<(), GatewayError> {
        let position = pb::Position {
            line: i32::try_from(line).unwrap_or(i32::MAX),
            character: 0,
        };
        self.client
            .warn(api::WarnRequest {
                digest: digest.into(),
                level: 1,
                short: short.as_bytes().to_vec(),
                detail: detail.iter().map(|d| d.as_bytes().to_vec()).collect(),
                url: String::new(),
                info: Some(llb::source_info(source)),
                ranges: vec![pb::Range {
                    start: Some(position),
                    end: Some(position),
                }],
            })
            .await?;
        Ok(())
    }
}

fn is_not_found(status: &tonic::Status) -> bool {
    status.code() == tonic::Code::NotFound
        || status.message().contains("no such file or directory")
        || status.message().contains("not found")
}

/// A failed-build status whose details make `docker buildx build` print the source lines: for
/// each file an error is about, the 1-based lines it is about.
/// A file in a solved result that the image's attestation holds: an SBOM's SPDX document.
pub struct Attested {
    pub reference: SolvedRef,
    pub path: String,
    pub predicate_type: String,
}

pub fn error_status(message: &str, sources: &[(&SourceFile, Vec<u32>)]) -> Status {
    let details = sources
        .iter()
        .map(|(source, lines)| {
            let ranges: Vec<_> = lines
                .iter()
                .map(|line| serde_json::json!({"start": {"line": line}, "end": {"line": line}}))
                .collect();
            let value = serde_json::json!({
                "info": {
                    "filename": source.name,
                    "data": base64::engine::general_purpose::STANDARD.encode(source.text.as_bytes()),
                    "language": source.kind.language(),
                },
                "ranges": ranges,
            });
            Any {
                type_url: SOURCE_TYPE_URL.into(),
                value: serde_json::to_vec(&value).expect("a JSON value always serialises"),
            }
        })
        .collect();
    Status {
        code: CODE_UNKNOWN,
        message: message.into(),
        details,
    }
}

/// A status BuildKit sent us, to hand back unchanged: its details (the failing vertex, the
/// spec lines from our source map) travel in the binary status header.
pub fn status_from_tonic(status: &tonic::Status) -> Status {
    if !status.details().is_empty()
        && let Ok(full) = Status::decode(status.details())
    {
        return full;
    }
    Status {
        code: status.code() as i32,
        message: status.message().into(),
        details: Vec::new(),
    }
}

/// The digest of the vertex a failed solve names in its details (BuildKit's errdefs.Vertex,
/// sent as JSON: `github.com/moby/buildkit/errdefs.Vertex+json`).
pub fn failed_vertex(status: &Status) -> Option<String> {
    status
        .details
        .iter()
        .filter(|d| d.type_url.ends_with("errdefs.Vertex+json"))
        .find_map(|d| {
            let vertex: serde_json::Value = serde_json::from_slice(&d.value).ok()?;
            vertex["digest"].as_str().map(String::from)
        })
}

/// fd 0 and fd 1 as one duplex stream.
struct Stdio {
    input: pipe::Receiver,
    output: pipe::Sender,
}

impl AsyncRead for Stdio {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.input).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stdio {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.output).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.output).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.output).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_detail_is_the_json_the_cli_decodes() {
        let status = error_status(
            "bad",
            &[(&SourceFile::new("pyslim.yaml", "python: 3\n"), vec![1])],
        );
        assert_eq!(status.code, 2);
        assert_eq!(status.details[0].type_url, SOURCE_TYPE_URL);
        let json: serde_json::Value =
            serde_json::from_slice(&status.details[0].value).expect("json detail");
        assert_eq!(json["info"]["filename"], "pyslim.yaml");
        assert_eq!(json["info"]["data"], "cHl0aG9uOiAzCg==");
        assert_eq!(json["ranges"][0]["start"]["line"], 1);
    }

    #[test]
    fn buildkit_status_details_pass_through() {
        let inner = error_status("step failed", &[]);
        let status = tonic::Status::with_details(
            tonic::Code::Unknown,
            "step failed",
            inner.encode_to_vec().into(),
        );
        assert_eq!(status_from_tonic(&status), inner);
        let plain = tonic::Status::not_found("gone");
        assert_eq!(status_from_tonic(&plain).code, tonic::Code::NotFound as i32);
    }

    #[test]
    fn finds_the_failed_vertex() {
        let mut status = error_status("process failed", &[]);
        status.details.push(Any {
            type_url: "github.com/moby/buildkit/errdefs.Vertex+json".into(),
            value: br#"{"digest":"sha256:abc"}"#.to_vec(),
        });
        assert_eq!(failed_vertex(&status).as_deref(), Some("sha256:abc"));
        assert_eq!(failed_vertex(&error_status("x", &[])), None);
    }
}
