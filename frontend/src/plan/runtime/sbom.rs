//! `--sbom=true`: a step that reads what the finished image holds — its Python distributions,
//! with the wheels pyslim installed them from, and its Debian packages — and writes an SPDX
//! document (`sbom.py`), which the frontend returns as the image's SBOM attestation. Its output
//! is not a layer.

use crate::plan::builder::Builder;
use crate::plan::layout::{
    APP_WHEEL, SBOM, SBOM_SCRIPT, TOOLS, WHEELS, app_wheel, common_tool, strings, wheels,
};
use crate::plan::runtime::Parts;
use crate::plan::types::{Fs, Run, Stage, StepId};

pub fn document(b: &mut Builder, parts: &Parts<'_>, image: Fs) -> StepId {
    let mut args = strings(&[
        "python",
        &format!("{TOOLS}/sbom.py"),
        "--out",
        SBOM,
        "--name",
        "image",
    ]);
    let mut mounts = vec![common_tool("sbom.py", SBOM_SCRIPT)];
    if let Some(deps) = parts.compiled.dependencies {
        args.extend(strings(&["--wheels", WHEELS]));
        mounts.push(wheels(deps));
    }
    if let Some(app) = parts.compiled.app {
        args.extend(strings(&["--app", APP_WHEEL]));
        mounts.push(app_wheel(app));
    }
    let mut run = Run::offline(args, mounts);
    // A reproducible build's SBOM says the build's time, not the clock's.
    if let Some(epoch) = b.epoch() {
        run.env
            .push(("SOURCE_DATE_EPOCH".into(), epoch.to_string()));
    }
    b.probe(Stage::Slim, "write the SBOM".into(), image, run, None, None)
}
