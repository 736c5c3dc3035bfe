//! The shared libraries the built files need: a step that reads every ELF file in the wheels
//! against the runtime's filesystem (`libraries.py`), whose report the frontend reads, and the
//! layer that installs the Debian packages the frontend then decided on.

use pyslim_spec::{Span, Spec};

use crate::plan::apt;
use crate::plan::builder::Builder;
use crate::plan::layout::{
    APP_WHEEL, COMPILE_ROOT, LIBRARIES, SCAN_REPORT, TOOLS, WHEELS, app_wheel, elf_tool, strings,
    wheels,
};
use crate::plan::runtime::Parts;
use crate::plan::types::{Closure, Fs, Run, Stage, StepId, StepMount};

/// The scan of what the compile stage built, on the runtime filesystem `on`; `None` when it
/// built nothing.
pub fn scan(b: &mut Builder, spec: &Spec, parts: &Parts<'_>, on: Fs) -> Option<StepId> {
    let compiled = parts.compiled;
    if compiled.dependencies.is_none() && compiled.app.is_none() {
        return None;
    }
    let mut args = strings(&[
        "python",
        &format!("{TOOLS}/libraries.py"),
        "--report",
        SCAN_REPORT,
        "--compile-root",
        COMPILE_ROOT,
    ]);
    let mut mounts = vec![
        elf_tool("libraries.py", LIBRARIES),
        // The compile image is where the build found each library it linked: the file there
        // names the Debian package that has it.
        StepMount::Root {
            dest: COMPILE_ROOT.into(),
            fs: compiled.built_on,
        },
    ];
    if let Some(deps) = compiled.dependencies {
        args.push(WHEELS.into());
        mounts.push(wheels(deps));
    }
    if let Some(app) = compiled.app {
        args.push(APP_WHEEL.into());
        mounts.push(app_wheel(app));
    }
    let run = Run::offline(args, mounts);
    Some(b.probe(
        Stage::Slim,
        "find the shared libraries the built files need".into(),
        on,
        run,
        origin(spec),
        None,
    ))
}

/// The packages the scan asked for, in a layer of their own.
pub fn install(b: &mut Builder, spec: &Spec, closure: &Closure, on: Fs) -> Fs {
    if closure.packages.is_empty() {
        return on;
    }
    let name = format!(
        "apt-get install {} (shared libraries the built files need)",
        closure.packages.join(" ")
    );
    let at = spec.runtime.first().map(|p| p.span).or(origin(spec));
    apt::install_named(b, Stage::Slim, on, &closure.packages, at, name)
}

/// What asked for the built files: the requirements, or the app.
fn origin(spec: &Spec) -> Option<Span> {
    spec.requirements
        .first()
        .map(|r| r.span)
        .or(spec.app.as_ref().map(|a| a.path.span))
}
