//! `build-commands:` — commands run in the finished image at build time, each an argv list or
//! `{run, network, user}`. Nothing here is ever a shell line.

use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;

use super::Validator;
use super::keys::{BUILD_COMMAND_KEYS, sub_key_names};
use crate::diagnostic::Diagnostic;
use crate::model::BuildCommand;
use crate::source::Spanned;

const EXAMPLE: &str = "[[python, manage.py, collectstatic, --noinput]]";

impl Validator<'_> {
    pub(super) fn build_commands(&mut self, node: &Node, key: &str) -> Vec<BuildCommand> {
        let Node::Sequence(items) = node else {
            self.wrong_kind(
                node,
                format!("`{key}` must be a list of commands"),
                format!("write it as `{key}: {EXAMPLE}`: a list of argument lists"),
            );
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| match item {
                Node::Sequence(_) => self.command_argv(item, key).map(|argv| BuildCommand {
                    argv,
                    network: false,
                    root: false,
                }),
                Node::Mapping(map) => self.command_mapping(item, map, key),
                Node::Scalar(text) if !text.as_str().trim().is_empty() => {
                    let words: Vec<&str> = text.as_str().split_whitespace().collect();
                    self.wrong_kind(
                        item,
                        format!("each item of `{key}` must be a command as a list of arguments"),
                        format!(
                            "write it as `- [{}]`; no shell runs it, so quoting, `&&` and `$VARS` are not interpreted",
                            words.join(", ")
                        ),
                    );
                    None
                }
                other => {
                    self.wrong_kind(
                        other,
                        format!("each item of `{key}` must be a command as a list of arguments"),
                        format!("write `{key}: {EXAMPLE}`; no shell runs them"),
                    );
                    None
                }
            })
            .collect()
    }

    /// A command's arguments: a list, and not an empty one.
    fn command_argv(&mut self, node: &Node, key: &str) -> Option<Spanned<Vec<String>>> {
        let argv = self.argv(node, key)?;
        if argv.is_empty() {
            self.report(
                Diagnostic::new(argv.span, "a build command needs a program to run").with_hint(
                    "write the command and its arguments, like `[python, -m, compileall, .]`",
                ),
            );
            return None;
        }
        Some(argv)
    }

    fn command_mapping(
        &mut self,
        node: &Node,
        map: &MarkedMappingNode,
        key: &str,
    ) -> Option<BuildCommand> {
        let before = self.problems.len();
        let mut command = BuildCommand {
            argv: Spanned::new(Vec::new(), self.span(node)),
            network: false,
            root: false,
        };
        let mut argv = None;
        for (name, value) in map.iter() {
            let Some(value) = self.present(name, value) else {
                continue;
            };
            match name.as_str() {
                "run" => argv = self.command_argv(value, "run"),
                "network" => {
                    let hint = "write `network: true` to let this command reach the network";
                    if let Some(v) = self.boolean(value, "network", hint) {
                        command.network = v;
                    }
                }
                "user" => match self.text(value, "user", "root") {
                    Some(v) if *v == "root" => command.root = true,
                    Some(v) => self.report(
                        Diagnostic::new(
                            v.span,
                            format!(
                                "a build command runs as the image's user or as root, not `{}`",
                                *v
                            ),
                        )
                        .with_hint(
                            "write `user: root`, or leave `user` out to run it as the image's user",
                        ),
                    ),
                    None => {}
                },
                _ => self.unknown_key(
                    name,
                    &sub_key_names(BUILD_COMMAND_KEYS),
                    &format!("a key of a `{key}` item"),
                ),
            }
        }
        if argv.is_none() && self.problems.len() == before {
            let span = self.span(node);
            self.report(
                Diagnostic::new(span, format!("this `{key}` item has no command"))
                    .with_hint("add `run:`, the command as a list of arguments, like `{run: [python, manage.py, migrate], network: true}`"),
            );
        }
        command.argv = argv?;
        Some(command)
    }
}
