//! A small LLB builder: immutable [`State`]s that ops chain onto, marshalled into the
//! `pb::Definition` BuildKit solves. It knows LLB and nothing of pyslim's spec or plan.

mod marshal;
mod reference;
mod render;
mod state;

pub use marshal::{digest, encode_op, marshal, pb_platform, source_info};
pub use reference::normalize_image_ref;
pub use render::render;
pub use state::{
    CacheSharing, Copy, Exec, FileAction, Location, Mkdir, Mkfile, Mount, MountSource, Network,
    OpMeta, Owner, State,
};

pub use bollard_buildkit_proto::pb;
