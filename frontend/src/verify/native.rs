//! The download of the target's binary wheels on the build platform (`target_wheels.py`): a
//! package with neither a wheel for the target nor a source distribution could only fail the
//! build under emulation later, with pip's words for it; it is an error at the line that asked
//! for it now.

use pyslim_spec::{Diagnostic, SourceFile, Spec};
use serde::Deserialize;

use super::{asked, diagnostics};
use crate::failure::Failure;
use crate::platform::Platform;
use crate::sources::Found;

#[derive(Debug, Deserialize)]
pub struct Report {
    /// Every dependency has a wheel for the target: nothing runs under emulation.
    pub complete: bool,
    #[serde(default)]
    pub unbuildable: Vec<Unbuildable>,
}

#[derive(Debug, Deserialize)]
pub struct Unbuildable {
    /// As pip wrote it: `pkg==1.0`.
    pub requirement: String,
    /// PEP 503's.
    pub name: String,
}

/// An error for each package nothing provides for `platform` (CPython `python`).
pub fn check(
    report: &Report,
    platform: &Platform,
    python: &str,
    spec: &Spec,
    source: &SourceFile,
    found: &Found,
) -> Result<(), Failure> {
    let problems: Vec<_> = report
        .unbuildable
        .iter()
        .map(|missing| {
            let at = asked(&missing.name, false, spec, found);
            let problem = Diagnostic::new(
                at.span,
                format!(
                    "no wheel of `{}` for {platform} (CPython {python}) on the index, and no source distribution to build one from",
                    missing.requirement
                ),
            )
            .with_hint(format!(
                "use a version of `{}` that publishes a wheel for {platform}, build for another platform, or provide a wheel with `find-links:` or `--build-context wheels=...`",
                missing.name
            ));
            (at, problem)
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(Failure::Spec(diagnostics(source, found, problems)))
}
