//! What the image starts with must be in it: a `python SCRIPT.py` entrypoint or cmd names a
//! file that only a source app puts into the workdir; `python -m MODULE` a module of the app,
//! of a dependency or of Python itself; a bare command a console script of the app or of a
//! dependency, or a program of the base image. Found missing here, it is an error at its spec
//! line instead of an image that dies at start (`python: can't open file '//main.py'`,
//! `No module named app`, `exec: "gunicorn": executable file not found in $PATH`).
//!
//! What dependencies install is not known before they are built, so a module or a command
//! they might bring is never reported: only one the image can be seen not to have, because
//! nothing in it installs anything that could.

use pyslim_spec::{Deploy, Diagnostic, Spanned, Spec};

use super::app::in_app;
use super::{FoundApp, Problems};
use crate::context::Context;
use crate::gateway::GatewayError;
use crate::known;

/// What a command starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start<'a> {
    /// `python [OPTIONS] SCRIPT`.
    Script(&'a str),
    /// `python [OPTIONS] -m MODULE`.
    Module(&'a str),
    /// A command looked up on PATH: a console script, or a program of the image.
    Program(&'a str),
}

fn is_python(program: &str) -> bool {
    program == "python"
        || program
            .strip_prefix("python")
            .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// What `argv` starts, if it is something pyslim can look for: not `python -c` or `python -`,
/// nor a program named by its path.
pub fn start(argv: &[String]) -> Option<Start<'_>> {
    let first = argv.first()?;
    if !is_python(first.rsplit('/').next()?) {
        return (!first.is_empty() && !first.contains('/')).then_some(Start::Program(first));
    }
    let mut args = argv[1..].iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-m" => return args.next().map(|m| Start::Module(m)),
            // What follows is not a file: a command, standard input.
            "-c" | "-" => return None,
            // Options whose value is the next argument.
            "-W" | "-X" | "--check-hash-based-pycs" => {
                args.next();
            }
            option if option.starts_with('-') => {
                if let Some(module) = option.strip_prefix("-m") {
                    return Some(Start::Module(module));
                }
                if option.starts_with("-c") {
                    return None;
                }
            }
            script => return Some(Start::Script(script)),
        }
    }
    None
}

/// What the image may hold that pyslim cannot see before building it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unknowns {
    /// Python packages: dependencies are installed, a build command may install some, the
    /// base is not python's slim image, or `PYTHONPATH` points elsewhere.
    pub modules: bool,
    /// Commands on PATH: any of the above, apt packages, or a `PATH` of the spec's.
    pub programs: bool,
}

impl Unknowns {
    pub fn of(spec: &Spec, app: Option<&FoundApp>, locked: bool) -> Unknowns {
        let dependencies = locked
            || !spec.requirements.is_empty()
            || app.is_some_and(|a| {
                !a.dependencies.is_empty() || a.dynamic || !a.requirement_files.is_empty()
            });
        let sets = |names: &[&str]| {
            spec.env
                .iter()
                .any(|(name, _)| names.contains(&name.as_str()))
        };
        let modules = dependencies
            || !spec.build_commands.is_empty()
            || spec.base.runtime.is_some()
            || sets(&["PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE"]);
        Unknowns {
            modules,
            programs: modules || !spec.runtime.is_empty() || sets(&["PATH"]),
        }
    }
}

/// The files of the app's directory that would make `module` importable, for each directory
/// its modules may be in: `M.py`, `M/__init__.py`, `M/__main__.py`, and, for a dotted module,
/// the top-level package's `__init__.py`. Paths relative to the app's directory.
pub fn module_files(module: &str, roots: &[String]) -> Vec<String> {
    let path = module.replace('.', "/");
    let top = module.split('.').next().unwrap_or(module);
    let mut files = Vec::new();
    for root in roots {
        files.extend([
            format!("{root}{path}.py"),
            format!("{root}{path}/__init__.py"),
            format!("{root}{path}/__main__.py"),
        ]);
        if path.contains('/') {
            files.push(format!("{root}{top}/__init__.py"));
        }
    }
    files
}

/// A start that cannot work: what is missing, and what would ship it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    pub message: String,
    pub hint: String,
}

/// Whether `python -m module` cannot find `module` in the image, `exists` telling which files
/// of [`module_files`] the app's directory has.
pub fn missing_module(
    module: &str,
    app: Option<&FoundApp>,
    unknowns: Unknowns,
    exists: &dyn Fn(&str) -> bool,
) -> Option<Missing> {
    let top = module.split('.').next().unwrap_or(module);
    if module.is_empty() || known::base_module(top) {
        return None;
    }
    let roots: &[String] = match app {
        None => &[],
        // Its build backend decides where its modules are: they may be anywhere.
        Some(app) => app.module_roots.as_deref()?,
    };
    let path = module.replace('.', "/");
    let present = roots.iter().any(|root| {
        [".py", "/__init__.py", "/__main__.py"]
            .iter()
            .any(|end| exists(&format!("{root}{path}{end}")))
    });
    if present {
        return None;
    }
    // A regular package of the app's own is the only one of its name Python looks in: a
    // submodule must be in it, whatever the dependencies install.
    if let (Some(app), Some((_, rest))) = (app, module.split_once('.'))
        && let Some(root) = roots
            .iter()
            .find(|root| exists(&format!("{root}{top}/__init__.py")))
    {
        return Some(Missing {
            message: format!(
                "`python -m {module}` cannot start: the app's package `{top}` (`{}`) has no module `{rest}`",
                in_app(&app.path, &format!("{root}{top}"))
            ),
            hint: format!(
                "check the name: Python looks for `{root}{path}.py` or `{root}{path}/__init__.py` in the app's directory"
            ),
        });
    }
    if unknowns.modules {
        return None;
    }
    let message = match app {
        None => format!(
            "`python -m {module}` cannot start: nothing in the image provides `{top}`: the spec has no app and installs no Python package"
        ),
        Some(app) => {
            let places: Vec<String> = roots
                .iter()
                .map(|root| format!("`{root}{path}.py` or `{root}{path}/`"))
                .collect();
            format!(
                "`python -m {module}` cannot start: the app's directory `{}` has no {}, and the image installs no Python package that could provide `{top}`",
                app.path,
                places.join(", nor ")
            )
        }
    };
    Some(Missing {
        message,
        hint: "check the module's name; a module of your own comes with `app:` (the directory that holds it), one of another project with that project under `requirements:`".into(),
    })
}

/// Whether the command `program` cannot be found on PATH in the image.
pub fn missing_program(
    program: &str,
    app: Option<&FoundApp>,
    unknowns: Unknowns,
) -> Option<Missing> {
    if known::in_base_image(program) || unknowns.programs {
        return None;
    }
    let declared = |names: &[String]| {
        let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        match quoted.as_slice() {
            [] => "declares no console script".to_string(),
            [one] => format!("declares only the console script {one}"),
            many => format!("declares only the console scripts {}", many.join(", ")),
        }
    };
    let (message, hint) = match app {
        None => (
            format!(
                "`{program}` is not in the image: the base image has no such command, and the spec installs no app, Python package or `runtime:` package that could"
            ),
            "list the project that ships it under `requirements:` (or the Debian package under `runtime:`), or check the name".to_string(),
        ),
        Some(app) if app.deploy == Deploy::Source => (
            format!(
                "`{program}` is not in the image: the app `{}` is copied as source, which installs no commands, and nothing else installs one",
                app.path
            ),
            "list the project that ships it under `requirements:` (or the Debian package under `runtime:`); source runs as `[python, main.py]` or `[python, -m, NAME]`".to_string(),
        ),
        Some(app) => {
            // Only its backend knows what it installs.
            let names = app.scripts.as_ref()?;
            if names.iter().any(|n| n == program) {
                return None;
            }
            (
                format!(
                    "`{program}` is not in the image: the app `{}` {}, and it has no dependencies that could install one",
                    app.path,
                    declared(names)
                ),
                format!(
                    "declare it in the app's `[project.scripts]` (`{program} = \"module:function\"`, or `[tool.poetry.scripts]`), list the project that ships it under `requirements:`, or check the name"
                ),
            )
        }
    };
    Some(Missing { message, hint })
}

/// Checks what the image's command starts.
pub async fn check(
    context: &mut Context<'_>,
    spec: &Spec,
    app: Option<&FoundApp>,
    workdir: Option<&str>,
    locked: bool,
    problems: &mut Problems,
) -> Result<(), GatewayError> {
    // The command the container runs: the entrypoint and its arguments, or the cmd alone.
    let command: Option<(&Spanned<Vec<String>>, Vec<String>)> = match (&spec.entrypoint, &spec.cmd)
    {
        (Some(entry), cmd) => {
            let mut argv = entry.value.clone();
            argv.extend(cmd.iter().flat_map(|c| c.value.iter().cloned()));
            Some((entry, argv))
        }
        (None, Some(cmd)) => Some((cmd, cmd.value.clone())),
        (None, None) => None,
    };
    let Some((at, argv)) = command else {
        return Ok(());
    };
    // A lock installs what it pins, which only its metadata would tell.
    let unknowns = Unknowns::of(spec, app, locked);
    let missing = match start(&argv) {
        None => None,
        Some(Start::Script(script)) => script_missing(context, script, app, workdir).await?,
        Some(Start::Program(program)) => missing_program(program, app, unknowns),
        Some(Start::Module(module)) => {
            let roots = app.and_then(|a| a.module_roots.clone()).unwrap_or_default();
            let files = match app {
                Some(app) => module_files(module, &roots)
                    .iter()
                    .map(|f| in_app(&app.path, f))
                    .collect(),
                None => Vec::new(),
            };
            let mut present = Vec::new();
            if !files.is_empty() {
                let view = context.view(&files, true).await?;
                for file in &files {
                    if context.stat(&view, file).await?.is_some() {
                        present.push(file.clone());
                    }
                }
            }
            let exists =
                |relative: &str| app.is_some_and(|a| present.contains(&in_app(&a.path, relative)));
            missing_module(module, app, unknowns, &exists)
        }
    };
    if let Some(Missing { message, hint }) = missing {
        problems
            .problems
            .push(Diagnostic::new(at.span, message).with_hint(hint));
    }
    Ok(())
}

/// Whether the script a `python SCRIPT` command runs from the workdir is missing.
async fn script_missing(
    context: &mut Context<'_>,
    script: &str,
    app: Option<&FoundApp>,
    workdir: Option<&str>,
) -> Result<Option<Missing>, GatewayError> {
    let workdir = workdir.unwrap_or("/");
    let Some(relative) = inside(workdir, script) else {
        // Elsewhere in the image (a base image's file, a path a package installs): not ours to
        // know.
        return Ok(None);
    };
    let Some(app) = app.filter(|a| a.deploy == Deploy::Source) else {
        return Ok(Some(Missing {
            message: format!("`{script}` is not in the image: the command runs it from {workdir}, and nothing puts it there"),
            hint: "add `app: .` (the directory that holds it) to copy your code into the workdir; a package's modules run with `python -m NAME`".into(),
        }));
    };
    let path = in_app(&app.path, relative);
    let view = context.view(std::slice::from_ref(&path), true).await?;
    if context.stat(&view, &path).await?.is_some() {
        return Ok(None);
    }
    Ok(Some(Missing {
        message: format!(
            "`{script}` is not in the image: the app's directory `{}` has no `{relative}`",
            app.path
        ),
        hint: "check the name, and that .dockerignore does not leave it out".into(),
    }))
}

/// `script` relative to `workdir` when it lies inside it.
fn inside<'a>(workdir: &str, script: &'a str) -> Option<&'a str> {
    let relative = match script.strip_prefix('/') {
        None => script.strip_prefix("./").unwrap_or(script),
        Some(_) => {
            // With `/` as the workdir, an absolute path may be any file of the base image.
            let dir = workdir.trim_end_matches('/');
            if dir.is_empty() {
                return None;
            }
            script.strip_prefix(dir)?.strip_prefix('/')?
        }
    };
    (!relative.is_empty() && !relative.split('/').any(|p| p == "..")).then_some(relative)
}

#[cfg(test)]
mod tests;
