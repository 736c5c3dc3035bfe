use super::*;
use crate::platform::Platform;

fn env(python: &str, arch: &str) -> Environment {
    let platform = Platform::parse(arch).expect("a platform");
    Environment::new(python, &platform).expect("an environment")
}

fn package(name: &str, version: &str, deps: Vec<Edge>) -> Package {
    Package {
        name: name.into(),
        version: Some(version.into()),
        source: Source::Registry { url: None },
        files: vec![Dist {
            name: None,
            url: None,
            sha256: "a".repeat(64),
        }],
        dependencies: deps,
        extras: BTreeMap::new(),
        span: None,
    }
}

fn when(name: &str, marker_text: &str) -> Edge {
    Edge {
        marker: marker(marker_text, None).expect("a marker"),
        ..Edge::to(name)
    }
}

#[test]
fn file_names_say_the_format() {
    assert_eq!(Format::of_file_name("uv.lock"), Some(Format::Uv));
    assert_eq!(
        Format::of_file_name("a/b/poetry.lock"),
        Some(Format::Poetry)
    );
    assert_eq!(
        Format::of_file_name("pylock.dev.toml"),
        Some(Format::Pylock)
    );
    assert_eq!(Format::of_file_name("Pipfile.lock"), Some(Format::Pipfile));
    assert_eq!(Format::of_file_name("requirements.lock"), None);
    assert_eq!(Format::of_file_name("pyproject.toml"), None);
}

#[test]
fn the_walk_follows_only_edges_whose_marker_holds() {
    let lock = Lock {
        main: vec![Edge::to("app-dep")],
        packages: vec![
            package(
                "app-dep",
                "1.0",
                vec![
                    when("colorama", "sys_platform == 'win32'"),
                    when("uvloop", "platform_machine == 'x86_64'"),
                    when("tomli", "python_version < '3.11'"),
                    when("exceptiongroup", "python_full_version < '3.11.4'"),
                ],
            ),
            package("colorama", "0.4", vec![]),
            package("uvloop", "0.19", vec![]),
            package("tomli", "2.0", vec![]),
            package("exceptiongroup", "1.2", vec![]),
        ],
        ..Lock::default()
    };
    let names = |e: &Environment| -> Vec<String> {
        select::select(&lock, e, &[], None)
            .expect("a selection")
            .iter()
            .map(|p| p.name.clone())
            .collect()
    };
    assert_eq!(
        names(&env("3.11.2", "linux/amd64")),
        ["app-dep", "uvloop", "exceptiongroup"]
    );
    assert_eq!(names(&env("3.11.9", "linux/arm64")), ["app-dep"]);
    assert_eq!(
        names(&env("3.10.1", "linux/arm64")),
        ["app-dep", "tomli", "exceptiongroup"]
    );
}

#[test]
fn groups_and_extras_add_their_edges() {
    let mut lock = Lock {
        main: vec![Edge::to("flask")],
        packages: vec![
            package("flask", "3.0", vec![]),
            package("pytest", "8.0", vec![]),
            package("psycopg", "3.1", vec![]),
        ],
        ..Lock::default()
    };
    lock.groups.insert("test".into(), vec![Edge::to("pytest")]);
    lock.extras.insert("pg".into(), vec![Edge::to("psycopg")]);
    let e = env("3.11", "linux/amd64");
    let picked =
        select::select(&lock, &e, &["pg".into()], Some(&["test".into()])).expect("a selection");
    let names: Vec<&str> = picked.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["flask", "pytest", "psycopg"]);
}

#[test]
fn an_edge_to_a_package_the_lock_lacks_is_a_problem() {
    let lock = Lock {
        main: vec![Edge::to("ghost")],
        ..Lock::default()
    };
    let error = select::select(&lock, &env("3.11", "linux/amd64"), &[], None).expect_err("ghost");
    assert!(error.message.contains("ghost"), "{error}");
}

#[test]
fn pinned_lines_carry_every_hash_and_local_sources_go_unhashed() {
    let mut flask = package("flask", "3.0.0", vec![]);
    flask.files.push(Dist {
        name: None,
        url: None,
        sha256: "b".repeat(64),
    });
    let git = Package {
        source: Source::Git {
            url: "https://example.com/x.git".into(),
            commit: "c".repeat(40),
        },
        files: vec![],
        ..package("x", "1", vec![])
    };
    let local = Package {
        source: Source::Path {
            path: "../libs/y".into(),
        },
        files: vec![],
        ..package("y", "1", vec![])
    };
    let pinned = render::pinned(&[&flask, &git, &local], "services/api", "/ctx").expect("pinned");
    assert_eq!(
        pinned.hashed,
        [format!(
            "flask==3.0.0 --hash=sha256:{} --hash=sha256:{}",
            "a".repeat(64),
            "b".repeat(64)
        )]
    );
    assert_eq!(
        pinned.unhashed,
        [
            format!("x @ git+https://example.com/x.git@{}", "c".repeat(40)),
            "y @ file:///ctx/services/libs/y".to_string()
        ]
    );
    assert_eq!(pinned.context, ["services/libs/y"]);
}

#[test]
fn a_registry_package_without_hashes_is_refused() {
    let mut bare = package("flask", "3.0.0", vec![]);
    bare.files.clear();
    let error = render::pinned(&[&bare], ".", "/ctx").expect_err("no hash");
    assert!(error.message.contains("sha256"), "{error}");
}
