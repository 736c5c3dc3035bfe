use super::stale::pipfile_hashes;
use super::*;
use crate::lock::{Environment, render, select};
use crate::platform::Platform;

const LOCK: &str = include_str!("../../../tests/fixtures/locks/pipfile-webapp/Pipfile.lock");
const PIPFILE: &str = include_str!("../../../tests/fixtures/locks/pipfile-webapp/Pipfile");

fn env(python: &str) -> Environment {
    let platform = Platform::parse("linux/amd64").expect("a platform");
    Environment::new(python, &platform).expect("an environment")
}

fn read(lock: &str, project: Option<&str>) -> Result<Lock, Vec<Problem>> {
    parse(&Input { lock, project })
}

fn pins<'l>(lock: &'l Lock, python: &str, groups: &[&str]) -> Vec<&'l Package> {
    let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
    select::select(lock, &env(python), &[], Some(&groups)).expect("a selection")
}

fn names(packages: &[&Package]) -> Vec<String> {
    packages
        .iter()
        .map(|p| format!("{}=={}", p.name, p.version.as_deref().unwrap_or("*")))
        .collect()
}

/// The text a problem points at.
fn at<'t>(text: &'t str, problem: &Problem) -> &'t str {
    &text[problem.span.clone().expect("a span")]
}

/// A lock with `entries` as its `default` section.
fn with_default(entries: &str) -> String {
    format!(
        "{{\"_meta\": {{\"sources\": [{{\"name\": \"pypi\", \"url\": \"https://pypi.org/simple\"}}]}}, \"default\": {{{entries}}}, \"develop\": {{}}}}"
    )
}

const APP: [&str; 14] = [
    "blinker==1.9.0",
    "certifi==2026.10.19.post1",
    "charset-normalizer==3.5.3",
    "click==8.5.1",
    "flask==3.1.3",
    "gunicorn==27.0.1",
    "idna==3.20",
    "itsdangerous==2.2.0",
    "jinja2==3.1.6",
    "markupsafe==3.0.4",
    "pysocks==1.7.1",
    "requests==2.34.2",
    "urllib3==2.8.0",
    "werkzeug==3.1.9",
];

#[test]
fn the_fixture_selects_the_app_and_dev_packages_that_hold_on_linux() {
    let lock = read(LOCK, Some(PIPFILE)).expect("a fresh, valid lock");
    assert_eq!(lock.requires_python.as_deref(), Some("==3.11.*"));
    assert_eq!(lock.groups.keys().collect::<Vec<_>>(), ["dev"]);
    assert_eq!(lock.packages.len(), 21);
    // colorama (win32 only) is left out.
    let app = pins(&lock, "3.11", &[]);
    assert_eq!(names(&app), APP);
    let flask = app.iter().find(|p| p.name == "flask").expect("flask");
    assert_eq!(
        flask.source,
        Source::Registry {
            url: Some("https://pypi.org/simple".into())
        }
    );
    assert_eq!(flask.files.len(), 2);
    assert_eq!(
        flask.files[0].sha256,
        "0ef0e52b8a9cd932855379197dd8f94047b359ca0a78695144304cb45f87c9eb"
    );
    let requests = lock
        .main
        .iter()
        .find(|e| e.name == "requests")
        .expect("requests");
    assert_eq!(requests.extras, ["socks"]);
    // `dev` adds pytest and its dependencies, not tomli (Python < 3.11 only).
    let dev = names(&pins(&lock, "3.11", &["dev"]));
    let added: Vec<&String> = dev.iter().filter(|p| !APP.contains(&p.as_str())).collect();
    assert_eq!(
        added,
        [
            "iniconfig==2.3.1",
            "packaging==26.4",
            "pluggy==1.7.0",
            "pygments==2.21.0",
            "pytest==9.2.0"
        ]
    );
    let pinned = render::pinned(&pins(&lock, "3.11", &["dev"]), ".", "/ctx").expect("pinned");
    assert_eq!(pinned.hashed.len(), 19);
}

#[test]
fn an_entry_pipenv_could_not_pin_is_refused_only_where_it_is_installed() {
    // pipenv writes `"version": "*"` without hashes for tomli, whose marker did not hold
    // on the machine that locked: on Python 3.10 the dev set needs it.
    let lock = read(LOCK, None).expect("a valid lock");
    let tomli = lock
        .packages
        .iter()
        .find(|p| p.name == "tomli")
        .expect("tomli");
    assert_eq!(tomli.version, None);
    let on_310 = pins(&lock, "3.10.14", &["dev"]);
    let error = render::pinned(&on_310, ".", "/ctx").expect_err("tomli has no version");
    assert!(error.message.contains("tomli"), "{error}");
    assert_eq!(error.span.map(|s| &LOCK[s]), Some("\"tomli\""));
}

#[test]
fn a_changed_pipfile_makes_the_lock_stale() {
    assert!(read(LOCK, Some(PIPFILE)).is_ok());
    let changed = PIPFILE.replace("gunicorn = \"*\"", "gunicorn = \"==23.*\"");
    assert_ne!(changed, PIPFILE);
    let problems = read(LOCK, Some(&changed)).expect_err("stale");
    assert_eq!(problems.len(), 1);
    let problem = &problems[0];
    assert!(
        problem.message.contains("out of date with Pipfile"),
        "{problem}"
    );
    assert!(
        problem
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("pipenv lock")),
        "{problem:?}"
    );
    assert_eq!(
        at(LOCK, problem),
        "\"d9c423f20b51895bf77eabd292ff0f33c5060fc893bf07548ec4ff114b24c949\""
    );
}

/// The hashes Python computes (tomllib, then `json.dumps(data, sort_keys=True,
/// separators=(",", ":"))`, sha256) for this Pipfile, as plette does: without package
/// categories, with them, and with normalised names.
const ODD_PIPFILE: &str = r#"[packages]
"Django_REST.framework" = {version = "==3.*", extras = ["crypto"]}
"café" = {version = "*", markers = "os_name == \"posix\"\tand python_version >= '3'"}
snake = {git = "https://example.com/🐍.git", ref = "v1", editable = true}
big = 12345678901

[dev-packages]
pytest = ">=8"

[docs]
Sphinx = "*"

[scripts]
serve = "python -m app"
"#;
const ODD_HASHES: [&str; 3] = [
    "71910295224b8fac3ec47f6cf4c69da42d740aae4d18a38a6bc2905863eb15f3",
    "064fe0dfc1c74bf2efcfb440ec83f0b4d0184a89b50c56796d58f2662154dbff",
    "761f21f8dd110981ac8bfa6952c71a1ba2a74ad9a98d74747a38f4eee5effd2f",
];

#[test]
fn the_pipfile_hash_is_pythons_json_of_it() {
    let hashes = pipfile_hashes(ODD_PIPFILE).expect("hashes");
    assert_eq!(hashes.len(), 3);
    for (found, expected) in hashes.iter().zip(ODD_HASHES) {
        assert_eq!(found, expected);
    }
}

#[test]
fn pipfiles_pyslim_cannot_hash_exactly_are_not_checked() {
    assert_eq!(
        pipfile_hashes("[packages]\na = {version = \"*\", x = 1.5}\n"),
        None
    );
    assert_eq!(
        pipfile_hashes("[packages]\na = {version = \"*\", x = [true]}\n"),
        None
    );
    assert_eq!(
        pipfile_hashes("[docs]\nSphinx = \"*\"\nsphinx = \"*\"\n"),
        None
    );
    assert_eq!(pipfile_hashes("[packages\n"), None);
    let lock = with_default("");
    let lock = lock.replace("\"sources\"", "\"hash\": {\"sha256\": \"00\"}, \"sources\"");
    assert!(read(&lock, Some("[packages]\na = {version = \"*\", x = 1.5}\n")).is_ok());
}

#[test]
fn garbled_json_is_located() {
    let text = "{\n  \"_meta\": {},\n  \"default\": {\n    \"flask\": {\"version\": \"==3.1.3\"}\n    \"click\": {}\n  }\n}\n";
    let problems = read(text, None).expect_err("a missing comma");
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0]
            .message
            .starts_with("is not valid JSON: expected"),
        "{}",
        problems[0]
    );
    let span = problems[0].span.clone().expect("a span");
    assert_eq!(span.start, text.find("\"click\"").expect("click"));
    assert_eq!(&text[span], "\"");

    let cut = &LOCK[..LOCK.len() / 2];
    let problems = read(cut, None).expect_err("cut short");
    assert_eq!(problems[0].span, Some(cut.len()..cut.len()));

    let problems = read("{\"default\": {\"é\": {\"version\": ==1}}}", None).expect_err("bad value");
    assert_eq!(
        at("{\"default\": {\"é\": {\"version\": ==1}}}", &problems[0]),
        "="
    );
}

#[test]
fn versions_and_hashes_must_pin_files() {
    let text = with_default(&format!(
        "\"a\": {{\"version\": \">=1.0\", \"hashes\": [\"sha256:{}\"]}}, \"b\": {{\"version\": \"==2.0\", \"hashes\": [\"md5:0123456789abcdef0123456789abcdef\", \"sha256:{}\"]}}",
        "a".repeat(64),
        "B".repeat(64)
    ));
    let problems = read(&text, None).expect_err("problems");
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(at(&text, &problems[0]), "\">=1.0\"");
    assert!(
        problems[0].message.contains("not one version"),
        "{}",
        problems[0]
    );
    assert_eq!(
        at(&text, &problems[1]),
        "\"md5:0123456789abcdef0123456789abcdef\""
    );

    // No hashes at all: the package reads, and installing it is refused at its name.
    let text = with_default("\"c\": {\"version\": \"==1.0\", \"index\": \"pypi\"}");
    let lock = read(&text, None).expect("valid");
    let error = render::pinned(&pins(&lock, "3.11", &[]), ".", "/ctx").expect_err("no hashes");
    assert!(error.message.contains("sha256"), "{error}");
    assert_eq!(at(&text, &error), "\"c\"");
}

#[test]
fn git_path_and_url_sources() {
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let text = with_default(&format!(
        r#""Lib_A": {{"git": "git+https://example.com/lib-a.git", "ref": "{commit}", "editable": true}},
        "lib-b": {{"path": "./libs/b", "editable": true}},
        "webapp": {{"path": ".", "editable": true}},
        "lib-c": {{"file": "https://example.com/lib_c-1.0.tar.gz", "hashes": ["sha256:{sha}"]}},
        "lib-d": {{"git": "https://example.com/lib-d.git"}},
        "lib-e": {{"path": "/srv/lib-e"}}"#,
        sha = "c".repeat(64)
    ));
    let problems = read(&text, None).expect_err("lib-d and lib-e");
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].message.contains("no commit"), "{}", problems[0]);
    assert_eq!(at(&text, &problems[0]), "\"https://example.com/lib-d.git\"");
    assert_eq!(at(&text, &problems[1]), "\"/srv/lib-e\"");

    let text = text
        .replace(
            ",\n        \"lib-d\": {\"git\": \"https://example.com/lib-d.git\"}",
            "",
        )
        .replace(",\n        \"lib-e\": {\"path\": \"/srv/lib-e\"}", "");
    let lock = read(&text, None).expect("valid");
    let sources: Vec<(&str, &Source)> = lock
        .packages
        .iter()
        .map(|p| (p.name.as_str(), &p.source))
        .collect();
    assert_eq!(
        sources,
        [
            (
                "lib-a",
                &Source::Git {
                    url: "https://example.com/lib-a.git".into(),
                    commit: commit.into()
                }
            ),
            (
                "lib-b",
                &Source::Path {
                    path: "libs/b".into()
                }
            ),
            ("webapp", &Source::Project { path: ".".into() }),
            (
                "lib-c",
                &Source::Url {
                    url: "https://example.com/lib_c-1.0.tar.gz".into()
                }
            ),
        ]
    );
    // The project itself is built as the app, never installed from the lock.
    let picked: Vec<&str> = pins(&lock, "3.11", &[])
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(picked, ["lib-a", "lib-b", "lib-c"]);
    let pinned = render::pinned(&pins(&lock, "3.11", &[]), ".", "/ctx").expect("pinned");
    assert_eq!(
        pinned.hashed,
        [format!(
            "lib-c @ https://example.com/lib_c-1.0.tar.gz --hash=sha256:{}",
            "c".repeat(64)
        )]
    );
}

#[test]
fn group_markers_and_categories() {
    let sha = "d".repeat(64);
    let text = format!(
        r#"{{"_meta": {{"requires": {{"python_full_version": "3.11.9"}}}},
        "default": {{}},
        "develop": {{
            "stdeb": {{"version": "==0.11.0", "hashes": ["sha256:{sha}"], "markers": "('dev' in dependency_groups) and (sys_platform == 'linux')"}},
            "waitress": {{"version": "==3.0.2", "hashes": ["sha256:{sha}"], "markers": "('dev' in dependency_groups) and (sys_platform == 'win32')"}}
        }},
        "docs": {{"Sphinx": {{"version": "==9.1.0", "hashes": ["sha256:{sha}"]}}}}}}"#
    );
    let lock = read(&text, None).expect("valid");
    assert_eq!(lock.requires_python.as_deref(), Some("==3.11.9"));
    assert_eq!(lock.groups.keys().collect::<Vec<_>>(), ["dev", "docs"]);
    assert!(pins(&lock, "3.11", &[]).is_empty());
    assert_eq!(names(&pins(&lock, "3.11", &["dev"])), ["stdeb==0.11.0"]);
    assert_eq!(names(&pins(&lock, "3.11", &["docs"])), ["sphinx==9.1.0"]);
}

#[test]
fn one_package_in_two_sections_is_one_package() {
    let text = format!(
        r#"{{"default": {{"idna": {{"version": "==3.20", "hashes": ["sha256:{a}"]}}}},
        "develop": {{"idna": {{"version": "==3.20", "hashes": ["sha256:{a}", "sha256:{b}"]}}}}}}"#,
        a = "a".repeat(64),
        b = "b".repeat(64)
    );
    let lock = read(&text, None).expect("valid");
    assert_eq!(lock.packages.len(), 1);
    assert_eq!(lock.packages[0].files.len(), 2);
    assert_eq!(names(&pins(&lock, "3.11", &["dev"])), ["idna==3.20"]);
}
