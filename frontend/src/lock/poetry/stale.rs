//! Whether a poetry.lock is stale: its `content-hash` against the hash each poetry version
//! computes of the pyproject.toml beside it.

use toml::de::DeTable;

use super::*;

/// The keys of `[tool.poetry]` poetry hashes, and those it hashes even when absent (as null)
/// in a project without `[project]` or `[dependency-groups]` content.
const POETRY_KEYS: [&str; 5] = [
    "dependencies",
    "source",
    "extras",
    "dev-dependencies",
    "group",
];
const LEGACY_KEYS: [&str; 4] = ["dependencies", "source", "extras", "dev-dependencies"];
const PROJECT_KEYS: [&str; 3] = ["requires-python", "dependencies", "optional-dependencies"];

/// The problem of a lock whose `content-hash` is not poetry's hash of the pyproject.toml.
pub(super) fn stale(metadata: Option<&Value<'_>>, pyproject: &DeTable<'_>) -> Option<Problem> {
    let recorded = metadata
        .and_then(|m| m.get_ref().as_table())
        .and_then(|m| get(m, "content-hash"));
    let Some(recorded) = recorded else {
        return Some(
            Problem::at(
                metadata.map(|m| m.span()),
                "records no content-hash, so poetry takes it for out of date with pyproject.toml",
            )
            .with_hint(RELOCK),
        );
    };
    let text = recorded.get_ref().as_str().unwrap_or_default();
    // A project with content this cannot hash as poetry does is not judged.
    let hashes = content_hashes(pyproject)?;
    if hashes.iter().any(|h| h == text) {
        return None;
    }
    Some(
        Problem::at(
            Some(recorded.span()),
            format!(
                "is out of date with pyproject.toml: its content-hash is not that of the project's dependencies now ({})",
                hashes.first().map(|h| &h[..12]).unwrap_or_default()
            ),
        )
        .with_hint(RELOCK),
    )
}

/// The content hashes a poetry may have written for this pyproject.toml: poetry 2.3 and later
/// (with `[dependency-groups]`), poetry 2.0 to 2.2 (without), and poetry 1.x (`[tool.poetry]`
/// alone). Poetry 2 accepts a lock of poetry < 2.3 by the older hash too; a lock poetry 1.x
/// wrote is fresh to the poetry that wrote it by the last. None when the relevant content has
/// a float or a datetime.
pub(super) fn content_hashes(doc: &DeTable<'_>) -> Option<Vec<String>> {
    let project = table(get(doc, "project"));
    let mut relevant_project = BTreeMap::new();
    for key in PROJECT_KEYS {
        if let Some(value) = project.and_then(|p| get(p, key)) {
            relevant_project.insert(key.to_string(), Py::of(value.get_ref())?);
        }
    }
    let all_groups = Py::or(get(doc, "dependency-groups"), Py::Dict(BTreeMap::new()))?;
    let poetry = table(path(doc, &["tool", "poetry"]));
    let poetry_value = |key: &str| poetry.and_then(|p| get(p, key));
    let mut hashes = Vec::new();
    for groups in [all_groups, Py::Dict(BTreeMap::new())] {
        let with_project = !relevant_project.is_empty() || groups.truthy();
        let mut relevant_poetry = BTreeMap::new();
        for key in POETRY_KEYS {
            match poetry_value(key) {
                Some(value) => {
                    relevant_poetry.insert(key.to_string(), Py::of(value.get_ref())?);
                }
                None if with_project || !LEGACY_KEYS.contains(&key) => {}
                None => {
                    relevant_poetry.insert(key.to_string(), Py::Null);
                }
            }
        }
        let content = if with_project {
            let mut content = BTreeMap::new();
            if !relevant_project.is_empty() {
                content.insert("project".to_string(), Py::Dict(relevant_project.clone()));
            }
            if groups.truthy() {
                content.insert("dependency-groups".to_string(), groups);
            }
            let tool = BTreeMap::from([("poetry".to_string(), Py::Dict(relevant_poetry))]);
            content.insert("tool".to_string(), Py::Dict(tool));
            content
        } else {
            relevant_poetry
        };
        hashes.push(Py::Dict(content).sha256(Separators::SPACED));
    }
    let mut legacy = BTreeMap::new();
    for key in POETRY_KEYS {
        match poetry_value(key) {
            Some(value) => {
                legacy.insert(key.to_string(), Py::of(value.get_ref())?);
            }
            None if LEGACY_KEYS.contains(&key) => {
                legacy.insert(key.to_string(), Py::Null);
            }
            None => {}
        }
    }
    hashes.push(Py::Dict(legacy).sha256(Separators::SPACED));
    Some(hashes)
}
