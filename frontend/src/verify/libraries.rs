//! The scan's report (`libraries.py`): shared libraries that files the build installs need and
//! the runtime lacks. Each becomes a package installed with a warning, or an error when
//! `missing-libraries: error` says so or no Debian package provides it.

use std::collections::BTreeMap;

use pyslim_spec::{Diagnostic, MissingLibraries, SourceFile, Spec};
use serde::Deserialize;

use super::{asked, diagnostics};
use crate::failure::Failure;
use crate::lint::{self, Warning};
use crate::plan::APP_WHEEL;
use crate::sources::Found;

#[derive(Debug, Deserialize)]
pub struct Report {
    pub scanned: Scanned,
    pub missing: Vec<Missing>,
}

#[derive(Debug, Deserialize)]
pub struct Scanned {
    pub wheels: usize,
    pub elf_files: usize,
}

/// A library the runtime lacks, and where the compile image had it.
#[derive(Debug, Deserialize)]
pub struct Missing {
    pub library: String,
    pub package: Option<String>,
    pub package_version: Option<String>,
    pub needed_by: Vec<Needer>,
}

/// A file that needs the library, and the wheel it came in.
#[derive(Debug, Deserialize)]
pub struct Needer {
    pub wheel: String,
    pub distribution: String,
    pub version: String,
    pub file: String,
    /// The missing library that needs this one, when the file needs it only through that.
    pub via: Option<String>,
    /// The directory the wheel was in: the app's or the dependencies'.
    #[serde(default)]
    pub directory: String,
}

/// The warning for a package installed for a library: its rule is listed with the lint's.
pub const RULE: &str = "SharedLibraryInstalled";

/// What the build does about the report: the packages to install, in order, each with its
/// warning; or every library it may not install, as errors at the lines that asked for their
/// files.
pub fn decide(
    report: &Report,
    spec: &Spec,
    source: &SourceFile,
    found: &Found,
) -> Result<(Vec<String>, Vec<Warning>), Failure> {
    let strict = spec.missing_libraries.value == MissingLibraries::Error;
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    // Each package once, with every library it was installed for.
    let mut packages: BTreeMap<&str, Vec<&Missing>> = BTreeMap::new();
    for missing in &report.missing {
        // Needed only by another missing library: its package depends on this one's, and apt
        // brings it along (libxml2 brings libicu72).
        let through_another = missing.needed_by.iter().all(|n| n.via.is_some());
        if through_another && missing.package.is_some() {
            continue;
        }
        let needer = missing.needed_by.first();
        let at = needer.map_or_else(
            || asked("", false, spec, found),
            |n| asked(&n.distribution, n.directory == APP_WHEEL, spec, found),
        );
        let needs = needs(missing);
        match (&missing.package, strict) {
            (None, _) => errors.push((
                at.clone(),
                Diagnostic::new(
                    at.span,
                    format!("{needs}, which neither the runtime image nor any Debian package in the compile image provides"),
                )
                .with_hint("build it against a library Debian packages: add that library's -dev package to `system:` (pyslim then installs its runtime package), or use a wheel that bundles it (manylinux wheels carry theirs)"),
            )),
            (Some(package), true) => errors.push((
                at.clone(),
                Diagnostic::new(
                    at.span,
                    format!("{needs}, which the runtime image lacks; the Debian package `{package}` provides it"),
                )
                .with_hint(format!("add it to the image: `runtime: [{package}]` (`missing-libraries: error` makes every library one `runtime:` names)")),
            )),
            (Some(package), false) => packages.entry(package).or_default().push(missing),
        }
    }
    if !errors.is_empty() {
        return Err(Failure::Spec(diagnostics(source, found, errors)));
    }
    for (package, libraries) in &packages {
        let first = libraries[0];
        let at = first.needed_by.first().map_or_else(
            || asked("", false, spec, found),
            |n| asked(&n.distribution, n.directory == APP_WHEEL, spec, found),
        );
        let all: Vec<String> = libraries.iter().map(|m| needs(m)).collect();
        let version = first
            .package_version
            .as_deref()
            .map_or(String::new(), |v| format!(" {v}"));
        warnings.push(Warning {
            rule: RULE,
            description: lint::description(RULE),
            detail: format!(
                "installed `{package}`{version} in the image: {}; add `runtime: [{package}]` to say so, or `missing-libraries: error` to make this an error",
                all.join("; ")
            ),
            file: at.file,
            line: at.span.line,
        });
    }
    Ok((packages.keys().map(|p| p.to_string()).collect(), warnings))
}

/// `FILE (DIST VERSION) needs LIBRARY`, for the first file that does, and how many more.
fn needs(missing: &Missing) -> String {
    let Some(first) = missing.needed_by.first() else {
        return format!("a library the build installed needs {}", missing.library);
    };
    let more = match missing.needed_by.len() - 1 {
        0 => String::new(),
        1 => " (and 1 more file)".into(),
        n => format!(" (and {n} more files)"),
    };
    format!(
        "{} ({} {}, from {}){more} needs {}",
        first.file, first.distribution, first.version, first.wheel, missing.library
    )
}
