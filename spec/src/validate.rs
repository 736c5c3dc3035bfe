//! YAML text → [`Spec`], collecting every problem on the way instead of stopping at the first.
//!
//! The YAML is parsed into marked nodes (every node knows its line and column), then each
//! top-level key is checked by its own function, chosen by a `match`.

use std::collections::BTreeMap;

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{LoadError, LoaderOptions, Node};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::*;
use crate::source::{SourceFile, Span, Spanned};

/// Every top-level key of spec v1, in the order the reference documents them.
pub const KEYS: &[&str] = &[
    "python",
    "requirements",
    "app",
    "system",
    "runtime",
    "entrypoint",
    "cmd",
    "env",
    "workdir",
    "user",
    "expose",
    "labels",
    "base",
    "extras",
    "index",
    "find-links",
    "ssh",
    "network",
    "installer",
    "args",
    "targets",
];

/// What a target may add to or change in the default image.
pub const TARGET_KEYS: &[&str] = &[
    "description",
    "requirements",
    "extras",
    "system",
    "runtime",
    "entrypoint",
    "cmd",
    "env",
    "workdir",
    "user",
    "expose",
    "labels",
];

pub const BASE_KEYS: &[&str] = &["compile", "runtime"];
pub const INDEX_KEYS: &[&str] = &["url", "extra", "secret"];
pub const SSH_KEYS: &[&str] = &["id", "known-hosts"];

/// The target every spec has: an image holding only `/wheels`, the dependency wheels, for
/// other builds to reuse (`--build-context wheels=docker-image://…`).
pub const WHEELS_TARGET: &str = "wheels";

/// What the build says about the spec: `--build-arg`s and `--target`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    pub build_args: BTreeMap<String, String>,
    pub target: Option<String>,
}

/// Parses and validates a spec for the default target with no build arguments.
pub fn load(source: SourceFile) -> Result<Spec, Diagnostics> {
    load_with(source, &LoadOptions::default())
}

/// Parses and validates a spec for a build. On failure every problem found is returned at once.
pub fn load_with(source: SourceFile, options: &LoadOptions) -> Result<Spec, Diagnostics> {
    // Quoted scalars stay strings: `""` is an empty value, not a missing one.
    let yaml = LoaderOptions::default()
        .error_on_duplicate_keys(true)
        .prevent_coercion(true);
    let root = match marked_yaml::parse_yaml_with_options(0, &source.text, yaml) {
        Ok(root) => root,
        Err(error) => {
            let problem = yaml_error(&source, &error);
            return Err(Diagnostics::new(source, vec![problem]));
        }
    };
    let mut v = Validator {
        source: &source,
        problems: Vec::new(),
        args: BTreeMap::new(),
    };
    let spec = v.spec(&root, options);
    match spec {
        Some(spec) if v.problems.is_empty() => Ok(spec),
        _ => {
            let problems = v.problems;
            Err(Diagnostics::new(source, problems))
        }
    }
}

fn yaml_error(source: &SourceFile, error: &LoadError) -> Diagnostic {
    let at = |m: &marked_yaml::Marker| Span::new(m.line() as u32, m.column() as u32, 1);
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
            let first = key_span(source, &inner.prev_key);
            Diagnostic::new(
                key_span(source, key),
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

fn key_span(source: &SourceFile, key: &MarkedScalarNode) -> Span {
    scalar_span(source, key)
}

fn scalar_span(source: &SourceFile, node: &MarkedScalarNode) -> Span {
    match node.span().start() {
        Some(m) => {
            let (line, column) = (m.line() as u32, m.column() as u32);
            Span::new(line, column, source.scalar_len(line, column, node.as_str()))
        }
        None => Span::new(1, 1, 1),
    }
}

/// A node that has a value. For keys read before the main pass, which reports the empty ones.
fn non_null(node: &Node) -> Option<&Node> {
    match node {
        Node::Scalar(s) if is_null(s) => None,
        node => Some(node),
    }
}

fn kind(node: &Node) -> &'static str {
    match node {
        Node::Scalar(s) if is_null(s) => "nothing",
        Node::Scalar(_) => "a single value",
        Node::Sequence(_) => "a list",
        Node::Mapping(_) => "a mapping",
    }
}

/// `key:` with nothing after it, or an explicit `~`/`null`.
fn is_null(s: &MarkedScalarNode) -> bool {
    s.may_coerce() && matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL")
}

struct Validator<'a> {
    source: &'a SourceFile,
    problems: Vec<Diagnostic>,
    /// Declared build arguments and the value each expands to, if it has one.
    args: BTreeMap<String, Option<String>>,
}

impl Validator<'_> {
    fn report(&mut self, mut problem: Diagnostic) {
        // The parser marks an empty value at the end of the file after the last line; point at
        // the last line instead, so there is always a line to show.
        if self.source.line(problem.span.line).is_none() {
            let last = self.source.text.lines().count().max(1);
            problem.span = Span::new(u32::try_from(last).unwrap_or(u32::MAX), 1, 1);
        }
        self.problems.push(problem);
    }

    /// The value of `key`, or a report that it has none: an empty value is shown at its key,
    /// since the parser places it wherever the next token happens to be.
    fn present<'n>(&mut self, key: &MarkedScalarNode, value: &'n Node) -> Option<&'n Node> {
        match value {
            Node::Scalar(s) if is_null(s) => {
                self.report(
                    Diagnostic::new(
                        scalar_span(self.source, key),
                        format!("`{}` has no value", key.as_str()),
                    )
                    .with_hint("give it a value after the colon, or delete the line"),
                );
                None
            }
            value => Some(value),
        }
    }

    fn span(&self, node: &Node) -> Span {
        match node {
            Node::Scalar(s) => scalar_span(self.source, s),
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
                .map(|k| scalar_span(self.source, k))
                .or_else(|| start_span(node))
                .unwrap_or(Span::new(1, 1, 1)),
        }
    }

    fn spec(&mut self, root: &Node, options: &LoadOptions) -> Option<Spec> {
        let Some(map) = root.as_mapping() else {
            let span = self.span(root);
            self.report(
                Diagnostic::new(span, "a pyslim spec must be a mapping of keys to values")
                    .with_hint("start with `python: \"3.11\"` on a line of its own"),
            );
            return None;
        };
        // Arguments first: every other value may refer to them.
        let args = match map.get_node("args") {
            Some(node) => self.args(node, options),
            None => Vec::new(),
        };
        let mut fields = self.fields(map, KEYS, "a top-level key of a pyslim spec");
        let targets = map
            .get_node("targets")
            .map(|node| self.targets(node))
            .unwrap_or_default();
        if let Some(name) = options.target.as_deref().filter(|t| *t != WHEELS_TARGET) {
            match targets.iter().find(|(info, _)| *info.name == *name) {
                Some((_, target)) => fields.add(target),
                None => {
                    let at = map
                        .keys()
                        .find(|k| k.as_str() == "targets")
                        .map(|k| scalar_span(self.source, k))
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
                }
            }
        }
        let python = match fields.python {
            Some(python) => Some(python),
            None if map.get("python").is_none() => {
                self.report(
                    Diagnostic::new(self.span(root), "the spec does not say which python to use")
                        .with_hint(
                            "add `python: \"3.11\"` (it selects python:3.11 and python:3.11-slim)",
                        ),
                );
                None
            }
            None => None,
        }?;
        let requirements = fields.requirements.unwrap_or_default();
        // Only on its own: after a misspelt `requirements:` it would just repeat that problem.
        let alone = self.problems.is_empty();
        if alone
            && requirements.is_empty()
            && fields.app.is_none()
            && map.get("requirements").is_none()
        {
            self.report(
                Diagnostic::new(self.span(root), "the spec installs nothing")
                    .with_hint("add `requirements: requirements.txt`, `app: .`, or both"),
            );
        }
        if let Some(extra) = fields.extras.first() {
            let from_pyproject = requirements
                .iter()
                .any(|r| r.as_str().rsplit('/').next() == Some("pyproject.toml"));
            if !from_pyproject {
                self.report(
                    Diagnostic::new(extra.span, "`extras` choose optional dependencies of a pyproject.toml, and `requirements` names none")
                        .with_hint("add `requirements: pyproject.toml`, or list the extra packages in a requirements file"),
                );
            }
        }
        let default_base = |image: ImageRef| Spanned::new(image, python.span);
        let base = fields.base.unwrap_or_default();
        Some(Spec {
            index: fields.index,
            find_links: fields.find_links,
            host_network: fields.host_network,
            installer: fields.installer.into(),
            ssh: fields.ssh,
            extras: fields.extras,
            args,
            targets: targets.into_iter().map(|(info, _)| info).collect(),
            target: options.target.clone(),
            requirements,
            app: fields.app,
            system: fields.system,
            runtime: fields.runtime,
            entrypoint: fields.entrypoint,
            cmd: fields.cmd,
            env: fields.env,
            workdir: fields.workdir,
            user: fields.user.into(),
            expose: fields.expose,
            labels: fields.labels,
            base: Bases {
                compile: base
                    .compile
                    .unwrap_or_else(|| default_base(python.compile_image())),
                runtime: base
                    .runtime
                    .unwrap_or_else(|| default_base(python.runtime_image())),
            },
            python,
        })
    }

    /// The keys of a mapping that describe an image: the spec itself, or one of its targets.
    fn fields(&mut self, map: &MarkedMappingNode, keys: &[&str], what: &str) -> Fields {
        let mut fields = Fields::default();
        for (key, value) in map.iter() {
            if !keys.contains(&key.as_str()) {
                self.unknown_key(key, key.as_str(), keys, what);
                continue;
            }
            let Some(value) = self.present(key, value) else {
                continue;
            };
            match key.as_str() {
                // Read before any other key, by `spec`.
                "args" | "targets" => {}
                "python" => fields.python = self.python(value),
                "requirements" => fields.requirements = Some(self.paths(value, "requirements")),
                "app" => fields.app = self.context_path(value, "app"),
                "system" => fields.system = self.apt_packages(value, "system"),
                "runtime" => fields.runtime = self.apt_packages(value, "runtime"),
                "entrypoint" => fields.entrypoint = self.argv(value, "entrypoint"),
                "cmd" => fields.cmd = self.argv(value, "cmd"),
                "env" => fields.env = self.env(value),
                "workdir" => fields.workdir = self.workdir(value),
                "user" => fields.user = self.user(value),
                "expose" => fields.expose = self.expose(value),
                "labels" => fields.labels = self.labels(value),
                "base" => fields.base = self.base(value),
                "extras" => fields.extras = self.extras(value),
                "index" => fields.index = self.index(value),
                "find-links" => fields.find_links = self.paths(value, "find-links"),
                "network" => fields.host_network = self.network(value),
                "installer" => fields.installer = self.installer(value),
                "ssh" => fields.ssh = self.ssh(value),
                "description" => {
                    fields.description = self
                        .text(value, "description", "\"Runs the tests\"")
                        .map(|d| d.value)
                }
                other => unreachable!("`{other}` is in the key list but has no reader"),
            }
        }
        fields
    }

    fn args(&mut self, node: &Node, options: &LoadOptions) -> Vec<Arg> {
        let Some(node) = non_null(node) else {
            return Vec::new();
        };
        let Some(map) = self.mapping(node, "args", "{PYTHON_VERSION: \"3.11\"}") else {
            return Vec::new();
        };
        let mut args = Vec::new();
        for (name, value) in map.iter() {
            let span = scalar_span(self.source, name);
            if !is_env_name(name.as_str()) {
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
            let value = options
                .build_args
                .get(name.as_str())
                .cloned()
                .or_else(|| default.clone());
            self.args.insert(name.as_str().to_string(), value.clone());
            args.push(Arg {
                name: Spanned::new(name.as_str().to_string(), span),
                default,
                value,
            });
        }
        args
    }

    fn targets(&mut self, node: &Node) -> Vec<(TargetInfo, Fields)> {
        let Some(node) = non_null(node) else {
            return Vec::new();
        };
        let Some(map) = self.mapping(
            node,
            "targets",
            "{test: {requirements: requirements-dev.txt}}",
        ) else {
            return Vec::new();
        };
        let mut targets = Vec::new();
        for (name, value) in map.iter() {
            let span = scalar_span(self.source, name);
            let valid = name
                .as_str()
                .starts_with(|c: char| c.is_ascii_alphanumeric())
                && name
                    .as_str()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            if name.as_str() == WHEELS_TARGET {
                self.report(
                    Diagnostic::new(span, format!("`{WHEELS_TARGET}` is a target pyslim defines: an image of just the dependency wheels"))
                        .with_hint("give your target another name"),
                );
                continue;
            }
            if !valid {
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
                Node::Mapping(target) => self.fields(target, TARGET_KEYS, &what),
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

    fn extras(&mut self, node: &Node) -> Vec<Spanned<Extra>> {
        let items = self.text_list(node, "extras", "dev");
        let mut extras = Vec::new();
        for item in items {
            let valid = item.starts_with(|c: char| c.is_ascii_alphanumeric())
                && item
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if !valid {
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

    fn index(&mut self, node: &Node) -> Index {
        if let Node::Scalar(s) = node
            && s.as_str() == "none"
        {
            return Index {
                offline: true,
                ..Index::default()
            };
        }
        let example = "{url: https://pypi.example.com/simple, secret: pypi-netrc}";
        let Some(map) = self.mapping(node, "index", example) else {
            return Index::default();
        };
        let mut index = Index::default();
        for (key, value) in map.iter() {
            let Some(value) = self.present(key, value) else {
                continue;
            };
            match key.as_str() {
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
                        let valid = !id.is_empty()
                            && id
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
                        if valid {
                            index.secret = Some(id.map(SecretId));
                        } else {
                            self.report(
                                Diagnostic::new(id.span, format!("`{}` is not a secret id", *id))
                                    .with_hint("name the secret as you pass it: `docker buildx build --secret id=pypi-netrc,src=$HOME/.netrc`"),
                            );
                        }
                    }
                }
                other => self.unknown_key(key, other, INDEX_KEYS, "a key of `index`"),
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
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.contains('@') {
            self.report(
                Diagnostic::new(url.span, "credentials in an index URL would be written into the build's history and cache keys")
                    .with_hint("leave them out of the URL and pass a netrc file as a secret: `index: {secret: pypi-netrc}` with `docker buildx build --secret id=pypi-netrc,src=$HOME/.netrc`"),
            );
            return None;
        }
        Some(url.map(IndexUrl))
    }

    fn ssh(&mut self, node: &Node) -> Option<Ssh> {
        if let Node::Scalar(_) = node {
            let id = self.text(node, "ssh", "default")?;
            return self.ssh_id(id).map(|id| Ssh {
                id,
                known_hosts: Vec::new(),
            });
        }
        let map = self.mapping(
            node,
            "ssh",
            "{id: default, known-hosts: [\"github.com ssh-ed25519 AAAA...\"]}",
        )?;
        let mut id = None;
        let mut known_hosts = Vec::new();
        for (key, value) in map.iter() {
            let Some(value) = self.present(key, value) else {
                continue;
            };
            match key.as_str() {
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
                other => self.unknown_key(key, other, SSH_KEYS, "a key of `ssh`"),
            }
        }
        // Without an id, the agent `--ssh default` forwards; it is located at the mapping.
        let at = self.span(node);
        let id = id.unwrap_or_else(|| Spanned::new(SecretId("default".into()), at));
        Some(Ssh { id, known_hosts })
    }

    fn ssh_id(&mut self, id: Spanned<String>) -> Option<Spanned<SecretId>> {
        let valid = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !valid {
            self.report(
                Diagnostic::new(id.span, format!("`{}` is not an SSH agent id", *id))
                    .with_hint("name it as the build passes it: `--ssh default` forwards your agent as `default`"),
            );
            return None;
        }
        Some(id.map(SecretId))
    }

    fn network(&mut self, node: &Node) -> Option<Span> {
        let text = self.text(node, "network", "host")?;
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

    fn installer(&mut self, node: &Node) -> Option<Spanned<Installer>> {
        let text = self.text(node, "installer", "uv")?;
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

    /// A scalar's text with every `${NAME}` replaced by the build argument's value (`$$` is a
    /// literal `$`; any other `$` is left alone, since no shell ever reads these strings).
    fn expand(&mut self, scalar: &MarkedScalarNode) -> Option<Spanned<String>> {
        let span = scalar_span(self.source, scalar);
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
                let at = self.locate(span, &format!("${{{name}}}"));
                match self.args.get(name) {
                    Some(Some(value)) => out.push_str(value),
                    Some(None) => {
                        complete = false;
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
                    None => {
                        complete = false;
                        let declared: Vec<&str> = self.args.keys().map(String::as_str).collect();
                        let hint = match nearest(name, &declared) {
                            Some(near) => format!(
                                "did you mean `${{{near}}}`? (or declare `{name}` under `args:`)"
                            ),
                            None => format!(
                                "declare it: `args: {{{name}: default}}`; write `$${{` for a literal `${{`"
                            ),
                        };
                        self.report(
                            Diagnostic::new(
                                at,
                                format!("`${{{name}}}` is not a declared build argument"),
                            )
                            .with_hint(hint),
                        );
                    }
                }
                rest = &inner[end + 1..];
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
        complete.then(|| Spanned::new(out, span))
    }

    /// The span of `needle` where it is written inside the scalar at `span`, or the scalar's.
    fn locate(&self, span: Span, needle: &str) -> Span {
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

    fn unknown_key(&mut self, key: &MarkedScalarNode, name: &str, valid: &[&str], what: &str) {
        let span = scalar_span(self.source, key);
        let hint = match nearest(name, valid) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("valid keys here: {}", valid.join(", ")),
        };
        self.report(Diagnostic::new(span, format!("`{name}` is not {what}")).with_hint(hint));
    }

    /// A value of the wrong shape: `{what}, not a list` (or a mapping, or nothing).
    fn wrong_kind(&mut self, node: &Node, what: String, hint: String) {
        let span = self.span(node);
        self.report(Diagnostic::new(span, format!("{what}, not {}", kind(node))).with_hint(hint));
    }

    /// A single text value. Numbers and booleans are taken as written (`3.10` stays "3.10").
    fn text(&mut self, node: &Node, key: &str, example: &str) -> Option<Spanned<String>> {
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
    fn text_list(&mut self, node: &Node, key: &str, example: &str) -> Vec<Spanned<String>> {
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

    fn python(&mut self, node: &Node) -> Option<Spanned<PythonVersion>> {
        let text = self.text(node, "python", "\"3.11\"")?;
        let parts: Vec<&str> = text.split('.').collect();
        let numeric = parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !numeric || !(2..=3).contains(&parts.len()) || parts[0] != "3" {
            self.report(
                Diagnostic::new(text.span, format!("`{}` is not a python version", *text))
                    .with_hint("use a version with an official image, like \"3.12\" or \"3.11.9\""),
            );
            return None;
        }
        Some(text.map(PythonVersion))
    }

    fn paths(&mut self, node: &Node, key: &str) -> Vec<Spanned<ContextPath>> {
        let items = self.text_list(node, key, "requirements.txt");
        items
            .into_iter()
            .filter_map(|item| self.check_context_path(item, key))
            .collect()
    }

    fn context_path(&mut self, node: &Node, key: &str) -> Option<Spanned<ContextPath>> {
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

    fn apt_packages(&mut self, node: &Node, key: &str) -> Vec<Spanned<AptPackage>> {
        let example = if key == "system" {
            "libpq-dev"
        } else {
            "libpq5"
        };
        let items = self.text_list(node, key, example);
        let mut packages = Vec::new();
        for item in items {
            if is_apt_package(&item) {
                packages.push(item.map(AptPackage));
                continue;
            }
            let words: Vec<&str> = item
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|s| !s.is_empty())
                .collect();
            let hint = if words.len() > 1 && words.iter().all(|w| is_apt_package(w)) {
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

    fn argv(&mut self, node: &Node, key: &str) -> Option<Spanned<Vec<String>>> {
        match node {
            Node::Sequence(items) => {
                let span = self.span(node);
                let args: Vec<String> = items
                    .iter()
                    .filter_map(|item| self.item(item, key, "python"))
                    .map(|s| s.value)
                    .collect();
                (args.len() == items.len()).then(|| Spanned::new(args, span))
            }
            Node::Scalar(s) if !is_null(s) => {
                let words: Vec<&str> = s.as_str().split_whitespace().collect();
                self.report(
                    Diagnostic::new(scalar_span(self.source, s), format!("`{key}` must be a list of arguments (exec form)"))
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

    fn mapping<'n>(
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

    fn env(&mut self, node: &Node) -> Vec<(Spanned<EnvName>, Spanned<String>)> {
        let Some(map) = self.mapping(node, "env", "{NAME: value}") else {
            return Vec::new();
        };
        let mut env = Vec::new();
        for (name, value) in map.iter() {
            let name_span = scalar_span(self.source, name);
            let valid = {
                let mut chars = name.as_str().chars();
                chars
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            };
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

    fn workdir(&mut self, node: &Node) -> Option<Spanned<AbsolutePath>> {
        let text = self.text(node, "workdir", "/app")?;
        if !text.starts_with('/') || text.contains('\0') {
            self.report(
                Diagnostic::new(
                    text.span,
                    format!("`workdir` must be an absolute path, not `{}`", *text),
                )
                .with_hint(format!(
                    "write `workdir: /{}`",
                    text.trim_start_matches("./")
                )),
            );
            return None;
        }
        Some(text.map(AbsolutePath))
    }

    fn user(&mut self, node: &Node) -> Option<Spanned<User>> {
        let text = self.text(node, "user", "app")?;
        if *text == "root" {
            return Some(text.map(|_| User::Root));
        }
        let mut chars = text.chars();
        let valid = text.len() <= 32
            && chars
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid {
            self.report(
                Diagnostic::new(text.span, format!("`{}` is not a user name pyslim can create", *text))
                    .with_hint("use up to 32 lower-case letters, digits, `_` or `-`, starting with a letter (or `root`)"),
            );
            return None;
        }
        Some(text.map(User::Named))
    }

    fn expose(&mut self, node: &Node) -> Vec<Spanned<Port>> {
        let items = self.text_list(node, "expose", "8000");
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

    fn labels(&mut self, node: &Node) -> BTreeMap<String, String> {
        let Some(map) = self.mapping(node, "labels", "{org.opencontainers.image.title: myapp}")
        else {
            return BTreeMap::new();
        };
        let mut labels = BTreeMap::new();
        for (key, value) in map.iter() {
            let value = self.present(key, value);
            if let Some(value) = value.and_then(|value| self.text(value, key.as_str(), "\"value\""))
            {
                labels.insert(key.as_str().to_string(), value.value);
            }
        }
        labels
    }

    fn base(&mut self, node: &Node) -> Option<BaseFields> {
        let map = self.mapping(
            node,
            "base",
            "{compile: \"python:3.11\", runtime: \"python:3.11-slim\"}",
        )?;
        let mut base = BaseFields::default();
        for (key, value) in map.iter() {
            let slot = match key.as_str() {
                "compile" => &mut base.compile,
                "runtime" => &mut base.runtime,
                other => {
                    self.unknown_key(key, other, BASE_KEYS, "a key of `base`");
                    continue;
                }
            };
            let example = "python:3.11-slim";
            let value = self.present(key, value);
            if let Some(image) = value.and_then(|value| self.text(value, key.as_str(), example)) {
                if image.is_empty() || image.contains(char::is_whitespace) || image.contains("://")
                {
                    self.problems.push(
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
}

#[derive(Default)]
struct Fields {
    python: Option<Spanned<PythonVersion>>,
    requirements: Option<Vec<Spanned<ContextPath>>>,
    app: Option<Spanned<ContextPath>>,
    system: Vec<Spanned<AptPackage>>,
    runtime: Vec<Spanned<AptPackage>>,
    entrypoint: Option<Spanned<Vec<String>>>,
    cmd: Option<Spanned<Vec<String>>>,
    env: Vec<(Spanned<EnvName>, Spanned<String>)>,
    workdir: Option<Spanned<AbsolutePath>>,
    user: Option<Spanned<User>>,
    expose: Vec<Spanned<Port>>,
    labels: BTreeMap<String, String>,
    base: Option<BaseFields>,
    extras: Vec<Spanned<Extra>>,
    description: Option<String>,
    index: Index,
    find_links: Vec<Spanned<ContextPath>>,
    host_network: Option<Span>,
    installer: Option<Spanned<Installer>>,
    ssh: Option<Ssh>,
}

impl Fields {
    /// A target on top of the default: lists grow, mappings merge, single values are replaced.
    fn add(&mut self, target: &Fields) {
        fn extend<T: Clone + PartialEq>(into: &mut Vec<T>, more: &[T]) {
            for item in more {
                if !into.contains(item) {
                    into.push(item.clone());
                }
            }
        }
        if let Some(more) = &target.requirements {
            extend(self.requirements.get_or_insert_with(Vec::new), more);
        }
        extend(&mut self.extras, &target.extras);
        extend(&mut self.system, &target.system);
        extend(&mut self.runtime, &target.runtime);
        extend(&mut self.expose, &target.expose);
        for (name, value) in &target.env {
            self.env.retain(|(n, _)| n != name);
            self.env.push((name.clone(), value.clone()));
        }
        self.labels
            .extend(target.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        for (slot, value) in [
            (&mut self.entrypoint, &target.entrypoint),
            (&mut self.cmd, &target.cmd),
        ] {
            if value.is_some() {
                slot.clone_from(value);
            }
        }
        if target.workdir.is_some() {
            self.workdir.clone_from(&target.workdir);
        }
        if target.user.is_some() {
            self.user.clone_from(&target.user);
        }
    }
}

#[derive(Default)]
struct BaseFields {
    compile: Option<Spanned<ImageRef>>,
    runtime: Option<Spanned<ImageRef>>,
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn start_span(node: &Node) -> Option<Span> {
    node.span()
        .start()
        .map(|m| Span::new(m.line() as u32, m.column() as u32, 1))
}

/// The valid name closest to a misspelt one, if it is close enough to be what was meant.
fn nearest<'a>(name: &str, valid: &[&'a str]) -> Option<&'a str> {
    valid
        .iter()
        .map(|v| (strsim::damerau_levenshtein(name, v), *v))
        .filter(|(distance, v)| *distance <= 2.max(v.len() / 3))
        .min()
        .map(|(_, v)| v)
}

/// `./src//app/` → `src/app`; `.` stays `.`. Refuses paths that leave the context.
fn normalise_context_path(path: &str) -> Result<String, &'static str> {
    if path.starts_with('/') {
        return Err("is absolute");
    }
    if path.contains('\0') || path.contains('\\') {
        return Err("contains a character paths cannot hold");
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("leaves the build context"),
            part => parts.push(part),
        }
    }
    Ok(if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    })
}

fn is_apt_package(text: &str) -> bool {
    let (rest, version) = match text.split_once('=') {
        Some((name, version)) => (name, Some(version)),
        None => (text, None),
    };
    let (name, arch) = match rest.split_once(':') {
        Some((name, arch)) => (name, Some(arch)),
        None => (rest, None),
    };
    let name_ok = name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    let arch_ok = arch.is_none_or(|a| {
        !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    let version_ok = version.is_none_or(|v| {
        v.starts_with(|c: char| c.is_ascii_digit())
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".+~:-".contains(c))
    });
    name_ok && arch_ok && version_ok
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
            Err("leaves the build context")
        );
        assert_eq!(normalise_context_path("/etc/passwd"), Err("is absolute"));
    }

    #[test]
    fn apt_package_names() {
        for good in [
            "libpq5",
            "libldap-2.5-0",
            "g++",
            "libc6:amd64",
            "curl=7.88.1-10+deb12u5",
        ] {
            assert!(is_apt_package(good), "{good}");
        }
        for bad in [
            "",
            "a",
            "Libpq",
            "libpq-dev libssl-dev",
            "-rf",
            "x;rm",
            "curl=",
            "$(id)",
        ] {
            assert!(!is_apt_package(bad), "{bad}");
        }
    }

    #[test]
    fn nearest_key() {
        assert_eq!(nearest("requirments", KEYS), Some("requirements"));
        assert_eq!(nearest("entrypiont", KEYS), Some("entrypoint"));
        assert_eq!(nearest("zzzzzz", KEYS), None);
    }
}
