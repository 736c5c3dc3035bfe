//! Build arguments: declared under `args:`, given with `--build-arg`, and `${NAME}` in any value
//! replaced by the argument's value (`$$` is a literal `$`).

use marked_yaml::Node;
use marked_yaml::types::MarkedScalarNode;

use super::shape::nearest;
use super::yaml::{is_null, non_null};
use super::{LoadOptions, Validator, names};
use crate::diagnostic::Diagnostic;
use crate::model::Arg;
use crate::source::{Span, Spanned};

impl Validator<'_> {
    /// `args:`, read before every other key so that any value may use them.
    pub(super) fn read_args(&mut self, node: &Node, options: &LoadOptions) -> Vec<Arg> {
        let Some(node) = non_null(node) else {
            return Vec::new();
        };
        let Some(map) = self.mapping(node, "args", "{PYTHON_VERSION: \"3.11\"}") else {
            return Vec::new();
        };
        let names: Vec<&str> = map.keys().map(|k| k.as_str()).collect();
        let mut args = Vec::new();
        for (at, (name, value)) in map.iter().enumerate() {
            let span = self.scalar_span(name);
            if !names::is_env_name(name.as_str()) {
                self.report(
                    Diagnostic::new(span, format!("`{}` is not a build argument name", name.as_str()))
                        .with_hint("use letters, digits and `_`, not starting with a digit, like `APP_VERSION`"),
                );
                continue;
            }
            // An argument may have no default (`NAME:`); then a build must pass it if it is used.
            let default = match value {
                Node::Scalar(s) if is_null(s) => None,
                Node::Scalar(s) => Some(s.as_str().to_string()),
                other => {
                    let name = name.as_str();
                    self.wrong_kind(
                        other,
                        format!("the default of `{name}` must be a single value"),
                        format!("write `{name}: \"value\"`, or `{name}:` for no default"),
                    );
                    continue;
                }
            };
            // A default may use the arguments declared above it, as `ARG B=${A}-y` does in a
            // Dockerfile; one that uses itself or one declared below it has no value to take.
            let mut sound = true;
            if let Node::Scalar(s) = value {
                for used in references(s.as_str()) {
                    let later = names[at + 1..].contains(&used);
                    if used == name.as_str() || later {
                        sound = false;
                        self.misordered(self.scalar_span(s), name.as_str(), used, later);
                    }
                }
            }
            let value = match (options.build_args.get(name.as_str()), value) {
                (Some(given), _) => Some(given.clone()),
                (None, Node::Scalar(s)) if default.is_some() && sound => {
                    // On a problem (reported) the text stands in, so that values using this
                    // argument do not report it again as having no value.
                    self.expand(s).map(|v| v.value).or_else(|| default.clone())
                }
                _ => default.clone(),
            };
            self.args.insert(name.as_str().to_string(), value.clone());
            args.push(Arg {
                name: Spanned::new(name.as_str().to_string(), span),
                default,
                value,
            });
        }
        args
    }

    /// The reader of the `args` key: hands over what [`Validator::read_args`] found ahead of
    /// the other keys, since reading them again would report their problems twice.
    pub(super) fn declared_args(&mut self, _: &Node, _: &str) -> Vec<Arg> {
        std::mem::take(&mut self.declared)
    }

    /// A scalar's text with every `${NAME}` replaced by the build argument's value (`$$` is a
    /// literal `$`; any other `$` is left alone, since no shell ever reads these strings).
    pub(super) fn expand(&mut self, scalar: &MarkedScalarNode) -> Option<Spanned<String>> {
        let span = self.scalar_span(scalar);
        let text = scalar.as_str();
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        let mut complete = true;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(after) = after.strip_prefix('$') {
                out.push('$');
                rest = after;
            } else if let Some(inner) = after.strip_prefix('{') {
                let Some(end) = inner.find('}') else {
                    self.report(
                        Diagnostic::new(self.locate(span, "${"), "`${` is not closed").with_hint(
                            "write `${NAME}` to use a build argument, or `$${` for a literal `${`",
                        ),
                    );
                    return None;
                };
                let name = &inner[..end];
                match self.args.get(name) {
                    Some(Some(value)) => out.push_str(value),
                    Some(None) => {
                        complete = false;
                        self.unset(span, name);
                    }
                    None => {
                        complete = false;
                        self.undeclared(span, name);
                    }
                }
                rest = &inner[end + 1..];
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
        // Written as `"\0"` or brought in by a build argument: an image config is JSON read by
        // C code and a command line is C strings, and either ends the value at a NUL.
        if complete && out.contains('\0') {
            self.report(
                Diagnostic::new(span, "this value holds a NUL character, which no image setting or command line can carry")
                    .with_hint("remove the `\\0` (or `\\x00`, `\\u0000`) escape, or the NUL in the build argument it uses"),
            );
            return None;
        }
        complete.then(|| Spanned::new(out, span))
    }

    fn unset(&mut self, span: Span, name: &str) {
        let at = self.locate(span, &format!("${{{name}}}"));
        self.report(
            Diagnostic::new(
                at,
                format!("build argument `{name}` has no value in this build"),
            )
            .with_hint(format!(
                "pass `--build-arg {name}=...`, or give it a default under `args:`"
            )),
        );
    }

    fn misordered(&mut self, span: Span, arg: &str, used: &str, later: bool) {
        let at = self.locate(span, &format!("${{{used}}}"));
        let problem = if later {
            Diagnostic::new(
                at,
                format!("the default of `{arg}` uses `${{{used}}}`, which is declared after it"),
            )
            .with_hint(format!(
                "move `{used}` above `{arg}` under `args:`: a default may use the arguments declared before it"
            ))
        } else {
            Diagnostic::new(at, format!("the default of `{arg}` uses `{arg}` itself"))
                .with_hint(format!(
                    "give `{arg}` a value of its own; write `$${{{arg}}}` for a literal `${{{arg}}}`"
                ))
        };
        self.report(problem);
    }

    fn undeclared(&mut self, span: Span, name: &str) {
        let at = self.locate(span, &format!("${{{name}}}"));
        if !names::is_env_name(name) {
            self.report(
                Diagnostic::new(at, format!("`${{{name}}}` does not name a build argument"))
                    .with_hint("write `${NAME}` with the name of an argument under `args:`, like `${APP_VERSION}`; write `$${` for a literal `${`"),
            );
            return;
        }
        let declared: Vec<&str> = self.args.keys().map(String::as_str).collect();
        let hint = match nearest(name, &declared) {
            Some(near) => {
                format!("did you mean `${{{near}}}`? (or declare `{name}` under `args:`)")
            }
            None => {
                format!("declare it: `args: {{{name}: default}}`; write `$${{` for a literal `${{`")
            }
        };
        self.report(
            Diagnostic::new(
                at,
                format!("`${{{name}}}` is not a declared build argument"),
            )
            .with_hint(hint),
        );
    }

    /// The span of `needle` where it is written inside the scalar at `span`, or the scalar's.
    pub(super) fn locate(&self, span: Span, needle: &str) -> Span {
        let Some(line) = self.source.line(span.line) else {
            return span;
        };
        let start = line
            .char_indices()
            .nth(span.column.saturating_sub(1) as usize)
            .map_or(line.len(), |(i, _)| i);
        match line[start..].find(needle) {
            Some(offset) => {
                let column = line[..start + offset].chars().count() + 1;
                let len = needle.chars().count();
                Span::new(
                    span.line,
                    u32::try_from(column).unwrap_or(span.column),
                    u32::try_from(len).unwrap_or(1),
                )
            }
            None => span,
        }
    }
}

/// The names a text uses as `${NAME}`, by the rules of [`Validator::expand`].
fn references(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        let after = &rest[at + 1..];
        if let Some(after) = after.strip_prefix('$') {
            rest = after;
        } else if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                break;
            };
            found.push(&inner[..end]);
            rest = &inner[end + 1..];
        } else {
            rest = after;
        }
    }
    found
}
