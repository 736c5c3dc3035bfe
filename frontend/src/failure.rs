//! Why a build did not return an image, typed where it is found and turned into the status
//! BuildKit shows the user once, at the top (`main`, or the tests' fake gateway).

use std::fmt;

use pyslim_spec::Diagnostics;

use crate::gateway::{self, GatewayError};
use crate::llb;
use crate::options::OptionError;
use crate::plan::Plan;
use crate::platform::Platform;

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
    /// Several `--platform`s at once.
    Platforms(Vec<Platform>),
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
            Failure::Platforms(many) => write!(
                f,
                "pyslim builds one platform at a time, and was asked for {}; run one build per platform",
                many.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
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
    /// attached (the spec lines of the step among them).
    pub fn advised(error: GatewayError, definition: &llb::pb::Definition, plan: &Plan) -> Failure {
        let GatewayError::Rpc(status) = error else {
            return error.into();
        };
        let mut status = gateway::status_from_tonic(&status);
        let step = gateway::failed_vertex(&status)
            .and_then(|digest| definition.metadata.get(&digest))
            .and_then(|meta| meta.description.get("llb.customname"))
            .and_then(|name| plan.step_named(name));
        if let Some(step) = step
            && let Some(advice) = step.advice
        {
            status.message = format!("{}\n\n{} failed: {advice}", status.message, step.name);
        }
        Failure::Solve(status)
    }
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
