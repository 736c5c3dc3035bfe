//! The runtime image's keys: `flavor:`, `missing-libraries:` and `smoke-test:`.

use marked_yaml::Node;

use super::Validator;
use super::keys::{SMOKE_TEST_KEYS, sub_key_names};
use crate::diagnostic::Diagnostic;
use crate::model::{Flavor, MissingLibraries, SmokeTest};
use crate::source::Spanned;

impl Validator<'_> {
    pub(super) fn flavor(&mut self, node: &Node, key: &str) -> Option<Spanned<Flavor>> {
        let text = self.text(node, key, "minimal")?;
        match Flavor::ALL.into_iter().find(|f| f.name() == text.as_str()) {
            Some(flavor) => Some(text.map(|_| flavor)),
            None => {
                self.report(
                    Diagnostic::new(text.span, format!("`{}` is not a flavor pyslim builds", *text))
                        .with_hint("write `flavor: slim` (the default), `flavor: minimal` or `flavor: minimal-debug`"),
                );
                None
            }
        }
    }

    pub(super) fn missing_libraries(
        &mut self,
        node: &Node,
        key: &str,
    ) -> Option<Spanned<MissingLibraries>> {
        let text = self.text(node, key, "error")?;
        let known = [MissingLibraries::Install, MissingLibraries::Error];
        match known.into_iter().find(|m| m.name() == text.as_str()) {
            Some(choice) => Some(text.map(|_| choice)),
            None => {
                self.report(
                    Diagnostic::new(
                        text.span,
                        format!("`{key}` is `install` or `error`, not `{}`", *text),
                    )
                    .with_hint("write `missing-libraries: error` to fail the build on a library `runtime:` does not name; `install` (the default) installs it"),
                );
                None
            }
        }
    }

    pub(super) fn smoke_test(&mut self, node: &Node, key: &str) -> Option<SmokeTest> {
        let span = Some(self.span(node));
        if let Node::Mapping(map) = node {
            let mut smoke = SmokeTest {
                span,
                ..SmokeTest::default()
            };
            for (name, value) in map.iter() {
                let Some(value) = self.present(name, value) else {
                    continue;
                };
                match name.as_str() {
                    "skip" => {
                        for module in self.text_list(value, "skip", "redis_om") {
                            if is_module(&module) {
                                smoke.skip.push(module);
                            } else {
                                self.report(
                                    Diagnostic::new(
                                        module.span,
                                        format!("`{}` is not a top-level module name", *module),
                                    )
                                    .with_hint("name the module as `import` does, without dots: `skip: [redis_om]` skips `redis_om` and everything under it"),
                                );
                            }
                        }
                    }
                    _ => self.unknown_key(
                        name,
                        &sub_key_names(SMOKE_TEST_KEYS),
                        &format!("a key of `{key}`"),
                    ),
                }
            }
            return Some(smoke);
        }
        let hint = "write `smoke-test: false` to turn it off, or `smoke-test: {skip: [MODULE]}` to leave modules out";
        let enabled = self.boolean(node, key, hint)?;
        Some(SmokeTest {
            enabled,
            skip: Vec::new(),
            span,
        })
    }
}

/// A name `import` takes for a top-level module: letters, digits and `_`, not starting with a
/// digit.
fn is_module(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}
