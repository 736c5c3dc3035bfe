//! The slim stage: read-only installs, apt, the user, the workdir and writable directories,
//! layer times and the steps that need no network.

use super::*;

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
