//! What the dependency step must see of the build context, read from the files themselves:
//! the files a requirements file pulls in (`-r`, `-c`), the local paths and wheel directories
//! it names, and the dependency list of a PEP 621 `pyproject.toml`.

use std::collections::BTreeSet;

use pyslim_spec::Extra;

/// A context path a requirements file refers to, and the line that does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub path: String,
    pub kind: Kind,
    pub line: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `-r FILE`: another requirements file, read in turn.
    Requirements,
    /// `-c FILE`: a constraints file, read in turn (it can include more).
    Constraints,
    /// A local project or archive (`./libs/x`, `-e ./libs/x`) or a `--find-links` directory.
    Path,
}

/// A reference that cannot be followed, with the line that makes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: u32,
    pub message: String,
}

/// The context paths `file` (a context path itself) refers to, resolved like pip does:
/// relative to the directory of the file that names them.
pub fn references(file: &str, text: &str) -> (Vec<Reference>, Vec<Problem>) {
    let dir = match file.rsplit_once('/') {
        Some((dir, _)) => dir,
        None => "",
    };
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for (line, content) in logical_lines(text) {
        let words: Vec<&str> = content.split_whitespace().collect();
        let Some((kind, target)) = reference(&words) else {
            continue;
        };
        if is_url(target) {
            continue;
        }
        match join(dir, target) {
            Ok(path) => found.push(Reference { path, kind, line }),
            Err(why) => problems.push(Problem {
                line,
                message: format!("`{target}` {why}"),
            }),
        }
    }
    (found, problems)
}

/// The option or requirement on one logical line that names a file, if any.
fn reference<'a>(words: &[&'a str]) -> Option<(Kind, &'a str)> {
    let first = *words.first()?;
    let option = |names: &[&str]| -> Option<&'a str> {
        for name in names {
            if first == *name {
                return words.get(1).copied();
            }
            if let Some(value) = first.strip_prefix(name) {
                let value = value.strip_prefix('=').unwrap_or(value);
                // `-rfile` is allowed for short options; long ones need `=`.
                if !value.is_empty() && (name.len() == 2 || first.as_bytes()[name.len()] == b'=') {
                    return Some(value);
                }
            }
        }
        None
    };
    if let Some(file) = option(&["--requirement", "-r"]) {
        return Some((Kind::Requirements, file));
    }
    if let Some(file) = option(&["--constraint", "-c"]) {
        return Some((Kind::Constraints, file));
    }
    if let Some(dir) = option(&["--find-links", "-f"]) {
        return Some((Kind::Path, dir));
    }
    if let Some(path) = option(&["--editable", "-e"]) {
        return is_local(path).then_some((Kind::Path, path));
    }
    let requirement = first.split(';').next().unwrap_or(first);
    let path = requirement.split('[').next().unwrap_or(requirement);
    is_local(path).then_some((Kind::Path, path))
}

/// pip's rule: a requirement is a path when it looks like one (starts like a path or names an
/// archive), not when it is a name like `flask>=3`.
fn is_local(text: &str) -> bool {
    text.starts_with('.')
        || text.starts_with('/')
        || text.starts_with("file:")
        || [".whl", ".tar.gz", ".zip", ".tar.bz2"]
            .iter()
            .any(|ext| text.ends_with(ext) && !text.contains("://"))
}

fn is_url(text: &str) -> bool {
    text.contains("://") && !text.starts_with("file:")
}

fn join(dir: &str, target: &str) -> Result<String, &'static str> {
    let target = target.strip_prefix("file:").unwrap_or(target);
    if target.starts_with('/') {
        return Err("is an absolute path: the build sees only the build context");
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("is outside the build context");
                }
            }
            part => parts.push(part),
        }
    }
    if parts.is_empty() {
        Ok(".".into())
    } else {
        Ok(parts.join("/"))
    }
}

/// Lines as pip reads them: `\` continues a line, `#` after whitespace starts a comment.
fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (n, raw) in text.lines().enumerate() {
        let number = u32::try_from(n + 1).unwrap_or(u32::MAX);
        if current.is_empty() {
            start = number;
        }
        let code = strip_comment(raw);
        match code.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(code);
                if !current.trim().is_empty() {
                    lines.push((start, std::mem::take(&mut current)));
                }
                current.clear();
            }
        }
    }
    if !current.trim().is_empty() {
        lines.push((start, current));
    }
    lines
}

fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    match line.find(" #").or_else(|| line.find("\t#")) {
        Some(at) => &line[..at],
        None => line,
    }
}

/// The dependencies a PEP 621 `pyproject.toml` declares, with those of the chosen extras,
/// as requirement lines.
pub fn pyproject_dependencies(text: &str, extras: &[&str]) -> Result<Vec<String>, String> {
    let document: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| format!("is not valid TOML: {}", e.message()))?;
    let project = document
        .get("project")
        .and_then(toml::Value::as_table)
        .ok_or("has no [project] table; pyslim reads the dependencies of PEP 621 metadata")?;
    let dynamic = project
        .get("dynamic")
        .and_then(toml::Value::as_array)
        .is_some_and(|d| d.iter().any(|v| v.as_str() == Some("dependencies")));
    if dynamic {
        return Err("declares its dependencies as dynamic, so they are only known by building it; list them in a requirements file".into());
    }
    let strings = |value: Option<&toml::Value>, what: &str| -> Result<Vec<String>, String> {
        match value {
            None => Ok(Vec::new()),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(String::from)
                        .ok_or_else(|| format!("has a {what} entry that is not a string"))
                })
                .collect(),
            Some(_) => Err(format!("has {what} that is not a list of strings")),
        }
    };
    let mut requirements = strings(project.get("dependencies"), "[project] dependencies")?;
    let optional = project
        .get("optional-dependencies")
        .and_then(toml::Value::as_table);
    let available: BTreeSet<String> = optional
        .map(|table| {
            table
                .keys()
                .map(|k| Extra::normalised(k).to_string())
                .collect()
        })
        .unwrap_or_default();
    for extra in extras {
        let Some((_, group)) = optional
            .into_iter()
            .flatten()
            .find(|(name, _)| Extra::normalised(name).as_str() == *extra)
        else {
            let known: Vec<_> = available.iter().map(String::as_str).collect();
            return Err(if known.is_empty() {
                format!("has no extra `{extra}`: it declares no [project.optional-dependencies]")
            } else {
                format!("has no extra `{extra}`; it has: {}", known.join(", "))
            });
        };
        for requirement in strings(Some(group), "optional-dependencies")? {
            if !requirements.contains(&requirement) {
                requirements.push(requirement);
            }
        }
    }
    Ok(requirements)
}

/// What building a project needs (PEP 518 `[build-system] requires`). A project without a
/// pyproject.toml, or without that table, gets pip's legacy default: setuptools and wheel.
/// The app is built without pip's isolation, so pip never asks the backend for its dynamic
/// requirements: for setuptools (which asks for `wheel` before version 70.1) `wheel` is added.
pub fn build_requires(pyproject: Option<&str>) -> Result<Vec<String>, String> {
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

fn declared_build_requires(pyproject: Option<&str>) -> Result<Vec<String>, String> {
    let legacy = || vec!["setuptools>=40.8.0".to_string(), "wheel".to_string()];
    let Some(text) = pyproject else {
        return Ok(legacy());
    };
    let document: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| format!("is not valid TOML: {}", e.message()))?;
    let Some(system) = document.get("build-system").and_then(toml::Value::as_table) else {
        return Ok(legacy());
    };
    match system.get("requires") {
        None => Ok(legacy()),
        Some(toml::Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str().map(String::from).ok_or_else(|| {
                    "has a [build-system] requires entry that is not a string".to_string()
                })
            })
            .collect(),
        Some(_) => Err("has a [build-system] requires that is not a list of strings".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(file: &str, text: &str) -> Vec<(String, Kind, u32)> {
        let (found, problems) = references(file, text);
        assert!(problems.is_empty(), "{problems:?}");
        found
            .into_iter()
            .map(|r| (r.path, r.kind, r.line))
            .collect()
    }

    #[test]
    fn finds_includes_relative_to_the_including_file() {
        let text = "flask==3.0.3 --hash=sha256:ab \\\n    --hash=sha256:cd\n-r base.txt\n--requirement=../common/more.txt\n-c constraints.txt  # pins\n# -r commented.txt\n-e ./libs/tool\n./vendor/pkg-1.0.tar.gz ; python_version>'3'\n--find-links wheels\nhttps://example.com/x.whl\n-rshort.txt\n";
        assert_eq!(
            paths("reqs/prod.txt", text),
            [
                ("reqs/base.txt".to_string(), Kind::Requirements, 3),
                ("common/more.txt".to_string(), Kind::Requirements, 4),
                ("reqs/constraints.txt".to_string(), Kind::Constraints, 5),
                ("reqs/libs/tool".to_string(), Kind::Path, 7),
                ("reqs/vendor/pkg-1.0.tar.gz".to_string(), Kind::Path, 8),
                ("reqs/wheels".to_string(), Kind::Path, 9),
                ("reqs/short.txt".to_string(), Kind::Requirements, 11),
            ]
        );
    }

    #[test]
    fn refuses_paths_outside_the_context() {
        let (_, problems) = references("requirements.txt", "-r ../secret.txt\n-r /etc/x.txt\n");
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].line, 1);
        assert!(problems[0].message.contains("outside the build context"));
        assert!(problems[1].message.contains("absolute"));
    }

    #[test]
    fn build_requirements_default_to_setuptools() {
        assert_eq!(
            build_requires(Some("[build-system]\nrequires = [\"hatchling>=1.20\"]\n")),
            Ok(vec!["hatchling>=1.20".to_string()])
        );
        let legacy = build_requires(None).expect("legacy");
        assert_eq!(legacy[0], "setuptools>=40.8.0");
        assert_eq!(build_requires(Some("[project]\nname='a'\n")), Ok(legacy));
        assert_eq!(
            build_requires(Some("[build-system]\nrequires = [\"setuptools>=61\"]\n")),
            Ok(vec!["setuptools>=61".to_string(), "wheel".to_string()])
        );
        assert!(build_requires(Some("[build-system]\nrequires = 3\n")).is_err());
    }

    #[test]
    fn pyproject_dependencies_with_extras() {
        let text = r#"
[project]
name = "app"
dependencies = ["flask>=3", "gunicorn"]
[project.optional-dependencies]
Postgres = ["psycopg2==2.9.9"]
dev = ["pytest", "flask>=3"]
"#;
        assert_eq!(
            pyproject_dependencies(text, &["postgres", "dev"]),
            Ok(vec![
                "flask>=3".to_string(),
                "gunicorn".into(),
                "psycopg2==2.9.9".into(),
                "pytest".into()
            ])
        );
        let missing = pyproject_dependencies(text, &["docs"]).expect_err("no such extra");
        assert!(missing.contains("it has: dev, postgres"), "{missing}");
        assert!(pyproject_dependencies("[tool.x]\n", &[]).is_err());
        let dynamic = "[project]\nname='a'\ndynamic = ['dependencies']\n";
        assert!(
            pyproject_dependencies(dynamic, &[])
                .expect_err("dynamic")
                .contains("dynamic")
        );
        assert!(
            pyproject_dependencies("[project", &[])
                .expect_err("bad")
                .contains("TOML")
        );
    }
}
