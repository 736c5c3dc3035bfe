//! The smoke test's report (`smoke.py`): the modules that did not import in the finished image
//! and how `test:` ended, turned into errors at the lines that asked for them.

use pyslim_spec::{Diagnostic, SourceFile, Spec};
use serde::Deserialize;

use super::{Asked, asked, diagnostics};
use crate::failure::Failure;
use crate::plan::APP_WHEEL;
use crate::sources::Found;

#[derive(Debug, Deserialize)]
pub struct Report {
    pub modules: usize,
    pub distributions: usize,
    pub seconds: f64,
    /// Every top-level module the step found, skipped or not.
    #[serde(default)]
    pub found: Vec<String>,
    pub failures: Vec<ImportFailure>,
    pub test: Option<TestRun>,
}

#[derive(Debug, Deserialize)]
pub struct ImportFailure {
    pub module: String,
    /// `None` for a module of the source app.
    pub distribution: Option<String>,
    pub version: Option<String>,
    #[serde(default)]
    pub directory: String,
    /// `ExcType: message`.
    pub error: String,
    /// A shared library the error says could not be loaded, and the Debian package with it.
    pub library: Option<String>,
    pub package: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct TestRun {
    pub status: i32,
}

/// Every failure of the reports (the dependencies', the app's), as errors; and a module
/// `smoke-test: skip` names that neither found, so that a typo does not pass for a skip.
pub fn check(
    reports: &[Report],
    spec: &Spec,
    source: &SourceFile,
    found: &Found,
) -> Result<(), Failure> {
    let mut problems = Vec::new();
    let modules: Vec<&str> = reports
        .iter()
        .flat_map(|r| r.found.iter().map(String::as_str))
        .collect();
    for skip in &spec.smoke_test.skip {
        if !modules.contains(&skip.as_str()) {
            let mut known = modules.clone();
            known.sort_unstable();
            known.dedup();
            let at = Asked {
                file: 0,
                span: skip.span,
            };
            problems.push((
                at,
                Diagnostic::new(
                    skip.span,
                    format!("`{}` is not a module pyslim installed", skip.as_str()),
                )
                .with_hint(format!(
                    "the installed distributions' and the app's top-level modules are: {}",
                    known.join(", ")
                )),
            ));
        }
    }
    for failure in reports.iter().flat_map(|r| &r.failures) {
        let at = match &failure.distribution {
            Some(dist) => asked(dist, failure.directory == APP_WHEEL, spec, found),
            None => asked("", true, spec, found),
        };
        let from = match (&failure.distribution, &failure.version) {
            (Some(dist), Some(version)) => format!(" (from {dist} {version})"),
            (Some(dist), None) => format!(" (from {dist})"),
            _ => " (the app's)".into(),
        };
        let hint = match (&failure.library, &failure.package) {
            (Some(library), Some(package)) => format!(
                "{library} is in the Debian package `{package}`: add `runtime: [{package}]`"
            ),
            (Some(library), None) => format!(
                "no Debian package in the compile image provides {library}: add the -dev package of the library to `system:`, or use a wheel that bundles it"
            ),
            _ => format!(
                "if `{}` needs a service or a file it only has at run time, leave it out with `smoke-test: {{skip: [{}]}}`; `smoke-test: false` turns the imports off",
                failure.module, failure.module
            ),
        };
        problems.push((
            at.clone(),
            Diagnostic::new(
                at.span,
                format!(
                    "`import {}`{from} fails in the image: {}",
                    failure.module, failure.error
                ),
            )
            .with_hint(hint),
        ));
    }
    let test = reports.iter().find_map(|r| r.test.as_ref());
    if let (Some(test), Some(written)) = (test, &spec.test)
        && test.status != 0
    {
        let at = Asked {
            file: 0,
            span: written.span,
        };
        problems.push((
            at,
            Diagnostic::new(
                written.span,
                format!(
                    "`test:` exited with status {} in the image; its output is in the build log",
                    test.status
                ),
            )
            .with_hint("it runs as the container would: as `user`, in `workdir`, with `env:` and no network"),
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Failure::Spec(diagnostics(source, found, problems)))
}
