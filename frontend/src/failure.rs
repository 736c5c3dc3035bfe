//! Why a build did not return an image, typed where it is found and turned into the status
//! BuildKit shows the user once, at the top (`main`, or the tests' fake gateway).

use std::fmt;

use pyslim_spec::{Diagnostic, Diagnostics, SourceFile, Spec};

use crate::gateway::{self, GatewayError};
use crate::llb;
use crate::options::OptionError;
use crate::plan::advice::{self, Advice};
use crate::plan::{Action, Plan, StepMount};

#[derive(Debug)]
pub enum Failure {
    /// The spec (or a file it names) is wrong: every problem, with its lines.
    Spec(Diagnostics),
    /// BuildKit failed a step: its status carries the vertex and our source map; pass it on,
    /// with our advice for that step added.
    Solve(gateway::Status),
    /// A build option pyslim cannot honour.
    Option(OptionError),
    /// BuildKit could not be talked to, or answered what it never should.
    Gateway(GatewayError),
    /// `--call` asked for something pyslim does not answer.
    UnknownRequest(String),
    /// `--target wheels` of a spec without requirements.
    NoWheelsToCollect,
    /// The spec file could not be read from the client.
    SpecUnreadable {
        filename: String,
        why: String,
    },
    SpecNotUtf8 {
        filename: String,
    },
    /// A step of ours wrote a report pyslim cannot read: a bug of pyslim's.
    Report {
        step: String,
        why: String,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Spec(diagnostics) => diagnostics.fmt(f),
            Failure::Solve(status) => f.write_str(&status.message),
            Failure::Option(error) => error.fmt(f),
            Failure::Gateway(error) => error.fmt(f),
            Failure::UnknownRequest(other) => write!(
                f,
                "pyslim cannot answer `{other}`; it answers --call=outline, --call=targets and --call=check (on buildx 0.13 and 0.14: BUILDX_EXPERIMENTAL=1 and --print=outline, --print=targets, --print=check)"
            ),
            Failure::NoWheelsToCollect => write!(
                f,
                "`--target {}` collects the dependency wheels, and this spec has no `requirements`",
                pyslim_spec::WHEELS_TARGET
            ),
            Failure::SpecUnreadable { filename, why } => write!(
                f,
                "cannot read the spec file {filename}: {why}; pass it with `docker buildx build -f pyslim.yaml .`"
            ),
            Failure::SpecNotUtf8 { filename } => {
                write!(f, "{filename} is not UTF-8 text; save it as UTF-8")
            }
            Failure::Report { step, why } => write!(
                f,
                "pyslim could not read the report of its step `{step}` ({why}); this is a bug in pyslim, please report it with the build log"
            ),
        }
    }
}

impl std::error::Error for Failure {}

impl Failure {
    /// The status to return to BuildKit, which shows it to the user.
    pub fn status(&self) -> gateway::Status {
        match self {
            Failure::Spec(diagnostics) => {
                gateway::error_status(&diagnostics.to_string(), &diagnostics.lines_by_file())
            }
            Failure::Solve(status) => status.clone(),
            other => gateway::error_status(&other.to_string(), &[]),
        }
    }

    /// A failed solve, with what to check for the step that failed: BuildKit names the failing
    /// vertex, its name leads back to the plan step. The status keeps every detail BuildKit
    /// attached (the spec lines of the step among them), except when the cause is a line of
    /// the spec other than the step's: then that line replaces them.
    ///
    /// The advice follows what failed, as far as the frontend can tell (BuildKit does not hand
    /// it the step's log, see [`advice`]): a secret the build was not given, at `index:`; an
    /// index the dependency step could not reach, at its URL; a build that needs system
    /// packages; else the step's own advice.
    pub fn advised(
        error: GatewayError,
        definition: &llb::pb::Definition,
        plan: &Plan,
        spec: &Spec,
        source: &SourceFile,
    ) -> Failure {
        let GatewayError::Rpc(status) = error else {
            return error.into();
        };
        let mut status = gateway::status_from_tonic(&status);
        let step = gateway::failed_vertex(&status)
            .and_then(|digest| definition.metadata.get(&digest))
            .and_then(|meta| meta.description.get("llb.customname"))
            .and_then(|name| plan.step_named(name));
        // BuildKit refuses to start a step whose secret the client did not send: whichever
        // downloading step came first, the fix is the same.
        if let Some(secret) = &spec.index.secret {
            let id = secret.to_string();
            let mounts_it = step.is_none_or(|step| match &step.action {
                Action::Run(run) => run
                    .mounts
                    .iter()
                    .any(|m| matches!(m, StepMount::Secret { id: i, .. } if *i == id)),
                _ => false,
            });
            if mounts_it && advice::secret_missing(&status.message, &id) {
                let problem = Diagnostic::new(
                    secret.span,
                    format!(
                        "the build was not given the secret `{id}`, which holds the credentials for `index:`"
                    ),
                )
                .with_hint(format!(
                    "pass it to the build: `docker buildx build --secret id={id},src=FILE …`, FILE a netrc file (`machine HOST login USER password TOKEN`)"
                ));
                return Failure::Solve(located(status, &problem, source));
            }
        }
        let Some(step) = step else {
            return Failure::Solve(status);
        };
        let code = advice::exit_code(&status.message);
        if step.advice == Some(Advice::Dependency) && code == Some(advice::INDEX_UNREACHABLE) {
            let index = &spec.index;
            let extra: Vec<String> = index.extra.iter().map(|u| format!("`{u}`")).collect();
            let checks = "check the URL (pip reads `URL/PROJECT/` from it), that the build can reach it \
                 (a host on your machine or network needs `network: host` and `--allow network.host`), \
                 and for a private index its credentials (`index: {secret: …}`)";
            let located_at = match (&index.url, index.extra.first()) {
                (Some(url), _) => Some((url.span, format!("`{url}`"), &extra[..])),
                (None, Some(first)) => Some((first.span, format!("`{first}`"), &extra[1..])),
                (None, None) => None,
            };
            let Some((span, url, others)) = located_at else {
                status.message = format!(
                    "{}\n\n{} failed: pip could not reach the index, PyPI (https://pypi.org/simple/); {checks}, or name a mirror in `index:`.",
                    status.message, step.name
                );
                return Failure::Solve(status);
            };
            let also = if others.is_empty() {
                String::new()
            } else {
                format!(" (or one of {})", others.join(", "))
            };
            let problem = Diagnostic::new(
                span,
                format!("{} failed: pip could not reach the index {url}{also}, or it refused the request", step.name),
            )
            .with_hint(checks);
            return Failure::Solve(located(status, &problem, source));
        }
        if let Some(advice) = step.advice {
            let advice = advice.for_exit(code);
            status.message = format!("{}\n\n{} failed: {advice}", status.message, step.name);
        }
        Failure::Solve(status)
    }
}

/// BuildKit's status, with `problem` after its message and its line in place of the spec lines
/// BuildKit attached (those of the step, not of the cause).
fn located(
    mut status: gateway::Status,
    problem: &Diagnostic,
    source: &SourceFile,
) -> gateway::Status {
    status.message = format!(
        "{}\n\n{}",
        status.message,
        problem.render(source).trim_end()
    );
    status
        .details
        .retain(|d| !d.type_url.ends_with("errdefs.Source+json"));
    status
        .details
        .extend(gateway::error_status("", &[(source, vec![problem.span.line])]).details);
    status
}

impl From<GatewayError> for Failure {
    fn from(error: GatewayError) -> Failure {
        match error {
            GatewayError::Rpc(status) => Failure::Solve(gateway::status_from_tonic(&status)),
            other => Failure::Gateway(other),
        }
    }
}

impl From<OptionError> for Failure {
    fn from(error: OptionError) -> Failure {
        Failure::Option(error)
    }
}
