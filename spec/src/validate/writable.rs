//! `writable:` — the directories the app writes, each a plain absolute path or
//! `{path, volume}`. A path is normalised here (no `.`, no doubled or trailing `/`), so the
//! same directory written twice is one directory.

use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;

use super::Validator;
use super::keys::{WRITABLE_KEYS, sub_key_names};
use super::yaml::is_null;
use crate::diagnostic::Diagnostic;
use crate::model::{AbsolutePath, Writable, reserved_path};
use crate::source::Spanned;

const EXAMPLE: &str = "[/app/media, {path: /data, volume: true}]";

impl Validator<'_> {
    pub(super) fn writable(&mut self, node: &Node, key: &str) -> Vec<Writable> {
        let items: Vec<&Node> = match node {
            Node::Sequence(items) => items.iter().collect(),
            Node::Scalar(_) => vec![node],
            other => {
                self.wrong_kind(
                    other,
                    format!("`{key}` must be a list"),
                    format!("write it as `{key}: {EXAMPLE}`"),
                );
                return Vec::new();
            }
        };
        let mut dirs: Vec<Writable> = Vec::new();
        for item in items {
            let Some(dir) = self.writable_dir(item, key) else {
                continue;
            };
            match dirs.iter_mut().find(|d| d.path == dir.path) {
                Some(same) => same.volume |= dir.volume,
                None => dirs.push(dir),
            }
        }
        dirs
    }

    fn writable_dir(&mut self, node: &Node, key: &str) -> Option<Writable> {
        match node {
            Node::Scalar(s) if !is_null(s) => {
                let path = self.expand(s)?;
                let path = self.writable_path(path, key)?;
                Some(Writable {
                    path,
                    volume: false,
                })
            }
            Node::Mapping(map) => self.writable_mapping(node, map, key),
            other => {
                self.wrong_kind(
                    other,
                    format!("each item of `{key}` must be a path or `{{path, volume}}`"),
                    format!("write one directory per item, like `{key}: {EXAMPLE}`"),
                );
                None
            }
        }
    }

    fn writable_mapping(
        &mut self,
        node: &Node,
        map: &MarkedMappingNode,
        key: &str,
    ) -> Option<Writable> {
        let before = self.problems.len();
        let (mut path, mut volume) = (None, false);
        for (name, value) in map.iter() {
            let Some(value) = self.present(name, value) else {
                continue;
            };
            match name.as_str() {
                "path" => {
                    path = self
                        .text(value, "path", "/data")
                        .and_then(|p| self.writable_path(p, key));
                }
                "volume" => {
                    let hint =
                        "write `volume: true` to declare the directory a VOLUME of the image";
                    if let Some(v) = self.boolean(value, "volume", hint) {
                        volume = v;
                    }
                }
                _ => self.unknown_key(
                    name,
                    &sub_key_names(WRITABLE_KEYS),
                    &format!("a key of a `{key}` item"),
                ),
            }
        }
        if path.is_none() && self.problems.len() == before {
            let span = self.span(node);
            self.report(
                Diagnostic::new(span, format!("this `{key}` item names no directory"))
                    .with_hint("add its `path`, like `{path: /data, volume: true}`"),
            );
        }
        let path = path.filter(|_| self.problems.len() == before)?;
        Some(Writable { path, volume })
    }

    /// An absolute path in the image, normalised, that pyslim may make and hand to the user.
    fn writable_path(&mut self, text: Spanned<String>, key: &str) -> Option<Spanned<AbsolutePath>> {
        let span = text.span;
        let raw = text.as_str();
        if raw.contains(['\0', '\n', '\r']) {
            self.report(
                Diagnostic::new(
                    span,
                    format!("a `{key}` path cannot hold a NUL or a line break"),
                )
                .with_hint("write the directory as one plain line, like `/app/media`"),
            );
            return None;
        }
        if !raw.starts_with('/') {
            self.report(
                Diagnostic::new(span, format!("`{key}` paths must be absolute, not `{raw}`"))
                    .with_hint(format!(
                        "write the whole path in the image, like `{}` (or under your `workdir`)",
                        super::image::absolute_example(raw)
                    )),
            );
            return None;
        }
        let mut parts = Vec::new();
        for part in raw.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    self.report(
                        Diagnostic::new(span, format!("`{raw}` goes up a directory with `..`"))
                            .with_hint("write the directory it means, without `..`"),
                    );
                    return None;
                }
                part => parts.push(part),
            }
        }
        if parts.is_empty() {
            self.report(
                Diagnostic::new(
                    span,
                    "`/` cannot be made writable: the user would own the whole image",
                )
                .with_hint("name the directories the app writes, like `/app/media` or `/data`"),
            );
            return None;
        }
        let path = format!("/{}", parts.join("/"));
        if let Some(why) = reserved_path(&path) {
            self.report(
                Diagnostic::new(span, format!("`{path}` cannot be made writable: {why}"))
                    .with_hint("choose a directory of your own, like `/data` or `/app/media`"),
            );
            return None;
        }
        Some(Spanned::new(AbsolutePath(path), span))
    }
}

#[cfg(test)]
mod tests {
    use crate::source::SourceFile;

    fn writable(value: &str) -> Result<Vec<(String, bool)>, String> {
        let text = format!("python: \"3.11\"\napp: .\nwritable: {value}\n");
        crate::load(SourceFile::new("pyslim.yaml", text))
            .map(|spec| {
                spec.writable
                    .iter()
                    .map(|w| (w.path.to_string(), w.volume))
                    .collect()
            })
            .map_err(|d| d.to_string())
    }

    fn dirs(list: &[(&str, bool)]) -> Vec<(String, bool)> {
        list.iter().map(|(p, v)| (p.to_string(), *v)).collect()
    }

    #[test]
    fn paths_are_normalised_and_one_directory_is_listed_once() {
        assert_eq!(writable("/data"), Ok(dirs(&[("/data", false)])));
        assert_eq!(
            writable(
                "[/app/media/, //data/./x, {path: /data/x, volume: true}, {path: /v, volume: false}]"
            ),
            Ok(dirs(&[
                ("/app/media", false),
                ("/data/x", true),
                ("/v", false)
            ]))
        );
        // Only the first component decides: `/tmpfiles` is not `/tmp`.
        assert_eq!(
            writable("[/tmpfiles, /var/tmp, /srv/pyslim-data]"),
            Ok(dirs(&[
                ("/tmpfiles", false),
                ("/var/tmp", false),
                ("/srv/pyslim-data", false)
            ]))
        );
    }

    #[test]
    fn paths_pyslim_cannot_hand_over_are_refused_at_their_line() {
        for (written, message) in [
            ("media", "`writable` paths must be absolute, not `media`"),
            (
                "[/app/../etc]",
                "`/app/../etc` goes up a directory with `..`",
            ),
            ("[/]", "`/` cannot be made writable"),
            ("[/./]", "`/` cannot be made writable"),
            ("[\"/data\\nx\"]", "cannot hold a NUL or a line break"),
            ("[/tmp]", "`/tmp` cannot be made writable"),
            ("[/tmp/cache]", "`/tmp/cache` cannot be made writable"),
            ("[/wheels]", "at `/wheels` while it installs them"),
            ("[/pyslim-app/x]", "`/pyslim-…`"),
            ("[/proc/x]", "the container runtime mounts"),
            ("[{volume: true}]", "names no directory"),
            (
                "[{path: /data, volume: yes}]",
                "`volume` is true or false, not `yes`",
            ),
            ("[{path: /data, volum: true}]", "did you mean `volume`?"),
            ("{path: /data}", "`writable` must be a list"),
            ("[[/data]]", "each item of `writable` must be a path"),
        ] {
            let error = writable(written).expect_err(written);
            assert!(
                error.contains("pyslim.yaml:3:"),
                "writable: {written}: {error}"
            );
            assert!(error.contains(message), "writable: {written}: {error}");
        }
    }
}
