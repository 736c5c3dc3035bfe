//! What to check when a step fails: shown under BuildKit's error for the step that failed, so
//! the user reads the likely cause and its fix next to the log that shows it. BuildKit's error
//! does not carry the step's log, so the advice names the usual causes rather than the one.

use std::fmt;

use crate::known::{self, PROJECTS};

/// The kind of step that failed; each has its own advice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Advice {
    Apt,
    Dependency,
    App,
    AppMetadata,
    Uv,
    Install,
    BuildCommand,
}

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

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Advice::Apt => f.write_str(APT),
            Advice::Dependency => dependency(f),
            Advice::App => f.write_str(APP),
            Advice::AppMetadata => f.write_str(APP_METADATA),
            Advice::Uv => f.write_str(UV),
            Advice::Install => f.write_str(INSTALL),
            Advice::BuildCommand => f.write_str(BUILD_COMMAND),
        }
    }
}

/// The known projects' symptoms and fixes, one line each, from the table the lint reads too.
fn dependency(f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(
        "a dependency did not build. If the log above shows a missing header or tool, add \
         the -dev packages that provide it to `system:` and their libraries to `runtime:`:",
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
    f.write_str("\nIf a version was not found, check the pin and `index:`.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dependency_advice_names_each_known_fix() {
        let text = Advice::Dependency.to_string();
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
        assert!(text.ends_with("check the pin and `index:`."), "{text}");
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
}
