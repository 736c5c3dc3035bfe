//! The graph as the builder sees it: each [`State`] is one output of one op, shared by
//! reference, so a state used by several ops is marshalled once.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::platform::Platform;

/// One filesystem: an output of an op. Cheap to clone.
#[derive(Clone, Debug)]
pub struct State {
    pub(super) vertex: Rc<Vertex>,
    pub(super) output: i64,
}

#[derive(Debug)]
pub(super) struct Vertex {
    pub(super) op: OpKind,
    pub(super) platform: Option<Platform>,
    pub(super) meta: OpMeta,
}

#[derive(Debug)]
pub(super) enum OpKind {
    Source {
        identifier: String,
        attrs: BTreeMap<String, String>,
    },
    Exec {
        root: State,
        exec: Exec,
    },
    /// File actions, each on the result of the one before; the first on `base`, or on an
    /// empty filesystem.
    File {
        base: Option<State>,
        actions: Vec<FileAction>,
    },
}

#[derive(Clone, Debug)]
pub enum FileAction {
    Mkdir(Mkdir),
    Mkfile(Mkfile),
    Copy(Copy),
}

/// `src` of another state to `dest`; a directory's contents, with their owners and modes.
#[derive(Clone, Debug)]
pub struct Copy {
    pub from: State,
    pub src: String,
    pub dest: String,
    /// Who owns the copies; `None` keeps the owners the files have in `from`.
    pub owner: Option<Owner>,
    /// The time (seconds since 1970) every copy gets; `None` keeps each file's.
    pub timestamp: Option<u64>,
}

/// What BuildKit records about an op besides the op itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpMeta {
    /// The progress line shown to the user.
    pub name: Option<String>,
    /// `--no-cache`: run even when a cached result exists.
    pub ignore_cache: bool,
    /// The lines of the source file that asked for this op; errors point there.
    pub location: Option<Location>,
}

/// 1-based, inclusive line range in the definition's source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub start_line: u32,
    pub end_line: u32,
}

#[derive(Clone, Debug)]
pub struct Exec {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    /// Empty: the image's default (root).
    pub user: String,
    pub network: Network,
    /// Extra mounts; the root filesystem is the state `run` is called on.
    pub mounts: Vec<Mount>,
    /// Proxy settings the run sees but that stay out of its cache key and of the image.
    pub proxy: BTreeMap<String, String>,
    pub meta: OpMeta,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    Sandbox,
    Host,
    None,
}

#[derive(Clone, Debug)]
pub struct Mount {
    pub dest: String,
    pub source: MountSource,
}

#[derive(Clone, Debug)]
pub enum MountSource {
    /// A directory of another state. A read-only bind is seen by the run and never copied
    /// into its output.
    Bind {
        state: State,
        selector: String,
        readonly: bool,
    },
    /// A secret of the client session as a read-only file; a missing secret fails the step.
    Secret { id: String },
    /// The client's SSH agent socket; a missing agent fails the step.
    Ssh { id: String },
    /// An empty directory the run writes, kept as an output of the op of its own
    /// ([`State::mount_output`]): what later ops mount of it is that directory alone, a small
    /// snapshot that is cheap to mount and to hash, not the whole root filesystem.
    Output,
    /// Memory-backed scratch space, empty at the start of the run and discarded after it.
    Tmpfs,
    /// A persistent cache directory that outlives the build and is never part of a layer.
    Cache { id: String, sharing: CacheSharing },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheSharing {
    Shared,
    Private,
    Locked,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mkdir {
    pub path: String,
    pub mode: u32,
    pub make_parents: bool,
    pub owner: Option<Owner>,
    /// The directory's time (seconds since 1970); `None` for the time of the operation.
    pub timestamp: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mkfile {
    pub path: String,
    pub mode: u32,
    pub data: Vec<u8>,
}

/// Ownership by name is resolved against the `/etc/passwd` of the state the action runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    Name { user: String, group: Option<String> },
    Id { uid: u32, gid: u32 },
}

impl Exec {
    /// The output index of each mount that has one, by destination: the root is output 0,
    /// then writable binds and [`MountSource::Output`]s in the order of their destinations, as
    /// BuildKit's own client numbers them.
    pub(super) fn outputs(&self) -> Vec<(&str, i64)> {
        let mut mounts: Vec<&Mount> = self.mounts.iter().collect();
        mounts.sort_by(|a, b| a.dest.cmp(&b.dest));
        let writes = mounts.into_iter().filter(|m| match &m.source {
            MountSource::Bind { readonly, .. } => !readonly,
            MountSource::Output => true,
            _ => false,
        });
        writes.zip(1..).map(|(m, n)| (m.dest.as_str(), n)).collect()
    }
}

impl State {
    /// The output of this run's [`MountSource::Output`] at `dest`; `None` when this is not a
    /// run, or it has no such mount.
    pub fn mount_output(&self, dest: &str) -> Option<State> {
        let OpKind::Exec { exec, .. } = &self.vertex.op else {
            return None;
        };
        let is_output = |m: &&Mount| m.dest == dest && matches!(m.source, MountSource::Output);
        exec.mounts.iter().find(is_output)?;
        let (_, output) = exec.outputs().into_iter().find(|(d, _)| *d == dest)?;
        Some(State {
            vertex: self.vertex.clone(),
            output,
        })
    }

    /// `docker-image://` of a normalised reference (see [`super::normalize_image_ref`]).
    pub fn image(reference: &str, platform: Option<&Platform>) -> State {
        State::new(
            OpKind::Source {
                identifier: format!("docker-image://{}", super::normalize_image_ref(reference)),
                attrs: BTreeMap::new(),
            },
            platform.cloned(),
            OpMeta::default(),
        )
    }

    /// Any source op, e.g. `local://context` with its `local.*` attributes.
    pub fn source(
        identifier: String,
        attrs: BTreeMap<String, String>,
        platform: Option<&Platform>,
    ) -> State {
        State::new(
            OpKind::Source { identifier, attrs },
            platform.cloned(),
            OpMeta::default(),
        )
    }

    /// Runs a command on this state; the result is the root filesystem after it.
    pub fn run(&self, exec: Exec) -> State {
        let meta = exec.meta.clone();
        State::new(
            OpKind::Exec {
                root: self.clone(),
                exec,
            },
            self.platform().cloned(),
            meta,
        )
    }

    pub fn mkdir(&self, mkdir: Mkdir, meta: OpMeta) -> State {
        self.file(vec![FileAction::Mkdir(mkdir)], meta)
    }

    /// File actions on this state.
    pub fn file(&self, actions: Vec<FileAction>, meta: OpMeta) -> State {
        State::new(
            OpKind::File {
                base: Some(self.clone()),
                actions,
            },
            self.platform().cloned(),
            meta,
        )
    }

    /// A filesystem made from nothing by file actions, e.g. files the frontend writes.
    pub fn scratch(actions: Vec<FileAction>, platform: Option<&Platform>, meta: OpMeta) -> State {
        State::new(
            OpKind::File {
                base: None,
                actions,
            },
            platform.cloned(),
            meta,
        )
    }

    fn new(op: OpKind, platform: Option<Platform>, meta: OpMeta) -> State {
        State {
            vertex: Rc::new(Vertex { op, platform, meta }),
            output: 0,
        }
    }

    fn platform(&self) -> Option<&Platform> {
        self.vertex.platform.as_ref()
    }
}
