//! A PEP 621 `pyproject.toml`: the dependencies it declares (with the chosen extras), or those of
//! poetry's own table (see [`super::poetry`]), and what building the project needs (PEP 518
//! `[build-system] requires`). Every problem keeps the byte range of the value it is about, so
//! it can be shown at its line in the file.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

use pyslim_spec::{Diagnostic, Extra, SourceFile, Span};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::poetry;
pub use super::poetry::{Declared, Local};

/// Why a pyproject.toml cannot be read for what pyslim needs from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    Toml {
        message: String,
    },
    NoProject,
    DynamicDependencies,
    NotAString {
        what: &'static str,
    },
    NotAList {
        what: &'static str,
    },
    NoSuchExtra {
        extra: String,
        known: Vec<String>,
    },
    NoSuchGroup {
        group: String,
        known: Vec<String>,
    },
    GroupCycle {
        group: String,
    },
    /// Poetry's dependency table says what pip cannot be told; the hint says what to write.
    Poetry {
        message: String,
        hint: String,
    },
}

impl Problem {
    /// What to do about this problem in particular, where the caller's general hint would not
    /// say.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Problem::Poetry { hint, .. } => Some(hint),
            _ => None,
        }
    }
}

/// A problem, and the bytes of the file it is about (none for what is missing altogether).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub problem: Problem,
    pub span: Option<Range<usize>>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::Toml { message } => write!(f, "is not valid TOML: {message}"),
            Problem::NoProject => f.write_str(
                "has no [project] table, nor poetry's [tool.poetry.dependencies]; pyslim reads the dependencies of PEP 621 metadata or of poetry",
            ),
            Problem::DynamicDependencies => f.write_str(
                "declares its dependencies as dynamic, so they are only known by building it; list them in a requirements file",
            ),
            Problem::NotAString { what } => write!(f, "has a {what} entry that is not a string"),
            Problem::NotAList { what } => write!(f, "has {what} that is not a list of strings"),
            Problem::NoSuchExtra { extra, known } if known.is_empty() => write!(
                f,
                "has no extra `{extra}`: it declares no [project.optional-dependencies] (or [tool.poetry.extras])"
            ),
            Problem::NoSuchExtra { extra, known } => {
                write!(f, "has no extra `{extra}`; it has: {}", known.join(", "))
            }
            Problem::NoSuchGroup { group, known } if known.is_empty() => write!(
                f,
                "has no dependency group `{group}`: it declares no [dependency-groups]"
            ),
            Problem::NoSuchGroup { group, known } => {
                write!(f, "has no dependency group `{group}`; it has: {}", known.join(", "))
            }
            Problem::GroupCycle { group } => {
                write!(f, "has dependency group `{group}` include itself")
            }
            Problem::Poetry { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

/// Reports `error` at its value in `file`, or at `entry` (the spec line that names the file)
/// when it is about something the file lacks altogether.
pub fn report(
    error: &Error,
    file: &SourceFile,
    entry: Span,
    hint: &str,
    problems: &mut super::Problems,
) {
    let message = format!("`{}` {error}", file.name);
    let hint = error.problem.hint().unwrap_or(hint);
    match &error.span {
        Some(range) => {
            let at = file.span_at(range.clone());
            problems.in_file(file, Diagnostic::new(at, message).with_hint(hint));
        }
        None => problems
            .problems
            .push(Diagnostic::new(entry, message).with_hint(hint)),
    }
}

fn error(problem: Problem, span: Option<Range<usize>>) -> Error {
    Error { problem, span }
}

fn parse(text: &str) -> Result<DeTable<'_>, Error> {
    DeTable::parse(text).map(Spanned::into_inner).map_err(|e| {
        error(
            Problem::Toml {
                message: e.message().to_string(),
            },
            e.span(),
        )
    })
}

pub(super) fn get<'t, 'i>(table: &'t DeTable<'i>, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

pub(super) fn table<'t, 'i>(value: Option<&'t Spanned<DeValue<'i>>>) -> Option<&'t DeTable<'i>> {
    value.and_then(|v| v.get_ref().as_table())
}

/// A list of strings, each kept; `what` names it in a problem.
fn strings(value: Option<&Spanned<DeValue<'_>>>, what: &'static str) -> Result<Vec<String>, Error> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let Some(items) = value.get_ref().as_array() else {
        return Err(error(Problem::NotAList { what }, Some(value.span())));
    };
    items
        .iter()
        .map(|item| {
            item.get_ref()
                .as_str()
                .map(String::from)
                .ok_or_else(|| error(Problem::NotAString { what }, Some(item.span())))
        })
        .collect()
}

/// The dependencies a `pyproject.toml` declares, with those of the chosen extras and PEP 735
/// dependency groups, as requirement lines: PEP 621's, or poetry's when `[project]` has none
/// to give (poetry 1.x has no `[project]`; poetry 2 reads its own table when `[project]` calls
/// them dynamic). `dir` is the file's directory in the build context, which poetry's path
/// dependencies are relative to.
pub fn dependencies(
    text: &str,
    extras: &[&str],
    groups: &[&str],
    dir: &str,
) -> Result<Declared, Error> {
    let document = parse(text)?;
    let mut grouped = Vec::new();
    for group in groups {
        dependency_group(&document, group, &mut Vec::new(), &mut grouped)?;
    }
    let mut declared = declared_dependencies(&document, extras, dir)?;
    for requirement in grouped {
        if !declared.requirements.contains(&requirement) {
            declared.requirements.push(requirement);
        }
    }
    Ok(declared)
}

/// The requirements of PEP 735 group `name`, with those of the groups it includes.
fn dependency_group(
    document: &DeTable<'_>,
    name: &str,
    within: &mut Vec<String>,
    out: &mut Vec<String>,
) -> Result<(), Error> {
    let declared = get(document, "dependency-groups");
    let groups = table(declared);
    let found = groups
        .into_iter()
        .flatten()
        .find(|(key, _)| Extra::normalised(key.get_ref()).as_str() == name);
    let Some((key, list)) = found else {
        let known: BTreeSet<String> = groups
            .into_iter()
            .flatten()
            .map(|(key, _)| Extra::normalised(key.get_ref()).to_string())
            .collect();
        let problem = Problem::NoSuchGroup {
            group: name.to_string(),
            known: known.into_iter().collect(),
        };
        return Err(error(problem, declared.map(Spanned::span)));
    };
    if within.iter().any(|g| g == name) {
        let problem = Problem::GroupCycle {
            group: name.to_string(),
        };
        return Err(error(problem, Some(key.span())));
    }
    within.push(name.to_string());
    let what = "[dependency-groups]";
    let Some(items) = list.get_ref().as_array() else {
        return Err(error(Problem::NotAList { what }, Some(list.span())));
    };
    for item in items {
        match item.get_ref() {
            DeValue::String(requirement) => {
                if !out.iter().any(|r| r == requirement.as_ref()) {
                    out.push(requirement.to_string());
                }
            }
            DeValue::Table(include) => {
                let Some(other) = get(include, "include-group").and_then(|v| v.get_ref().as_str())
                else {
                    return Err(error(Problem::NotAString { what }, Some(item.span())));
                };
                dependency_group(document, Extra::normalised(other).as_str(), within, out)?;
            }
            _ => return Err(error(Problem::NotAString { what }, Some(item.span()))),
        }
    }
    within.pop();
    Ok(())
}

/// `[project] dependencies` (or poetry's), with those of the chosen extras.
fn declared_dependencies(
    document: &DeTable<'_>,
    extras: &[&str],
    dir: &str,
) -> Result<Declared, Error> {
    let project = table(get(document, "project"));
    if project.is_none_or(|p| is_dynamic(p, "dependencies"))
        && let Some(declared) =
            poetry_table(document).and_then(|p| poetry::dependencies(p, extras, dir))
    {
        return declared;
    }
    let project = project.ok_or(error(Problem::NoProject, None))?;
    if let Some(dynamic) = get(project, "dynamic")
        && let Some(items) = dynamic.get_ref().as_array()
        && let Some(item) = items
            .iter()
            .find(|v| v.get_ref().as_str() == Some("dependencies"))
    {
        return Err(error(Problem::DynamicDependencies, Some(item.span())));
    }
    let mut requirements = strings(get(project, "dependencies"), "[project] dependencies")?;
    let optional = get(project, "optional-dependencies");
    let groups = table(optional);
    for extra in extras {
        let group = groups
            .into_iter()
            .flatten()
            .find(|(name, _)| Extra::normalised(name.get_ref()).as_str() == *extra);
        let Some((_, group)) = group else {
            let known: BTreeSet<String> = groups
                .into_iter()
                .flatten()
                .map(|(name, _)| Extra::normalised(name.get_ref()).to_string())
                .collect();
            let problem = Problem::NoSuchExtra {
                extra: extra.to_string(),
                known: known.into_iter().collect(),
            };
            return Err(error(problem, optional.map(Spanned::span)));
        };
        for requirement in strings(Some(group), "optional-dependencies")? {
            if !requirements.contains(&requirement) {
                requirements.push(requirement);
            }
        }
    }
    Ok(Declared {
        requirements,
        local: Vec::new(),
    })
}

fn poetry_table<'t, 'i>(document: &'t DeTable<'i>) -> Option<&'t DeTable<'i>> {
    table(get(document, "tool")).and_then(|t| table(get(t, "poetry")))
}

/// `[project] requires-python` as written, and the bytes of its value; `None` without one.
pub fn requires_python(text: &str) -> Result<Option<(String, Range<usize>)>, Error> {
    let document = parse(text)?;
    let Some(value) = table(get(&document, "project")).and_then(|p| get(p, "requires-python"))
    else {
        return Ok(None);
    };
    match value.get_ref().as_str() {
        Some(requires) => Ok(Some((requires.to_string(), value.span()))),
        None => Err(error(
            Problem::NotAString {
                what: "requires-python",
            },
            Some(value.span()),
        )),
    }
}

/// What a project's pyproject.toml says about deploying it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    /// It has a `[build-system]`: it can be built to a wheel.
    pub build_system: bool,
    /// It says it is not a package: poetry's `package-mode = false`, uv's
    /// `[tool.uv] package = false`.
    pub not_a_package: bool,
    /// Its static dependencies: `[project] dependencies`, or poetry's
    /// `[tool.poetry.dependencies]` when `[project]` has none to give; `None` without either,
    /// or when they are dynamic.
    pub dependencies: Result<Option<Vec<String>>, Error>,
    /// The local projects among them (poetry's path dependencies).
    pub local: Vec<Local>,
    /// `dynamic` names `dependencies`: only the build backend knows them.
    pub dynamic_dependencies: bool,
    /// The requirements files setuptools reads them from
    /// (`[tool.setuptools.dynamic] dependencies = {file = [...]}`), relative to the project.
    pub dependency_files: Vec<String>,
    /// The commands installing it puts on PATH: `[project.scripts]` and `gui-scripts`,
    /// `[tool.poetry.scripts]`, setuptools' `script-files`; `None` when `dynamic` leaves them
    /// to the build backend.
    pub scripts: Option<Vec<String>>,
    /// Its modules are where build backends look by default, the project's directory or its
    /// `src/`: its backend is one pyslim knows and no table of it says where they are.
    pub standard_layout: bool,
}

impl Default for Project {
    fn default() -> Project {
        Project {
            build_system: false,
            not_a_package: false,
            dependencies: Ok(None),
            local: Vec::new(),
            dynamic_dependencies: false,
            dependency_files: Vec::new(),
            scripts: Some(Vec::new()),
            standard_layout: true,
        }
    }
}

/// What to do about a problem with a pyproject.toml's dependencies, wherever it is read from.
pub const DEPENDENCIES_HINT: &str = "pyslim installs the [project] dependencies (and `extras:`) of a PEP 621 pyproject.toml, or poetry's [tool.poetry.dependencies] (and [tool.poetry.extras])";

/// Reads what [`Project`] holds; only a file that is not TOML is a problem here (a project may
/// lack any of these tables), and dependencies of the wrong type are one for whoever uses them.
/// `dir` is the project's directory in the build context.
pub fn project(text: &str, dir: &str) -> Result<Project, Error> {
    let document = parse(text)?;
    let tool = table(get(&document, "tool"));
    let flag = |table: Option<&DeTable<'_>>, key: &str| {
        table
            .and_then(|t| get(t, key))
            .and_then(|v| v.get_ref().as_bool())
    };
    let poetry = poetry_table(&document);
    let uv = tool.and_then(|t| table(get(t, "uv")));
    let not_a_package =
        flag(poetry, "package-mode") == Some(false) || flag(uv, "package") == Some(false);
    let project = table(get(&document, "project"));
    let mut dynamic_dependencies = project.is_some_and(|p| is_dynamic(p, "dependencies"));
    let mut local = Vec::new();
    let poetry_dependencies = match project {
        Some(_) if !dynamic_dependencies => None,
        _ => poetry.and_then(|p| poetry::dependencies(p, &[], dir)),
    };
    let dependencies = match (project, poetry_dependencies) {
        (_, Some(declared)) => {
            // Poetry's table is static: no backend need be asked.
            dynamic_dependencies = false;
            declared.map(|d| {
                local = d.local;
                Some(d.requirements)
            })
        }
        (Some(project), None) if !dynamic_dependencies => {
            strings(get(project, "dependencies"), "[project] dependencies").map(Some)
        }
        _ => Ok(None),
    };
    Ok(Project {
        build_system: get(&document, "build-system").is_some(),
        not_a_package,
        dependencies,
        local,
        dynamic_dependencies,
        dependency_files: dependency_files(tool),
        scripts: scripts(project, poetry, tool),
        standard_layout: standard_layout(&document, tool),
    })
}

fn scripts(
    project: Option<&DeTable<'_>>,
    poetry: Option<&DeTable<'_>>,
    tool: Option<&DeTable<'_>>,
) -> Option<Vec<String>> {
    if project.is_some_and(|p| {
        ["scripts", "gui-scripts"]
            .iter()
            .any(|field| is_dynamic(p, field))
    }) {
        return None;
    }
    let names = |table: Option<&DeTable<'_>>| -> Vec<String> {
        table
            .into_iter()
            .flatten()
            .map(|(name, _)| name.get_ref().to_string())
            .collect()
    };
    let mut found = Vec::new();
    for key in ["scripts", "gui-scripts"] {
        found.extend(names(project.and_then(|p| table(get(p, key)))));
    }
    found.extend(names(poetry.and_then(|p| table(get(p, "scripts")))));
    let files = tool
        .and_then(|t| table(get(t, "setuptools")))
        .and_then(|t| get(t, "script-files"))
        .and_then(|f| f.get_ref().as_array());
    for file in files.into_iter().flatten() {
        if let Some(path) = file.get_ref().as_str() {
            found.extend(path.rsplit('/').next().map(String::from));
        }
    }
    Some(found)
}

/// The backends whose default is to find a project's modules in its directory or `src/`.
const DISCOVERING_BACKENDS: &[&str] = &[
    "setuptools.build_meta",
    "setuptools.build_meta:__legacy__",
    "poetry.core.masonry.api",
    "hatchling.build",
    "flit_core.buildapi",
    "pdm.backend",
    "uv_build",
];

/// The `[tool.*]` tables (and keys of them) that place a project's modules elsewhere.
const PLACING_TABLES: &[(&str, &[&str])] = &[
    (
        "setuptools",
        &["packages", "package-dir", "py-modules", "ext-modules"],
    ),
    ("poetry", &["packages"]),
    ("hatch", &["build"]),
    ("flit", &["module"]),
    ("pdm", &["build"]),
    ("uv", &["build-backend"]),
];

fn standard_layout(document: &DeTable<'_>, tool: Option<&DeTable<'_>>) -> bool {
    let backend = table(get(document, "build-system"))
        .and_then(|b| get(b, "build-backend"))
        .and_then(|b| b.get_ref().as_str());
    // No backend named is setuptools' legacy default.
    let known = backend.is_none_or(|b| DISCOVERING_BACKENDS.contains(&b.trim()));
    let placed = PLACING_TABLES.iter().any(|(name, keys)| {
        tool.and_then(|t| table(get(t, name)))
            .is_some_and(|t| keys.iter().any(|key| get(t, key).is_some()))
    });
    known && !placed
}

/// `[tool.setuptools.dynamic] dependencies = {file = "a.txt"}` or `{file = ["a.txt", ...]}`:
/// requirements files, which pyslim reads as it reads any.
fn dependency_files(tool: Option<&DeTable<'_>>) -> Vec<String> {
    let file = tool
        .and_then(|t| table(get(t, "setuptools")))
        .and_then(|t| table(get(t, "dynamic")))
        .and_then(|t| table(get(t, "dependencies")))
        .and_then(|t| get(t, "file"));
    match file.map(|f| f.get_ref()) {
        Some(DeValue::String(one)) => vec![one.to_string()],
        Some(DeValue::Array(many)) => many
            .iter()
            .filter_map(|f| f.get_ref().as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

fn is_dynamic(project: &DeTable<'_>, field: &str) -> bool {
    get(project, "dynamic")
        .and_then(|d| d.get_ref().as_array())
        .is_some_and(|items| items.iter().any(|v| v.get_ref().as_str() == Some(field)))
}

/// What building a project needs (PEP 518 `[build-system] requires`). A project without a
/// pyproject.toml, or without that table, gets pip's legacy default: setuptools and wheel.
/// The app is built without pip's isolation, so pip never asks the backend for its dynamic
/// requirements: for setuptools (which asks for `wheel` before version 70.1) `wheel` is added.
pub fn build_requires(pyproject: Option<&str>) -> Result<Vec<String>, Error> {
    let mut requires = declared_build_requires(pyproject)?;
    let setuptools = requires.iter().any(|r| {
        r.trim_start()
            .to_ascii_lowercase()
            .starts_with("setuptools")
    });
    let has_wheel = requires.iter().any(|r| {
        let name: String = r
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
            .collect();
        name.eq_ignore_ascii_case("wheel")
    });
    if setuptools && !has_wheel {
        requires.push("wheel".into());
    }
    Ok(requires)
}

fn declared_build_requires(pyproject: Option<&str>) -> Result<Vec<String>, Error> {
    let legacy = || vec!["setuptools>=40.8.0".to_string(), "wheel".to_string()];
    let Some(text) = pyproject else {
        return Ok(legacy());
    };
    let document = parse(text)?;
    let Some(system) = table(get(&document, "build-system")) else {
        return Ok(legacy());
    };
    match get(system, "requires") {
        None => Ok(legacy()),
        requires => strings(requires, "[build-system] requires"),
    }
}

#[cfg(test)]
mod tests;
