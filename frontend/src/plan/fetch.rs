//! How the compile stage's pip reaches packages: which index, which wheel directories, with
//! which credentials, over which network — and the wheel cache kept per index.

use pyslim_spec::Spec;

use super::layout::{
    CONTEXT, SSH_AGENT, SSH_CONFIG, WHEEL_CACHE, WHEELS_CONTEXT, context, pip_cache,
};
use super::types::{ResolvedBases, Run, Settings, StepMount, StepNetwork};
use crate::platform::Platform;

/// What every downloading step adds to its command, environment and mounts.
pub struct Fetch {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub mounts: Vec<StepMount>,
    /// Context directories the downloading steps must see (`find-links`).
    pub context: Vec<String>,
    pub network: StepNetwork,
    /// Where downloaded wheels are kept by file name (see `fetch_wheels.py`).
    pub wheel_cache: StepMount,
    /// `index: none`: nothing can be downloaded.
    pub offline: bool,
    /// The target, when the steps download from PyPI itself and nothing else — no index,
    /// find-links or proxy of the spec's, the build's or the compile image's: a file PyPI
    /// serves can then be fetched by the engine, without running pip for it.
    pub from_pypi: Option<Platform>,
}

impl Fetch {
    pub fn of(spec: &Spec, settings: &Settings, bases: &ResolvedBases) -> Fetch {
        let index = &spec.index;
        // pip settings in the image's environment point its pip elsewhere (a pip.conf in the
        // image would too, and is not seen here: `installer: pip` or `index:` then).
        let pip_elsewhere = bases.compile.env.iter().any(|e| {
            [
                "PIP_INDEX_URL=",
                "PIP_EXTRA_INDEX_URL=",
                "PIP_FIND_LINKS=",
                "PIP_NO_INDEX=",
            ]
            .iter()
            .any(|name| e.starts_with(name))
        });
        let from_pypi = index.url.is_none()
            && index.extra.is_empty()
            && !index.offline
            && spec.find_links.is_empty()
            && !settings.proxied
            && !pip_elsewhere;
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
            (
                "PIP_CACHE_DIR".to_string(),
                super::layout::PIP_CACHE.to_string(),
            ),
            ("PIP_ROOT_USER_ACTION".to_string(), "ignore".to_string()),
            // An extension compiled from source would carry pip's random build directory in
            // its debug information, and so differ in every clean build; an image's extensions
            // are not debugged with gdb. Flags compilers read after the project's own.
            ("CFLAGS".to_string(), "-g0".to_string()),
            ("CXXFLAGS".to_string(), "-g0".to_string()),
        ];
        let mut mounts = vec![pip_cache()];
        if let Some(wheels) = &settings.wheels_context {
            // Wheels built before (article 004's inherited wheels): pip takes a wheel over
            // building the same version from source.
            args.extend(["--find-links".to_string(), WHEELS_CONTEXT.to_string()]);
            mounts.push(StepMount::WheelsContext {
                dest: WHEELS_CONTEXT.into(),
                wheels: wheels.clone(),
            });
        }
        if let Some(ssh) = &spec.ssh {
            env.push(("SSH_AUTH_SOCK".into(), SSH_AGENT.into()));
            mounts.push(StepMount::Ssh {
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
                mounts.push(StepMount::Files {
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
            mounts.push(StepMount::Secret {
                dest,
                id: id.to_string(),
            });
        }
        Fetch {
            args,
            env,
            mounts,
            context: spec.find_links.iter().map(|d| d.to_string()).collect(),
            network: if spec.host_network.is_some() {
                StepNetwork::Host
            } else {
                StepNetwork::Sandbox
            },
            wheel_cache: StepMount::Cache {
                dest: WHEEL_CACHE.into(),
                id: format!("pyslim-wheels-{:016x}", fnv1a(indexes.as_bytes())),
                // pip writes into its wheel directory without atomic renames.
                locked: true,
            },
            offline: index.offline,
            from_pypi: from_pypi.then(|| bases.platform.clone()),
        }
    }

    /// A downloading step's command: `args` with this index's options appended, this fetch's
    /// environment and network, and `mounts` (which should start from [`Fetch::mounts`]).
    pub fn run(&self, mut args: Vec<String>, cwd: &str, mounts: Vec<StepMount>) -> Run {
        args.extend(self.args.iter().cloned());
        self.run_without_pip(args, cwd, mounts)
    }

    /// A step that reaches the network as the downloading steps do (environment, network) but
    /// runs no pip: none of pip's index options are appended.
    pub fn run_without_pip(&self, args: Vec<String>, cwd: &str, mounts: Vec<StepMount>) -> Run {
        Run {
            args,
            env: self.env.clone(),
            cwd: cwd.into(),
            mounts,
            network: self.network,
            user: None,
        }
    }

    /// The mounts of a downloading step that reads nothing else of the context than the
    /// `find-links` directories.
    pub fn mounts_with_find_links(&self) -> Vec<StepMount> {
        let mut mounts = self.mounts.clone();
        if !self.context.is_empty() {
            mounts.push(context(&self.context, false));
        }
        mounts
    }
}

/// A hash that stays the same across Rust versions and machines, unlike `DefaultHasher`'s.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
