//! Spec → Plan: which steps run on which filesystem, what each one mounts, and which of them
//! leave a layer in the image. Pure data and no I/O: the plan knows nothing of protobufs.
//!
//! The graph is small and fixed in shape:
//!
//! ```text
//! compile base ─┬─ [apt: system] ─┬─ [wheels: requirements] ───────────────────────────┐ (ro bind /wheels)
//!               │                 └─ [wheel: app] ────────────────────────────────────┐│ (ro bind /pyslim-app)
//!               └─ [uv] ─────────────────────────────────────────────────────────────┐││ (ro bind /pyslim-uv)
//! runtime base ─ [apt: runtime] ─ [user] ─ [workdir] ─ [writable] ─ [install deps] ─ [install app] = image
//! ```
//! The dependency wheels see only the requirements files, so editing the app rebuilds nothing
//! but the app's wheel and its one layer.
//!
//! One file per part: [`compile`] (the compile stage), [`fetch`] (index, credentials, wheel
//! cache, network), [`install`] (uv or pip), [`runtime`] (the runtime stage's strategies),
//! [`apt`], [`advice`] (what to check when a step fails) and [`layout`] (where things sit).

pub mod advice;
mod apt;
mod builder;
mod compile;
mod fetch;
mod install;
pub(crate) mod layout;
mod runtime;
mod types;

pub use advice::Advice;
pub use layout::CONTEXT;
pub use runtime::Runtime;
pub use types::*;

use pyslim_spec::{Spec, WHEELS_TARGET};

use crate::sources::{self, Dependencies};

pub fn plan(
    spec: &Spec,
    dependencies: &Dependencies,
    bases: ResolvedBases,
    settings: &Settings,
) -> Plan {
    let mut b = builder::Builder::new(settings);
    let fetch = fetch::Fetch::of(spec, settings);
    let compiled = compile::stage(&mut b, spec, dependencies, &fetch, &bases.compile);
    let workdir = sources::app::workdir(spec, dependencies.app.as_ref());
    let result = match compiled.dependencies {
        Some(deps) if spec.target.as_deref() == Some(WHEELS_TARGET) => {
            compile::collect_wheels(&mut b, spec, deps)
        }
        _ => {
            let parts = runtime::Parts {
                compiled,
                app: dependencies.app.as_ref(),
                workdir: workdir.as_ref(),
            };
            Runtime::of(spec).stage(&mut b, spec, &fetch, &parts)
        }
    };
    Plan {
        bases,
        workdir: workdir.map(|w| w.path),
        steps: b.steps,
        result,
    }
}

#[cfg(test)]
mod tests;
