//! Soft problems: a spec that builds, but not the image its author wants. Shown as warnings
//! during a build (on engines that take them) and by `docker buildx build --call=check`.

use std::collections::BTreeSet;

use pyslim_spec::{SourceFile, SourceKind, Span, Spec, User};

use crate::known;
use crate::sources::FoundLock;
use crate::sources::requirements::{self, IncludeKind, Item, unpinned};

/// One finding, located in the spec (file 0) or in a requirements file (file `n` is
/// `files[n - 1]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub rule: &'static str,
    /// What the rule checks, the same for every finding of it.
    pub description: &'static str,
    pub detail: String,
    pub file: usize,
    pub line: u32,
}

pub const RULES: &[(&str, &str)] = &[
    (
        "UnpinnedRequirement",
        "Requirements should pin exact versions, so a rebuild installs what was tested",
    ),
    (
        "RuntimeDevPackage",
        "Runtime packages should be libraries, not -dev packages with headers and compilers' files",
    ),
    (
        "CompiledWithoutRuntimeLibraries",
        "Build-time -dev packages usually need their libraries at run time",
    ),
    (
        "CompiledRequirementWithoutRuntimeLibraries",
        "Requirements compiled from source need their shared libraries at run time",
    ),
    (
        "SystemPackagesUnused",
        "`system:` packages are only installed to compile requirements or the app",
    ),
    (
        "CompilerInSystem",
        "The compile image already has the compilers",
    ),
    ("RunsAsRoot", "The container should not run as root"),
    (
        "SharedLibraryInstalled",
        "A file the build installed needs a shared library the runtime image lacked; the Debian package that provides it was installed",
    ),
    (
        "SshHostKeysNotPinned",
        "SSH host keys should be pinned, so git cannot be pointed at another host",
    ),
];

/// The rules that guess from package names which shared libraries the image needs; a build
/// whose scan reads the built files knows instead.
pub const GUESSES_LIBRARIES: [&str; 2] = [
    "CompiledWithoutRuntimeLibraries",
    "CompiledRequirementWithoutRuntimeLibraries",
];

pub fn description(rule: &str) -> &'static str {
    RULES
        .iter()
        .find(|(name, _)| *name == rule)
        .map_or("", |(_, d)| d)
}

pub fn check(spec: &Spec, files: &[SourceFile], lock: Option<&FoundLock>) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let mut warn = |rule: &'static str, detail: String, file: usize, line: u32| {
        warnings.push(Warning {
            rule,
            description: description(rule),
            detail,
            file,
            line,
        })
    };
    let at = |span: Span| span.line;

    for package in &spec.runtime {
        if package.as_str().ends_with("-dev") {
            let library = match known::dev_package(package.as_str()) {
                Some(dev) => format!("`{}`", dev.library),
                None => format!("`apt-cache depends {package}` names it"),
            };
            warn(
                "RuntimeDevPackage",
                format!(
                    "`{package}` in `runtime:` puts headers into the image; list the library it provides instead ({library}), and keep `{package}` in `system:`"
                ),
                0,
                at(package.span),
            );
        }
    }
    let runtime: Vec<&str> = spec.runtime.iter().map(|p| p.as_str()).collect();
    let libraries: Vec<&str> = spec
        .system
        .iter()
        .filter_map(|p| known::dev_package(p.as_str()))
        .map(|d| d.library)
        .collect();
    let mut missing = known::to_add(&libraries, &runtime);
    // Each library is asked for once: a requirement that links it needs no warning of its own.
    let asked: Vec<&str> = runtime.iter().chain(&missing).copied().collect();
    for package in &spec.system {
        let Some(dev) = known::dev_package(package.as_str()) else {
            continue;
        };
        // Once per library: libjpeg-dev and libjpeg62-turbo-dev both want libjpeg62-turbo.
        if let Some(at_index) = missing.iter().position(|l| *l == dev.library) {
            missing.remove(at_index);
            warn(
                "CompiledWithoutRuntimeLibraries",
                format!(
                    "`{package}` in `system:` is for building against `{library}`, which `runtime:` does not install: an extension linked against it fails to import in the image; add `runtime: [{library}]`",
                    library = dev.library
                ),
                0,
                at(package.span),
            );
        }
    }
    // Packages pyslim does not know: it can only tell that no library at all is installed.
    let unknown: Vec<_> = spec
        .system
        .iter()
        .filter(|p| {
            let name = p.as_str();
            name.starts_with("lib") && name.ends_with("-dev") && known::dev_package(name).is_none()
        })
        .collect();
    if let (Some(first), true) = (unknown.first(), spec.runtime.is_empty()) {
        let names: Vec<_> = unknown.iter().map(|p| p.as_str()).collect();
        warn(
            "CompiledWithoutRuntimeLibraries",
            format!(
                "`system:` installs {} for building, but `runtime:` is empty: an extension linked against them fails to import in the image; add their library packages to `runtime:` (`apt-cache depends {}` names them)",
                names.join(", "),
                names[0]
            ),
            0,
            at(first.span),
        );
    }
    if let Some(first) = spec.system.first()
        && spec.requirements.is_empty()
        && spec.app.is_none()
    {
        warn(
            "SystemPackagesUnused",
            "this spec compiles nothing (no `requirements` and no `app`), so its `system:` packages are never installed; list what the image needs in `runtime:`".into(),
            0,
            at(first.span),
        );
    }
    for package in &spec.system {
        if ["gcc", "g++", "build-essential", "make", "cc"].contains(&package.as_str()) {
            warn(
                "CompilerInSystem",
                format!(
                    "`{package}` is already in the compile image (python:X); it only slows the build"
                ),
                0,
                at(package.span),
            );
        }
    }
    if let (User::Root, Some(span)) = (&spec.user.value, spec.user.written()) {
        warn(
            "RunsAsRoot",
            "`user: root` runs the app with full privileges in the container; leave `user` out to run as the `app` user pyslim creates".into(),
            0,
            at(span),
        );
    }
    if let Some(ssh) = spec.ssh.as_ref().filter(|s| s.known_hosts.is_empty()) {
        warn(
            "SshHostKeysNotPinned",
            "`ssh:` has no `known-hosts`, so a git host's key is accepted on first use; add the lines `ssh-keyscan HOST` prints".into(),
            0,
            at(ssh.id.span),
        );
    }
    compiled_requirements(spec, files, &asked, &mut warn);
    if let Some(lock) = lock
        && let Some(n) = files.iter().position(|f| f.name == lock.path)
    {
        compiled_locked(lock, &asked, n + 1, &mut warn);
    }
    for (n, file) in files.iter().enumerate() {
        if matches!(file.kind, SourceKind::LockToml | SourceKind::LockJson) {
            continue;
        }
        for (line, name) in unpinned(&file.text) {
            warn(
                "UnpinnedRequirement",
                format!(
                    "`{name}` in {} is not pinned; write `{name}==VERSION` (pip freeze shows the installed one)",
                    file.name
                ),
                n + 1,
                line,
            );
        }
    }
    warnings
}

/// Requirements that are always compiled from source link libraries the compile image has
/// (python:X carries libpq-dev, libxml2-dev…), so they build without a word in `system:` and
/// fail only when imported in the image. Each project is reported once, where it is first
/// required, and only for libraries neither `runtime:` nor another warning (`asked`) names.
/// What a requirement compiled against libraries `runtime:` lacks (`missing`) does in the image.
fn compiled_detail(name: &str, file: &str, project: &known::Project, missing: &[&str]) -> String {
    let libraries: Vec<String> = project.runtime.iter().map(|l| format!("`{l}`")).collect();
    format!(
        "`{name}` in {file} is compiled from source against {}, which `runtime:` does not install: in the image, {}; add `runtime: {}`",
        libraries.join(" and "),
        project.fails,
        known::yaml_list(missing),
    )
}

/// The same for a lock's packages, at the line of each in the lock: every package it pins,
/// whichever platform a build selects.
fn compiled_locked(
    lock: &FoundLock,
    asked: &[&str],
    file: usize,
    warn: &mut impl FnMut(&'static str, String, usize, u32),
) {
    let mut reported = BTreeSet::new();
    for package in &lock.lock.packages {
        let Some(project) = known::project(&package.name).filter(|p| p.always_compiled) else {
            continue;
        };
        let missing = known::to_add(project.runtime, asked);
        if missing.is_empty() || !reported.insert(project.name) {
            continue;
        }
        let line = package
            .span
            .clone()
            .map_or(1, |range| lock.file.span_at(range).line);
        warn(
            "CompiledRequirementWithoutRuntimeLibraries",
            compiled_detail(&package.name, &lock.path, project, &missing),
            file,
            line,
        );
    }
}

fn compiled_requirements(
    spec: &Spec,
    files: &[SourceFile],
    asked: &[&str],
    warn: &mut impl FnMut(&'static str, String, usize, u32),
) {
    // A file only named by `-c` constrains versions; it installs nothing.
    let mut required = BTreeSet::new();
    let mut constraints = BTreeSet::new();
    for file in files {
        for include in requirements::includes(&file.name, &file.text).0 {
            match include.kind {
                IncludeKind::Requirements => required.insert(include.path),
                IncludeKind::Constraints => constraints.insert(include.path),
                IncludeKind::Path => false,
            };
        }
    }
    let named_by_spec = |name: &str| spec.requirements.iter().any(|r| r.to_string() == name);
    let mut reported = BTreeSet::new();
    for (n, file) in files.iter().enumerate() {
        let name = file.name.as_str();
        if matches!(file.kind, SourceKind::LockToml | SourceKind::LockJson) {
            continue;
        }
        if constraints.contains(name) && !required.contains(name) && !named_by_spec(name) {
            continue;
        }
        for line in requirements::parse(&file.text) {
            let Item::Named { name, .. } = line.item else {
                continue;
            };
            let Some(project) =
                known::project(&requirements::project(&name)).filter(|p| p.always_compiled)
            else {
                continue;
            };
            let missing = known::to_add(project.runtime, asked);
            if missing.is_empty() || !reported.insert(project.name) {
                continue;
            }
            warn(
                "CompiledRequirementWithoutRuntimeLibraries",
                compiled_detail(&name, &file.name, project, &missing),
                n + 1,
                line.number,
            );
        }
    }
}

#[cfg(test)]
mod tests;
