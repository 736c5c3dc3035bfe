//! Whether a Pipfile.lock is stale: `_meta.hash` against the sha256 pipenv computes of the
//! Pipfile.

use super::*;

/// A problem when `_meta.hash` is not the Pipfile's; none when it is, or when pyslim cannot
/// compute the hash exactly as pipenv does for this Pipfile.
pub(super) fn stale(meta: &Node, pipfile: &str) -> Option<Problem> {
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
pub(super) fn pipfile_hashes(pipfile: &str) -> Option<Vec<String>> {
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
