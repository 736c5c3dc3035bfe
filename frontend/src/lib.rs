//! The pyslim BuildKit frontend. One straight line, one module per step:
//! spec bytes → [`pyslim_spec::Spec`] → [`plan::Plan`] → [`llb`] `Definition` → [`gateway`] Solve/Return.
//! [`convert`] is that line; [`main`](../pyslim_frontend/index.html) only wires stdio to it.

pub mod gateway;
pub mod llb;
pub mod options;
