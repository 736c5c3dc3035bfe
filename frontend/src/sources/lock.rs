//! The lock a build honours: one the spec names under `requirements:`, or the one beside the
//! app's project file. Read here, with the project file beside it to check it is not stale;
//! what a target installs from it is chosen per platform ([`FoundLock::pinned`]).

use pyslim_spec::{Diagnostic, SourceFile, SourceKind, Span};

use super::Problems;
use super::app::in_app;
use crate::context::Context;
use crate::gateway::GatewayError;
use crate::lock::{self, Environment, Format, Lock, render};

/// A lock, read and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundLock {
    /// Its context path.
    pub path: String,
    pub format: Format,
    pub lock: Lock,
    /// The spec line that led to it: its `requirements:` entry, or `app:`.
    pub origin: Span,
    /// The file's text, to point into when a target cannot install it.
    pub file: SourceFile,
}

impl FoundLock {
    /// The requirement lines `env` installs with `extras` and `groups` (None: the lock's
    /// default groups), local sources under `context_root`.
    pub fn pinned(
        &self,
        env: &Environment,
        extras: &[String],
        groups: Option<&[String]>,
        context_root: &str,
    ) -> Result<render::Pinned, lock::Problem> {
        let selected = lock::select::select(&self.lock, env, extras, groups)?;
        let dir = self.path.rsplit_once('/').map_or(".", |(dir, _)| dir);
        render::pinned(&selected, dir, context_root)
    }

    /// The build log's name for it.
    pub fn describe(&self) -> String {
        let name = self.path.rsplit('/').next().unwrap_or(&self.path);
        if name == self.format.label() {
            self.path.clone()
        } else {
            format!("{} ({})", self.path, self.format.label())
        }
    }
}

/// The lock in the app's directory `dir`, if it has one (the first of [`Format::ALL`]).
pub async fn beside_app(
    context: &mut Context<'_>,
    dir: &str,
    origin: Span,
    problems: &mut Problems,
) -> Result<Option<FoundLock>, GatewayError> {
    let names: Vec<String> = Format::ALL.iter().map(|f| in_app(dir, f.label())).collect();
    let view = context.view(&names, true).await?;
    for name in &names {
        if context.stat(&view, name).await?.is_some() {
            return read(context, name, origin, problems).await;
        }
    }
    Ok(None)
}

/// Reads the lock at `path` (a name [`Format::of_file_name`] knows) and the project file
/// beside it. Its problems are reported in it; `None` when there are any.
pub async fn read(
    context: &mut Context<'_>,
    path: &str,
    origin: Span,
    problems: &mut Problems,
) -> Result<Option<FoundLock>, GatewayError> {
    let Some(format) = Format::of_file_name(path) else {
        return Ok(None);
    };
    let dir = path.rsplit_once('/').map_or(".", |(dir, _)| dir);
    let project_path = in_app(dir, format.project_file());
    let paths = [path.to_string(), project_path.clone()];
    let view = context.view(&paths, true).await?;
    if context.stat(&view, path).await?.is_none() {
        problems.problems.push(
            Diagnostic::new(origin, format!("the lock file `{path}` is not in the build context"))
                .with_hint("paths are relative to the build context (the last argument of `docker buildx build`); check the name and your .dockerignore"),
        );
        return Ok(None);
    }
    let text = context.read_text(&view, path).await?;
    let project = match context.stat(&view, &project_path).await? {
        Some(_) => Some(context.read_text(&view, &project_path).await?),
        None => None,
    };
    let kind = match format {
        Format::Pipfile => SourceKind::LockJson,
        _ => SourceKind::LockToml,
    };
    let file = SourceFile::of_kind(kind, path, text);
    let input = lock::Input {
        lock: &file.text,
        project: project.as_deref(),
    };
    match lock::parse(format, &input) {
        Ok(lock) => Ok(Some(FoundLock {
            path: path.to_string(),
            format,
            lock,
            origin,
            file,
        })),
        Err(found) => {
            for problem in found {
                report(&file, origin, &problem, problems);
            }
            Ok(None)
        }
    }
}

/// A lock's problem at its place in the lock (or, for the whole file, at the spec line that
/// led to it).
pub fn report(file: &SourceFile, origin: Span, problem: &lock::Problem, problems: &mut Problems) {
    let message = format!("the lock file `{}` {}", file.name, problem.message);
    let mut diagnostic = match &problem.span {
        Some(range) => Diagnostic::new(file.span_at(range.clone()), message),
        None => Diagnostic::new(origin, message),
    };
    if let Some(hint) = &problem.hint {
        diagnostic = diagnostic.with_hint(hint.clone());
    }
    match &problem.span {
        Some(_) => problems.in_file(file, diagnostic),
        None => problems.problems.push(diagnostic),
    }
}
