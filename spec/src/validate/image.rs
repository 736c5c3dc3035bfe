//! The readers of the keys that describe the image: its python and base images, apt packages,
//! entrypoint and command, environment, working directory, ports and labels (the user and the
//! writable directories have files of their own).

use std::collections::BTreeMap;

use marked_yaml::Node;

use super::keys::{BASE_KEYS, sub_key_names};
use super::{Validator, names};
use crate::diagnostic::Diagnostic;
use crate::model::{
    AbsolutePath, AptPackage, Bases, EnvName, ImageRef, Port, Protocol, PythonVersion,
};
use crate::source::Spanned;

impl Validator<'_> {
    pub(super) fn python(&mut self, node: &Node, key: &str) -> Option<Spanned<PythonVersion>> {
        let text = self.text(node, key, "\"3.11\"")?;
        let Some(version) = PythonVersion::parse(&text) else {
            self.report(
                Diagnostic::new(text.span, format!("`{}` is not a python version", *text))
                    .with_hint("use a version with an official image, like \"3.13\" or \"3.11.9\""),
            );
            return None;
        };
        Some(Spanned::new(version, text.span))
    }

    pub(super) fn base(&mut self, node: &Node, key: &str) -> Option<Bases> {
        let map = self.mapping(
            node,
            key,
            "{compile: \"python:3.11\", runtime: \"python:3.11-slim\"}",
        )?;
        let mut base = Bases::default();
        for (name, value) in map.iter() {
            let slot = match name.as_str() {
                "compile" => &mut base.compile,
                "runtime" => &mut base.runtime,
                _ => {
                    self.unknown_key(name, &sub_key_names(BASE_KEYS), "a key of `base`");
                    continue;
                }
            };
            let example = "python:3.11-slim";
            let value = self.present(name, value);
            if let Some(image) = value.and_then(|value| self.text(value, name.as_str(), example)) {
                if image.is_empty() || image.contains(char::is_whitespace) || image.contains("://")
                {
                    self.report(
                        Diagnostic::new(image.span, format!("`{}` is not an image reference", *image))
                            .with_hint("write it as `docker pull` takes it, like `python:3.11-slim` or `registry.example.com/python:3.11`"),
                    );
                } else {
                    *slot = Some(image.map(ImageRef));
                }
            }
        }
        Some(base)
    }

    /// `system:` or `runtime:`.
    pub(super) fn apt_packages(&mut self, node: &Node, key: &str) -> Vec<Spanned<AptPackage>> {
        let example = if key == "system" {
            "libpq-dev"
        } else {
            "libpq5"
        };
        let items = self.text_list(node, key, example);
        let mut packages = Vec::new();
        for item in items {
            if names::is_apt_package(&item) {
                packages.push(item.map(AptPackage));
                continue;
            }
            let words: Vec<&str> = item
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|s| !s.is_empty())
                .collect();
            let hint = if words.len() > 1 && words.iter().all(|w| names::is_apt_package(w)) {
                format!("list one package per item: `{key}: [{}]`", words.join(", "))
            } else {
                "Debian package names use lower-case letters, digits and `+-.`, optionally `:arch` and `=version`".to_string()
            };
            self.report(
                Diagnostic::new(
                    item.span,
                    format!("`{}` is not a Debian package name", *item),
                )
                .with_hint(hint),
            );
        }
        packages
    }

    pub(super) fn env(
        &mut self,
        node: &Node,
        key: &str,
    ) -> Vec<(Spanned<EnvName>, Spanned<String>)> {
        let Some(map) = self.mapping(node, key, "{NAME: value}") else {
            return Vec::new();
        };
        let mut env = Vec::new();
        for (name, value) in map.iter() {
            let name_span = self.scalar_span(name);
            let valid = names::is_env_name(name.as_str());
            if !valid {
                self.report(
                    Diagnostic::new(
                        name_span,
                        format!("`{}` is not an environment variable name", name.as_str()),
                    )
                    .with_hint("use letters, digits and `_`, not starting with a digit"),
                );
            }
            let value = self
                .present(name, value)
                .and_then(|value| self.text(value, name.as_str(), "\"value\""));
            if let (true, Some(value)) = (valid, value) {
                env.push((
                    Spanned::new(EnvName(name.as_str().to_string()), name_span),
                    value,
                ));
            }
        }
        env
    }

    pub(super) fn workdir(&mut self, node: &Node, key: &str) -> Option<Spanned<AbsolutePath>> {
        let text = self.text(node, key, "/app")?;
        // It is made with `mkdir` and handed to the user: a line break or `..` would make or
        // hand over another directory than the one written.
        if text.contains(char::is_control) {
            self.report(
                Diagnostic::new(
                    text.span,
                    format!("`{key}` cannot hold a line break or a control character"),
                )
                .with_hint(format!(
                    "write the directory as one plain line, like `{key}: /app`"
                )),
            );
            return None;
        }
        if !text.starts_with('/') {
            self.report(
                Diagnostic::new(
                    text.span,
                    format!("`{key}` must be an absolute path, not `{}`", *text),
                )
                .with_hint(format!("write `{key}: {}`", absolute_example(&text))),
            );
            return None;
        }
        if text.split('/').any(|part| part == "..") {
            self.report(
                Diagnostic::new(
                    text.span,
                    format!("`{}` goes up a directory with `..`", *text),
                )
                .with_hint(format!(
                    "write the directory it means, like `{key}: {}`",
                    absolute_example(&text)
                )),
            );
            return None;
        }
        Some(text.map(AbsolutePath))
    }

    pub(super) fn expose(&mut self, node: &Node, key: &str) -> Vec<Spanned<Port>> {
        let items = self.text_list(node, key, "8000");
        let mut ports = Vec::new();
        for item in items {
            let (number, protocol) = match item.split_once('/') {
                None => (item.as_str(), Some(Protocol::Tcp)),
                Some((n, "tcp")) => (n, Some(Protocol::Tcp)),
                Some((n, "udp")) => (n, Some(Protocol::Udp)),
                Some((n, _)) => (n, None),
            };
            match (number.parse::<u16>(), protocol) {
                (Ok(number), Some(protocol)) if number > 0 => {
                    ports.push(Spanned::new(Port { number, protocol }, item.span))
                }
                _ => self.report(
                    Diagnostic::new(item.span, format!("`{}` is not a port", *item))
                        .with_hint("use a number from 1 to 65535, optionally with /tcp or /udp, like `8000` or `53/udp`"),
                ),
            }
        }
        ports
    }

    pub(super) fn labels(&mut self, node: &Node, key: &str) -> BTreeMap<String, String> {
        let Some(map) = self.mapping(node, key, "{org.opencontainers.image.title: myapp}") else {
            return BTreeMap::new();
        };
        let mut labels = BTreeMap::new();
        for (name, value) in map.iter() {
            let key = name.as_str();
            if key.is_empty() || key.contains(char::is_control) {
                self.report(
                    Diagnostic::new(
                        self.scalar_span(name),
                        "a label needs a name of one line, without control characters",
                    )
                    .with_hint("name it like `org.opencontainers.image.title`"),
                );
                continue;
            }
            let value = self.present(name, value);
            if let Some(value) =
                value.and_then(|value| self.text(value, name.as_str(), "\"value\""))
            {
                labels.insert(name.as_str().to_string(), value.value);
            }
        }
        labels
    }
}

/// A relative or roundabout path written as the absolute one a hint can suggest: its named parts
/// under `/` (`./app` and `../app` → `/app`), or `/app` when it names none.
pub(super) fn absolute_example(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !matches!(*p, "" | "." | ".."))
        .collect();
    if parts.is_empty() {
        "/app".to_string()
    } else {
        format!("/{}", parts.join("/"))
    }
}
