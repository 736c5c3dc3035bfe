use super::super::{Environment, select::select};
use super::*;
use crate::platform::Platform;

const LOCK: &str = include_str!("../../../../examples/uv-lock/uv.lock");
const PROJECT: &str = include_str!("../../../../examples/uv-lock/pyproject.toml");

fn versions(lock: &Lock, python: &str, platform: &str, groups: Option<&[String]>) -> Vec<String> {
    let platform = Platform::parse(platform).expect("a platform");
    let env = Environment::new(python, &platform).expect("an environment");
    select(lock, &env, &[], groups)
        .expect("a selection")
        .iter()
        .map(|p| format!("{}=={}", p.name, p.version.as_deref().unwrap_or("?")))
        .collect()
}

#[test]
fn the_example_installs_its_locked_set_for_each_target() {
    let input = Input {
        lock: LOCK,
        project: Some(PROJECT),
    };
    let lock = parse(&input).expect("the example's lock");
    assert_eq!(lock.requires_python.as_deref(), Some(">=3.11"));
    let plain = versions(&lock, "3.11.2", "linux/amd64", None);
    assert_eq!(
        plain,
        [
            "blinker==1.9.0",
            "click==8.5.1",
            "flask==3.1.3",
            "gunicorn==27.0.1",
            "itsdangerous==2.2.0",
            "jinja2==3.1.6",
            "markupsafe==3.0.4",
            "werkzeug==3.1.9"
        ]
    );
    // Nothing here depends on the platform or the Python.
    assert_eq!(versions(&lock, "3.13.5", "linux/arm64", None), plain);
    // A group: pytest and its own dependencies, but not its Windows-only colorama.
    let with_dev = versions(&lock, "3.11.2", "linux/amd64", Some(&["dev".to_string()]));
    for added in [
        "pytest==9.2.0",
        "pluggy==1.7.0",
        "iniconfig==2.3.1",
        "pygments==2.21.0",
    ] {
        assert!(
            with_dev.contains(&added.to_string()),
            "{added} in {with_dev:?}"
        );
    }
    assert!(
        !with_dev.iter().any(|p| p.starts_with("colorama==")),
        "{with_dev:?}"
    );
    assert!(lock.extras.contains_key("dotenv"));
}

#[test]
fn every_file_keeps_its_sha256() {
    let lock = parse(&Input {
        lock: LOCK,
        project: None,
    })
    .expect("the example's lock");
    let flask = lock
        .packages
        .iter()
        .find(|p| p.name == "flask")
        .expect("flask");
    assert_eq!(flask.files.len(), 2, "sdist and wheel");
    assert!(flask.files.iter().all(|f| f.sha256.len() == 64));
    assert!(
        flask
            .files
            .iter()
            .any(|f| f.name.as_deref() == Some("flask-3.1.3-py3-none-any.whl"))
    );
}

#[test]
fn a_changed_dependency_makes_the_lock_stale() {
    let changed = PROJECT.replace("\"flask>=3.0\"", "\"flask>=3.1\"");
    let problems = parse(&Input {
        lock: LOCK,
        project: Some(&changed),
    })
    .expect_err("stale");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].message.contains("out of date"),
        "{}",
        problems[0].message
    );
    assert!(
        problems[0].message.contains("`flask>=3.1`"),
        "{}",
        problems[0].message
    );
    assert!(
        problems[0]
            .hint
            .as_deref()
            .unwrap_or("")
            .contains("uv lock")
    );
    let span = problems[0].span.clone().expect("a span");
    assert_eq!(&LOCK[span], "[package.metadata]");

    let new_group = format!("{PROJECT}\n[dependency-groups.test]\n");
    let new_group = new_group.replace("[dependency-groups.test]", "");
    let new_group = new_group.replace(
        "dev = [\"pytest>=8\"]",
        "dev = [\"pytest>=8\"]\ntest = [\"pytest\"]",
    );
    let problems = parse(&Input {
        lock: LOCK,
        project: Some(&new_group),
    })
    .expect_err("stale");
    assert!(
        problems[0].message.contains("group `test`"),
        "{}",
        problems[0].message
    );
}

#[test]
fn the_same_requirements_written_otherwise_are_not_stale() {
    let respelled = PROJECT.replace(
        "fastapi[standard]>=0.112.2",
        "FastAPI [standard] >= 0.112.2",
    );
    parse(&Input {
        lock: LOCK,
        project: Some(&respelled),
    })
    .expect("fresh");
}

#[test]
fn a_broken_lock_is_a_problem_at_its_place() {
    let broken = LOCK.replacen("version = \"1.9.0\"", "version = 1.9.0", 1);
    let problems = parse(&Input {
        lock: &broken,
        project: None,
    })
    .expect_err("broken");
    let span = problems[0].span.clone().expect("a span");
    assert!(
        broken[span.start.saturating_sub(12)..span.end + 4].contains("1.9.0"),
        "{:?}",
        problems[0]
    );
    let future = LOCK.replacen("version = 1", "version = 2", 1);
    let problems = parse(&Input {
        lock: &future,
        project: None,
    })
    .expect_err("version 2");
    assert!(problems[0].message.contains("version 2"));
}

#[test]
fn git_sources_keep_their_commit() {
    assert_eq!(
        git("https://github.com/encode/httpx?tag=0.27.0#3c9a5a6b"),
        Some(Source::Git {
            url: "https://github.com/encode/httpx".into(),
            commit: "3c9a5a6b".into()
        })
    );
    assert_eq!(
        git("https://example.com/mono.git?rev=main&subdirectory=libs/a#abc"),
        Some(Source::Git {
            url: "https://example.com/mono.git".into(),
            commit: "abc#subdirectory=libs/a".into()
        })
    );
    assert_eq!(git("https://example.com/x.git"), None);
}
