//! The app: how it is deployed — a package built to a wheel, or source copied as it is — what
//! building it needs, and the dependencies its static metadata declares.

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
    let path = |file: &str| {
        if dir == "." {
            file.to_string()
        } else {
            format!("{dir}/{file}")
        }
    };
    let names = [path("pyproject.toml"), path("setup.py"), path("setup.cfg")];
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
        Some(file) => match pyproject::project(&file.text) {
            Ok(project) => project,
            Err(error) => {
                report(&error, file, app, problems);
                pyproject::Project::default()
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
        dependencies,
        metadata,
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
