//! What to check when a step fails: shown under BuildKit's error for the step that failed, so
//! the user reads the likely cause and its fix next to the log that shows it.
//!
//! BuildKit's error does not carry the step's log: the frontend sees the error's message (for
//! a command, `process "…" did not complete successfully: exit code: N`), the failing vertex
//! and the spec lines of our source map, nothing of the output. So what failed is told in two
//! ways. An error raised before the command runs names its cause in the message (a secret the
//! build was not given). And the dependency step's script reads pip's output itself and says
//! what it saw in its exit code ([`INDEX_UNREACHABLE`], [`NEEDS_SYSTEM`]).

use std::fmt;

use crate::known::{self, PROJECTS};

/// The kind of step that failed; each has its own advice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Advice {
    Apt,
    /// The dependency step, when its output named no cause pyslim knows.
    Dependency,
    /// The dependency step, when its output showed a build stopped by a missing header or tool.
    SystemPackages,
    App,
    AppMetadata,
    Uv,
    Install,
    BuildCommand,
    /// The smoke test did not run to its report (a module that crashes the interpreter is
    /// reported; one that kills the step is not).
    SmokeTest,
    /// A gathering step of `flavor: minimal`.
    Minimal,
}

/// The exit code of `fetch_wheels.py` when pip's output shows an index it could not reach, or
/// that refused it (a connection refused, a name not resolved, a 404 or 401 on a page).
pub const INDEX_UNREACHABLE: i32 = 69;
/// The exit code of `fetch_wheels.py` when pip's output shows a build stopped by a missing
/// compiler, header or tool (`fatal error: X.h`, `pg_config executable not found`, …).
pub const NEEDS_SYSTEM: i32 = 72;

/// The exit code BuildKit reports for a failed command: `… exit code: N`.
pub fn exit_code(message: &str) -> Option<i32> {
    let (_, rest) = message.rsplit_once("exit code: ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Whether BuildKit failed a step because the client did not give the secret `id`: it says so
/// before the command runs (`secret ID not found: not found`; before v0.13 `secret ID: not
/// found`).
pub fn secret_missing(message: &str, id: &str) -> bool {
    message.contains(&format!("secret {id} not found"))
        || message.contains(&format!("secret {id}: not found"))
}

impl Advice {
    /// The advice for this step given how it failed: the dependency step's exit code tells a
    /// build that needs system packages from any other failure.
    pub fn for_exit(self, code: Option<i32>) -> Advice {
        match (self, code) {
            (Advice::Dependency, Some(NEEDS_SYSTEM)) => Advice::SystemPackages,
            (advice, _) => advice,
        }
    }
}

const DEPENDENCY: &str = "pip could not resolve or build the dependencies; its output above \
     says which and why: a version that does not exist (check the pin), requirements that \
     conflict, or a project the index does not serve (check `index:`).";

const APT: &str = "apt-get could not install one of these packages. Check each name \
     for the base image's Debian release (`apt-cache policy NAME` in a container of the base \
     image): `system:` packages are for building, `runtime:` packages go into the image.";
const APP: &str = "your project did not build to a wheel. Check that `app:` points at \
     its directory and that `pip wheel --no-deps .` works there; its build requirements come \
     from `index:`.";
const APP_METADATA: &str = "your project's build backend could not tell its dependencies. \
     This step sees only the project's pyproject.toml, setup.py and setup.cfg, not its code, so \
     that a code edit does not rebuild the dependencies: a setup.py that reads another file (a \
     README, a version file) or imports the package fails here, and the log above names what it \
     missed. Either list the dependencies in a requirements file under `requirements:` (the \
     backend is then not asked), or declare them statically: `[project] dependencies` in \
     pyproject.toml, or `install_requires` in setup.cfg's `[options]`.";
const UV: &str = "uv could not be installed from the index. Check `index:`, or \
     set `installer: pip`, which needs nothing from the index.";
const INSTALL: &str = "a built wheel did not install into the runtime image. The two \
     bases must have the same Python and a compatible C library: keep `base:` pairs matched \
     (python:X and python:X-slim).";

const BUILD_COMMAND: &str = "a build command failed; its output is above. It runs in the \
     finished image as the container would: as `user`, in `workdir`, with `env:`, and with no \
     network unless the item says `network: true`. A directory it writes must be in \
     `writable:` (or the command `user: root`).";

const SMOKE_TEST: &str = "the smoke test could not run in the finished image; its output \
     is above. It runs `python` from the image's PATH as the image's user, with no network; an \
     image without a working `python` cannot be tested (turn it off with `smoke-test: false`).";
const MINIMAL: &str = "the minimal image could not be gathered from the slim one; the output \
     above names the file. `flavor: slim` builds the same app without this step.";

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Advice::Apt => f.write_str(APT),
            Advice::Dependency => f.write_str(DEPENDENCY),
            Advice::SystemPackages => system_packages(f),
            Advice::App => f.write_str(APP),
            Advice::AppMetadata => f.write_str(APP_METADATA),
            Advice::Uv => f.write_str(UV),
            Advice::Install => f.write_str(INSTALL),
            Advice::BuildCommand => f.write_str(BUILD_COMMAND),
            Advice::SmokeTest => f.write_str(SMOKE_TEST),
            Advice::Minimal => f.write_str(MINIMAL),
        }
    }
}

/// The known projects' symptoms and fixes, one line each, from the table the lint reads too.
fn system_packages(f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(
        "a dependency did not build: the log above shows a missing compiler, header or tool. \
         Add the -dev packages that provide it to `system:` and their libraries to `runtime:`:",
    )?;
    for project in PROJECTS.iter().filter(|p| !p.symptoms.is_empty()) {
        let symptoms: Vec<String> = project.symptoms.iter().map(|s| format!("`{s}`")).collect();
        write!(
            f,
            "\n  {} ({}): `system: {}`, `runtime: {}`",
            project.name,
            symptoms.join(", "),
            known::yaml_list(project.system),
            known::yaml_list(project.runtime),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_packages_advice_names_each_known_fix() {
        let text = Advice::SystemPackages.to_string();
        assert!(
            text.contains(
                "\n  mysqlclient (`mysql_config not found`, `Can not find valid pkg-config name`, `pkg-config: not found`): `system: [default-libmysqlclient-dev, pkg-config]`, `runtime: [libmariadb3]`"
            ),
            "{text}"
        );
        assert!(
            text.contains("psycopg2 (`pg_config executable not found`): `system: [libpq-dev]`, `runtime: [libpq5]`"),
            "{text}"
        );
        assert!(
            text.contains(
                "`system: [libldap2-dev, libsasl2-dev]`, `runtime: [libldap-2.5-0, libsasl2-2]`"
            ),
            "{text}"
        );
        // uWSGI builds without help; its need shows only at run time, which the lint covers.
        assert!(!text.contains("uwsgi"), "{text}");
        assert!(text.ends_with("`runtime: [libjpeg62-turbo]`"), "{text}");
        assert!(
            Advice::Apt
                .to_string()
                .starts_with("apt-get could not install")
        );
        // The way out must be one that skips the step: a requirements file, or a static list.
        let metadata = Advice::AppMetadata.to_string();
        assert!(
            metadata.contains("`requirements:` (the backend is then not asked)"),
            "{metadata}"
        );
        assert!(
            metadata.contains("`install_requires` in setup.cfg"),
            "{metadata}"
        );
    }

    #[test]
    fn the_advice_follows_what_failed() {
        let process = |code: &str| {
            format!(
                "process \"/bin/sh -c python fetch_wheels.py\" did not complete successfully: exit code: {code}"
            )
        };
        // (BuildKit's message, the advice of the step that failed, the advice shown)
        let table = [
            (process("1"), Advice::Dependency, Advice::Dependency),
            (process("69"), Advice::Dependency, Advice::Dependency),
            (process("72"), Advice::Dependency, Advice::SystemPackages),
            (process("137"), Advice::Dependency, Advice::Dependency),
            (process("72"), Advice::Apt, Advice::Apt),
            (process("72"), Advice::App, Advice::App),
            (
                "secret pypi-netrc not found: not found".into(),
                Advice::Dependency,
                Advice::Dependency,
            ),
        ];
        for (message, step, shown) in table {
            assert_eq!(step.for_exit(exit_code(&message)), shown, "{message}");
        }
        let codes = [
            (process("1"), Some(1)),
            (process("69"), Some(INDEX_UNREACHABLE)),
            (process("72"), Some(NEEDS_SYSTEM)),
            ("secret pypi-netrc not found: not found".into(), None),
            ("exit code: ".into(), None),
        ];
        for (message, code) in codes {
            assert_eq!(exit_code(&message), code, "{message}");
        }
        // The generic advice says nothing of headers; the headers advice only comes with 72.
        let generic = Advice::Dependency.to_string();
        assert!(
            !generic.contains("-dev") && !generic.contains("system:"),
            "{generic}"
        );
        assert!(generic.contains("check `index:`"), "{generic}");
    }

    #[test]
    fn a_missing_secret_is_told_by_buildkit_message_alone() {
        let table = [
            ("secret pypi-netrc not found: not found", "pypi-netrc", true),
            ("secret pypi-netrc: not found", "pypi-netrc", true),
            (
                "failed to solve: secret pypi-netrc not found: not found",
                "pypi-netrc",
                true,
            ),
            ("secret other not found: not found", "pypi-netrc", false),
            (
                "secret pypi-netrc-2 not found: not found",
                "pypi-netrc",
                false,
            ),
            (
                "process \"pip wheel\" did not complete successfully: exit code: 1",
                "pypi-netrc",
                false,
            ),
        ];
        for (message, id, missing) in table {
            assert_eq!(secret_missing(message, id), missing, "{message}");
        }
    }

    #[test]
    fn the_step_script_knows_every_symptom_and_the_exit_codes() {
        // fetch_wheels.py reads pip's output for the symptoms of the table the advice shows
        // (with pip_run.py).
        let script = crate::plan::layout::PIP_RUN;
        for project in PROJECTS {
            for symptom in project.symptoms {
                assert!(script.contains(&format!("\"{symptom}\"")), "{symptom}");
            }
        }
        assert!(script.contains(&format!("INDEX_UNREACHABLE = {INDEX_UNREACHABLE}\n")));
        assert!(script.contains(&format!("NEEDS_SYSTEM = {NEEDS_SYSTEM}\n")));
    }
}
