use super::stale::{content_hashes, pdm_name};
use super::*;
use crate::lock::Format;
use crate::lock::project::line_of;
use crate::lock::render::pinned;
use crate::lock::select::select;
use crate::lock::testing::{self, at, env, fixture, installs_on, one, package};

fn read(lock: &str, project: Option<&str>) -> Result<Lock, Vec<Problem>> {
    testing::read(Format::Pdm, lock, project)
}

fn fixture_lock(project: &str) -> Lock {
    testing::fixture_lock(Format::Pdm, project, "pdm.lock")
}

/// `name==version` of what a linux/amd64 target installs, sorted.
fn installs(lock: &Lock, python: &str, extras: &[&str], groups: &[&str]) -> Vec<String> {
    installs_on(lock, python, "linux/amd64", extras, groups)
}

/// What pdm-webapp installs on CPython 3.11, without extras or groups.
const WEBAPP_MAIN: [&str; 9] = [
    "blinker==1.9.0",
    "click==8.5.1",
    "flask==3.1.3",
    "gunicorn==27.0.1",
    "itsdangerous==2.2.0",
    "jinja2==3.1.6",
    "markupsafe==3.0.4",
    "python-dotenv==1.2.4",
    "werkzeug==3.1.9",
];

/// `base` and `more`, sorted.
fn with(base: &[&str], more: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = base.iter().chain(more).map(|s| s.to_string()).collect();
    out.sort();
    out
}

#[test]
fn a_flat_pdm_lock_installs_by_group_and_marker() {
    let lock = fixture_lock("pdm-webapp");
    // flask[dotenv] brings python-dotenv; colorama only where sys_platform is win32.
    assert_eq!(installs(&lock, "3.11.2", &[], &[]), WEBAPP_MAIN);
    assert!(lock.packages.iter().all(|p| p.dependencies.is_empty()));
    // The extra of [project.optional-dependencies]; `test` ([dependency-groups]) and `lint`
    // ([tool.pdm.dev-dependencies]) are dev groups, which `pdm install` installs unless told
    // otherwise.
    assert_eq!(lock.extras.keys().collect::<Vec<_>>(), ["cache"]);
    assert_eq!(lock.groups.keys().collect::<Vec<_>>(), ["lint", "test"]);
    assert_eq!(lock.default_groups, ["lint", "test"]);
    // redis needs async-timeout before 3.11.3.
    assert_eq!(
        installs(&lock, "3.11.2", &["cache"], &[]),
        with(
            &WEBAPP_MAIN,
            &["async-timeout==5.0.1", "pyjwt==2.15.1", "redis==5.3.1"]
        )
    );
    assert_eq!(
        installs(&lock, "3.12.1", &["cache"], &[]),
        with(&WEBAPP_MAIN, &["pyjwt==2.15.1", "redis==5.3.1"])
    );
    // flask and flask[dotenv] are one package.
    assert_eq!(lock.packages.len(), 22);
    assert_eq!(
        lock.packages.iter().filter(|p| p.name == "flask").count(),
        1
    );
    let test = [
        "iniconfig==2.3.1",
        "packaging==26.4",
        "pluggy==1.7.0",
        "pygments==2.21.0",
        "pytest==9.2.0",
    ];
    assert_eq!(
        installs(&lock, "3.11.2", &[], &["test"]),
        with(&WEBAPP_MAIN, &test)
    );
    let mut old = test.to_vec();
    old.extend([
        "exceptiongroup==1.3.2",
        "tomli==2.5.0",
        "typing-extensions==4.16.0",
    ]);
    assert_eq!(
        installs(&lock, "3.10.13", &[], &["test"]),
        with(&WEBAPP_MAIN, &old)
    );
    assert_eq!(
        installs(&lock, "3.11.2", &[], &["lint"]),
        with(&WEBAPP_MAIN, &["pyflakes==4.0.3"])
    );
    let flask = package(&lock, "flask");
    assert_eq!(
        flask.files,
        [
            Dist {
                name: Some("flask-3.1.3-py3-none-any.whl".into()),
                url: None,
                sha256: "f4bcbefc124291925f1a26446da31a5178f9483862233b23c0c96a20701f670c".into(),
            },
            Dist {
                name: Some("flask-3.1.3.tar.gz".into()),
                url: None,
                sha256: "0ef0e52b8a9cd932855379197dd8f94047b359ca0a78695144304cb45f87c9eb".into(),
            },
        ]
    );
}

#[test]
fn without_its_project_a_flat_lock_still_reads() {
    let text = fixture("pdm-webapp", "pdm.lock");
    let lock = read(&text, None).expect("a lock");
    assert_eq!(installs(&lock, "3.11.2", &[], &[]), WEBAPP_MAIN);
    // Which group is an extra only the project says; pdm's `-G` takes either.
    for group in ["cache", "lint", "test"] {
        assert!(
            lock.extras.contains_key(group) && lock.groups.contains_key(group),
            "{group}"
        );
    }
    assert!(lock.default_groups.is_empty());
}

#[test]
fn an_older_pdm_lock_is_walked_from_the_project() {
    let lock = fixture_lock("pdm-2.1-webapp");
    let main = [
        "blinker==1.8.2",
        "click==8.1.8",
        "flask==3.0.3",
        "gunicorn==23.0.0",
        "itsdangerous==2.2.0",
        "jinja2==3.1.6",
        "markupsafe==2.1.5",
        "packaging==26.2",
        "python-dotenv==1.0.1",
        "werkzeug==3.0.6",
    ];
    assert_eq!(installs(&lock, "3.11.2", &[], &[]), main);
    // tomli before 3.11 (the project's marker), importlib-metadata (and zipp) before 3.10
    // (flask's).
    assert_eq!(
        installs(&lock, "3.8.18", &[], &[]),
        with(
            &main,
            &["importlib-metadata==8.5.0", "tomli==2.5.0", "zipp==3.20.2"]
        )
    );
    assert_eq!(
        installs(&lock, "3.11.2", &["cache"], &[]),
        with(
            &main,
            &["async-timeout==5.0.1", "pyjwt==2.9.0", "redis==5.3.1"]
        )
    );
    assert_eq!(lock.default_groups, ["test"]);
    assert_eq!(
        installs(&lock, "3.11.2", &[], &["test"]),
        with(
            &main,
            &["iniconfig==2.1.0", "pluggy==1.5.0", "pytest==8.3.5"]
        )
    );
    // Lock 4.0 keeps hashes, with each file's URL, in [metadata.files] under "name version".
    let flask = package(&lock, "flask");
    assert_eq!(flask.files.len(), 2);
    assert_eq!(flask.files[0].name.as_deref(), Some("flask-3.0.3.tar.gz"));
    assert_eq!(
        flask.files[0].sha256,
        "ceb27b0af3823ea2737928a4d99d125a06175b8512c445cbd9a9ce200ef76842"
    );
    assert!(
        flask.files[0]
            .url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://") && u.ends_with("/flask-3.0.3.tar.gz")),
        "{:?}",
        flask.files[0]
    );
    assert_eq!(package(&lock, "markupsafe").files.len(), 60);
    // Without the project, what it needs is unknown.
    let text = fixture("pdm-2.1-webapp", "pdm.lock");
    let problem = one(read(&text, None));
    assert_eq!(at(&text, &problem), "\"4.0\"");
}

#[test]
fn a_graph_lock_follows_extras_entries_and_the_project_itself() {
    let text = include_str!("testdata/graph.pdm.lock");
    let pyproject = include_str!("testdata/graph.pyproject.toml");
    let lock = read(text, Some(pyproject)).expect("a lock");
    assert_eq!(
        package(&lock, "app").source,
        Source::Project { path: ".".into() }
    );
    assert_eq!(lock.default_groups, ["test"]);
    // uvicorn[standard] brings httptools and uvloop.
    let main = [
        "click==8.1.7",
        "h11==0.14.0",
        "httptools==0.6.1",
        "uvicorn==0.30.0",
        "uvloop==0.19.0",
    ];
    assert_eq!(installs(&lock, "3.11.2", &[], &[]), main);
    let mut with_pg: Vec<String> = main
        .iter()
        .chain(&["psycopg==3.1.18", "typing-extensions==4.9.0"])
        .map(|s| s.to_string())
        .collect();
    with_pg.sort();
    assert_eq!(installs(&lock, "3.11.2", &["pg"], &[]), with_pg);
    // The test group installs the project itself with its `pg` extra: its dependencies, not it.
    let test = installs(&lock, "3.11.2", &[], &["test"]);
    assert!(!test.iter().any(|p| p.starts_with("app==")));
    for wanted in [
        "psycopg==3.1.18",
        "pytest==8.0.0",
        "pluggy==1.4.0",
        "uvloop==0.19.0",
    ] {
        assert!(test.contains(&wanted.to_string()), "{wanted}: {test:?}");
    }
    assert!(!test.contains(&"tomli==2.0.1".to_string()));
    assert!(installs(&lock, "3.10.13", &[], &["test"]).contains(&"tomli==2.0.1".to_string()));
    let uvicorn = package(&lock, "uvicorn");
    assert_eq!(uvicorn.extras.keys().collect::<Vec<_>>(), ["standard"]);
    assert!(
        uvicorn.extras["standard"]
            .iter()
            .all(|e| e.name != "uvicorn")
    );
}

#[test]
fn sources_and_hashes_come_out_as_the_lock_says() {
    let text = include_str!("testdata/sources.pdm.lock");
    let lock = read(text, None).expect("a lock");
    assert_eq!(lock.requires_python.as_deref(), Some(">=3.11"));
    assert_eq!(
        package(&lock, "app").source,
        Source::Project { path: ".".into() }
    );
    assert_eq!(
        package(&lock, "gitpkg").source,
        Source::Git {
            url: "https://github.com/acme/gitpkg.git".into(),
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
        }
    );
    assert_eq!(
        package(&lock, "locallib").source,
        Source::Path {
            path: "./libs/locallib".into()
        }
    );
    let remote = package(&lock, "remote");
    assert_eq!(
        remote.source,
        Source::Url {
            url: "https://example.com/remote-3.0.tar.gz".into()
        }
    );
    assert_eq!(remote.files[0].name.as_deref(), Some("remote-3.0.tar.gz"));
    let uvicorn = package(&lock, "uvicorn");
    assert_eq!(
        uvicorn.files[0].name.as_deref(),
        Some("uvicorn-0.30.0-py3-none-any.whl")
    );
    assert_eq!(
        lock.packages.iter().filter(|p| p.name == "uvicorn").count(),
        1
    );
    let md5 = package(&lock, "md5only");
    assert!(md5.files.is_empty());
    assert!(
        pinned(&[md5], ".", "/ctx")
            .expect_err("no sha256")
            .message
            .contains("sha256")
    );
    assert_eq!(
        installs(&lock, "3.11.2", &[], &[]),
        [
            "gitpkg==1.0",
            "locallib==0.2",
            "remote==3.0",
            "uvicorn==0.30.0",
            "uvloop==0.19.0"
        ]
    );
    // The project itself is in `dev`, and is never installed from the lock.
    let dev = installs(&lock, "3.11.2", &[], &["dev"]);
    assert!(dev.contains(&"md5only==5.0".to_string()));
    assert!(!dev.iter().any(|p| p.starts_with("app==")));
    let chosen = select(&lock, &env("3.11.2", "linux/amd64"), &[], Some(&[])).expect("selection");
    let lines = pinned(&chosen, ".", "/ctx").expect("pinned");
    assert!(
        lines
            .unhashed
            .contains(&"locallib @ file:///ctx/libs/locallib".to_string())
    );
}

#[test]
fn git_sources_pdm_cannot_pin_or_pyslim_cannot_install_are_problems() {
    let base = include_str!("testdata/sources.pdm.lock");
    let editable = base.replace(
        "revision = \"0123456789abcdef0123456789abcdef01234567\"\n",
        "editable = true\n",
    );
    let problem = one(read(&editable, None));
    assert!(
        problem.message.contains("without a revision"),
        "{problem:?}"
    );
    assert_eq!(
        at(&editable, &problem),
        "\"https://github.com/acme/gitpkg.git\""
    );
    let sub = base.replace(
        "ref = \"main\"\n",
        "ref = \"main\"\nsubdirectory = \"pkg\"\n",
    );
    let problem = one(read(&sub, None));
    assert!(
        problem.message.contains("subdirectory `pkg`"),
        "{problem:?}"
    );
}

#[test]
fn every_fixture_is_fresh_and_a_changed_dependency_makes_it_stale() {
    let cases = [
        ("pdm-webapp", "\"gunicorn>=23.0\"", "\"gunicorn>=24.0\""),
        (
            "pdm-webapp",
            "cache = [\"redis>=5.0,<6\"]",
            "cache = [\"redis>=5.1,<6\"]",
        ),
        // pdm 2.20 and later hash [dependency-groups] and [tool.pdm.dev-dependencies] merged.
        ("pdm-webapp", "\"pytest>=8.0\"", "\"pytest>=8.1\""),
        ("pdm-webapp", "\"pyflakes>=3.2\"", "\"pyflakes>=3.3\""),
        (
            "pdm-webapp",
            "requires-python = \">=3.10\"",
            "requires-python = \">=3.11\"",
        ),
        ("pdm-2.1-webapp", "\"gunicorn>=21.2\"", "\"gunicorn>=22\""),
        ("pdm-2.1-webapp", "\"pytest>=7.4\"", "\"pytest>=8\""),
    ];
    for (project, from, to) in cases {
        let lock = fixture(project, "pdm.lock");
        let pyproject = fixture(project, "pyproject.toml");
        assert!(read(&lock, Some(&pyproject)).is_ok(), "{project}");
        let changed = pyproject.replace(from, to);
        assert_ne!(changed, pyproject, "{project}");
        let problem = one(read(&lock, Some(&changed)));
        assert!(
            problem
                .message
                .starts_with("is out of date with pyproject.toml"),
            "{problem:?}"
        );
        assert_eq!(
            problem.hint.as_deref(),
            Some("run `pdm lock` and commit the lock")
        );
        let recorded = at(&lock, &problem);
        assert!(recorded.starts_with("\"sha256:"), "{recorded}");
        assert!(lock.contains(&format!("content_hash = {recorded}")));
    }
    let graph = include_str!("testdata/graph.pdm.lock");
    let pyproject = include_str!("testdata/graph.pyproject.toml");
    let changed = pyproject.replace("psycopg>=3", "psycopg>=3.1");
    assert!(
        one(read(graph, Some(&changed)))
            .message
            .starts_with("is out of date")
    );
}

#[test]
fn the_content_hashes_are_those_each_pdm_wrote() {
    let hashes = |project: &str| {
        let text = fixture(project, "pyproject.toml");
        let parsed = Project::parse(&text, RELOCK).expect("TOML");
        content_hashes(&parsed.doc).expect("hashable")
    };
    let recorded = |project: &str| {
        let lock = fixture(project, "pdm.lock");
        lock.lines()
            .find_map(|l| l.strip_prefix("content_hash = \"sha256:"))
            .expect("a content_hash")
            .trim_end_matches('"')
            .to_string()
    };
    // pdm 2.29.4 wrote the first; pdm 2.19.3, locking the same pyproject.toml, the second.
    let webapp = hashes("pdm-webapp");
    assert_eq!(webapp[0], recorded("pdm-webapp"));
    assert_eq!(
        webapp[1],
        "82dce222a04a5b5f5fd29a24315778da4250c4081cb15b77532c1796f6fbe1ad"
    );
    // pdm 2.1.5 wrote it, and pdm 2.7.4 the same for the same pyproject.toml (without
    // overrides the last two are one).
    let old = hashes("pdm-2.1-webapp");
    assert_eq!(old[2], recorded("pdm-2.1-webapp"));
    assert_eq!(old[3], old[2]);
    assert_ne!(old[0], old[2]);
}

#[test]
fn content_hashes_are_pdms() {
    // Each checked against pdm's PyProject.content_hash (as of each version) run by CPython.
    let project =
        Project::parse(include_str!("testdata/groups.pyproject.toml"), RELOCK).expect("TOML");
    assert_eq!(
        content_hashes(&project.doc).expect("hashable"),
        [
            // pdm 2.20 and later: [dependency-groups] and dev-dependencies merged
            "7d81c5dcb9475660df81df2a0e5d4755c664d2db334e485ad44cc5ba9dd2d0d8",
            // pdm 2.16 to 2.19: [tool.pdm.resolution]
            "bee1dc09cc56b325ff699229b797cb63c769009433fa23a0a74c8ce59ed5d900",
            // pdm 2.3 to 2.15: resolution overrides
            "a39176af8d08285f7afa0ffc0fee656ba06cae866df7b9db564c4f5db9457c9c",
            // pdm 2.0 to 2.2: [tool.pdm.overrides]
            "c73ccefedad305f63c89bdbf9f61dfd33ae864b62202a566420426c03c6ad14e",
        ]
    );
    assert_eq!(pdm_name("Test_Suite"), "test-suite");
    assert_eq!(pdm_name("a..b"), "a-b");
    // What this cannot hash as pdm does is not judged.
    for unjudged in [
        "[tool.poetry]\nname = 'converted-by-pdm'\n",
        "[project]\nname = 'a'\n[tool.pdm.workspace]\nmembers = ['packages/*']\n",
        "[project]\nname = 'a'\nrequires-python = '>=3.11'\n[tool.pdm.resolution]\nx = 1.5\n",
    ] {
        let project = Project::parse(unjudged, RELOCK).expect("TOML");
        assert_eq!(content_hashes(&project.doc), None, "{unjudged}");
    }
    // pdm 2.28's lock inputs replace the hash.
    let text = fixture("pdm-webapp", "pdm.lock").replace(
        "lock_version = \"4.5.1\"",
        "lock_version = \"4.5.1\"\nlock_inputs = {}",
    );
    assert!(read(&text, Some("[project]\nname = 'other'\n")).is_ok());
}

#[test]
fn a_garbled_lock_is_a_problem_where_it_is_garbled() {
    let lock = fixture("pdm-webapp", "pdm.lock");
    let broken = lock.replacen("name = \"itsdangerous\"", "name = \"itsdangerous", 1);
    let problem = one(read(&broken, None));
    assert!(
        problem.message.starts_with("is not valid TOML"),
        "{problem:?}"
    );
    let span = problem.span.clone().expect("a span");
    let line = line_of(
        &broken,
        broken.find("name = \"itsdangerous\n").expect("there"),
    );
    assert_eq!(line_of(&broken, span.start), line, "{problem:?}");

    let wrong = lock.replacen("version = \"2.2.0\"", "version = 2.2", 1);
    let problem = one(read(&wrong, None));
    assert_eq!(at(&wrong, &problem), "2.2");
    assert_eq!(
        problem.message,
        "gives `itsdangerous` a version that is not a string"
    );

    let bad_dep = lock.replacen(
        "\"blinker>=1.9.0\"",
        "\"blinker>=1.9.0; os_name ==== 'nt'\"",
        1,
    );
    let problem = one(read(&bad_dep, None));
    assert!(
        problem.message.contains("marker pyslim cannot read"),
        "{problem:?}"
    );
    assert_eq!(
        at(&bad_dep, &problem),
        "\"blinker>=1.9.0; os_name ==== 'nt'\""
    );

    let old = lock.replace("lock_version = \"4.5.1\"", "lock_version = \"3.1\"");
    let problem = one(read(&old, None));
    assert_eq!(at(&old, &problem), "\"3.1\"");
    assert!(
        problem.message.contains("pyslim does not read"),
        "{problem:?}"
    );
}
