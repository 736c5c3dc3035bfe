//! The shared libraries the built files need: a step that reads every ELF file in some wheels
//! against the runtime's filesystem (`libraries.py`), whose report the frontend reads, and the
//! layer that installs the Debian packages the frontend then decided on. The dependencies'
//! wheels and the app's are scanned apart, each against what is below it in the image.

use pyslim_spec::{Span, Spec};

use crate::plan::apt;
use crate::plan::builder::Builder;
use crate::plan::layout::{
    APP_WHEEL, COMPILE_ROOT, LIBRARIES, SCAN_REPORT, TOOLS, WHEELS, app_wheel, elf_tool, strings,
    wheels,
};
use crate::plan::types::{Fs, Run, Stage, StepId, StepMount};

/// The wheels a scan reads: what they are (`the app needs`), the mount that shows them at `dir`, and the
/// compile filesystem they were built on — where the build found each library it linked, so
/// the file there names the Debian package that has it.
pub struct Wheels {
    what: &'static str,
    mount: StepMount,
    dir: &'static str,
    built_on: Fs,
}

impl Wheels {
    /// The dependencies' wheels the step `from` built on `built_on`.
    pub fn dependencies(from: StepId, built_on: Fs) -> Self {
        Wheels {
            what: "the dependencies need",
            mount: wheels(from),
            dir: WHEELS,
            built_on,
        }
    }

    /// The app's wheel the step `from` built on `built_on`.
    pub fn app(from: StepId, built_on: Fs) -> Self {
        Wheels {
            what: "the app needs",
            mount: app_wheel(from),
            dir: APP_WHEEL,
            built_on,
        }
    }
}

/// The scan of `wheels` on the runtime filesystem `on`.
pub fn scan(b: &mut Builder, spec: &Spec, wheels: Wheels, on: Fs) -> StepId {
    let Wheels {
        what,
        mount,
        dir,
        built_on,
    } = wheels;
    let args = strings(&[
        "python",
        &format!("{TOOLS}/libraries.py"),
        "--report",
        SCAN_REPORT,
        "--compile-root",
        COMPILE_ROOT,
        dir,
    ]);
    let mounts = vec![
        elf_tool("libraries.py", LIBRARIES),
        StepMount::Root {
            dest: COMPILE_ROOT.into(),
            fs: built_on,
        },
        mount,
    ];
    b.probe(
        Stage::Slim,
        format!("find the shared libraries {what}"),
        on,
        Run::offline(args, mounts),
        origin(spec),
        None,
    )
}

/// The packages a scan asked for, in a layer of their own; none, no layer.
pub fn install(b: &mut Builder, spec: &Spec, packages: &[String], what: &str, on: Fs) -> Fs {
    if packages.is_empty() {
        return on;
    }
    let name = format!(
        "apt-get install {} (shared libraries {what})",
        packages.join(" ")
    );
    let at = spec.runtime.first().map(|p| p.span).or(origin(spec));
    apt::install_named(b, Stage::Slim, on, packages, at, name)
}

/// What asked for the built files: the requirements, or the app.
fn origin(spec: &Spec) -> Option<Span> {
    spec.requirements
        .first()
        .map(|r| r.span)
        .or(spec.app.as_ref().map(|a| a.path.span))
}
