//! Poetry's own dependency table, `[tool.poetry.dependencies]` (poetry 1.x, and poetry 2
//! projects whose `[project]` leaves the dependencies dynamic), as PEP 508 requirement lines:
//! the lines pip resolves are then the ones poetry-core writes into the app's wheel, and a poetry
//! project needs no requirements file beside it.
//!
//! Poetry's constraints say more than PEP 440 can (`^1.2`, `~1.2.3`, `^1 || ^2`). Each is
//! translated to the specifiers that allow the versions poetry-core allows; an `||` of ranges
//! that do not meet has no such specifiers (a requirement is one range), so it is an error at
//! its value rather than a guess at which range was meant. Dependency groups
//! (`[tool.poetry.group.NAME.dependencies]`, the old `dev-dependencies`) are never read: they
//! are the developer's tools, not the app's.

use std::collections::BTreeSet;
use std::ops::Range;
use std::str::FromStr;

use pep508_rs::{Requirement, VerbatimUrl};
use pyslim_spec::Extra;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::pyproject::{Error, Problem, get, table};
use super::requirements::project;
use crate::plan::layout::CONTEXT;
use crate::poetry_constraint::{Constraint, platform_marker};

/// A local project a requirement names (`{path = "../lib"}`): the dependency step must see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Local {
    /// Its path in the build context.
    pub path: String,
    /// The bytes of the pyproject.toml that name it.
    pub span: Range<usize>,
}

/// Requirement lines, and the local projects among them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Declared {
    pub requirements: Vec<String>,
    pub local: Vec<Local>,
}

const CONSTRAINT_HINT: &str = "write a poetry constraint (`^1.2`, `~1.2.3`, `>=1.2,<2`, `1.2.*`, `1.2.3`, `*`); pyslim translates it to a pip requirement";
/// pip has no `or` of versions, and pyslim does not pick one of the ranges for the user.
const EITHER_HINT: &str = "a pip requirement allows one range of versions: narrow the constraint to the range the app is tested with (e.g. `^3.0` of `^1.0 || ^3.0`), or to ranges that meet";

const KEYS: &[&str] = &[
    "version",
    "extras",
    "markers",
    "python",
    "platform",
    "optional",
    "git",
    "branch",
    "tag",
    "rev",
    "subdirectory",
    "url",
    "path",
    "file",
    // What only poetry's own installer acts on: editable installs, its named sources (the
    // spec's `index:` says where packages come from), pre-release resolution.
    "develop",
    "source",
    "allow-prereleases",
    "allows-prereleases",
];

fn problem(message: String, hint: impl Into<String>, span: Option<Range<usize>>) -> Error {
    Error {
        problem: Problem::Poetry {
            message,
            hint: hint.into(),
        },
        span,
    }
}

/// `[tool.poetry.dependencies]` of the `[tool.poetry]` table `poetry`, if it has one, as
/// requirement lines: `python` is the project's own Python and no dependency; an optional one
/// only with an extra of `[tool.poetry.extras]` that lists it. `dir` is the pyproject.toml's
/// directory in the build context, which path dependencies are relative to.
pub fn dependencies(
    poetry: &DeTable<'_>,
    extras: &[&str],
    dir: &str,
) -> Option<Result<Declared, Error>> {
    let declared = get(poetry, "dependencies")?;
    Some(read(poetry, declared, extras, dir))
}

fn read(
    poetry: &DeTable<'_>,
    declared: &Spanned<DeValue<'_>>,
    extras: &[&str],
    dir: &str,
) -> Result<Declared, Error> {
    let Some(dependencies) = declared.get_ref().as_table() else {
        return Err(problem(
            "has a [tool.poetry.dependencies] that is not a table".into(),
            "write `[tool.poetry.dependencies]` with one `name = \"constraint\"` a line",
            Some(declared.span()),
        ));
    };
    let chosen = chosen_optional(poetry, extras)?;
    let mut found = Declared::default();
    for (name, value) in dependencies {
        let name = name.get_ref().as_ref();
        if name.eq_ignore_ascii_case("python") {
            continue;
        }
        let wanted = |optional: bool| !optional || chosen.contains(&project(name));
        match value.get_ref() {
            DeValue::Array(alternatives) => {
                // Poetry's "multiple constraints": one line each, told apart by their markers.
                for alternative in alternatives {
                    entry(name, alternative, dir, &wanted, &mut found)?;
                }
            }
            _ => entry(name, value, dir, &wanted, &mut found)?,
        }
    }
    Ok(found)
}

/// The normalised names of the optional dependencies the chosen extras bring.
fn chosen_optional(poetry: &DeTable<'_>, extras: &[&str]) -> Result<BTreeSet<String>, Error> {
    let declared = get(poetry, "extras");
    let groups = table(declared);
    let mut chosen = BTreeSet::new();
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
            return Err(Error {
                problem: Problem::NoSuchExtra {
                    extra: extra.to_string(),
                    known: known.into_iter().collect(),
                },
                span: declared.map(Spanned::span),
            });
        };
        let names = group.get_ref().as_array().ok_or_else(|| Error {
            problem: Problem::NotAList {
                what: "[tool.poetry.extras] group",
            },
            span: Some(group.span()),
        })?;
        for name in names {
            let text = name.get_ref().as_str().ok_or_else(|| Error {
                problem: Problem::NotAString {
                    what: "[tool.poetry.extras]",
                },
                span: Some(name.span()),
            })?;
            chosen.insert(project(text));
        }
    }
    Ok(chosen)
}

/// One dependency (or one alternative of a list of them) as a requirement line.
fn entry(
    name: &str,
    value: &Spanned<DeValue<'_>>,
    dir: &str,
    wanted: &dyn Fn(bool) -> bool,
    found: &mut Declared,
) -> Result<(), Error> {
    let span = value.span();
    let fields = match value.get_ref() {
        DeValue::String(constraint) => Fields {
            version: Some((constraint.as_ref(), span.clone())),
            ..Fields::default()
        },
        DeValue::Table(fields) => Fields::read(name, fields)?,
        _ => {
            return Err(problem(
                format!(
                    "has a dependency `{name}` that is neither a version constraint nor a table"
                ),
                "write `name = \"^1.2\"` or `name = {version = \"^1.2\", extras = [...]}`",
                Some(span),
            ));
        }
    };
    if !wanted(fields.optional) {
        return Ok(());
    }
    let mut line = name.to_string();
    if !fields.extras.is_empty() {
        line.push_str(&format!("[{}]", fields.extras.join(",")));
    }
    if let Some((url, at)) = fields.git {
        let url = git_url(url).ok_or_else(|| {
            problem(
                format!("has a git dependency `{name}` whose `git` is not a URL pip can clone"),
                "write an https:// or ssh:// URL, or `git@host:owner/repo.git`",
                Some(at),
            )
        })?;
        line.push_str(&format!(" @ {url}"));
        if let Some(reference) = fields.reference {
            line.push_str(&format!("@{reference}"));
        }
        if let Some(subdirectory) = fields.subdirectory {
            line.push_str(&format!("#subdirectory={subdirectory}"));
        }
    } else if let Some((url, _)) = fields.url {
        line.push_str(&format!(" @ {url}"));
        if let Some(subdirectory) = fields.subdirectory {
            line.push_str(&format!("#subdirectory={subdirectory}"));
        }
    } else if let Some((path, at)) = fields.path {
        let Some(inside) = in_context(dir, path) else {
            return Err(problem(
                format!("has a path dependency `{name}` outside the build context: `{path}`"),
                "a path dependency must lie in the build context (paths are relative to the pyproject.toml); move the project in, or publish it and depend on it by version",
                Some(at),
            ));
        };
        let url = if inside == "." {
            CONTEXT.to_string()
        } else {
            format!("{CONTEXT}/{}", percent_encoded(&inside))
        };
        line.push_str(&format!(" @ file://{url}"));
        found.local.push(Local {
            path: inside,
            span: at,
        });
    } else if let Some((constraint, at)) = fields.version {
        let specifiers = constraint
            .parse::<Constraint>()
            .and_then(|c| c.specifiers())
            .map_err(|why| {
                let hint = if constraint.contains('|') {
                    EITHER_HINT
                } else {
                    CONSTRAINT_HINT
                };
                problem(
                    format!("has a version constraint `{constraint}` for `{name}` that {why}"),
                    hint,
                    Some(at),
                )
            })?;
        line.push_str(&specifiers);
    }
    let mut markers = Vec::new();
    if let Some((constraint, at)) = fields.python {
        let python = constraint.parse::<Constraint>().map_err(|why| {
            problem(
                format!("has a `python` constraint `{constraint}` for `{name}` that {why}"),
                CONSTRAINT_HINT,
                Some(at),
            )
        })?;
        markers.extend(python.python_marker());
    }
    markers.extend(fields.platform.and_then(platform_marker));
    markers.extend(fields.markers.map(str::to_string));
    if !markers.is_empty() {
        let joined = if markers.len() == 1 {
            markers.remove(0)
        } else {
            markers
                .iter()
                .map(|m| format!("({m})"))
                .collect::<Vec<_>>()
                .join(" and ")
        };
        line.push_str(&format!(" ; {joined}"));
    }
    // What pip will be given is checked here, so a mistake shows at its value in
    // pyproject.toml, not as pip's complaint about a generated file.
    if let Err(error) = Requirement::<VerbatimUrl>::from_str(&line) {
        return Err(problem(
            format!(
                "has a dependency `{name}` that makes no valid requirement (`{line}`): {}",
                error.message
            ),
            "check the dependency's name, extras, markers and URL",
            Some(span),
        ));
    }
    found.requirements.push(line);
    Ok(())
}

/// What a dependency table says, each value kept with its span where a problem may point.
#[derive(Default)]
struct Fields<'t> {
    version: Option<(&'t str, Range<usize>)>,
    extras: Vec<String>,
    markers: Option<&'t str>,
    python: Option<(&'t str, Range<usize>)>,
    platform: Option<&'t str>,
    optional: bool,
    git: Option<(&'t str, Range<usize>)>,
    reference: Option<&'t str>,
    subdirectory: Option<&'t str>,
    url: Option<(&'t str, Range<usize>)>,
    path: Option<(&'t str, Range<usize>)>,
}

impl<'t> Fields<'t> {
    fn read(name: &str, table: &'t DeTable<'_>) -> Result<Fields<'t>, Error> {
        for (key, value) in table {
            let key = key.get_ref().as_ref();
            if !KEYS.contains(&key) {
                return Err(problem(
                    format!(
                        "has a key `{key}` in the dependency `{name}` that pyslim does not know"
                    ),
                    format!("a poetry dependency table may have: {}", KEYS.join(", ")),
                    Some(value.span()),
                ));
            }
        }
        let text = |key: &str| -> Result<Option<(&'t str, Range<usize>)>, Error> {
            match get(table, key) {
                None => Ok(None),
                Some(value) => match value.get_ref().as_str() {
                    Some(text) => Ok(Some((text, value.span()))),
                    None => Err(problem(
                        format!("has a `{key}` in the dependency `{name}` that is not a string"),
                        format!("write `{key} = \"...\"`"),
                        Some(value.span()),
                    )),
                },
            }
        };
        let optional = match get(table, "optional") {
            None => false,
            Some(value) => value.get_ref().as_bool().ok_or_else(|| {
                problem(
                    format!(
                        "has an `optional` in the dependency `{name}` that is not true or false"
                    ),
                    "write `optional = true`",
                    Some(value.span()),
                )
            })?,
        };
        let extras = match get(table, "extras") {
            None => Vec::new(),
            Some(value) => {
                let not_a_list = || {
                    problem(
                        format!(
                            "has `extras` in the dependency `{name}` that are not a list of names"
                        ),
                        "write `extras = [\"name\", ...]`",
                        Some(value.span()),
                    )
                };
                let items = value.get_ref().as_array().ok_or_else(not_a_list)?;
                items
                    .iter()
                    .map(|e| {
                        e.get_ref()
                            .as_str()
                            .map(String::from)
                            .ok_or_else(not_a_list)
                    })
                    .collect::<Result<_, _>>()?
            }
        };
        let reference = ["branch", "tag", "rev"]
            .into_iter()
            .map(&text)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .next()
            .map(|(r, _)| r);
        Ok(Fields {
            version: text("version")?,
            extras,
            markers: text("markers")?.map(|(m, _)| m),
            python: text("python")?,
            platform: text("platform")?.map(|(p, _)| p),
            optional,
            git: text("git")?,
            reference,
            subdirectory: text("subdirectory")?.map(|(s, _)| s),
            url: text("url")?,
            path: text("path")?.or(text("file")?),
        })
    }
}

/// A `git` value as pip's VCS URL: `https://…` as `git+https://…`, and the scp-like
/// `git@host:owner/repo.git` (which git reads, and pip does not) as `git+ssh://git@host/owner/repo.git`.
fn git_url(url: &str) -> Option<String> {
    if url.starts_with("git+") {
        return Some(url.to_string());
    }
    if url.contains("://") {
        return Some(format!("git+{url}"));
    }
    let (host, path) = url.split_once(':')?;
    (!host.is_empty() && !host.contains('/') && !path.is_empty())
        .then(|| format!("git+ssh://{host}/{}", path.trim_start_matches('/')))
}

/// `path`, relative to the directory `dir` of the build context, as a path of the build
/// context; `None` when it is absolute or leads out of it.
fn in_context(dir: &str, path: &str) -> Option<String> {
    if path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in dir.split('/').chain(path.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    })
}

/// A path as it may stand in a `file://` URL.
fn percent_encoded(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translate(text: &str, extras: &[&str]) -> Result<Declared, Error> {
        let document = DeTable::parse(text).expect("TOML").into_inner();
        let tool = table(get(&document, "tool")).expect("[tool]");
        let poetry = table(get(tool, "poetry")).expect("[tool.poetry]");
        dependencies(poetry, extras, "svc").expect("a dependency table")
    }

    #[test]
    fn dependency_tables_become_requirement_lines() {
        let text = r#"
[tool.poetry]
name = "svc"
[tool.poetry.dependencies]
python = "^3.8"
flask = "^3.0.3"
requests = { version = "~2.32", extras = ["socks", "security"] }
tomli = { version = ">=2.0,<3", python = "<3.11" }
uvloop = { version = "*", markers = "sys_platform != 'win32'", python = "^3.8" }
pywin32 = { version = "306", platform = "win32" }
lib = { git = "https://github.com/org/lib.git", tag = "v1.2" }
private = { git = "git@github.com:org/private.git", branch = "main", subdirectory = "py" }
wheel-file = { url = "https://example.com/w-1.0-py3-none-any.whl" }
common = { path = "../libs/common", develop = true }
numpy = [
    { version = "<1.25", python = "<3.9" },
    { version = "^1.25", python = ">=3.9" },
]
pendulum = { version = "^3.0", optional = true }
psycopg2 = { version = "^2.9", optional = true }
[tool.poetry.extras]
Postgres = ["psycopg2"]
[tool.poetry.group.dev.dependencies]
pytest = "^8"
[tool.poetry.dev-dependencies]
black = "*"
"#;
        let declared = translate(text, &[]).expect("translated");
        let mut lines = declared.requirements.clone();
        lines.sort();
        assert_eq!(
            lines,
            [
                "common @ file:///pyslim-context/libs/common",
                "flask>=3.0.3,<4.0.0",
                "lib @ git+https://github.com/org/lib.git@v1.2",
                r#"numpy<1.25 ; python_version < "3.9""#,
                r#"numpy>=1.25,<2.0 ; python_version >= "3.9""#,
                "private @ git+ssh://git@github.com/org/private.git@main#subdirectory=py",
                r#"pywin32==306 ; sys_platform == "win32""#,
                "requests[socks,security]>=2.32,<2.33",
                r#"tomli>=2.0,<3 ; python_version < "3.11""#,
                r#"uvloop ; (python_version >= "3.8" and python_version < "4.0") and (sys_platform != 'win32')"#,
                "wheel-file @ https://example.com/w-1.0-py3-none-any.whl",
            ]
        );
        assert_eq!(
            declared.local,
            [Local {
                path: "libs/common".into(),
                span: text
                    .find("\"../libs/common\"")
                    .map(|s| s..s + 16)
                    .expect("path"),
            }]
        );
        // An extra brings the optional dependencies it lists, and only those.
        let with = translate(text, &["postgres"]).expect("translated");
        assert!(
            with.requirements
                .contains(&"psycopg2>=2.9,<3.0".to_string())
        );
        assert!(!with.requirements.iter().any(|r| r.starts_with("pendulum")));
        let missing = translate(text, &["docs"]).expect_err("no such extra");
        assert!(
            missing.to_string().contains("it has: postgres"),
            "{missing}"
        );
    }

    #[test]
    fn mistakes_are_errors_at_their_values() {
        for (value, at, says) in [
            ("\"^1 || ^3\"", "\"^1 || ^3\"", "separate ranges"),
            ("{ version = \"^x\" }", "\"^x\"", "not a version"),
            ("{ versoin = \"^1\" }", "\"^1\"", "`versoin`"),
            (
                "{ path = \"../../../elsewhere\" }",
                "\"../../../elsewhere\"",
                "outside the build context",
            ),
            (
                "{ path = \"/abs\" }",
                "\"/abs\"",
                "outside the build context",
            ),
            (
                "{ version = \"^1\", python = \"^x\" }",
                "\"^x\"",
                "`python` constraint",
            ),
            (
                "{ version = \"^1\", markers = \"os_name ==\" }",
                "{ version",
                "no valid requirement",
            ),
            ("{ git = \"not a url\" }", "\"not a url\"", "not a URL"),
            ("3", "3", "neither"),
            (
                "{ version = \"^1\", optional = \"yes\" }",
                "\"yes\"",
                "`optional`",
            ),
        ] {
            let text = format!("[tool.poetry.dependencies]\npkg = {value}\n");
            let error = translate(&text, &[]).expect_err(value);
            assert!(error.to_string().contains(says), "{value}: {error}");
            let span = error.span.clone().expect("located");
            assert!(text[span].starts_with(at), "{value}: at {:?}", error.span);
        }
    }
}
