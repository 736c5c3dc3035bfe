//! `poetry` lock files (reader to come).

use super::{Input, Lock, Problem};

pub fn parse(_input: &Input<'_>) -> Result<Lock, Vec<Problem>> {
    Err(vec![Problem::at(
        None,
        "pyslim cannot read this lock format yet",
    )])
}
