//! The Python a build is for when the spec leaves it to the project: what the build says it
//! chose and where, through the real frontend loop; and every way the choice can fail, each
//! snapshotted as the user sees it (`tests/python/`).

mod support;

use std::collections::HashMap;

/// A spec without `python:`, with a package app, so every file kind is looked for in `app`
/// first and then at the root.
const NO_PYTHON: &str = "# syntax=org/pyslim\nrequirements: requirements.txt\napp: app\n";

/// The project every case starts from: a package, whose pyproject.toml says nothing about
/// the Python.
const PROJECT: &[(&str, &str)] = &[
    ("requirements.txt", "flask==3.0.3\n"),
    (
        "app/pyproject.toml",
        "[project]\nname = \"app\"\nversion = \"1\"\n[build-system]\nbuild-backend = \"setuptools.build_meta\"\n",
    ),
];

/// The project with `files` added (or replacing its own).
fn project<'a>(files: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a [u8])> {
    let mut all: Vec<(&str, &[u8])> = PROJECT
        .iter()
        .filter(|(name, _)| !files.iter().any(|(n, _)| n == name))
        .map(|(name, text)| (*name, text.as_bytes()))
        .collect();
    all.extend(files.iter().map(|(name, text)| (*name, text.as_bytes())));
    all
}

/// The log lines of the base images the build resolved.
fn resolved(recorded: &support::Recorded) -> Vec<String> {
    recorded
        .resolved
        .iter()
        .map(|r| r.log_name.clone())
        .collect()
}

fn answer_text(answer: &HashMap<String, Vec<u8>>, key: &str) -> String {
    String::from_utf8_lossy(&answer[key]).into_owned()
}

#[tokio::test]
async fn the_build_log_says_which_python_and_where_it_came_from() {
    let context = project(&[("app/.python-version", "3.13.1\n")]);
    let options = [("filename", "pyslim.yaml"), ("platform", "linux/amd64")];
    let (result, recorded) = support::build(NO_PYTHON, &context, &options).await;
    result.expect("builds");
    assert_eq!(
        resolved(&recorded),
        [
            "[internal] load metadata for docker.io/library/python:3.13 (python 3.13, from app/.python-version)",
            "[internal] load metadata for docker.io/library/python:3.13-slim (python 3.13, from app/.python-version)",
        ]
    );
    let graph = pyslim_frontend::llb::render(recorded.graph());
    assert!(
        graph.contains("source docker-image://docker.io/library/python:3.13-slim "),
        "{graph}"
    );
    assert_eq!(
        recorded.config()["config"]["Labels"]["org.opencontainers.image.base.name"],
        "docker.io/library/python:3.13-slim"
    );

    // A spec's own `python:` is named as such; a `base:` it writes is its own choice.
    let spec = "python: \"3.11\"\nrequirements: requirements.txt\nbase: {runtime: \"registry.example/py:slim\"}\n";
    let (result, recorded) = support::build(spec, &context, &options).await;
    result.expect("builds");
    assert_eq!(
        resolved(&recorded),
        [
            "[internal] load metadata for docker.io/library/python:3.11 (python 3.11, from pyslim.yaml)",
            "[internal] load metadata for registry.example/py:slim",
        ]
    );
}

#[tokio::test]
async fn outline_targets_and_check_say_which_python() {
    let context = project(&[(
        "app/pyproject.toml",
        "[project]\nname = \"app\"\nversion = \"1\"\nrequires-python = \">=3.10,<3.13\"\n[build-system]\nbuild-backend = \"setuptools.build_meta\"\n",
    )]);
    let said =
        "python 3.12, the newest requires-python `>=3.10,<3.13` in app/pyproject.toml allows";
    let ask = async |request: &str| {
        let options = [("filename", "pyslim.yaml"), ("requestid", request)];
        let (result, recorded) = support::build(NO_PYTHON, &context, &options).await;
        result.unwrap_or_else(|e| panic!("{request}: {e}"));
        recorded.answer().clone()
    };
    let outline = ask("frontend.outline").await;
    let json: serde_json::Value =
        serde_json::from_slice(&outline["result.json"]).expect("outline JSON");
    let description = json["description"].as_str().unwrap_or_default();
    assert!(
        description.contains(&format!(
            "\n{said}; base images python:3.12 (compile) and python:3.12-slim (runtime)\n"
        )),
        "{description}"
    );
    let targets = ask("frontend.targets").await;
    let json: serde_json::Value =
        serde_json::from_slice(&targets["result.json"]).expect("targets JSON");
    assert_eq!(json["targets"][0]["base"], "python:3.12-slim");
    let check = ask("frontend.lint").await;
    let text = answer_text(&check, "result.txt");
    assert!(
        text.starts_with(&format!("Checked for {said}.\n")),
        "{text}"
    );
}

/// A case of a choice that cannot be made: the spec and the project's files.
struct Case {
    name: &'static str,
    spec: &'static str,
    files: &'static [(&'static str, &'static str)],
}

const CASES: &[Case] = &[
    Case {
        name: "no_python_anywhere",
        spec: NO_PYTHON,
        files: &[],
    },
    Case {
        name: "spec_python_outside_requires_python",
        spec: "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\napp: app\n",
        files: &[(
            "app/pyproject.toml",
            "[project]\nname = \"app\"\nversion = \"1\"\nrequires-python = \">=3.12\"\n[build-system]\nbuild-backend = \"setuptools.build_meta\"\n",
        )],
    },
    Case {
        name: "python_version_file_outside_requires_python",
        spec: NO_PYTHON,
        files: &[
            (".python-version", "3.11\n"),
            (
                "app/pyproject.toml",
                "[project]\nname = \"app\"\nversion = \"1\"\nrequires-python = \">=3.12\"\n[build-system]\nbuild-backend = \"setuptools.build_meta\"\n",
            ),
        ],
    },
    Case {
        name: "python_version_file_not_cpython",
        spec: NO_PYTHON,
        files: &[("app/.python-version", "# pyenv\npypy3.10\n")],
    },
    Case {
        name: "requires_python_allows_none",
        spec: NO_PYTHON,
        files: &[(
            "app/pyproject.toml",
            "[project]\nname = \"app\"\nversion = \"1\"\nrequires-python = \">=3.14\"\n[build-system]\nbuild-backend = \"setuptools.build_meta\"\n",
        )],
    },
    Case {
        name: "requires_python_not_a_specifier",
        spec: NO_PYTHON,
        files: &[(
            "app/pyproject.toml",
            "[project]\nname = \"app\"\nversion = \"1\"\nrequires-python = \"3.11+\"\n[build-system]\nbuild-backend = \"setuptools.build_meta\"\n",
        )],
    },
    Case {
        name: "pipfile_not_a_version",
        spec: NO_PYTHON,
        files: &[(
            "Pipfile",
            "[packages]\nflask = \"*\"\n\n[requires]\npython_version = \"3\"\n",
        )],
    },
    Case {
        name: "runtime_txt_not_a_version",
        spec: NO_PYTHON,
        files: &[("runtime.txt", "3.11.4\n")],
    },
    Case {
        // The misspelling and the missing Python, in one round.
        name: "misspelt_python_key",
        spec: "# syntax=org/pyslim\npyhton: \"3.11\"\nrequirements: requirements.txt\napp: app\n",
        files: &[],
    },
];

#[tokio::test]
async fn a_python_that_cannot_be_chosen_is_an_error_at_its_line() {
    for case in CASES {
        let context = project(case.files);
        let (result, recorded) =
            support::build(case.spec, &context, &[("filename", "pyslim.yaml")]).await;
        assert!(result.is_err(), "{}: built", case.name);
        assert!(recorded.resolved.is_empty(), "{}", case.name);
        let mut input = format!("pyslim.yaml:\n{}", case.spec);
        for (name, text) in case.files {
            input.push_str(&format!("\n{name}:\n{text}"));
        }
        let message = &recorded.error().message;
        insta::with_settings!({snapshot_path => "python", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(case.name, format!("{input}\n---\n{message}\n"));
        });
    }
}
