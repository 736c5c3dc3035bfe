//! Which packages a poetry.lock's project asks for, group by group: a 2.1 lock's flat record
//! of each package's groups and markers, or, for older locks, the walk from the dependencies
//! the pyproject.toml beside the lock declares.

use super::*;

/// Lock 2.1: an edge per package and group, with the package's marker for that group.
pub(super) fn flat_roots(
    doc: &DeTable<'_>,
    read: &[Entry<'_, '_>],
    lock: &mut Lock,
) -> Result<(), Vec<Problem>> {
    let mut problems = Vec::new();
    for entry in read {
        let package = &entry.package;
        let groups = get(entry.table, "groups");
        let names: Vec<&str> = groups
            .and_then(|g| g.get_ref().as_array())
            .into_iter()
            .flat_map(|items| items.iter())
            .filter_map(|item| item.get_ref().as_str())
            .collect();
        let markers = get(entry.table, "markers");
        for group in names {
            let (text, span) = match markers.map(|m| (m, m.get_ref())) {
                None => ("", None),
                Some((m, DeValue::String(text))) => (text.as_ref(), Some(m.span())),
                Some((m, DeValue::Table(by_group))) => match get(by_group, group) {
                    Some(g) => (g.get_ref().as_str().unwrap_or_default(), Some(g.span())),
                    None => ("", Some(m.span())),
                },
                Some((m, _)) => {
                    problems.push(
                        Problem::at(
                            Some(m.span()),
                            format!(
                                "gives `{}` markers that are neither a string nor a table",
                                package.name
                            ),
                        )
                        .with_hint(REWRITE),
                    );
                    continue;
                }
            };
            let text = if text.trim() == "*" { "" } else { text };
            let marker = match marker(text, span) {
                Ok(m) => m,
                Err(p) => {
                    problems.push(p);
                    continue;
                }
            };
            let edge = Edge {
                version: package.version.clone(),
                marker,
                ..Edge::to(&package.name)
            };
            match normalise(group).as_str() {
                "main" => lock.main.push(edge),
                other => lock.groups.entry(other.to_string()).or_default().push(edge),
            }
        }
    }
    // Which packages an extra adds, its markers say (`extra == "..."`).
    for (extra, _) in table(get(doc, "extras")).into_iter().flatten() {
        lock.extras.insert(normalise(extra.get_ref()), Vec::new());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// A package's dependencies and its extras', as edges.
type Pinned = (Vec<Edge>, BTreeMap<String, Vec<Edge>>);

/// Lock 1.1 and 2.0: the project's own requirements, read from its pyproject.toml, walked to
/// the lock's packages; an edge to a name the lock pins several versions of is pinned to the
/// one its constraint allows.
pub(super) fn graph_roots(
    project: &Project<'_>,
    read: &mut [Entry<'_, '_>],
    lock: &mut Lock,
) -> Result<(), Vec<Problem>> {
    let declared = declared(project).map_err(|p| vec![p])?;
    let versions = |name: &str| -> Vec<String> {
        read.iter()
            .filter(|e| e.package.name == name)
            .filter_map(|e| e.package.version.clone())
            .collect()
    };
    let pinned = |dep: &Dep| -> Edge {
        let mut edge = dep.edge.clone();
        let candidates = versions(&edge.name);
        if candidates.len() > 1
            && let Some(constraint) = &dep.constraint
        {
            let allowed: Vec<&String> = candidates
                .iter()
                .filter(|v| constraint.allows(v) == Some(true))
                .collect();
            if let [one] = allowed.as_slice() {
                edge.version = Some((*one).clone());
            }
        }
        edge
    };
    lock.main = declared.main.iter().map(pinned).collect();
    lock.extras = declared
        .extras
        .iter()
        .map(|(k, deps)| (k.clone(), deps.iter().map(pinned).collect()))
        .collect();
    lock.groups = declared
        .groups
        .iter()
        .map(|(k, deps)| (k.clone(), deps.iter().map(pinned).collect()))
        .collect();
    let edges: Vec<Pinned> = read
        .iter()
        .map(|entry| {
            let deps = entry
                .deps
                .iter()
                .filter(|d| !d.optional)
                .map(pinned)
                .collect();
            let extras = entry
                .extras
                .iter()
                .map(|(extra, deps)| (extra.clone(), deps.iter().map(pinned).collect()))
                .collect();
            (deps, extras)
        })
        .collect();
    for (entry, (deps, extras)) in read.iter_mut().zip(edges) {
        entry.package.dependencies = deps;
        entry.package.extras = extras;
    }
    Ok(())
}

/// What the project itself asks for, by where poetry reads it.
#[derive(Default)]
pub(super) struct Declared {
    main: Vec<Dep>,
    extras: BTreeMap<String, Vec<Dep>>,
    groups: BTreeMap<String, Vec<Dep>>,
}

pub(super) fn declared(project: &Project<'_>) -> Result<Declared, Problem> {
    let mut out = Declared::default();
    let wrap = |edges: Vec<Edge>| -> Vec<Dep> {
        edges
            .into_iter()
            .map(|edge| Dep {
                edge,
                constraint: None,
                optional: false,
            })
            .collect()
    };
    let poetry_deps = |keys: &[&str], what: &str| -> Result<Vec<Dep>, Problem> {
        let mut deps = Vec::new();
        for (name, value) in table(project.get(keys)).into_iter().flatten() {
            if name.get_ref().as_ref() == "python" {
                continue;
            }
            let found = deps_of(name.get_ref(), value).map_err(|(span, detail)| {
                project
                    .problem(span, &format!("{what} gives {detail}"))
                    .with_hint("write dependencies as poetry documents them")
            })?;
            deps.extend(found);
        }
        Ok(deps)
    };
    let main = poetry_deps(
        &["tool", "poetry", "dependencies"],
        "[tool.poetry.dependencies]",
    )?;
    for extra_value in table(project.get(&["tool", "poetry", "extras"]))
        .into_iter()
        .flatten()
    {
        let (extra, value) = extra_value;
        let names: Vec<String> = value
            .get_ref()
            .as_array()
            .into_iter()
            .flat_map(|items| items.iter())
            .filter_map(|item| item.get_ref().as_str().map(normalise))
            .collect();
        let deps = main
            .iter()
            .filter(|d| names.contains(&d.edge.name))
            .cloned()
            .collect();
        out.extras.insert(normalise(extra.get_ref()), deps);
    }
    out.main = main.into_iter().filter(|d| !d.optional).collect();
    out.main.extend(wrap(project.dependencies()?));
    for (extra, edges) in project.optional_dependencies()? {
        out.extras.entry(extra).or_default().extend(wrap(edges));
    }
    let dev = poetry_deps(
        &["tool", "poetry", "dev-dependencies"],
        "[tool.poetry.dev-dependencies]",
    )?;
    if project
        .get(&["tool", "poetry", "dev-dependencies"])
        .is_some()
    {
        out.groups.entry("dev".into()).or_default().extend(dev);
    }
    for (group, _) in table(project.get(&["tool", "poetry", "group"]))
        .into_iter()
        .flatten()
    {
        let group = group.get_ref();
        let what = format!("[tool.poetry.group.{group}.dependencies]");
        let deps = poetry_deps(&["tool", "poetry", "group", group, "dependencies"], &what)?;
        out.groups.entry(normalise(group)).or_default().extend(deps);
    }
    for (group, edges) in project.dependency_groups()? {
        out.groups.entry(group).or_default().extend(wrap(edges));
    }
    Ok(out)
}

/// The groups `poetry install` installs when told none: all but those marked optional.
pub(super) fn default_groups(project: &Project<'_>) -> Vec<String> {
    let mut groups = Vec::new();
    if project
        .get(&["tool", "poetry", "dev-dependencies"])
        .is_some()
    {
        groups.push("dev".to_string());
    }
    for (group, value) in table(project.get(&["tool", "poetry", "group"]))
        .into_iter()
        .flatten()
    {
        let optional = table(Some(value))
            .and_then(|t| get(t, "optional"))
            .and_then(|v| v.get_ref().as_bool())
            == Some(true);
        if !optional {
            groups.push(normalise(group.get_ref()));
        }
    }
    for (group, _) in table(project.get(&["dependency-groups"]))
        .into_iter()
        .flatten()
    {
        let name = normalise(group.get_ref());
        let optional = path(
            &project.doc,
            &["tool", "poetry", "group", group.get_ref(), "optional"],
        )
        .and_then(|v| v.get_ref().as_bool())
            == Some(true);
        if !optional {
            groups.push(name);
        }
    }
    groups.sort();
    groups.dedup();
    groups
}

pub(super) fn no_project(doc: &DeTable<'_>) -> Problem {
    let at = table(get(doc, "metadata"))
        .and_then(|m| get(m, "lock-version"))
        .map(|v| v.span());
    Problem::at(
        at,
        "was written by poetry 1.x, which records what each package needs but not what the project needs; pyslim reads that from the pyproject.toml beside the lock, and there is none",
    )
    .with_hint("keep pyproject.toml beside poetry.lock, or lock with poetry 2 (lock-version 2.1 records every package's groups and markers)")
}
