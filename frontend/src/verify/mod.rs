//! What the build found out about what it built, and what the frontend does with it: the
//! scan's shared libraries ([`libraries`]), the smoke test's imports ([`smoke`]), and the
//! packages a cross-platform build finds nothing to install from ([`native`]). Each is read
//! from a step's report and told at the line that asked for what it concerns: the
//! requirement (or locked package) of the distribution, else the spec.

pub mod libraries;
pub mod native;
pub mod smoke;

use pyslim_spec::{Diagnostic, Diagnostics, SourceFile, SourceKind, Span, Spec};

use crate::lock::normalise;
use crate::sources::Found;
use crate::sources::requirements::{self, Item};

/// Where a distribution the build installed was asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asked {
    /// 0 for the spec, `n` for `files[n - 1]` (as a lint warning counts them).
    pub file: usize,
    pub span: Span,
}

/// The line that asked for `distribution`: the app's (`from_app`: its wheel is the app's),
/// its requirement, its package in the lock; otherwise the spec line that names the
/// dependencies (a dependency of a dependency).
pub fn asked(distribution: &str, from_app: bool, spec: &Spec, found: &Found) -> Asked {
    if let (true, Some(written)) = (from_app, &spec.app) {
        return Asked {
            file: 0,
            span: written.path.span,
        };
    }
    let wanted = normalise(distribution);
    for (n, file) in found.files.iter().enumerate() {
        if let Some(span) = in_file(&wanted, file, found) {
            return Asked { file: n + 1, span };
        }
    }
    let span = spec
        .requirements
        .first()
        .map(|r| r.span)
        .or(spec.app.as_ref().map(|a| a.path.span))
        .unwrap_or(spec.top);
    Asked { file: 0, span }
}

fn in_file(wanted: &str, file: &SourceFile, found: &Found) -> Option<Span> {
    if matches!(file.kind, SourceKind::LockToml | SourceKind::LockJson) {
        let lock = found.dependencies.lock().filter(|l| l.path == file.name)?;
        let package = lock
            .lock
            .packages
            .iter()
            .find(|p| normalise(&p.name) == wanted)?;
        return Some(
            package
                .span
                .clone()
                .map_or(Span::new(1, 1, 1), |range| lock.file.span_at(range)),
        );
    }
    requirements::parse(&file.text)
        .into_iter()
        .find_map(|line| {
            let Item::Named { name, .. } = line.item else {
                return None;
            };
            (requirements::project(&name) == wanted).then(|| {
                let text = file.line(line.number).unwrap_or_default();
                Span::new(line.number, 1, text.trim_end().chars().count() as u32)
            })
        })
}

/// Problems at the lines `asked` found, with the files they point into.
pub fn diagnostics(
    source: &SourceFile,
    found: &Found,
    problems: Vec<(Asked, Diagnostic)>,
) -> Diagnostics {
    let mut files: Vec<SourceFile> = Vec::new();
    let mut located = Vec::new();
    for (asked, problem) in problems {
        match asked.file {
            0 => located.push(problem),
            n => {
                let file = &found.files[n - 1];
                located.push(problem.in_file(&file.name));
                if !files.iter().any(|f| f.name == file.name) {
                    files.push(file.clone());
                }
            }
        }
    }
    files.into_iter().fold(
        Diagnostics::new(source.clone(), located),
        Diagnostics::with_file,
    )
}
