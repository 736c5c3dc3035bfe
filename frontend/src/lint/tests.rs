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
        &spec("python: '3.11'\nrequirements: r.txt\nsystem: [libfoo-dev]\nruntime: [libbar1]\n"),
        &[],
        None,
    );
    assert!(of("CompiledWithoutRuntimeLibraries", &some).is_empty());
}

#[test]
fn compiled_requirements_need_their_libraries_in_runtime() {
    let yaml = "python: '3.11'\nrequirements: [requirements.txt, dev.txt]\nruntime: [libsasl2-2]\n";
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
