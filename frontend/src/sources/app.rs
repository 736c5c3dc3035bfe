//! The app: how it is deployed — a package built to a wheel, or source copied as it is — what
//! building it needs, and the dependencies its static metadata declares, or that only its build
//! backend knows.

use pyslim_spec::{App, Deploy, Diagnostic, SourceFile, SourceKind, Span, Spec};

use super::{Problems, pyproject, setup_cfg};
use crate::context::Context;
use crate::gateway::GatewayError;

/// The app as found in the build context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundApp {
    /// Its directory in the build context (`.` for all of it).
    pub path: String,
    pub deploy: Deploy,
    /// What building its wheel needs (`[build-system] requires`); empty for source.
    pub build_requires: Vec<String>,
    /// What its static metadata says it depends on: `[project] dependencies`, or setup.cfg's
    /// `install_requires`.
    pub dependencies: Vec<String>,
    /// The metadata file they were read from, if any.
    pub metadata: Option<String>,
    /// A package whose dependencies only its build backend knows: a setup.py with no static
    /// list beside it, or a pyproject.toml whose `dynamic` names `dependencies`.
    pub dynamic: bool,
    /// Requirements files that hold its dependencies (setuptools'
    /// `[tool.setuptools.dynamic] dependencies = {file = ...}`), as context paths: read like
    /// the spec's own, so the backend need not be asked.
    pub requirement_files: Vec<String>,
    /// Local projects its dependencies name (poetry's path dependencies of a source app): the
    /// dependency step must see them.
    pub local: Vec<LocalProject>,
    /// The commands installing it puts on PATH (none for source, which is copied); `None` when
    /// only its build backend knows them (a setup.py, `dynamic` scripts).
    pub scripts: Option<Vec<String>>,
    /// The directories of the project (`""` itself, `"src/"`) its top-level modules are in
    /// when it does not say otherwise; `None` when it places them itself, or its build backend
    /// may.
    pub module_roots: Option<Vec<String>>,
}

/// A local project a dependency names, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalProject {
    /// Its path in the build context.
    pub path: String,
    /// Where `file` names it.
    pub span: Span,
    pub file: SourceFile,
}

/// Whether a project's dependencies are known only by running its build backend: a static list
/// (`[project] dependencies`, setup.cfg `install_requires`) is taken as the whole of them, even
/// beside a setup.py or a pyproject.toml that calls them dynamic; without one, a setup.py may
/// compute any list. Only a package's backend is run.
pub fn dynamic_dependencies(
    deploy: Deploy,
    declared_dynamic: bool,
    has_setup_py: bool,
    has_static_list: bool,
) -> bool {
    deploy == Deploy::Package && !has_static_list && (declared_dynamic || has_setup_py)
}

/// `file` of the app's directory `dir`, as a context path.
pub fn in_app(dir: &str, file: &str) -> String {
    if dir == "." {
        file.to_string()
    } else {
        format!("{dir}/{file}")
    }
}

/// The project's metadata files, and not its code: what pyslim and its build backend read for
/// its metadata (pyproject.toml, setup.py, setup.cfg), as context paths.
pub fn metadata_files(dir: &str) -> [String; 3] {
    ["pyproject.toml", "setup.py", "setup.cfg"].map(|file| in_app(dir, file))
}

/// Where a source app goes when the spec names no workdir.
pub const SOURCE_APP_DIR: &str = "/app";

/// The image's working directory, and the spec line that asked for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workdir {
    pub path: String,
    pub origin: Span,
}

/// The spec's workdir, or [`SOURCE_APP_DIR`] for a source app.
pub fn workdir(spec: &Spec, app: Option<&FoundApp>) -> Option<Workdir> {
    if let Some(workdir) = &spec.workdir {
        return Some(Workdir {
            path: workdir.to_string(),
            origin: workdir.span,
        });
    }
    let written = spec.app.as_ref()?;
    (app?.deploy == Deploy::Source).then(|| Workdir {
        path: SOURCE_APP_DIR.into(),
        origin: written.path.span,
    })
}

/// Reads the app's project files. A project that cannot be what the spec asks for is a problem
/// at the spec's `app:` line; a wrong pyproject.toml, at its own line.
pub async fn read(
    context: &mut Context<'_>,
    app: &App,
    problems: &mut Problems,
) -> Result<FoundApp, GatewayError> {
    let dir = app.path.as_str();
    let names = metadata_files(dir);
    let view = context.view(&names, true).await?;
    let [pyproject_path, setup_py, setup_cfg_path] = &names;
    let pyproject = match context.stat(&view, pyproject_path).await? {
        Some(_) => {
            let text = context.read_text(&view, pyproject_path).await?;
            Some(SourceFile::of_kind(
                SourceKind::Pyproject,
                pyproject_path,
                text,
            ))
        }
        None => None,
    };
    let has_setup_py = context.stat(&view, setup_py).await?.is_some();
    let setup_cfg = match context.stat(&view, setup_cfg_path).await? {
        Some(_) => Some(context.read_text(&view, setup_cfg_path).await?),
        None => None,
    };
    let project = match &pyproject {
        Some(file) => match pyproject::project(&file.text, dir) {
            Ok(project) => project,
            Err(error) => {
                report(&error, file, app, problems);
                // Nothing is known of a file that cannot be read, and nothing is concluded.
                pyproject::Project {
                    scripts: None,
                    standard_layout: false,
                    ..pyproject::Project::default()
                }
            }
        },
        None => pyproject::Project::default(),
    };
    if pyproject.is_none() && !has_setup_py && setup_cfg.is_none() && dir != "." {
        // Nothing says it is a project: it is source, if it is there at all.
        let whole = context.view(&[dir.to_string()], true).await?;
        if context.stat(&whole, dir).await?.is_none() {
            problems.problems.push(
                Diagnostic::new(app.path.span, format!("the app's directory `{dir}` is not in the build context"))
                    .with_hint("point `app:` at a directory relative to the build context (the last argument of `docker buildx build`); check the name and your .dockerignore"),
            );
        }
    }
    let buildable = project.build_system || has_setup_py;
    let deploy = match &app.deploy {
        Some(asked) => asked.value,
        None if buildable && !project.not_a_package => Deploy::Package,
        None => Deploy::Source,
    };
    if deploy == Deploy::Package && pyproject.is_none() && !has_setup_py {
        problems.problems.push(
            Diagnostic::new(app.path.span, format!("`{dir}` has no pyproject.toml or setup.py in the build context, so it cannot be built to a wheel"))
                .with_hint("leave out `as: package` to copy the directory as it is, or point `app:` at the directory of your project"),
        );
    }
    let build_requires = match (deploy, &pyproject) {
        (Deploy::Source, _) => Vec::new(),
        (Deploy::Package, file) => {
            match pyproject::build_requires(file.as_ref().map(|f| f.text.as_str())) {
                Ok(requires) => requires,
                Err(error) => {
                    if let Some(file) = file {
                        report(&error, file, app, problems);
                    }
                    Vec::new()
                }
            }
        }
    };
    let mut local = Vec::new();
    if let Some(file) = &pyproject {
        for found in &project.local {
            let at = file.span_at(found.span.clone());
            match deploy {
                Deploy::Source => local.push(LocalProject {
                    path: found.path.clone(),
                    span: at,
                    file: file.clone(),
                }),
                // poetry-core writes a path dependency into the wheel's metadata as a file:// URL
                // of the step that builds it, which the step installing the wheel cannot see.
                Deploy::Package => problems.in_file(
                    file,
                    Diagnostic::new(at, format!("`{}` has a path dependency on `{}`, which the app's wheel would name by a path of the build: it could not be installed in the image", file.name, found.path))
                        .with_hint("deploy the app as source (`app: {path: ., as: source}`), or publish the dependency to your index or a `find-links:` wheelhouse and depend on it by version"),
                ),
            }
        }
    }
    let places_modules = setup_cfg.as_deref().is_some_and(setup_cfg::places_modules);
    let (scripts, module_roots) = match deploy {
        Deploy::Source => (Some(Vec::new()), Some(vec![String::new()])),
        // setup.py may declare any.
        Deploy::Package if has_setup_py => (None, None),
        Deploy::Package => (
            project.scripts.clone().map(|mut names| {
                names.extend(
                    setup_cfg
                        .as_deref()
                        .map(setup_cfg::scripts)
                        .unwrap_or_default(),
                );
                names
            }),
            (project.standard_layout && !places_modules)
                .then(|| vec![String::new(), "src/".to_string()]),
        ),
    };
    let declared = match (project.dependencies, &pyproject) {
        (Ok(list), _) => list,
        (Err(error), Some(file)) => {
            pyproject::report(
                &error,
                file,
                app.path.span,
                pyproject::DEPENDENCIES_HINT,
                problems,
            );
            None
        }
        (Err(_), None) => None,
    };
    // A [project] table that lists none, without calling them dynamic, declares none.
    let has_static_list = declared.is_some();
    let (dependencies, metadata) = match (declared, setup_cfg) {
        (Some(list), _) => (list, Some(pyproject_path.clone())),
        (None, Some(text)) => (
            setup_cfg::install_requires(&text),
            Some(setup_cfg_path.clone()),
        ),
        (None, None) => (Vec::new(), None),
    };
    Ok(FoundApp {
        path: dir.to_string(),
        deploy,
        build_requires,
        dynamic: dynamic_dependencies(
            deploy,
            project.dynamic_dependencies,
            has_setup_py,
            has_static_list || !dependencies.is_empty() || !project.dependency_files.is_empty(),
        ),
        requirement_files: match deploy {
            Deploy::Package => project
                .dependency_files
                .iter()
                .map(|f| in_app(dir, f))
                .collect(),
            Deploy::Source => Vec::new(),
        },
        dependencies,
        metadata,
        local,
        scripts,
        module_roots,
    })
}

fn report(error: &pyproject::Error, file: &SourceFile, app: &App, problems: &mut Problems) {
    pyproject::report(
        error,
        file,
        app.path.span,
        "fix the project's pyproject.toml; pyslim reads its [build-system], [project] and [tool] tables",
        problems,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The app's detection, on the project files it reads.
    fn dynamic(deploy: Deploy, pyproject: Option<&str>, setup_py: bool, setup_cfg: &str) -> bool {
        let project = pyproject.map_or_else(pyproject::Project::default, |text| {
            pyproject::project(text, ".").expect("TOML")
        });
        let declared = project.dependencies.clone().expect("a list");
        let listed = !setup_cfg::install_requires(setup_cfg).is_empty();
        dynamic_dependencies(
            deploy,
            project.dynamic_dependencies,
            setup_py,
            declared.is_some() || listed,
        )
    }

    #[test]
    fn only_the_backend_knows_a_setup_py_or_dynamic_list() {
        use Deploy::{Package, Source};
        // setup.py alone, or beside a setup.cfg without install_requires.
        assert!(dynamic(Package, None, true, ""));
        assert!(dynamic(Package, None, true, "[metadata]\nname = svc\n"));
        // A pyproject.toml that says so, and one with no [project] beside a setup.py.
        let declared = "[project]\nname='a'\ndynamic=['version', 'dependencies']\n";
        assert!(dynamic(Package, Some(declared), false, ""));
        let legacy = "[build-system]\nrequires=['setuptools']\n";
        assert!(dynamic(Package, Some(legacy), true, ""));
        // A static list is the whole of them, wherever it is.
        let cfg = "[options]\ninstall_requires = six\n";
        assert!(!dynamic(Package, None, true, cfg));
        assert!(!dynamic(Package, Some(declared), true, cfg));
        let listed = "[project]\nname='a'\ndependencies=['six']\n";
        assert!(!dynamic(Package, Some(listed), true, ""));
        // A [project] that lists none, and does not call them dynamic, has none.
        assert!(!dynamic(Package, Some("[project]\nname='a'\n"), true, ""));
        // Dynamic only in some other field.
        let version = "[project]\nname='a'\ndynamic=['version']\ndependencies=[]\n";
        assert!(!dynamic(Package, Some(version), false, ""));
        // No backend without setup.py or a pyproject saying so; none run for source.
        assert!(!dynamic(Package, Some(legacy), false, ""));
        assert!(!dynamic(Source, None, true, ""));
        assert!(!dynamic(Source, Some(declared), false, ""));
    }
}
