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
        "SshHostKeysNotPinned",
        "SSH host keys should be pinned, so git cannot be pointed at another host",
    ),
];

fn description(rule: &str) -> &'static str {
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
            format!(
                "`{name}` in {lock_file} is compiled from source against {libraries}, which `runtime:` does not install: in the image, {fails}; add `runtime: {list}`",
                name = package.name,
                lock_file = lock.path,
                libraries = project
                    .runtime
                    .iter()
                    .map(|l| format!("`{l}`"))
                    .collect::<Vec<_>>()
                    .join(" and "),
                fails = project.fails,
                list = known::yaml_list(&missing),
            ),
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
                format!(
                    "`{name}` in {file} is compiled from source against {libraries}, which `runtime:` does not install: in the image, {fails}; add `runtime: {list}`",
                    file = file.name,
                    libraries = project
                        .runtime
                        .iter()
                        .map(|l| format!("`{l}`"))
                        .collect::<Vec<_>>()
                        .join(" and "),
                    fails = project.fails,
                    list = known::yaml_list(&missing),
                ),
                n + 1,
                line.number,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyslim_spec::{SourceFile, load};

    #[test]
    fn each_rule_fires_where_it_should() {
        let spec = load(SourceFile::new(
            "pyslim.yaml",
            "python: '3.11'\nrequirements: requirements.txt\nsystem: [libpq-dev, gcc]\nruntime: [libpq-dev]\nuser: root\n",
        ))
        .expect("valid");
        let files = [SourceFile::new(
            "requirements.txt",
            "flask==3.0.3\nrequests>=2\n# comment\n-r other.txt\nnumpy ; python_version > '3'\n./local/pkg\n",
        )];
        let found: Vec<_> = check(&spec, &files, None)
            .into_iter()
            .map(|w| (w.rule, w.file, w.line))
            .collect();
        assert_eq!(
            found,
            [
                ("RuntimeDevPackage", 0, 4),
                ("CompilerInSystem", 0, 3),
                ("RunsAsRoot", 0, 5),
                ("UnpinnedRequirement", 1, 2),
                ("UnpinnedRequirement", 1, 5),
            ]
        );
        let spec = load(SourceFile::new(
            "pyslim.yaml",
            "python: '3.11'\nrequirements: r.txt\nsystem: [libldap2-dev]\n",
        ))
        .expect("valid");
        assert_eq!(
            check(&spec, &[], None)[0].rule,
            "CompiledWithoutRuntimeLibraries"
        );
    }

    fn spec(yaml: &str) -> Spec {
        load(SourceFile::new("pyslim.yaml", yaml)).expect("valid")
    }

    /// The findings of `rule`: line and detail.
    fn of(rule: &str, warnings: &[Warning]) -> Vec<(usize, u32, String)> {
        warnings
            .iter()
            .filter(|w| w.rule == rule)
            .map(|w| (w.file, w.line, w.detail.clone()))
            .collect()
    }

    #[test]
    fn a_dev_package_in_runtime_is_told_its_library() {
        let warnings = check(
            &spec("python: '3.11'\nrequirements: r.txt\nruntime: [libpq-dev, libfoo-dev]\n"),
            &[],
            None,
        );
        let found = of("RuntimeDevPackage", &warnings);
        assert!(found[0].2.contains("instead (`libpq5`)"), "{found:?}");
        assert!(
            found[1]
                .2
                .contains("(`apt-cache depends libfoo-dev` names it)"),
            "{found:?}"
        );
        // libpq-dev depends on libpq5, so the image has the library: only the headers are wrong.
        assert!(of("CompiledWithoutRuntimeLibraries", &warnings).is_empty());
    }

    #[test]
    fn known_dev_packages_name_the_library_runtime_lacks() {
        let yaml = "python: '3.11'\nrequirements: r.txt\nsystem:\n  - default-libmysqlclient-dev\n  - libpq-dev\n  - libssl-dev\n  - libldap2-dev\n  - libsasl2-dev\n  - libjpeg-dev\n  - libjpeg62-turbo-dev\n  - pkg-config\nruntime: [libpq5]\n";
        let found: Vec<(u32, String)> = of(
            "CompiledWithoutRuntimeLibraries",
            &check(&spec(yaml), &[], None),
        )
        .into_iter()
        .map(|(_, line, detail)| (line, detail))
        .collect();
        let lines: Vec<u32> = found.iter().map(|(line, _)| *line).collect();
        // libpq5 is listed, libssl3 is in every slim image, libldap-2.5-0 brings libsasl2-2,
        // and libjpeg62-turbo is asked for once.
        assert_eq!(lines, [4, 7, 9]);
        assert!(
            found[0].1.starts_with(
                "`default-libmysqlclient-dev` in `system:` is for building against `libmariadb3`"
            ),
            "{found:?}"
        );
        assert!(
            found[0].1.ends_with("add `runtime: [libmariadb3]`"),
            "{found:?}"
        );
        assert!(
            found[1].1.ends_with("add `runtime: [libldap-2.5-0]`"),
            "{found:?}"
        );
        assert!(
            found[2].1.ends_with("add `runtime: [libjpeg62-turbo]`"),
            "{found:?}"
        );
    }

    #[test]
    fn every_known_dev_package_is_checked() {
        for dev in known::DEV_PACKAGES {
            let without = spec(&format!(
                "python: '3.11'\nrequirements: r.txt\nsystem: [{}]\n",
                dev.dev
            ));
            let found = of(
                "CompiledWithoutRuntimeLibraries",
                &check(&without, &[], None),
            );
            if known::IN_SLIM_IMAGE.contains(&dev.library) {
                assert!(found.is_empty(), "{}: {found:?}", dev.dev);
            } else {
                assert_eq!(found.len(), 1, "{}: {found:?}", dev.dev);
                assert!(
                    found[0]
                        .2
                        .ends_with(&format!("add `runtime: [{}]`", dev.library)),
                    "{found:?}"
                );
            }
            let with = spec(&format!(
                "python: '3.11'\nrequirements: r.txt\nsystem: [{}]\nruntime: [{}]\n",
                dev.dev, dev.library
            ));
            assert!(
                of("CompiledWithoutRuntimeLibraries", &check(&with, &[], None)).is_empty(),
                "{}",
                dev.dev
            );
        }
    }

    #[test]
    fn unknown_dev_packages_only_warn_when_runtime_is_empty() {
        let alone = check(
            &spec("python: '3.11'\nrequirements: r.txt\nsystem: [libfoo-dev, libpq-dev]\n"),
            &[],
            None,
        );
        let found = of("CompiledWithoutRuntimeLibraries", &alone);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].2.ends_with("add `runtime: [libpq5]`"), "{found:?}");
        assert!(
            found[1]
                .2
                .starts_with("`system:` installs libfoo-dev for building"),
            "{found:?}"
        );
        // With some library installed, pyslim cannot tell whether it is libfoo's.
        let some = check(
            &spec(
                "python: '3.11'\nrequirements: r.txt\nsystem: [libfoo-dev]\nruntime: [libbar1]\n",
            ),
            &[],
            None,
        );
        assert!(of("CompiledWithoutRuntimeLibraries", &some).is_empty());
    }

    #[test]
    fn compiled_requirements_need_their_libraries_in_runtime() {
        let yaml =
            "python: '3.11'\nrequirements: [requirements.txt, dev.txt]\nruntime: [libsasl2-2]\n";
        let files = [
            SourceFile::new(
                "requirements.txt",
                "flask==3.0.3\nPsycopg2==2.9.9 --hash=sha256:ab\npsycopg2-binary==2.9.9\nmysqlclient==2.2.4\n-c constraints.txt\n",
            ),
            SourceFile::new(
                "dev.txt",
                "-r requirements.txt\npython_ldap[sasl]==3.4.4\npsycopg2==2.9.9\n",
            ),
            // Only constrains versions: uWSGI is not installed.
            SourceFile::new("constraints.txt", "uwsgi==2.0.28\n"),
        ];
        let found = of(
            "CompiledRequirementWithoutRuntimeLibraries",
            &check(&spec(yaml), &files, None),
        );
        let at: Vec<(usize, u32)> = found.iter().map(|(file, line, _)| (*file, *line)).collect();
        // psycopg2 is reported where it is first required, not again in dev.txt.
        assert_eq!(at, [(1, 2), (1, 4), (2, 2)]);
        assert_eq!(
            found[0].2,
            "`Psycopg2` in requirements.txt is compiled from source against `libpq5`, which `runtime:` does not install: in the image, `import psycopg2` fails with `libpq.so.5: cannot open shared object file`; add `runtime: [libpq5]`"
        );
        assert!(
            found[1].2.ends_with("add `runtime: [libmariadb3]`"),
            "{found:?}"
        );
        // libsasl2-2 is listed; libldap-2.5-0 is what is missing.
        assert!(
            found[2].2.starts_with("`python_ldap[sasl]` in dev.txt")
                && found[2].2.ends_with("add `runtime: [libldap-2.5-0]`"),
            "{found:?}"
        );

        let fixed = "python: '3.11'\nrequirements: [requirements.txt, dev.txt]\nruntime: [libpq5, libmariadb3, libldap-2.5-0]\n";
        assert!(
            of(
                "CompiledRequirementWithoutRuntimeLibraries",
                &check(&spec(fixed), &files, None)
            )
            .is_empty()
        );
        // A library the -dev package's warning already asks for is not asked for again.
        let with_dev = "python: '3.11'\nrequirements: [requirements.txt, dev.txt]\nsystem: [libpq-dev]\nruntime: [libsasl2-2]\n";
        let warnings = check(&spec(with_dev), &files, None);
        assert_eq!(of("CompiledWithoutRuntimeLibraries", &warnings).len(), 1);
        let at: Vec<u32> = of("CompiledRequirementWithoutRuntimeLibraries", &warnings)
            .iter()
            .map(|(_, line, _)| *line)
            .collect();
        assert_eq!(at, [4, 2], "mysqlclient and python-ldap, not psycopg2");
        // Named by a requirements file (not only constrained), uWSGI needs libxml2.
        let uwsgi = [SourceFile::new("requirements.txt", "uWSGI==2.0.28\n")];
        let found = of(
            "CompiledRequirementWithoutRuntimeLibraries",
            &check(
                &spec("python: '3.11'\nrequirements: requirements.txt\n"),
                &uwsgi,
                None,
            ),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].2.ends_with("add `runtime: [libxml2]`"),
            "{found:?}"
        );
    }

    #[test]
    fn every_always_compiled_project_is_checked() {
        for project in known::PROJECTS {
            let files = [SourceFile::new("r.txt", format!("{}==1.0\n", project.name))];
            let found = of(
                "CompiledRequirementWithoutRuntimeLibraries",
                &check(&spec("python: '3.11'\nrequirements: r.txt\n"), &files, None),
            );
            // The others usually come as wheels that carry their own libraries.
            assert_eq!(
                found.len(),
                usize::from(project.always_compiled),
                "{}",
                project.name
            );
            let runtime = project.runtime.join(", ");
            let with = spec(&format!(
                "python: '3.11'\nrequirements: r.txt\nruntime: [{runtime}]\n"
            ));
            assert!(
                of(
                    "CompiledRequirementWithoutRuntimeLibraries",
                    &check(&with, &files, None)
                )
                .is_empty(),
                "{}",
                project.name
            );
        }
    }

    #[test]
    fn system_packages_without_anything_to_compile_are_unused() {
        let helper = spec("python: '3.11'\nruntime: [redis-server]\nsystem: [libpq-dev]\n");
        let found = of("SystemPackagesUnused", &check(&helper, &[], None));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, 3);
        let compiling = spec("python: '3.11'\nrequirements: r.txt\nsystem: [libpq-dev]\n");
        assert!(of("SystemPackagesUnused", &check(&compiling, &[], None)).is_empty());
    }

    /// The examples are what the README shows: the check must find nothing in them.
    #[test]
    fn the_examples_pass_the_check() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).expect("examples/") {
            let example = entry.expect("entry").path();
            let Ok(yaml) = std::fs::read_to_string(example.join("pyslim.yaml")) else {
                continue;
            };
            let spec = spec(&yaml);
            let mut names: Vec<String> = spec
                .requirements
                .iter()
                .map(|r| r.to_string())
                .filter(|r| r.ends_with(".txt"))
                .collect();
            let mut files = Vec::new();
            while let Some(name) = names.pop() {
                if files.iter().any(|f: &SourceFile| f.name == name) {
                    continue;
                }
                let text = std::fs::read_to_string(example.join(&name)).expect("requirements");
                let (includes, _) = requirements::includes(&name, &text);
                names.extend(
                    includes
                        .into_iter()
                        .filter(|i| i.kind != IncludeKind::Path)
                        .map(|i| i.path),
                );
                files.push(SourceFile::new(name, text));
            }
            let warnings = check(&spec, &files, None);
            assert!(warnings.is_empty(), "{}: {warnings:?}", example.display());
            checked += 1;
        }
        assert!(checked >= 5, "{checked}");
    }

    #[test]
    fn a_locked_package_compiled_against_a_library_is_reported_at_its_line_in_the_lock() {
        let hash = "a".repeat(64);
        let text = format!(
            "version = 1\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"app\"\nversion = \"1.0\"\nsource = {{ virtual = \".\" }}\ndependencies = [{{ name = \"psycopg2\" }}]\n\n[[package]]\nname = \"psycopg2\"\nversion = \"2.9.10\"\nsource = {{ registry = \"https://pypi.org/simple\" }}\nsdist = {{ url = \"https://example.org/psycopg2-2.9.10.tar.gz\", hash = \"sha256:{hash}\" }}\n"
        );
        let file = SourceFile::of_kind(SourceKind::LockToml, "uv.lock", text);
        let parsed = crate::lock::parse(
            crate::lock::Format::Uv,
            &crate::lock::Input {
                lock: &file.text,
                project: None,
            },
            ".",
        )
        .expect("a lock");
        let lock = FoundLock {
            path: "uv.lock".into(),
            format: crate::lock::Format::Uv,
            lock: parsed,
            origin: Span::new(3, 15, 7),
            file: file.clone(),
        };
        let spec = spec("python: '3.11'\nrequirements: uv.lock\n");
        let files = [file];
        let warnings = check(&spec, &files, Some(&lock));
        let found = of("CompiledRequirementWithoutRuntimeLibraries", &warnings);
        assert_eq!(found.len(), 1, "{warnings:?}");
        let (file, line, detail) = &found[0];
        assert!(detail.contains("`psycopg2` in uv.lock"), "{detail}");
        assert_eq!((*file, *line), (1, 10));
        // Nothing else reads the lock as requirements (no `UnpinnedRequirement` for its lines).
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let fixed = spec_with_runtime();
        assert!(check(&fixed, &files, Some(&lock)).is_empty());
    }

    fn spec_with_runtime() -> Spec {
        spec("python: '3.11'\nrequirements: uv.lock\nruntime: [libpq5]\n")
    }
}
