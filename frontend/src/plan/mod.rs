//! Spec → Plan: which steps run on which filesystem, what each one mounts, and which of them
//! leave a layer in the image. Pure data and no I/O: the plan knows nothing of protobufs.
//!
//! The graph is small and fixed in shape:
//!
//! ```text
//! compile base ─┬─ [apt: system] ─┬─ [wheels: requirements] ───────────────────────────┐ (ro bind /wheels)
//!               │                 └─ [wheel: app] ────────────────────────────────────┐│ (ro bind /pyslim-app)
//!               └─ [uv] ─────────────────────────────────────────────────────────────┐││ (ro bind /pyslim-uv)
//! runtime base ─ [apt: runtime] ─ [user] ─ [workdir] ─ [writable] ┬ [apt: closure] ─ [install deps] ─ [install app] ┬ = image
//!                                                                  └ (scan)                                          └ (smoke test)
//! ```
//! The scan reads every ELF file in the wheels against the runtime filesystem; the frontend
//! solves it first and plans again with what it found (the closure's packages). The smoke test
//! imports what was installed in the finished image; it leaves no layer, so the frontend
//! solves it on its own. `flavor: minimal` gathers from the slim stage onto nothing.
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
mod times;
mod types;

pub use advice::Advice;
pub use layout::{APP_WHEEL, CONTEXT, NATIVE_REPORT, SBOM, SCAN_REPORT, SMOKE_REPORT};
pub use runtime::Runtime;
pub use types::*;

use pyslim_spec::{Spec, WHEELS_TARGET};

use crate::sources::{self, Dependencies};

/// The plan of the build. `closure` is what the scans found the runtime lacks so far: the
/// frontend plans, runs a scan whose result it does not know yet ([`Plan::scans`]), and plans
/// again with what it found.
pub fn plan(
    spec: &Spec,
    dependencies: &Dependencies,
    bases: ResolvedBases,
    settings: &Settings,
    closure: &Closure,
) -> Plan {
    let mut b = builder::Builder::new(settings);
    let fetch = fetch::Fetch::of(spec, settings, &bases);
    let compiled = compile::stage(&mut b, spec, dependencies, &fetch, &bases);
    let workdir = sources::app::workdir(spec, dependencies.app.as_ref());
    let built = match compiled.dependencies {
        Some(deps) if spec.target.as_deref() == Some(WHEELS_TARGET) => runtime::Built {
            result: compile::collect_wheels(&mut b, spec, deps),
            from_scratch: false,
            scans: Scans::default(),
            smoke: Vec::new(),
            sbom: None,
        },
        _ => {
            let parts = runtime::Parts {
                compiled,
                app: dependencies.app.as_ref(),
                workdir: workdir.as_ref(),
                closure,
            };
            Runtime::of(spec).stage(&mut b, spec, &fetch, &parts)
        }
    };
    times::clamp(&mut b.steps);
    Plan {
        bases,
        workdir: workdir.map(|w| w.path),
        steps: b.steps,
        result: built.result,
        from_scratch: built.from_scratch,
        scans: built.scans,
        smoke: built.smoke,
        native_wheels: compiled.native_wheels,
        sbom: built.sbom,
    }
}

#[cfg(test)]
mod tests;
