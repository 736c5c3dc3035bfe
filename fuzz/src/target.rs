//! What one input goes through: the loader, the diagnostics' rendering, and for a valid spec the
//! frontend's line without an engine — `Dependencies::of` (the spec's files as named, nothing read
//! from a context), `plan` on fixed bases, the lint, `lower` and `marshal` — for the default
//! target, each target the spec defines, and with its declared build arguments given.

use std::collections::{BTreeMap, BTreeSet};

use pyslim_frontend::lint;
use pyslim_frontend::llb;
use pyslim_frontend::lower::{BuildSite, lower};
use pyslim_frontend::options::{Sessions, WheelsContext};
use pyslim_frontend::plan::{BaseImage, Closure, ResolvedBases, Settings, Stage, plan};
use pyslim_frontend::platform::Platform;
use pyslim_frontend::sources::Dependencies;
use pyslim_spec::{
    LoadOptions, Partial, PythonVersion, SourceFile, Spec, WHEELS_TARGET, load_partial,
};

/// What an input did, as features: short strings naming the paths it took. An input with a
/// feature no earlier one had joins the corpus (a coarse stand-in for coverage).
#[derive(Debug, Default)]
pub struct Outcome {
    pub valid: bool,
    /// How many plans were lowered and marshalled.
    pub planned: usize,
    pub features: BTreeSet<String>,
}

/// Runs one input. A panic anywhere in it is a bug (the frontend must turn any spec into either
/// an image or diagnostics); so is an input that takes seconds.
pub fn run(input: &[u8]) -> Outcome {
    let mut out = Outcome::default();
    // The frontend refuses a spec that is not UTF-8 before loading it; the loader only ever sees
    // text, so the fuzzer gives it the text nearest the bytes.
    let text = String::from_utf8_lossy(input).into_owned();
    let source = SourceFile::new("pyslim.yaml", text);
    let spec = match check(&source, &LoadOptions::default(), &mut out) {
        Some(spec) => spec,
        None => return out,
    };
    out.valid = true;
    let variant = input.len() % 3;
    build(&spec, &source, variant, &mut out);
    for target in spec.targets.iter().take(4) {
        let options = LoadOptions {
            target: Some(target.name.value.clone()),
            ..LoadOptions::default()
        };
        if let Some(spec) = check(&source, &options, &mut out) {
            build(&spec, &source, variant, &mut out);
        }
    }
    if !spec.args.is_empty() {
        let options = LoadOptions {
            build_args: spec
                .args
                .iter()
                .map(|a| (a.name.value.clone(), "3.11".to_string()))
                .collect::<BTreeMap<_, _>>(),
            ..LoadOptions::default()
        };
        if let Some(spec) = check(&source, &options, &mut out) {
            build(&spec, &source, variant, &mut out);
        }
    }
    out
}

/// Loads; an invalid spec's diagnostics are rendered (as the frontend would) and named.
fn check(source: &SourceFile, options: &LoadOptions, out: &mut Outcome) -> Option<Spec> {
    match load_partial(source.clone(), options) {
        Partial::Valid(spec) => {
            out.features.insert("valid".into());
            out.features.insert(shape(&spec));
            Some(*spec)
        }
        Partial::Invalid { diagnostics, spec } => {
            let _ = diagnostics.to_string();
            if spec.is_some() {
                out.features.insert("partial".into());
            }
            // Messages quote what the input wrote between backticks: an input with backticks of
            // its own would make every message new.
            let quotes = source.text.contains('`');
            for problem in diagnostics.problems.iter().filter(|_| !quotes) {
                out.features
                    .insert(format!("problem: {}", normalise(&problem.message)));
            }
            None
        }
    }
}

fn build(spec: &Spec, source: &SourceFile, variant: usize, out: &mut Outcome) {
    let python = match &spec.python {
        Some(python) => python.value.clone(),
        // The frontend would take the project's; any will do for planning.
        None => PythonVersion::parse("3.12").expect("a version"),
    };
    let env = vec![
        "PATH=/usr/local/bin:/usr/bin:/bin".to_string(),
        format!("PYTHON_VERSION={python}"),
    ];
    let bases = ResolvedBases {
        platform: pyslim_frontend::platform::Platform::host(),
        compile: BaseImage {
            reference: spec.base.compile_image(&python).image.to_string(),
            env: env.clone(),
        },
        runtime: BaseImage {
            reference: spec.base.runtime_image(&python).image.to_string(),
            env,
        },
        native: None,
    };
    let dependencies = Dependencies::of(spec);
    // The frontend stops here with an error of its own before planning.
    if spec.target.as_deref() == Some(WHEELS_TARGET) && dependencies.inputs.is_empty() {
        out.features
            .insert("wheels target, nothing to collect".into());
        return;
    }
    let settings = match variant {
        0 => Settings::default(),
        1 => Settings {
            no_cache: Stage::ALL.to_vec(),
            wheels_context: Some(WheelsContext::Image {
                reference: "org/wheels".into(),
            }),
            epoch: Some(1_700_000_000),
            sbom: true,
            proxied: true,
        },
        _ => Settings {
            no_cache: vec![Stage::Slim],
            wheels_context: Some(WheelsContext::Local {
                name: "wheels".into(),
            }),
            epoch: None,
            sbom: false,
            proxied: false,
        },
    };
    let plan = plan(spec, &dependencies, bases, &settings, &Closure::default());
    for warning in lint::check(spec, &[], None) {
        out.features.insert(format!("lint: {}", warning.rule));
    }
    let site = BuildSite {
        platform: Platform::host(),
        proxy: BTreeMap::from([("HTTP_PROXY".into(), "http://proxy:3128".into())]),
        sessions: Sessions {
            default: Some("fuzz".into()),
            ..Sessions::default()
        },
        context: "context".into(),
        excludes: vec!["*.pyc".into()],
        network: None,
        named_platform: false,
    };
    let state = lower(&plan, &site);
    let definition = llb::marshal(&state, Some(source));
    out.planned += 1;
    out.features
        .insert(format!("ops: {}", definition.def.len()));
}

/// Which parts of the spec a valid one sets: a new combination is worth keeping.
fn shape(spec: &Spec) -> String {
    let parts = [
        ("python", spec.python.is_some()),
        ("requirements", !spec.requirements.is_empty()),
        ("app", spec.app.is_some()),
        ("system", !spec.system.is_empty()),
        ("runtime", !spec.runtime.is_empty()),
        ("entrypoint", spec.entrypoint.is_some()),
        ("cmd", spec.cmd.is_some()),
        ("env", !spec.env.is_empty()),
        ("workdir", spec.workdir.is_some()),
        ("user", spec.user.written().is_some()),
        ("writable", !spec.writable.is_empty()),
        ("build-commands", !spec.build_commands.is_empty()),
        ("expose", !spec.expose.is_empty()),
        ("labels", !spec.labels.is_empty()),
        (
            "base",
            spec.base.compile.is_some() || spec.base.runtime.is_some(),
        ),
        ("extras", !spec.extras.is_empty()),
        ("groups", !spec.groups.is_empty()),
        ("offline", spec.index.offline),
        (
            "index",
            spec.index.url.is_some() || !spec.index.extra.is_empty(),
        ),
        ("find-links", !spec.find_links.is_empty()),
        ("ssh", spec.ssh.is_some()),
        ("network", spec.host_network.is_some()),
        ("installer", spec.installer.written().is_some()),
        ("args", !spec.args.is_empty()),
        ("targets", !spec.targets.is_empty()),
    ];
    let set: Vec<&str> = parts.iter().filter(|p| p.1).map(|p| p.0).collect();
    format!("valid: {}", set.join(" "))
}

/// A problem's message without what the input wrote into it: the quoted parts, and anything
/// but letters and spaces (a quoted value with a backtick of its own leaks the rest), cut short.
fn normalise(message: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in message.chars() {
        if c == '`' {
            if !quoted {
                out.push('_');
            }
            quoted = !quoted;
        } else if !quoted && (c.is_ascii_lowercase() || (c == ' ' && !out.ends_with(' '))) {
            out.push(c);
        }
    }
    out.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_lose_what_the_input_wrote() {
        assert_eq!(
            normalise("`foo` is given twice, line 12"),
            "_ is given twice line "
        );
    }

    #[test]
    fn a_valid_spec_is_planned() {
        let outcome = run(b"python: \"3.11\"\nrequirements: requirements.txt\n");
        assert!(outcome.valid);
        assert_eq!(outcome.planned, 1);
    }
}
