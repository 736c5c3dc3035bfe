//! `poetry.lock`, lock-version 1.1 and 2.0 (poetry 1.x) and 2.1 (poetry 2.x).
//!
//! A 2.1 lock is flat: each package records the groups that need it and, by group, the marker
//! under which they do, so a root edge per package and group says everything (markers name the
//! project's extras as `extra == "..."`). Older locks record only each package's own
//! dependencies: what to install is walked from the project's, read from the pyproject.toml
//! beside the lock, with poetry's constraints (`python = "^3.8"`, `platform`, `markers`)
//! turned into PEP 508 markers as poetry-core turns them.
//!
//! The lock is checked against that pyproject.toml as `poetry install` checks it: its
//! `content-hash` must be the sha256 poetry computes of the project's dependency tables.

mod roots;
mod stale;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::ops::Range;

use pep508_rs::ExtraName;
use toml::de::{DeTable, DeValue};

use super::project::{self, Project, Py, Separators, Value, get, path, string, table};
use super::{Dist, Edge, Input, Lock, Package, Problem, Source, marker, normalise, sha256};
use crate::poetry_constraint::{Constraint, platform_marker};
use roots::{default_groups, flat_roots, graph_roots, no_project};

const RELOCK: &str =
    "run `poetry lock` (poetry 2) or `poetry lock --no-update` (poetry 1) and commit the lock";
const REWRITE: &str = "the lock is damaged: write it again with `poetry lock` and commit it";

pub fn parse(input: &Input<'_>) -> Result<Lock, Vec<Problem>> {
    let doc = project::parse(input.lock, REWRITE).map_err(|p| vec![p])?;
    let project = input
        .project
        .map(|text| Project::parse(text, RELOCK))
        .transpose()
        .map_err(|p| vec![p])?;
    let metadata = get(&doc, "metadata");
    let flat = lock_version(metadata).map_err(|p| vec![p])?;
    let mut problems = Vec::new();
    if let Some(project) = &project {
        problems.extend(stale::stale(metadata, &project.doc));
    }
    let metadata = table(metadata);
    let legacy_files = table(metadata.and_then(|m| get(m, "files")));
    let mut lock = Lock {
        requires_python: string(metadata.and_then(|m| get(m, "python-versions"))).map(String::from),
        ..Lock::default()
    };
    let mut read = Vec::new();
    for item in packages(&doc).map_err(|p| vec![p])? {
        match package(item, legacy_files, flat) {
            Ok(entry) => read.push(entry),
            Err(mut found) => problems.append(&mut found),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let result = if flat {
        flat_roots(&doc, &read, &mut lock)
    } else {
        match &project {
            Some(project) => graph_roots(project, &mut read, &mut lock),
            None => Err(vec![no_project(&doc)]),
        }
    };
    result?;
    if let Some(project) = &project {
        lock.default_groups = default_groups(project)
            .into_iter()
            .filter(|g| lock.groups.contains_key(g))
            .collect();
    }
    lock.packages = read.into_iter().map(|e| e.package).collect();
    Ok(lock)
}

/// Whether the lock is flat (2.1 and later).
fn lock_version(metadata: Option<&Value<'_>>) -> Result<bool, Problem> {
    let written = metadata
        .and_then(|m| m.get_ref().as_table())
        .and_then(|m| get(m, "lock-version"));
    let Some(written) = written else {
        return Err(Problem::at(
            metadata.map(|m| m.span()),
            "has no `lock-version` in its [metadata], so it is not one poetry 1.1 or later wrote",
        )
        .with_hint(REWRITE));
    };
    let text = written.get_ref().as_str().unwrap_or_default();
    let mut parts = text.split('.').map(str::parse::<u32>);
    match (parts.next(), parts.next()) {
        (Some(Ok(1)), _) => Ok(false),
        (Some(Ok(2)), Some(Ok(minor))) => Ok(minor >= 1),
        _ => Err(Problem::at(
            Some(written.span()),
            format!("has lock-version `{text}`, which pyslim does not read (it reads 1.1 to 2.1)"),
        )
        .with_hint("lock with poetry 1.1 or later (up to poetry 2.x)")),
    }
}

fn packages<'t, 'i>(doc: &'t DeTable<'i>) -> Result<Vec<&'t Value<'i>>, Problem> {
    match get(doc, "package") {
        None => Ok(Vec::new()),
        Some(value) => match value.get_ref().as_array() {
            Some(items) => Ok(items.iter().collect()),
            None => Err(Problem::at(
                Some(value.span()),
                "has a `package` that is not a list of [[package]] tables",
            )
            .with_hint(REWRITE)),
        },
    }
}

/// A dependency as poetry writes it, in the lock or in `[tool.poetry.dependencies]`.
#[derive(Clone, Debug)]
struct Dep {
    edge: Edge,
    constraint: Option<Constraint>,
    optional: bool,
}

/// A `[[package]]` read. A graph lock's dependencies and extras are made edges once every
/// package is known (an edge to a name pinned at several versions says which).
struct Entry<'t, 'i> {
    package: Package,
    table: &'t DeTable<'i>,
    deps: Vec<Dep>,
    extras: BTreeMap<String, Vec<Dep>>,
}

fn package<'t, 'i>(
    item: &'t Value<'i>,
    legacy_files: Option<&DeTable<'_>>,
    flat: bool,
) -> Result<Entry<'t, 'i>, Vec<Problem>> {
    let Some(t) = item.get_ref().as_table() else {
        return Err(vec![
            Problem::at(Some(item.span()), "has a [[package]] that is not a table")
                .with_hint(REWRITE),
        ]);
    };
    let name_value = get(t, "name");
    let Some((pretty, name_span)) =
        name_value.and_then(|v| Some((v.get_ref().as_str()?, v.span())))
    else {
        return Err(vec![
            Problem::at(
                Some(name_value.map_or(item.span(), |v| v.span())),
                "has a [[package]] without a name",
            )
            .with_hint(REWRITE),
        ]);
    };
    let name = normalise(pretty);
    let mut problems = Vec::new();
    let source = source(&name, t);
    let (version, source) =
        project::version_and_source(t, &name, name_span.clone(), source, REWRITE, &mut problems);
    let files = match files(&name, pretty, t, &source, legacy_files) {
        Ok(files) => files,
        Err(p) => {
            problems.push(p);
            Vec::new()
        }
    };
    let mut deps = Vec::new();
    let mut extras = BTreeMap::new();
    if !flat {
        for (dep_name, value) in table(get(t, "dependencies")).into_iter().flatten() {
            match deps_of(dep_name.get_ref(), value) {
                Ok(found) => deps.extend(found),
                Err((span, detail)) => problems.push(
                    Problem::at(Some(span), format!("gives `{name}` {detail}")).with_hint(REWRITE),
                ),
            }
        }
        match package_extras(&name, t, &deps) {
            Ok(found) => extras = found,
            Err(p) => problems.push(p),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Entry {
        package: Package {
            name,
            version,
            source,
            files,
            dependencies: Vec::new(),
            extras: BTreeMap::new(),
            span: Some(name_span),
        },
        table: t,
        deps,
        extras,
    })
}

fn source(name: &str, t: &DeTable<'_>) -> Result<Source, Problem> {
    let Some(value) = get(t, "source") else {
        return Ok(Source::Registry { url: None });
    };
    let Some(source) = value.get_ref().as_table() else {
        return Err(Problem::at(
            Some(value.span()),
            format!("gives `{name}` a source that is not a table"),
        )
        .with_hint(REWRITE));
    };
    let kind = string(get(source, "type")).unwrap_or("legacy");
    let url_value = get(source, "url");
    let url = string(url_value).map(String::from);
    let needs_url = || {
        Problem::at(
            Some(value.span()),
            format!("gives `{name}` a {kind} source without a url"),
        )
        .with_hint(REWRITE)
    };
    let subdirectory = string(get(source, "subdirectory")).filter(|s| !s.is_empty());
    match kind {
        "legacy" | "pypi" | "" => Ok(Source::Registry { url }),
        "git" => {
            let url = url.ok_or_else(needs_url)?;
            if let Some(sub) = subdirectory {
                return Err(Problem::at(
                    url_value.map(|v| v.span()),
                    format!("pins `{name}` from the subdirectory `{sub}` of a git repository, which pyslim cannot install yet"),
                )
                .with_hint("depend on a released version, or on a repository with the package at its root"));
            }
            let commit = string(get(source, "resolved_reference"))
                .or_else(|| string(get(source, "reference")).filter(|r| is_commit(r)));
            let Some(commit) = commit else {
                return Err(Problem::at(
                    Some(value.span()),
                    format!("pins `{name}` to git `{url}` without the commit it resolved"),
                )
                .with_hint(RELOCK));
            };
            Ok(Source::Git {
                url: git_url(&url),
                commit: commit.to_string(),
            })
        }
        "directory" => {
            let path = url.ok_or_else(needs_url)?;
            Ok(Source::Path {
                path: match subdirectory {
                    Some(sub) => format!("{}/{sub}", path.trim_end_matches('/')),
                    None => path,
                },
            })
        }
        "file" => match subdirectory {
            None => Ok(Source::Path {
                path: url.ok_or_else(needs_url)?,
            }),
            Some(sub) => Err(Problem::at(
                Some(value.span()),
                format!("pins `{name}` from the subdirectory `{sub}` of an archive in the project, which pyslim cannot install yet"),
            )
            .with_hint("depend on the package's own directory or archive")),
        },
        // pip finds a package inside an archive by the URL's fragment.
        "url" => {
            let url = url.ok_or_else(needs_url)?;
            Ok(Source::Url {
                url: match subdirectory {
                    Some(sub) => format!("{url}#subdirectory={sub}"),
                    None => url,
                },
            })
        }
        other => Err(Problem::at(
            Some(value.span()),
            format!("gives `{name}` a source of type `{other}`, which pyslim cannot install"),
        )
        .with_hint("pyslim installs packages from indexes, git, URLs and paths")),
    }
}

fn is_commit(reference: &str) -> bool {
    reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit())
}

/// pip reads `git+ssh://git@host/path`, not git's `git@host:path`.
fn git_url(url: &str) -> String {
    if url.contains("://") {
        return url.to_string();
    }
    match url.split_once(':') {
        Some((host, path)) if host.contains('@') && !path.starts_with('/') => {
            format!("ssh://{host}/{path}")
        }
        _ => url.to_string(),
    }
}

/// The package's files and their sha256: its own `files` (lock 2.x) or, for a package from an
/// index, `[metadata.files]` under its name (lock 1.x). Hashes of other algorithms cannot
/// verify a file and are left out.
fn files(
    name: &str,
    pretty: &str,
    t: &DeTable<'_>,
    source: &Source,
    legacy: Option<&DeTable<'_>>,
) -> Result<Vec<Dist>, Problem> {
    let listed = match get(t, "files") {
        Some(files) => Some(files),
        None if matches!(source, Source::Registry { .. }) => legacy.and_then(|files| {
            get(files, pretty).or_else(|| {
                files
                    .iter()
                    .find(|(k, _)| normalise(k.get_ref()) == name)
                    .map(|(_, v)| v)
            })
        }),
        // As poetry: 1.x locks keep none for git, URL and directory sources, and what a
        // file source's hash would check, pip cannot check it for a local path.
        None => None,
    };
    let Some(listed) = listed else {
        return Ok(Vec::new());
    };
    let Some(items) = listed.get_ref().as_array() else {
        return Err(Problem::at(
            Some(listed.span()),
            format!("lists the files of `{name}` as something other than a list"),
        )
        .with_hint(REWRITE));
    };
    let mut out = Vec::new();
    for item in items.iter() {
        let Some(file) = item.get_ref().as_table() else {
            return Err(Problem::at(
                Some(item.span()),
                format!("lists a file of `{name}` that is not a table"),
            )
            .with_hint(REWRITE));
        };
        if let Some(digest) = string(get(file, "hash")).and_then(sha256) {
            out.push(Dist {
                name: string(get(file, "file")).map(String::from),
                url: string(get(file, "url")).map(String::from),
                sha256: digest,
            });
        }
    }
    Ok(out)
}

/// The dependencies an entry of `[package.dependencies]` or `[tool.poetry.dependencies]`
/// stands for: one constraint, or several (each for its own Pythons or platforms). An error
/// is the span of what is wrong and a description that follows "gives `x` ".
fn deps_of(name: &str, value: &Value<'_>) -> Result<Vec<Dep>, (Range<usize>, String)> {
    match value.get_ref() {
        DeValue::Array(items) => items.iter().map(|item| dep(name, item)).collect(),
        _ => Ok(vec![dep(name, value)?]),
    }
}

fn dep(name: &str, value: &Value<'_>) -> Result<Dep, (Range<usize>, String)> {
    let span = value.span();
    let t = match value.get_ref() {
        DeValue::String(version) => {
            return Ok(Dep {
                edge: Edge::to(name),
                constraint: version.parse().ok(),
                optional: false,
            });
        }
        DeValue::Table(t) => t,
        _ => {
            return Err((
                span,
                format!("a dependency on `{name}` that is neither a version nor a table"),
            ));
        }
    };
    let mut conditions = Vec::new();
    if let Some(markers) = string(get(t, "markers")).filter(|m| !m.trim().is_empty()) {
        conditions.push(markers.to_string());
    }
    if let Some(python) = get(t, "python") {
        let parsed = match python.get_ref().as_str() {
            Some(text) => text
                .parse::<Constraint>()
                .map_err(|why| format!("`{text}` {why}")),
            None => Err("is not a string".to_string()),
        };
        match parsed {
            Ok(c) => conditions.extend(c.python_marker()),
            Err(e) => {
                return Err((
                    python.span(),
                    format!(
                        "a dependency on `{name}` whose python constraint pyslim cannot read: {e}"
                    ),
                ));
            }
        }
    }
    if let Some(platform) = string(get(t, "platform")) {
        conditions.extend(platform_marker(platform));
    }
    let text = match conditions.as_slice() {
        [one] => one.clone(),
        many => many
            .iter()
            .map(|c| format!("({c})"))
            .collect::<Vec<_>>()
            .join(" and "),
    };
    // A marker poetry-core wrote from `python` or `platform` reads; one written is the suspect.
    let span = get(t, "markers").map_or(span, |m| m.span());
    let marker = marker(&text, Some(span.clone())).map_err(|p| {
        (
            span.clone(),
            format!("a dependency on `{name}` that {}", p.message),
        )
    })?;
    let extras = get(t, "extras")
        .and_then(|v| v.get_ref().as_array())
        .into_iter()
        .flat_map(|items| items.iter())
        .filter_map(|item| item.get_ref().as_str().map(normalise))
        .collect();
    Ok(Dep {
        edge: Edge {
            marker,
            extras,
            ..Edge::to(name)
        },
        constraint: string(get(t, "version")).and_then(|v| v.parse().ok()),
        optional: get(t, "optional").and_then(|v| v.get_ref().as_bool()) == Some(true),
    })
}

/// `[package.extras]`: each extra's requirements are the package's dependencies of those
/// names (optional ones included). A requirement the package does not depend on was not
/// locked, as nothing asked for that extra.
fn package_extras(
    name: &str,
    t: &DeTable<'_>,
    deps: &[Dep],
) -> Result<BTreeMap<String, Vec<Dep>>, Problem> {
    let mut extras = BTreeMap::new();
    for (extra, value) in table(get(t, "extras")).into_iter().flatten() {
        let Some(items) = value.get_ref().as_array() else {
            return Err(Problem::at(
                Some(value.span()),
                format!(
                    "gives `{name}` an extra `{}` that is not a list",
                    extra.get_ref()
                ),
            )
            .with_hint(REWRITE));
        };
        let mut wanted_deps = Vec::new();
        for item in items.iter() {
            let Some(wanted) = item.get_ref().as_str().and_then(project::requirement) else {
                return Err(Problem::at(
                    Some(item.span()),
                    format!("gives `{name}` an extra requirement pyslim cannot read"),
                )
                .with_hint(REWRITE));
            };
            let wanted_marker = marker(wanted.marker.as_deref().unwrap_or(""), Some(item.span()))?;
            let target = normalise(&wanted.name);
            for dep in deps.iter().filter(|d| d.edge.name == target) {
                let mut dep = dep.clone();
                for extra in &wanted.extras {
                    if !dep.edge.extras.contains(extra) {
                        dep.edge.extras.push(extra.clone());
                    }
                }
                if let Some(m) = &wanted_marker {
                    match &mut dep.edge.marker {
                        Some(existing) => existing.and(m.clone()),
                        None => dep.edge.marker = Some(m.clone()),
                    }
                }
                wanted_deps.push(dep);
            }
        }
        // Followed for this extra, a dependency's `extra == "this"` holds.
        if let Ok(active) = ExtraName::new(normalise(extra.get_ref())) {
            for dep in &mut wanted_deps {
                if let Some(m) = dep.edge.marker.take() {
                    let simplified = m.simplify_extras(std::slice::from_ref(&active));
                    dep.edge.marker = (!simplified.is_true()).then_some(simplified);
                }
            }
        }
        extras.insert(normalise(extra.get_ref()), wanted_deps);
    }
    Ok(extras)
}
