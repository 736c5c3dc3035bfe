//! The JSON Schema of a spec, for editors (`# yaml-language-server: $schema=…`): completion,
//! hover text and the first line of validation. The loader stays the authority — it also
//! checks what a schema cannot (paths inside the context, `${ARG}`s, package names).
//!
//! Built from the key table the loader reads with; a test keeps the committed
//! `schema/pyslim.schema.json` fresh.

use serde_json::{Map, Value, json};

use crate::validate::keys::{At, KEYS};

pub fn schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "pyslim spec",
        "description": "A slim Python container image, built by the pyslim BuildKit frontend (first line: `# syntax=org/pyslim`).",
        "type": "object",
        "properties": properties(At::TopLevel),
        "additionalProperties": false
    })
}

/// The schema of every key allowed in a mapping: the spec's own, or a target's.
pub(crate) fn properties(at: At) -> Map<String, Value> {
    KEYS.iter()
        .filter(|key| key.allowed_at(at))
        .map(|key| (key.name.to_string(), key.schema()))
        .collect()
}
