//! The slim runtime: `python:X-slim`, then `runtime:` packages, the user, the workdir, the
//! dependencies and the app — each a layer, each install reading the compile stage's wheels
//! through a read-only mount, so no wheel is ever copied into a layer.

use pyslim_spec::{Deploy, Spec, User};

use crate::plan::advice::Advice;
use crate::plan::apt;
use crate::plan::builder::Builder;
use crate::plan::fetch::Fetch;
use crate::plan::install::Install;
use crate::plan::layout::{APP_WHEEL, WHEELS, include_app, strings, wheels};
use crate::plan::runtime::Parts;
use crate::plan::types::{Action, CopyFrom, Fs, Stage, Step, StepMount};

pub fn stage(b: &mut Builder, spec: &Spec, fetch: &Fetch, parts: &Parts<'_>) -> Fs {
    let compiled = parts.compiled;
    let mut slim = Fs::Base(Stage::Slim);
    if let Some(first) = spec.runtime.first() {
        let packages: Vec<String> = spec.runtime.iter().map(|p| p.to_string()).collect();
        slim = apt::install(b, Stage::Slim, slim, &packages, first.span);
    }
    if let User::Named(name) = &spec.user.value {
        slim = b.run(
            Stage::Slim,
            slim,
            format!("create user {name}"),
            // --no-log-init: a large uid would otherwise make /var/log/lastlog a huge sparse file.
            strings(&[
                "useradd",
                "--create-home",
                "--user-group",
                "--no-log-init",
                "--shell",
                "/bin/sh",
                name,
            ]),
            Vec::new(),
            spec.user.written(),
        );
    }
    if let Some(workdir) = parts.workdir {
        let owner = match &spec.user.value {
            User::Named(name) => Some(name.clone()),
            User::Root => None,
        };
        slim = Fs::Step(b.push(Step {
            stage: Stage::Slim,
            name: format!("create workdir {}", workdir.path),
            on: slim,
            action: Action::Mkdir {
                path: workdir.path.clone(),
                owner,
            },
            origin: Some(workdir.origin),
            history: Some(format!("WORKDIR {}", workdir.path)),
            ignore_cache: false,
            advice: None,
        }));
    }
    // An image of system packages only: no installer to fetch, nothing to download.
    if compiled.dependencies.is_none() && compiled.app.is_none() {
        return slim;
    }
    // Installing exactly the wheels the compile stage built (rather than re-reading the
    // requirements) keeps hashes, markers and extras a matter of the compile stage alone.
    let install = Install::new(b, spec, fetch);
    if let Some(deps) = compiled.dependencies {
        let mut mounts = install.mounts.clone();
        mounts.push(wheels(deps));
        slim = b.run(
            Stage::Slim,
            slim,
            format!("install dependencies with {}", install.name()),
            install.args(&["--no-deps", WHEELS]),
            mounts,
            spec.requirements.first().map(|r| r.span),
        );
        slim = b.advise(slim, Advice::Install);
    }
    if let Some(app) = compiled.app {
        let mut mounts = install.mounts.clone();
        mounts.push(StepMount::Output {
            dest: APP_WHEEL.into(),
            from: app,
            path: APP_WHEEL.into(),
        });
        mounts.extend(compiled.dependencies.map(wheels));
        let from: &[&str] = if compiled.dependencies.is_some() {
            &[APP_WHEEL, WHEELS]
        } else {
            &[APP_WHEEL]
        };
        slim = b.run(
            Stage::Slim,
            slim,
            format!("install app with {}", install.name()),
            install.args(from),
            mounts,
            spec.app.as_ref().map(|a| a.path.span),
        );
        slim = b.advise(slim, Advice::Install);
    }
    if let (Some(app), Some(workdir)) = (parts.app, parts.workdir)
        && app.deploy == Deploy::Source
    {
        // After the dependencies: an edit to the code rebuilds this layer alone.
        let src = if app.path == "." {
            "/".to_string()
        } else {
            format!("/{}", app.path)
        };
        slim = Fs::Step(b.push(Step {
            stage: Stage::Slim,
            name: format!("copy app {} to {}", app.path, workdir.path),
            on: slim,
            action: Action::Copy {
                from: CopyFrom::Context {
                    include: include_app(&app.path),
                },
                src,
                dest: workdir.path.clone(),
            },
            origin: spec.app.as_ref().map(|a| a.path.span),
            history: Some(format!("pyslim: copy app {} to {}", app.path, workdir.path)),
            ignore_cache: false,
            advice: None,
        }));
    }
    slim
}
