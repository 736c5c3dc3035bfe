//! pipenv's `Pipfile.lock`: JSON, a flat lock. `default` is what the app needs, `develop` the
//! group `dev`, any other section (pipenv's package categories) a group of its name. Each
//! entry pins one version with the sha256 of every file pip may pick, or a git commit, or a
//! path; its `markers` say where it is installed (pipenv writes PEP 751's
//! `'dev' in dependency_groups` there too).
//!
//! The lock records pipenv's hash of the Pipfile it was written from; when the Pipfile is
//! given, a lock whose hash is not the Pipfile's is stale (see `pipfile_hashes`).

use std::collections::BTreeMap;
use std::ops::Range;

use super::project::{Py, Separators};
use super::{Dist, Edge, Input, Lock, Package, Problem, Source, normalise, pylock, sha256};

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

/// A problem when `_meta.hash` is not the Pipfile's; none when it is, or when pyslim cannot
/// compute the hash exactly as pipenv does for this Pipfile.
fn stale(meta: &Node, pipfile: &str) -> Option<Problem> {
    let recorded = meta.get("hash")?.get("sha256")?;
    let hash = recorded.str()?;
    let expected = pipfile_hashes(pipfile)?;
    if expected.iter().any(|h| h.eq_ignore_ascii_case(hash)) {
        return None;
    }
    Some(
        Problem::at(
            Some(recorded.span.clone()),
            "is out of date with Pipfile: the Pipfile changed after `pipenv lock` wrote this lock",
        )
        .with_hint(RELOCK),
    )
}

/// Pipfile sections that are not package categories, as pipenv (plette) lists them.
const NOT_CATEGORIES: [&str; 9] = [
    "source",
    "packages",
    "dev-packages",
    "requires",
    "scripts",
    "pipfile",
    "pipenv",
    "default",
    "develop",
];

/// The hashes pipenv writes to `_meta.hash.sha256` for this Pipfile: sha256 of
/// `json.dumps(data, sort_keys=True, separators=(",", ":"))` (ASCII-escaped) where `data` is
/// `{"_meta": {"sources": [[source]], "requires": [requires]}, "default": [packages],
/// "develop": [dev-packages]}`, a missing `[[source]]` being PyPI's and a missing table `{}`.
/// pipenv has computed it three ways, and a lock may come from any of them:
///
/// - up to 2022.9 (the `pipfile` library): just that;
/// - from 2022.10 (plette): with every other top-level table (a package category) added,
///   `[pipfile]` among them until 2022.12;
/// - from 2026.4: with the package names of every section PEP 503-normalised.
///
/// None when the Pipfile holds what pyslim cannot encode exactly as Python does (a float, a
/// date, a boolean inside an array, two names one after normalising) or is not TOML: pipenv
/// itself fails on some of these, and a lock is better left unchecked than refused wrongly.
fn pipfile_hashes(pipfile: &str) -> Option<Vec<String>> {
    use toml::Value;

    let document: toml::Table = pipfile.parse().ok()?;
    let section = |key: &str| {
        document
            .get(key)
            .cloned()
            .unwrap_or_else(|| Value::Table(toml::Table::new()))
    };
    let sources = document.get("source").cloned().unwrap_or_else(|| {
        let mut pypi = toml::Table::new();
        pypi.insert("name".into(), Value::String("pypi".into()));
        pypi.insert(
            "url".into(),
            Value::String("https://pypi.org/simple".into()),
        );
        pypi.insert("verify_ssl".into(), Value::Boolean(true));
        Value::Array(vec![Value::Table(pypi)])
    });
    let data = |categories: bool, pipfile_table: bool, canonical: bool| -> Option<String> {
        let names = |value: Value| {
            if canonical {
                canonical_names(value)
            } else {
                Some(value)
            }
        };
        let mut meta = toml::Table::new();
        meta.insert("sources".into(), sources.clone());
        meta.insert("requires".into(), section("requires"));
        let mut data = toml::Table::new();
        data.insert("_meta".into(), Value::Table(meta));
        data.insert("default".into(), names(section("packages"))?);
        data.insert("develop".into(), names(section("dev-packages"))?);
        if categories {
            for (key, value) in &document {
                let skip =
                    NOT_CATEGORIES.contains(&key.as_str()) && !(pipfile_table && key == "pipfile");
                if !skip {
                    data.insert(key.clone(), names(value.clone())?);
                }
            }
        }
        Some(tomlkit(&Value::Table(data), false)?.sha256(Separators::COMPACT))
    };
    let mut hashes = vec![
        data(false, false, false)?,
        data(true, false, false)?,
        data(true, false, true)?,
    ];
    if document.contains_key("pipfile") {
        hashes.push(data(true, true, false)?);
    }
    Some(hashes)
}

/// A section with its package names PEP 503-normalised as `packaging.utils.canonicalize_name`
/// does; None if it is not a table or two names become one.
fn canonical_names(section: toml::Value) -> Option<toml::Value> {
    let toml::Value::Table(packages) = section else {
        return None;
    };
    let mut out = toml::Table::new();
    for (name, value) in packages {
        let mut canonical = String::with_capacity(name.len());
        for c in name.chars() {
            if "-_.".contains(c) {
                if !canonical.ends_with('-') {
                    canonical.push('-');
                }
            } else {
                canonical.extend(c.to_lowercase());
            }
        }
        if out.insert(canonical, value).is_some() {
            return None;
        }
    }
    Some(toml::Value::Table(out))
}

/// The value tomlkit reads, as Python's json sees it; None for what json encodes otherwise or
/// not at all.
fn tomlkit(value: &toml::Value, in_array: bool) -> Option<Py> {
    use toml::Value;
    Some(match value {
        Value::String(text) => Py::Str(text.clone()),
        Value::Integer(n) => Py::Int(i128::from(*n)),
        // tomlkit keeps a boolean in an array as an item json cannot encode.
        Value::Boolean(_) if in_array => return None,
        Value::Boolean(b) => Py::Bool(*b),
        Value::Float(_) | Value::Datetime(_) => return None,
        Value::Array(items) => Py::List(
            items
                .iter()
                .map(|item| tomlkit(item, true))
                .collect::<Option<_>>()?,
        ),
        Value::Table(table) => Py::Dict(
            table
                .iter()
                .map(|(key, value)| Some((key.clone(), tomlkit(value, false)?)))
                .collect::<Option<_>>()?,
        ),
    })
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
mod tests {
    use super::*;
    use crate::lock::{Environment, render, select};
    use crate::platform::Platform;

    const LOCK: &str = include_str!("../../tests/fixtures/locks/pipfile-webapp/Pipfile.lock");
    const PIPFILE: &str = include_str!("../../tests/fixtures/locks/pipfile-webapp/Pipfile");

    fn env(python: &str) -> Environment {
        let platform = Platform::parse("linux/amd64").expect("a platform");
        Environment::new(python, &platform).expect("an environment")
    }

    fn read(lock: &str, project: Option<&str>) -> Result<Lock, Vec<Problem>> {
        parse(&Input { lock, project })
    }

    fn pins<'l>(lock: &'l Lock, python: &str, groups: &[&str]) -> Vec<&'l Package> {
        let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        select::select(lock, &env(python), &[], Some(&groups)).expect("a selection")
    }

    fn names(packages: &[&Package]) -> Vec<String> {
        packages
            .iter()
            .map(|p| format!("{}=={}", p.name, p.version.as_deref().unwrap_or("*")))
            .collect()
    }

    /// The text a problem points at.
    fn at<'t>(text: &'t str, problem: &Problem) -> &'t str {
        &text[problem.span.clone().expect("a span")]
    }

    /// A lock with `entries` as its `default` section.
    fn with_default(entries: &str) -> String {
        format!(
            "{{\"_meta\": {{\"sources\": [{{\"name\": \"pypi\", \"url\": \"https://pypi.org/simple\"}}]}}, \"default\": {{{entries}}}, \"develop\": {{}}}}"
        )
    }

    const APP: [&str; 14] = [
        "blinker==1.9.0",
        "certifi==2026.10.19.post1",
        "charset-normalizer==3.5.3",
        "click==8.5.1",
        "flask==3.1.3",
        "gunicorn==27.0.1",
        "idna==3.20",
        "itsdangerous==2.2.0",
        "jinja2==3.1.6",
        "markupsafe==3.0.4",
        "pysocks==1.7.1",
        "requests==2.34.2",
        "urllib3==2.8.0",
        "werkzeug==3.1.9",
    ];

    #[test]
    fn the_fixture_selects_the_app_and_dev_packages_that_hold_on_linux() {
        let lock = read(LOCK, Some(PIPFILE)).expect("a fresh, valid lock");
        assert_eq!(lock.requires_python.as_deref(), Some("==3.11.*"));
        assert_eq!(lock.groups.keys().collect::<Vec<_>>(), ["dev"]);
        assert_eq!(lock.packages.len(), 21);
        // colorama (win32 only) is left out.
        let app = pins(&lock, "3.11", &[]);
        assert_eq!(names(&app), APP);
        let flask = app.iter().find(|p| p.name == "flask").expect("flask");
        assert_eq!(
            flask.source,
            Source::Registry {
                url: Some("https://pypi.org/simple".into())
            }
        );
        assert_eq!(flask.files.len(), 2);
        assert_eq!(
            flask.files[0].sha256,
            "0ef0e52b8a9cd932855379197dd8f94047b359ca0a78695144304cb45f87c9eb"
        );
        let requests = lock
            .main
            .iter()
            .find(|e| e.name == "requests")
            .expect("requests");
        assert_eq!(requests.extras, ["socks"]);
        // `dev` adds pytest and its dependencies, not tomli (Python < 3.11 only).
        let dev = names(&pins(&lock, "3.11", &["dev"]));
        let added: Vec<&String> = dev.iter().filter(|p| !APP.contains(&p.as_str())).collect();
        assert_eq!(
            added,
            [
                "iniconfig==2.3.1",
                "packaging==26.4",
                "pluggy==1.7.0",
                "pygments==2.21.0",
                "pytest==9.2.0"
            ]
        );
        let pinned = render::pinned(&pins(&lock, "3.11", &["dev"]), ".", "/ctx").expect("pinned");
        assert_eq!(pinned.hashed.len(), 19);
    }

    #[test]
    fn an_entry_pipenv_could_not_pin_is_refused_only_where_it_is_installed() {
        // pipenv writes `"version": "*"` without hashes for tomli, whose marker did not hold
        // on the machine that locked: on Python 3.10 the dev set needs it.
        let lock = read(LOCK, None).expect("a valid lock");
        let tomli = lock
            .packages
            .iter()
            .find(|p| p.name == "tomli")
            .expect("tomli");
        assert_eq!(tomli.version, None);
        let on_310 = pins(&lock, "3.10.14", &["dev"]);
        let error = render::pinned(&on_310, ".", "/ctx").expect_err("tomli has no version");
        assert!(error.message.contains("tomli"), "{error}");
        assert_eq!(error.span.map(|s| &LOCK[s]), Some("\"tomli\""));
    }

    #[test]
    fn a_changed_pipfile_makes_the_lock_stale() {
        assert!(read(LOCK, Some(PIPFILE)).is_ok());
        let changed = PIPFILE.replace("gunicorn = \"*\"", "gunicorn = \"==23.*\"");
        assert_ne!(changed, PIPFILE);
        let problems = read(LOCK, Some(&changed)).expect_err("stale");
        assert_eq!(problems.len(), 1);
        let problem = &problems[0];
        assert!(
            problem.message.contains("out of date with Pipfile"),
            "{problem}"
        );
        assert!(
            problem
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("pipenv lock")),
            "{problem:?}"
        );
        assert_eq!(
            at(LOCK, problem),
            "\"d9c423f20b51895bf77eabd292ff0f33c5060fc893bf07548ec4ff114b24c949\""
        );
    }

    /// The hashes Python computes (tomllib, then `json.dumps(data, sort_keys=True,
    /// separators=(",", ":"))`, sha256) for this Pipfile, as plette does: without package
    /// categories, with them, and with normalised names.
    const ODD_PIPFILE: &str = r#"[packages]
"Django_REST.framework" = {version = "==3.*", extras = ["crypto"]}
"café" = {version = "*", markers = "os_name == \"posix\"\tand python_version >= '3'"}
snake = {git = "https://example.com/🐍.git", ref = "v1", editable = true}
big = 12345678901

[dev-packages]
pytest = ">=8"

[docs]
Sphinx = "*"

[scripts]
serve = "python -m app"
"#;
    const ODD_HASHES: [&str; 3] = [
        "71910295224b8fac3ec47f6cf4c69da42d740aae4d18a38a6bc2905863eb15f3",
        "064fe0dfc1c74bf2efcfb440ec83f0b4d0184a89b50c56796d58f2662154dbff",
        "761f21f8dd110981ac8bfa6952c71a1ba2a74ad9a98d74747a38f4eee5effd2f",
    ];

    #[test]
    fn the_pipfile_hash_is_pythons_json_of_it() {
        let hashes = pipfile_hashes(ODD_PIPFILE).expect("hashes");
        assert_eq!(hashes.len(), 3);
        for (found, expected) in hashes.iter().zip(ODD_HASHES) {
            assert_eq!(found, expected);
        }
    }

    #[test]
    fn pipfiles_pyslim_cannot_hash_exactly_are_not_checked() {
        assert_eq!(
            pipfile_hashes("[packages]\na = {version = \"*\", x = 1.5}\n"),
            None
        );
        assert_eq!(
            pipfile_hashes("[packages]\na = {version = \"*\", x = [true]}\n"),
            None
        );
        assert_eq!(
            pipfile_hashes("[docs]\nSphinx = \"*\"\nsphinx = \"*\"\n"),
            None
        );
        assert_eq!(pipfile_hashes("[packages\n"), None);
        let lock = with_default("");
        let lock = lock.replace("\"sources\"", "\"hash\": {\"sha256\": \"00\"}, \"sources\"");
        assert!(read(&lock, Some("[packages]\na = {version = \"*\", x = 1.5}\n")).is_ok());
    }

    #[test]
    fn garbled_json_is_located() {
        let text = "{\n  \"_meta\": {},\n  \"default\": {\n    \"flask\": {\"version\": \"==3.1.3\"}\n    \"click\": {}\n  }\n}\n";
        let problems = read(text, None).expect_err("a missing comma");
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0]
                .message
                .starts_with("is not valid JSON: expected"),
            "{}",
            problems[0]
        );
        let span = problems[0].span.clone().expect("a span");
        assert_eq!(span.start, text.find("\"click\"").expect("click"));
        assert_eq!(&text[span], "\"");

        let cut = &LOCK[..LOCK.len() / 2];
        let problems = read(cut, None).expect_err("cut short");
        assert_eq!(problems[0].span, Some(cut.len()..cut.len()));

        let problems =
            read("{\"default\": {\"é\": {\"version\": ==1}}}", None).expect_err("bad value");
        assert_eq!(
            at("{\"default\": {\"é\": {\"version\": ==1}}}", &problems[0]),
            "="
        );
    }

    #[test]
    fn versions_and_hashes_must_pin_files() {
        let text = with_default(&format!(
            "\"a\": {{\"version\": \">=1.0\", \"hashes\": [\"sha256:{}\"]}}, \"b\": {{\"version\": \"==2.0\", \"hashes\": [\"md5:0123456789abcdef0123456789abcdef\", \"sha256:{}\"]}}",
            "a".repeat(64),
            "B".repeat(64)
        ));
        let problems = read(&text, None).expect_err("problems");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(at(&text, &problems[0]), "\">=1.0\"");
        assert!(
            problems[0].message.contains("not one version"),
            "{}",
            problems[0]
        );
        assert_eq!(
            at(&text, &problems[1]),
            "\"md5:0123456789abcdef0123456789abcdef\""
        );

        // No hashes at all: the package reads, and installing it is refused at its name.
        let text = with_default("\"c\": {\"version\": \"==1.0\", \"index\": \"pypi\"}");
        let lock = read(&text, None).expect("valid");
        let error = render::pinned(&pins(&lock, "3.11", &[]), ".", "/ctx").expect_err("no hashes");
        assert!(error.message.contains("sha256"), "{error}");
        assert_eq!(at(&text, &error), "\"c\"");
    }

    #[test]
    fn git_path_and_url_sources() {
        let commit = "0123456789abcdef0123456789abcdef01234567";
        let text = with_default(&format!(
            r#""Lib_A": {{"git": "git+https://example.com/lib-a.git", "ref": "{commit}", "editable": true}},
            "lib-b": {{"path": "./libs/b", "editable": true}},
            "webapp": {{"path": ".", "editable": true}},
            "lib-c": {{"file": "https://example.com/lib_c-1.0.tar.gz", "hashes": ["sha256:{sha}"]}},
            "lib-d": {{"git": "https://example.com/lib-d.git"}},
            "lib-e": {{"path": "/srv/lib-e"}}"#,
            sha = "c".repeat(64)
        ));
        let problems = read(&text, None).expect_err("lib-d and lib-e");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].message.contains("no commit"), "{}", problems[0]);
        assert_eq!(at(&text, &problems[0]), "\"https://example.com/lib-d.git\"");
        assert_eq!(at(&text, &problems[1]), "\"/srv/lib-e\"");

        let text = text
            .replace(
                ",\n            \"lib-d\": {\"git\": \"https://example.com/lib-d.git\"}",
                "",
            )
            .replace(",\n            \"lib-e\": {\"path\": \"/srv/lib-e\"}", "");
        let lock = read(&text, None).expect("valid");
        let sources: Vec<(&str, &Source)> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), &p.source))
            .collect();
        assert_eq!(
            sources,
            [
                (
                    "lib-a",
                    &Source::Git {
                        url: "https://example.com/lib-a.git".into(),
                        commit: commit.into()
                    }
                ),
                (
                    "lib-b",
                    &Source::Path {
                        path: "libs/b".into()
                    }
                ),
                ("webapp", &Source::Project { path: ".".into() }),
                (
                    "lib-c",
                    &Source::Url {
                        url: "https://example.com/lib_c-1.0.tar.gz".into()
                    }
                ),
            ]
        );
        // The project itself is built as the app, never installed from the lock.
        let picked: Vec<&str> = pins(&lock, "3.11", &[])
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(picked, ["lib-a", "lib-b", "lib-c"]);
        let pinned = render::pinned(&pins(&lock, "3.11", &[]), ".", "/ctx").expect("pinned");
        assert_eq!(
            pinned.hashed,
            [format!(
                "lib-c @ https://example.com/lib_c-1.0.tar.gz --hash=sha256:{}",
                "c".repeat(64)
            )]
        );
    }

    #[test]
    fn group_markers_and_categories() {
        let sha = "d".repeat(64);
        let text = format!(
            r#"{{"_meta": {{"requires": {{"python_full_version": "3.11.9"}}}},
            "default": {{}},
            "develop": {{
                "stdeb": {{"version": "==0.11.0", "hashes": ["sha256:{sha}"], "markers": "('dev' in dependency_groups) and (sys_platform == 'linux')"}},
                "waitress": {{"version": "==3.0.2", "hashes": ["sha256:{sha}"], "markers": "('dev' in dependency_groups) and (sys_platform == 'win32')"}}
            }},
            "docs": {{"Sphinx": {{"version": "==9.1.0", "hashes": ["sha256:{sha}"]}}}}}}"#
        );
        let lock = read(&text, None).expect("valid");
        assert_eq!(lock.requires_python.as_deref(), Some("==3.11.9"));
        assert_eq!(lock.groups.keys().collect::<Vec<_>>(), ["dev", "docs"]);
        assert!(pins(&lock, "3.11", &[]).is_empty());
        assert_eq!(names(&pins(&lock, "3.11", &["dev"])), ["stdeb==0.11.0"]);
        assert_eq!(names(&pins(&lock, "3.11", &["docs"])), ["sphinx==9.1.0"]);
    }

    #[test]
    fn one_package_in_two_sections_is_one_package() {
        let text = format!(
            r#"{{"default": {{"idna": {{"version": "==3.20", "hashes": ["sha256:{a}"]}}}},
            "develop": {{"idna": {{"version": "==3.20", "hashes": ["sha256:{a}", "sha256:{b}"]}}}}}}"#,
            a = "a".repeat(64),
            b = "b".repeat(64)
        );
        let lock = read(&text, None).expect("valid");
        assert_eq!(lock.packages.len(), 1);
        assert_eq!(lock.packages[0].files.len(), 2);
        assert_eq!(names(&pins(&lock, "3.11", &["dev"])), ["idna==3.20"]);
    }
}
