//! What a build needs to know from the build context before it plans: the `.dockerignore`
//! patterns, the requirements files with everything they pull in, and the app's project file.
//! Every path the spec names is checked here, so a missing one is an error at its spec line
//! before anything is built, not a pip failure minutes later.

use std::collections::{BTreeMap, BTreeSet};

use bollard_buildkit_proto::fsutil::types::Stat;
use pyslim_spec::{Diagnostic, Span, Spec};

use crate::gateway::{Gateway, GatewayError, Reference};
use crate::llb::{self, State};
use crate::plan::{Dependencies, Input};
use crate::requirements::{self, Kind};

/// A local source of the client (`local://NAME`), narrowed by `attrs`.
pub fn local(name: &str, session_id: &str, attrs: &[(&str, String)]) -> State {
    let mut all = BTreeMap::from([
        ("local.session".to_string(), session_id.to_string()),
        ("local.sharedkeyhint".to_string(), name.to_string()),
    ]);
    all.extend(attrs.iter().map(|(k, v)| (k.to_string(), v.clone())));
    State::source(format!("local://{name}"), all, None)
}

pub fn json_list<S: serde::Serialize>(items: &[S]) -> String {
    serde_json::to_string(items).expect("a list of strings always serialises")
}

/// The build context as the frontend sees it: one client session, less the ignored files.
pub struct Context<'a> {
    pub gateway: &'a mut Gateway,
    pub name: &'a str,
    pub session_id: &'a str,
    pub excludes: &'a [String],
}

impl Context<'_> {
    /// `.dockerignore` patterns, so every view of the context leaves out the same files.
    pub async fn dockerignore(&mut self) -> Result<Vec<String>, GatewayError> {
        let view = self.view(&[".dockerignore".to_string()], false).await?;
        if self
            .gateway
            .stat_file(&view, ".dockerignore")
            .await?
            .is_none()
        {
            return Ok(Vec::new());
        }
        let text = self.gateway.read_file(&view, ".dockerignore").await?;
        Ok(String::from_utf8_lossy(&text)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from)
            .collect())
    }

    /// The files the dependency step needs, found by reading the requirements files; and the
    /// app's project file checked. Every problem is a diagnostic at the spec line it concerns.
    pub async fn dependencies(
        &mut self,
        spec: &Spec,
    ) -> Result<Result<Found, Vec<Diagnostic>>, GatewayError> {
        let mut problems = Vec::new();
        let mut app_build_requires = Vec::new();
        if let Some(app) = &spec.app {
            app_build_requires = self.app(app.as_str(), app.span, &mut problems).await?;
        }
        let extras: Vec<&str> = spec.extras.iter().map(|e| e.as_str()).collect();
        let mut dependencies = Dependencies {
            app_build_requires,
            ..Dependencies::default()
        };
        let mut files = Vec::new();
        // Breadth-first over the files the spec names and those they include; each round is
        // one view of the context with just the files it reads.
        let mut seen = BTreeSet::new();
        let mut round: Vec<Pending> = spec
            .requirements
            .iter()
            .map(|r| Pending {
                path: r.to_string(),
                kind: Kind::Requirements,
                span: r.span,
                from: None,
            })
            .collect();
        let mut generated = 0;
        loop {
            // A file named twice (or an include cycle) is read once; an empty view would be the
            // whole context.
            round.retain(|p| seen.insert(p.path.clone()));
            if round.is_empty() {
                break;
            }
            let paths: Vec<String> = round.iter().map(|p| p.path.clone()).collect();
            let view = self.view(&paths, true).await?;
            let mut next = Vec::new();
            for item in round {
                let stat = self.gateway.stat_file(&view, &item.path).await?;
                let top = item.from.is_none();
                match (item.kind, stat) {
                    (_, None) => problems.push(item.missing("is not in the build context")),
                    (Kind::Path, Some(_)) => dependencies.context.push(item.path.clone()),
                    (_, Some(stat)) if is_dir(&stat) => {
                        problems.push(item.missing("is a directory, not a requirements file"))
                    }
                    (_, Some(_))
                        if top && item.path.rsplit('/').next() == Some("pyproject.toml") =>
                    {
                        let text = self.read_text(&view, &item.path).await?;
                        match requirements::pyproject_dependencies(&text, &extras) {
                            Ok(list) => {
                                generated += 1;
                                let mut text = list.join("\n");
                                text.push('\n');
                                dependencies.inputs.push(Input::Generated {
                                    name: format!("pyproject-{generated}.txt"),
                                    text,
                                });
                            }
                            Err(why) => problems.push(
                                Diagnostic::new(item.span, format!("`{}` {why}", item.path))
                                    .with_hint("pyslim installs the [project] dependencies (and `extras:`) of a PEP 621 pyproject.toml"),
                            ),
                        }
                    }
                    (_, Some(_)) => {
                        let text = self.read_text(&view, &item.path).await?;
                        let (found, bad) = requirements::references(&item.path, &text);
                        for problem in bad {
                            problems.push(
                                Diagnostic::new(item.span, format!("{}:{}: {}", item.path, problem.line, problem.message))
                                    .with_hint("requirements files may refer only to files inside the build context"),
                            );
                        }
                        for reference in found {
                            next.push(Pending {
                                path: reference.path,
                                kind: reference.kind,
                                span: item.span,
                                from: Some((item.path.clone(), reference.line)),
                            });
                        }
                        if top {
                            dependencies.inputs.push(Input::File(item.path.clone()));
                        }
                        dependencies.context.push(item.path.clone());
                        files.push(RequirementsFile {
                            path: item.path,
                            text,
                        });
                    }
                }
            }
            round = next;
        }
        Ok(if problems.is_empty() {
            Ok(Found {
                dependencies,
                files,
            })
        } else {
            Err(problems)
        })
    }

    /// Checks that the app is a project, and reads what building it requires.
    async fn app(
        &mut self,
        app: &str,
        span: Span,
        problems: &mut Vec<Diagnostic>,
    ) -> Result<Vec<String>, GatewayError> {
        let path = |file: &str| {
            if app == "." {
                file.to_string()
            } else {
                format!("{app}/{file}")
            }
        };
        let (pyproject, setup) = (path("pyproject.toml"), path("setup.py"));
        let view = self.view(&[pyproject.clone(), setup.clone()], true).await?;
        let text = if self.gateway.stat_file(&view, &pyproject).await?.is_some() {
            Some(self.read_text(&view, &pyproject).await?)
        } else if self.gateway.stat_file(&view, &setup).await?.is_some() {
            None
        } else {
            problems.push(
                Diagnostic::new(span, format!("`{app}` has no pyproject.toml or setup.py in the build context"))
                    .with_hint("point `app:` at the directory of your project (relative to the build context), or leave it out"),
            );
            return Ok(Vec::new());
        };
        match requirements::build_requires(text.as_deref()) {
            Ok(requires) => Ok(requires),
            Err(why) => {
                problems.push(
                    Diagnostic::new(span, format!("`{pyproject}` {why}")).with_hint(
                        "fix the project's pyproject.toml; pyslim reads its [build-system] table",
                    ),
                );
                Ok(Vec::new())
            }
        }
    }

    async fn read_text(&mut self, view: &Reference, path: &str) -> Result<String, GatewayError> {
        let bytes = self.gateway.read_file(view, path).await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The context narrowed to `paths`: BuildKit transfers only those.
    async fn view(&mut self, paths: &[String], ignore: bool) -> Result<Reference, GatewayError> {
        let mut attrs = vec![("local.includepattern", json_list(paths))];
        if ignore && !self.excludes.is_empty() {
            attrs.push(("local.excludepatterns", json_list(self.excludes)));
        }
        let state = local(self.name, self.session_id, &attrs);
        self.gateway.solve(llb::marshal(&state, None)).await
    }
}

/// What reading the context found: the plan's input, and the requirements files as read.
pub struct Found {
    pub dependencies: Dependencies,
    pub files: Vec<RequirementsFile>,
}

pub struct RequirementsFile {
    pub path: String,
    pub text: String,
}

struct Pending {
    path: String,
    kind: Kind,
    /// The spec entry this file was reached from.
    span: Span,
    /// The requirements file and line that named it, unless the spec did.
    from: Option<(String, u32)>,
}

impl Pending {
    fn missing(&self, what: &str) -> Diagnostic {
        let message = match &self.from {
            None => format!("the requirements file `{}` {what}", self.path),
            Some((file, line)) => format!("`{}`, named at {file}:{line}, {what}", self.path),
        };
        Diagnostic::new(self.span, message).with_hint(
            "paths are relative to the build context (the last argument of `docker buildx build`); \
             check the name and your .dockerignore",
        )
    }
}

fn is_dir(stat: &Stat) -> bool {
    const S_IFMT: u32 = 0o170000;
    const S_IFDIR: u32 = 0o040000;
    stat.mode & S_IFMT == S_IFDIR
}
