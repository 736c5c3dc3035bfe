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

mod advice;
mod apt;
mod builder;
mod compile;
mod fetch;
mod install;
mod layout;
mod runtime;
mod types;

pub use advice::Advice;
pub use runtime::{Runtime, Workdir};
pub use types::*;

use pyslim_spec::{Deploy, Spec, WHEELS_TARGET};

use crate::sources::Dependencies;

/// Where a source app goes when the spec names no workdir.
pub const SOURCE_APP_DIR: &str = "/app";

pub fn plan(
    spec: &Spec,
    dependencies: &Dependencies,
    bases: ResolvedBases,
    settings: &Settings,
) -> Plan {
    let mut b = builder::Builder::new(settings);
    let fetch = fetch::Fetch::of(spec, settings);
    let compiled = compile::stage(&mut b, spec, dependencies, &fetch, &bases.compile);
    let workdir = workdir(spec, dependencies);
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

/// The spec's workdir, or [`SOURCE_APP_DIR`] for a source app.
fn workdir(spec: &Spec, dependencies: &Dependencies) -> Option<Workdir> {
    if let Some(workdir) = &spec.workdir {
        return Some(Workdir {
            path: workdir.to_string(),
            origin: workdir.span,
            written: true,
        });
    }
    let app = spec.app.as_ref()?;
    let found = dependencies.app.as_ref()?;
    (found.deploy == Deploy::Source).then(|| Workdir {
        path: SOURCE_APP_DIR.into(),
        origin: app.path.span,
        written: false,
    })
}

#[cfg(test)]
mod tests;
