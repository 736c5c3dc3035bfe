//! The compile stage: what the dependency and app steps see, the installer, the wheel cache,
//! the index and the network of the steps that download.

use super::*;

#[test]
fn dependencies_see_only_the_requirements_files() {
    let plan = plan_of(FULL, &Settings::default());
    let wheels = named(
        &plan,
        "[compile] build dependency wheels: requirements.txt dev.txt",
    );
    assert!(run(wheels).mounts.contains(&StepMount::Context {
        dest: CONTEXT.into(),
        include: vec!["requirements.txt".into(), "dev.txt".into()],
        writable: false,
    }));
    let app = named(&plan, "[compile] build app wheel: src/app");
    assert!(run(app).mounts.contains(&StepMount::Context {
        dest: CONTEXT.into(),
        include: vec!["src/app".into()],
        writable: true,
    }));
    // The app's wheel does not wait for, or depend on, the dependency wheels: it builds on
    // the build backend's steps, which start where the dependency wheels start.
    let mut on = app.on;
    while on != wheels.on {
        let Fs::Step(id) = on else {
            panic!("the app's steps do not start where the dependency wheels start")
        };
        let step = plan.step(id);
        assert!(!step.name.contains("dependency wheels"), "{}", step.name);
        on = step.on;
    }
    let backend = named(&plan, "[compile] install app build backend: setuptools>=61");
    assert_eq!(
        app.on,
        Fs::Step(StepId(
            plan.steps
                .iter()
                .position(|s| s == backend)
                .expect("backend")
        ))
    );
    assert_eq!(
        run(app).args,
        [
            "python",
            "/pyslim-tools/backend.py",
            "wheel",
            "/pyslim-context/src/app",
            APP_WHEEL
        ]
    );
}

#[test]
fn hostile_strings_stay_single_arguments() {
    // Paths may hold any character a file name can; they must reach pip as one argument
    // each, and no shell line may be built from them.
    let hostile = "r e$(touch /pwned)`id`;'\"x\".txt";
    let yaml = format!(
        "python: '3.11'\nrequirements: [{hostile:?}]\napp: \"a b;$(id)\"\nruntime: [libpq5, libssl3]\nwritable: [\"/data/a b;$(id)\"]\n"
    );
    let plan = plan_of(&yaml, &Settings::default());
    let wheels = plan
        .steps
        .iter()
        .find(|s| s.name.starts_with("[compile] build dependency wheels"))
        .map(run)
        .expect("the wheels step");
    assert!(
        wheels.args.contains(&format!("{CONTEXT}/{hostile}")),
        "{:?}",
        wheels.args
    );
    let app = run(named(&plan, "[compile] build app wheel: a b;$(id)"));
    assert_eq!(
        app.args[3..],
        [format!("{CONTEXT}/a b;$(id)"), APP_WHEEL.into()]
    );
    let apt = named(&plan, "[slim] apt-get install libpq5 libssl3");
    assert_eq!(run(apt).args[..4], ["sh", "-c", APT_INSTALL, "apt-install"]);
    assert_eq!(run(apt).args[4..], ["libpq5", "libssl3"]);
    let writable = named(&plan, "[slim] create writable directories /data/a b;$(id)");
    assert_eq!(
        run(writable).args.last(),
        Some(&"/data/a b;$(id)".to_string())
    );
    for step in &plan.steps {
        if matches!(step.action, Action::Run(_))
            && let run = run(step)
            && run.args.first().is_some_and(|a| a == "sh")
        {
            assert!(
                [APT_INSTALL, UV_OR_PIP, WITH_GROUP, NO_AGEING].contains(&run.args[2].as_str())
            );
        }
    }
}

#[test]
fn index_secret_find_links_and_network_reach_both_downloading_steps() {
    let plan = plan_of(
        "python: '3.11'\nrequirements: r.txt\napp: src\nfind-links: [wheelhouse]\nnetwork: host\nindex:\n  url: https://pypi.example.com/simple\n  extra: [https://extra.example.com/simple]\n  secret: pypi-netrc\n",
        &Settings::default(),
    );
    // The app's wheel is built by its backend, which reads no index: the network, not pip's
    // options.
    let app = run(named(&plan, "[compile] build app wheel: src"));
    assert!(
        !app.args.iter().any(|a| a.starts_with("--")),
        "{:?}",
        app.args
    );
    assert_eq!(app.network, StepNetwork::Host);
    for name in [
        "[compile] build dependency wheels: r.txt",
        "[compile] install app build backend: setuptools>=61",
    ] {
        let run = run(named(&plan, name));
        let args = run.args.join(" ");
        assert!(args.contains("--index-url https://pypi.example.com/simple --extra-index-url https://extra.example.com/simple --find-links /pyslim-context/wheelhouse"), "{args}");
        assert!(run.mounts.contains(&StepMount::Secret {
            dest: "/run/secrets/pypi-netrc".into(),
            id: "pypi-netrc".into()
        }));
        assert!(
            run.env
                .contains(&("NETRC".into(), "/run/secrets/pypi-netrc".into()))
        );
        assert_eq!(run.network, StepNetwork::Host, "{name}");
        let sees_wheelhouse = run.mounts.iter().any(|m| matches!(m, StepMount::Context { include, .. } if include.contains(&"wheelhouse".to_string())));
        assert!(sees_wheelhouse, "{name}: {:?}", run.mounts);
    }
    // Installing in the slim stage downloads nothing: no secret, no host network.
    for step in plan.steps.iter().filter(|s| s.stage == Stage::Slim) {
        if let Action::Run(run) = &step.action {
            assert!(
                run.network != StepNetwork::Host
                    && !run
                        .mounts
                        .iter()
                        .any(|m| matches!(m, StepMount::Secret { .. }))
            );
        }
    }
    let offline = plan_of(
        "python: '3.11'\nrequirements: r.txt\napp: .\nindex: none\nfind-links: [wheels]\n",
        &Settings::default(),
    );
    // Offline, the compile image's own setuptools builds the app: no step sets it up, and the
    // backend's hook is called with none of pip's index options.
    let app = named(&offline, "[compile] build app wheel: .");
    assert_eq!(app.on, Fs::Base(Stage::Compile));
    assert_eq!(run(app).args[2..], ["wheel", CONTEXT, APP_WHEEL]);
}

#[test]
fn pip_installs_without_uv_and_offline_specs_need_nothing_from_an_index() {
    for yaml in [
        format!("{FULL}installer: pip\n"),
        "python: '3.11'\nrequirements: r.txt\nindex: none\nfind-links: [wheels]\n".into(),
    ] {
        let plan = plan_of(&yaml, &Settings::default());
        assert!(plan.steps.iter().all(|s| !s.name.contains("uv")), "{yaml}");
        let install = run(named(&plan, "[slim] install dependencies with pip"));
        assert_eq!(install.args[2..], ["pip", "--no-deps", "/wheels"]);
    }
    // Asked for, uv comes from the wheel directories of an offline spec.
    let plan = plan_of(
        "python: '3.11'\nrequirements: r.txt\nindex: none\nfind-links: [wheels]\ninstaller: uv\n",
        &Settings::default(),
    );
    let uv = run(named(&plan, "[compile] install uv 0.13.9"));
    assert!(
        uv.args
            .join(" ")
            .contains("--no-index --find-links /pyslim-context/wheels uv==0.13.9")
    );
    // Asked for, uv must be there; by default, pip takes over when it cannot be fetched.
    assert_eq!(uv.args[0], "python");
    let indexed =
        "python: '3.11'\nrequirements: r.txt\nindex: {url: https://pypi.example.com/simple}\n";
    let uv = run(named(
        &plan_of(indexed, &Settings::default()),
        "[compile] install uv 0.13.9",
    ));
    assert_eq!(
        uv.args[..6],
        ["sh", "-c", UV_OR_PIP, "install-uv", UV_PREFIX, "python"]
    );
}

/// Where the steps would download from PyPI itself, the engine fetches uv's wheel for the
/// target, checked by its hash, and a step without network unpacks it; anything that points
/// downloads elsewhere (an index, find-links, a proxy, pip settings in the image) keeps pip.

#[test]
fn uv_from_pypi_is_downloaded_by_the_engine_and_unpacked() {
    let spec = load(SourceFile::new(
        "pyslim.yaml",
        "python: '3.11'\nrequirements: r.txt\n",
    ))
    .expect("valid spec");
    let plan_for = |platform: &str, env: &[&str], settings: &Settings| {
        let mut bases = bases();
        bases.platform = Platform::parse(platform).expect("a platform");
        bases.compile.env = env.iter().map(|e| e.to_string()).collect();
        plan(
            &spec,
            &Dependencies::of(&spec),
            bases,
            settings,
            &Closure::default(),
        )
    };
    let uv_of = |plan: &Plan| run(named(plan, "[compile] install uv 0.13.9")).clone();
    for (platform, wheel, sha256) in [
        (
            "linux/amd64",
            "manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "d7f459fe",
        ),
        ("linux/arm64", "manylinux_2_28_aarch64.whl", "ecb6028d"),
    ] {
        let uv = uv_of(&plan_for(platform, &[], &Settings::default()));
        assert_eq!(uv.args[..3], ["python", "-c", UNPACK_UV]);
        assert!(uv.args[3].ends_with(wheel), "{:?}", uv.args);
        assert_eq!(uv.args[4], UV_PREFIX);
        assert_eq!(uv.network, StepNetwork::None);
        let download = uv.mounts.iter().find_map(|m| match m {
            StepMount::Download { url, sha256, .. } => Some((url, sha256)),
            _ => None,
        });
        let (url, hash) = download.expect("the wheel is downloaded by the engine");
        assert!(url.starts_with("https://files.pythonhosted.org/") && url.ends_with(wheel));
        assert!(hash.starts_with(sha256));
    }
    let pip = |plan: &Plan| uv_of(plan).args[..3] == ["sh", "-c", UV_OR_PIP];
    let proxied = Settings {
        proxied: true,
        ..Settings::default()
    };
    assert!(pip(&plan_for("linux/amd64", &[], &proxied)));
    let mirror = ["PIP_INDEX_URL=https://mirror.example.com/simple"];
    assert!(pip(&plan_for("linux/amd64", &mirror, &Settings::default())));
    assert!(pip(&plan_for("linux/riscv64", &[], &Settings::default())));

    // The app's backend is installed with that uv too, and the runtime stage installs with the
    // same step: one uv in the plan.
    let app = plan_of(
        "python: '3.11'\nrequirements: r.txt\napp: .\n",
        &Settings::default(),
    );
    let uvs: Vec<usize> = (0..app.steps.len())
        .filter(|&n| app.steps[n].name.contains("install uv"))
        .collect();
    assert_eq!(uvs.len(), 1, "one uv step");
    let uv = StepMount::Output {
        dest: UV_PREFIX.into(),
        from: StepId(uvs[0]),
        path: UV_PREFIX.into(),
    };
    let backend = run(named(
        &app,
        "[compile] install app build backend: setuptools>=61",
    ));
    assert_eq!(
        backend.args[..8],
        [
            "/pyslim-uv/bin/uv",
            "pip",
            "install",
            "--compile-bytecode",
            "--python",
            "python",
            "--target",
            "/pyslim-build"
        ]
    );
    assert!(backend.mounts.contains(&uv));
    assert!(
        run(named(&app, "[slim] install dependencies with uv"))
            .mounts
            .contains(&uv)
    );
}

#[test]
fn the_wheel_cache_is_one_per_index() {
    let cache = |yaml: &str| {
        let plan = plan_of(yaml, &Settings::default());
        let deps = plan
            .steps
            .iter()
            .find(|s| s.name.starts_with("[compile] build dependency wheels"))
            .expect("a dependency step");
        run(deps)
            .mounts
            .iter()
            .find_map(|m| match m {
                StepMount::Cache { dest, id, locked } if dest == WHEEL_CACHE => {
                    assert!(locked);
                    Some(id.clone())
                }
                _ => None,
            })
            .expect("a wheel cache")
    };
    let pypi = cache("python: '3.11'\nrequirements: r.txt\n");
    assert_eq!(
        pypi,
        cache("python: '3.11'\nrequirements: [r.txt, s.txt]\n")
    );
    assert_ne!(
        pypi,
        cache(
            "python: '3.11'\nrequirements: r.txt\nindex: {url: 'https://mirror.example/simple'}\n"
        )
    );
}

#[test]
fn no_cache_marks_the_named_stages() {
    let all = Settings {
        no_cache: vec![Stage::Compile, Stage::Slim],
        ..Settings::default()
    };
    assert!(plan_of(FULL, &all).steps.iter().all(|s| s.ignore_cache));
    let compile_only = Settings {
        no_cache: vec![Stage::Compile],
        ..Settings::default()
    };
    for step in plan_of(FULL, &compile_only).steps {
        assert_eq!(step.ignore_cache, step.stage == Stage::Compile);
    }
}

#[test]
fn the_tests_run_the_uv_the_build_fetches() {
    // install_wheels.py's uv path is tested against uv itself; it must be the build's uv.
    let script = include_str!("../../../../scripts/test");
    let pin = format!("uv=={}", super::install::UV_VERSION);
    assert!(script.contains(&pin), "scripts/test does not install {pin}");
}

#[test]
fn every_script_has_the_modules_it_imports_beside_it() {
    // A module of ours that a step's script imports but the step does not mount shows only
    // when a build runs that step.
    let python = concat!(env!("CARGO_MANIFEST_DIR"), "/python");
    let ours: Vec<String> = std::fs::read_dir(python)
        .expect("the scripts' directory")
        .filter_map(|entry| {
            let name = entry.expect("an entry").file_name().into_string().ok()?;
            name.strip_suffix(".py").map(str::to_string)
        })
        .collect();
    let yaml = format!("{FULL}flavor: minimal\n");
    let settings = Settings {
        sbom: true,
        ..Settings::default()
    };
    let plan = plan_of(&yaml, &settings);
    let mut checked = std::collections::BTreeSet::new();
    for step in &plan.steps {
        let Action::Run(run) = &step.action else {
            continue;
        };
        for mount in &run.mounts {
            let StepMount::Files { dest, files } = mount else {
                continue;
            };
            if dest != "/pyslim-tools" {
                continue;
            }
            let mounted: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
            for (name, text) in files {
                // `import common`, `from common import normalize`
                let imported = text.lines().filter_map(|line| {
                    let words: Vec<&str> = line.split_whitespace().collect();
                    match words.as_slice() {
                        ["import", module] | ["from", module, "import", ..] => Some(*module),
                        _ => None,
                    }
                });
                for module in imported.filter(|m| ours.iter().any(|o| o == m)) {
                    let file = format!("{module}.py");
                    assert!(
                        mounted.contains(&file.as_str()),
                        "{}: {name} imports {file}, which is not mounted beside it",
                        step.name
                    );
                }
                checked.insert(name.clone());
            }
        }
    }
    for script in [
        "libraries.py",
        "smoke.py",
        "minimal.py",
        "sbom.py",
        "fetch_wheels.py",
        "uv_route.py",
    ] {
        assert!(
            checked.contains(script),
            "no step runs {script}: {checked:?}"
        );
    }
}
