use super::markers::pep751_markers;
use super::*;
use crate::lock::{Environment, select};
use crate::platform::Platform;

const UV: &str = include_str!("../../../tests/fixtures/locks/pylock-webapp-uv/pylock.toml");
const UV_PROJECT: &str =
    include_str!("../../../tests/fixtures/locks/pylock-webapp-uv/pyproject.toml");
const PDM: &str = include_str!("../../../tests/fixtures/locks/pylock-webapp-pdm/pylock.toml");

fn env(python: &str, arch: &str) -> Environment {
    let platform = Platform::parse(arch).expect("a platform");
    Environment::new(python, &platform).expect("an environment")
}

fn read(lock: &str, project: Option<&str>) -> Lock {
    parse(&Input { lock, project }).expect("a valid pylock")
}

fn pins(lock: &Lock, python: &str, extras: &[&str], groups: Option<&[&str]>) -> Vec<String> {
    let extras: Vec<String> = extras.iter().map(|s| s.to_string()).collect();
    let groups: Option<Vec<String>> = groups.map(|g| g.iter().map(|s| s.to_string()).collect());
    select::select(
        lock,
        &env(python, "linux/amd64"),
        &extras,
        groups.as_deref(),
    )
    .expect("a selection")
    .iter()
    .map(|p| format!("{}=={}", p.name, p.version.as_deref().unwrap_or("?")))
    .collect()
}

fn problems(lock: &str) -> Vec<Problem> {
    parse(&Input {
        lock,
        project: None,
    })
    .expect_err("problems")
}

/// The text a problem points at.
fn at<'t>(text: &'t str, problem: &Problem) -> &'t str {
    &text[problem.span.clone().expect("a span")]
}

#[test]
fn a_uv_export_selects_what_holds_on_linux() {
    let lock = read(UV, Some(UV_PROJECT));
    assert_eq!(lock.requires_python.as_deref(), Some(">=3.10"));
    assert_eq!(lock.packages.len(), 13);
    // uv writes the project itself as `directory = { path = "." }`: the app, built by pyslim.
    let webapp = lock
        .packages
        .iter()
        .find(|p| p.name == "webapp")
        .expect("webapp");
    assert_eq!(webapp.source, Source::Project { path: ".".into() });
    let click = lock
        .packages
        .iter()
        .find(|p| p.name == "click")
        .expect("click");
    assert_eq!(
        click.source,
        Source::Registry {
            url: Some("https://pypi.org/simple".into())
        }
    );
    assert_eq!(click.files.len(), 2);
    assert_eq!(
        click.files[1].name.as_deref(),
        Some("click-8.5.1-py3-none-any.whl")
    );
    // colorama (win32), exceptiongroup, tomli and typing-extensions (< 3.11) are left out.
    assert_eq!(
        pins(&lock, "3.11", &[], None),
        [
            "click==8.5.1",
            "gunicorn==27.0.1",
            "iniconfig==2.3.1",
            "packaging==26.4",
            "pluggy==1.7.0",
            "pygments==2.21.0",
            "pysocks==1.7.1",
            "pytest==9.2.0",
        ]
    );
    let on_310 = pins(&lock, "3.10.4", &[], None);
    assert!(on_310.contains(&"tomli==2.5.0".to_string()), "{on_310:?}");
    assert!(on_310.contains(&"exceptiongroup==1.3.2".to_string()));
}

#[test]
fn a_pdm_lock_selects_by_groups_and_extras() {
    let lock = read(PDM, None);
    assert_eq!(lock.default_groups, ["default"]);
    assert_eq!(lock.extras.keys().collect::<Vec<_>>(), ["socks"]);
    assert_eq!(lock.groups.keys().collect::<Vec<_>>(), ["default", "test"]);
    assert_eq!(lock.environments.len(), 1);
    let main = ["click==8.5.1", "gunicorn==27.0.1"];
    assert_eq!(pins(&lock, "3.11", &[], None), main);
    // Naming a group still installs the project's own dependencies (the default group).
    assert_eq!(
        pins(&lock, "3.11", &[], Some(&["test"])),
        [
            "click==8.5.1",
            "gunicorn==27.0.1",
            "pytest==9.2.0",
            "pluggy==1.7.0",
            "iniconfig==2.3.1",
            "packaging==26.4",
            "pygments==2.21.0",
        ]
    );
    assert_eq!(
        pins(&lock, "3.11", &["socks"], Some(&[])),
        ["click==8.5.1", "gunicorn==27.0.1", "pysocks==1.7.1"]
    );
    // On 3.10 the default group takes tomli; the test group exceptiongroup and
    // typing-extensions too; colorama stays out (win32).
    assert_eq!(
        pins(&lock, "3.10.12", &[], None),
        ["click==8.5.1", "gunicorn==27.0.1", "tomli==2.5.0"]
    );
    let tests_310 = pins(&lock, "3.10.12", &[], Some(&["test"]));
    assert!(tests_310.contains(&"exceptiongroup==1.3.2".to_string()));
    assert!(tests_310.contains(&"typing-extensions==4.16.0".to_string()));
    assert!(!tests_310.iter().any(|p| p.starts_with("colorama")));
}

#[test]
fn a_target_outside_the_locks_environments_is_refused() {
    let lock = read(PDM, None);
    let error = select::select(&lock, &env("3.9", "linux/amd64"), &[], None)
        .expect_err("python_version >= 3.10 only");
    assert!(error.message.contains("environments"), "{error}");
}

#[test]
fn extras_and_groups_in_markers_become_extra_markers() {
    assert_eq!(pep751_markers("'socks' in extras"), "extra == 'socks'");
    assert_eq!(
        pep751_markers("\"Test_Suite\" not in dependency_groups and python_version < \"3.11\""),
        "extra != 'pyslim-group-test-suite' and python_version < \"3.11\""
    );
    assert_eq!(
        pep751_markers("('a' in extras or \"dev\" in dependency_groups) and 'x' in 'xy'"),
        "(extra == 'a' or extra == 'pyslim-group-dev') and 'x' in 'xy'"
    );
    // A string that only looks like one of these is left alone.
    assert_eq!(
        pep751_markers("platform_release in 'in extras'"),
        "platform_release in 'in extras'"
    );
    assert_eq!(pep751_markers("'a' in 'unclosed"), "'a' in 'unclosed");

    // Whether a package with this marker is selected on linux 3.11 with these extras and
    // groups, `default` being the lock's default group.
    let holds = |text: &str, extras: &[&str], groups: &[&str]| {
        let lock = Lock {
            main: vec![Edge {
                marker: marker(text, None, &["default".into()]).expect("a marker"),
                ..Edge::to("p")
            }],
            packages: vec![Package {
                name: "p".into(),
                version: Some("1".into()),
                source: Source::Path { path: "p".into() },
                files: Vec::new(),
                dependencies: Vec::new(),
                extras: Default::default(),
                span: None,
            }],
            default_groups: vec!["default".into()],
            ..Lock::default()
        };
        let extras: Vec<&str> = extras.to_vec();
        !pins(&lock, "3.11", &extras, Some(groups)).is_empty()
    };
    assert!(holds("'socks' in extras", &["socks"], &[]));
    assert!(!holds("'socks' in extras", &[], &[]));
    assert!(holds("'socks' not in extras", &[], &[]));
    assert!(!holds("'dev' in dependency_groups", &[], &[]));
    assert!(holds("'dev' in dependency_groups", &[], &["dev"]));
    assert!(!holds("'dev' not in dependency_groups", &[], &["dev"]));
    assert!(holds("'dev' not in dependency_groups", &[], &["docs"]));
    // A default group holds whatever groups are chosen.
    assert!(holds("'default' in dependency_groups", &[], &["dev"]));
    assert!(!holds("'default' not in dependency_groups", &[], &[]));
    assert!(!holds(
        "'default' in dependency_groups and sys_platform == 'win32'",
        &[],
        &[]
    ));
    assert_eq!(
        marker("'default' in dependency_groups", None, &["default".into()]),
        Ok(None)
    );
}

#[test]
fn garbled_toml_is_located() {
    let text = "lock-version = \"1.0\"\n[[packages]]\nname = \"a\nversion = \"1\"\n";
    let found = problems(text);
    assert_eq!(found.len(), 1);
    assert!(
        found[0].message.starts_with("is not valid TOML"),
        "{}",
        found[0]
    );
    let span = found[0].span.clone().expect("a span");
    // On the line of the unterminated string.
    let line = text[..span.start].matches('\n').count() + 1;
    assert_eq!(line, 3, "{:?}", &text[span]);
}

#[test]
fn an_unknown_major_lock_version_is_refused() {
    let text = "lock-version = \"2.0\"\ncreated-by = \"x\"\n[[packages]]\nname = \"a\"\ndirectory = { path = \"a\" }\n";
    let found = problems(text);
    assert_eq!(at(text, &found[0]), "\"2.0\"");
    assert!(found[0].message.contains("2.0"), "{}", found[0]);
    let minor = text.replace("2.0", "1.1");
    assert!(
        parse(&Input {
            lock: &minor,
            project: None
        })
        .is_ok()
    );
}

#[test]
fn files_need_a_sha256() {
    let text = r#"lock-version = "1.0"
created-by = "test"
[[packages]]
name = "a"
version = "1.0"
wheels = [
  { url = "https://example.com/a-1.0-py3-none-any.whl", hashes = { md5 = "0123456789abcdef0123456789abcdef" } },
  { url = "https://example.com/a-1.0.tar.gz" },
]
"#;
    let found = problems(text);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].message.contains("only md5"), "{}", found[0]);
    assert!(
        found[0].message.contains("a-1.0-py3-none-any.whl"),
        "{}",
        found[0]
    );
    assert!(at(text, &found[0]).contains("md5"));
    assert!(found[1].message.contains("no hashes"), "{}", found[1]);
    assert!(at(text, &found[1]).contains("a-1.0.tar.gz"));
    assert!(
        found[1]
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("sha256"))
    );
}

#[test]
fn git_directory_and_archive_sources() {
    let sha = "ab".repeat(32);
    let text = format!(
        r#"lock-version = "1.0"
created-by = "test"
[[packages]]
name = "Lib_A"
vcs = {{ type = "git", url = "https://example.com/lib-a.git", requested-revision = "main", commit-id = "{commit}" }}
[[packages]]
name = "lib-b"
directory = {{ path = "./libs/b", editable = true }}
[[packages]]
name = "lib-c"
version = "2.0"
archive = {{ url = "https://example.com/c.tar.gz", subdirectory = "py", hashes = {{ sha256 = "{sha}" }} }}
[[packages]]
name = "lib-d"
version = "1.0"
wheels = [{{ path = "wheels/lib_d-1.0-py3-none-any.whl", hashes = {{ sha256 = "{sha}" }} }}]
"#,
        commit = "c".repeat(40),
    );
    let lock = read(&text, None);
    let sources: Vec<&Source> = lock.packages.iter().map(|p| &p.source).collect();
    assert_eq!(
        sources,
        [
            &Source::Git {
                url: "https://example.com/lib-a.git".into(),
                commit: "c".repeat(40)
            },
            &Source::Path {
                path: "libs/b".into()
            },
            &Source::Url {
                url: "https://example.com/c.tar.gz#subdirectory=py".into()
            },
            &Source::Path {
                path: "wheels/lib_d-1.0-py3-none-any.whl".into()
            },
        ]
    );
    assert_eq!(lock.packages[0].name, "lib-a");
    assert_eq!(lock.packages[2].files[0].sha256, sha);
    assert_eq!(
        pins(&lock, "3.11", &[], None),
        ["lib-a==?", "lib-b==?", "lib-c==2.0", "lib-d==1.0"]
    );
}

#[test]
fn sources_pyslim_cannot_install_are_located() {
    let text = r#"lock-version = "1.0"
created-by = "test"
[[packages]]
name = "a"
vcs = { type = "hg", url = "https://example.com/a", commit-id = "abc" }
[[packages]]
name = "b"
directory = { path = "/home/me/b" }
[[packages]]
name = "c"
version = "1"
[[packages]]
name = "d"
directory = { path = "d" }
archive = { path = "d.tar.gz", hashes = { sha256 = "x" } }
"#;
    let found = problems(text);
    assert_eq!(found.len(), 4, "{found:?}");
    assert_eq!(at(text, &found[0]), "\"hg\"");
    assert_eq!(at(text, &found[1]), "\"/home/me/b\"");
    assert!(found[2].message.contains("no source"), "{}", found[2]);
    assert_eq!(at(text, &found[2]), "\"c\"");
    assert!(
        found[3].message.contains("more than one source"),
        "{}",
        found[3]
    );
}

#[test]
fn a_marker_pep508_cannot_read_is_located() {
    let text = "lock-version = \"1.0\"\ncreated-by = \"t\"\n[[packages]]\nname = \"a\"\nmarker = \"python_version >>> '3'\"\ndirectory = { path = \"a\" }\n";
    let found = problems(text);
    assert_eq!(at(text, &found[0]), "\"python_version >>> '3'\"");
}
