use super::*;

fn spec(text: &str) -> Spec {
    pyslim_spec::load(SourceFile::new("pyslim.yaml", text)).expect("valid spec")
}

fn file(name: &str, text: &str) -> SourceFile {
    let kind = FILES
        .iter()
        .find(|(n, _)| name.ends_with(n))
        .map_or(SourceKind::Text, |(_, kind)| *kind);
    SourceFile::of_kind(kind, name, text)
}

/// What the build chooses for `spec_text` with these project files: the version and what
/// the log says, or the problems as rendered.
fn choose(spec_text: &str, files: &[(&str, &str)]) -> Result<String, String> {
    let spec = spec(spec_text);
    let looked_at: Vec<String> = candidates(&spec).into_iter().map(|(p, _)| p).collect();
    let files: Vec<SourceFile> = looked_at
        .iter()
        .filter_map(|path| {
            files
                .iter()
                .find(|(name, _)| name == path)
                .map(|(name, text)| file(name, text))
        })
        .collect();
    let mut problems = Problems::default();
    match decide(&spec, &looked_at, &files, &mut problems) {
        Some(python) if problems.problems.is_empty() => Ok(python.describe("pyslim.yaml")),
        _ => Err(problems
            .into_diagnostics(SourceFile::new("pyslim.yaml", spec_text), Vec::new())
            .to_string()),
    }
}

const NO_PYTHON: &str = "# syntax=org/pyslim\nrequirements: requirements.txt\napp: .\n";

#[test]
fn the_spec_wins_over_the_project() {
    let files = [
        (".python-version", "3.12\n"),
        ("runtime.txt", "python-3.11.4\n"),
    ];
    let spec = "python: \"3.11.9\"\nrequirements: r.txt\n";
    assert_eq!(
        choose(spec, &files).as_deref(),
        Ok("python 3.11.9, from pyslim.yaml")
    );
}

#[test]
fn the_project_files_in_their_order() {
    let all = [
        (
            "app/.python-version",
            "# pinned by uv\n\n  3.12.4  \n3.11\n",
        ),
        (".python-version", "3.11\n"),
        (
            "app/pyproject.toml",
            "[project]\nname = 'a'\nrequires-python = '>=3.11,<3.13'\n",
        ),
        ("Pipfile", "[requires]\npython_version = \"3.11\"\n"),
        ("runtime.txt", "python-3.11.4\n"),
    ];
    let spec = "requirements: r.txt\napp: app\n";
    assert_eq!(
        choose(spec, &all).as_deref(),
        Ok("python 3.12, from app/.python-version")
    );
    // The app's own files first, then the root's.
    assert_eq!(
        choose(spec, &all[1..]).as_deref(),
        Ok("python 3.11, from .python-version")
    );
    assert_eq!(
        choose(spec, &all[2..]).as_deref(),
        Ok("python 3.12, the newest requires-python `>=3.11,<3.13` in app/pyproject.toml allows")
    );
    assert_eq!(
        choose(spec, &all[3..]).as_deref(),
        Ok("python 3.11, from [requires] in Pipfile")
    );
    assert_eq!(
        choose(spec, &all[4..]).as_deref(),
        Ok("python 3.11, from runtime.txt")
    );
    // A file that says nothing about the Python is passed over.
    let silent = [
        (".python-version", "# nothing yet\n"),
        ("pyproject.toml", "[project]\nname = 'a'\n"),
        ("Pipfile", "[packages]\nflask = '*'\n"),
        ("runtime.txt", "python-3.12.1\n"),
    ];
    assert_eq!(
        choose(NO_PYTHON, &silent).as_deref(),
        Ok("python 3.12, from runtime.txt")
    );
    // pipenv writes both; the full version is the more precise.
    let both = [(
        "Pipfile",
        "[requires]\npython_version = \"3.12\"\npython_full_version = \"3.11.4\"\n",
    )];
    assert_eq!(
        choose(NO_PYTHON, &both).as_deref(),
        Ok("python 3.11, from [requires] in Pipfile")
    );
}

#[test]
fn requires_python_chooses_the_newest_series_it_allows() {
    let newest = |requires: &str| {
        let pyproject = format!("[project]\nname = 'a'\nrequires-python = \"{requires}\"\n");
        choose(NO_PYTHON, &[("pyproject.toml", &pyproject)])
            .map(|said| said.split(',').next().unwrap_or_default().to_string())
    };
    for (requires, chosen) in [
        (">=3.8", "python 3.13"),
        ("~=3.11", "python 3.13"),
        (">=3.11,<3.13", "python 3.12"),
        ("==3.11.*", "python 3.11"),
        (">=3.11.4,<3.12", "python 3.11"),
        (">3.11.4,<3.11.6", "python 3.11"),
        ("<=3.12.0", "python 3.12"),
        ("!=3.13.*,>=3.10", "python 3.12"),
        (">=3.13.0rc1", "python 3.13"),
    ] {
        assert_eq!(newest(requires).as_deref(), Ok(chosen), "{requires}");
    }
    let none = newest(">=3.14").expect_err("no series it allows");
    assert!(
        none.contains(
            "pyproject.toml:3:19: error: requires-python `>=3.14` allows none of 3.13, 3.12, 3.11"
        ),
        "{none}"
    );
    let bad = newest(">=3.x").expect_err("not a specifier");
    assert!(
        bad.contains(
            "pyproject.toml:3:19: error: requires-python `>=3.x` is not a PEP 440 version specifier"
        ),
        "{bad}"
    );
}

#[test]
fn a_version_the_project_does_not_allow_is_an_error_at_its_line() {
    let pyproject = (
        "pyproject.toml",
        "[project]\nname = 'a'\nrequires-python = '>=3.12'\n",
    );
    let spec = "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: r.txt\n";
    let error = choose(spec, &[pyproject]).expect_err("3.11 is not allowed");
    assert!(
        error.contains("pyslim.yaml:2:9: error: python 3.11 is not one the project allows: requires-python is `>=3.12` in pyproject.toml:3"),
        "{error}"
    );
    assert!(error.contains("like `python: \"3.13\"`"), "{error}");
    // A patch release is checked as it is; a series, by any of its releases.
    let pinned = (
        "pyproject.toml",
        "[project]\nrequires-python = '>=3.11.4'\n",
    );
    assert!(choose("python: \"3.11.2\"\nrequirements: r.txt\n", &[pinned]).is_err());
    assert!(choose("python: \"3.11\"\nrequirements: r.txt\n", &[pinned]).is_ok());
    let error = choose(NO_PYTHON, &[(".python-version", "3.11\n"), pyproject])
        .expect_err(".python-version disagrees");
    assert!(
        error.contains(".python-version:1:1: error: `.python-version` says 3.11, which the project does not allow: requires-python is `>=3.12` in pyproject.toml:3"),
        "{error}"
    );
}

#[test]
fn what_is_not_a_version_is_an_error_in_its_file() {
    for (file, text, expected) in [
        (
            ".python-version",
            "\npypy3.10\n",
            ".python-version:2:1: error: `.python-version` names `pypy3.10`, which is not a CPython version",
        ),
        (
            "runtime.txt",
            "python3.11\n",
            "runtime.txt:1:1: error: `runtime.txt` says `python3.11`, not a CPython version like `python-3.13.1`",
        ),
        (
            "Pipfile",
            "[requires]\npython_version = \"2.7\"\n",
            "Pipfile:2:18: error: `Pipfile`'s [requires] names `2.7`",
        ),
        (
            "Pipfile",
            "[requires\n",
            "Pipfile:1:10: error: `Pipfile` is not valid TOML",
        ),
        (
            "pyproject.toml",
            "[project]\nrequires-python = 3.11\n",
            "pyproject.toml:2:19: error: `pyproject.toml` has a requires-python entry that is not a string",
        ),
    ] {
        let error = choose(NO_PYTHON, &[(file, text)]).expect_err(text);
        assert!(error.contains(expected), "{error}");
    }
    // A pyproject.toml that is not TOML is the app reader's to report.
    let broken = [
        ("pyproject.toml", "[project"),
        ("runtime.txt", "python-3.12.1"),
    ];
    assert_eq!(
        choose(NO_PYTHON, &broken).as_deref(),
        Ok("python 3.12, from runtime.txt")
    );
}

#[test]
fn no_python_anywhere_is_an_error_at_the_top_naming_the_files() {
    let error = choose(NO_PYTHON, &[]).expect_err("no python");
    assert!(
        error.starts_with("pyslim.yaml:2:1: error: the spec does not say which python to use, and neither does the project"),
        "{error}"
    );
    assert!(
        error.contains("hint: add `python: \"3.13\"` (it selects python:3.13 and python:3.13-slim); pyslim looked for a version in .python-version, pyproject.toml (requires-python), Pipfile ([requires] python_version) and runtime.txt"),
        "{error}"
    );
    let in_app = choose("requirements: r.txt\napp: src/app\n", &[]).expect_err("no python");
    assert!(
        in_app.contains("in src/app/.python-version, .python-version, src/app/pyproject.toml (requires-python), pyproject.toml (requires-python), src/app/Pipfile"),
        "{in_app}"
    );
}
