//! The runtime stage: what the image is built on and how the compiled wheels get into it.
//! Each strategy is a file of its own; the plan picks one and hands it what the compile stage
//! made. A strategy owns every step of its stage, so one with no shell, no apt and no useradd
//! is as welcome as the slim one.

pub(super) mod slim;

use pyslim_spec::Spec;

use super::builder::Builder;
use super::compile::Compiled;
use super::fetch::Fetch;
use super::types::Fs;
use crate::sources::{FoundApp, Workdir};

/// What a runtime stage puts into the image: the compile stage's outputs, the app as found, and
/// the working directory.
pub struct Parts<'a> {
    pub compiled: Compiled,
    pub app: Option<&'a FoundApp>,
    pub workdir: Option<&'a Workdir>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// `python:X-slim` with apt, a user made by useradd, and the wheels installed by uv or pip.
    Slim,
}

impl Runtime {
    pub fn of(_spec: &Spec) -> Runtime {
        Runtime::Slim
    }

    /// Adds the stage's steps; returns the image's filesystem.
    pub fn stage(self, b: &mut Builder, spec: &Spec, fetch: &Fetch, parts: &Parts<'_>) -> Fs {
        match self {
            Runtime::Slim => slim::stage(b, spec, fetch, parts),
        }
    }
}
