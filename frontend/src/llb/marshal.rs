//! [`State`] → `pb::Definition`: every op once, inputs before the ops that use them, a bare
//! terminal op last, and each op's bytes in the encoding BuildKit's solver re-creates.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use bollard_buildkit_proto::pb;
use prost::Message;
use sha2::{Digest, Sha256};

use super::state::{
    CacheSharing, Exec, FileAction, MountSource, Network, OpKind, Owner, State, Vertex,
};
use crate::platform::Platform;
use pyslim_spec::SourceFile;

/// A file as BuildKit's source maps and warnings carry it, so errors can quote it.
pub fn source_info(file: &SourceFile) -> pb::SourceInfo {
    pb::SourceInfo {
        filename: file.name.clone(),
        data: file.text.clone().into_bytes(),
        definition: None,
        language: file.kind.language().into(),
    }
}

/// The definition of `state`; `source` is the file the ops' [`super::Location`]s refer to.
pub fn marshal(state: &State, source: Option<&SourceFile>) -> pb::Definition {
    let mut m = Marshaller::default();
    let target = m.input(state);
    let terminal = pb::Op {
        inputs: vec![target],
        ..Default::default()
    };
    m.def.push(encode_op(&terminal));
    let mut definition = pb::Definition {
        def: m.def,
        metadata: m.metadata,
        source: None,
    };
    if let Some(file) = source.filter(|_| !m.locations.is_empty()) {
        definition.source = Some(pb::Source {
            locations: m.locations,
            infos: vec![source_info(file)],
        });
    }
    definition
}

/// Go's deterministic protobuf encoding, which BuildKit (v0.18+) applies to every op before
/// digesting it: fields in tag order, except that the `op` oneof comes last. prost writes
/// strictly in tag order, which would put the oneof (tags 2–7) before `platform` (10) and give
/// every op a digest the solver does not know, losing the op's metadata and source location.
pub fn encode_op(op: &pb::Op) -> Vec<u8> {
    let without_oneof = pb::Op {
        op: None,
        ..op.clone()
    };
    let mut bytes = without_oneof.encode_to_vec();
    if let Some(oneof) = &op.op {
        oneof.encode(&mut bytes);
    }
    bytes
}

/// An op's digest: `sha256:` and the hex of its encoded bytes.
pub fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut hex = String::with_capacity(71);
    hex.push_str("sha256:");
    for byte in hash {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

#[derive(Default)]
struct Marshaller {
    def: Vec<Vec<u8>>,
    metadata: BTreeMap<String, pb::OpMetadata>,
    locations: BTreeMap<String, pb::Locations>,
    /// Digest of each vertex already written, by identity.
    done: HashMap<*const Vertex, String>,
}

impl Marshaller {
    fn input(&mut self, state: &State) -> pb::Input {
        pb::Input {
            digest: self.vertex(&state.vertex),
            index: state.output,
        }
    }

    /// The index of `state` among an op's inputs, added if it is not there yet.
    fn input_index(&mut self, inputs: &mut Vec<pb::Input>, state: &State) -> i64 {
        let input = self.input(state);
        let at = inputs.iter().position(|i| *i == input).unwrap_or_else(|| {
            inputs.push(input);
            inputs.len() - 1
        });
        at as i64
    }

    fn vertex(&mut self, vertex: &Rc<Vertex>) -> String {
        if let Some(digest) = self.done.get(&Rc::as_ptr(vertex)) {
            return digest.clone();
        }
        let (op, caps) = self.op(vertex);
        let bytes = encode_op(&op);
        let digest = digest(&bytes);
        self.done.insert(Rc::as_ptr(vertex), digest.clone());
        // Two vertices can be equal ops (the same source twice): BuildKit wants each once.
        if self.metadata.contains_key(&digest) {
            return digest;
        }
        self.def.push(bytes);

        let meta = &vertex.meta;
        let mut description = BTreeMap::new();
        if let Some(name) = &meta.name {
            description.insert("llb.customname".to_string(), name.clone());
        }
        self.metadata.insert(
            digest.clone(),
            pb::OpMetadata {
                ignore_cache: meta.ignore_cache,
                description,
                caps: caps.iter().map(|c| (c.to_string(), true)).collect(),
                ..Default::default()
            },
        );
        if let Some(location) = meta.location {
            let line = |l: u32| pb::Position {
                line: i32::try_from(l).unwrap_or(i32::MAX),
                character: 0,
            };
            self.locations.insert(
                digest.clone(),
                pb::Locations {
                    locations: vec![pb::Location {
                        source_index: 0,
                        ranges: vec![pb::Range {
                            start: Some(line(location.start_line)),
                            end: Some(line(location.end_line)),
                        }],
                    }],
                },
            );
        }
        digest
    }

    fn op(&mut self, vertex: &Vertex) -> (pb::Op, Vec<&'static str>) {
        let mut caps = Vec::new();
        let mut inputs = Vec::new();
        let kind = match &vertex.op {
            OpKind::Source { identifier, attrs } => {
                caps.extend(source_cap(identifier));
                for key in attrs.keys() {
                    if let Some(cap) = attr_cap(key) {
                        caps.push(cap);
                    }
                }
                pb::op::Op::Source(pb::SourceOp {
                    identifier: identifier.clone(),
                    attrs: attrs.clone(),
                })
            }
            OpKind::Exec { root, exec } => {
                pb::op::Op::Exec(self.exec(root, exec, &mut inputs, &mut caps))
            }
            OpKind::File { base, actions } => {
                caps.push("file.base");
                if let Some(base) = base {
                    inputs.push(self.input(base));
                }
                // What a copy reads is a further input, each state once.
                let mut sources = Vec::with_capacity(actions.len());
                for action in actions {
                    sources.push(match action {
                        FileAction::Copy(copy) => Some(self.input_index(&mut inputs, &copy.from)),
                        _ => None,
                    });
                }
                let first = if base.is_some() { 0 } else { -1 };
                pb::op::Op::File(pb::FileOp {
                    actions: file_actions(actions, &sources, first, inputs.len() as i64),
                })
            }
        };
        if vertex.meta.ignore_cache {
            caps.push("meta.ignorecache");
        }
        if vertex.meta.name.is_some() {
            caps.push("meta.description");
        }
        caps.sort_unstable();
        caps.dedup();
        let op = pb::Op {
            inputs,
            op: Some(kind),
            platform: vertex.platform.as_ref().map(pb_platform),
            constraints: None,
        };
        (op, caps)
    }

    fn exec(
        &mut self,
        root: &State,
        exec: &Exec,
        inputs: &mut Vec<pb::Input>,
        caps: &mut Vec<&'static str>,
    ) -> pb::ExecOp {
        caps.push("exec.meta.base");
        inputs.push(self.input(root));
        // BuildKit's own client sorts mounts by destination and numbers outputs in that order.
        let mut extra: Vec<_> = exec.mounts.iter().collect();
        extra.sort_by(|a, b| a.dest.cmp(&b.dest));
        let numbered = exec.outputs();
        let output_of = |dest: &str| numbered.iter().find(|(d, _)| *d == dest).map(|o| o.1);
        let mut mounts = vec![pb::Mount {
            input: 0,
            dest: "/".into(),
            output: 0,
            ..Default::default()
        }];
        for mount in extra {
            // Only a bind mount reads an input or, when writable, has an output.
            let mut pm = pb::Mount {
                dest: mount.dest.clone(),
                input: -1,
                output: -1,
                ..Default::default()
            };
            match &mount.source {
                MountSource::Bind {
                    state,
                    selector,
                    readonly,
                } => {
                    caps.push("exec.mount.bind");
                    pm.input = self.input_index(inputs, state);
                    if !selector.is_empty() {
                        caps.push("exec.mount.selector");
                        pm.selector = selector.clone();
                    }
                    pm.readonly = *readonly;
                    if *readonly && selector.is_empty() && !hashed(state) {
                        caps.push("exec.mount.cache.content");
                        pm.content_cache = pb::MountContentCache::Off as i32;
                    }
                    if !*readonly {
                        pm.output = output_of(&mount.dest).unwrap_or(-1);
                    }
                    pm.mount_type = pb::MountType::Bind as i32;
                }
                MountSource::Output => {
                    caps.push("exec.mount.bind");
                    pm.output = output_of(&mount.dest).unwrap_or(-1);
                    pm.mount_type = pb::MountType::Bind as i32;
                }
                MountSource::Secret { id } => {
                    caps.push("exec.mount.secret");
                    pm.mount_type = pb::MountType::Secret as i32;
                    pm.secret_opt = Some(pb::SecretOpt {
                        id: id.clone(),
                        uid: 0,
                        gid: 0,
                        mode: 0o400,
                        optional: false,
                    });
                }
                MountSource::Ssh { id } => {
                    caps.push("exec.mount.ssh");
                    pm.mount_type = pb::MountType::Ssh as i32;
                    pm.ssh_opt = Some(pb::SshOpt {
                        id: id.clone(),
                        uid: 0,
                        gid: 0,
                        mode: 0o600,
                        optional: false,
                    });
                }
                MountSource::Tmpfs => {
                    caps.push("exec.mount.tmpfs");
                    pm.mount_type = pb::MountType::Tmpfs as i32;
                }
                MountSource::Cache { id, sharing } => {
                    caps.push("exec.mount.cache");
                    caps.push("exec.mount.cache.sharing");
                    pm.mount_type = pb::MountType::Cache as i32;
                    pm.cache_opt = Some(pb::CacheOpt {
                        id: id.clone(),
                        sharing: match sharing {
                            CacheSharing::Shared => pb::CacheSharingOpt::Shared,
                            CacheSharing::Private => pb::CacheSharingOpt::Private,
                            CacheSharing::Locked => pb::CacheSharingOpt::Locked,
                        } as i32,
                    });
                }
            }
            mounts.push(pm);
        }
        let proxy_env = (!exec.proxy.is_empty()).then(|| {
            caps.push("exec.meta.proxyenv");
            let get = |name: &str| exec.proxy.get(name).cloned().unwrap_or_default();
            pb::ProxyEnv {
                http_proxy: get("HTTP_PROXY"),
                https_proxy: get("HTTPS_PROXY"),
                ftp_proxy: get("FTP_PROXY"),
                no_proxy: get("NO_PROXY"),
                all_proxy: get("ALL_PROXY"),
            }
        });
        let network = match exec.network {
            Network::Sandbox => pb::NetMode::Unset,
            Network::Host => {
                caps.push("exec.meta.network");
                pb::NetMode::Host
            }
            Network::None => {
                caps.push("exec.meta.network");
                pb::NetMode::None
            }
        };
        pb::ExecOp {
            meta: Some(pb::Meta {
                args: exec.args.clone(),
                env: exec.env.clone(),
                cwd: exec.cwd.clone(),
                user: exec.user.clone(),
                proxy_env,
                ..Default::default()
            }),
            mounts,
            network: network as i32,
            ..Default::default()
        }
    }
}

/// A chain of actions: the first reads `first` (an input index, or -1 for nothing), each later
/// one the result of the action before it, which FileOp numbers after the op's inputs. Only
/// the last action's result is the op's output.
fn file_actions(
    actions: &[FileAction],
    sources: &[Option<i64>],
    first: i64,
    inputs: i64,
) -> Vec<pb::FileAction> {
    use pb::file_action::Action;
    let last = actions.len().saturating_sub(1);
    actions
        .iter()
        .enumerate()
        .map(|(i, action)| pb::FileAction {
            input: if i == 0 { first } else { inputs + i as i64 - 1 },
            secondary_input: sources[i].unwrap_or(-1),
            output: if i == last { 0 } else { -1 },
            action: Some(match action {
                FileAction::Mkdir(mkdir) => Action::Mkdir(pb::FileActionMkDir {
                    path: mkdir.path.clone(),
                    mode: mkdir.mode as i32,
                    make_parents: mkdir.make_parents,
                    owner: mkdir.owner.as_ref().map(chown),
                    // -1 keeps the time of the operation, as BuildKit's client does; 0 is 1970.
                    timestamp: nanoseconds(mkdir.timestamp),
                }),
                FileAction::Mkfile(mkfile) => Action::Mkfile(pb::FileActionMkFile {
                    path: mkfile.path.clone(),
                    mode: mkfile.mode as i32,
                    data: mkfile.data.clone(),
                    owner: None,
                    timestamp: -1,
                }),
                FileAction::Copy(copy) => Action::Copy(pb::FileActionCopy {
                    src: copy.src.clone(),
                    dest: copy.dest.clone(),
                    // -1: keep each file's mode.
                    mode: -1,
                    follow_symlink: true,
                    dir_copy_contents: true,
                    create_dest_path: true,
                    timestamp: nanoseconds(copy.timestamp),
                    owner: copy.owner.as_ref().map(chown),
                    ..Default::default()
                }),
            }),
        })
        .collect()
}

/// A FileOp's time: nanoseconds since 1970, or -1 for none.
fn nanoseconds(seconds: Option<u64>) -> i64 {
    seconds.map_or(-1, |s| {
        i64::try_from(s)
            .ok()
            .and_then(|s| s.checked_mul(1_000_000_000))
            .unwrap_or(i64::MAX)
    })
}

fn chown(owner: &Owner) -> pb::ChownOpt {
    use pb::user_opt::User;
    // Input 0: look the names up in the filesystem the action runs on.
    let named = |name: &str| pb::UserOpt {
        user: Some(User::ByName(pb::NamedUserOpt {
            name: name.into(),
            input: 0,
        })),
    };
    let id = |id: u32| pb::UserOpt {
        user: Some(User::ById(id)),
    };
    match owner {
        Owner::Name { user, group } => pb::ChownOpt {
            user: Some(named(user)),
            group: group.as_deref().map(named),
        },
        Owner::Id { uid, gid } => pb::ChownOpt {
            user: Some(id(*uid)),
            group: Some(id(*gid)),
        },
    }
}

/// The platform as LLB and the gateway spell it.
pub fn pb_platform(platform: &Platform) -> pb::Platform {
    pb::Platform {
        architecture: platform.architecture.clone(),
        os: platform.os.clone(),
        variant: platform.variant.clone().unwrap_or_default(),
        ..Default::default()
    }
}

/// Whether a read-only mount of the whole of `state` is worth hashing. BuildKit hashes a
/// read-only mount's files by default, so that a dependent's cache key follows the files, not
/// the op that made them. The client's files need it: a local source's own key does not last
/// from one build to the next. A run's own output directory ([`MountSource::Output`]) gains by
/// it: a rebuilt but byte-identical wheel set keeps what installs it cached. A whole image or
/// root filesystem, or files the definition carries, does not: its op's digest already follows
/// its content, and hashing walks every file of it (BuildKit never does it for the root mount).
fn hashed(state: &State) -> bool {
    match &state.vertex.op {
        OpKind::Source { identifier, .. } => identifier.starts_with("local://"),
        OpKind::Exec { .. } => state.output > 0,
        OpKind::File { .. } => false,
    }
}

fn source_cap(identifier: &str) -> Option<&'static str> {
    Some(match identifier.split_once("://")?.0 {
        "docker-image" => "source.image",
        "local" => "source.local",
        "git" => "source.git",
        "https" | "http" => "source.http",
        "oci-layout" => "source.ocilayout",
        _ => return None,
    })
}

fn attr_cap(key: &str) -> Option<&'static str> {
    Some(match key {
        "http.checksum" => "source.http.checksum",
        "local.includepattern" => "source.local.includepatterns",
        "local.excludepatterns" => "source.local.excludepatterns",
        "local.followpaths" => "source.local.followpaths",
        "local.sharedkeyhint" => "source.local.sharedkeyhint",
        "local.differ" => "source.local.differ",
        _ => return None,
    })
}
