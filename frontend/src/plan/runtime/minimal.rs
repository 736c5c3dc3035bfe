//! `flavor: minimal`: the slim stage is built as usual but none of it is the image. Three steps
//! gather from it what the app needs (`minimal.py`) — the interpreter and `runtime:` packages,
//! then the dependencies, then the app — each with the shared libraries its files load and a
//! dpkg record for every Debian package they came from, and each part is copied onto nothing
//! as a layer of its own: an app-code edit gathers and exports only the last.

use pyslim_spec::{Span, Spec};

use crate::plan::advice::Advice;
use crate::plan::apt;
use crate::plan::builder::Builder;
use crate::plan::layout::{
    APP_WHEEL, MINIMAL, MINIMAL_HAVE, MINIMAL_OUT, TOOLS, WHEELS, app_wheel, elf_tool, strings,
    wheels,
};
use crate::plan::runtime::Parts;
use crate::plan::runtime::slim::Slim;
use crate::plan::types::{Action, CopyFrom, Fs, Run, Stage, StepId, StepMount};

/// The Debian package whose static busybox is the debug variant's shell.
const BUSYBOX: &str = "busybox-static";

pub fn stage(b: &mut Builder, spec: &Spec, parts: &Parts<'_>, slim: &Slim, debug: bool) -> Fs {
    b.unlayer();
    let origin = spec.flavor.written();
    let mut packages: Vec<String> = spec.runtime.iter().map(|p| p.to_string()).collect();
    let mut prepared = slim.prepared;
    if debug {
        prepared = apt::install(
            b,
            Stage::Slim,
            prepared,
            &[BUSYBOX.to_string()],
            origin.unwrap_or(spec.top),
        );
        packages.push(BUSYBOX.into());
    }

    let mut args = Vec::new();
    if let Some(account) = spec.user.account() {
        args.extend(["--user".to_string(), account.name.clone()]);
    }
    for package in &packages {
        args.extend(["--package".to_string(), package.clone()]);
    }
    // Each part with the layer it is: the steps after it see what it gathered.
    let mut gathered = vec![(
        gather(b, "interpreter", prepared, args, Vec::new(), &[], origin),
        "interpreter",
    )];

    let compiled = parts.compiled;
    if let Some(deps) = compiled.dependencies {
        let args = strings(&["--wheels", WHEELS]);
        let step = gather(
            b,
            "packages",
            slim.dependencies,
            args,
            vec![wheels(deps)],
            &gathered,
            origin,
        );
        gathered.push((step, "packages"));
    }

    let mut args = Vec::new();
    let mut mounts = Vec::new();
    if let Some(app) = compiled.app {
        args.extend(strings(&["--wheels", APP_WHEEL]));
        mounts.push(app_wheel(app));
    }
    // The workdir and the writable directories as the slim stage left them: the source app,
    // what build commands wrote, their owners.
    let mut paths: Vec<String> = parts.workdir.map(|w| w.path.clone()).into_iter().collect();
    paths.extend(spec.writable.iter().map(|w| w.path.to_string()));
    for path in paths {
        args.extend(["--path".to_string(), path]);
    }
    let app = gather(b, "app", slim.result, args, mounts, &gathered, origin);
    gathered.push((app, "app"));

    let mut image = Fs::Empty;
    for (part, layer) in gathered {
        if layer == "app" {
            b.app_from_here();
        }
        image = b.file_layer(
            Stage::Minimal,
            image,
            format!("copy the minimal {layer}"),
            Action::Copy {
                from: CopyFrom::Step(part),
                src: MINIMAL_OUT.into(),
                dest: "/".into(),
            },
            origin,
            format!("pyslim: minimal {layer}"),
        );
    }
    if debug {
        // busybox links its applets (sh, ls, …) to itself; it needs no library.
        let args = strings(&["/bin/busybox", "--install", "-s", "/bin"]);
        image = b.run(
            Stage::Minimal,
            image,
            "busybox shell".into(),
            args,
            Vec::new(),
            origin,
        );
    }
    image
}

/// One gathering step of `layer`, on the slim filesystem `on`, with the parts gathered before
/// (`have`) seen so that nothing is gathered twice.
fn gather(
    b: &mut Builder,
    layer: &str,
    on: Fs,
    more: Vec<String>,
    mut mounts: Vec<StepMount>,
    have: &[(StepId, &str)],
    origin: Option<Span>,
) -> StepId {
    let mut args = strings(&[
        "python",
        &format!("{TOOLS}/minimal.py"),
        "--out",
        MINIMAL_OUT,
        "--layer",
        layer,
    ]);
    mounts.push(elf_tool("minimal.py", MINIMAL));
    mounts.push(StepMount::Tmpfs {
        dest: "/tmp".into(),
    });
    for (n, (part, _)) in have.iter().enumerate() {
        let dest = format!("{MINIMAL_HAVE}/{n}");
        args.extend(["--have".to_string(), dest.clone()]);
        mounts.push(StepMount::Output {
            dest,
            from: *part,
            path: MINIMAL_OUT.into(),
        });
    }
    args.extend(more);
    let run = Run::offline(args, mounts);
    b.probe(
        Stage::Minimal,
        format!("gather the minimal {layer}"),
        on,
        run,
        origin,
        Some(Advice::Minimal),
    )
}
