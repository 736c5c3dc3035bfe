//! One platform's image from its first plan, and what the build returns for all platforms.
//!
//! The scans of what the compile stage built, the image, its smoke tests and its SBOM are
//! solved at once, on the plan as if the scans find no library missing — which is what they
//! nearly always find. The engine runs those solves in parallel: the app's wheel builds while
//! the dependencies are scanned, installed and imported, and nothing waits on a round trip to
//! the frontend. Only when a scan finds a library missing is the plan made again with it and
//! solved again, scan by scan; what the first round built for it was wasted, and nothing of it
//! is kept.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use pyslim_spec::{Spec, WHEELS_TARGET};

use crate::convert::{Resolved, Shared};
use crate::failure::Failure;
use crate::gateway::{Attested, Gateway, Returned, SolvedRef};
use crate::image;
use crate::lint::Warning;
use crate::llb;
use crate::lower::{self, BuildSite};
use crate::options::Options;
use crate::plan::{self, Closure, Fs, Plan, Settings, StepId};
use crate::platform::Platform;
use crate::sources;
use crate::verify;

/// The in-toto predicate type of an SPDX document.
const SPDX: &str = "https://spdx.dev/Document";

/// A platform's first plan, before its scans have run; and what planning it read.
pub struct Planned {
    pub plan: Plan,
    pub dependencies: sources::Dependencies,
    pub site: BuildSite,
    pub runtime: Resolved,
}

/// One platform's image: its solved filesystem and its config, and what the build found out
/// on the way (the shared libraries it installed).
pub struct Built {
    pub reference: SolvedRef,
    pub config: serde_json::Value,
    pub warnings: Vec<Warning>,
    /// `--sbom=true`: the SPDX document of what the image holds, for its attestation.
    pub sbom: Option<Attested>,
}

/// Scans, solves, smoke-tests and describes one platform's image (see the module's text).
pub async fn image(gw: &Gateway, shared: &Shared<'_>, planned: Planned) -> Result<Built, Failure> {
    let mut planned = planned;
    let scans = planned.plan.scans;
    let (dependencies, app, finished) = tokio::join!(
        scanned(gw.clone(), shared, &planned, scans.dependencies),
        scanned(gw.clone(), shared, &planned, scans.app),
        finish(gw.clone(), shared, &planned),
    );
    let mut warnings = Vec::new();
    let mut unchanged = true;
    // The dependencies' report first: its errors are the ones the user must see first.
    for report in [dependencies, app].into_iter().flatten() {
        let (spec, source, found) = (shared.spec, shared.source, shared.found);
        let (asked, said) = verify::libraries::decide(&report?, spec, source, found)?;
        unchanged &= asked.is_empty();
        warnings.extend(said);
    }
    if unchanged {
        let mut built = finished?;
        built.warnings = warnings;
        return Ok(built);
    }
    // The first round's image lacked a library: whatever it found (a failed import) is moot.
    let warnings = scan(gw, shared, &mut planned).await?;
    let mut built = finish(gw.clone(), shared, &planned).await?;
    built.warnings = warnings;
    Ok(built)
}

/// The report of one of the plan's scans, if it has that scan.
async fn scanned(
    mut gw: Gateway,
    shared: &Shared<'_>,
    planned: &Planned,
    step: Option<StepId>,
) -> Option<Result<verify::libraries::Report, Failure>> {
    let (plan, site) = (&planned.plan, &planned.site);
    let step = step?;
    Some(read_report(&mut gw, shared, site, plan, step, plan::SCAN_REPORT).await)
}

/// Runs the scans of what the compile stage built — the dependencies' wheels, then the app's
/// on the image with what the first asked for — deciding after each what the image gets for
/// the shared libraries it found missing, and planning again with it. The warnings say what
/// was installed.
pub async fn scan(
    gw: &Gateway,
    shared: &Shared<'_>,
    planned: &mut Planned,
) -> Result<Vec<Warning>, Failure> {
    let settings = Settings::of(shared.options);
    let mut closure = Closure::default();
    let mut warnings = Vec::new();
    for app in [false, true] {
        let scans = planned.plan.scans;
        let step = if app { scans.app } else { scans.dependencies };
        let mut packages = Vec::new();
        if let Some(report) = scanned(gw.clone(), shared, planned, step).await {
            let (spec, source, found) = (shared.spec, shared.source, shared.found);
            let (asked, said) = verify::libraries::decide(&report?, spec, source, found)?;
            packages = asked;
            warnings.extend(said);
        }
        match app {
            false => closure.dependencies = Some(packages),
            true => closure.app = Some(packages),
        }
        let bases = planned.plan.bases.clone();
        let dependencies = &planned.dependencies;
        planned.plan = plan::plan(shared.spec, dependencies, bases, &settings, &closure);
    }
    Ok(warnings)
}

/// The image of the plan, with its smoke tests passed and its SBOM made, all solved at once.
async fn finish(gw: Gateway, shared: &Shared<'_>, planned: &Planned) -> Result<Built, Failure> {
    let (plan, site) = (&planned.plan, &planned.site);
    let (spec, source) = (shared.spec, shared.source);
    let image = async {
        let definition = llb::marshal(&lower::lower(plan, site), Some(source));
        solve(&mut gw.clone(), shared, plan, definition).await
    };
    let smoke = join_all(plan.smoke.iter().map(|&step| {
        let mut gw = gw.clone();
        async move { read_report(&mut gw, shared, site, plan, step, plan::SMOKE_REPORT).await }
    }));
    let sbom = async {
        let Some(step) = plan.sbom else {
            return Ok::<_, Failure>(None);
        };
        let state = lower::lower_to(plan, site, Fs::Step(step));
        let definition = llb::marshal(&state, Some(source));
        Ok(Some(Attested {
            reference: solve(&mut gw.clone(), shared, plan, definition).await?,
            path: plan::SBOM.into(),
            predicate_type: SPDX.into(),
        }))
    };
    let (reference, smoke, sbom) = tokio::join!(image, smoke, sbom);
    let reference = reference?;
    let reports: Vec<verify::smoke::Report> = smoke.into_iter().collect::<Result<_, _>>()?;
    if !reports.is_empty() {
        verify::smoke::check(&reports, spec, source, shared.found)?;
    }
    let platform = &site.platform;
    Ok(Built {
        reference,
        config: config(plan, spec, shared.options, platform, &planned.runtime),
        warnings: Vec::new(),
        sbom: sbom?,
    })
}

/// Solves a definition of the plan, with our advice on a failed step where the engine lets us
/// wait for the result.
async fn solve(
    gw: &mut Gateway,
    shared: &Shared<'_>,
    plan: &Plan,
    definition: llb::pb::Definition,
) -> Result<SolvedRef, Failure> {
    if shared.evaluate {
        gw.evaluate(definition.clone())
            .await
            .map_err(|error| Failure::advised(error, &definition, plan, shared.spec, shared.source))
    } else {
        Ok(gw.solve(definition).await?)
    }
}

/// Runs the step `step` of the plan (and what it needs) and reads the JSON report it wrote.
pub async fn read_report<T: serde::de::DeserializeOwned>(
    gw: &mut Gateway,
    shared: &Shared<'_>,
    site: &BuildSite,
    plan: &Plan,
    step: StepId,
    path: &str,
) -> Result<T, Failure> {
    let state = lower::lower_to(plan, site, Fs::Step(step));
    let definition = llb::marshal(&state, Some(shared.source));
    let reference = solve(gw, shared, plan, definition.clone()).await?;
    let bytes = gw
        .read_file(&reference, path)
        .await
        .map_err(|error| Failure::advised(error, &definition, plan, shared.spec, shared.source))?;
    serde_json::from_slice(&bytes).map_err(|why| Failure::Report {
        step: plan.step(step).name.clone(),
        why: why.to_string(),
    })
}

fn config(
    plan: &Plan,
    spec: &Spec,
    options: &Options,
    platform: &Platform,
    runtime: &Resolved,
) -> serde_json::Value {
    let layers: Vec<&str> = plan.layers().collect();
    let mut image = if spec.target.as_deref() == Some(WHEELS_TARGET) {
        image::files_only(&options.labels, platform, &layers)
    } else {
        let base = image::Base {
            config: &runtime.config,
            name: &runtime.reference,
            digest: &runtime.digest,
        };
        image::config(
            &base,
            spec,
            &options.labels,
            platform,
            &layers,
            plan.workdir.as_deref(),
            plan.from_scratch,
        )
    };
    image::stamp(&mut image, options.epoch, layers.len());
    image
}

/// What a build returns, keyed as BuildKit's Dockerfile frontend keys it (dockerui's `Build`):
/// one platform's image as `ref` and `containerimage.config`; several as `refs` and
/// `containerimage.config/<id>` by platform id. `refs.platforms` lists them either way, which
/// the image exporter reads to make an index. Attestations are keyed by platform id either way;
/// one with an SPDX document keeps BuildKit from running its own scanner.
pub fn result(built: Vec<(Platform, Built)>, multi_platform: bool) -> Returning {
    let mut metadata = BTreeMap::new();
    let mut listed = Vec::new();
    let mut refs = BTreeMap::new();
    let mut attestations = Vec::new();
    for (platform, built) in built {
        let id = platform.to_string();
        if let Some(sbom) = built.sbom {
            attestations.push((id.clone(), sbom));
        }
        let config = serde_json::to_vec(&built.config).expect("a JSON value always serialises");
        listed.push(serde_json::json!({"ID": id, "Platform": platform.oci()}));
        if multi_platform {
            metadata.insert(format!("containerimage.config/{id}"), config);
            refs.insert(id, built.reference);
        } else {
            metadata.insert("containerimage.config".to_string(), config);
            refs.insert(String::new(), built.reference);
        }
    }
    let platforms = serde_json::json!({ "Platforms": listed });
    metadata.insert(
        "refs.platforms".to_string(),
        serde_json::to_vec(&platforms).expect("a JSON value always serialises"),
    );
    let images = if multi_platform {
        Returned::ByPlatform(refs)
    } else {
        Returned::One(refs.into_values().next().expect("one platform at least"))
    };
    Returning {
        images,
        metadata,
        attestations,
    }
}

/// What the build hands BuildKit's `Return`.
pub struct Returning {
    pub images: Returned,
    pub metadata: BTreeMap<String, Vec<u8>>,
    /// By platform id.
    pub attestations: Vec<(String, Attested)>,
}
