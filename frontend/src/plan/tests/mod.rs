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

mod compile;
mod slim;
