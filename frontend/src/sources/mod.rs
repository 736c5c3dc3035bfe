//! Typed dependency sources: what the spec's `requirements:` files are, decided once by
//! [`pyslim_spec::ContextPath::dependency_kind`], each kind read by a file of its own, and what they add up to — the
//! [`Dependencies`] the plan builds wheels from.
//!
//! Reading goes breadth-first over the files the spec names and those they include, one view
//! of the build context per round holding just the files it reads; every path is checked here,
//! so a missing one is an error at its spec line before anything is built, not a pip failure
//! minutes later.

pub mod app;
pub mod lock;
pub mod poetry;
pub mod pyproject;
pub mod python;
pub mod requirements;
pub mod setup_cfg;
pub mod start;

use std::collections::BTreeSet;

use pyslim_spec::{
    DependencyKind, Deploy, Diagnostic, Diagnostics, SourceFile, SourceKind, Span, Spec,
};

pub use app::{FoundApp, Workdir};
pub use lock::FoundLock;
pub use python::Python;

use crate::context::{Context, is_dir};
use crate::gateway::GatewayError;
use requirements::IncludeKind;

/// What the dependency step reads, as found in the build context.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dependencies {
    /// Every context path the step must see: the requirements files, the files they include,
    /// the local projects and wheel directories they name.
    pub context: Vec<String>,
    /// The files pip reads, in the spec's order.
    pub inputs: Vec<Input>,
    /// The app, and how it is deployed.
    pub app: Option<FoundApp>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A requirements file in the context.
    File(String),
    /// A requirements file made by the frontend, e.g. from a pyproject.toml's dependencies.
    Generated { name: String, text: String },
    /// The dependencies the app's build backend reports, written by a compile step that asks
    /// it (the app is a package whose dependencies are dynamic).
    AppMetadata,
    /// A lock, honoured exactly: the whole set. Which of its packages a target installs is
    /// chosen per platform ([`Dependencies::for_target`]), which makes it [`Input::Pinned`].
    Lock(Box<FoundLock>),
    /// A lock's packages for one target: every line pinned, installed without resolution.
    Pinned {
        /// The lock, as the build log names it.
        lock: String,
        /// Lines with every file's sha256, installed in pip's hash-checking mode.
        hashed: Vec<String>,
        /// Lines pip cannot hash (a git commit, a directory of the project).
        unhashed: Vec<String>,
    },
}

impl Input {
    /// A requirements file of `requirements`, one per line.
    fn generated(name: String, requirements: &[String]) -> Input {
        let mut text = requirements.join("\n");
        text.push('\n');
        Input::Generated { name, text }
    }
}

impl Dependencies {
    /// The lock this build honours, if any.
    pub fn lock(&self) -> Option<&FoundLock> {
        self.inputs.iter().find_map(|input| match input {
            Input::Lock(found) => Some(found.as_ref()),
            _ => None,
        })
    }

    /// What `env` installs: a lock's packages chosen for it, with `extras` and `groups`;
    /// anything else as it is.
    pub fn for_target(
        &self,
        env: &crate::lock::Environment,
        extras: &[String],
        groups: Option<&[String]>,
        context_root: &str,
    ) -> Result<Dependencies, Problems> {
        let mut out = self.clone();
        for input in &mut out.inputs {
            let Input::Lock(found) = input else { continue };
            match found.pinned(env, extras, groups, context_root) {
                Ok(pinned) => {
                    out.context.extend(pinned.context);
                    *input = Input::Pinned {
                        lock: found.describe(),
                        hashed: pinned.hashed,
                        unhashed: pinned.unhashed,
                    };
                }
                Err(problem) => {
                    let mut problems = Problems::default();
                    lock::report(&found.file, found.origin, &problem, &mut problems);
                    return Err(problems);
                }
            }
        }
        Ok(out)
    }

    /// The spec's requirements files as they are, with nothing found inside them, and the app
    /// a package unless the spec says otherwise: for planning without a build context (tests,
    /// the spec-to-LLB example).
    pub fn of(spec: &Spec) -> Dependencies {
        let files: Vec<String> = spec.requirements.iter().map(|r| r.to_string()).collect();
        Dependencies {
            context: files.clone(),
            inputs: files.into_iter().map(Input::File).collect(),
            app: spec.app.as_ref().map(|app| {
                let deploy = app.deploy.as_ref().map_or(Deploy::Package, |d| d.value);
                FoundApp {
                    path: app.path.to_string(),
                    deploy,
                    build_requires: match deploy {
                        Deploy::Package => vec!["setuptools>=61".into()],
                        Deploy::Source => Vec::new(),
                    },
                    dependencies: Vec::new(),
                    metadata: None,
                    dynamic: false,
                    requirement_files: Vec::new(),
                    local: Vec::new(),
                    scripts: None,
                    module_roots: None,
                }
            }),
        }
    }
}

/// What reading the context found: the Python to build for, the plan's input, and the
/// requirements files as read (the lint reads them too).
pub struct Found {
    pub python: Python,
    pub dependencies: Dependencies,
    pub files: Vec<SourceFile>,
}

/// Every problem found, and the files they point into besides the spec.
#[derive(Debug, Default)]
pub struct Problems {
    pub problems: Vec<Diagnostic>,
    pub files: Vec<SourceFile>,
}

impl Problems {
    /// Every problem, after the spec's own, with the files they point into.
    pub fn into_diagnostics(self, spec: SourceFile, before: Vec<Diagnostic>) -> Diagnostics {
        let mut problems = before;
        problems.extend(self.problems);
        let diagnostics = Diagnostics::new(spec, problems);
        self.files
            .into_iter()
            .fold(diagnostics, Diagnostics::with_file)
    }

    /// A problem at its span in `file` (whose text is kept, to show the line).
    pub fn in_file(&mut self, file: &SourceFile, problem: Diagnostic) {
        self.problems.push(problem.in_file(&file.name));
        if !self.files.iter().any(|f| f.name == file.name) {
            self.files.push(file.clone());
        }
    }
}

/// The files the dependency step needs, found by reading the requirements files; and the
/// app's project file checked. Every problem is a diagnostic at the line it concerns: in the
/// file that has it, or the spec's entry for a file that is not there.
pub async fn read(
    context: &mut Context<'_>,
    spec: &Spec,
) -> Result<Result<Found, Problems>, GatewayError> {
    let mut problems = Problems::default();
    let python = python::choose(context, spec, &mut problems).await?;
    let mut dependencies = Dependencies::default();
    if let Some(app) = &spec.app {
        dependencies.app = Some(app::read(context, app, &mut problems).await?);
    }
    let extras: Vec<&str> = spec.extras.iter().map(|e| e.as_str()).collect();
    let groups: Vec<&str> = spec.groups.iter().map(|g| g.as_str()).collect();
    let mut files = Vec::new();
    let mut seen = BTreeSet::new();
    let mut honoured = None;
    for written in &spec.requirements {
        if written.dependency_kind() == DependencyKind::Lock
            && let Some(found) =
                lock::read(context, written.as_str(), written.span, &mut problems).await?
        {
            honoured.get_or_insert(found);
        }
    }
    if honoured.is_none()
        && let (Some(app), Some(found)) = (&spec.app, &dependencies.app)
    {
        honoured = lock::beside_app(context, &found.path, app.path.span, &mut problems).await?;
    }
    let mut round: Vec<Pending> = spec
        .requirements
        .iter()
        .filter(|r| r.dependency_kind() != DependencyKind::Lock)
        .map(|r| Pending {
            path: r.to_string(),
            kind: r.dependency_kind(),
            include: None,
            span: r.span,
            from: None,
        })
        .collect();
    // The requirements files a package's pyproject.toml names for its dependencies, at the
    // spec's `app:` line.
    if let (Some(found), Some(app)) = (&dependencies.app, &spec.app) {
        round.extend(found.requirement_files.iter().map(|path| Pending {
            path: path.clone(),
            kind: DependencyKind::Requirements,
            include: None,
            span: app.path.span,
            from: None,
        }));
    }
    // The local projects its dependencies name, at their lines in its pyproject.toml.
    if let Some(found) = &dependencies.app {
        round.extend(found.local.iter().map(|local| Pending {
            path: local.path.clone(),
            kind: DependencyKind::Requirements,
            include: Some(IncludeKind::Path),
            span: local.span,
            from: Some(local.file.clone()),
        }));
    }
    let mut generated = 0;
    // Which requirements files each one includes (`-r`, `-c`), where: pip follows a cycle
    // until it dies, so one is reported here.
    let mut graph: Vec<(SourceFile, Vec<(String, Span)>)> = Vec::new();
    let mut roots: Vec<String> = Vec::new();
    loop {
        // A file named twice (or an include cycle) is read once; an empty view would be the
        // whole context.
        round.retain(|p| seen.insert(p.path.clone()));
        if round.is_empty() {
            break;
        }
        let paths: Vec<String> = round.iter().map(|p| p.path.clone()).collect();
        let view = context.view(&paths, true).await?;
        let mut next = Vec::new();
        for item in round {
            let Some(stat) = context.stat(&view, &item.path).await? else {
                item.missing("is not in the build context", &mut problems);
                continue;
            };
            if item.include == Some(IncludeKind::Path) {
                dependencies.context.push(item.path.clone());
                continue;
            }
            if is_dir(&stat) {
                item.missing("is a directory, not a requirements file", &mut problems);
                continue;
            }
            let text = context.read_text(&view, &item.path).await?;
            let file = SourceFile::of_kind(item.kind.source_kind(), &item.path, text);
            if item.kind == DependencyKind::Pyproject {
                let dir = item.path.rsplit_once('/').map_or(".", |(dir, _)| dir);
                match pyproject::dependencies(&file.text, &extras, &groups, dir) {
                    Ok(declared) => {
                        generated += 1;
                        let name = format!("pyproject-{generated}.txt");
                        let list = &declared.requirements;
                        dependencies.inputs.push(Input::generated(name, list));
                        next.extend(declared.local.into_iter().map(|local| Pending {
                            path: local.path,
                            kind: DependencyKind::Requirements,
                            include: Some(IncludeKind::Path),
                            span: file.span_at(local.span),
                            from: Some(file.clone()),
                        }));
                    }
                    Err(error) => pyproject::report(
                        &error,
                        &file,
                        item.span,
                        pyproject::DEPENDENCIES_HINT,
                        &mut problems,
                    ),
                }
                continue;
            }
            if let Some(span) = requirements::not_requirements(&file.text) {
                problems.in_file(
                    &file,
                    Diagnostic::new(file.span_at(span), format!("`{}` is not a requirements file: it reads like TOML or JSON, as a lock file does", item.path))
                        .with_hint("pyslim reads locks by their names: uv.lock, poetry.lock, pdm.lock, Pipfile.lock, pylock.toml or pylock.NAME.toml; name the lock so, or export it to requirements (`uv export`, `poetry export`)"),
                );
                continue;
            }
            let (found, bad) = requirements::includes(&item.path, &file.text);
            for problem in bad {
                problems.in_file(
                    &file,
                    Diagnostic::new(problem.span, problem.message).with_hint(
                        "requirements files may refer only to files inside the build context",
                    ),
                );
            }
            let edges = found
                .iter()
                .filter(|i| i.kind != IncludeKind::Path)
                .map(|i| (i.path.clone(), i.span))
                .collect();
            graph.push((file.clone(), edges));
            if item.from.is_none() {
                roots.push(item.path.clone());
            }
            for include in found {
                next.push(Pending {
                    path: include.path,
                    kind: DependencyKind::Requirements,
                    include: Some(include.kind),
                    span: include.span,
                    from: Some(file.clone()),
                });
            }
            if item.from.is_none() {
                dependencies.inputs.push(Input::File(item.path.clone()));
            }
            dependencies.context.push(item.path.clone());
            files.push(file);
        }
        round = next;
    }
    include_cycles(&roots, &graph, &mut problems);
    let workdir = app::workdir(spec, dependencies.app.as_ref());
    start::check(
        context,
        spec,
        dependencies.app.as_ref(),
        workdir.as_ref().map(|w| w.path.as_str()),
        honoured.is_some(),
        &mut problems,
    )
    .await?;
    let from_pyproject = spec
        .requirements
        .iter()
        .any(|r| r.dependency_kind() == DependencyKind::Pyproject);
    if let (None, false, Some(extra)) = (&honoured, from_pyproject, spec.extras.first()) {
        problems.problems.push(
            Diagnostic::new(extra.span, "`extras` choose optional dependencies of a lock or of `requirements: pyproject.toml`, and this build has neither")
                .with_hint("add `requirements: pyproject.toml` for the app's optional dependencies, or lock the project (`uv lock`, `poetry lock`, …)"),
        );
    }
    if let (None, false, Some(group)) = (&honoured, from_pyproject, spec.groups.first()) {
        problems.problems.push(
            Diagnostic::new(group.span, "`groups` choose dependency groups of a lock or of `requirements: pyproject.toml`, and this build has neither")
                .with_hint("add `requirements: pyproject.toml` for its [dependency-groups], or lock the project (`uv lock`, `poetry lock`, …)"),
        );
    }
    if let Some(found) = honoured {
        // The lint reads it, as it reads the requirements files.
        files.push(found.file.clone());
        lock::check(spec, &found, &dependencies, &mut problems);
        if let Some(python) = &python {
            python::check_lock(python, &found, &mut problems);
        }
        // A lock is the whole set: the app's own list is in it.
        dependencies.inputs = vec![Input::Lock(Box::new(found))];
    } else if let Some(app) = &dependencies.app
        && !app.dependencies.is_empty()
        // `requirements: pyproject.toml` with `app: .` names the same list once already.
        && !spec
            .requirements
            .iter()
            .any(|r| Some(r.as_str()) == app.metadata.as_deref())
        // A hash-pinned file (`poetry export`, `pip-compile --generate-hashes`) is the whole
        // resolution: pip refuses the app's unhashed lines beside it, and the app's wheel is
        // installed from what it pins.
        && !files.iter().any(|f| requirements::hash_checked(&f.text))
    {
        let input = Input::generated("app-dependencies.txt".into(), &app.dependencies);
        dependencies.inputs.push(input);
    }
    // Requirements files beside a dynamic app are taken to list its dependencies: they are the
    // way out for a setup.py that cannot run without the app's code (it reads a README).
    if let Some(app) = &dependencies.app
        && dependencies.lock().is_none()
        && app.dynamic
        && spec.requirements.is_empty()
    {
        dependencies.inputs.push(Input::AppMetadata);
    }
    Ok(match python {
        Some(python) if problems.problems.is_empty() => Ok(Found {
            python,
            dependencies,
            files,
        }),
        _ => Err(problems),
    })
}

/// Each include that closes a cycle of requirements files, at its line in the file that has
/// it: pip reads includes depth-first without remembering what it read, and recurses until
/// Python stops it.
fn include_cycles(
    roots: &[String],
    graph: &[(SourceFile, Vec<(String, Span)>)],
    problems: &mut Problems,
) {
    fn visit<'a>(
        path: &'a str,
        graph: &'a [(SourceFile, Vec<(String, Span)>)],
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
        problems: &mut Problems,
    ) {
        if done.contains(path) {
            return;
        }
        let Some((file, edges)) = graph.iter().find(|(f, _)| f.name == path) else {
            return;
        };
        stack.push(path);
        for (target, span) in edges {
            if let Some(at) = stack.iter().position(|p| p == target) {
                let mut cycle: Vec<&str> = stack[at..].to_vec();
                cycle.push(target);
                problems.in_file(
                    file,
                    Diagnostic::new(
                        *span,
                        format!(
                            "the requirements files include each other in a cycle: {}",
                            cycle.join(" → ")
                        ),
                    )
                    .with_hint(
                        "pip follows includes without remembering the files it read, and never \
                         leaves a cycle (it dies in a RecursionError); remove one of these includes",
                    ),
                );
            } else {
                visit(target, graph, stack, done, problems);
            }
        }
        stack.pop();
        done.insert(path);
    }
    let mut done = BTreeSet::new();
    for root in roots {
        visit(root, graph, &mut Vec::new(), &mut done, problems);
    }
}

/// A file to look at in the next round.
struct Pending {
    path: String,
    kind: DependencyKind,
    /// How a requirements file named it, unless the spec did.
    include: Option<IncludeKind>,
    /// Where it is named: in the spec, or in `from`.
    span: Span,
    /// The requirements file that named it, unless the spec did.
    from: Option<SourceFile>,
}

impl Pending {
    fn missing(&self, what: &str, problems: &mut Problems) {
        match &self.from {
            None => problems.problems.push(
                Diagnostic::new(self.span, format!("the requirements file `{}` {what}", self.path))
                    .with_hint(
                        "paths are relative to the build context (the last argument of `docker buildx build`); \
                         check the name and your .dockerignore",
                    ),
            ),
            Some(file) => {
                let hint = if file.kind == SourceKind::Pyproject {
                    "a path dependency is relative to its pyproject.toml's directory, and must be in the \
                     build context; check the path and your .dockerignore"
                } else {
                    "paths in a requirements file are relative to its own directory, and must be in the \
                     build context; check the name and your .dockerignore"
                };
                problems.in_file(
                    file,
                    Diagnostic::new(self.span, format!("`{}` {what}", self.path)).with_hint(hint),
                )
            }
        }
    }
}
