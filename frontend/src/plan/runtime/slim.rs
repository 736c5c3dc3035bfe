//! The slim runtime: `python:X-slim`, then `runtime:` packages, the user, the workdir, the
//! writable directories, the dependencies and the app — each a layer, each install reading the
//! compile stage's wheels through a read-only mount, so no wheel is ever copied into a layer.

use pyslim_spec::{Account, BuildCommand, Deploy, Span, Spec, reserved_path};

use crate::plan::advice::Advice;
use crate::plan::apt;
use crate::plan::builder::Builder;
use crate::plan::compile::Compiled;
use crate::plan::fetch::Fetch;
use crate::plan::install::Install;
use crate::plan::layout::{APP_WHEEL, WHEELS, app_wheel, include_app, strings, wheels};
use crate::plan::runtime::Parts;
use crate::plan::runtime::libraries::{self, Wheels};
use crate::plan::types::{Action, CopyFrom, Fs, Owner, Run, Scans, Stage, StepNetwork};
use crate::sources::{FoundApp, Workdir};

/// Makes the group, then runs the rest of its arguments: useradd, which cannot give the group it
/// would make a gid of our choosing. The gid and name reach groupadd as positional arguments,
/// never pasted into this line.
pub const WITH_GROUP: &str = "groupadd --gid \"$1\" \"$2\" && shift 2 && exec \"$@\"";
/// Runs the rest of its arguments, then takes the user's password-change date out of
/// /etc/shadow: useradd writes the day it ran, which would make the layer differ from one day
/// to the next. An empty date turns password ageing off, which an account with no password
/// (useradd's `!`) has no use for; a fixed date could expire it, or ask for a new password.
pub const NO_AGEING: &str = "name=$1; shift; \"$@\" && exec chage --lastday -1 \"$name\"";

/// The slim stage as planned: the filesystems the minimal flavor gathers from, and the scans.
pub struct Slim {
    /// The base with `runtime:` packages, the user and the directories: what the dependencies'
    /// files are scanned against.
    pub prepared: Fs,
    /// `prepared` with the packages their scan asked for and the dependencies installed: what
    /// the app's files are scanned against.
    pub dependencies: Fs,
    /// The finished image: the app and the build commands' layers on top.
    pub result: Fs,
    pub scans: Scans,
}

pub fn stage(b: &mut Builder, spec: &Spec, fetch: &Fetch, parts: &Parts<'_>) -> Slim {
    let mut slim = Fs::Base(Stage::Slim);
    if let Some(first) = spec.runtime.first() {
        let packages: Vec<String> = spec.runtime.iter().map(|p| p.to_string()).collect();
        slim = apt::install(b, Stage::Slim, slim, &packages, first.span);
    }
    let account = spec.user.account();
    if let Some(account) = account {
        slim = create_user(b, slim, account, spec.user.written());
    }
    // Ids, not names, wherever the user owns something: the owner is then the same whatever
    // the image's passwd file says, and BuildKit need not read it.
    let owner = account.map(|a| Owner {
        uid: a.uid,
        gid: a.gid,
    });
    if let Some(workdir) = parts.workdir {
        slim = create_workdir(b, slim, workdir, owner);
    }
    if let Some(first) = spec.writable.first() {
        slim = writable(b, slim, spec, owner, first.path.span);
    }
    let prepared = slim;
    // Each part is scanned against everything below it, and what its scan asks for comes
    // right before it: an app-code edit rescans the app's wheel alone, and keeps every layer
    // below the app's when it needs nothing new.
    let compiled = parts.compiled;
    let closure = parts.closure;
    let mut scans = Scans {
        dependencies: compiled.dependencies.map(|deps| {
            let wheels = Wheels::dependencies(deps, compiled.built_on);
            libraries::scan(b, spec, wheels, prepared)
        }),
        app: None,
    };
    let none = Vec::new();
    let asked = closure.dependencies.as_ref().unwrap_or(&none);
    slim = libraries::install(b, spec, asked, "the dependencies need", slim);
    // Nothing built (system packages, or source, only): no installer to fetch.
    let install = (compiled.dependencies.is_some() || compiled.app.is_some())
        .then(|| Install::new(b, spec, fetch, compiled.uv));
    if let Some(install) = &install {
        slim = install_dependencies(b, spec, install, compiled, slim);
    }
    let dependencies = slim;
    scans.app = compiled.app.map(|app| {
        let wheels = Wheels::app(app, compiled.built_on);
        libraries::scan(b, spec, wheels, dependencies)
    });
    let more = closure.app.iter().flatten();
    let asked: Vec<String> = more.filter(|p| !asked.contains(p)).cloned().collect();
    slim = libraries::install(b, spec, &asked, "the app needs", slim);
    b.app_from_here();
    if let Some(install) = &install {
        slim = install_app(b, spec, install, compiled, slim);
    }
    if let (Some(app), Some(workdir)) = (parts.app, parts.workdir)
        && app.deploy == Deploy::Source
    {
        slim = copy_source(b, spec, app, &workdir.path, slim);
    }
    let cwd = parts.workdir.map_or("/", |w| w.path.as_str());
    for command in &spec.build_commands {
        slim = build_command(b, spec, command, owner, cwd, slim);
    }
    Slim {
        prepared,
        dependencies,
        result: slim,
        scans,
    }
}

/// One of `build-commands:`, in the finished image: its own layer, run as the container runs
/// (the image's user, workdir and environment) and with no network unless it says so.
fn build_command(
    b: &mut Builder,
    spec: &Spec,
    command: &BuildCommand,
    owner: Option<Owner>,
    cwd: &str,
    on: Fs,
) -> Fs {
    let run = Run {
        args: command.argv.value.clone(),
        env: spec
            .env
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        cwd: cwd.to_string(),
        mounts: Vec::new(),
        network: if command.network {
            StepNetwork::Sandbox
        } else {
            StepNetwork::None
        },
        user: owner
            .filter(|_| !command.root)
            .map(|Owner { uid, gid }| format!("{uid}:{gid}")),
    };
    let name = format!("run {}", command.argv.join(" "));
    let fs = b.layer(Stage::Slim, on, name, run, Some(command.argv.span));
    b.advise(fs, Advice::BuildCommand)
}

/// The dependencies, as a layer. Installing exactly the wheels the compile stage built (rather
/// than re-reading the requirements) keeps hashes, markers and extras a matter of the compile
/// stage alone.
fn install_dependencies(
    b: &mut Builder,
    spec: &Spec,
    install: &Install,
    compiled: Compiled,
    on: Fs,
) -> Fs {
    let Some(deps) = compiled.dependencies else {
        return on;
    };
    let mut mounts = install.mounts.clone();
    mounts.push(wheels(deps));
    let fs = b.run(
        Stage::Slim,
        on,
        format!("install dependencies with {}", install.name()),
        install.args(&["--no-deps", WHEELS]),
        mounts,
        spec.requirements.first().map(|r| r.span),
    );
    b.advise(fs, Advice::Install)
}

/// The app's wheel, as a layer of its own after the dependencies.
fn install_app(b: &mut Builder, spec: &Spec, install: &Install, compiled: Compiled, on: Fs) -> Fs {
    let Some(app) = compiled.app else {
        return on;
    };
    let mut mounts = install.mounts.clone();
    mounts.push(app_wheel(app));
    mounts.extend(compiled.dependencies.map(wheels));
    let from: &[&str] = if compiled.dependencies.is_some() {
        &[APP_WHEEL, WHEELS]
    } else {
        &[APP_WHEEL]
    };
    let fs = b.run(
        Stage::Slim,
        on,
        format!("install app with {}", install.name()),
        install.args(from),
        mounts,
        spec.app.as_ref().map(|a| a.path.span),
    );
    b.advise(fs, Advice::Install)
}

/// A source app copied into the workdir, after the dependencies: an edit to the code rebuilds
/// this layer alone.
fn copy_source(b: &mut Builder, spec: &Spec, app: &FoundApp, workdir: &str, on: Fs) -> Fs {
    let src = if app.path == "." {
        "/".to_string()
    } else {
        format!("/{}", app.path)
    };
    b.file_layer(
        Stage::Slim,
        on,
        format!("copy app {} to {workdir}", app.path),
        Action::Copy {
            from: CopyFrom::Context {
                include: include_app(&app.path),
            },
            src,
            dest: workdir.to_string(),
        },
        spec.app.as_ref().map(|a| a.path.span),
        format!("pyslim: copy app {} to {workdir}", app.path),
    )
}

/// The user and its group, with the spec's ids; one layer.
fn create_user(b: &mut Builder, on: Fs, account: &Account, origin: Option<Span>) -> Fs {
    let Account { name, uid, gid } = account;
    let (uid, gid) = (uid.to_string(), gid.to_string());
    // --no-log-init: a large uid would otherwise make /var/log/lastlog a huge sparse file.
    // The home directory and the passwd entry are what `getpass`, pip and `~` expansion need.
    let useradd = [
        "useradd",
        "--uid",
        &uid,
        "--gid",
        &gid,
        "--no-log-init",
        "--create-home",
        "--shell",
        "/bin/sh",
        name,
    ];
    let mut args = strings(&["sh", "-c", NO_AGEING, "create-user", name]);
    if account.gid != 0 {
        // Group 0 is root's, which every base has: only the user is made (OpenShift runs
        // images as an arbitrary uid in group 0, so files for it are often group root's).
        args.extend(strings(&[
            "sh",
            "-c",
            WITH_GROUP,
            "create-user",
            &gid,
            name,
        ]));
    }
    args.extend(strings(&useradd));
    b.run(
        Stage::Slim,
        on,
        format!("create user {name} ({uid}:{gid})"),
        args,
        Vec::new(),
        origin,
    )
}

/// The workdir, the user's. BuildKit's mkdir leaves a directory the base has already (`/srv`,
/// `/home`) to root, so for a user it is made as `writable:` directories are, by `install -d`,
/// which hands such a one over as well (and leaves missing parents root's). `/` and the paths
/// pyslim mounts over (`/tmp`) are never handed over: BuildKit's mkdir makes what is missing.
fn create_workdir(b: &mut Builder, on: Fs, workdir: &Workdir, owner: Option<Owner>) -> Fs {
    let path = workdir.path.as_str();
    let history = format!("WORKDIR {path}");
    let name = format!("create workdir {path}");
    match owner {
        Some(Owner { uid, gid })
            if !path.trim_end_matches('/').is_empty() && reserved_path(path).is_none() =>
        {
            let (uid, gid) = (uid.to_string(), gid.to_string());
            let args = strings(&[
                "install", "-d", "-m", "0755", "-o", &uid, "-g", &gid, "--", path,
            ]);
            let fs = b.run(
                Stage::Slim,
                on,
                name,
                args,
                Vec::new(),
                Some(workdir.origin),
            );
            b.with_history(fs, history)
        }
        _ => b.file_layer(
            Stage::Slim,
            on,
            name,
            Action::Mkdir {
                path: path.to_string(),
                owner,
            },
            Some(workdir.origin),
            history,
        ),
    }
}

/// `writable:` in one layer. `install -d` rather than BuildKit's mkdir, which leaves a
/// directory that exists already (`/srv`, `/var/cache`) to root: install hands it over as well.
/// Missing parents stay root's; only the directories named become the user's.
fn writable(b: &mut Builder, on: Fs, spec: &Spec, owner: Option<Owner>, origin: Span) -> Fs {
    // A target may add a directory the default image has; each is made once.
    let mut paths: Vec<String> = Vec::new();
    for dir in &spec.writable {
        if !paths.iter().any(|p| p == dir.path.as_str()) {
            paths.push(dir.path.to_string());
        }
    }
    let mut args = strings(&["install", "-d", "-m", "0755"]);
    if let Some(Owner { uid, gid }) = owner {
        args.extend(["-o".into(), uid.to_string(), "-g".into(), gid.to_string()]);
    }
    args.push("--".into());
    args.extend(paths.iter().cloned());
    b.run(
        Stage::Slim,
        on,
        format!("create writable directories {}", paths.join(" ")),
        args,
        Vec::new(),
        Some(origin),
    )
}
