//! The build options BuildKit hands a frontend — `BUILDKIT_FRONTEND_OPT_<i>=key=value`
//! variables (there is no RPC for them) and `BUILDKIT_SESSION_ID` — typed once, here, before
//! anything is planned. Everything after this reads fields; nothing re-interprets strings.

use std::collections::BTreeMap;
use std::fmt;

use crate::platform::{NotAPlatform, Platform};
use crate::subrequest::Request;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The spec's path inside the `dockerfile` local source (`-f`).
    pub filename: String,
    /// Name of the local source that holds the spec.
    pub dockerfile_key: String,
    /// Name of the local source that is the build context.
    pub context_key: String,
    pub build_args: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub target: Option<String>,
    /// `--platform`; empty for the engine's own.
    pub platforms: Vec<Platform>,
    /// Return the result keyed by platform even for one platform (`multi-platform`, or
    /// `BUILDKIT_MULTI_PLATFORM=1`): the exporter then makes an index.
    pub multi_platform: bool,
    pub no_cache: NoCache,
    /// Set by `--call`/`--print`: an answer instead of an image.
    pub request: Option<Request>,
    pub sessions: Sessions,
    /// `--build-context wheels=…`: wheels to use before building any.
    pub wheels_context: Option<WheelsContext>,
    /// `--network none|host`: the network of every step, overriding the spec.
    pub network: Option<Network>,
    /// The proxy build args Docker predefines (`HTTP_PROXY` & co.): every step may use them
    /// without declaring them, and neither a cache key nor the image keeps them.
    pub proxy: BTreeMap<String, String>,
    /// `--build-arg SOURCE_DATE_EPOCH=…`: seconds since 1970 that reproducible builds stamp.
    pub epoch: Option<u64>,
    /// `--cache-from`: caches BuildKit imports only into the solves that name them, so every
    /// solve of ours must pass them on (as the Dockerfile frontend does).
    pub cache_imports: Vec<CacheImport>,
    /// `--sbom=true` (`attest:sbom`): the image's SBOM, made by pyslim from what it installed.
    pub sbom: bool,
}

/// One `--cache-from` source: its type (`registry`, `local`, `gha`…) and attributes (`ref`…).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct CacheImport {
    // BuildKit marshals its Go struct with the field names as they are; Go's decoder would
    // also take them in lower case.
    #[serde(rename = "Type", alias = "type")]
    pub kind: String,
    #[serde(rename = "Attrs", alias = "attrs", default)]
    pub attrs: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoCache {
    None,
    All,
    /// `--no-cache-filter`: only these stages.
    Stages(Vec<String>),
}

/// The network every step uses, whatever the spec says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    None,
    Host,
}

/// Wheels built before, given as the `wheels` build context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WheelsContext {
    /// A client directory (`--build-context wheels=DIR`), all of it wheels.
    Local { name: String },
    /// An image (`--build-context wheels=docker-image://IMAGE`) whose `/wheels` holds them.
    Image { reference: String },
}

/// Which client session serves which local source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sessions {
    /// The build's own session.
    pub default: Option<String>,
    /// Local sources served by another session.
    pub locals: BTreeMap<String, String>,
}

impl Sessions {
    pub fn of(&self, local: &str) -> String {
        self.locals
            .get(local)
            .or(self.default.as_ref())
            .cloned()
            .unwrap_or_default()
    }
}

/// An option BuildKit passed that pyslim cannot honour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionError {
    Platform(NotAPlatform),
    Network(String),
    WheelsContext(String),
    Epoch(String),
    CacheImports(String),
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionError::Platform(error) => error.fmt(f),
            OptionError::Network(other) => write!(
                f,
                "pyslim cannot build with `--network {other}`; use none, host or default"
            ),
            OptionError::WheelsContext(value) => write!(
                f,
                "the `wheels` build context `{value}` is neither a directory nor an image; pass `--build-context wheels=DIR` or `--build-context wheels=docker-image://IMAGE` (whose /wheels holds the wheels)"
            ),
            OptionError::CacheImports(why) => write!(
                f,
                "the cache sources BuildKit passed (`cache-imports`) are not what pyslim reads: {why}"
            ),
            OptionError::Epoch(value) => write!(
                f,
                "SOURCE_DATE_EPOCH `{value}` is not a number of seconds since 1970; pass `--build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)`"
            ),
        }
    }
}

impl std::error::Error for OptionError {}

/// The name of the build context that holds reusable wheels.
const WHEELS_CONTEXT: &str = "wheels";
const PROXY_ARGS: [&str; 5] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "FTP_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
];

impl Default for Options {
    fn default() -> Options {
        Options {
            filename: "pyslim.yaml".into(),
            dockerfile_key: "dockerfile".into(),
            context_key: "context".into(),
            build_args: BTreeMap::new(),
            labels: BTreeMap::new(),
            target: None,
            platforms: Vec::new(),
            multi_platform: false,
            no_cache: NoCache::None,
            request: None,
            sessions: Sessions::default(),
            wheels_context: None,
            network: None,
            proxy: BTreeMap::new(),
            epoch: None,
            cache_imports: Vec::new(),
            sbom: false,
        }
    }
}

impl Options {
    pub fn from_env() -> Result<Options, OptionError> {
        let pairs = std::env::vars().filter_map(|(name, value)| {
            name.starts_with("BUILDKIT_FRONTEND_OPT_")
                .then(|| {
                    value
                        .split_once('=')
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                })
                .flatten()
        });
        let mut options = Options::from_pairs(pairs)?;
        options.sessions.default = std::env::var("BUILDKIT_SESSION_ID")
            .ok()
            .filter(|s| !s.is_empty());
        Ok(options)
    }

    /// Options from `key=value` pairs; unknown keys are left to BuildKit (attestations,
    /// cache imports and the like are its business, not ours).
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Options, OptionError> {
        let mut options = Options::default();
        for (key, value) in pairs {
            if let Some(name) = key.strip_prefix("build-arg:") {
                options.build_args.insert(name.into(), value);
            } else if let Some(name) = key.strip_prefix("label:") {
                options.labels.insert(name.into(), value);
            } else if let Some(name) = key.strip_prefix("context:") {
                if name == WHEELS_CONTEXT {
                    options.wheels_context = Some(wheels_context(value)?);
                }
            } else if let Some(name) = key.strip_prefix("local-sessionid:") {
                options.sessions.locals.insert(name.into(), value);
            } else {
                match key.as_str() {
                    "filename" if !value.is_empty() => options.filename = value,
                    "dockerfilekey" if !value.is_empty() => options.dockerfile_key = value,
                    "contextkey" if !value.is_empty() => options.context_key = value,
                    "target" => options.target = Some(value).filter(|v| !v.is_empty()),
                    "requestid" if !value.is_empty() => {
                        options.request = Some(Request::from_id(&value))
                    }
                    "force-network-mode" => options.network = network(&value)?,
                    "multi-platform" => options.multi_platform = truthy(&value),
                    "cache-imports" if !value.is_empty() => {
                        let imports: Vec<CacheImport> = serde_json::from_str(&value)
                            .map_err(|why| OptionError::CacheImports(why.to_string()))?;
                        options.cache_imports.extend(imports);
                    }
                    // The older spelling: registry references only.
                    "cache-from" => {
                        options.cache_imports.extend(
                            value.split(',').filter(|r| !r.trim().is_empty()).map(|r| {
                                CacheImport {
                                    kind: "registry".into(),
                                    attrs: BTreeMap::from([("ref".into(), r.trim().into())]),
                                }
                            }),
                        );
                    }
                    "platform" => {
                        options.platforms = value
                            .split(',')
                            .filter(|p| !p.trim().is_empty())
                            .map(Platform::parse)
                            .collect::<Result<_, _>>()
                            .map_err(OptionError::Platform)?;
                    }
                    // `--sbom=false` sends `disabled=true`; a generator named for BuildKit's
                    // scanner is not needed: pyslim knows what it installed.
                    "attest:sbom" => {
                        options.sbom = !value.split(',').any(|f| f.trim() == "disabled=true")
                    }
                    "no-cache" => {
                        options.no_cache = if value.is_empty() {
                            NoCache::All
                        } else {
                            NoCache::Stages(
                                value.split(',').map(|s| s.trim().to_string()).collect(),
                            )
                        };
                    }
                    _ => {}
                }
            }
        }
        for name in PROXY_ARGS {
            let lower = name.to_ascii_lowercase();
            let value = options
                .build_args
                .get(name)
                .or(options.build_args.get(&lower));
            if let Some(value) = value {
                options.proxy.insert(name.to_string(), value.clone());
            }
        }
        if let Some(value) = options.build_args.get("BUILDKIT_MULTI_PLATFORM") {
            options.multi_platform = truthy(value);
        }
        // Empty is none, as BuildKit's exporter reads it.
        if let Some(value) = options
            .build_args
            .get("SOURCE_DATE_EPOCH")
            .filter(|v| !v.trim().is_empty())
        {
            let epoch = value
                .trim()
                .parse()
                .map_err(|_| OptionError::Epoch(value.clone()))?;
            options.epoch = Some(epoch);
        }
        Ok(options)
    }
}

/// Go's `strconv.ParseBool` true values, which BuildKit parses these options with.
fn truthy(value: &str) -> bool {
    matches!(value, "1" | "t" | "T" | "true" | "TRUE" | "True")
}

fn network(value: &str) -> Result<Option<Network>, OptionError> {
    match value {
        "" | "default" | "sandbox" => Ok(None),
        "none" => Ok(Some(Network::None)),
        "host" => Ok(Some(Network::Host)),
        other => Err(OptionError::Network(other.to_string())),
    }
}

fn wheels_context(value: String) -> Result<WheelsContext, OptionError> {
    if let Some(name) = value.strip_prefix("local:") {
        return Ok(WheelsContext::Local { name: name.into() });
    }
    if let Some(reference) = value.strip_prefix("docker-image://") {
        return Ok(WheelsContext::Image {
            reference: reference.into(),
        });
    }
    Err(OptionError::WheelsContext(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> Result<Options, OptionError> {
        Options::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn an_sbom_is_asked_for_unless_disabled() {
        let asked = |value: &str| options(&[("attest:sbom", value)]).expect("valid").sbom;
        assert!(asked(""));
        assert!(asked("generator=docker/buildkit-syft-scanner"));
        assert!(!asked("disabled=true"));
        assert!(!options(&[]).expect("valid").sbom);
    }

    #[test]
    fn reads_what_buildx_passes() {
        let o = options(&[
            ("filename", "deploy/pyslim.yaml"),
            ("build-arg:HTTP_PROXY", "http://proxy:3128"),
            ("build-arg:no_proxy", "localhost"),
            ("build-arg:SOURCE_DATE_EPOCH", "1700000000"),
            ("label:org.opencontainers.image.title", "a=b"),
            ("platform", "linux/arm64"),
            ("no-cache", ""),
            ("local-sessionid:context", "abc"),
            ("context:wheels", "docker-image://example.com/wheels:1"),
            ("force-network-mode", "host"),
            ("requestid", "frontend.outline"),
            ("attest:sbom", "true"),
            (
                "cache-imports",
                r#"[{"Type":"registry","Attrs":{"ref":"localhost:5055/cache:app","mode":"max"}}]"#,
            ),
        ])
        .expect("valid options");
        assert_eq!(o.filename, "deploy/pyslim.yaml");
        assert_eq!(o.build_args["HTTP_PROXY"], "http://proxy:3128");
        assert_eq!(
            o.proxy,
            BTreeMap::from([
                ("HTTP_PROXY".to_string(), "http://proxy:3128".to_string()),
                ("NO_PROXY".into(), "localhost".into()),
            ])
        );
        assert_eq!(o.epoch, Some(1_700_000_000));
        assert!(o.sbom);
        assert_eq!(o.labels["org.opencontainers.image.title"], "a=b");
        assert_eq!(
            o.platforms,
            vec![Platform::parse("linux/arm64").expect("platform")]
        );
        assert_eq!(o.no_cache, NoCache::All);
        assert_eq!(o.sessions.of("context"), "abc");
        assert_eq!(o.sessions.of("other"), "");
        assert_eq!(o.context_key, "context");
        assert_eq!(
            o.wheels_context,
            Some(WheelsContext::Image {
                reference: "example.com/wheels:1".into()
            })
        );
        assert_eq!(o.network, Some(Network::Host));
        assert_eq!(o.request, Some(Request::Outline));
        assert_eq!(
            o.cache_imports,
            vec![CacheImport {
                kind: "registry".into(),
                attrs: BTreeMap::from([
                    ("ref".to_string(), "localhost:5055/cache:app".to_string()),
                    ("mode".into(), "max".into()),
                ]),
            }]
        );
        let legacy = options(&[("cache-from", "a/cache:1,b/cache:2")]).expect("valid options");
        let refs: Vec<_> = legacy
            .cache_imports
            .iter()
            .map(|i| (i.kind.as_str(), i.attrs["ref"].as_str()))
            .collect();
        assert_eq!(refs, [("registry", "a/cache:1"), ("registry", "b/cache:2")]);
    }

    #[test]
    fn what_pyslim_cannot_honour_is_refused_with_the_way_out() {
        let o = options(&[("no-cache", "compile")]).expect("valid options");
        assert_eq!(o.no_cache, NoCache::Stages(vec!["compile".into()]));
        assert!(matches!(
            options(&[("platform", "linux/")]),
            Err(OptionError::Platform(_))
        ));
        let network = options(&[("force-network-mode", "bridge")]).expect_err("bridge");
        assert!(
            network.to_string().contains("none, host or default"),
            "{network}"
        );
        let wheels = options(&[("context:wheels", "https://example.com/w.tar")]).expect_err("url");
        assert!(
            wheels.to_string().contains("--build-context wheels=DIR"),
            "{wheels}"
        );
        let imports = options(&[("cache-imports", "registry")]).expect_err("not JSON");
        assert!(imports.to_string().contains("cache-imports"), "{imports}");
        let epoch = options(&[("build-arg:SOURCE_DATE_EPOCH", "yesterday")]).expect_err("epoch");
        assert!(epoch.to_string().contains("seconds since 1970"), "{epoch}");
        // Other named contexts are BuildKit's business.
        assert_eq!(
            options(&[("context:other", "https://example.com/x")]).map(|o| o.wheels_context),
            Ok(None)
        );
    }
}
