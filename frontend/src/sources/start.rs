//! What the image starts with must be in it: a `python SCRIPT.py` entrypoint or cmd names a
//! file that only a source app puts into the workdir. Found missing here, it is an error at its
//! spec line instead of an image that dies at start (`python: can't open file '//main.py'`).

use pyslim_spec::{Deploy, Diagnostic, Spanned, Spec};

use super::{FoundApp, Problems};
use crate::context::Context;
use crate::gateway::GatewayError;

/// The script a `python [OPTIONS] SCRIPT` command runs, if it runs one (not `-m`, `-c` or `-`).
pub fn script(argv: &[String]) -> Option<&str> {
    let program = argv.first()?.rsplit('/').next()?;
    let is_python = program == "python"
        || program
            .strip_prefix("python")
            .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'));
    if !is_python {
        return None;
    }
    let mut args = argv[1..].iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // What follows is not a file: a module, a command, standard input.
            "-m" | "-c" | "-" => return None,
            // Options whose value is the next argument.
            "-W" | "-X" | "--check-hash-based-pycs" => {
                args.next();
            }
            option if option.starts_with('-') => {
                if option.starts_with("-m") || option.starts_with("-c") {
                    return None;
                }
            }
            script => return Some(script),
        }
    }
    None
}

/// Checks the script of the image's command, if it is a Python script in the workdir.
pub async fn check(
    context: &mut Context<'_>,
    spec: &Spec,
    app: Option<&FoundApp>,
    workdir: Option<&str>,
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
    let Some(script) = script(&argv) else {
        return Ok(());
    };
    let workdir = workdir.unwrap_or("/");
    let Some(relative) = inside(workdir, script) else {
        // Elsewhere in the image (a base image's file, a path a package installs): not ours to
        // know.
        return Ok(());
    };
    let source = app.filter(|a| a.deploy == Deploy::Source);
    let Some(app) = source else {
        problems.problems.push(
            Diagnostic::new(at.span, format!("`{script}` is not in the image: the command runs it from {workdir}, and nothing puts it there"))
                .with_hint("add `app: .` (the directory that holds it) to copy your code into the workdir; a package's modules run with `python -m NAME`"),
        );
        return Ok(());
    };
    let path = super::app::in_app(&app.path, relative);
    let view = context.view(std::slice::from_ref(&path), true).await?;
    if context.stat(&view, &path).await?.is_none() {
        problems.problems.push(
            Diagnostic::new(
                at.span,
                format!(
                    "`{script}` is not in the image: the app's directory `{}` has no `{relative}`",
                    app.path
                ),
            )
            .with_hint("check the name, and that .dockerignore does not leave it out"),
        );
    }
    Ok(())
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
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn finds_the_script_a_python_command_runs() {
        assert_eq!(script(&argv(&["python", "main.py"])), Some("main.py"));
        assert_eq!(
            script(&argv(&[
                "/usr/local/bin/python3.11",
                "-u",
                "-W",
                "ignore",
                "app/run.py",
                "--port",
                "8"
            ])),
            Some("app/run.py")
        );
        for none in [
            &["python", "-m", "pkg"][..],
            &["python", "-c", "print(1)"],
            &["python", "-mpkg"],
            &["python"],
            &["gunicorn", "main:app"],
            &["pythonista", "x.py"],
        ] {
            assert_eq!(script(&argv(none)), None, "{none:?}");
        }
    }

    #[test]
    fn only_scripts_in_the_workdir_are_checked() {
        assert_eq!(inside("/app", "main.py"), Some("main.py"));
        assert_eq!(inside("/app", "./src/main.py"), Some("src/main.py"));
        assert_eq!(inside("/app", "/app/main.py"), Some("main.py"));
        assert_eq!(inside("/app/", "/app/main.py"), Some("main.py"));
        assert_eq!(inside("/app", "/usr/local/bin/tool.py"), None);
        assert_eq!(inside("/app", "/application/x.py"), None);
        assert_eq!(inside("/app", "../x.py"), None);
        assert_eq!(inside("/", "main.py"), Some("main.py"));
        assert_eq!(inside("/", "/usr/local/bin/tool.py"), None);
    }
}
