use pyslim_spec::{SourceFile, load};

use super::apt::{APT_INSTALL, INSTALL_LOGS};
use super::install::{UNPACK_UV, UV_OR_PIP};
use super::layout::{CONTEXT, UV_PREFIX, WHEEL_CACHE, WHEELS};
use super::runtime::slim::{NO_AGEING, WITH_GROUP};
use super::*;
use crate::platform::Platform;
use crate::sources::Dependencies;

fn bases() -> ResolvedBases {
    let base = |r: &str| BaseImage {
        reference: r.into(),
        env: vec!["PATH=/usr/bin".into()],
    };
    ResolvedBases {
        platform: Platform::parse("linux/amd64").expect("a platform"),
        compile: base("python:3.11"),
        runtime: base("python:3.11-slim"),
        native: None,
    }
}

fn plan_of(yaml: &str, settings: &Settings) -> Plan {
    let spec = load(SourceFile::new("pyslim.yaml", yaml)).expect("valid spec");
    // As planned after a scan that found nothing missing.
    plan(
        &spec,
        &Dependencies::of(&spec),
        bases(),
        settings,
        &Closure {
            dependencies: Some(Vec::new()),
            app: Some(Vec::new()),
        },
    )
}

fn named<'p>(plan: &'p Plan, name: &str) -> &'p Step {
    plan.steps
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no step {name} in {:#?}", plan.steps))
}

/// The step's run as the plan made it, before `times` wrapped its command to clamp the times
/// of what it leaves (see `a_layer_clamps_its_times_and_the_app_gets_the_epoch`).
fn run(step: &Step) -> Run {
    let mut run = raw_run(step).clone();
    if run
        .args
        .get(2)
        .is_some_and(|a| a.ends_with("/clamp_times.py"))
    {
        run.args.drain(..4);
    }
    run
}

fn raw_run(step: &Step) -> &Run {
    match &step.action {
        Action::Run(run) => run,
        other => panic!("{} is not a run: {other:?}", step.name),
    }
}

const FULL: &str = "python: '3.11'\nrequirements: [requirements.txt, dev.txt]\napp: src/app\nsystem: [libpq-dev]\nruntime: [libpq5]\nworkdir: /srv\n";

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
fn slim_stage_installs_through_read_only_mounts_of_the_compile_stage() {
    let plan = plan_of(FULL, &Settings::default());
    let deps = plan
        .steps
        .iter()
        .position(|s| s.name == "[compile] build dependency wheels: requirements.txt dev.txt")
        .map(StepId)
        .expect("deps step");
    let install = named(&plan, "[slim] install dependencies with uv");
    assert!(run(install).mounts.contains(&StepMount::Output {
        dest: WHEELS.into(),
        from: deps,
        path: WHEELS.into(),
    }));
    assert_eq!(
        run(install).args,
        [
            "python",
            "/pyslim-tools/install_wheels.py",
            "/pyslim-uv/bin/uv",
            "--cache",
            "/pyslim-install-cache",
            "--no-deps",
            "/wheels"
        ]
    );
    // uv is made in the compile stage and only seen, read-only, by the slim stage.
    let uv = plan
        .steps
        .iter()
        .position(|s| s.name == "[compile] install uv 0.13.9")
        .map(StepId)
        .expect("uv step");
    assert_eq!(plan.step(uv).on, Fs::Base(Stage::Compile));
    for name in [
        "[slim] install dependencies with uv",
        "[slim] install app with uv",
    ] {
        assert!(run(named(&plan, name)).mounts.contains(&StepMount::Output {
            dest: UV_PREFIX.into(),
            from: uv,
            path: UV_PREFIX.into(),
        }));
    }
    let app = run(named(&plan, "[slim] install app with uv"));
    assert_eq!(app.args[5..], ["/pyslim-app", "/wheels"]);
    // Every slim step is a layer with a history entry but the two the frontend solves on
    // their own (the scan and the smoke test); compile steps are not.
    let scans = [plan.scans.dependencies, plan.scans.app].map(|p| p.expect("two scans"));
    let probes: Vec<StepId> = scans
        .into_iter()
        .chain(plan.smoke.iter().copied())
        .collect();
    assert_eq!(
        plan.smoke.len(),
        2,
        "the dependencies' smoke test, then the app's"
    );
    for (n, step) in plan.steps.iter().enumerate() {
        assert_eq!(
            step.history.is_some(),
            step.stage == Stage::Slim && !probes.contains(&StepId(n)),
            "{}",
            step.name
        );
    }
    assert_eq!(plan.layers().count(), 5, "apt, user, workdir, deps, app");
    assert_eq!(plan.smoke.last(), Some(&StepId(plan.steps.len() - 1)));
    // The app's smoke test runs on the image, the dependencies' on it before the app.
    let app_smoke = plan.step(plan.smoke[1]);
    assert_eq!(app_smoke.on, plan.result);
    let install_app = StepId(
        plan.steps
            .iter()
            .position(|s| s.name == "[slim] install app with uv")
            .expect("app install"),
    );
    assert_eq!(plan.result, Fs::Step(install_app));
    assert_eq!(plan.step(install_app).on, plan.step(plan.smoke[0]).on);
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
fn an_image_of_system_packages_only_has_just_the_slim_steps() {
    let plan = plan_of(
        "python: '3.11'\nruntime: [redis-server]\nsystem: [libpq-dev]\nworkdir: /data\nentrypoint: [redis-server]\n",
        &Settings::default(),
    );
    let names: Vec<&str> = plan.steps.iter().map(|s| s.name.as_str()).collect();
    // No installer is fetched and no compile step runs: nothing is installed from an index.
    assert_eq!(
        names,
        [
            "[slim] apt-get install redis-server",
            "[slim] create user app (10001:10001)",
            "[slim] create workdir /data",
        ]
    );
    assert_eq!(plan.result, Fs::Step(StepId(2)));
    assert_eq!(plan.layers().count(), 3);
}

#[test]
fn the_runtime_apt_step_keeps_its_logs_out_and_the_log_directories_packages_make() {
    let plan = plan_of(
        "python: '3.11'\nruntime: [redis-server]\nsystem: [libpq-dev]\nrequirements: r.txt\n",
        &Settings::default(),
    );
    let apt = run(named(&plan, "[slim] apt-get install redis-server"));
    let mounted: Vec<&StepMount> = apt.mounts.iter().collect();
    // Not /var/log itself: a package's directory there (/var/log/redis) is part of the layer.
    assert!(!mounted.contains(&&StepMount::Tmpfs {
        dest: "/var/log".into()
    }));
    for dest in ["/var/log/apt", "/var/cache/debconf", "/var/cache/ldconfig"] {
        assert!(
            mounted.contains(&&StepMount::Tmpfs { dest: dest.into() }),
            "{dest}"
        );
    }
    for dest in INSTALL_LOGS {
        assert!(
            mounted.contains(&&StepMount::Sink { dest: dest.into() }),
            "{dest}"
        );
    }
    // The compile stage is no layer of the image: its logs may stay.
    let compile = run(named(&plan, "[compile] apt-get install libpq-dev"));
    assert!(
        !compile
            .mounts
            .iter()
            .any(|m| matches!(m, StepMount::Tmpfs { .. } | StepMount::Sink { .. }))
    );
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
fn root_gets_no_user_and_no_owner() {
    let plan = plan_of(
        "python: '3.11'\napp: .\nuser: root\nworkdir: /srv\nwritable: [/data]\n",
        &Settings::default(),
    );
    assert!(plan.steps.iter().all(|s| !s.name.contains("create user")));
    let workdir = named(&plan, "[slim] create workdir /srv");
    assert_eq!(
        workdir.action,
        Action::Mkdir {
            path: "/srv".into(),
            owner: None
        }
    );
    let writable = named(&plan, "[slim] create writable directories /data");
    assert_eq!(
        run(writable).args,
        ["install", "-d", "-m", "0755", "--", "/data"]
    );
}

#[test]
fn the_user_is_made_with_its_ids_and_owns_by_id() {
    let plan = plan_of(FULL, &Settings::default());
    let user = named(&plan, "[slim] create user app (10001:10001)");
    assert_eq!(
        run(user).args,
        [
            "sh",
            "-c",
            NO_AGEING,
            "create-user",
            "app",
            "sh",
            "-c",
            WITH_GROUP,
            "create-user",
            "10001",
            "app",
            "useradd",
            "--uid",
            "10001",
            "--gid",
            "10001",
            "--no-log-init",
            "--create-home",
            "--shell",
            "/bin/sh",
            "app"
        ]
    );
    assert_eq!(
        user.history.as_deref(),
        Some("pyslim: create user app (10001:10001)")
    );
    // `install -d`, as for `writable:`: BuildKit's mkdir would leave the base's /srv root's.
    let workdir = named(&plan, "[slim] create workdir /srv");
    assert_eq!(
        run(workdir).args,
        [
            "install", "-d", "-m", "0755", "-o", "10001", "-g", "10001", "--", "/srv"
        ]
    );
    assert_eq!(workdir.history.as_deref(), Some("WORKDIR /srv"));
    // Group 0 is root's and exists: no groupadd.
    let plan = plan_of(
        "python: '3.11'\napp: .\nuser: {name: web, uid: 20001, gid: 0}\nworkdir: /app\n",
        &Settings::default(),
    );
    let user = run(named(&plan, "[slim] create user web (20001:0)"));
    assert_eq!(
        user.args[..5],
        ["sh", "-c", NO_AGEING, "create-user", "web"]
    );
    assert_eq!(
        user.args[5..10],
        ["useradd", "--uid", "20001", "--gid", "0"]
    );
    assert_eq!(user.args.last().map(String::as_str), Some("web"));
    assert_eq!(
        run(named(&plan, "[slim] create workdir /app")).args[4..8],
        ["-o", "20001", "-g", "0"]
    );
    // `/` is never handed to the user, nor a directory under a mount of the steps (`/tmp`):
    // BuildKit makes what is missing, owned by the user.
    for path in ["/", "/tmp/work"] {
        let plan = plan_of(
            &format!("python: '3.11'\napp: .\nworkdir: {path}\n"),
            &Settings::default(),
        );
        assert_eq!(
            named(&plan, &format!("[slim] create workdir {path}")).action,
            Action::Mkdir {
                path: path.into(),
                owner: Some(Owner {
                    uid: 10001,
                    gid: 10001
                })
            }
        );
    }
}

#[test]
fn writable_directories_are_one_layer_after_the_workdir_owned_by_the_user() {
    let yaml = "python: '3.11'\nrequirements: r.txt\napp: .\nuser: '20001:20002'\nworkdir: /app\nwritable: [/app/media, {path: /data, volume: true}]\ntargets:\n  worker:\n    writable: [/data, /var/cache/worker]\n";
    let plan = plan_of(yaml, &Settings::default());
    let writable = named(&plan, "[slim] create writable directories /app/media /data");
    assert_eq!(
        run(writable).args,
        [
            "install",
            "-d",
            "-m",
            "0755",
            "-o",
            "20001",
            "-g",
            "20002",
            "--",
            "/app/media",
            "/data"
        ]
    );
    let workdir = named(&plan, "[slim] create workdir /app");
    let position = |step: &Step| plan.steps.iter().position(|s| s == step).expect("step");
    assert_eq!(writable.on, Fs::Step(StepId(position(workdir))));
    assert_eq!(
        named(&plan, "[slim] install dependencies with uv").on,
        Fs::Step(StepId(position(writable)))
    );
    assert_eq!(writable.origin.map(|s| s.line), Some(6));
    // A target adds its directories; one the default image has is made once.
    let options = pyslim_spec::LoadOptions {
        target: Some("worker".into()),
        ..Default::default()
    };
    let spec =
        pyslim_spec::load_with(SourceFile::new("pyslim.yaml", yaml), &options).expect("valid spec");
    let worker = super::plan(
        &spec,
        &Dependencies::of(&spec),
        bases(),
        &Settings::default(),
        &Closure {
            dependencies: Some(Vec::new()),
            app: Some(Vec::new()),
        },
    );
    let writable = named(
        &worker,
        "[slim] create writable directories /app/media /data /var/cache/worker",
    );
    assert_eq!(
        run(writable).args[9..],
        ["/app/media", "/data", "/var/cache/worker"]
    );
}

#[test]
fn no_writable_directory_can_be_under_a_mount_of_the_steps_after_it() {
    // Were one there, the step's mount would hide it, and the directory we made for the mount
    // would be left in the image.
    let plan = plan_of(&format!("{FULL}writable: [/data]\n"), &Settings::default());
    let writable = plan
        .steps
        .iter()
        .position(|s| s.name.starts_with("[slim] create writable"))
        .expect("writable step");
    let mut seen = 0;
    for step in &plan.steps[writable + 1..] {
        if let (Stage::Slim, Action::Run(run)) = (step.stage, &step.action) {
            for mount in &run.mounts {
                let dest = match mount {
                    StepMount::Context { dest, .. }
                    | StepMount::Output { dest, .. }
                    | StepMount::Root { dest, .. }
                    | StepMount::Tmpfs { dest }
                    | StepMount::Sink { dest }
                    | StepMount::WheelsContext { dest, .. }
                    | StepMount::Ssh { dest, .. }
                    | StepMount::Secret { dest, .. }
                    | StepMount::Files { dest, .. }
                    | StepMount::Download { dest, .. }
                    | StepMount::Produced { dest }
                    | StepMount::Cache { dest, .. } => dest,
                };
                assert!(
                    pyslim_spec::reserved_path(dest).is_some(),
                    "{}: {dest} may be made writable",
                    step.name
                );
                seen += 1;
            }
        }
    }
    assert!(seen >= 4, "the installs' mounts were checked: {seen}");
}

#[test]
fn the_tests_run_the_uv_the_build_fetches() {
    // install_wheels.py's uv path is tested against uv itself; it must be the build's uv.
    let script = include_str!("../../../scripts/test");
    let pin = format!("uv=={}", super::install::UV_VERSION);
    assert!(script.contains(&pin), "scripts/test does not install {pin}");
}

#[test]
fn a_layer_clamps_its_times_and_the_app_gets_the_epoch() {
    let yaml = "python: '3.11'\nrequirements: r.txt\napp: .\nruntime: [libpq5]\nworkdir: /app\nbuild-commands: [[python, -m, compileall, .]]\n";
    let clamped = |plan: &Plan, name: &str| -> Option<String> {
        let step = named(plan, name);
        let run = raw_run(step);
        let tools = run.mounts.iter().find_map(|m| match m {
            StepMount::Files { dest, files } if dest == "/pyslim-tools" => Some(files),
            _ => None,
        });
        let wrapped = run
            .args
            .get(2)
            .is_some_and(|a| a == "/pyslim-tools/clamp_times.py");
        assert_eq!(
            wrapped,
            tools.is_some_and(|files| files.iter().any(|(name, _)| name == "clamp_times.py")),
            "{name}: the script is mounted where it runs"
        );
        wrapped.then(|| {
            assert_eq!(run.args[..2], ["python3", "-B"], "{name}");
            run.args[3].clone()
        })
    };
    let dependencies = [
        "[slim] apt-get install libpq5",
        "[slim] create user app (10001:10001)",
        "[slim] install dependencies with uv",
    ];
    let app = [
        "[slim] install app with uv",
        "[slim] run python -m compileall .",
    ];
    for epoch in [None, Some(1_700_000_000)] {
        let plan = plan_of(
            yaml,
            &Settings {
                epoch,
                ..Settings::default()
            },
        );
        // Below the app: always the same time, whatever the epoch, so a new epoch rebuilds
        // nothing there.
        for name in dependencies {
            assert_eq!(clamped(&plan, name).as_deref(), Some("0"), "{name}");
        }
        for name in app {
            assert_eq!(clamped(&plan, name), epoch.map(|e| e.to_string()), "{name}");
        }
        // The install keeps its own script beside the clamp, in one directory.
        let install = raw_run(named(&plan, "[slim] install dependencies with uv"));
        assert!(
            install.mounts.iter().any(|m| matches!(m,
            StepMount::Files { files, .. } if files.iter().any(|(n, _)| n == "install_wheels.py")))
        );
        // Nothing that is no layer is wrapped: the compile stage, the scan.
        for step in plan.steps.iter().filter(|s| s.history.is_none()) {
            if let Action::Run(run) = &step.action {
                assert!(
                    !run.args.iter().any(|a| a.ends_with("clamp_times.py")),
                    "{}",
                    step.name
                );
            }
        }
    }
    // A source app's copy and a root workdir are file steps: they carry their time.
    let plan = plan_of(
        "python: '3.11'\napp: {path: ., as: source}\nuser: root\nworkdir: /srv\n",
        &Settings {
            epoch: Some(7),
            ..Settings::default()
        },
    );
    assert_eq!(named(&plan, "[slim] create workdir /srv").times, Some(0));
    assert_eq!(named(&plan, "[slim] copy app . to /srv").times, Some(7));
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
                let imported = text.lines().filter_map(|l| l.strip_prefix("import "));
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
    for script in ["libraries.py", "smoke.py", "minimal.py", "sbom.py"] {
        assert!(
            checked.contains(script),
            "no step runs {script}: {checked:?}"
        );
    }
}

#[test]
fn every_script_is_mounted_with_the_modules_it_imports() {
    // An import of one of our modules that is not mounted beside the script would fail only
    // in a build.
    let settings = Settings {
        sbom: true,
        ..Settings::default()
    };
    let plans = [
        plan_of(
            "python: '3.11'\nrequirements: r.txt\napp: .\nflavor: minimal\n",
            &settings,
        ),
        plan_of(
            "python: '3.11'\nrequirements: r.txt\n",
            &Settings::default(),
        ),
    ];
    let mounted: Vec<Vec<(String, String)>> = plans
        .iter()
        .flat_map(|p| &p.steps)
        .filter_map(|step| match &step.action {
            Action::Run(run) => Some(&run.mounts),
            _ => None,
        })
        .flatten()
        .filter_map(|mount| match mount {
            StepMount::Files { files, .. } => Some(files.clone()),
            _ => None,
        })
        .collect();
    let scripts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("python");
    let ours: Vec<String> = std::fs::read_dir(&scripts)
        .expect("the scripts")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".py").map(str::to_string)
        })
        .collect();
    assert!(ours.iter().any(|m| m == "common"), "{ours:?}");
    for files in &mounted {
        for (name, text) in files {
            for line in text.lines() {
                let words: Vec<&str> = line.split_whitespace().collect();
                let module = match words.as_slice() {
                    ["import", module, ..] | ["from", module, "import", ..] => *module,
                    _ => continue,
                };
                if ours.iter().any(|m| m == module) {
                    let beside = format!("{module}.py");
                    assert!(
                        files.iter().any(|(n, _)| *n == beside),
                        "{name} imports {module}, which is not mounted beside it"
                    );
                }
            }
        }
    }
}

#[test]
fn only_the_steps_that_download_have_a_network() {
    let plan = plan_of(
        "python: '3.11'\nrequirements: r.txt\napp: .\nruntime: [libpq5]\nuser: app\nwritable: [/data]\n",
        &Settings::default(),
    );
    let network = |name: &str| run(named(&plan, name)).network;
    assert_eq!(
        network("[slim] apt-get install libpq5"),
        StepNetwork::Sandbox
    );
    assert_eq!(
        network("[compile] build dependency wheels: r.txt"),
        StepNetwork::Sandbox
    );
    for offline in [
        "[slim] create user app (10001:10001)",
        "[slim] create writable directories /data",
        "[slim] install dependencies with uv",
        "[slim] install app with uv",
    ] {
        assert_eq!(network(offline), StepNetwork::None, "{offline}");
    }
}
