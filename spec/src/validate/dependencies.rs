//! The readers of the keys that say what is installed and how: requirements files, extras, the
//! app, wheel directories and the installer. Paths stay inside the build context.

use std::fmt;

use marked_yaml::Node;

use super::keys::{APP_KEYS, sub_key_names};
use super::{Validator, names};
use crate::diagnostic::Diagnostic;
use crate::model::{App, ContextPath, Deploy, Extra, Group, Installer};
use crate::source::Spanned;

impl Validator<'_> {
    /// `app:` — a path, or `{path, as}`.
    pub(super) fn app(&mut self, node: &Node, key: &str) -> Option<App> {
        if let Node::Scalar(_) = node {
            let path = self.context_path(node, key)?;
            return Some(App { path, deploy: None });
        }
        let map = self.mapping(node, key, "{path: ., as: source}")?;
        let mut path = None;
        let mut deploy = None;
        for (name, value) in map.iter() {
            let Some(value) = self.present(name, value) else {
                continue;
            };
            match name.as_str() {
                "path" => path = self.context_path(value, "app"),
                "as" => {
                    let Some(text) = self.text(value, "as", "source") else {
                        continue;
                    };
                    match Deploy::ALL.into_iter().find(|d| d.name() == text.as_str()) {
                        Some(found) => deploy = Some(text.map(|_| found)),
                        None => self.report(
                            Diagnostic::new(text.span, format!("`{}` is not a way to deploy the app", *text))
                                .with_hint("write `as: source` to copy the directory as it is, or `as: package` to build it to a wheel"),
                        ),
                    }
                }
                _ => self.unknown_key(name, &sub_key_names(APP_KEYS), "a key of `app`"),
            }
        }
        if path.is_none() && map.get("path").is_none() {
            let span = self.span(node);
            self.report(
                Diagnostic::new(span, "`app` does not say where the app is")
                    .with_hint("add `path:`, the app's directory in the build context, like `{path: ., as: source}`"),
            );
        }
        Some(App {
            path: path?,
            deploy,
        })
    }

    /// `requirements:` or `find-links:`: one path or a list of them.
    pub(super) fn paths(&mut self, node: &Node, key: &str) -> Vec<Spanned<ContextPath>> {
        let items = self.text_list(node, key, "requirements.txt");
        items
            .into_iter()
            .filter_map(|item| self.check_context_path(item, key))
            .collect()
    }

    pub(super) fn context_path(&mut self, node: &Node, key: &str) -> Option<Spanned<ContextPath>> {
        let text = self.text(node, key, ".")?;
        self.check_context_path(text, key)
    }

    fn check_context_path(
        &mut self,
        text: Spanned<String>,
        key: &str,
    ) -> Option<Spanned<ContextPath>> {
        match normalise_context_path(&text) {
            Ok(path) => Some(text.map(|_| ContextPath(path))),
            Err(why) => {
                self.report(
                    Diagnostic::new(text.span, format!("`{key}` path `{}` {why}", *text))
                        .with_hint(format!(
                            "give a path relative to the build context, like `{}`",
                            match key {
                                "find-links" => "wheelhouse",
                                "app" => "src/app",
                                _ => "requirements.txt",
                            }
                        )),
                );
                None
            }
        }
    }

    pub(super) fn extras(&mut self, node: &Node, key: &str) -> Vec<Spanned<Extra>> {
        let items = self.text_list(node, key, "dev");
        let mut extras = Vec::new();
        for item in items {
            if !names::is_name(&item) {
                self.report(
                    Diagnostic::new(item.span, format!("`{}` is not an extra name", *item))
                        .with_hint("extras are the keys of [project.optional-dependencies], like `dev` or `postgres`"),
                );
                continue;
            }
            extras.push(item.map(|name| Extra::normalised(&name)));
        }
        extras
    }

    pub(super) fn groups(&mut self, node: &Node, key: &str) -> Vec<Spanned<Group>> {
        let items = self.text_list(node, key, "test");
        let mut groups = Vec::new();
        for item in items {
            if !names::is_name(&item) {
                self.report(
                    Diagnostic::new(item.span, format!("`{}` is not a group name", *item))
                        .with_hint("groups are the keys of [dependency-groups] (or a lock's groups), like `dev` or `test`"),
                );
                continue;
            }
            groups.push(item.map(|name| Group::normalised(&name)));
        }
        groups
    }

    pub(super) fn installer(&mut self, node: &Node, key: &str) -> Option<Spanned<Installer>> {
        let text = self.text(node, key, "uv")?;
        let known = [Installer::Uv, Installer::Pip];
        match known.into_iter().find(|i| i.name() == text.as_str()) {
            Some(installer) => Some(text.map(|_| installer)),
            None => {
                self.report(
                    Diagnostic::new(
                        text.span,
                        format!("`{}` is not an installer pyslim knows", *text),
                    )
                    .with_hint("write `installer: uv` (the default) or `installer: pip`"),
                );
                None
            }
        }
    }
}

/// Why a path cannot name something in the build context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathError {
    Absolute,
    /// A NUL or a backslash: no file in the context is named with one.
    BadCharacter,
    LeavesContext,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathError::Absolute => "is absolute",
            PathError::BadCharacter => "contains a character paths cannot hold",
            PathError::LeavesContext => "leaves the build context",
        })
    }
}

impl std::error::Error for PathError {}

/// `./src//app/` → `src/app`; `.` stays `.`. Refuses paths that leave the context.
pub(super) fn normalise_context_path(path: &str) -> Result<String, PathError> {
    if path.starts_with('/') {
        return Err(PathError::Absolute);
    }
    // A control character (NUL, a line break) would cut or split the path where a step
    // hands it on.
    if path.contains(|c: char| c.is_control() || c == '\\') {
        return Err(PathError::BadCharacter);
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(PathError::LeavesContext),
            part => parts.push(part),
        }
    }
    Ok(if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_paths_are_normalised_and_kept_inside() {
        assert_eq!(
            normalise_context_path("./src//app/").as_deref(),
            Ok("src/app")
        );
        assert_eq!(normalise_context_path(".").as_deref(), Ok("."));
        assert_eq!(
            normalise_context_path("a/../../b"),
            Err(PathError::LeavesContext)
        );
        assert_eq!(
            normalise_context_path("/etc/passwd"),
            Err(PathError::Absolute)
        );
        assert_eq!(normalise_context_path("a\\b"), Err(PathError::BadCharacter));
    }
}
