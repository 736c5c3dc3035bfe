//! The lock a build honours: one the spec names under `requirements:`, or the one beside the
//! app's project file. Read here, with the project file beside it to check it is not stale;
//! what a target installs from it is chosen per platform ([`FoundLock::pinned`]).

use pyslim_spec::{DependencyKind, Diagnostic, SourceFile, SourceKind, Span, Spec};

use super::app::in_app;
use super::{Dependencies, Input, Problems};
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
        // An image ships the project, not its tools: the groups poetry and pdm install by
        // default (poetry's non-optional groups, pdm's dev groups) come only when the spec names
        // them, as `poetry install --only main` and `pdm install --prod` do. pylock's default
        // groups stay: there they are the project's own dependencies.
        let groups = match (groups, self.format) {
            (None, Format::Poetry | Format::Pdm) => Some(&[][..]),
            _ => groups,
        };
        let selected = lock::select::select(&self.lock, env, extras, groups)?;
        render::pinned(&selected, dir_of(&self.path), context_root)
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

/// The lock of the app in `dir`: one beside it (the first of [`Format::ALL`]), or else the
/// `uv.lock` of the uv workspace it is a member of, in a directory above it.
pub async fn beside_app(
    context: &mut Context<'_>,
    dir: &str,
    origin: Span,
    problems: &mut Problems,
) -> Result<Option<FoundLock>, GatewayError> {
    let mut names: Vec<String> = Format::ALL.iter().map(|f| in_app(dir, f.label())).collect();
    names.extend(ancestors(dir).iter().map(|a| in_app(a, Format::Uv.label())));
    let view = context.view(&names, true).await?;
    for name in &names {
        if context.stat(&view, name).await?.is_some() {
            return read_for(context, name, dir, origin, problems).await;
        }
    }
    Ok(None)
}

/// Reads the lock at `path` (a name [`Format::of_file_name`] knows) for the project beside it.
pub async fn read(
    context: &mut Context<'_>,
    path: &str,
    origin: Span,
    problems: &mut Problems,
) -> Result<Option<FoundLock>, GatewayError> {
    read_for(context, path, dir_of(path), origin, problems).await
}

/// Reads the lock at `path` for the project in `project` (its directory, or a workspace
/// member's below it), with the project file there to check it is not stale. Its problems
/// are reported in it; `None` when there are any.
async fn read_for(
    context: &mut Context<'_>,
    path: &str,
    project: &str,
    origin: Span,
    problems: &mut Problems,
) -> Result<Option<FoundLock>, GatewayError> {
    let Some(format) = Format::of_file_name(path) else {
        return Ok(None);
    };
    let project_path = in_app(project, format.project_file());
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
    let project_text = match context.stat(&view, &project_path).await? {
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
        project: project_text.as_deref(),
    };
    let member = relative(dir_of(path), project);
    match lock::parse(format, &input, &member) {
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

/// The directory of a context path (`.` at the root).
fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or(".", |(dir, _)| dir)
}

/// The directories above `dir`, nearest first, up to the context's root.
fn ancestors(dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = dir;
    while at != "." {
        at = dir_of(at);
        out.push(at.to_string());
    }
    out
}

/// `dir` as a path relative to `base`, which holds it (`.` for the same directory).
fn relative(base: &str, dir: &str) -> String {
    match base {
        "." => dir.to_string(),
        _ if base == dir => ".".into(),
        _ => dir
            .strip_prefix(base)
            .and_then(|rest| rest.strip_prefix('/'))
            .unwrap_or(dir)
            .to_string(),
    }
}

/// A lock is installed on its own, and only with extras it declares.
pub(super) fn check(
    spec: &Spec,
    found: &FoundLock,
    dependencies: &Dependencies,
    problems: &mut Problems,
) {
    for input in &dependencies.inputs {
        let (name, span) = match input {
            Input::File(path) => (
                path.clone(),
                spec.requirements
                    .iter()
                    .find(|r| r.as_str() == path)
                    .map_or(found.origin, |r| r.span),
            ),
            Input::Generated { .. } => (
                "pyproject.toml".to_string(),
                spec.requirements
                    .iter()
                    .find(|r| r.dependency_kind() == DependencyKind::Pyproject)
                    .map_or(found.origin, |r| r.span),
            ),
            _ => continue,
        };
        problems.problems.push(
            Diagnostic::new(span, format!("`{name}` cannot be installed beside the lock `{}`: a lock pins the whole set, and pyslim installs it exactly", found.path))
                .with_hint(format!("add what `{name}` lists to the project and run `{}`, or leave out the lock", found.format.relock_command())),
        );
    }
    unknown_names(
        spec.extras.iter().map(|e| (e.as_str(), e.span)),
        found.lock.extras.keys().map(String::as_str).collect(),
        "extra",
        &found.path,
        "extras are the project's [project.optional-dependencies] as locked; add it there and re-lock",
        problems,
    );
    unknown_names(
        spec.groups.iter().map(|g| (g.as_str(), g.span)),
        found.lock.groups.keys().map(String::as_str).collect(),
        "group",
        &found.path,
        "groups are the project's dependency groups as locked (Pipfile's `develop` is `dev`); add it there and re-lock",
        problems,
    );
}

/// Names a spec asks for that a lock does not have: an error at each, listing the valid ones.
fn unknown_names<'a>(
    asked: impl Iterator<Item = (&'a str, Span)>,
    known: Vec<&str>,
    what: &str,
    lock: &str,
    hint: &str,
    problems: &mut Problems,
) {
    for (name, span) in asked {
        if known.contains(&name) {
            continue;
        }
        let message = if known.is_empty() {
            format!("`{lock}` locks no {what}s, so it has no `{name}`")
        } else {
            format!(
                "`{lock}` locks no {what} `{name}`; it has: {}",
                known.join(", ")
            )
        };
        problems
            .problems
            .push(Diagnostic::new(span, message).with_hint(hint));
    }
}

#[cfg(test)]
#[test]
fn a_member_is_found_below_its_workspace() {
    assert_eq!(ancestors("services/api"), ["services", "."]);
    assert!(ancestors(".").is_empty());
    assert_eq!(relative(".", "services/api"), "services/api");
    assert_eq!(relative("repo", "repo/services/api"), "services/api");
    assert_eq!(relative("repo", "repo"), ".");
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
