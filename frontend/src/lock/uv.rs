//! `uv.lock` (version 1): a graph lock. The project is a package of the lock (source
//! `editable` or `virtual` at `.`); what it installs is found by walking from its
//! dependencies. Stale when the project's requirements differ from those the lock recorded
//! for it (`[package.metadata] requires-dist` and `requires-dev`), as `uv lock --check` sees it.

use std::collections::BTreeMap;
use std::str::FromStr;

use pep508_rs::{MarkerTree, Requirement};
use serde::Deserialize;
use toml::Spanned;

use super::{Dist, Edge, Input, Lock, Package, Problem, Source, marker, normalise, sha256};

#[derive(Deserialize)]
struct UvLock {
    version: Spanned<i64>,
    #[serde(rename = "requires-python")]
    requires_python: Option<String>,
    #[serde(default)]
    package: Vec<Spanned<UvPackage>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UvPackage {
    name: String,
    version: Option<String>,
    #[serde(default)]
    source: BTreeMap<String, String>,
    #[serde(default)]
    dependencies: Vec<UvDependency>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<UvDependency>>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Vec<UvDependency>>,
    sdist: Option<UvFile>,
    #[serde(default)]
    wheels: Vec<UvFile>,
    metadata: Option<Spanned<UvMetadata>>,
}

#[derive(Deserialize)]
struct UvDependency {
    name: String,
    version: Option<String>,
    marker: Option<String>,
    #[serde(default)]
    extra: Vec<String>,
}

#[derive(Deserialize)]
struct UvFile {
    url: Option<String>,
    path: Option<String>,
    filename: Option<String>,
    hash: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct UvMetadata {
    #[serde(default)]
    requires_dist: Vec<UvRequirement>,
    #[serde(default)]
    requires_dev: BTreeMap<String, Vec<UvRequirement>>,
}

/// A requirement as uv recorded it from the project.
#[derive(Deserialize)]
struct UvRequirement {
    name: String,
    specifier: Option<String>,
    marker: Option<String>,
    #[serde(default)]
    extras: Vec<String>,
    /// `git`, `path`, `editable`, `url`, `index`: from `[tool.uv.sources]`.
    #[serde(flatten)]
    source: BTreeMap<String, toml::Value>,
}

pub fn parse(input: &Input<'_>) -> Result<Lock, Vec<Problem>> {
    parse_member(input, ".")
}

/// The lock of a workspace, installed for its member at `member` (a path relative to the
/// lock's directory; `.` for the project at the root): the member is the project, the other
/// members are built from their directories like any path dependency.
pub fn parse_member(input: &Input<'_>, member: &str) -> Result<Lock, Vec<Problem>> {
    let lock: UvLock = toml::from_str(input.lock).map_err(|error| {
        vec![
            Problem::at(
                error.span(),
                format!("is not a uv.lock pyslim can read: {}", error.message()),
            )
            .with_hint("write it again with `uv lock`"),
        ]
    })?;
    if *lock.version.get_ref() != 1 {
        return Err(vec![
            Problem::at(
                Some(lock.version.span()),
                format!(
                    "is uv.lock version {}; pyslim reads version 1",
                    lock.version.get_ref()
                ),
            )
            .with_hint("write it with a uv that writes version 1 (uv 0.4 to 0.13)"),
        ]);
    }
    let mut problems = Vec::new();
    let mut out = Lock {
        requires_python: lock.requires_python.clone(),
        ..Lock::default()
    };
    let mut root = None;
    for spanned in &lock.package {
        let span = Some(spanned.span());
        let package = spanned.get_ref();
        let source = match source(&package.source, member) {
            Ok(source) => source,
            Err(message) => {
                problems.push(
                    Problem::at(
                        span.clone(),
                        format!("pins `{}` from {message}", package.name),
                    )
                    .with_hint("write it again with `uv lock`"),
                );
                continue;
            }
        };
        if source
            == (Source::Project {
                path: member.into(),
            })
        {
            root = Some(spanned);
        }
        let mut files = Vec::new();
        for file in package.sdist.iter().chain(&package.wheels) {
            match file.hash.as_deref().and_then(sha256) {
                Some(hex) => files.push(Dist {
                    name: file.filename.clone().or_else(|| file_name(file)),
                    url: file.url.clone().or_else(|| file.path.clone()),
                    sha256: hex,
                }),
                None => problems.push(
                    Problem::at(
                        span.clone(),
                        format!(
                            "records no sha256 for `{}` of `{}`",
                            file_name(file).unwrap_or_default(),
                            package.name
                        ),
                    )
                    .with_hint("write it again with `uv lock`"),
                ),
            }
        }
        let edges = |deps: &[UvDependency], problems: &mut Vec<Problem>| -> Vec<Edge> {
            deps.iter()
                .filter_map(|d| match edge(d, span.clone()) {
                    Ok(e) => Some(e),
                    Err(p) => {
                        problems.push(p);
                        None
                    }
                })
                .collect()
        };
        let dependencies = edges(&package.dependencies, &mut problems);
        let extras = package
            .optional_dependencies
            .iter()
            .map(|(name, deps)| (normalise(name), edges(deps, &mut problems)))
            .collect();
        out.packages.push(Package {
            name: normalise(&package.name),
            version: package.version.clone(),
            source,
            files,
            dependencies,
            extras,
            span,
        });
    }
    match root {
        Some(root) => {
            let name = normalise(&root.get_ref().name);
            out.main.push(Edge::to(&name));
            for extra in root.get_ref().optional_dependencies.keys() {
                let extra = normalise(extra);
                let edge = Edge {
                    extras: vec![extra.clone()],
                    ..Edge::to(&name)
                };
                out.extras.insert(extra, vec![edge]);
            }
            for (group, deps) in &root.get_ref().dev_dependencies {
                let group_edges = deps
                    .iter()
                    .filter_map(|d| edge(d, Some(root.span())).map_err(|p| problems.push(p)).ok())
                    .collect();
                out.groups.insert(normalise(group), group_edges);
            }
            if let Some(project) = input.project {
                problems.extend(stale(root, project));
            }
        }
        None => problems.push(
            Problem::at(None, format!("has no package for the project at `{member}` (`source = {{ editable = \"{member}\" }}` or `{{ virtual = \"{member}\" }}`)"))
                .with_hint("pyslim installs a uv.lock for the project it was written in, or for a member of its workspace; run `uv lock` there"),
        ),
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A package's `source = { … }`; `member` is the project being installed.
fn source(table: &BTreeMap<String, String>, member: &str) -> Result<Source, String> {
    let (kind, value) = table.iter().next().ok_or_else(|| "no source".to_string())?;
    Ok(match kind.as_str() {
        "registry" => Source::Registry {
            url: Some(value.clone()),
        },
        "editable" | "virtual" if value == member => Source::Project {
            path: value.clone(),
        },
        // A virtual project (a workspace's root, say) has nothing to install.
        "virtual" => Source::Project {
            path: value.clone(),
        },
        // Other workspace members and path dependencies are built from their directory.
        "editable" | "directory" | "path" => Source::Path {
            path: value.clone(),
        },
        "url" => Source::Url { url: value.clone() },
        "git" => git(value).ok_or_else(|| format!("a git source without a commit: `{value}`"))?,
        other => return Err(format!("a source pyslim does not know: `{other}`")),
    })
}

/// `https://host/repo?rev=v1&subdirectory=pkg#COMMIT`: the repository, at the commit.
fn git(value: &str) -> Option<Source> {
    let (location, commit) = value.rsplit_once('#')?;
    let (url, query) = location.split_once('?').unwrap_or((location, ""));
    let subdirectory = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("subdirectory="));
    let commit = match subdirectory {
        Some(dir) => format!("{commit}#subdirectory={dir}"),
        None => commit.to_string(),
    };
    Some(Source::Git {
        url: url.to_string(),
        commit,
    })
}

fn file_name(file: &UvFile) -> Option<String> {
    let location = file.url.as_deref().or(file.path.as_deref())?;
    location.rsplit('/').next().map(String::from)
}

fn edge(dependency: &UvDependency, span: Option<std::ops::Range<usize>>) -> Result<Edge, Problem> {
    Ok(Edge {
        name: normalise(&dependency.name),
        version: dependency.version.clone(),
        marker: marker(dependency.marker.as_deref().unwrap_or(""), span)?,
        extras: dependency.extra.iter().map(|e| normalise(e)).collect(),
    })
}

/// Problems when the project's requirements are not the ones the lock was written for.
fn stale(root: &Spanned<UvPackage>, project: &str) -> Vec<Problem> {
    let Ok(document) = toml::from_str::<toml::Table>(project) else {
        // The project's own reader reports a broken pyproject.toml.
        return Vec::new();
    };
    let table = document.get("project").and_then(|p| p.as_table());
    let dynamic = table
        .and_then(|p| p.get("dynamic"))
        .and_then(|d| d.as_array())
        .is_some_and(|d| d.iter().any(|v| v.as_str() == Some("dependencies")));
    let metadata = root.get_ref().metadata.as_ref();
    let span = metadata.map_or(root.span(), |m| m.span());
    let recorded = metadata.map(|m| m.get_ref());
    let mut changed = Vec::new();
    if !dynamic {
        let mut wanted: Vec<String> = strings(table.and_then(|p| p.get("dependencies")));
        if let Some(optional) = table
            .and_then(|p| p.get("optional-dependencies"))
            .and_then(|o| o.as_table())
        {
            for (extra, list) in optional {
                for requirement in strings(Some(list)) {
                    wanted.push(with_extra_marker(&requirement, extra));
                }
            }
        }
        let had: Vec<&UvRequirement> =
            recorded.map_or(Vec::new(), |m| m.requires_dist.iter().collect());
        changed.extend(differences("dependencies", &wanted, &had));
    }
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(declared) = document.get("dependency-groups").and_then(|g| g.as_table()) {
        for (name, list) in declared {
            // `{include-group = "…"}` entries are tables, not requirements: left to uv.
            groups.insert(normalise(name), strings(Some(list)));
        }
    }
    if let Some(dev) = document
        .get("tool")
        .and_then(|t| t.get("uv"))
        .and_then(|u| u.get("dev-dependencies"))
    {
        groups
            .entry("dev".into())
            .or_default()
            .extend(strings(Some(dev)));
    }
    let recorded_groups: BTreeMap<String, &Vec<UvRequirement>> = recorded
        .map(|m| {
            m.requires_dev
                .iter()
                .map(|(k, v)| (normalise(k), v))
                .collect()
        })
        .unwrap_or_default();
    for (name, wanted) in &groups {
        let had: Vec<&UvRequirement> = recorded_groups
            .get(name)
            .map_or(Vec::new(), |v| v.iter().collect());
        changed.extend(differences(&format!("group `{name}`"), wanted, &had));
    }
    for name in recorded_groups.keys() {
        if !groups.contains_key(name) {
            changed.push(format!("group `{name}` is no longer in pyproject.toml"));
        }
    }
    if changed.is_empty() {
        return Vec::new();
    }
    vec![
        Problem::at(
            Some(span),
            format!("is out of date with pyproject.toml: {}", changed.join("; ")),
        )
        .with_hint("run `uv lock` and commit uv.lock; pyslim installs a lock exactly and never re-resolves it"),
    ]
}

fn strings(value: Option<&toml::Value>) -> Vec<String> {
    value
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
        .collect()
}

/// An optional dependency as the package's metadata says it: with `extra == '…'` added.
fn with_extra_marker(requirement: &str, extra: &str) -> String {
    let extra = normalise(extra);
    match requirement.split_once(';') {
        Some((head, marker)) => format!("{head} ; ({marker}) and extra == '{extra}'"),
        None => format!("{requirement} ; extra == '{extra}'"),
    }
}

/// One requirement, compared by meaning: name, extras, version specifiers and marker.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    name: String,
    extras: Vec<String>,
    specifier: Option<String>,
    marker: Option<String>,
}

fn differences(what: &str, wanted: &[String], had: &[&UvRequirement]) -> Vec<String> {
    let mut wanted_keys = Vec::new();
    for text in wanted {
        match Requirement::<pep508_rs::VerbatimUrl>::from_str(text) {
            Ok(requirement) => wanted_keys.push((text.clone(), key_of_requirement(&requirement))),
            // An unreadable requirement is for the project's own reader to report.
            Err(_) => return Vec::new(),
        }
    }
    let had_keys: Vec<Key> = had.iter().map(|r| key_of_recorded(r)).collect();
    let mut out = Vec::new();
    for (text, key) in &wanted_keys {
        if !had_keys.iter().any(|h| same(h, key)) {
            out.push(format!(
                "{what} has `{}`, which the lock does not",
                text.trim()
            ));
        }
    }
    for (recorded, key) in had.iter().zip(&had_keys) {
        if !wanted_keys.iter().any(|(_, w)| same(key, w)) {
            out.push(format!("{what} no longer has `{}`", recorded.name));
        }
    }
    out
}

/// A requirement uv took from `[tool.uv.sources]` has no specifier in the lock: the name and
/// marker decide.
fn same(recorded: &Key, wanted: &Key) -> bool {
    recorded.name == wanted.name
        && recorded.extras == wanted.extras
        && recorded.marker == wanted.marker
        && (recorded.specifier.is_none() && wanted.specifier.is_none()
            || recorded.specifier == wanted.specifier
            || recorded.specifier.is_none())
}

fn key_of_requirement(requirement: &Requirement<pep508_rs::VerbatimUrl>) -> Key {
    let specifier = match &requirement.version_or_url {
        Some(pep508_rs::VersionOrUrl::VersionSpecifier(specifiers)) if !specifiers.is_empty() => {
            Some(canonical_specifiers(&specifiers.to_string()))
        }
        _ => None,
    };
    let mut extras: Vec<String> = requirement
        .extras
        .iter()
        .map(|e| normalise(e.as_ref()))
        .collect();
    extras.sort();
    let marker = canonical_marker(&requirement.marker);
    Key {
        name: normalise(requirement.name.as_ref()),
        extras,
        specifier,
        marker,
    }
}

fn key_of_recorded(recorded: &UvRequirement) -> Key {
    let mut extras: Vec<String> = recorded.extras.iter().map(|e| normalise(e)).collect();
    extras.sort();
    let marker = recorded
        .marker
        .as_deref()
        .and_then(|m| MarkerTree::from_str(m).ok())
        .and_then(|m| canonical_marker(&m));
    let sourced = ["git", "path", "editable", "url", "directory"]
        .iter()
        .any(|k| recorded.source.contains_key(*k));
    Key {
        name: normalise(&recorded.name),
        extras,
        specifier: if sourced {
            None
        } else {
            recorded.specifier.as_deref().map(canonical_specifiers)
        },
        marker,
    }
}

fn canonical_marker(marker: &MarkerTree) -> Option<String> {
    marker.contents().map(|c| c.to_string())
}

/// Specifiers as a sorted list without spaces: `>=1.0, <2` and `<2,>=1.0` are the same.
fn canonical_specifiers(text: &str) -> String {
    let mut parts: Vec<String> = text
        .split(',')
        .map(|p| p.chars().filter(|c| !c.is_whitespace()).collect())
        .filter(|p: &String| !p.is_empty())
        .collect();
    parts.sort();
    parts.join(",")
}

#[cfg(test)]
mod tests;
