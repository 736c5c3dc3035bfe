//! pipenv's `Pipfile.lock`: JSON, a flat lock. `default` is what the app needs, `develop` the
//! group `dev`, any other section (pipenv's package categories) a group of its name. Each
//! entry pins one version with the sha256 of every file pip may pick, or a git commit, or a
//! path; its `markers` say where it is installed (pipenv writes PEP 751's
//! `'dev' in dependency_groups` there too).
//!
//! The lock records pipenv's hash of the Pipfile it was written from; when the Pipfile is
//! given, a lock whose hash is not the Pipfile's is stale (see `stale.rs`).

mod stale;

use std::collections::BTreeMap;
use std::ops::Range;

use super::project::{Py, Separators};
use super::{Dist, Edge, Input, Lock, Package, Problem, Source, normalise, pylock, sha256};
use stale::stale;

const RELOCK: &str = "run `pipenv lock` and commit Pipfile.lock";

pub fn parse(input: &Input<'_>) -> Result<Lock, Vec<Problem>> {
    let root = json(input.lock)?;
    let Some(sections) = root.members() else {
        return Err(vec![
            Problem::at(
                Some(root.span.clone()),
                "is not a JSON object at its top level",
            )
            .with_hint(RELOCK),
        ]);
    };
    let mut problems = Vec::new();
    let mut lock = Lock::default();
    let meta = root.get("_meta");
    let sources = meta.map(index_urls).unwrap_or_default();
    if let Some(requires) = meta.and_then(|m| m.get("requires")) {
        lock.requires_python = requires_python(requires);
    }
    for (key, section) in sections {
        let Some(name) = key.str() else { continue };
        let edges = match name {
            "_meta" => continue,
            "default" => &mut lock.main,
            "develop" => lock.groups.entry("dev".into()).or_default(),
            category => lock.groups.entry(normalise(category)).or_default(),
        };
        let Some(entries) = section.members() else {
            problems.push(not_a(&format!("`{name}`"), "table of packages", section));
            continue;
        };
        for (key, entry) in entries {
            let Some((package, edge)) = read_entry(key, entry, &sources, &mut problems) else {
                continue;
            };
            // A package in several sections is one package when all of it is the same.
            let same = lock.packages.iter_mut().find(|p| {
                p.name == package.name && p.version == package.version && p.source == package.source
            });
            match same {
                Some(known) => {
                    for file in package.files {
                        if !known.files.contains(&file) {
                            known.files.push(file);
                        }
                    }
                }
                None => lock.packages.push(package),
            }
            edges.push(edge);
        }
    }
    if let (Some(pipfile), Some(meta)) = (input.project, meta)
        && let Some(problem) = stale(meta, pipfile)
    {
        problems.push(problem);
    }
    if problems.is_empty() {
        Ok(lock)
    } else {
        Err(problems)
    }
}

/// `_meta.sources`: index URLs by the names entries' `index` use.
fn index_urls(meta: &Node) -> BTreeMap<String, String> {
    let mut urls = BTreeMap::new();
    for source in meta
        .get("sources")
        .and_then(Node::items)
        .unwrap_or_default()
    {
        if let (Some(name), Some(url)) = (
            source.get("name").and_then(Node::str),
            source.get("url").and_then(Node::str),
        ) {
            urls.insert(name.to_string(), url.to_string());
        }
    }
    urls
}

/// `_meta.requires`: `python_full_version` pins a release, `python_version` a minor series.
fn requires_python(requires: &Node) -> Option<String> {
    if let Some(full) = requires.get("python_full_version").and_then(Node::str) {
        return Some(format!("=={}", full.trim()));
    }
    let minor = requires.get("python_version").and_then(Node::str)?;
    Some(format!("=={}.*", minor.trim()))
}

/// One entry of a section: its package, and the edge from the section that carries its
/// markers.
fn read_entry(
    key: &Node,
    entry: &Node,
    sources: &BTreeMap<String, String>,
    problems: &mut Vec<Problem>,
) -> Option<(Package, Edge)> {
    let before = problems.len();
    let name = normalise(key.str()?);
    if entry.members().is_none() {
        problems.push(not_a(
            &format!("an entry for `{name}`"),
            "JSON object",
            entry,
        ));
        return None;
    }
    let text = |field: &str, problems: &mut Vec<Problem>| -> Option<(&str, &Node)> {
        let node = entry.get(field)?;
        match node.str() {
            Some(text) => Some((text, node)),
            None => {
                problems.push(not_a(&format!("`{field}` of `{name}`"), "string", node));
                None
            }
        }
    };
    let version = match text("version", problems) {
        None => None,
        Some((version, node)) => match pinned_version(version) {
            Ok(pinned) => pinned,
            Err(()) => {
                problems.push(
                    Problem::at(
                        Some(node.span.clone()),
                        format!("pins `{name}` to `{version}`, which is not one version"),
                    )
                    .with_hint(RELOCK),
                );
                None
            }
        },
    };
    let marker = match text("markers", problems) {
        Some((markers, node)) => pylock::marker(markers, Some(node.span.clone()), &[])
            .map_err(|p| problems.push(p))
            .ok()
            .flatten(),
        None => None,
    };
    let mut extras = Vec::new();
    if let Some(list) = entry.get("extras") {
        match list.items() {
            Some(items) => extras.extend(items.iter().filter_map(Node::str).map(normalise)),
            None => problems.push(not_a(&format!("`extras` of `{name}`"), "list", list)),
        }
    }
    let mut hashes = Vec::new();
    if let Some(list) = entry.get("hashes") {
        match list.items() {
            Some(items) => {
                for item in items {
                    match item.str().and_then(sha256) {
                        Some(hex) => hashes.push(hex),
                        None => problems.push(
                            Problem::at(
                                Some(item.span.clone()),
                                format!("has a hash for `{name}` that is not a sha256 (`sha256:` and 64 hex digits), so pip cannot check its file"),
                            )
                            .with_hint(RELOCK),
                        ),
                    }
                }
            }
            None => problems.push(not_a(&format!("`hashes` of `{name}`"), "list", list)),
        }
    }
    let index = text("index", problems).map(|(index, _)| index);
    let source = if let Some((url, node)) = text("git", problems) {
        let Some((commit, _)) = text("ref", problems) else {
            problems.push(
                Problem::at(
                    Some(node.span.clone()),
                    format!("records no commit (`ref`) for the git repository of `{name}`"),
                )
                .with_hint(RELOCK),
            );
            return None;
        };
        if let Some((_, node)) = text("subdirectory", problems) {
            problems.push(
                Problem::at(
                    Some(node.span.clone()),
                    format!("installs `{name}` from a subdirectory of a git repository, which pyslim cannot install yet"),
                )
                .with_hint("publish the package to an index, or keep it as a directory in the project"),
            );
            return None;
        }
        Source::Git {
            url: url.strip_prefix("git+").unwrap_or(url).to_string(),
            commit: commit.to_string(),
        }
    } else if let Some((location, node)) = text("path", problems).or_else(|| text("file", problems))
    {
        if location.contains("://") && !location.starts_with("file:") {
            Source::Url {
                url: location.to_string(),
            }
        } else {
            let path = pylock::local_path(location, &name, node.span.clone(), problems)?;
            // `path = "."`: the project itself, which pyslim builds as the app.
            if path == "." {
                Source::Project { path }
            } else {
                Source::Path { path }
            }
        }
    } else {
        Source::Registry {
            url: index.and_then(|i| sources.get(i)).cloned(),
        }
    };
    if problems.len() > before {
        return None;
    }
    let url = match &source {
        Source::Url { url } => Some(url.clone()),
        _ => None,
    };
    let files = hashes
        .into_iter()
        .map(|sha256| Dist {
            name: None,
            url: url.clone(),
            sha256,
        })
        .collect();
    let edge = Edge {
        name: name.clone(),
        version: version.clone(),
        marker,
        extras,
    };
    let package = Package {
        name,
        version,
        source,
        files,
        dependencies: Vec::new(),
        extras: BTreeMap::new(),
        span: Some(key.span.clone()),
    };
    Some((package, edge))
}

/// `==1.2.3` (or `===`): the version. pipenv writes `*` for a package whose markers did not
/// hold where it locked, with no hashes: that is no version (and so refused if a target
/// installs it), not a problem of the lock. Anything else is no pin at all.
fn pinned_version(version: &str) -> Result<Option<String>, ()> {
    let version = version.trim();
    if version == "*" {
        return Ok(None);
    }
    let exact = version
        .strip_prefix("===")
        .or_else(|| version.strip_prefix("=="))
        .map(str::trim)
        .ok_or(())?;
    let plain = !exact.is_empty() && !exact.contains(['*', ',', ';', '<', '>', '=', '!', '~', ' ']);
    if plain {
        Ok(Some(exact.to_string()))
    } else {
        Err(())
    }
}

fn not_a(what: &str, kind: &str, node: &Node) -> Problem {
    Problem::at(
        Some(node.span.clone()),
        format!("has {what} that is not a {kind}"),
    )
    .with_hint(RELOCK)
}

/// A JSON value and the bytes it was read from.
#[derive(Debug)]
struct Node {
    span: Range<usize>,
    value: Json,
}

#[derive(Debug)]
enum Json {
    Scalar,
    String(String),
    Array(Vec<Node>),
    Object(Vec<(Node, Node)>),
}

impl Node {
    fn str(&self) -> Option<&str> {
        match &self.value {
            Json::String(text) => Some(text),
            _ => None,
        }
    }

    fn items(&self) -> Option<&[Node]> {
        match &self.value {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    fn members(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Json::Object(members) => Some(members),
            _ => None,
        }
    }

    /// A member's value; of repeated keys the last, as Python's json keeps.
    fn get(&self, key: &str) -> Option<&Node> {
        self.members()?
            .iter()
            .rev()
            .find(|(k, _)| k.str() == Some(key))
            .map(|(_, v)| v)
    }
}

/// Reads JSON keeping every value's byte range. serde_json checks the text first (and says
/// where it is not JSON); the scan after it then only meets valid JSON.
fn json(text: &str) -> Result<Node, Vec<Problem>> {
    if let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        let message = error.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m);
        return Err(vec![
            Problem::at(
                // At the end when the text stops short, where something is missing.
                Some(if error.is_eof() {
                    text.len()..text.len()
                } else {
                    error_span(text, error.line(), error.column())
                }),
                format!("is not valid JSON: {message}"),
            )
            .with_hint(RELOCK),
        ]);
    }
    let mut scan = Scan { text, at: 0 };
    scan.value()
        .ok_or_else(|| vec![Problem::at(None, "is not JSON pyslim can read").with_hint(RELOCK)])
}

/// serde_json's 1-based line and (byte) column of an error as the character there.
fn error_span(text: &str, line: usize, column: usize) -> Range<usize> {
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(at, _)| at + 1)
    };
    let mut at = (line_start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let width = text[at..].chars().next().map_or(0, char::len_utf8);
    at..at + width
}

struct Scan<'t> {
    text: &'t str,
    at: usize,
}

impl Scan<'_> {
    fn skip_space(&mut self) {
        let rest = &self.text[self.at..];
        self.at += rest.len() - rest.trim_start_matches([' ', '\t', '\n', '\r']).len();
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_space();
        let found = self.text.as_bytes().get(self.at) == Some(&byte);
        if found {
            self.at += 1;
        }
        found
    }

    fn value(&mut self) -> Option<Node> {
        self.skip_space();
        let start = self.at;
        let bytes = self.text.as_bytes();
        let value = match *bytes.get(start)? {
            b'{' => {
                self.at += 1;
                let mut members = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        let key = self.value()?;
                        if !self.eat(b':') {
                            return None;
                        }
                        members.push((key, self.value()?));
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                Json::Object(members)
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value()?);
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                Json::Array(items)
            }
            b'"' => {
                let mut end = start + 1;
                loop {
                    match *bytes.get(end)? {
                        b'\\' => end += 2,
                        b'"' => break,
                        _ => end += 1,
                    }
                }
                self.at = end + 1;
                Json::String(serde_json::from_str(&self.text[start..self.at]).ok()?)
            }
            _ => {
                let rest = &self.text[start..];
                let len = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
                    .unwrap_or(rest.len());
                if len == 0 {
                    return None;
                }
                self.at += len;
                Json::Scalar
            }
        };
        Some(Node {
            span: start..self.at,
            value,
        })
    }
}

#[cfg(test)]
mod tests;
