//! The smoke test: in the finished image, as its user, with no network, every top-level module
//! pyslim installed (and the source app's) is imported and `test:` runs. Its output is thrown
//! away — it leaves no layer — so the frontend solves it on its own and reads its report.

use pyslim_spec::{Deploy, Spec};

use crate::plan::advice::Advice;
use crate::plan::builder::Builder;
use crate::plan::layout::{
    APP_WHEEL, COMPILE_ROOT, SMOKE, SMOKE_REPORT, TOOLS, WHEELS, app_wheel, elf_tool, strings,
    wheels,
};
use crate::plan::runtime::Parts;
use crate::plan::types::{Fs, Run, Stage, StepId, StepMount, StepNetwork};

/// The smoke test of the image `on`; `None` when there is nothing to import and no `test:`.
pub fn test(b: &mut Builder, spec: &Spec, parts: &Parts<'_>, on: Fs) -> Option<StepId> {
    let compiled = parts.compiled;
    let imports = spec.smoke_test.enabled;
    let source = parts
        .app
        .filter(|app| app.deploy == Deploy::Source)
        .and(parts.workdir)
        .filter(|_| imports);
    let mut args = strings(&[
        "python",
        &format!("{TOOLS}/smoke.py"),
        "--report",
        SMOKE_REPORT,
    ]);
    let mut mounts = vec![
        elf_tool("smoke.py", SMOKE),
        StepMount::Tmpfs {
            dest: "/tmp".into(),
        },
    ];
    if let Some(account) = spec.user.account() {
        args.extend(["--user".into(), format!("{}:{}", account.uid, account.gid)]);
    }
    let mut anything = false;
    if let Some(deps) = compiled.dependencies.filter(|_| imports) {
        args.extend(strings(&["--wheels", WHEELS]));
        mounts.push(wheels(deps));
        anything = true;
    }
    if let Some(app) = compiled.app.filter(|_| imports) {
        args.extend(strings(&["--wheels", APP_WHEEL]));
        mounts.push(app_wheel(app));
        anything = true;
    }
    if let Some(workdir) = source {
        args.extend(["--source".into(), workdir.path.clone()]);
        anything = true;
    }
    if compiled.dependencies.is_some() || compiled.app.is_some() {
        // Where a library a module could not load would come from: only worth mounting when
        // the compile image is in the build anyway.
        args.extend(strings(&["--compile-root", COMPILE_ROOT]));
        mounts.push(StepMount::Root {
            dest: COMPILE_ROOT.into(),
            fs: compiled.built_on,
        });
    }
    for module in spec.smoke_test.skip.iter().filter(|_| imports) {
        args.extend(["--skip".into(), module.to_string()]);
    }
    if let Some(test) = &spec.test {
        args.push("--".into());
        args.extend(test.value.iter().cloned());
        anything = true;
    }
    if !anything {
        return None;
    }
    let run = Run {
        args,
        env: spec
            .env
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        cwd: parts.workdir.map_or("/".into(), |w| w.path.clone()),
        mounts,
        network: StepNetwork::None,
        // Root writes the report where the frontend reads it; the imports and the test run as
        // the image's user (`--user`), as the container would.
        user: None,
    };
    let origin = spec
        .test
        .as_ref()
        .map(|t| t.span)
        .or(spec.smoke_test.span)
        .or(spec.requirements.first().map(|r| r.span))
        .or(spec.app.as_ref().map(|a| a.path.span));
    Some(b.probe(
        Stage::Slim,
        "smoke test: import what was installed".into(),
        on,
        run,
        origin,
        Some(Advice::SmokeTest),
    ))
}
