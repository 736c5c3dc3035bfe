//! The pyslim BuildKit frontend. One straight line, one module per step:
//! spec bytes → [`pyslim_spec::Spec`] → [`sources`] → [`plan::Plan`] → [`lower`] → [`llb`]
//! `Definition` → [`gateway`] Solve/Return. [`convert`] walks that line; `main` only wires stdio to it.

pub mod build;
pub mod context;
pub mod convert;
pub mod epoch;
pub mod failure;
pub mod gateway;
pub mod image;
pub mod known;
pub mod lint;
pub mod llb;
pub mod lock;
pub mod lower;
pub mod options;
pub mod plan;
pub mod platform;
pub mod poetry_constraint;
pub mod sources;
pub mod subrequest;
pub mod verify;
