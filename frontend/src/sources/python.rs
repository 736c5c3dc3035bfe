//! Which Python the image is built for, decided once: the spec's `python:`, or else what the
//! project says, first found — `.python-version`, the newest series `requires-python` allows,
//! Pipfile's `[requires]`, `runtime.txt` — each looked for in the app's directory, then at the
//! root of the build context. The choice keeps where it came from, so the build log and
//! `--call=outline` can say so, the base images follow it without reading anything again, and
//! a problem with it points at the line that made it.

use std::ops::Range;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pyslim_spec::{Diagnostic, PythonVersion, SourceFile, SourceKind, Span, Spec};
use toml::de::DeTable;

use super::app::in_app;
use super::{Problems, pyproject};
use crate::context::{Context, is_dir};
use crate::gateway::GatewayError;

/// What `requires-python` alone chooses from, newest first: the series with maintained official
/// images (and stand-ins, on machines that reach no registry).
pub const SERIES: [&str; 3] = ["3.13", "3.12", "3.11"];

/// What a spec that names no Python is told to add.
const SUGGESTED: &str = "3.13";

/// The files a project names its Python in, in the order they are consulted.
const FILES: [(&str, SourceKind); 4] = [
    (".python-version", SourceKind::Text),
    ("pyproject.toml", SourceKind::Pyproject),
    ("Pipfile", SourceKind::Pipfile),
    ("runtime.txt", SourceKind::Text),
];

/// The Python of a build, and what chose it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Python {
    /// What the base images are tagged with: the spec's `python:` as written (`3.11.9` is an
    /// image of its own), or the `3.X` series the project names (`3.13.1` in .python-version
    /// means python:3.13, which follows that series' fixes).
    pub version: PythonVersion,
    pub origin: Origin,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `python:` in the spec.
    Spec(Span),
    /// A line of one of the project's files.
    Project {
        file: SourceFile,
        span: Span,
        says: Says,
    },
}

/// Which of the project's files chose, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Says {
    /// `.python-version`'s version.
    PythonVersion,
    /// The newest of [`SERIES`] this `requires-python` allows.
    RequiresPython(String),
    /// Pipfile's `[requires] python_version` (or `python_full_version`).
    Pipfile,
    /// `runtime.txt`'s `python-3.X.Y`.
    RuntimeTxt,
}

impl Python {
    /// The spec's own `python:`, when it has one: all a build needs to know without a context
    /// to read (tests, the spec-to-LLB example).
    pub fn written(spec: &Spec) -> Option<Python> {
        spec.python.as_ref().map(|written| Python {
            version: written.value.clone(),
            origin: Origin::Spec(written.span),
        })
    }

    /// `python 3.13, from .python-version`: what the build log and the outline say.
    pub fn describe(&self, spec_name: &str) -> String {
        let version = &self.version;
        match &self.origin {
            Origin::Spec(_) => format!("python {version}, from {spec_name}"),
            Origin::Project { file, says, .. } => match says {
                Says::PythonVersion | Says::RuntimeTxt => {
                    format!("python {version}, from {}", file.name)
                }
                Says::RequiresPython(requires) => format!(
                    "python {version}, the newest requires-python `{requires}` in {} allows",
                    file.name
                ),
                Says::Pipfile => format!("python {version}, from [requires] in {}", file.name),
            },
        }
    }

    /// A problem with what the version selects (a base image that cannot be resolved), shown
    /// where the version was chosen.
    pub fn problem(&self, message: String, hint: &str, problems: &mut Problems) {
        match &self.origin {
            Origin::Spec(span) => problems
                .problems
                .push(Diagnostic::new(*span, message).with_hint(hint)),
            Origin::Project { file, span, .. } => {
                problems.in_file(file, Diagnostic::new(*span, message).with_hint(hint))
            }
        }
    }
}

/// Reads the files the project may name its Python in (only those there, honouring
/// .dockerignore) and decides. `None` when there is a problem, which `problems` then holds.
pub async fn choose(
    context: &mut Context<'_>,
    spec: &Spec,
    problems: &mut Problems,
) -> Result<Option<Python>, GatewayError> {
    let candidates = candidates(spec);
    let paths: Vec<String> = candidates.iter().map(|(path, _)| path.clone()).collect();
    let view = context.view(&paths, true).await?;
    let mut files = Vec::new();
    for (path, kind) in candidates {
        if let Some(stat) = context.stat(&view, &path).await?
            && !is_dir(&stat)
        {
            let text = context.read_text(&view, &path).await?;
            files.push(SourceFile::of_kind(kind, path, text));
        }
    }
    Ok(decide(spec, &paths, &files, problems))
}

/// Every file that may name the Python, in the order they are consulted: each kind in the
/// app's directory, then at the root.
fn candidates(spec: &Spec) -> Vec<(String, SourceKind)> {
    let mut dirs = Vec::new();
    if let Some(app) = &spec.app {
        dirs.push(app.path.as_str());
    }
    if !dirs.contains(&".") {
        dirs.push(".");
    }
    FILES
        .iter()
        .flat_map(|(name, kind)| dirs.iter().map(move |dir| (in_app(dir, name), *kind)))
        .collect()
}

/// The choice, from the spec and the project `files` found (in the order of `looked_at`, the
/// paths that were looked for).
pub fn decide(
    spec: &Spec,
    looked_at: &[String],
    files: &[SourceFile],
    problems: &mut Problems,
) -> Option<Python> {
    let named = |name: &'static str| {
        files
            .iter()
            .filter(move |f| f.name.rsplit('/').next() == Some(name))
    };
    let requires = requires_python(named("pyproject.toml"), problems).ok()?;
    if let Some(written) = &spec.python {
        if let Some(requires) = requires
            .as_ref()
            .filter(|r| !allows(&r.specifiers, written))
        {
            let hint = match requires.newest() {
                Some(newest) => format!(
                    "use a version it allows, like `python: \"{newest}\"`, or leave `python:` out to build for the newest it allows"
                ),
                None => "use a version it allows".to_string(),
            };
            problems.problems.push(
                Diagnostic::new(
                    written.span,
                    format!(
                        "python {} is not one the project allows: requires-python is `{}` in {}",
                        written.value,
                        requires.text,
                        requires.at()
                    ),
                )
                .with_hint(hint),
            );
            return None;
        }
        return Python::written(spec);
    }
    for file in named(".python-version") {
        let Some((range, line)) = first_line(&file.text) else {
            continue;
        };
        let span = file.span_at(range);
        let Some(version) = PythonVersion::parse(line).map(|v| v.series()) else {
            problems.in_file(
                file,
                Diagnostic::new(span, format!("`{}` names `{line}`, which is not a CPython version with an official image", file.name))
                    .with_hint(format!("write a version like `{SUGGESTED}` in it, or set `python:` in the spec")),
            );
            return None;
        };
        if let Some(requires) = requires
            .as_ref()
            .filter(|r| !allows(&r.specifiers, &version))
        {
            problems.in_file(
                file,
                Diagnostic::new(
                    span,
                    format!(
                        "`{}` says {version}, which the project does not allow: requires-python is `{}` in {}",
                        file.name,
                        requires.text,
                        requires.at()
                    ),
                )
                .with_hint("change one of them to agree, or set `python:` in the spec"),
            );
            return None;
        }
        return Some(Python {
            version,
            origin: Origin::Project {
                file: file.clone(),
                span,
                says: Says::PythonVersion,
            },
        });
    }
    if let Some(requires) = requires {
        let Some(newest) = requires.newest() else {
            problems.in_file(
                requires.file,
                Diagnostic::new(
                    requires.span,
                    format!(
                        "requires-python `{}` allows none of {}, the versions pyslim chooses from",
                        requires.text,
                        SERIES.join(", ")
                    ),
                )
                .with_hint("set `python:` in the spec to a version it allows"),
            );
            return None;
        };
        return Some(Python {
            version: newest,
            origin: Origin::Project {
                file: requires.file.clone(),
                span: requires.span,
                says: Says::RequiresPython(requires.text),
            },
        });
    }
    for file in named("Pipfile") {
        match pipfile(file) {
            Ok(None) => continue,
            Ok(Some((version, span))) => {
                return Some(Python {
                    version,
                    origin: Origin::Project {
                        file: file.clone(),
                        span,
                        says: Says::Pipfile,
                    },
                });
            }
            Err(problem) => {
                problems.in_file(file, problem);
                return None;
            }
        }
    }
    for file in named("runtime.txt") {
        let Some((range, line)) = first_line(&file.text) else {
            continue;
        };
        let span = file.span_at(range);
        let version = line.strip_prefix("python-").and_then(PythonVersion::parse);
        let Some(version) = version.map(|v| v.series()) else {
            problems.in_file(
                file,
                Diagnostic::new(
                    span,
                    format!(
                        "`{}` says `{line}`, not a CPython version like `python-3.13.1`",
                        file.name
                    ),
                )
                .with_hint("write the version as `python-3.13.1`, or set `python:` in the spec"),
            );
            return None;
        };
        return Some(Python {
            version,
            origin: Origin::Project {
                file: file.clone(),
                span,
                says: Says::RuntimeTxt,
            },
        });
    }
    problems.problems.push(
        Diagnostic::new(spec.top, "the spec does not say which python to use, and neither does the project")
            .with_hint(format!(
                "add `python: \"{SUGGESTED}\"` (it selects python:{SUGGESTED} and python:{SUGGESTED}-slim); pyslim looked for a version in {}",
                looked_for(looked_at)
            )),
    );
    None
}

/// `.python-version, pyproject.toml (requires-python), …`: what each file was read for.
fn looked_for(paths: &[String]) -> String {
    let described: Vec<String> = paths
        .iter()
        .map(|path| match path.rsplit('/').next() {
            Some("pyproject.toml") => format!("{path} (requires-python)"),
            Some("Pipfile") => format!("{path} ([requires] python_version)"),
            _ => path.clone(),
        })
        .collect();
    match described.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// A project's `requires-python`, parsed.
struct Requires<'f> {
    file: &'f SourceFile,
    span: Span,
    text: String,
    specifiers: VersionSpecifiers,
}

impl Requires<'_> {
    /// `app/pyproject.toml:4`: where it is written, for a problem shown elsewhere.
    fn at(&self) -> String {
        format!("{}:{}", self.file.name, self.span.line)
    }

    /// The newest of [`SERIES`] it allows.
    fn newest(&self) -> Option<PythonVersion> {
        SERIES
            .iter()
            .filter_map(|series| PythonVersion::parse(series))
            .find(|version| allows(&self.specifiers, version))
    }
}

/// The first `requires-python` of the pyproject.toml files, in order. `Err` when it cannot be
/// read (the problem is in `problems`).
fn requires_python<'f>(
    pyprojects: impl Iterator<Item = &'f SourceFile>,
    problems: &mut Problems,
) -> Result<Option<Requires<'f>>, ()> {
    for file in pyprojects {
        let (text, range) = match pyproject::requires_python(&file.text) {
            Ok(Some(found)) => found,
            Ok(None) => continue,
            // Not TOML: whatever reads it as the app's project reports that; here it says
            // nothing about the Python.
            Err(pyproject::Error {
                problem: pyproject::Problem::Toml { .. },
                ..
            }) => continue,
            Err(error) => {
                let at = error
                    .span
                    .clone()
                    .map_or(Span::new(1, 1, 1), |r| file.span_at(r));
                problems.in_file(
                    file,
                    Diagnostic::new(at, format!("`{}` {error}", file.name))
                        .with_hint("write it as a quoted PEP 440 specifier, like `requires-python = \">=3.11\"`"),
                );
                return Err(());
            }
        };
        let span = file.span_at(range);
        return match VersionSpecifiers::from_str(&text) {
            Ok(specifiers) => Ok(Some(Requires {
                file,
                span,
                text,
                specifiers,
            })),
            Err(error) => {
                // Its first line says what is wrong; the rest draws carets under the value.
                let why = error.to_string();
                let why = why.lines().next().unwrap_or_default();
                let why = why
                    .trim_start_matches("Failed to parse version: ")
                    .trim_end_matches(':');
                problems.in_file(
                    file,
                    Diagnostic::new(
                        span,
                        format!(
                            "requires-python `{text}` is not a PEP 440 version specifier: {why}"
                        ),
                    )
                    .with_hint("write it like `>=3.11` or `>=3.11,<3.14`"),
                );
                Err(())
            }
        };
    }
    Ok(None)
}

/// Whether `specifiers` allow `version`: exactly, for `3.X.Y`; for a series `3.X`, some
/// release of it (`>=3.11.4` allows 3.11, whose image follows the series' fixes).
/// A lock written for other Pythons cannot be installed on the chosen one: an error where the
/// choice was made.
pub fn check_lock(python: &Python, found: &super::FoundLock, problems: &mut Problems) {
    let Some(text) = &found.lock.requires_python else {
        return;
    };
    // A form pep440 does not read (an old lock's) is not grounds to refuse the build.
    let Ok(specifiers) = VersionSpecifiers::from_str(text) else {
        return;
    };
    if allows(&specifiers, &python.version) {
        return;
    }
    python.problem(
        format!(
            "python {} is not one the lock `{}` was written for: its requires-python is `{text}`",
            python.version, found.path
        ),
        &format!(
            "use a Python the lock allows, or lock the project again for this one (`{}`)",
            found.format.relock_command()
        ),
        problems,
    );
}

fn allows(specifiers: &VersionSpecifiers, version: &PythonVersion) -> bool {
    let release: Vec<u64> = version
        .as_str()
        .split('.')
        .filter_map(|part| part.parse().ok())
        .collect();
    let &[major, minor, ref patch @ ..] = release.as_slice() else {
        return false;
    };
    if let [patch] = patch {
        return specifiers.contains(&Version::new([major, minor, *patch]));
    }
    // The series' first and (practically) last release, and the releases around every bound
    // inside it, are enough: a specifier set is a few intervals cut at its own versions.
    let mut patches = vec![0, u64::from(u32::MAX)];
    for specifier in specifiers.iter() {
        if let [m, n, rest @ ..] = specifier.version().release()
            && (*m, *n) == (major, minor)
        {
            let bound = rest.first().copied().unwrap_or(0);
            patches.extend([bound.saturating_sub(1), bound, bound + 1]);
        }
    }
    patches
        .into_iter()
        .any(|patch| specifiers.contains(&Version::new([major, minor, patch])))
}

/// The first line that says something (not blank, not a `#` comment), trimmed, and its bytes.
fn first_line(text: &str) -> Option<(Range<usize>, &str)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let at = start + (line.len() - line.trim_start().len());
        return Some((at..at + trimmed.len(), trimmed));
    }
    None
}

/// Pipfile's `[requires]`: `python_full_version`, else `python_version`, as the series.
fn pipfile(file: &SourceFile) -> Result<Option<(PythonVersion, Span)>, Diagnostic> {
    let document = DeTable::parse(&file.text).map_err(|e| {
        let at = e.span().map_or(Span::new(1, 1, 1), |r| file.span_at(r));
        Diagnostic::new(
            at,
            format!("`{}` is not valid TOML: {}", file.name, e.message()),
        )
        .with_hint("fix the file, or set `python:` in the spec")
    })?;
    let document = document.into_inner();
    let Some(requires) = pyproject::table(pyproject::get(&document, "requires")) else {
        return Ok(None);
    };
    let Some(value) = ["python_full_version", "python_version"]
        .iter()
        .find_map(|key| pyproject::get(requires, key))
    else {
        return Ok(None);
    };
    let span = file.span_at(value.span());
    let text = value.get_ref().as_str().unwrap_or_default();
    match PythonVersion::parse(text) {
        Some(version) => Ok(Some((version.series(), span))),
        None => Err(Diagnostic::new(
            span,
            format!(
                "`{}`'s [requires] names `{text}`, which is not a CPython version with an official image",
                file.name
            ),
        )
        .with_hint(format!(
            "write `python_version = \"{SUGGESTED}\"`, or set `python:` in the spec"
        ))),
    }
}

#[cfg(test)]
mod tests;
