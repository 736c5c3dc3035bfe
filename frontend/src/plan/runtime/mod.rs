//! The runtime stage: what the image is built on and how the compiled wheels get into it.
//! Each strategy is a file of its own; the plan picks one by `flavor:` and hands it what the
//! compile stage made. What every strategy shares is a file of its own too: the scan of the
//! built files for the shared libraries they need ([`libraries`]) and the smoke test of the
//! finished image ([`smoke`]).

pub(super) mod libraries;
pub(super) mod minimal;
pub(super) mod sbom;
pub(super) mod slim;
pub(super) mod smoke;

use pyslim_spec::{Flavor, Spec};

use super::builder::Builder;
use super::compile::Compiled;
use super::fetch::Fetch;
use super::types::{Closure, Fs, StepId};
use crate::sources::{FoundApp, Workdir};

/// What a runtime stage puts into the image: the compile stage's outputs, the app as found,
/// the working directory, and — once the scan has run — the packages its libraries need.
pub struct Parts<'a> {
    pub compiled: Compiled,
    pub app: Option<&'a FoundApp>,
    pub workdir: Option<&'a Workdir>,
    /// `None` before the scan has run: the plan then serves only to run it.
    pub closure: Option<&'a Closure>,
}

/// A runtime stage as planned: the image's filesystem and the steps the frontend solves on
/// their own.
pub struct Built {
    pub result: Fs,
    pub from_scratch: bool,
    pub scan: Option<StepId>,
    pub smoke: Option<StepId>,
    pub sbom: Option<StepId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// `python:X-slim` with apt, a user made by useradd, and the wheels installed by uv or pip.
    Slim,
    /// What the app needs, gathered from the slim stage onto nothing; `debug` adds busybox.
    Minimal { debug: bool },
}

impl Runtime {
    pub fn of(spec: &Spec) -> Runtime {
        match spec.flavor.value {
            Flavor::Slim => Runtime::Slim,
            Flavor::Minimal => Runtime::Minimal { debug: false },
            Flavor::MinimalDebug => Runtime::Minimal { debug: true },
        }
    }

    /// Adds the stage's steps, then the smoke test of what they made.
    pub fn stage(self, b: &mut Builder, spec: &Spec, fetch: &Fetch, parts: &Parts<'_>) -> Built {
        let slim = slim::stage(b, spec, fetch, parts);
        let (result, from_scratch) = match self {
            Runtime::Slim => (slim.result, false),
            Runtime::Minimal { debug } => (minimal::stage(b, spec, parts, &slim, debug), true),
        };
        Built {
            result,
            from_scratch,
            scan: slim.scan,
            smoke: smoke::test(b, spec, parts, result),
            sbom: b.sbom().then(|| sbom::document(b, parts, result)),
        }
    }
}
