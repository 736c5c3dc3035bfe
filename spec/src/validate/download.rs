//! The readers of the keys that say how the downloading steps reach packages: the index and its
//! credentials, an SSH agent for git dependencies, and the host's network.

use marked_yaml::Node;

use super::keys::{INDEX_KEYS, SSH_KEYS, sub_key_names};
use super::{Validator, names};
use crate::diagnostic::Diagnostic;
use crate::model::{Index, IndexUrl, SecretId, Ssh};
use crate::source::{Span, Spanned};

const USE_THE_SECRET: &str = "leave credentials out of the URL and pass a netrc file as a secret: `index: {secret: pypi-netrc}` with `docker buildx build --secret id=pypi-netrc,src=$HOME/.netrc`";

/// Whether a query parameter's name is one services put a credential in: `token`, `api_key`,
/// `password`, `X-Amz-Signature`, `auth`…
fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "token",
        "key",
        "pass",
        "pwd",
        "secret",
        "auth",
        "sig",
        "credential",
        "session",
        "jwt",
        "bearer",
    ]
    .iter()
    .any(|word| name.contains(word))
}

impl Validator<'_> {
    pub(super) fn index(&mut self, node: &Node, key: &str) -> Index {
        if let Node::Scalar(s) = node
            && s.as_str() == "none"
        {
            return Index {
                offline: true,
                ..Index::default()
            };
        }
        let example = "{url: https://pypi.example.com/simple, secret: pypi-netrc}";
        let Some(map) = self.mapping(node, key, example) else {
            return Index::default();
        };
        let mut index = Index::default();
        for (name, value) in map.iter() {
            let Some(value) = self.present(name, value) else {
                continue;
            };
            match name.as_str() {
                "url" => {
                    index.url = self
                        .text(value, "url", "https://pypi.example.com/simple")
                        .and_then(|u| self.index_url(u))
                }
                "extra" => {
                    let urls =
                        self.text_list(value, "extra", "https://download.example.com/simple");
                    index.extra = urls.into_iter().filter_map(|u| self.index_url(u)).collect();
                }
                "secret" => {
                    if let Some(id) = self.text(value, "secret", "pypi-netrc") {
                        if names::is_id(&id) {
                            index.secret = Some(id.map(SecretId));
                        } else {
                            self.report(
                                Diagnostic::new(id.span, format!("`{}` is not a secret id", *id))
                                    .with_hint("name the secret as you pass it: `docker buildx build --secret id=pypi-netrc,src=$HOME/.netrc`"),
                            );
                        }
                    }
                }
                _ => self.unknown_key(name, &sub_key_names(INDEX_KEYS), "a key of `index`"),
            }
        }
        index
    }

    fn index_url(&mut self, url: Spanned<String>) -> Option<Spanned<IndexUrl>> {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let Some(rest) = rest.filter(|r| !r.is_empty() && !r.contains(char::is_whitespace)) else {
            self.report(
                Diagnostic::new(url.span, format!("`{}` is not an index URL", *url))
                    .with_hint("write the http(s) URL of a simple index, like `https://pypi.example.com/simple`"),
            );
            return None;
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            self.report(
                Diagnostic::new(url.span, "credentials in an index URL would be written into the build's history and cache keys")
                    .with_hint(USE_THE_SECRET),
            );
            return None;
        }
        // A URL is printed in the build log and keyed into the cache whole: a token in its query
        // leaks as surely as `user:pass@`. A fragment never reaches the index, so one is either a
        // mistake or a place a credential was put.
        if rest.contains('#') {
            self.report(
                Diagnostic::new(self.locate(url.span, "#"), "an index URL has no use for a `#` fragment, and one would be written into the build's history and cache keys")
                    .with_hint("remove the `#` and what follows; a credential belongs in a netrc file passed as a secret: `index: {secret: pypi-netrc}` with `docker buildx build --secret id=pypi-netrc,src=$HOME/.netrc`"),
            );
            return None;
        }
        let query = rest.split_once('?').map_or("", |(_, query)| query);
        for pair in query.split('&') {
            let name = pair.split('=').next().unwrap_or_default();
            if looks_secret(name) {
                self.report(
                    Diagnostic::new(self.locate(url.span, pair), format!("`{name}` in an index URL's query is a credential, and would be written into the build's history and cache keys"))
                        .with_hint(USE_THE_SECRET),
                );
                return None;
            }
        }
        Some(url.map(IndexUrl))
    }

    pub(super) fn ssh(&mut self, node: &Node, key: &str) -> Option<Ssh> {
        if let Node::Scalar(_) = node {
            let id = self.text(node, key, "default")?;
            return self.ssh_id(id).map(|id| Ssh {
                id,
                known_hosts: Vec::new(),
            });
        }
        let map = self.mapping(
            node,
            key,
            "{id: default, known-hosts: [\"github.com ssh-ed25519 AAAA...\"]}",
        )?;
        let mut id = None;
        let mut known_hosts = Vec::new();
        for (name, value) in map.iter() {
            let Some(value) = self.present(name, value) else {
                continue;
            };
            match name.as_str() {
                "id" => {
                    id = self
                        .text(value, "id", "default")
                        .and_then(|t| self.ssh_id(t))
                }
                "known-hosts" => {
                    for line in
                        self.text_list(value, "known-hosts", "\"github.com ssh-ed25519 AAAA...\"")
                    {
                        if line.split_whitespace().count() < 3 || line.contains('\n') {
                            self.report(
                                Diagnostic::new(line.span, format!("`{}` is not a known_hosts line", *line))
                                    .with_hint("copy the host's line from `ssh-keyscan HOST`: `HOST KEYTYPE KEY`"),
                            );
                        } else {
                            known_hosts.push(line);
                        }
                    }
                }
                _ => self.unknown_key(name, &sub_key_names(SSH_KEYS), "a key of `ssh`"),
            }
        }
        // Without an id, the agent `--ssh default` forwards; it is located at the mapping.
        let at = self.span(node);
        let id = id.unwrap_or_else(|| Spanned::new(SecretId("default".into()), at));
        Some(Ssh { id, known_hosts })
    }

    fn ssh_id(&mut self, id: Spanned<String>) -> Option<Spanned<SecretId>> {
        if !names::is_id(&id) {
            self.report(
                Diagnostic::new(id.span, format!("`{}` is not an SSH agent id", *id))
                    .with_hint("name it as the build passes it: `--ssh default` forwards your agent as `default`"),
            );
            return None;
        }
        Some(id.map(SecretId))
    }

    /// `network: host`, where it is written; `default` is as good as leaving it out.
    pub(super) fn network(&mut self, node: &Node, key: &str) -> Option<Span> {
        let text = self.text(node, key, "host")?;
        match text.as_str() {
            "host" => Some(text.span),
            "default" => None,
            other => {
                self.report(
                    Diagnostic::new(text.span, format!("`{other}` is not a network pyslim can use"))
                        .with_hint("write `network: host` to download through the host's network (build with `--allow network.host`), or leave it out"),
                );
                None
            }
        }
    }
}
