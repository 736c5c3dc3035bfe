//! What a target installs from a lock: the walk from the project's requirements (and the
//! chosen extras and groups) along every edge whose marker holds for the target's Python and
//! platform.

use std::collections::BTreeSet;

use pep508_rs::{ExtraName, MarkerEnvironment, MarkerEnvironmentBuilder};

use super::{Edge, Lock, Package, Problem, Source};
use crate::platform::Platform;

/// Markers of flat locks that name a dependency group (PEP 751's `'dev' in dependency_groups`)
/// are read as `extra == 'pyslim-group-dev'`: one evaluation serves both.
pub const GROUP_EXTRA_PREFIX: &str = "pyslim-group-";

/// The target a lock is evaluated for.
#[derive(Clone, Debug)]
pub struct Environment {
    markers: MarkerEnvironment,
}

impl Environment {
    /// CPython `python_full_version` (e.g. `3.11.2`; `3.11` when the base image does not say)
    /// on Linux `platform`.
    pub fn new(python_full_version: &str, platform: &Platform) -> Result<Environment, String> {
        let mut parts = python_full_version.split('.');
        let python_version = match (parts.next(), parts.next()) {
            (Some(major), Some(minor)) => format!("{major}.{minor}"),
            _ => return Err(format!("`{python_full_version}` is not a Python version")),
        };
        let machine = match platform.architecture.as_str() {
            "amd64" => "x86_64",
            "arm64" => "aarch64",
            "386" => "i686",
            "arm" => "armv7l",
            other => other,
        };
        let markers = MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: python_full_version,
            os_name: "posix",
            platform_machine: machine,
            platform_python_implementation: "CPython",
            platform_release: "",
            platform_system: "Linux",
            platform_version: "",
            python_full_version,
            python_version: &python_version,
            sys_platform: "linux",
        })
        .map_err(|e| e.to_string())?;
        Ok(Environment { markers })
    }
}

/// The packages a target installs, in the lock's order.
pub type Selected<'a> = Vec<&'a Package>;

/// The packages to install for `env` with `extras` and `groups` (normalised names the lock
/// has: the caller checks them against [`Lock::extras`] and [`Lock::groups`] first; `None`:
/// the lock's default groups). The project itself (uv's root) is never among them.
pub fn select<'a>(
    lock: &'a Lock,
    env: &Environment,
    extras: &[String],
    groups: Option<&[String]>,
) -> Result<Selected<'a>, Problem> {
    if !lock.environments.is_empty()
        && !lock
            .environments
            .iter()
            .any(|m| m.evaluate(&env.markers, &[]))
    {
        return Err(Problem::at(
            None,
            "was locked for other environments: none of its `environments` markers holds for the target",
        )
        .with_hint("lock it again for the target's Python and platform (linux)"));
    }
    let groups = groups.unwrap_or(&lock.default_groups);
    let mut active: Vec<ExtraName> = Vec::new();
    for extra in extras {
        active.extend(ExtraName::new(extra.clone()).ok());
    }
    for group in groups {
        active.extend(ExtraName::new(format!("{GROUP_EXTRA_PREFIX}{group}")).ok());
    }
    let holds = |edge: &Edge, extras: &[ExtraName]| {
        edge.marker
            .as_ref()
            .is_none_or(|m| m.evaluate(&env.markers, extras))
    };
    let mut todo: Vec<&Edge> = Vec::new();
    todo.extend(lock.main.iter().rev());
    for extra in extras {
        todo.extend(lock.extras.get(extra).into_iter().flatten());
    }
    for group in groups {
        todo.extend(lock.groups.get(group).into_iter().flatten());
    }
    todo.retain(|edge| holds(edge, &active));
    // (package, extra) pairs already followed: a package reached again with another extra
    // still gets that extra's dependencies.
    let mut followed: BTreeSet<(usize, Option<&str>)> = BTreeSet::new();
    let mut chosen = BTreeSet::new();
    while let Some(edge) = todo.pop() {
        let index = find(lock, edge)?;
        let package = &lock.packages[index];
        if !matches!(package.source, Source::Project { .. }) {
            chosen.insert(index);
        }
        let mut next: Vec<&Edge> = Vec::new();
        if followed.insert((index, None)) {
            next.extend(&package.dependencies);
        }
        for extra in &edge.extras {
            if followed.insert((index, Some(extra.as_str()))) {
                next.extend(package.extras.get(extra).into_iter().flatten());
            }
        }
        todo.extend(next.into_iter().filter(|e| holds(e, &[])));
    }
    Ok(chosen.into_iter().map(|i| &lock.packages[i]).collect())
}

/// The package an edge leads to.
fn find(lock: &Lock, edge: &Edge) -> Result<usize, Problem> {
    let mut candidates = lock
        .packages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.name == edge.name)
        .filter(|(_, p)| edge.version.is_none() || p.version == edge.version);
    match (candidates.next(), candidates.next()) {
        (Some((index, _)), None) => Ok(index),
        (None, _) => Err(Problem::at(
            None,
            format!("names `{}`, which it does not pin", edge.name),
        )
        .with_hint("the lock is incomplete or damaged; write it again with the tool that made it")),
        (Some(_), Some(_)) => Err(Problem::at(
            None,
            format!(
                "pins several versions of `{}` and does not say which one a dependency means",
                edge.name
            ),
        )
        .with_hint("write the lock again with the tool that made it")),
    }
}
