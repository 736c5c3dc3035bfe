//! Soft problems: a spec that builds, but not the image its author wants. Shown as warnings
//! during a build (on engines that take them) and by `docker buildx build --call=check`.

use pyslim_spec::{SourceFile, Span, Spec, User};

use crate::sources::requirements::unpinned;

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

pub fn check(spec: &Spec, files: &[SourceFile]) -> Vec<Warning> {
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
            warn(
                "RuntimeDevPackage",
                format!(
                    "`{package}` in `runtime:` puts headers into the image; list the library it provides instead (e.g. libpq5 for libpq-dev), and keep `{package}` in `system:`"
                ),
                0,
                at(package.span),
            );
        }
    }
    let dev: Vec<_> = spec
        .system
        .iter()
        .filter(|p| p.as_str().starts_with("lib") && p.as_str().ends_with("-dev"))
        .collect();
    if let (Some(first), true) = (dev.first(), spec.runtime.is_empty()) {
        let names: Vec<_> = dev.iter().map(|p| p.as_str()).collect();
        warn(
            "CompiledWithoutRuntimeLibraries",
            format!(
                "`system:` installs {} for building, but `runtime:` is empty: an extension linked against them fails to import in the image; add their library packages to `runtime:`",
                names.join(", ")
            ),
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
    for (n, file) in files.iter().enumerate() {
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
        let found: Vec<_> = check(&spec, &files)
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
        assert_eq!(check(&spec, &[])[0].rule, "CompiledWithoutRuntimeLibraries");
    }
}
