//! Build arguments and targets: what `--build-arg` and `--target` do to a spec.

use std::collections::BTreeMap;

use pyslim_spec::{LoadOptions, SourceFile, Spec, User, load_with};

const SPEC: &str = r#"python: "${PYTHON}"
args:
  PYTHON: "3.11"
  GREETING: hello
  TOKEN:
requirements: requirements.txt
env:
  GREETING: "${GREETING} $$HOME $PATH"
entrypoint: [python, -m, app]
targets:
  test:
    description: Runs the test suite
    requirements: [requirements-dev.txt, requirements.txt]
    system: [libpq-dev]
    env: {GREETING: tests, CI: "1"}
    cmd: [pytest]
  debug:
"#;

fn load(text: &str, args: &[(&str, &str)], target: Option<&str>) -> Result<Spec, String> {
    let options = LoadOptions {
        build_args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        target: target.map(String::from),
    };
    load_with(SourceFile::new("pyslim.yaml", text), &options).map_err(|d| d.to_string())
}

fn env(spec: &Spec, name: &str) -> Option<String> {
    spec.env
        .iter()
        .find(|(n, _)| n.as_str() == name)
        .map(|(_, v)| v.value.clone())
}

#[test]
fn defaults_and_build_args_expand() {
    let spec = load(SPEC, &[], None).expect("valid");
    let python = spec.python.as_ref().expect("written").value.clone();
    assert_eq!(python.as_str(), "3.11");
    assert_eq!(
        spec.base.runtime_image(&python).image.as_str(),
        "python:3.11-slim"
    );
    // `$$` is a literal `$`; a `$` not followed by `{` is left as written.
    assert_eq!(env(&spec, "GREETING").as_deref(), Some("hello $HOME $PATH"));
    let spec = load(SPEC, &[("PYTHON", "3.12"), ("GREETING", "hi")], None).expect("valid");
    let python = spec.python.as_ref().expect("written").value.clone();
    assert_eq!(python.as_str(), "3.12");
    assert_eq!(
        spec.base.compile_image(&python).image.as_str(),
        "python:3.12"
    );
    assert_eq!(env(&spec, "GREETING").as_deref(), Some("hi $HOME $PATH"));
    let names: Vec<_> = spec.args.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["PYTHON", "GREETING", "TOKEN"]);
    assert_eq!(spec.args[2].value, None);
}

/// A default uses the arguments declared above it, as `ARG B=${A}-y` does in a Dockerfile, and
/// takes their values in this build.
#[test]
fn a_default_uses_the_arguments_above_it() {
    let text = "python: \"3.11\"\napp: .\nargs: {A: x, B: \"${A}-y\"}\nenv: {V: \"${B}\"}\n";
    let v = |args: &[(&str, &str)]| env(&load(text, args, None).expect("valid"), "V");
    assert_eq!(v(&[]).as_deref(), Some("x-y"));
    assert_eq!(v(&[("A", "z")]).as_deref(), Some("z-y"));
    assert_eq!(v(&[("B", "q")]).as_deref(), Some("q"));
}

#[test]
fn undeclared_and_unset_arguments_are_located_errors() {
    let text = "python: \"3.11\"\nargs: {TOKEN: , PYTHON_VERSION: \"3.11\"}\nrequirements: requirements.txt\nenv:\n  A: \"x-${PYTHON_VERSON}\"\n  B: \"${TOKEN}\"\n  C: \"${oops\"\n";
    let error = load(text, &[], None).expect_err("invalid");
    assert!(
        error.contains(
            "pyslim.yaml:5:9: error: `${PYTHON_VERSON}` is not a declared build argument"
        ),
        "{error}"
    );
    assert!(
        error.contains("did you mean `${PYTHON_VERSION}`?"),
        "{error}"
    );
    assert!(
        error.contains("pyslim.yaml:6:7: error: build argument `TOKEN` has no value in this build"),
        "{error}"
    );
    assert!(error.contains("pass `--build-arg TOKEN=...`"), "{error}");
    assert!(
        error.contains("pyslim.yaml:7:7: error: `${` is not closed"),
        "{error}"
    );
    // Given on the command line, the same argument is fine.
    assert!(
        load(
            &text
                .replace("  C: \"${oops\"\n", "")
                .replace("VERSON", "VERSION"),
            &[("TOKEN", "t")],
            None
        )
        .is_ok()
    );
}

#[test]
fn a_target_adds_to_the_default_image() {
    let default = load(SPEC, &[], None).expect("valid");
    let test = load(SPEC, &[], Some("test")).expect("valid");
    let paths = |s: &Spec| {
        s.requirements
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(paths(&default), ["requirements.txt"]);
    assert_eq!(paths(&test), ["requirements.txt", "requirements-dev.txt"]);
    assert_eq!(test.system.len(), 1);
    assert_eq!(env(&test, "GREETING").as_deref(), Some("tests"));
    assert_eq!(env(&test, "CI").as_deref(), Some("1"));
    assert_eq!(test.entrypoint, default.entrypoint, "kept from the default");
    assert_eq!(
        test.cmd.as_ref().map(|c| c.value.clone()),
        Some(vec!["pytest".to_string()])
    );
    assert_eq!(test.user.value, User::default());
    assert_eq!(test.target.as_deref(), Some("test"));
    let names: Vec<_> = test
        .targets
        .iter()
        .map(|t| (t.name.as_str(), t.description.as_deref()))
        .collect();
    assert_eq!(
        names,
        [("test", Some("Runs the test suite")), ("debug", None)]
    );
    // An empty target is the default image under another name.
    let debug = load(SPEC, &[], Some("debug")).expect("valid");
    assert_eq!(paths(&debug), paths(&default));
}

#[test]
fn an_unknown_target_lists_the_valid_ones() {
    let error = load(SPEC, &[], Some("tset")).expect_err("invalid");
    assert!(
        error.contains("error: there is no target `tset` in this spec"),
        "{error}"
    );
    assert!(error.contains("valid targets: test, debug"), "{error}");
    let plain = "python: \"3.11\"\nrequirements: r.txt\n";
    let error = load(plain, &[], Some("test")).expect_err("invalid");
    assert!(error.contains("this spec defines no targets"), "{error}");
}

#[test]
fn targets_are_checked_even_when_not_built() {
    let text = "python: \"3.11\"\nrequirements: r.txt\ntargets:\n  test:\n    python: \"3.12\"\n    sytem: [gcc]\n";
    let error = load(text, &[], None).expect_err("invalid");
    assert!(
        error.contains("pyslim.yaml:5:5: error: `python` is not a key of target `test`"),
        "{error}"
    );
    assert!(
        error.contains("pyslim.yaml:6:5: error: `sytem` is not a key of target `test`"),
        "{error}"
    );
    assert!(error.contains("did you mean `system`?"), "{error}");
}

#[test]
fn extras_need_a_pyproject() {
    let ok = load(
        "python: \"3.11\"\nrequirements: pyproject.toml\nextras: [Postgres_Async]\n",
        &[],
        None,
    )
    .expect("valid");
    assert_eq!(ok.extras[0].as_str(), "postgres-async");
    let error = load(
        "python: \"3.11\"\nrequirements: r.txt\nextras: [dev]\n",
        &[],
        None,
    )
    .expect_err("invalid");
    assert!(
        error.contains("pyslim.yaml:3:10: error: `extras` choose optional dependencies"),
        "{error}"
    );
}

#[test]
fn runtime_packages_alone_are_an_image() {
    let helper = "python: \"3.11\"\nruntime: [redis-server]\nentrypoint: [redis-server]\n";
    let spec = load(helper, &[], None).expect("an image of system packages only is valid");
    assert!(spec.requirements.is_empty() && spec.app.is_none());
    assert_eq!(spec.runtime.len(), 1);
    // A target can be the one that adds them; the default image still installs nothing.
    let in_target = "python: \"3.11\"\ntargets:\n  redis:\n    runtime: [redis-server]\n";
    let redis = load(in_target, &[], Some("redis")).expect("the target installs a package");
    assert_eq!(redis.runtime.len(), 1);
    assert!(load(in_target, &[], None).is_err());
    // Nothing at all is still a mistake, and the hint now names the third way out.
    let error = load("python: \"3.11\"\nruntime: []\n", &[], None).expect_err("invalid");
    assert!(error.contains("the spec installs nothing"), "{error}");
    assert!(error.contains("`runtime: [redis-server]`"), "{error}");
}

#[test]
fn python_may_be_left_to_the_project() {
    let text = "# syntax=org/pyslim\n\nrequirements: r.txt\nbase: {runtime: \"registry.example.com/py:slim\"}\n";
    let spec = load(text, &[], None).expect("python is optional");
    assert_eq!(spec.python, None);
    // Problems with the spec as a whole point at its first key.
    assert_eq!((spec.top.line, spec.top.column), (3, 1));
    // The images it leaves out follow whichever version the build chooses; `base:` stays.
    let chosen = pyslim_spec::PythonVersion::parse("3.13").expect("a version");
    let compile = spec.base.compile_image(&chosen);
    assert_eq!(
        (compile.image.as_str(), compile.written),
        ("python:3.13", None)
    );
    let runtime = spec.base.runtime_image(&chosen);
    assert_eq!(runtime.image.as_str(), "registry.example.com/py:slim");
    assert_eq!(runtime.written.map(|s| s.line), Some(4));
}

#[test]
fn python_versions_and_their_series() {
    use pyslim_spec::PythonVersion;
    for (text, series) in [("3.13", "3.13"), ("3.13.1", "3.13"), ("3.9.18", "3.9")] {
        let version = PythonVersion::parse(text).expect("a version");
        assert_eq!(
            (version.as_str(), version.series().as_str()),
            (text, series)
        );
    }
    for bad in [
        "3", "3.", "2.7", "3.13.1.2", "3.x", "pypy3.10", " 3.13", "3.13t", "",
    ] {
        assert_eq!(PythonVersion::parse(bad), None, "{bad:?}");
    }
}
