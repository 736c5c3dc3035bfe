use super::*;

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

#[test]
fn finds_what_a_command_starts() {
    for (words, expected) in [
        (&["python", "main.py"][..], Some(Start::Script("main.py"))),
        (
            &[
                "/usr/local/bin/python3.11",
                "-u",
                "-W",
                "ignore",
                "app/run.py",
                "--port",
                "8",
            ],
            Some(Start::Script("app/run.py")),
        ),
        (
            &["python", "-m", "pkg.sub", "--x"],
            Some(Start::Module("pkg.sub")),
        ),
        (&["python3", "-u", "-mpkg"], Some(Start::Module("pkg"))),
        (&["python", "-c", "print(1)"], None),
        (&["python", "-"], None),
        (&["python"], None),
        (&["gunicorn", "main:app"], Some(Start::Program("gunicorn"))),
        (&["pythonista", "x.py"], Some(Start::Program("pythonista"))),
        (&["/usr/local/bin/tool"], None),
        (&["./run.sh"], None),
    ] {
        assert_eq!(start(&argv(words)), expected, "{words:?}");
    }
}

#[test]
fn only_scripts_in_the_workdir_are_checked() {
    assert_eq!(inside("/app", "main.py"), Some("main.py"));
    assert_eq!(inside("/app", "./src/main.py"), Some("src/main.py"));
    assert_eq!(inside("/app", "/app/main.py"), Some("main.py"));
    assert_eq!(inside("/app/", "/app/main.py"), Some("main.py"));
    assert_eq!(inside("/app", "/usr/local/bin/tool.py"), None);
    assert_eq!(inside("/app", "/application/x.py"), None);
    assert_eq!(inside("/app", "../x.py"), None);
    assert_eq!(inside("/", "main.py"), Some("main.py"));
    assert_eq!(inside("/", "/usr/local/bin/tool.py"), None);
}

fn app(deploy: Deploy, scripts: Option<&[&str]>, roots: Option<&[&str]>) -> FoundApp {
    FoundApp {
        path: "svc".into(),
        deploy,
        build_requires: Vec::new(),
        dependencies: Vec::new(),
        metadata: None,
        dynamic: false,
        requirement_files: Vec::new(),
        local: Vec::new(),
        scripts: scripts.map(|s| s.iter().map(|n| n.to_string()).collect()),
        module_roots: roots.map(|r| r.iter().map(|n| n.to_string()).collect()),
    }
}

const NONE: Unknowns = Unknowns {
    modules: false,
    programs: false,
};
const PROGRAMS: Unknowns = Unknowns {
    modules: false,
    programs: true,
};
const BOTH: Unknowns = Unknowns {
    modules: true,
    programs: true,
};

/// A module, the app, what the image may hold unseen, the files the app's directory has,
/// and what the message says (`None`: no problem).
type ModuleCase<'a> = (
    &'a str,
    Option<&'a FoundApp>,
    Unknowns,
    &'a [&'a str],
    Option<&'a str>,
);

#[test]
fn a_module_is_missing_only_when_nothing_could_provide_it() {
    let source = app(Deploy::Source, Some(&[]), Some(&[""]));
    let package = app(Deploy::Package, Some(&[]), Some(&["", "src/"]));
    let placed = app(Deploy::Package, None, None);
    let cases: &[ModuleCase<'_>] = &[
        ("web", Some(&source), NONE, &["web.py"], None),
        ("web", Some(&source), NONE, &["web/__main__.py"], None),
        (
            "web.cli",
            Some(&source),
            NONE,
            &["web/cli/__init__.py"],
            None,
        ),
        (
            "web",
            Some(&source),
            NONE,
            &[],
            Some("the app's directory `svc` has no `web.py` or `web/`"),
        ),
        // A dependency may provide it; Python and pip always do.
        ("gunicorn", Some(&source), BOTH, &[], None),
        ("http.server", Some(&source), NONE, &[], None),
        ("pip", None, NONE, &[], None),
        // The app's own package shadows any other: its submodule must be there.
        (
            "web.mian",
            Some(&source),
            BOTH,
            &["web/__init__.py"],
            Some("the app's package `web` (`svc/web`) has no module `mian`"),
        ),
        // A package: in its directory or `src/`, unless it places its modules itself.
        (
            "greet",
            Some(&package),
            NONE,
            &["src/greet/__init__.py"],
            None,
        ),
        (
            "greet",
            Some(&package),
            NONE,
            &[],
            Some("no `greet.py` or `greet/`, nor `src/greet.py` or `src/greet/`"),
        ),
        (
            "greet.cli",
            Some(&package),
            BOTH,
            &["src/greet/__init__.py"],
            Some("the app's package `greet` (`svc/src/greet`) has no module `cli`"),
        ),
        ("greet", Some(&placed), NONE, &[], None),
        (
            "flask",
            None,
            NONE,
            &[],
            Some("the spec has no app and installs no Python package"),
        ),
        ("flask", None, BOTH, &[], None),
    ];
    for (module, app, unknowns, files, says) in cases {
        let exists = |path: &str| files.contains(&path);
        let missing = missing_module(module, *app, *unknowns, &exists);
        match (says, &missing) {
            (None, None) => {}
            (Some(says), Some(missing)) => {
                assert!(
                    missing.message.contains(says),
                    "{module}: {}",
                    missing.message
                );
                assert!(!missing.hint.is_empty());
            }
            _ => panic!("{module} with {files:?}: {missing:?}"),
        }
    }
    // Each file asked for is one of these.
    assert_eq!(
        module_files("web.cli", &["".into(), "src/".into()]),
        [
            "web/cli.py",
            "web/cli/__init__.py",
            "web/cli/__main__.py",
            "web/__init__.py",
            "src/web/cli.py",
            "src/web/cli/__init__.py",
            "src/web/cli/__main__.py",
            "src/web/__init__.py"
        ]
    );
}

#[test]
fn a_command_is_missing_only_when_nothing_could_install_it() {
    let source = app(Deploy::Source, Some(&[]), Some(&[""]));
    let greeter = app(Deploy::Package, Some(&["greet"]), Some(&["", "src/"]));
    let bare = app(Deploy::Package, Some(&[]), Some(&["", "src/"]));
    let setup_py = app(Deploy::Package, None, None);
    let cases: &[(&str, Option<&FoundApp>, Unknowns, Option<&str>)] = &[
        (
            "gunicorn",
            None,
            NONE,
            Some("the spec installs no app, Python package or `runtime:` package"),
        ),
        ("gunicorn", None, PROGRAMS, None),
        ("sleep", None, NONE, None),
        ("python3.11", None, NONE, None),
        (
            "gunicorn",
            Some(&source),
            NONE,
            Some("the app `svc` is copied as source"),
        ),
        ("greet", Some(&greeter), NONE, None),
        (
            "greeter",
            Some(&greeter),
            NONE,
            Some("declares only the console script `greet`"),
        ),
        (
            "greet",
            Some(&bare),
            NONE,
            Some("declares no console script"),
        ),
        ("greet", Some(&setup_py), NONE, None),
        ("greet", Some(&bare), BOTH, None),
    ];
    for (program, app, unknowns, says) in cases {
        let missing = missing_program(program, *app, *unknowns);
        match (says, &missing) {
            (None, None) => {}
            (Some(says), Some(missing)) => {
                assert!(
                    missing.message.contains(says),
                    "{program}: {}",
                    missing.message
                );
                assert!(missing.hint.contains("requirements:"), "{}", missing.hint);
            }
            _ => panic!("{program}: {missing:?}"),
        }
    }
}

#[test]
fn what_the_image_may_hold_unseen() {
    let unknowns = |yaml: &str| {
        let spec = pyslim_spec::load(pyslim_spec::SourceFile::new("pyslim.yaml", yaml))
            .expect("valid spec");
        Unknowns::of(&spec, None, false)
    };
    assert_eq!(unknowns("python: '3.11'\napp: .\n"), NONE);
    assert_eq!(
        unknowns("python: '3.11'\napp: .\nrequirements: r.txt\n"),
        BOTH
    );
    assert_eq!(
        unknowns("python: '3.11'\nruntime: [redis-server]\n"),
        PROGRAMS
    );
    assert_eq!(
        unknowns("python: '3.11'\napp: .\nenv: {PATH: '/opt/bin:/usr/bin'}\n"),
        PROGRAMS
    );
    assert_eq!(
        unknowns("python: '3.11'\napp: .\nenv: {PYTHONPATH: /app/src}\n"),
        BOTH
    );
    assert_eq!(
        unknowns("python: '3.11'\napp: .\nbuild-commands: [[pip, install, x]]\n"),
        BOTH
    );
    assert_eq!(
        unknowns("python: '3.11'\napp: .\nbase: {runtime: 'example.com/py:3.11'}\n"),
        BOTH
    );
}
