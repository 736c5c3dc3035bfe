//! How long the frontend takes to turn a spec into LLB, in-process: load and validate, plan,
//! lower, marshal. Prints one line per spec, the median over many iterations.
//!
//! cargo run --release -p pyslim-frontend --example spec_to_llb [SPEC...]   (default: examples/*)

use std::path::PathBuf;
use std::time::Instant;

use pyslim_frontend::llb;
use pyslim_frontend::lower::{BuildSite, lower};
use pyslim_frontend::options::Sessions;
use pyslim_frontend::plan::{BaseImage, Closure, ResolvedBases, Settings, plan};
use pyslim_frontend::platform::Platform;
use pyslim_frontend::sources::Dependencies;
use pyslim_spec::{SourceFile, load};

const ITERATIONS: usize = 2000;

fn main() {
    let mut specs: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if specs.is_empty() {
        let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
        for entry in std::fs::read_dir(&examples).expect("examples/") {
            let path = entry.expect("entry").path().join("pyslim.yaml");
            if path.exists() {
                specs.push(path);
            }
        }
        specs.sort();
    }
    let env = vec![
        "PATH=/usr/local/bin:/usr/bin:/bin".to_string(),
        "LANG=C.UTF-8".to_string(),
    ];
    let site = BuildSite {
        platform: Platform::host(),
        proxy: Default::default(),
        sessions: Sessions {
            default: Some("bench".into()),
            ..Sessions::default()
        },
        context: "context".into(),
        excludes: Vec::new(),
        network: None,
        named_platform: false,
    };
    println!("{:<40} {:>12} {:>8}", "spec", "median µs", "ops");
    for path in specs {
        let text = std::fs::read_to_string(&path).expect("readable spec");
        let mut times = Vec::with_capacity(ITERATIONS);
        let mut ops = 0;
        for _ in 0..ITERATIONS {
            let start = Instant::now();
            let spec = load(SourceFile::new("pyslim.yaml", text.clone())).expect("valid spec");
            let python = spec
                .python
                .as_ref()
                .expect("the examples name their python");
            let bases = ResolvedBases {
                platform: pyslim_frontend::platform::Platform::host(),
                compile: BaseImage {
                    reference: spec.base.compile_image(python).image.to_string(),
                    env: env.clone(),
                },
                runtime: BaseImage {
                    reference: spec.base.runtime_image(python).image.to_string(),
                    env: env.clone(),
                },
                native: None,
            };
            let closure = Closure::default();
            let plan = plan(
                &spec,
                &Dependencies::of(&spec),
                bases,
                &Settings::default(),
                &closure,
            );
            let state = lower(&plan, &site);
            let file = SourceFile::new("pyslim.yaml", text.clone());
            let definition = llb::marshal(&state, Some(&file));
            times.push(start.elapsed());
            ops = definition.def.len();
        }
        times.sort();
        let median = times[times.len() / 2];
        let name = path.parent().and_then(|p| p.file_name()).map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        println!("{name:<40} {:>12.1} {ops:>8}", median.as_secs_f64() * 1e6);
    }
}
