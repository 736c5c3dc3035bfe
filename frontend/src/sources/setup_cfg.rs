//! A setuptools `setup.cfg`: the `install_requires` of its `[options]` section, which is static
//! metadata, read here so the app's dependencies are built without running setup.py; and the
//! console scripts it declares and whether it says where its packages are, for the start check.

/// The requirements `[options] install_requires` lists, one per line (or `;`-separated on one
/// line, as setuptools also takes); empty when there is none.
pub fn install_requires(text: &str) -> Vec<String> {
    let lines = value(text, "options", "install_requires").unwrap_or_default();
    // Only a value on the key's own line may hold several, `;`-separated: on a line of its
    // own, `;` starts a requirement's markers.
    let (first, rest) = lines
        .split_first()
        .map_or((None, &[][..]), |(f, r)| (Some(f), r));
    first
        .into_iter()
        .flat_map(|line| line.split(';'))
        .chain(rest.iter().map(String::as_str))
        .map(|r| strip_comment(r).to_string())
        .filter(|r| !r.is_empty())
        .collect()
}

/// The names of the commands `[options.entry_points]` declares (`console_scripts`,
/// `gui_scripts`) and of the files `[options] scripts` installs.
pub fn scripts(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for key in ["console_scripts", "gui_scripts"] {
        for line in value(text, "options.entry_points", key).unwrap_or_default() {
            if let Some((name, _)) = strip_comment(&line).split_once('=')
                && !name.trim().is_empty()
            {
                names.push(name.trim().to_string());
            }
        }
    }
    for line in value(text, "options", "scripts").unwrap_or_default() {
        let path = strip_comment(&line);
        names.extend(
            path.rsplit('/')
                .next()
                .filter(|n| !n.is_empty())
                .map(String::from),
        );
    }
    names
}

/// It says where its modules are (`packages`, `package_dir`, `py_modules` of `[options]`):
/// they may then be anywhere in the project.
pub fn places_modules(text: &str) -> bool {
    ["packages", "package_dir", "py_modules"]
        .iter()
        .any(|key| value(text, "options", key).is_some())
}

/// The lines of the value of `key` in `[section]`: what follows `=` (perhaps empty), then each
/// indented line after it; `None` when the key is not there. Keys are compared as setuptools does, `-` as `_`.
fn value(text: &str, wanted_section: &str, wanted_key: &str) -> Option<Vec<String>> {
    let mut section = String::new();
    let mut inside = false;
    let mut found: Option<Vec<String>> = None;
    for raw in text.lines() {
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        // A blank line does not end a value (configparser keeps reading it).
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            section = name.trim().to_string();
            inside = false;
            continue;
        }
        let continued = line.starts_with(char::is_whitespace);
        if inside && continued {
            found.get_or_insert_default().push(trimmed.to_string());
            continue;
        }
        inside = false;
        if section != wanted_section {
            continue;
        }
        if let Some((key, value)) = trimmed.split_once('=')
            && key.trim().replace('-', "_") == wanted_key
        {
            inside = true;
            found.get_or_insert_default().push(value.trim().to_string());
        }
    }
    found
}

fn strip_comment(line: &str) -> &str {
    match line.find(" #") {
        Some(at) => line[..at].trim(),
        None => line.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_install_requires_of_the_options_section() {
        let text = "[metadata]\nname = app\ninstall_requires = not-this\n\n[options]\npackages = find:\ninstall_requires =\n    flask>=3  # web\n    requests ; python_version > \"3\"\n\n    gunicorn\nzip_safe = False\n[options.extras_require]\ndev = pytest\n";
        assert_eq!(
            install_requires(text),
            ["flask>=3", "requests ; python_version > \"3\"", "gunicorn"]
        );
        assert_eq!(
            install_requires("[options]\ninstall-requires = six; click\n"),
            ["six", "click"]
        );
        assert!(install_requires("[metadata]\nname = x\n").is_empty());
    }

    #[test]
    fn reads_the_scripts_it_installs_and_whether_it_places_its_modules() {
        let text = "[options]\nscripts = bin/tool.sh\n[options.entry_points]\nconsole_scripts =\n    serve = app.cli:main  # the server\n    admin=app.admin:run\ngui_scripts = viewer = app.gui:main\n";
        assert_eq!(scripts(text), ["serve", "admin", "viewer", "tool.sh"]);
        assert!(!places_modules(text));
        assert!(places_modules(
            "[options]\npackage_dir =\n    =src\npackages = find:\n"
        ));
        assert!(places_modules("[options]\npy-modules = one\n"));
        assert!(scripts("[metadata]\nname = x\n").is_empty());
    }
}
