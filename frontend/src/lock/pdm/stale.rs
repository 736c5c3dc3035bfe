//! Whether a pdm.lock is stale: its `content_hash` against the sha256 pdm computes of the
//! pyproject.toml's dependency tables, as `pdm install` checks it.

use super::*;

/// The problem of a lock whose `content_hash` is not pdm's hash of the pyproject.toml.
pub(super) fn stale(metadata: Option<&Value<'_>>, pyproject: &DeTable<'_>) -> Option<Problem> {
    let meta = metadata.and_then(|m| m.get_ref().as_table());
    // pdm 2.28 and later judge such a lock by the inputs it records, not by this hash.
    if meta.is_some_and(|m| get(m, "lock_inputs").is_some()) {
        return None;
    }
    let Some(recorded) = meta.and_then(|m| get(m, "content_hash")) else {
        return Some(
            Problem::at(
                metadata.map(|m| m.span()),
                "records no content_hash, so pdm takes it for out of date with pyproject.toml",
            )
            .with_hint(RELOCK),
        );
    };
    let text = recorded.get_ref().as_str().unwrap_or_default();
    let (algorithm, digest) = text.split_once(':')?;
    if algorithm != "sha256" {
        return None;
    }
    let hashes = content_hashes(pyproject)?;
    if hashes.iter().any(|h| h == digest) {
        return None;
    }
    Some(
        Problem::at(
            Some(recorded.span()),
            format!(
                "is out of date with pyproject.toml: its content_hash is not that of the project's dependencies now ({})",
                hashes.first().map(|h| &h[..12]).unwrap_or_default()
            ),
        )
        .with_hint(RELOCK),
    )
}

/// pdm's `normalize_name`, which keys dev groups in the hash.
pub(super) fn pdm_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out
}

/// The content hashes a pdm 2 may have written for this pyproject.toml (`PyProject.
/// content_hash`): pdm 2.20 and later (dev groups merged from `[dependency-groups]` and
/// `[tool.pdm.dev-dependencies]`), 2.16 to 2.19 (the whole `[tool.pdm.resolution]`), 2.3 to
/// 2.15 (its `overrides`, or the older `[tool.pdm.overrides]`) and 2.0 to 2.2 (the latter).
/// None when this cannot say: no `[project]` (pdm converts poetry and flit metadata first),
/// a workspace (whose members' files are hashed too), or a float or datetime in the content.
pub(super) fn content_hashes(doc: &DeTable<'_>) -> Option<Vec<String>> {
    let project = table(get(doc, "project"))?;
    let settings = table(path(doc, &["tool", "pdm"]));
    let setting = |key: &str| settings.and_then(|s| get(s, key));
    if let Some(workspace) = setting("workspace")
        && Py::of(workspace.get_ref()).is_none_or(|w| w.truthy())
    {
        return None;
    }
    let empty = || Py::Dict(BTreeMap::new());
    let dev = Py::or(setting("dev-dependencies"), empty())?;
    let resolution = Py::or(setting("resolution"), empty())?;
    let overrides = match setting("overrides") {
        Some(value) => Py::of(value.get_ref())?,
        None => Py::or(
            table(setting("resolution")).and_then(|r| get(r, "overrides")),
            empty(),
        )?,
    };
    let old_overrides = Py::or(setting("overrides"), empty())?;
    let mut merged: BTreeMap<String, Py> = BTreeMap::new();
    for (group, deps) in table(get(doc, "dependency-groups")).into_iter().flatten() {
        merged.insert(pdm_name(group.get_ref()), Py::of(deps.get_ref())?);
    }
    if let Py::Dict(dev) = &dev {
        for (group, deps) in dev {
            let Py::List(deps) = deps else { return None };
            match merged
                .entry(pdm_name(group))
                .or_insert_with(|| Py::List(Vec::new()))
            {
                Py::List(items) => items.extend(deps.iter().cloned()),
                _ => return None,
            }
        }
    }
    let base = BTreeMap::from([
        (
            "sources".to_string(),
            Py::or(setting("source"), Py::List(Vec::new()))?,
        ),
        (
            "dependencies".to_string(),
            Py::or(get(project, "dependencies"), Py::List(Vec::new()))?,
        ),
        (
            "optional-dependencies".to_string(),
            Py::or(get(project, "optional-dependencies"), empty())?,
        ),
        (
            "requires-python".to_string(),
            Py::or(get(project, "requires-python"), Py::Str(String::new()))?,
        ),
    ]);
    let variants = [
        (Py::Dict(merged), "resolution", resolution.clone()),
        (dev.clone(), "resolution", resolution),
        (dev.clone(), "overrides", overrides),
        (dev, "overrides", old_overrides),
    ];
    Some(
        variants
            .into_iter()
            .map(|(dev, key, value)| {
                let mut content = base.clone();
                content.insert("dev-dependencies".to_string(), dev);
                content.insert(key.to_string(), value);
                Py::Dict(content).sha256(Separators::SPACED)
            })
            .collect(),
    )
}
