use super::*;

#[test]
fn what_a_project_says_about_deploying_it() {
    let project = project(
        "[project]\nname='a'\ndependencies=['flask>=3']\n[build-system]\nrequires=['hatchling']\n",
        ".",
    )
    .expect("valid");
    assert_eq!(
        project,
        Project {
            build_system: true,
            not_a_package: false,
            dependencies: Ok(Some(vec!["flask>=3".into()])),
            local: Vec::new(),
            dynamic_dependencies: false,
            dependency_files: Vec::new(),
            scripts: Some(Vec::new()),
            standard_layout: true,
        }
    );
    let from_files = super::project("[project]\nname='a'\ndynamic=['dependencies']\n[tool.setuptools.dynamic]\ndependencies = {file = ['requirements.in', 'extra.txt']}\n", ".")
    .expect("valid");
    assert!(from_files.dynamic_dependencies);
    assert_eq!(
        from_files.dependency_files,
        ["requirements.in", "extra.txt"]
    );
    let one = super::project(
        "[tool.setuptools.dynamic]\ndependencies = {file = 'requirements.txt'}\n",
        ".",
    )
    .expect("valid");
    assert_eq!(one.dependency_files, ["requirements.txt"]);
    let poetry = super::project(
        "[tool.poetry]\npackage-mode = false\n[build-system]\nrequires=['poetry-core']\n",
        ".",
    )
    .expect("valid");
    assert!(poetry.not_a_package && poetry.build_system);
    assert_eq!(poetry.dependencies, Ok(None));
    let uv = super::project(
        "[project]\nname='a'\ndependencies=[]\n[tool.uv]\npackage = false\n",
        ".",
    )
    .expect("valid");
    assert!(uv.not_a_package && !uv.build_system);
    assert_eq!(uv.dependencies, Ok(Some(Vec::new())));
    let dynamic =
        super::project("[project]\nname='a'\ndynamic=['dependencies']\n", ".").expect("valid");
    assert_eq!(dynamic.dependencies, Ok(None));
    assert!(dynamic.dynamic_dependencies);
    assert!(!poetry.dynamic_dependencies);
    let wrong = super::project("[project]\ndependencies = 'flask'\n", ".").expect("TOML");
    assert!(wrong.dependencies.is_err());
    assert!(super::project("[project", ".").is_err());
}

#[test]
fn poetry_dependencies_stand_in_where_project_has_none() {
    // Poetry 1.x: no [project]; `python` is the project's own, not a dependency.
    let poetry1 = "[tool.poetry]\nname = 'svc'\n[tool.poetry.dependencies]\npython = '^3.8'\nflask = '^3.0.3'\npg = {version = '^2.9', optional = true}\n[tool.poetry.extras]\npostgres = ['pg']\n[tool.poetry.group.dev.dependencies]\npytest = '^8'\n[build-system]\nrequires = ['poetry-core']\n";
    let found = project(poetry1, ".").expect("valid");
    assert_eq!(
        found.dependencies,
        Ok(Some(vec!["flask>=3.0.3,<4.0.0".to_string()]))
    );
    assert!(!found.dynamic_dependencies);
    // `requirements: pyproject.toml` with `extras:` takes poetry's extras.
    assert_eq!(
        dependencies(poetry1, &["postgres"], &[], ".").map(|d| d.requirements),
        Ok(vec!["flask>=3.0.3,<4.0.0".into(), "pg>=2.9,<3.0".into()])
    );
    // Poetry 2 reads its own table when [project] leaves the dependencies dynamic.
    let poetry2 = "[project]\nname = 'svc'\ndynamic = ['dependencies']\n[tool.poetry.dependencies]\nsix = '1.16.0'\n";
    let found = project(poetry2, ".").expect("valid");
    assert_eq!(
        found.dependencies,
        Ok(Some(vec!["six==1.16.0".to_string()]))
    );
    assert!(!found.dynamic_dependencies);
    assert_eq!(
        dependencies(poetry2, &[], &[], ".").map(|d| d.requirements),
        Ok(vec!["six==1.16.0".into()])
    );
    // A static [project] list is the list.
    let both = "[project]\nname = 'svc'\ndependencies = ['click']\n[tool.poetry.dependencies]\nsix = '*'\n";
    assert_eq!(
        project(both, ".").expect("valid").dependencies,
        Ok(Some(vec!["click".to_string()]))
    );
    // Path dependencies are relative to the file's directory.
    let path = "[tool.poetry.dependencies]\ncommon = {path = '../common'}\n";
    let found = project(path, "apps/svc").expect("valid");
    assert_eq!(found.local[0].path, "apps/common");
    assert_eq!(&path[found.local[0].span.clone()], "'../common'");
    // A constraint pip cannot take is an error at its value, with its own hint.
    let bad = "[tool.poetry.dependencies]\nsix = '^1 || ^3'\n";
    let error = project(bad, ".")
        .expect("TOML")
        .dependencies
        .expect_err("refused");
    assert_eq!(error.span.map(|s| &bad[s]), Some("'^1 || ^3'"));
    assert!(
        error
            .problem
            .hint()
            .is_some_and(|h| h.contains("one range"))
    );
}

#[test]
fn the_scripts_it_installs_and_where_its_modules_are() {
    let found = project(
        "[project]\nname = 'a'\n[project.scripts]\nserve = 'a.cli:main'\n[project.gui-scripts]\nview = 'a.gui:main'\n[tool.poetry.scripts]\nlegacy = 'a:main'\n[tool.setuptools]\nscript-files = ['bin/tool.sh']\n[build-system]\nbuild-backend = 'setuptools.build_meta'\n",
        ".",
    )
    .expect("valid");
    assert_eq!(
        found.scripts,
        Some(vec![
            "serve".to_string(),
            "view".into(),
            "legacy".into(),
            "tool.sh".into()
        ])
    );
    assert!(found.standard_layout);
    let dynamic = project("[project]\nname = 'a'\ndynamic = ['scripts']\n", ".");
    assert_eq!(dynamic.expect("valid").scripts, None);
    for placed in [
        "[tool.setuptools]\npackage-dir = {'' = 'lib'}\n",
        "[tool.poetry]\npackages = [{include = 'a', from = 'lib'}]\n",
        "[tool.hatch.build.targets.wheel]\npackages = ['lib/a']\n",
        "[build-system]\nbuild-backend = 'maturin'\n",
    ] {
        assert!(
            !project(placed, ".").expect("valid").standard_layout,
            "{placed}"
        );
    }
    assert!(
        project("[tool.poetry]\nname = 'a'\n", ".")
            .expect("valid")
            .standard_layout
    );
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
    let bad = build_requires(Some("[build-system]\nrequires = 3\n")).expect_err("a number");
    assert_eq!(
        bad.problem,
        Problem::NotAList {
            what: "[build-system] requires"
        }
    );
    // The span is the value's, so the problem shows at its line.
    assert_eq!(bad.span, Some(26..27));
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
        dependencies(text, &["postgres", "dev"], &[], ".").map(|d| d.requirements),
        Ok(vec![
            "flask>=3".to_string(),
            "gunicorn".into(),
            "psycopg2==2.9.9".into(),
            "pytest".into()
        ])
    );
    let missing = dependencies(text, &["docs"], &[], ".").expect_err("no such extra");
    assert!(
        missing.to_string().contains("it has: dev, postgres"),
        "{missing}"
    );
    // At the table that lists the extras there are.
    let at = missing.span.map(|s| &text[s]).unwrap_or_default();
    assert!(at.starts_with("[project.optional-dependencies]"), "{at}");
    assert_eq!(
        dependencies("[tool.x]\n", &[], &[], ".").map_err(|e| e.problem),
        Err(Problem::NoProject)
    );
    let dynamic = "[project]\nname='a'\ndynamic = ['dependencies']\n";
    let error = dependencies(dynamic, &[], &[], ".").expect_err("dynamic");
    assert!(error.to_string().contains("dynamic"), "{error}");
    assert_eq!(error.span.map(|s| &dynamic[s]), Some("'dependencies'"));
    let bad = dependencies("[project", &[], &[], ".").expect_err("bad");
    assert!(bad.to_string().contains("TOML"), "{bad}");
    assert!(bad.span.is_some());
}
