//! The YAML layer: parsing into marked nodes, the parser's errors as located problems, and where
//! a node sits in the file.

use marked_yaml::types::MarkedScalarNode;
use marked_yaml::{LoadError, LoaderOptions, Marker, Node};
use yaml_rust2::parser::{Event, Parser};

use super::Validator;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceFile, Span};

/// The largest spec pyslim reads, in bytes. A spec of a few hundred lines is a few kilobytes;
/// the limit only stops a file that is not a spec (a log, a binary) from being read as one.
pub const MAX_SPEC_BYTES: usize = 1 << 20;

/// How deeply collections may nest. A spec nests four or five levels (`targets:`, a target, its
/// `env:`); the parser builds nodes by recursion, so thousands of levels would exhaust its stack.
pub const MAX_DEPTH: usize = 64;

/// The spec's YAML as marked nodes, or the parser's error as a problem at its place.
pub(super) fn parse(source: &SourceFile) -> Result<Node, Diagnostic> {
    refuse_unreadable(source)?;
    // Quoted scalars stay strings: `""` is an empty value, not a missing one.
    let options = LoaderOptions::default()
        .error_on_duplicate_keys(true)
        .prevent_coercion(true);
    marked_yaml::parse_yaml_with_options(0, &source.text, options)
        .map_err(|error| yaml_error(source, &error))
}

/// What the parser would crash on or silently drop, found before it builds any node: a file too
/// large, a NUL (where the parser stops reading, as if the file ended there), collections nested
/// deeper than [`MAX_DEPTH`], a second document (which the loader would ignore).
fn refuse_unreadable(source: &SourceFile) -> Result<(), Diagnostic> {
    let text = &source.text;
    if text.len() > MAX_SPEC_BYTES {
        return Err(Diagnostic::new(
            Span::new(1, 1, 1),
            format!(
                "`{}` is {} bytes; a pyslim spec may be at most {MAX_SPEC_BYTES} bytes (1 MiB)",
                source.name,
                text.len()
            ),
        )
        .with_hint("build with the spec itself (`-f pyslim.yaml`): list packages in a requirements file, not in the spec"));
    }
    if let Some(at) = text.find('\0') {
        return Err(Diagnostic::new(
            source.span_at(at..at + 1),
            "the spec holds a NUL byte, where YAML reading would stop as if the file ended",
        )
        .with_hint("delete it; if the file is UTF-16 or binary, save it as UTF-8 text"));
    }
    // The event stream is produced without recursion, unlike the nodes built from it, so it can
    // measure the depth safely. A syntax error ends the scan: the parse that follows reports it
    // at its place, and what came before it nests no deeper than the limit.
    let mut parser = Parser::new_from_str(text);
    let (mut depth, mut documents) = (0usize, 0usize);
    let too_deep = |at: Span| {
        Diagnostic::new(at, format!("the spec is nested deeper than {MAX_DEPTH} levels"))
            .with_hint("a spec nests a few levels (`targets:`, a target, its `env:`); check the `-`, `[` and `{` on this line")
    };
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(next) => next,
            // The scanner reads ahead of the events and stops flow collections (`[[[…`) at
            // its own limit, with a message that means the same.
            Err(e) if e.info().contains("recursion limit") => {
                let mark = e.marker();
                return Err(too_deep(Span::new(
                    mark.line() as u32,
                    mark.col() as u32 + 1,
                    1,
                )));
            }
            Err(_) => break,
        };
        let at = Span::new(mark.line() as u32, mark.col() as u32 + 1, 1);
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(too_deep(at));
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(Diagnostic::new(
                        at,
                        "a second YAML document: a pyslim spec is one document, and this one would be ignored",
                    )
                    .with_hint("delete this `---` and merge what follows into the keys above it; a spec for another image belongs in a file of its own or under `targets:`"));
                }
            }
            Event::StreamEnd => break,
            _ => {}
        }
    }
    Ok(())
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
