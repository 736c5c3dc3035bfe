//! A PEP 621 `pyproject.toml`: the dependencies it declares (with the chosen extras), and what
//! building the project needs (PEP 518 `[build-system] requires`).

use std::collections::BTreeSet;

use pyslim_spec::Extra;

/// The dependencies a PEP 621 `pyproject.toml` declares, with those of the chosen extras,
/// as requirement lines.
pub fn dependencies(text: &str, extras: &[&str]) -> Result<Vec<String>, String> {
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
            dependencies(text, &["postgres", "dev"]),
            Ok(vec![
                "flask>=3".to_string(),
                "gunicorn".into(),
                "psycopg2==2.9.9".into(),
                "pytest".into()
            ])
        );
        let missing = dependencies(text, &["docs"]).expect_err("no such extra");
        assert!(missing.contains("it has: dev, postgres"), "{missing}");
        assert!(dependencies("[tool.x]\n", &[]).is_err());
        let dynamic = "[project]\nname='a'\ndynamic = ['dependencies']\n";
        assert!(
            dependencies(dynamic, &[])
                .expect_err("dynamic")
                .contains("dynamic")
        );
        assert!(
            dependencies("[project", &[])
                .expect_err("bad")
                .contains("TOML")
        );
    }
}
