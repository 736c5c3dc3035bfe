//! The YAML layer: parsing into marked nodes, the parser's errors as located problems, and where
//! a node sits in the file.

use marked_yaml::types::MarkedScalarNode;
use marked_yaml::{LoadError, LoaderOptions, Marker, Node};

use super::Validator;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceFile, Span};

/// The spec's YAML as marked nodes, or the parser's error as a problem at its place.
pub(super) fn parse(source: &SourceFile) -> Result<Node, Diagnostic> {
    // Quoted scalars stay strings: `""` is an empty value, not a missing one.
    let options = LoaderOptions::default()
        .error_on_duplicate_keys(true)
        .prevent_coercion(true);
    marked_yaml::parse_yaml_with_options(0, &source.text, options)
        .map_err(|error| yaml_error(source, &error))
}

fn yaml_error(source: &SourceFile, error: &LoadError) -> Diagnostic {
    let at = |m: &Marker| Span::new(m.line() as u32, m.column() as u32, 1);
    match error {
        LoadError::TopLevelMustBeMapping(m) | LoadError::TopLevelMustBeSequence(m) => {
            Diagnostic::new(at(m), "a pyslim spec must be a mapping of keys to values")
                .with_hint("start with `python: \"3.11\"` on a line of its own")
        }
        LoadError::UnexpectedAnchor(m) => {
            Diagnostic::new(at(m), "YAML anchors and aliases are not supported")
                .with_hint("write the value out where it is used")
        }
        LoadError::UnexpectedTag(m) => {
            Diagnostic::new(at(m), "YAML tags (`!tag`) are not supported")
                .with_hint("remove the tag; quote the value if it must stay a string")
        }
        LoadError::MappingKeyMustBeScalar(m) => {
            Diagnostic::new(at(m), "a key must be a plain word")
                .with_hint("keys are names like `python` or `env`")
        }
        LoadError::DuplicateKey(inner) => {
            let key = &inner.key;
            let first = scalar_span(source, &inner.prev_key);
            Diagnostic::new(
                scalar_span(source, key),
                format!("`{}` is given twice", key.as_str()),
            )
            .with_hint(format!(
                "the first is on line {}; keep one of them",
                first.line
            ))
        }
        LoadError::ScanError(m, e) => Diagnostic::new(at(m), format!("invalid YAML: {}", e.info()))
            .with_hint("check the indentation and quoting on this line and the one before"),
    }
}

/// Where a scalar is written, as long as it is written.
pub(super) fn scalar_span(source: &SourceFile, node: &MarkedScalarNode) -> Span {
    match node.span().start() {
        Some(m) => {
            let (line, column) = (m.line() as u32, m.column() as u32);
            Span::new(line, column, source.scalar_len(line, column, node.as_str()))
        }
        None => Span::new(1, 1, 1),
    }
}

fn start_span(node: &Node) -> Option<Span> {
    node.span()
        .start()
        .map(|m| Span::new(m.line() as u32, m.column() as u32, 1))
}

/// A node that has a value. For keys read before the main pass, which reports the empty ones.
pub(super) fn non_null(node: &Node) -> Option<&Node> {
    match node {
        Node::Scalar(s) if is_null(s) => None,
        node => Some(node),
    }
}

/// What a node is, in the words of a wrong-shape report.
pub(super) fn kind(node: &Node) -> &'static str {
    match node {
        Node::Scalar(s) if is_null(s) => "nothing",
        Node::Scalar(_) => "a single value",
        Node::Sequence(_) => "a list",
        Node::Mapping(_) => "a mapping",
    }
}

/// `key:` with nothing after it, or an explicit `~`/`null`.
pub(super) fn is_null(s: &MarkedScalarNode) -> bool {
    s.may_coerce() && matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL")
}

impl Validator<'_> {
    pub(super) fn scalar_span(&self, node: &MarkedScalarNode) -> Span {
        scalar_span(self.source, node)
    }

    pub(super) fn span(&self, node: &Node) -> Span {
        match node {
            Node::Scalar(s) => self.scalar_span(s),
            // A collection is shown by its first item, which is where the eye looks for it.
            // The loader marks every node's start; were one unmarked, the top of the file.
            Node::Sequence(seq) => seq
                .first()
                .map(|n| self.span(n))
                .or_else(|| start_span(node))
                .unwrap_or(Span::new(1, 1, 1)),
            Node::Mapping(map) => map
                .keys()
                .next()
                .map(|k| self.scalar_span(k))
                .or_else(|| start_span(node))
                .unwrap_or(Span::new(1, 1, 1)),
        }
    }
}
