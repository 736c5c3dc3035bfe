//! PEP 751 `pylock.toml` (and `pylock.NAME.toml`): a flat lock. Each `[[packages]]` entry
//! carries its own `marker`, which may ask for the extras and dependency groups an install
//! chose (`'socks' in extras`, `'test' in dependency_groups`); those are rewritten to the
//! `extra == …` markers pep508_rs evaluates (`markers.rs`).
//!
//! `default-groups` name synthetic groups standing for the project's own dependencies (PDM
//! always writes one, `default`). pyslim always installs those, so markers that ask for them
//! are read as holding whatever groups the spec names; a spec naming `groups: [test]` still
//! gets the app's dependencies.
//!
//! The PEP records no hash of the project file, so nothing here says the lock is stale.

mod files;
mod markers;

use std::ops::Range;

use pep508_rs::MarkerTree;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use super::{Dist, Edge, Format, Input, Lock, Package, Problem, Source, normalise, sha256};

pub(super) use files::local_path;
use files::{Location, read_file};
pub(super) use markers::marker;

/// The `lock-version` major this reader knows; the PEP makes a tool refuse any other.
const KNOWN_MAJOR: &str = "1";

fn relock() -> String {
    format!("write it again: {}", Format::Pylock.relock_command())
}

pub fn parse(input: &Input<'_>) -> Result<Lock, Vec<Problem>> {
    let document = DeTable::parse(input.lock).map_err(|e| {
        vec![
            Problem::at(
                e.span(),
                format!("is not valid TOML: {}", e.message().trim_end()),
            )
            .with_hint(relock()),
        ]
    })?;
    let document = document.get_ref();
    let mut problems = Vec::new();
    let mut lock = Lock::default();

    match get(document, "lock-version") {
        None => problems.push(
            Problem::at(None, "has no `lock-version`, so it is not a PEP 751 lock")
                .with_hint(relock()),
        ),
        Some(value) => match value.get_ref().as_str() {
            Some(version) if version.split('.').next() == Some(KNOWN_MAJOR) => {}
            Some(version) => problems.push(
                Problem::at(
                    Some(value.span()),
                    format!("is lock-version {version}, which pyslim cannot read (it reads 1.x)"),
                )
                .with_hint("write it with a tool that writes `lock-version = \"1.0\"`"),
            ),
            None => problems.push(not_a("`lock-version`", "string", value.span())),
        },
    }
    if let Some((text, _)) = string(document, "requires-python", &mut problems) {
        lock.requires_python = Some(text.to_string());
    }
    for (text, span) in strings(document, "environments", &mut problems) {
        match super::marker(&text, Some(span)) {
            Ok(Some(marker)) => lock.environments.push(marker),
            // An empty marker holds everywhere: the lock is for any environment.
            Ok(None) => lock.environments.push(MarkerTree::TRUE),
            Err(problem) => problems.push(problem),
        }
    }
    for (name, _) in strings(document, "extras", &mut problems) {
        lock.extras.insert(normalise(&name), Vec::new());
    }
    for (name, _) in strings(document, "dependency-groups", &mut problems) {
        lock.groups.insert(normalise(&name), Vec::new());
    }
    for (name, _) in strings(document, "default-groups", &mut problems) {
        lock.default_groups.push(normalise(&name));
    }
    let project = input.project.and_then(project_name);

    let Some(packages) = get(document, "packages") else {
        problems.push(
            Problem::at(None, "has no [[packages]], so it is not a PEP 751 lock")
                .with_hint(relock()),
        );
        return Err(problems);
    };
    let Some(entries) = packages.get_ref().as_array() else {
        problems.push(not_a("`packages`", "array of tables", packages.span()));
        return Err(problems);
    };
    for entry in entries.iter() {
        let Some(table) = entry.get_ref().as_table() else {
            problems.push(not_a("[[packages]] entry", "table", entry.span()));
            continue;
        };
        if let Some((package, edge)) = read_package(
            table,
            entry.span(),
            &lock.default_groups,
            project.as_deref(),
            &mut problems,
        ) {
            lock.main.push(edge);
            lock.packages.push(package);
        }
    }
    if problems.is_empty() {
        Ok(lock)
    } else {
        Err(problems)
    }
}

/// One `[[packages]]` entry: the package, and the root edge that carries its marker.
fn read_package(
    table: &DeTable<'_>,
    entry: Range<usize>,
    default_groups: &[String],
    project: Option<&str>,
    problems: &mut Vec<Problem>,
) -> Option<(Package, Edge)> {
    let before = problems.len();
    let Some((name, name_span)) = string(table, "name", problems) else {
        if problems.len() == before {
            problems.push(
                Problem::at(Some(entry), "has a [[packages]] entry without a `name`")
                    .with_hint(relock()),
            );
        }
        return None;
    };
    let name = normalise(name);
    let version = string(table, "version", problems).map(|(v, _)| v.to_string());
    let marker = match string(table, "marker", problems) {
        Some((text, span)) => marker(text, Some(span), default_groups)
            .map_err(|p| problems.push(p))
            .ok()
            .flatten(),
        None => None,
    };
    let index = string(table, "index", problems).map(|(v, _)| v.to_string());
    let (source, files) = read_source(table, &name, &name_span, index, project, problems)?;
    if problems.len() > before {
        return None;
    }
    let edge = Edge {
        name: name.clone(),
        version: version.clone(),
        marker,
        extras: Vec::new(),
    };
    let package = Package {
        name,
        version,
        source,
        files,
        dependencies: Vec::new(),
        extras: Default::default(),
        span: Some(name_span),
    };
    Some((package, edge))
}

/// Where an entry's files come from: exactly one of `vcs`, `directory`, `archive`, or the
/// index files (`sdist` and `wheels`).
fn read_source(
    table: &DeTable<'_>,
    name: &str,
    name_span: &Range<usize>,
    index: Option<String>,
    project: Option<&str>,
    problems: &mut Vec<Problem>,
) -> Option<(Source, Vec<Dist>)> {
    let kinds: Vec<&str> = ["vcs", "directory", "archive", "sdist", "wheels"]
        .into_iter()
        .filter(|key| get(table, key).is_some())
        .collect();
    let index_files = kinds.iter().all(|k| matches!(*k, "sdist" | "wheels"));
    if kinds.is_empty() || (kinds.len() > 1 && !index_files) {
        let message = if kinds.is_empty() {
            format!("records no source for `{name}` (no vcs, directory, archive, sdist or wheels)")
        } else {
            format!(
                "records more than one source for `{name}` ({}), and an installer must refuse to choose",
                kinds.join(", ")
            )
        };
        problems.push(Problem::at(Some(name_span.clone()), message).with_hint(relock()));
        return None;
    }
    match kinds[0] {
        "vcs" => vcs(sub_table(table, "vcs", problems)?, name, problems),
        "directory" => directory(
            sub_table(table, "directory", problems)?,
            name,
            project,
            problems,
        ),
        "archive" => archive(sub_table(table, "archive", problems)?, name, problems),
        _ => index_files_source(table, name, name_span, index, problems),
    }
}

fn vcs(
    (vcs, span): (&DeTable<'_>, Range<usize>),
    name: &str,
    problems: &mut Vec<Problem>,
) -> Option<(Source, Vec<Dist>)> {
    let kind = string(vcs, "type", problems);
    let url = string(vcs, "url", problems);
    let commit = string(vcs, "commit-id", problems);
    match kind {
        Some(("git", _)) => {}
        Some((other, at)) => {
            problems.push(
                Problem::at(
                    Some(at),
                    format!("installs `{name}` from a `{other}` repository; pyslim installs only from git"),
                )
                .with_hint("publish it to an index, or lock it from a git repository"),
            );
            return None;
        }
        None => {
            problems.push(missing("vcs", "type", name, span));
            return None;
        }
    }
    let Some((url, _)) = url else {
        let why = if get(vcs, "path").is_some() {
            format!(
                "installs `{name}` from a git repository on the locking machine (`path`), which a build cannot reach"
            )
        } else {
            format!("records no `url` for the git repository of `{name}`")
        };
        problems.push(
            Problem::at(Some(span), why).with_hint("lock it from the repository's URL instead"),
        );
        return None;
    };
    let Some((commit, _)) = commit else {
        problems.push(missing("vcs", "commit-id", name, span));
        return None;
    };
    if let Some((_, at)) = string(vcs, "subdirectory", problems) {
        problems.push(subdirectory_unsupported(name, at));
        return None;
    }
    let url = url.strip_prefix("git+").unwrap_or(url).to_string();
    Some((
        Source::Git {
            url,
            commit: commit.to_string(),
        },
        Vec::new(),
    ))
}

fn directory(
    (directory, span): (&DeTable<'_>, Range<usize>),
    name: &str,
    project: Option<&str>,
    problems: &mut Vec<Problem>,
) -> Option<(Source, Vec<Dist>)> {
    let Some((path, at)) = string(directory, "path", problems) else {
        problems.push(missing("directory", "path", name, span));
        return None;
    };
    let mut path = local_path(path, name, at, problems)?;
    if let Some((sub, at)) = string(directory, "subdirectory", problems) {
        let sub = local_path(sub, name, at, problems)?;
        path = if path == "." {
            sub
        } else {
            format!("{path}/{sub}")
        };
    }
    // The project itself (uv writes it as `directory = { path = "." }`): pyslim builds it as
    // the app instead of installing it as a dependency.
    if path == "." || project == Some(name) {
        return Some((Source::Project { path }, Vec::new()));
    }
    Some((Source::Path { path }, Vec::new()))
}

fn archive(
    (archive, span): (&DeTable<'_>, Range<usize>),
    name: &str,
    problems: &mut Vec<Problem>,
) -> Option<(Source, Vec<Dist>)> {
    let file = read_file(archive, span, name, problems)?;
    let subdirectory = string(archive, "subdirectory", problems);
    match file.location {
        Location::Url(url) => {
            // pip reads a subdirectory of an archive from the URL's fragment.
            let url = match subdirectory {
                Some((sub, _)) => format!("{url}#subdirectory={sub}"),
                None => url,
            };
            let dist = Dist {
                name: file.name,
                url: Some(url.clone()),
                sha256: file.sha256,
            };
            Some((Source::Url { url }, vec![dist]))
        }
        Location::Path(path) => {
            if let Some((_, at)) = subdirectory {
                problems.push(subdirectory_unsupported(name, at));
                return None;
            }
            Some((Source::Path { path }, Vec::new()))
        }
    }
}

/// `sdist` and `wheels`: files of an index (each hash-checked), or files beside the lock.
fn index_files_source(
    table: &DeTable<'_>,
    name: &str,
    name_span: &Range<usize>,
    index: Option<String>,
    problems: &mut Vec<Problem>,
) -> Option<(Source, Vec<Dist>)> {
    let before = problems.len();
    let mut files = Vec::new();
    if let Some((sdist, span)) = sub_table(table, "sdist", problems) {
        files.extend(read_file(sdist, span, name, problems));
    }
    if let Some(wheels) = get(table, "wheels") {
        match wheels.get_ref().as_array() {
            Some(items) => {
                for item in items.iter() {
                    match item.get_ref().as_table() {
                        Some(wheel) => files.extend(read_file(wheel, item.span(), name, problems)),
                        None => problems.push(not_a("wheel", "table", item.span())),
                    }
                }
            }
            None => problems.push(not_a("`wheels`", "array of tables", wheels.span())),
        }
    }
    if problems.len() > before {
        return None;
    }
    let local: Vec<&String> = files
        .iter()
        .filter_map(|f| match &f.location {
            Location::Path(path) => Some(path),
            Location::Url(_) => None,
        })
        .collect();
    match (local.as_slice(), files.len()) {
        ([], _) => {}
        ([path], 1) => {
            return Some((
                Source::Path {
                    path: path.to_string(),
                },
                Vec::new(),
            ));
        }
        _ => {
            problems.push(
                Problem::at(
                    Some(name_span.clone()),
                    format!("records several files of `{name}` on the locking machine's disk, and pyslim cannot choose the one for the target"),
                )
                .with_hint("lock it from an index, or point the lock at one file or directory"),
            );
            return None;
        }
    }
    let dists = files
        .into_iter()
        .map(|f| Dist {
            name: f.name,
            url: match f.location {
                Location::Url(url) => Some(url),
                Location::Path(_) => None,
            },
            sha256: f.sha256,
        })
        .collect();
    Some((Source::Registry { url: index }, dists))
}

fn subdirectory_unsupported(name: &str, span: Range<usize>) -> Problem {
    Problem::at(
        Some(span),
        format!("installs `{name}` from a subdirectory of a repository or local archive, which pyslim cannot install yet"),
    )
    .with_hint("publish the package to an index, or keep it as a directory in the project")
}

/// `[project] name` of the pyproject.toml beside the lock, normalised.
fn project_name(pyproject: &str) -> Option<String> {
    let document = DeTable::parse(pyproject).ok()?;
    let project = get(document.get_ref(), "project")?.get_ref().as_table()?;
    Some(normalise(get(project, "name")?.get_ref().as_str()?))
}

fn get<'t, 'i>(table: &'t DeTable<'i>, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

/// A string field; one of another type is a problem.
fn string<'t>(
    table: &'t DeTable<'_>,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Option<(&'t str, Range<usize>)> {
    let value = get(table, key)?;
    match value.get_ref().as_str() {
        Some(text) => Some((text, value.span())),
        None => {
            problems.push(not_a(&format!("`{key}`"), "string", value.span()));
            None
        }
    }
}

/// An array of strings, each with its span.
fn strings(
    table: &DeTable<'_>,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Vec<(String, Range<usize>)> {
    let Some(value) = get(table, key) else {
        return Vec::new();
    };
    let Some(items) = value.get_ref().as_array() else {
        problems.push(not_a(&format!("`{key}`"), "array of strings", value.span()));
        return Vec::new();
    };
    array_strings(items, key, problems)
}

fn array_strings(
    items: &DeArray<'_>,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Vec<(String, Range<usize>)> {
    items
        .iter()
        .filter_map(|item| match item.get_ref().as_str() {
            Some(text) => Some((text.to_string(), item.span())),
            None => {
                problems.push(not_a(&format!("`{key}` entry"), "string", item.span()));
                None
            }
        })
        .collect()
}

fn sub_table<'t, 'i>(
    table: &'t DeTable<'i>,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Option<(&'t DeTable<'i>, Range<usize>)> {
    let value = get(table, key)?;
    match value.get_ref().as_table() {
        Some(inner) => Some((inner, value.span())),
        None => {
            problems.push(not_a(&format!("`{key}`"), "table", value.span()));
            None
        }
    }
}

fn not_a(what: &str, kind: &str, span: Range<usize>) -> Problem {
    Problem::at(Some(span), format!("has {what} that is not a {kind}")).with_hint(relock())
}

fn missing(table: &str, key: &str, package: &str, span: Range<usize>) -> Problem {
    Problem::at(
        Some(span),
        format!("has no `{key}` in the `{table}` of `{package}`"),
    )
    .with_hint(relock())
}

#[cfg(test)]
mod tests;
