//! The build options BuildKit hands a frontend: `BUILDKIT_FRONTEND_OPT_<i>=key=value` variables
//! (there is no RPC for them) and `BUILDKIT_SESSION_ID`.

use std::collections::BTreeMap;

use crate::platform::Platform;

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
    pub platforms: Vec<Platform>,
    pub no_cache: NoCache,
    /// Set by `--call`/`--print` (e.g. `frontend.outline`).
    pub request_id: Option<String>,
    pub session_id: Option<String>,
    /// Sessions that serve particular local sources, when not the build's own session.
    pub local_session_ids: BTreeMap<String, String>,
    /// Named build contexts (`--build-context NAME=…`): `local:NAME`, `docker-image://REF`, …
    pub contexts: BTreeMap<String, String>,
    /// `--network none|host`: the network of every step, overriding the spec.
    pub network: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoCache {
    None,
    All,
    /// `--no-cache-filter`: only these stages.
    Stages(Vec<String>),
}

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
            no_cache: NoCache::None,
            request_id: None,
            session_id: None,
            local_session_ids: BTreeMap::new(),
            contexts: BTreeMap::new(),
            network: None,
        }
    }
}

impl Options {
    pub fn from_env() -> Result<Options, String> {
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
        options.session_id = std::env::var("BUILDKIT_SESSION_ID")
            .ok()
            .filter(|s| !s.is_empty());
        Ok(options)
    }

    /// Options from `key=value` pairs; unknown keys are left to BuildKit (attestations,
    /// cache imports and the like are its business, not ours).
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Options, String> {
        let mut options = Options::default();
        for (key, value) in pairs {
            if let Some(name) = key.strip_prefix("build-arg:") {
                options.build_args.insert(name.into(), value);
            } else if let Some(name) = key.strip_prefix("label:") {
                options.labels.insert(name.into(), value);
            } else if let Some(name) = key.strip_prefix("context:") {
                options.contexts.insert(name.into(), value);
            } else if let Some(name) = key.strip_prefix("local-sessionid:") {
                options.local_session_ids.insert(name.into(), value);
            } else {
                match key.as_str() {
                    "filename" if !value.is_empty() => options.filename = value,
                    "dockerfilekey" if !value.is_empty() => options.dockerfile_key = value,
                    "contextkey" if !value.is_empty() => options.context_key = value,
                    "target" => options.target = Some(value).filter(|v| !v.is_empty()),
                    "requestid" => options.request_id = Some(value).filter(|v| !v.is_empty()),
                    "force-network-mode" => {
                        options.network = Some(value).filter(|v| !v.is_empty() && v != "default")
                    }
                    "platform" => {
                        options.platforms = value
                            .split(',')
                            .filter(|p| !p.trim().is_empty())
                            .map(Platform::parse)
                            .collect::<Result<_, _>>()?;
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
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> Result<Options, String> {
        Options::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn reads_what_buildx_passes() {
        let o = options(&[
            ("filename", "deploy/pyslim.yaml"),
            ("build-arg:HTTP_PROXY", "http://proxy:3128"),
            ("label:org.opencontainers.image.title", "a=b"),
            ("platform", "linux/arm64"),
            ("no-cache", ""),
            ("local-sessionid:context", "abc"),
            ("attest:sbom", "true"),
        ])
        .expect("valid options");
        assert_eq!(o.filename, "deploy/pyslim.yaml");
        assert_eq!(o.build_args["HTTP_PROXY"], "http://proxy:3128");
        assert_eq!(o.labels["org.opencontainers.image.title"], "a=b");
        assert_eq!(
            o.platforms,
            vec![Platform::parse("linux/arm64").expect("platform")]
        );
        assert_eq!(o.no_cache, NoCache::All);
        assert_eq!(o.local_session_ids["context"], "abc");
        assert_eq!(o.context_key, "context");
    }

    #[test]
    fn no_cache_filter_names_stages_and_bad_platforms_are_errors() {
        let o = options(&[("no-cache", "compile")]).expect("valid options");
        assert_eq!(o.no_cache, NoCache::Stages(vec!["compile".into()]));
        assert!(options(&[("platform", "linux/")]).is_err());
    }
}
