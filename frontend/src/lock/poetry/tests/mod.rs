use super::roots::declared;
use super::*;
use crate::lock::Format;
use crate::lock::project::line_of;
use crate::lock::render::pinned;
use crate::lock::select::select;
use crate::lock::testing::{self, at, env, fixture, installs_on, one, package};

fn read(lock: &str, project: Option<&str>) -> Result<Lock, Vec<Problem>> {
    testing::read(Format::Poetry, lock, project)
}

fn fixture_lock(project: &str) -> Lock {
    testing::fixture_lock(Format::Poetry, project, "poetry.lock")
}

/// `name==version` of what a linux/amd64 target installs, sorted.
fn installs(lock: &Lock, python: &str, extras: &[&str], groups: &[&str]) -> Vec<String> {
    installs_on(lock, python, "linux/amd64", extras, groups)
}

/// What poetry-1.8-webapp installs on CPython 3.11, without extras or groups.
const POETRY_1_8_MAIN: [&str; 9] = [
    "blinker==1.9.0",
    "click==8.1.8",
    "flask==3.1.3",
    "gunicorn==23.0.0",
    "itsdangerous==2.2.0",
    "jinja2==3.1.6",
    "markupsafe==3.0.4",
    "packaging==26.3",
    "werkzeug==3.1.9",
];

/// `base` and `more`, sorted.
fn with(base: &[&str], more: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = base.iter().chain(more).map(|s| s.to_string()).collect();
    out.sort();
    out
}

#[test]
fn a_poetry_1_lock_2_0_is_walked_from_the_project() {
    let lock = fixture_lock("poetry-1.8-webapp");
    assert_eq!(lock.requires_python.as_deref(), Some("^3.9"));
    assert_eq!(lock.default_groups, ["dev"]);
    assert_eq!(lock.extras.keys().collect::<Vec<_>>(), ["cache"]);
    // colorama only where sys_platform is win32 (and click's where platform_system is
    // Windows); tomli only before 3.11.
    assert_eq!(installs(&lock, "3.11.2", &[], &[]), POETRY_1_8_MAIN);
    // flask needs importlib-metadata (and it zipp) before 3.10.
    assert_eq!(
        installs(&lock, "3.9.18", &[], &[]),
        with(
            &POETRY_1_8_MAIN,
            &["importlib-metadata==8.7.1", "tomli==2.5.0", "zipp==3.23.1"]
        )
    );
    // The extra `cache` is redis; redis needs async-timeout before 3.11.3.
    assert_eq!(
        installs(&lock, "3.11.2", &["cache"], &[]),
        with(
            &POETRY_1_8_MAIN,
            &["async-timeout==5.0.1", "pyjwt==2.15.1", "redis==5.3.1"]
        )
    );
    assert_eq!(
        installs(&lock, "3.12.1", &["cache"], &[]),
        with(&POETRY_1_8_MAIN, &["pyjwt==2.15.1", "redis==5.3.1"])
    );
    let dev = [
        "iniconfig==2.1.0",
        "pluggy==1.6.0",
        "pygments==2.21.0",
        "pytest==8.4.2",
    ];
    assert_eq!(
        installs(&lock, "3.11.2", &[], &["dev"]),
        with(&POETRY_1_8_MAIN, &dev)
    );
    // pytest needs exceptiongroup (and it typing-extensions) and tomli before 3.11.
    let old = installs(&lock, "3.10.13", &[], &["dev"]);
    for wanted in [
        "exceptiongroup==1.3.2",
        "tomli==2.5.0",
        "typing-extensions==4.16.0",
    ] {
        assert!(old.contains(&wanted.to_string()), "{wanted}: {old:?}");
    }
    assert!(!old.iter().any(|p| p.starts_with("colorama")), "{old:?}");
    let blinker = package(&lock, "blinker");
    assert_eq!(blinker.source, Source::Registry { url: None });
    assert_eq!(
        blinker.files,
        [
            Dist {
                name: Some("blinker-1.9.0-py3-none-any.whl".into()),
                url: None,
                sha256: "ba0efaa9080b619ff2f3459d1d500c57bddea4a6b424b60a91141db6fd2f08bc".into(),
            },
            Dist {
                name: Some("blinker-1.9.0.tar.gz".into()),
                url: None,
                sha256: "b4ce2265a7abece45e7cc896e98dbebe6cead56bcf805a3d23136d145f5445bf".into(),
            },
        ]
    );
    let text = fixture("poetry-1.8-webapp", "poetry.lock");
    assert_eq!(
        at(&text, &Problem::at(blinker.span.clone(), "")),
        "\"blinker\""
    );
}

#[test]
fn a_poetry_1_lock_1_1_finds_its_hashes_in_metadata_files() {
    let lock = fixture_lock("poetry-1.1-webapp");
    let main = [
        "blinker==1.8.2",
        "click==8.1.8",
        "flask==2.3.3",
        "gunicorn==21.2.0",
        "itsdangerous==2.2.0",
        "jinja2==3.1.6",
        "markupsafe==2.1.5",
        "packaging==26.2",
        "werkzeug==3.0.6",
    ];
    assert_eq!(installs(&lock, "3.11.2", &[], &[]), main);
    assert_eq!(
        installs(&lock, "3.8.18", &[], &[]),
        with(
            &main,
            &["importlib-metadata==8.5.0", "tomli==2.5.0", "zipp==3.20.2"]
        )
    );
    // [tool.poetry.dev-dependencies] is the group `dev`, installed by default.
    assert_eq!(lock.default_groups, ["dev"]);
    assert_eq!(
        installs(&lock, "3.11.2", &[], &["dev"]),
        with(
            &main,
            &["iniconfig==2.1.0", "pluggy==1.5.0", "pytest==7.4.4"]
        )
    );
    let markupsafe = package(&lock, "markupsafe");
    assert_eq!(markupsafe.files.len(), 60);
    assert_eq!(
        markupsafe.files[0],
        Dist {
            name: Some("MarkupSafe-2.1.5-cp310-cp310-macosx_10_9_universal2.whl".into()),
            url: None,
            sha256: "a17a92de5231666cfbe003f0e4b9b3a7ae3afb1ec2845aadc2bacc93ff85febc".into(),
        }
    );
    // `[metadata.files]` keys the package by its name as written.
    assert_eq!(package(&lock, "importlib-metadata").files.len(), 2);
    // Every package names the project's one source, the index it was locked from.
    let text = fixture("poetry-1.1-webapp", "poetry.lock");
    let Source::Registry { url: Some(index) } = &markupsafe.source else {
        panic!("{:?}", markupsafe.source);
    };
    assert!(text.contains(&format!("url = \"{index}\"")), "{index}");
    assert!(lock.packages.iter().all(|p| p.source == markupsafe.source));
}

#[test]
fn a_poetry_2_lock_of_a_pep_621_project() {
    let lock = fixture_lock("poetry-2-webapp");
    assert_eq!(lock.requires_python.as_deref(), Some(">=3.10"));
    assert!(lock.packages.iter().all(|p| p.dependencies.is_empty()));
    // A [dependency-groups] group is installed by default.
    assert_eq!(lock.default_groups, ["test"]);
    let main = [
        "blinker==1.9.0",
        "click==8.5.1",
        "flask==3.1.3",
        "gunicorn==27.0.1",
        "itsdangerous==2.2.0",
        "jinja2==3.1.6",
        "markupsafe==3.0.4",
        "werkzeug==3.1.9",
    ];
    // colorama only where sys_platform is win32.
    assert_eq!(installs(&lock, "3.11.2", &[], &[]), main);
    // async-timeout's marker: `extra == "cache" and python_full_version < "3.11.3"`.
    assert_eq!(
        installs(&lock, "3.11.2", &["cache"], &[]),
        with(
            &main,
            &["async-timeout==5.0.1", "pyjwt==2.15.1", "redis==5.3.1"]
        )
    );
    assert_eq!(
        installs(&lock, "3.12.1", &["cache"], &[]),
        with(&main, &["pyjwt==2.15.1", "redis==5.3.1"])
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
        with(&main, &test)
    );
    // exceptiongroup, tomli (and typing-extensions) only on 3.10.
    let mut old: Vec<&str> = test.to_vec();
    old.extend([
        "exceptiongroup==1.3.2",
        "tomli==2.5.0",
        "typing-extensions==4.16.0",
    ]);
    assert_eq!(
        installs(&lock, "3.10.13", &[], &["test"]),
        with(&main, &old)
    );
}

#[test]
fn a_poetry_2_lock_of_a_tool_poetry_project() {
    let lock = fixture_lock("poetry-2-cli");
    assert_eq!(lock.requires_python.as_deref(), Some("^3.10"));
    assert!(lock.packages.iter().all(|p| p.dependencies.is_empty()));
    // The optional group `docs` is locked, not installed by default.
    assert_eq!(lock.groups.keys().collect::<Vec<_>>(), ["dev", "docs"]);
    assert_eq!(lock.default_groups, ["dev"]);
    // requests[socks] brings pysocks.
    let main = [
        "certifi==2026.10.19.post1",
        "charset-normalizer==3.5.3",
        "click==8.5.1",
        "idna==3.20",
        "pysocks==1.7.1",
        "requests==2.34.2",
        "urllib3==2.8.0",
    ];
    assert_eq!(installs(&lock, "3.11.2", &[], &[]), main);
    assert_eq!(
        installs(&lock, "3.11.2", &["pretty"], &[]),
        with(
            &main,
            &[
                "markdown-it-py==4.3.0",
                "mdurl==0.1.2",
                "pygments==2.21.0",
                "rich==14.3.4"
            ]
        )
    );
    assert_eq!(
        installs(&lock, "3.11.2", &[], &["docs"]),
        with(&main, &["docutils==0.21.2"])
    );
    let dev = installs(&lock, "3.11.2", &[], &["dev"]);
    assert_eq!(
        dev,
        with(
            &main,
            &[
                "iniconfig==2.3.1",
                "packaging==26.4",
                "pluggy==1.7.0",
                "pygments==2.21.0",
                "pytest==8.4.2"
            ]
        )
    );
    let old = installs(&lock, "3.10.13", &[], &["dev"]);
    assert_eq!(old.len(), dev.len() + 3, "{old:?}");
    assert!(old.contains(&"tomli==2.5.0".to_string()));
}

#[test]
fn a_graph_lock_follows_python_and_platform_constraints_extras_and_groups() {
    let lock_text = include_str!("../testdata/graph.poetry.lock");
    let pyproject = include_str!("../testdata/graph.pyproject.toml");
    let lock = read(lock_text, Some(pyproject)).expect("a lock");
    assert_eq!(lock.default_groups, ["test"]);
    assert_eq!(installs(&lock, "3.11.2", &[], &[]), ["numpy==1.26.4"]);
    assert_eq!(
        installs(&lock, "3.9.18", &[], &[]),
        ["numpy==1.24.4", "tomli==2.0.1"]
    );
    assert_eq!(
        installs(&lock, "3.11.2", &["pg"], &["test", "docs"]),
        [
            "numpy==1.26.4",
            "psycopg-binary==3.1.0",
            "psycopg==3.1.0",
            "pytest==8.0.0",
            "sphinx==7.2.6",
        ]
    );
    // Without the pyproject.toml a 2.0 lock does not say what the project needs.
    let problem = one(read(lock_text, None));
    assert_eq!(at(lock_text, &problem), "\"2.0\"");
    assert!(problem.message.contains("pyproject.toml"), "{problem:?}");
}

#[test]
fn sources_and_hashes_come_out_as_the_lock_says() {
    let text = include_str!("../testdata/sources.poetry.lock");
    let lock = read(text, None).expect("a lock");
    assert_eq!(
        package(&lock, "gitpkg").source,
        Source::Git {
            url: "ssh://git@github.com/acme/gitpkg.git".into(),
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
        }
    );
    assert_eq!(
        package(&lock, "local-lib").source,
        Source::Path {
            path: "../libs/local".into()
        }
    );
    assert_eq!(
        package(&lock, "wheelfile").source,
        Source::Path {
            path: "dist/wheelfile-2.0-py3-none-any.whl".into()
        }
    );
    let remote = package(&lock, "remote");
    assert_eq!(
        remote.source,
        Source::Url {
            url: "https://example.com/remote-3.0.tar.gz".into()
        }
    );
    assert_eq!(remote.files[0].sha256, "b".repeat(64));
    let private = package(&lock, "private");
    assert_eq!(
        private.source,
        Source::Registry {
            url: Some("https://pypi.corp.example/simple".into())
        }
    );
    // The md5 hash cannot check a file; the sha256 (upper-case in the lock) can.
    assert_eq!(private.files.len(), 1);
    assert_eq!(private.files[0].sha256, "c".repeat(64));
    let md5 = package(&lock, "md5only");
    assert!(md5.files.is_empty());
    let refused = pinned(&[md5], ".", "/ctx").expect_err("no sha256");
    assert!(refused.message.contains("sha256"), "{refused}");
    assert!(package(&lock, "nohash").files.is_empty());

    assert_eq!(
        installs(&lock, "3.11.2", &[], &[]),
        [
            "gitpkg==1.0",
            "local-lib==0.1",
            "private==4.0",
            "remote==3.0",
            "wheelfile==2.0",
        ]
    );
    assert!(lock.extras.contains_key("extra1"));
    assert!(installs(&lock, "3.11.2", &["extra1"], &[]).contains(&"nohash==6.0".to_string()));
    // md5only is in `dev`, for x86_64 only.
    assert!(installs(&lock, "3.11.2", &[], &["dev"]).contains(&"md5only==5.0".to_string()));
    let arm = installs_on(&lock, "3.11.2", "linux/arm64", &[], &["dev"]);
    assert!(!arm.contains(&"md5only==5.0".to_string()), "{arm:?}");

    let chosen = select(&lock, &env("3.11.2", "linux/amd64"), &[], Some(&[])).expect("selection");
    let lines = pinned(&chosen, "app", "/ctx").expect("pinned");
    assert!(lines.unhashed.contains(
        &"gitpkg @ git+ssh://git@github.com/acme/gitpkg.git@0123456789abcdef0123456789abcdef01234567".to_string()
    ));
    assert!(
        lines
            .unhashed
            .contains(&"local-lib @ file:///ctx/libs/local".to_string())
    );
    assert!(lines.hashed.contains(&format!(
        "remote @ https://example.com/remote-3.0.tar.gz --hash=sha256:{}",
        "b".repeat(64)
    )));
}

#[test]
fn git_sources_poetry_cannot_pin_or_pyslim_cannot_install_are_problems() {
    let base = include_str!("../testdata/sources.poetry.lock");
    let unresolved = base.replace(
        "resolved_reference = \"0123456789abcdef0123456789abcdef01234567\"\n",
        "",
    );
    let problem = one(read(&unresolved, None));
    assert!(
        problem.message.contains("without the commit"),
        "{problem:?}"
    );
    assert_eq!(at(&unresolved, &problem), "[package.source]");
    let sub = base.replace(
        "reference = \"main\"\n",
        "reference = \"main\"\nsubdirectory = \"pkg\"\n",
    );
    let problem = one(read(&sub, None));
    assert!(
        problem.message.contains("subdirectory `pkg`"),
        "{problem:?}"
    );
    assert_eq!(at(&sub, &problem), "\"git@github.com:acme/gitpkg.git\"");
}

#[test]
fn a_garbled_lock_is_a_problem_where_it_is_garbled() {
    let lock = fixture("poetry-1.8-webapp", "poetry.lock");
    let broken = lock.replacen(
        "[[package]]\nname = \"blinker\"",
        "[[package]\nname = \"blinker\"",
        1,
    );
    let problem = one(read(&broken, None));
    assert!(
        problem.message.starts_with("is not valid TOML"),
        "{problem:?}"
    );
    let span = problem.span.clone().expect("a span");
    let line = line_of(
        &broken,
        broken
            .find("[[package]\nname = \"blinker\"")
            .expect("there"),
    );
    assert_eq!(line_of(&broken, span.start), line, "{problem:?}");

    let wrong = lock.replacen("version = \"1.9.0\"", "version = 1.9", 1);
    let problem = one(read(
        &wrong,
        Some(&fixture("poetry-1.8-webapp", "pyproject.toml")),
    ));
    assert_eq!(at(&wrong, &problem), "1.9");
    assert_eq!(
        problem.message,
        "gives `blinker` a version that is not a string"
    );

    let nameless = lock.replacen("name = \"blinker\"\n", "", 1);
    let problem = one(read(&nameless, None));
    assert_eq!(problem.message, "has a [[package]] without a name");

    let bad_marker = lock.replacen(
        "markers = \"platform_system == \\\"Windows\\\"\"",
        "markers = \"platform_system === \\\"Windows\\\"\"",
        1,
    );
    assert_ne!(bad_marker, lock);
    let problem = one(read(
        &bad_marker,
        Some(&fixture("poetry-1.8-webapp", "pyproject.toml")),
    ));
    assert!(
        problem.message.contains("marker pyslim cannot read"),
        "{problem:?}"
    );
    assert!(at(&bad_marker, &problem).contains("==="), "{problem:?}");

    // Problems of the pyproject.toml say its line: spans point into the lock.
    let pyproject =
        fixture("poetry-1.8-webapp", "pyproject.toml").replace("flask = \"^3.0\"", "flask = ");
    let problem = one(read(&lock, Some(&pyproject)));
    assert_eq!(problem.span, None);
    assert!(
        problem
            .message
            .contains("pyproject.toml, which is not valid TOML (line 9)"),
        "{problem:?}"
    );
    let bad = Project::parse(
        "[tool.poetry.dependencies]\npython = \"^3.11\"\nblessed = {version = \"*\", python = \"^^3\"}\n",
        RELOCK,
    )
    .expect("TOML");
    let problem = declared(&bad).err().expect("a problem");
    assert_eq!(problem.span, None);
    assert!(
        problem
            .message
            .contains("python constraint pyslim cannot read")
            && problem.message.ends_with("(line 3)"),
        "{problem:?}"
    );

    let future = lock.replace("lock-version = \"2.0\"", "lock-version = \"3.0\"");
    let problem = one(read(&future, None));
    assert_eq!(at(&future, &problem), "\"3.0\"");
}

#[test]
fn versionless_index_packages_are_refused() {
    let text = "[[package]]\nname = \"flask\"\ngroups = [\"main\"]\nfiles = []\n\n[metadata]\nlock-version = \"2.1\"\ncontent-hash = \"x\"\n";
    let problem = one(read(text, None));
    assert_eq!(problem.message, "pins `flask` without a version");
    assert_eq!(at(text, &problem), "\"flask\"");
}

mod content_hash;
