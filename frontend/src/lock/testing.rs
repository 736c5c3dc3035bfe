//! What the lock readers' tests share: the fixtures, a read of a lock, what a target installs
//! from it, and where a problem points.

use super::select::select;
use super::{Environment, Format, Input, Lock, Package, Problem, parse};
use crate::platform::Platform;

/// A file of `tests/fixtures/locks/PROJECT`.
pub fn fixture(project: &str, file: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/locks/{project}/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The lock LOCK in FORMAT, with its project file if given, at the context's root.
pub fn read(format: Format, lock: &str, project: Option<&str>) -> Result<Lock, Vec<Problem>> {
    parse(format, &Input { lock, project }, ".")
}

/// The fixture PROJECT's lock LOCK_FILE in FORMAT, read with its pyproject.toml.
pub fn fixture_lock(format: Format, project: &str, lock_file: &str) -> Lock {
    let lock = fixture(project, lock_file);
    let pyproject = fixture(project, "pyproject.toml");
    read(format, &lock, Some(&pyproject)).unwrap_or_else(|p| panic!("{project}: {p:?}"))
}

pub fn env(python: &str, platform: &str) -> Environment {
    let platform = Platform::parse(platform).expect("a platform");
    Environment::new(python, &platform).expect("an environment")
}

/// `name==version` of what a target installs, sorted.
pub fn installs_on(
    lock: &Lock,
    python: &str,
    platform: &str,
    extras: &[&str],
    groups: &[&str],
) -> Vec<String> {
    let extras: Vec<String> = extras.iter().map(|s| s.to_string()).collect();
    let groups: Vec<String> = groups.iter().map(|s| s.to_string()).collect();
    let mut out: Vec<String> = select(lock, &env(python, platform), &extras, Some(&groups))
        .expect("a selection")
        .iter()
        .map(|p| format!("{}=={}", p.name, p.version.as_deref().unwrap_or("?")))
        .collect();
    out.sort();
    out
}

pub fn package<'l>(lock: &'l Lock, name: &str) -> &'l Package {
    lock.packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

/// The one problem of a read that must fail.
pub fn one(problems: Result<Lock, Vec<Problem>>) -> Problem {
    let mut problems = problems.expect_err("a problem");
    assert_eq!(problems.len(), 1, "{problems:?}");
    problems.remove(0)
}

/// The text a problem points at.
pub fn at<'t>(text: &'t str, problem: &Problem) -> &'t str {
    &text[problem.span.clone().expect("a span")]
}
