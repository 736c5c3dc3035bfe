//! A setuptools `setup.cfg`: the `install_requires` of its `[options]` section, which is static
//! metadata, read here so the app's dependencies are built without running setup.py.

/// The requirements `[options] install_requires` lists, one per line (or `;`-separated on one
/// line, as setuptools also takes); empty when there is none.
pub fn install_requires(text: &str) -> Vec<String> {
    let mut section = String::new();
    let mut inside = false;
    let mut found = Vec::new();
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
            found.push(trimmed.to_string());
            continue;
        }
        inside = false;
        if section != "options" {
            continue;
        }
        if let Some((key, value)) = trimmed.split_once('=')
            && key.trim().replace('-', "_") == "install_requires"
        {
            inside = true;
            found.extend(value.split(';').map(str::trim).map(String::from));
        }
    }
    found
        .into_iter()
        .map(|r| strip_comment(&r).to_string())
        .filter(|r| !r.is_empty())
        .collect()
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
}
