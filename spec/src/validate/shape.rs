//! Reading a value of the shape a key expects — a single value, a list, a mapping, an argv — and
//! the located reports when it has another shape, no value, or a key that does not belong.

use marked_yaml::Node;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};

use super::Validator;
use super::yaml::{is_null, kind};
use crate::diagnostic::Diagnostic;
use crate::source::Spanned;

impl Validator<'_> {
    /// The value of `key`, or a report that it has none: an empty value is shown at its key,
    /// since the parser places it wherever the next token happens to be.
    pub(super) fn present<'n>(
        &mut self,
        key: &MarkedScalarNode,
        value: &'n Node,
    ) -> Option<&'n Node> {
        match value {
            Node::Scalar(s) if is_null(s) => {
                self.report(
                    Diagnostic::new(
                        self.scalar_span(key),
                        format!("`{}` has no value", key.as_str()),
                    )
                    .with_hint("give it a value after the colon, or delete the line"),
                );
                None
            }
            value => Some(value),
        }
    }

    /// A single text value. Numbers and booleans are taken as written (`3.10` stays "3.10").
    pub(super) fn text(
        &mut self,
        node: &Node,
        key: &str,
        example: &str,
    ) -> Option<Spanned<String>> {
        match node {
            Node::Scalar(s) if !is_null(s) => self.expand(s),
            other => {
                self.wrong_kind(
                    other,
                    format!("`{key}` must be a single value"),
                    format!("write it as `{key}: {example}`"),
                );
                None
            }
        }
    }

    /// One item of a list: a single text value.
    fn item(&mut self, node: &Node, key: &str, example: &str) -> Option<Spanned<String>> {
        match node {
            Node::Scalar(s) if !is_null(s) => self.expand(s),
            other => {
                self.wrong_kind(
                    other,
                    format!("each item of `{key}` must be a single value"),
                    format!("write one value per item, like `{key}: [{example}]`"),
                );
                None
            }
        }
    }

    /// A list of text values; a single value is taken as a list of one.
    pub(super) fn text_list(
        &mut self,
        node: &Node,
        key: &str,
        example: &str,
    ) -> Vec<Spanned<String>> {
        match node {
            Node::Scalar(s) if !is_null(s) => self.expand(s).into_iter().collect(),
            Node::Sequence(items) => items
                .iter()
                .filter_map(|item| self.item(item, key, example))
                .collect(),
            other => {
                self.wrong_kind(
                    other,
                    format!("`{key}` must be a list"),
                    format!("write it as `{key}: [{example}]`"),
                );
                Vec::new()
            }
        }
    }

    pub(super) fn mapping<'n>(
        &mut self,
        node: &'n Node,
        key: &str,
        example: &str,
    ) -> Option<&'n MarkedMappingNode> {
        match node {
            Node::Mapping(map) => Some(map),
            other => {
                self.wrong_kind(
                    other,
                    format!("`{key}` must be a mapping"),
                    format!("write it as `{key}: {example}`"),
                );
                None
            }
        }
    }

    /// A program and its arguments, exec form: never a shell line.
    /// `true` or `false`; anything else is reported with `hint`.
    pub(super) fn boolean(&mut self, node: &Node, key: &str, hint: &str) -> Option<bool> {
        let text = self.text(node, key, "true")?;
        match text.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            other => {
                self.report(
                    Diagnostic::new(
                        text.span,
                        format!("`{key}` is true or false, not `{other}`"),
                    )
                    .with_hint(hint),
                );
                None
            }
        }
    }

    pub(super) fn argv(&mut self, node: &Node, key: &str) -> Option<Spanned<Vec<String>>> {
        match node {
            Node::Sequence(items) => {
                let span = self.span(node);
                let args: Vec<Spanned<String>> = items
                    .iter()
                    .filter_map(|item| self.item(item, key, "python"))
                    .collect();
                // The first is the program: the engine cannot start one with no name.
                if let Some(first) = args.first().filter(|a| a.is_empty()) {
                    // A build command is an item of a list, not a key of its own.
                    let (what, example) = match key {
                        "build-commands" => (
                            "this command".to_string(),
                            "- [python, -m, compileall, .]".to_string(),
                        ),
                        key => (format!("`{key}`"), format!("{key}: [python, -m, myapp]")),
                    };
                    self.report(
                        Diagnostic::new(
                            first.span,
                            format!("{what} starts with an empty program name"),
                        )
                        .with_hint(format!("write the program first, like `{example}`")),
                    );
                    return None;
                }
                let args: Vec<String> = args.into_iter().map(|a| a.value).collect();
                (args.len() == items.len()).then(|| Spanned::new(args, span))
            }
            Node::Scalar(s) if !is_null(s) => {
                let words: Vec<&str> = s.as_str().split_whitespace().collect();
                self.report(
                    Diagnostic::new(self.scalar_span(s), format!("`{key}` must be a list of arguments (exec form)"))
                        .with_hint(format!(
                            "write `{key}: [{}]`; no shell runs it, so quoting and `$VARS` are not interpreted",
                            words.join(", ")
                        )),
                );
                None
            }
            other => {
                self.wrong_kind(
                    other,
                    format!("`{key}` must be a list of arguments"),
                    format!("write `{key}: [python, -m, myapp]`"),
                );
                None
            }
        }
    }

    /// A value of the wrong shape: `{what}, not a list` (or a mapping, or nothing).
    pub(super) fn wrong_kind(&mut self, node: &Node, what: String, hint: String) {
        let span = self.span(node);
        self.report(Diagnostic::new(span, format!("{what}, not {}", kind(node))).with_hint(hint));
    }

    /// A key that is not one of `valid`, with the one probably meant.
    pub(super) fn unknown_key(&mut self, key: &MarkedScalarNode, valid: &[&str], what: &str) {
        let name = key.as_str();
        let hint = match nearest(name, valid) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("valid keys here: {}", valid.join(", ")),
        };
        self.report(
            Diagnostic::new(self.scalar_span(key), format!("`{name}` is not {what}"))
                .with_hint(hint),
        );
    }
}

/// The valid name closest to a misspelt one, if it is close enough to be what was meant.
pub(super) fn nearest<'a>(name: &str, valid: &[&'a str]) -> Option<&'a str> {
    valid
        .iter()
        .map(|v| (strsim::damerau_levenshtein(name, v), *v))
        .filter(|(distance, v)| *distance <= 2.max(v.len() / 3))
        .min()
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::keys::{At, names_at};

    #[test]
    fn nearest_key() {
        let keys = names_at(At::TopLevel);
        assert_eq!(nearest("requirments", &keys), Some("requirements"));
        assert_eq!(nearest("entrypiont", &keys), Some("entrypoint"));
        assert_eq!(nearest("zzzzzz", &keys), None);
    }
}
