//! `pdm.lock`, lock_version 4.x (pdm 2).
//!
//! A lock written with the `inherit_metadata` strategy (pdm 2.11 and later, lock_version 4.4
//! on) is flat: each package records the groups that need it (`default`, the project's extras,
//! its dev groups) and the marker under which they do, and `pdm install` takes every package
//! of a chosen group whose marker holds. Older locks record each package's dependencies: what
//! to install is walked from the project's, read from the pyproject.toml beside the lock.
//!
//! A package locked with extras (`coverage[toml]`) is a second entry of the same version; its
//! dependencies, less the pin of the package itself, become that extra's.
//!
//! The lock is checked against that pyproject.toml as `pdm install` checks it: its
//! `content_hash` must be the sha256 pdm computes of the project's dependency tables.

mod stale;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use pep508_rs::MarkerTree;
use toml::de::DeTable;

use super::project::{self, Project, Py, Separators, Value, get, path, string, table};
use super::{Dist, Edge, Input, Lock, Package, Problem, Source, marker, normalise, sha256};
use stale::stale;

const RELOCK: &str = "run `pdm lock` and commit the lock";
const REWRITE: &str = "the lock is damaged: write it again with `pdm lock` and commit it";

pub fn parse(input: &Input<'_>) -> Result<Lock, Vec<Problem>> {
    let doc = project::parse(input.lock, REWRITE).map_err(|p| vec![p])?;
    let project = input
        .project
        .map(|text| Project::parse(text, RELOCK))
        .transpose()
        .map_err(|p| vec![p])?;
    let metadata = get(&doc, "metadata");
    lock_version(metadata).map_err(|p| vec![p])?;
    let mut problems = Vec::new();
    if let Some(project) = &project {
        problems.extend(stale(metadata, &project.doc));
    }
    let metadata = table(metadata);
    let legacy_files = table(metadata.and_then(|m| get(m, "files")));
    let mut entries = Vec::new();
    for item in packages(&doc).map_err(|p| vec![p])? {
        match entry(item, legacy_files) {
            Ok(entry) => entries.push(entry),
            Err(mut found) => problems.append(&mut found),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let strategy: Vec<&str> = metadata
        .and_then(|m| get(m, "strategy"))
        .and_then(|s| s.get_ref().as_array())
        .into_iter()
        .flat_map(|items| items.iter())
        .filter_map(|item| item.get_ref().as_str())
        .collect();
    let flat = strategy.contains(&"inherit_metadata") || entries.iter().any(|e| e.groups.is_some());
    let locked_groups: Option<Vec<String>> = metadata
        .and_then(|m| get(m, "groups"))
        .and_then(|g| g.get_ref().as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.get_ref().as_str().map(normalise))
                .collect()
        });
    let (packages, conditions) = merge(entries, flat);
    let mut lock = Lock {
        requires_python: requires_python(metadata),
        packages,
        ..Lock::default()
    };
    let kinds = project.as_ref().map(Kinds::of);
    if flat {
        flat_roots(&mut lock, conditions, kinds.as_ref());
    } else {
        let Some(project) = &project else {
            return Err(vec![no_project(metadata)]);
        };
        graph_roots(&mut lock, project, locked_groups.as_deref()).map_err(|p| vec![p])?;
    }
    if let Some(kinds) = &kinds {
        lock.default_groups = kinds
            .dev
            .iter()
            .filter(|g| lock.groups.contains_key(*g))
            .filter(|g| locked_groups.as_ref().is_none_or(|l| l.contains(g)))
            .cloned()
            .collect();
    }
    Ok(lock)
}

fn lock_version(metadata: Option<&Value<'_>>) -> Result<(), Problem> {
    let written = metadata
        .and_then(|m| m.get_ref().as_table())
        .and_then(|m| get(m, "lock_version"));
    let Some(written) = written else {
        return Err(Problem::at(
            metadata.map(|m| m.span()),
            "has no `lock_version` in its [metadata], so it is not one pdm 2 wrote",
        )
        .with_hint("lock with pdm 2: `pdm lock`"));
    };
    let text = written.get_ref().as_str().unwrap_or_default();
    if text.split('.').next() == Some("4") {
        Ok(())
    } else {
        Err(Problem::at(
            Some(written.span()),
            format!("has lock_version `{text}`, which pyslim does not read (it reads 4.x, written by pdm 2)"),
        )
        .with_hint("lock with pdm 2: `pdm lock`"))
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

/// A `[[package]]` read.
struct Entry {
    package: Package,
    /// The extras it was locked with: a second entry of a package.
    with_extras: Vec<String>,
    groups: Option<Vec<String>>,
    marker: Option<MarkerTree>,
}

fn entry(item: &Value<'_>, legacy_files: Option<&DeTable<'_>>) -> Result<Entry, Vec<Problem>> {
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
    let string_list =
        |key: &str, problems: &mut Vec<Problem>| -> Option<Vec<(String, Value<'_>)>> {
            let value = get(t, key)?;
            let Some(items) = value.get_ref().as_array() else {
                problems.push(
                    Problem::at(
                        Some(value.span()),
                        format!("gives `{name}` {key} that are not a list"),
                    )
                    .with_hint(REWRITE),
                );
                return None;
            };
            let mut out = Vec::new();
            for item in items.iter() {
                match item.get_ref().as_str() {
                    Some(s) => out.push((s.to_string(), item.clone())),
                    None => problems.push(
                        Problem::at(
                            Some(item.span()),
                            format!("gives `{name}` one of its {key} that is not a string"),
                        )
                        .with_hint(REWRITE),
                    ),
                }
            }
            Some(out)
        };
    let source = source(&name, t);
    let (version, source) =
        project::version_and_source(t, &name, name_span.clone(), source, REWRITE, &mut problems);
    let files = files(&name, t, version.as_deref(), legacy_files).unwrap_or_else(|p| {
        problems.push(p);
        Vec::new()
    });
    let with_extras: Vec<String> = string_list("extras", &mut problems)
        .unwrap_or_default()
        .into_iter()
        .map(|(e, _)| normalise(&e))
        .collect();
    let groups = string_list("groups", &mut problems)
        .map(|groups| groups.into_iter().map(|(g, _)| normalise(&g)).collect());
    let marker = match get(t, "marker") {
        Some(value) => match value.get_ref().as_str() {
            Some(text) => marker(text, Some(value.span())).unwrap_or_else(|p| {
                problems.push(p);
                None
            }),
            None => {
                problems.push(
                    Problem::at(
                        Some(value.span()),
                        format!("gives `{name}` a marker that is not a string"),
                    )
                    .with_hint(REWRITE),
                );
                None
            }
        },
        None => None,
    };
    let mut dependencies = Vec::new();
    for (line, item) in string_list("dependencies", &mut problems).unwrap_or_default() {
        let Some(requirement) = project::requirement(&line) else {
            problems.push(
                Problem::at(
                    Some(item.span()),
                    format!("gives `{name}` a dependency pyslim cannot read: `{line}`"),
                )
                .with_hint(REWRITE),
            );
            continue;
        };
        match requirement.edge(Some(item.span())) {
            Ok(edge) => dependencies.push(edge),
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
            dependencies,
            extras: BTreeMap::new(),
            span: Some(name_span),
        },
        with_extras,
        groups,
        marker,
    })
}

fn source(name: &str, t: &DeTable<'_>) -> Result<Source, Problem> {
    let subdirectory = string(get(t, "subdirectory")).filter(|s| !s.is_empty());
    if let Some(vcs) = ["hg", "svn", "bzr"]
        .into_iter()
        .find(|k| get(t, k).is_some())
    {
        return Err(Problem::at(
            get(t, vcs).map(|v| v.span()),
            format!("pins `{name}` from a {vcs} repository, which pyslim cannot install"),
        )
        .with_hint("pyslim installs packages from indexes, git, URLs and paths"));
    }
    if let Some(git) = get(t, "git") {
        let url = git.get_ref().as_str().unwrap_or_default();
        let url = url.strip_prefix("git+").unwrap_or(url);
        if let Some(sub) = subdirectory {
            return Err(Problem::at(
                Some(git.span()),
                format!("pins `{name}` from the subdirectory `{sub}` of a git repository, which pyslim cannot install yet"),
            )
            .with_hint("depend on a released version, or on a repository with the package at its root"));
        }
        let Some(commit) = string(get(t, "revision")) else {
            return Err(Problem::at(
                Some(git.span()),
                format!("pins `{name}` to git `{url}` without a revision (an editable checkout?), so pyslim cannot know which commit to install"),
            )
            .with_hint("depend on the git repository without `-e`, then run `pdm lock` and commit the lock"));
        };
        return Ok(Source::Git {
            url: url.to_string(),
            commit: commit.to_string(),
        });
    }
    if let Some(local) = string(get(t, "path")) {
        let joined = match subdirectory {
            Some(sub) => format!("{}/{sub}", local.trim_end_matches('/')),
            None => local.to_string(),
        };
        let trimmed = joined.trim_end_matches('/');
        return Ok(if matches!(trimmed, "." | "") {
            Source::Project { path: ".".into() }
        } else {
            Source::Path { path: joined }
        });
    }
    if let Some(url) = string(get(t, "url")) {
        return Ok(Source::Url {
            url: url.to_string(),
        });
    }
    Ok(Source::Registry { url: None })
}

/// Its `files` (lock 4.2 and later) or `[metadata.files]` under `"name version"` (4.0, 4.1).
fn files(
    name: &str,
    t: &DeTable<'_>,
    version: Option<&str>,
    legacy: Option<&DeTable<'_>>,
) -> Result<Vec<Dist>, Problem> {
    let listed = get(t, "files").or_else(|| {
        let version = version?;
        legacy?
            .iter()
            .find(|(key, _)| {
                key.get_ref().split_once(' ').is_some_and(|(n, v)| {
                    normalise(n.split('[').next().unwrap_or(n)) == name && v == version
                })
            })
            .map(|(_, v)| v)
    });
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
        let url = string(get(file, "url")).map(String::from);
        let file_name = string(get(file, "file")).map(String::from).or_else(|| {
            let url = url.as_deref()?;
            let path = url.split(['#', '?']).next().unwrap_or(url);
            path.rsplit('/').next().map(String::from)
        });
        if let Some(digest) = string(get(file, "hash")).and_then(sha256) {
            out.push(Dist {
                name: file_name,
                url,
                sha256: digest,
            });
        }
    }
    Ok(out)
}

/// The groups and marker an entry of a package records.
struct Condition {
    groups: Option<Vec<String>>,
    marker: Option<MarkerTree>,
}

/// One package per name and version: a second entry locked with extras gives the first its
/// extras. Returns the packages and, for each, the groups and markers of its entries.
fn merge(entries: Vec<Entry>, flat: bool) -> (Vec<Package>, Vec<Vec<Condition>>) {
    let mut packages: Vec<Package> = Vec::new();
    let mut conditions: Vec<Vec<Condition>> = Vec::new();
    let (plain, extra): (Vec<Entry>, Vec<Entry>) =
        entries.into_iter().partition(|e| e.with_extras.is_empty());
    for entry in plain.into_iter().chain(extra) {
        let Entry {
            mut package,
            with_extras,
            groups,
            marker,
        } = entry;
        let name = package.name.clone();
        // Its own pin, which an entry with extras depends on, is no edge.
        let own: Vec<Edge> = std::mem::take(&mut package.dependencies)
            .into_iter()
            .filter(|e| e.name != name)
            .collect();
        let found = packages.iter().position(|p| {
            p.name == name && p.version == package.version && p.source == package.source
        });
        let index = match found {
            Some(index) => index,
            None => {
                package.dependencies = if flat { Vec::new() } else { own.clone() };
                packages.push(package);
                conditions.push(Vec::new());
                packages.len() - 1
            }
        };
        if !flat {
            for extra in &with_extras {
                packages[index].extras.insert(extra.clone(), own.clone());
            }
        }
        conditions[index].push(Condition { groups, marker });
    }
    (packages, conditions)
}

/// Which of a project's groups are extras (`[project.optional-dependencies]`) and which are
/// dev groups (`[tool.pdm.dev-dependencies]`, PEP 735 `[dependency-groups]`), by pdm's names.
struct Kinds {
    extras: Vec<String>,
    dev: Vec<String>,
}

impl Kinds {
    fn of(project: &Project<'_>) -> Kinds {
        let keys = |keys: &[&str]| -> Vec<String> {
            table(project.get(keys))
                .into_iter()
                .flatten()
                .map(|(k, _)| normalise(k.get_ref()))
                .collect()
        };
        let mut dev = keys(&["tool", "pdm", "dev-dependencies"]);
        dev.extend(keys(&["dependency-groups"]));
        dev.sort();
        dev.dedup();
        Kinds {
            extras: keys(&["project", "optional-dependencies"]),
            dev,
        }
    }
}

/// An edge per package and group, with the package's marker. Without the project to tell an
/// extra from a dev group, a group is both (pdm's `-G` takes either).
fn flat_roots(lock: &mut Lock, conditions: Vec<Vec<Condition>>, kinds: Option<&Kinds>) {
    for (package, entries) in lock.packages.iter().zip(conditions) {
        for Condition { groups, marker } in entries {
            let edge = Edge {
                version: package.version.clone(),
                marker,
                ..Edge::to(&package.name)
            };
            // pdm installs a package that names no group whatever is chosen.
            let groups = groups.unwrap_or_else(|| vec!["default".into()]);
            for group in groups {
                if group == "default" {
                    lock.main.push(edge.clone());
                    continue;
                }
                let is_extra = kinds.map(|k| k.extras.contains(&group));
                if is_extra != Some(false) {
                    lock.extras
                        .entry(group.clone())
                        .or_default()
                        .push(edge.clone());
                }
                if is_extra != Some(true) {
                    lock.groups.entry(group).or_default().push(edge.clone());
                }
            }
        }
    }
}

/// The project's own requirements, from its pyproject.toml; groups the lock was not written
/// for are left out (pdm refuses to install them from it).
fn graph_roots(
    lock: &mut Lock,
    project: &Project<'_>,
    locked: Option<&[String]>,
) -> Result<(), Problem> {
    let pinned: Vec<String> = lock.packages.iter().map(|p| p.name.clone()).collect();
    let own_name = string(project.get(&["project", "name"])).map(normalise);
    // The project itself, named by its dev groups (`-e file:///${PROJECT_ROOT}`), is the app.
    let keep = |edges: Vec<Edge>| -> Vec<Edge> {
        edges
            .into_iter()
            .filter(|e| Some(&e.name) != own_name.as_ref() || pinned.contains(&e.name))
            .collect()
    };
    let was_locked = |group: &str| locked.is_none_or(|l| l.iter().any(|g| g == group));
    lock.main = keep(project.dependencies()?);
    for (extra, edges) in project.optional_dependencies()? {
        if was_locked(&extra) {
            lock.extras.insert(extra, keep(edges));
        }
    }
    let mut groups: BTreeMap<String, Vec<Edge>> = project.dependency_groups()?;
    for (group, value) in table(project.get(&["tool", "pdm", "dev-dependencies"]))
        .into_iter()
        .flatten()
    {
        let what = format!("[tool.pdm.dev-dependencies] {}", group.get_ref());
        let edges = project.requirements(value, &what)?;
        groups
            .entry(normalise(group.get_ref()))
            .or_default()
            .extend(edges);
    }
    for (group, edges) in groups {
        if was_locked(&group) {
            lock.groups.insert(group, keep(edges));
        }
    }
    Ok(())
}

/// pdm 2.17 and later record the Pythons a lock is for as its targets.
fn requires_python(metadata: Option<&DeTable<'_>>) -> Option<String> {
    let targets = metadata
        .and_then(|m| get(m, "targets"))?
        .get_ref()
        .as_array()?;
    let mut pythons = targets
        .iter()
        .filter_map(|t| string(get(t.get_ref().as_table()?, "requires_python")));
    match (pythons.next(), pythons.next()) {
        (Some(one), None) => Some(one.to_string()),
        _ => None,
    }
}

fn no_project(metadata: Option<&DeTable<'_>>) -> Problem {
    let at = metadata
        .and_then(|m| get(m, "lock_version"))
        .map(|v| v.span());
    Problem::at(
        at,
        "records what each package needs but not what the project needs (it was not written with the `inherit_metadata` strategy); pyslim reads that from the pyproject.toml beside the lock, and there is none",
    )
    .with_hint("keep pyproject.toml beside pdm.lock, or lock with pdm 2.11 or later (`pdm lock` records every package's groups and markers)")
}
