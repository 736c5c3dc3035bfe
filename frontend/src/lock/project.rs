//! What the `poetry.lock` and `pdm.lock` readers share: TOML read with the span of every value
//! (to point a problem at it), PEP 508 requirement strings as [`Edge`]s, the PEP 621 and
//! PEP 735 tables of the pyproject.toml beside a lock (what a graph lock is walked from), and
//! values written as Python's `json.dumps(..., sort_keys=True)` writes them, which is what both
//! tools hash to tell whether a lock is still the project's.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;

use sha2::{Digest, Sha256};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Edge, Problem, marker, normalise};

pub(super) type Value<'i> = Spanned<DeValue<'i>>;

/// The document, or a problem at what TOML cannot read.
pub(super) fn parse<'i>(text: &'i str, hint: &str) -> Result<DeTable<'i>, Problem> {
    DeTable::parse(text).map(Spanned::into_inner).map_err(|e| {
        Problem::at(
            e.span(),
            format!("is not valid TOML: {}", e.message().trim_end()),
        )
        .with_hint(hint)
    })
}

pub(super) fn get<'t, 'i>(table: &'t DeTable<'i>, key: &str) -> Option<&'t Value<'i>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

/// A package's `version` (a problem when it is not a string) and its source (a problem when it
/// cannot be read: then an index, so the rest is still checked); a package from an index with
/// no version is a problem at its name, unless something else already is.
pub(super) fn version_and_source(
    t: &DeTable<'_>,
    name: &str,
    name_span: Range<usize>,
    source: Result<super::Source, Problem>,
    hint: &str,
    problems: &mut Vec<Problem>,
) -> (Option<String>, super::Source) {
    let version = get(t, "version").and_then(|v| match v.get_ref().as_str() {
        Some(s) => Some(s.to_string()),
        None => {
            problems.push(
                Problem::at(
                    Some(v.span()),
                    format!("gives `{name}` a version that is not a string"),
                )
                .with_hint(hint),
            );
            None
        }
    });
    let source = source.unwrap_or_else(|p| {
        problems.push(p);
        super::Source::Registry { url: None }
    });
    if version.is_none() && matches!(source, super::Source::Registry { .. }) && problems.is_empty()
    {
        problems.push(
            Problem::at(Some(name_span), format!("pins `{name}` without a version"))
                .with_hint(hint),
        );
    }
    (version, source)
}

pub(super) fn table<'t, 'i>(value: Option<&'t Value<'i>>) -> Option<&'t DeTable<'i>> {
    value.and_then(|v| v.get_ref().as_table())
}

pub(super) fn string<'t>(value: Option<&'t Value<'_>>) -> Option<&'t str> {
    value.and_then(|v| v.get_ref().as_str())
}

/// The table at a dotted path (`["tool", "poetry", "group"]`).
pub(super) fn path<'t, 'i>(table: &'t DeTable<'i>, keys: &[&str]) -> Option<&'t Value<'i>> {
    let (last, parents) = keys.split_last()?;
    let mut at = table;
    for key in parents {
        at = get(at, key)?.get_ref().as_table()?;
    }
    get(at, last)
}

/// A PEP 508 requirement, split as far as a lock reader needs it. Poetry's older notation
/// (`pytest (>=6.0)`) and pdm's editable lines (`-e file:///${PROJECT_ROOT}/#egg=app[dev]`)
/// read too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Requirement {
    pub name: String,
    /// Normalised.
    pub extras: Vec<String>,
    /// What follows the name and extras, up to the marker: a version specifier (without
    /// poetry's parentheses) or `@ URL`.
    pub specifier: String,
    pub marker: Option<String>,
}

pub(super) fn requirement(line: &str) -> Option<Requirement> {
    let mut text = line.trim();
    for flag in ["-e ", "--editable "] {
        if let Some(rest) = text.strip_prefix(flag) {
            text = rest.trim_start();
        }
    }
    let is_name = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    let end = text.find(|c: char| !is_name(c)).unwrap_or(text.len());
    // A bare URL names its project in the `#egg=` fragment.
    if end == 0 || text[end..].starts_with("://") || text[end..].starts_with('+') {
        let (url, egg) = text.split_once("#egg=")?;
        let mut named = requirement(egg)?;
        named.specifier = format!("@ {url}");
        return Some(named);
    }
    let name = &text[..end];
    let mut rest = text[end..].trim_start();
    let mut extras = Vec::new();
    if let Some(inner) = rest.strip_prefix('[') {
        let close = inner.find(']')?;
        extras = inner[..close]
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(normalise)
            .collect();
        rest = inner[close + 1..].trim_start();
    }
    // A URL may hold `;`: only one after whitespace starts its marker (PEP 508).
    let cut = if rest.starts_with('@') {
        rest.char_indices()
            .zip(rest.chars().skip(1))
            .find(|((_, c), next)| c.is_whitespace() && *next == ';')
            .map(|((i, _), _)| i + 1)
    } else {
        rest.find(';')
    };
    let (specifier, marker) = match cut {
        Some(i) => (&rest[..i], Some(rest[i + 1..].trim().to_string())),
        None => (rest, None),
    };
    let specifier = specifier.trim();
    let specifier = specifier
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(specifier)
        .trim();
    Some(Requirement {
        name: name.to_string(),
        extras,
        specifier: specifier.to_string(),
        marker: marker.filter(|m| !m.is_empty()),
    })
}

impl Requirement {
    /// "Install this, when its marker holds"; `span` is where a bad marker is reported.
    pub(super) fn edge(&self, span: Option<Range<usize>>) -> Result<Edge, Problem> {
        Ok(Edge {
            marker: marker(self.marker.as_deref().unwrap_or(""), span)?,
            extras: self.extras.clone(),
            ..Edge::to(&self.name)
        })
    }
}

/// The pyproject.toml beside a lock. Its problems have no span (spans point into the lock), so
/// their message says the line.
pub(super) struct Project<'i> {
    pub text: &'i str,
    pub doc: DeTable<'i>,
}

impl<'i> Project<'i> {
    pub(super) fn parse(text: &'i str, relock: &str) -> Result<Project<'i>, Problem> {
        match DeTable::parse(text) {
            Ok(doc) => Ok(Project {
                text,
                doc: doc.into_inner(),
            }),
            Err(e) => {
                let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
                Err(Problem::at(
                    None,
                    format!(
                        "cannot be checked against pyproject.toml, which is not valid TOML (line {line}): {}",
                        e.message().trim_end()
                    ),
                )
                .with_hint(format!("fix pyproject.toml, then {relock}")))
            }
        }
    }

    pub(super) fn get(&self, keys: &[&str]) -> Option<&Value<'i>> {
        path(&self.doc, keys)
    }

    /// A problem with the value at `span` of pyproject.toml.
    pub(super) fn problem(&self, span: Range<usize>, what: &str) -> Problem {
        Problem::at(
            None,
            format!(
                "cannot be used with pyproject.toml: {what} (line {})",
                line_of(self.text, span.start)
            ),
        )
    }

    /// The requirements of a list of PEP 508 strings (`what` names it in a problem).
    pub(super) fn requirements(&self, value: &Value<'_>, what: &str) -> Result<Vec<Edge>, Problem> {
        let Some(items) = value.get_ref().as_array() else {
            return Err(self
                .problem(
                    value.span(),
                    &format!("{what} is not a list of requirements"),
                )
                .with_hint("list PEP 508 requirements, e.g. [\"flask>=3\"]"));
        };
        items
            .iter()
            .map(|item| self.requirement(item, what))
            .collect()
    }

    fn requirement(&self, item: &Value<'_>, what: &str) -> Result<Edge, Problem> {
        let unreadable = |detail: &str| {
            self.problem(item.span(), &format!("{what} has {detail}"))
                .with_hint(
                    "requirements are PEP 508 strings, e.g. \"flask>=3; python_version < '3.12'\"",
                )
        };
        let Some(text) = item.get_ref().as_str() else {
            return Err(unreadable("an entry that is not a string"));
        };
        let Some(parsed) = requirement(text) else {
            return Err(unreadable(&format!("`{text}`, which is not a requirement")));
        };
        parsed
            .edge(None)
            .map_err(|p| unreadable(&format!("`{text}`, whose marker pyslim cannot read: {p}")))
    }

    /// `[project] dependencies`.
    pub(super) fn dependencies(&self) -> Result<Vec<Edge>, Problem> {
        match self.get(&["project", "dependencies"]) {
            Some(value) => self.requirements(value, "[project] dependencies"),
            None => Ok(Vec::new()),
        }
    }

    /// `[project.optional-dependencies]`, by normalised extra.
    pub(super) fn optional_dependencies(&self) -> Result<BTreeMap<String, Vec<Edge>>, Problem> {
        let mut extras = BTreeMap::new();
        for (name, value) in table(self.get(&["project", "optional-dependencies"]))
            .into_iter()
            .flatten()
        {
            let edges = self.requirements(value, "[project.optional-dependencies]")?;
            extras.insert(normalise(name.get_ref()), edges);
        }
        Ok(extras)
    }

    /// PEP 735 `[dependency-groups]`, by normalised group, `{include-group = "..."}` followed.
    pub(super) fn dependency_groups(&self) -> Result<BTreeMap<String, Vec<Edge>>, Problem> {
        let Some(groups) = table(self.get(&["dependency-groups"])) else {
            return Ok(BTreeMap::new());
        };
        let mut out = BTreeMap::new();
        for (name, _) in groups {
            let edges = self.group(groups, name.get_ref(), &mut Vec::new())?;
            out.insert(normalise(name.get_ref()), edges);
        }
        Ok(out)
    }

    fn group(
        &self,
        groups: &DeTable<'_>,
        name: &str,
        seen: &mut Vec<String>,
    ) -> Result<Vec<Edge>, Problem> {
        let what = "[dependency-groups]";
        let key = normalise(name);
        let found = groups.iter().find(|(k, _)| normalise(k.get_ref()) == key);
        let Some((_, value)) = found else {
            return Err(Problem::at(
                None,
                format!(
                    "cannot be used with pyproject.toml: {what} includes group `{name}`, which it does not declare"
                ),
            ));
        };
        if seen.contains(&key) {
            return Err(self.problem(value.span(), &format!("{what} `{name}` includes itself")));
        }
        seen.push(key);
        let Some(items) = value.get_ref().as_array() else {
            return Err(self.problem(value.span(), &format!("{what} `{name}` is not a list")));
        };
        let mut edges = Vec::new();
        for item in items.iter() {
            let include = item
                .get_ref()
                .as_table()
                .and_then(|t| string(get(t, "include-group")));
            match include {
                Some(other) => edges.extend(self.group(groups, other, seen)?),
                None => edges.push(self.requirement(item, what)?),
            }
        }
        seen.pop();
        Ok(edges)
    }
}

/// The 1-based line of byte `offset` of `text`.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

/// `json.dumps`'s `separators`: between items, and between a key and its value. Each tool
/// hashes with its own, and one character off is another hash.
#[derive(Clone, Copy, Debug)]
pub(super) struct Separators {
    item: &'static str,
    key: &'static str,
}

impl Separators {
    /// Python's default, which poetry and pdm hash with.
    pub(super) const SPACED: Separators = Separators {
        item: ", ",
        key: ": ",
    };
    /// `separators=(",", ":")`, which pipenv hashes with.
    pub(super) const COMPACT: Separators = Separators {
        item: ",",
        key: ":",
    };
}

/// A value as Python's `json.dumps(value, sort_keys=True, separators=...)` writes it: keys
/// sorted by code point, every non-ASCII character escaped (`ensure_ascii`).
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Py {
    Null,
    Bool(bool),
    Int(i128),
    Str(String),
    List(Vec<Py>),
    Dict(BTreeMap<String, Py>),
}

impl Py {
    /// A TOML value as Python's TOML readers give it. None for a float (its `repr` is not
    /// reproduced here) or a datetime (which `json.dumps` refuses): no hash is computed then.
    pub(super) fn of(value: &DeValue<'_>) -> Option<Py> {
        Some(match value {
            DeValue::String(s) => Py::Str(s.to_string()),
            DeValue::Integer(i) => Py::Int(i128::from_str_radix(i.as_str(), i.radix()).ok()?),
            DeValue::Boolean(b) => Py::Bool(*b),
            DeValue::Float(_) | DeValue::Datetime(_) => return None,
            DeValue::Array(items) => Py::List(
                items
                    .iter()
                    .map(|v| Py::of(v.get_ref()))
                    .collect::<Option<_>>()?,
            ),
            DeValue::Table(table) => Py::Dict(Py::dict(table)?),
        })
    }

    pub(super) fn dict(table: &DeTable<'_>) -> Option<BTreeMap<String, Py>> {
        table
            .iter()
            .map(|(k, v)| Some((k.get_ref().to_string(), Py::of(v.get_ref())?)))
            .collect()
    }

    /// `value`, or `default` where it is absent, as `dict.get(key, default)`.
    pub(super) fn or(value: Option<&Value<'_>>, default: Py) -> Option<Py> {
        match value {
            Some(v) => Py::of(v.get_ref()),
            None => Some(default),
        }
    }

    /// Python's truthiness of a JSON-able value, as `if content:` tests it.
    pub(super) fn truthy(&self) -> bool {
        match self {
            Py::Null => false,
            Py::Bool(b) => *b,
            Py::Int(i) => *i != 0,
            Py::Str(s) => !s.is_empty(),
            Py::List(l) => !l.is_empty(),
            Py::Dict(d) => !d.is_empty(),
        }
    }

    pub(super) fn dumps(&self, separators: Separators) -> String {
        let mut out = String::new();
        self.write(separators, &mut out);
        out
    }

    fn write(&self, separators: Separators, out: &mut String) {
        match self {
            Py::Null => out.push_str("null"),
            Py::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Py::Int(i) => out.push_str(&i.to_string()),
            Py::Str(s) => string_literal(s, out),
            Py::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(separators.item);
                    }
                    item.write(separators, out);
                }
                out.push(']');
            }
            Py::Dict(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(separators.item);
                    }
                    string_literal(key, out);
                    out.push_str(separators.key);
                    value.write(separators, out);
                }
                out.push('}');
            }
        }
    }

    /// The lower-case hex sha256 of [`Py::dumps`], UTF-8 encoded.
    pub(super) fn sha256(&self, separators: Separators) -> String {
        let digest = Sha256::digest(self.dumps(separators).as_bytes());
        digest.iter().fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
    }
}

/// Python's `json.encoder.py_encode_basestring_ascii`.
fn string_literal(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn py(toml_text: &str) -> Py {
        let doc = DeTable::parse(toml_text).expect("TOML").into_inner();
        Py::Dict(Py::dict(&doc).expect("JSON-able"))
    }

    #[test]
    fn values_are_written_as_python_json_dumps_writes_them() {
        // Checked against CPython 3.11: json.dumps(tomllib.loads(text), sort_keys=True).
        let value = py(
            "b = 1\na = ['x', {z = true, y = -1_000}, []]\nc = {}\nd = \"caf\u{e9} \u{1f600} \\\"q\\\" \\\\ \\t\\u007f\"\ne = 0x1f\n",
        );
        assert_eq!(
            value.dumps(Separators::SPACED),
            r#"{"a": ["x", {"y": -1000, "z": true}, []], "b": 1, "c": {}, "d": "caf\u00e9 \ud83d\ude00 \"q\" \\ \t\u007f", "e": 31}"#
        );
        let mut with_null = BTreeMap::new();
        with_null.insert("source".to_string(), Py::Null);
        assert_eq!(
            Py::Dict(with_null).dumps(Separators::SPACED),
            r#"{"source": null}"#
        );
        // Python's json.dumps({}) hashed.
        assert_eq!(
            Py::Dict(BTreeMap::new()).sha256(Separators::SPACED),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn floats_and_datetimes_are_not_hashed() {
        let doc = DeTable::parse("a = 1.5\nb = 1979-05-27\n")
            .expect("TOML")
            .into_inner();
        assert!(Py::of(get(&doc, "a").expect("a").get_ref()).is_none());
        assert!(Py::of(get(&doc, "b").expect("b").get_ref()).is_none());
    }

    #[test]
    fn requirements_in_every_notation_a_lock_writes() {
        let r = requirement("Flask[Async, dotenv] >=3.0; python_version < \"3.12\"").expect("req");
        assert_eq!(r.name, "Flask");
        assert_eq!(r.extras, ["async", "dotenv"]);
        assert_eq!(r.specifier, ">=3.0");
        assert_eq!(r.marker.as_deref(), Some("python_version < \"3.12\""));
        let poetry = requirement("pytest-cov (>=2.10.1)").expect("req");
        assert_eq!(
            (poetry.name.as_str(), poetry.specifier.as_str()),
            ("pytest-cov", ">=2.10.1")
        );
        let url =
            requirement("lib @ https://example.com/a;b/lib-1.0.tar.gz ; sys_platform == 'linux'")
                .expect("req");
        assert_eq!(url.specifier, "@ https://example.com/a;b/lib-1.0.tar.gz");
        assert_eq!(url.marker.as_deref(), Some("sys_platform == 'linux'"));
        let editable = requirement("-e file:///${PROJECT_ROOT}/#egg=app[dev]").expect("req");
        assert_eq!(editable.name, "app");
        assert_eq!(editable.extras, ["dev"]);
        assert_eq!(editable.specifier, "@ file:///${PROJECT_ROOT}/");
        assert!(requirement("").is_none());
        assert!(requirement(">=1").is_none());
    }

    #[test]
    fn dependency_groups_follow_their_includes() {
        let text =
            "[dependency-groups]\nTest = ['pytest']\ndev = [{include-group = 'test'}, 'ruff']\n";
        let project = Project::parse(text, "relock").expect("TOML");
        let groups = project.dependency_groups().expect("groups");
        let names: Vec<&str> = groups["dev"].iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["pytest", "ruff"]);
        let looped = Project::parse(
            "[dependency-groups]\na = [{include-group = 'a'}]\n",
            "relock",
        )
        .expect("TOML");
        assert!(looped.dependency_groups().is_err());
    }
}
