//! Targets: named variants of the image, each read like the spec's own keys and put on top of
//! them when it is the one built (see [`super::keys::InTargets`] for how each key combines).

use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;

use super::keys::{At, Fields};
use super::yaml::{is_null, non_null};
use super::{Validator, names};
use crate::diagnostic::Diagnostic;
use crate::model::TargetInfo;
use crate::source::{Span, Spanned};

/// The target every spec has: an image holding only `/wheels`, the dependency wheels, for
/// other builds to reuse (`--build-context wheels=docker-image://…`).
pub const WHEELS_TARGET: &str = "wheels";

impl Validator<'_> {
    pub(super) fn targets(&mut self, node: &Node, key: &str) -> Vec<(TargetInfo, Fields)> {
        let Some(node) = non_null(node) else {
            return Vec::new();
        };
        let Some(map) = self.mapping(node, key, "{test: {requirements: requirements-dev.txt}}")
        else {
            return Vec::new();
        };
        let mut targets = Vec::new();
        for (name, value) in map.iter() {
            let span = self.scalar_span(name);
            if name.as_str() == WHEELS_TARGET {
                self.report(
                    Diagnostic::new(span, format!("`{WHEELS_TARGET}` is a target pyslim defines: an image of just the dependency wheels"))
                        .with_hint("give your target another name"),
                );
                continue;
            }
            if !names::is_name(name.as_str()) {
                self.report(
                    Diagnostic::new(span, format!("`{}` is not a target name", name.as_str()))
                        .with_hint("use letters, digits, `_`, `.` or `-`, starting with a letter or digit: it is what `--target` takes"),
                );
                continue;
            }
            let what = format!("a key of target `{}`", name.as_str());
            let fields = match value {
                // `test: {}` or `test:` — a target that is the default image under another name.
                Node::Scalar(s) if is_null(s) => Fields::default(),
                Node::Mapping(target) => self.fields(target, At::Target, &what),
                other => {
                    let name = name.as_str();
                    self.wrong_kind(
                        other,
                        format!("target `{name}` must be a mapping"),
                        format!("write `{name}: {{requirements: requirements-dev.txt}}`"),
                    );
                    continue;
                }
            };
            let info = TargetInfo {
                name: Spanned::new(name.as_str().to_string(), span),
                description: fields.description.clone(),
            };
            targets.push((info, fields));
        }
        targets
    }

    pub(super) fn description(&mut self, node: &Node, key: &str) -> Option<String> {
        self.text(node, key, "\"Runs the tests\"").map(|d| d.value)
    }

    /// The target `--target` names, or a report that the spec has none by that name.
    pub(super) fn chosen<'t>(
        &mut self,
        map: &MarkedMappingNode,
        targets: &'t [(TargetInfo, Fields)],
        name: &str,
    ) -> Option<&'t Fields> {
        if let Some((_, target)) = targets.iter().find(|(info, _)| *info.name == *name) {
            return Some(target);
        }
        let at = map
            .keys()
            .find(|k| k.as_str() == "targets")
            .map(|k| self.scalar_span(k))
            .unwrap_or(Span::new(1, 1, 1));
        let names: Vec<&str> = targets.iter().map(|(i, _)| i.name.as_str()).collect();
        let hint = if names.is_empty() {
            format!(
                "this spec defines no targets: build without --target (or with `--target {WHEELS_TARGET}` for just the dependency wheels), or add `targets: {{NAME: {{...}}}}`"
            )
        } else {
            format!(
                "valid targets: {}, and `{WHEELS_TARGET}` (just the dependency wheels)",
                names.join(", ")
            )
        };
        self.report(
            Diagnostic::new(at, format!("there is no target `{name}` in this spec"))
                .with_hint(hint),
        );
        None
    }
}
