//! pyslim's spec: the `pyslim.yaml` a user writes, loaded and validated.
//!
//! `source` keeps the text and spans, `validate` turns YAML into the `model` by the key table of
//! `validate::keys`, `diagnostic` renders every problem found as `file:line:col`, the line,
//! carets and a hint, and `schema` and `reference` document the keys from that same table.
//! Nothing here knows about BuildKit.

pub mod diagnostic;
pub mod model;
pub mod reference;
pub mod schema;
pub mod source;
pub mod validate;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use model::*;
pub use source::{Defaulted, SourceFile, SourceKind, Span, Spanned};
pub use validate::{
    At, InTargets, KEYS, Key, LoadOptions, Partial, WHEELS_TARGET, load, load_partial, load_with,
};
