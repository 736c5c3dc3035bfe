//! YAML text → [`Spec`], collecting every problem on the way instead of stopping at the first.
//!
//! The YAML is parsed into marked nodes (every node knows its line and column), then each key is
//! read by the reader its declaration in [`keys`] names. This file puts the pieces together:
//! build arguments first, then the keys, then the target the build asked for on top.

mod args;
mod commands;
mod declare;
mod dependencies;
mod download;
mod image;
pub mod keys;
mod names;
mod runtime;
mod shape;
mod targets;
mod user;
mod writable;
mod yaml;

use std::collections::BTreeMap;

use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Arg, Bases, DependencyKind, Spec, TargetInfo};
use crate::source::{SourceFile, Span};

pub use keys::{At, InTargets, KEYS, Key};
pub use targets::WHEELS_TARGET;

use keys::Fields;

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
    match load_partial(source, options) {
        Partial::Valid(spec) => Ok(*spec),
        Partial::Invalid { diagnostics, .. } => Err(diagnostics),
    }
}

/// A spec as far as it could be read.
#[derive(Debug)]
pub enum Partial {
    Valid(Box<Spec>),
    /// Every problem; and the spec without the values that have them, when enough of it was
    /// sound to build one, so a caller can check what it names too (files in the build context)
    /// and report everything in one round.
    Invalid {
        diagnostics: Diagnostics,
        spec: Option<Box<Spec>>,
    },
}

/// Parses and validates a spec, keeping what was sound of an invalid one.
pub fn load_partial(source: SourceFile, options: &LoadOptions) -> Partial {
    let root = match yaml::parse(&source) {
        Ok(root) => root,
        Err(problem) => {
            return Partial::Invalid {
                diagnostics: Diagnostics::new(source, vec![problem]),
                spec: None,
            };
        }
    };
    let mut v = Validator {
        source: &source,
        problems: Vec::new(),
        args: BTreeMap::new(),
        declared: Vec::new(),
    };
    let spec = v.spec(&root, options);
    match spec {
        Some(spec) if v.problems.is_empty() => Partial::Valid(Box::new(spec)),
        spec => {
            let problems = v.problems;
            Partial::Invalid {
                diagnostics: Diagnostics::new(source, problems),
                spec: spec.map(Box::new),
            }
        }
    }
}

/// The walk over one spec: what has been found wrong so far, and the build arguments every
/// value may use.
pub(crate) struct Validator<'a> {
    source: &'a SourceFile,
    problems: Vec<Diagnostic>,
    /// Declared build arguments and the value each expands to, if it has one.
    args: BTreeMap<String, Option<String>>,
    /// The `args:` read ahead of the other keys, until the `args` key's reader takes them.
    declared: Vec<Arg>,
}

/// What the loader works out itself, rather than taking as read: the keys whose declarations
/// say `spec: derived`, and the target being built.
pub(crate) struct Derived {
    base: Bases,
    targets: Vec<TargetInfo>,
    target: Option<String>,
    top: Span,
}

impl Validator<'_> {
    fn report(&mut self, mut problem: Diagnostic) {
        // The parser marks an empty value at the end of the file after the last line; point at
        // the last line instead, so there is always a line to show.
        if self.source.line(problem.span.line).is_none() {
            let last = self.source.line_count().max(1);
            problem.span = Span::new(u32::try_from(last).unwrap_or(u32::MAX), 1, 1);
        }
        self.problems.push(problem);
    }

    fn spec(&mut self, root: &Node, options: &LoadOptions) -> Option<Spec> {
        let Some(map) = root.as_mapping() else {
            let span = self.span(root);
            self.report(
                Diagnostic::new(span, "a pyslim spec must be a mapping of keys to values")
                    .with_hint("start with `python: \"3.13\"` on a line of its own"),
            );
            return None;
        };
        // Arguments first: every other value may refer to them.
        if let Some(node) = map.get_node("args") {
            self.declared = self.read_args(node, options);
        }
        let mut fields = self.fields(map, At::TopLevel, "a top-level key of a pyslim spec");
        let targets = std::mem::take(&mut fields.targets);
        if let Some(name) = options.target.as_deref().filter(|t| *t != WHEELS_TARGET)
            && let Some(target) = self.chosen(map, &targets, name)
        {
            fields.add(target);
        }
        self.check_installs_something(root, map, &fields);
        self.check_extras(&fields);
        // Without `python:`, the base images wait for the version the project names.
        let base = fields.base.take().unwrap_or_default();
        Some(fields.into_spec(Derived {
            base,
            targets: targets.into_iter().map(|(info, _)| info).collect(),
            target: options.target.clone(),
            top: self.span(root),
        }))
    }

    /// The keys of a mapping that describes an image: the spec itself, or one of its targets.
    fn fields(&mut self, map: &MarkedMappingNode, at: At, what: &str) -> Fields {
        let mut fields = Fields::default();
        for (name, value) in map.iter() {
            let Some(key) = KEYS
                .iter()
                .find(|key| key.name == name.as_str() && key.allowed_at(at))
            else {
                self.unknown_key(name, &keys::names_at(at), what);
                continue;
            };
            if let Some(value) = self.present(name, value) {
                (key.read)(self, value, &mut fields);
            }
        }
        fields
    }

    fn check_installs_something(&mut self, root: &Node, map: &MarkedMappingNode, fields: &Fields) {
        // Only on its own: after a misspelt `requirements:` it would just repeat that problem.
        let alone = self.problems.is_empty();
        // `runtime:` packages alone are an image too: a redis-server or mariadb helper image
        // needs no Python package.
        if alone
            && fields.requirements.is_empty()
            && fields.app.is_none()
            && fields.runtime.is_empty()
            && map.get("requirements").is_none()
        {
            self.report(
                Diagnostic::new(self.span(root), "the spec installs nothing")
                    .with_hint("add `requirements: requirements.txt`, `app: .`, or both; or, for an image of system packages only, `runtime: [redis-server]`"),
            );
        }
    }

    fn check_extras(&mut self, fields: &Fields) {
        if let Some(extra) = fields.extras.first() {
            // The app's own project, or its lock, may declare them: the frontend checks.
            let declared = fields.app.is_some()
                || fields.requirements.iter().any(|r| {
                    matches!(
                        r.dependency_kind(),
                        DependencyKind::Pyproject | DependencyKind::Lock
                    )
                });
            if !declared {
                self.report(
                    Diagnostic::new(extra.span, "`extras` choose optional dependencies of a pyproject.toml or a lock, and `requirements` names neither")
                        .with_hint("add `requirements: pyproject.toml` (or your lock file, or `app: .`), or list the extra packages in a requirements file"),
                );
            }
        }
    }
}
