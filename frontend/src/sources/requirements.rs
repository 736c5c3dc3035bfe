//! A pip requirements file, read line by line the way pip reads it: the one parser every user
//! of such a file shares — the dependency step (which files it must see: `-r`, `-c`, local
//! paths, `--find-links` directories) and the lint (which requirements are not pinned).

use pyslim_spec::Span;

use crate::lock::normalise;

/// One logical line of a requirements file, and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// 1-based, of the line the logical line starts on.
    pub number: u32,
    pub item: Item,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// `-r FILE`: another requirements file.
    Requirements(String),
    /// `-c FILE`: a constraints file (it can include more).
    Constraints(String),
    /// `--find-links DIR` (or URL): where pip looks for archives.
    FindLinks(String),
    /// A local project or archive (`./libs/x`, `-e ./libs/x`, `vendor/x-1.0.tar.gz`).
    Local(String),
    /// A requirement by name: `flask==3.0.3`, `requests>=2 ; python_version > '3'`.
    Named { name: String, pinned: bool },
    /// Anything else pip takes: other options, URL requirements.
    Other,
}

/// Every logical line of `text` that says something.
pub fn parse(text: &str) -> Vec<Line> {
    logical_lines(text)
        .into_iter()
        .map(|(number, content)| Line {
            number,
            item: item(&content),
        })
        .collect()
}

/// The requirements that name a package without an exact version, with their lines.
pub fn unpinned(text: &str) -> Vec<(u32, String)> {
    parse(text)
        .into_iter()
        .filter_map(|line| match line.item {
            Item::Named {
                name,
                pinned: false,
            } => Some((line.number, name)),
            _ => None,
        })
        .collect()
}

/// The project a requirement's name means, normalised as PEP 503 says (`Python_LDAP[sasl]`
/// is `python-ldap`): pip treats every such spelling as one project, so must a lookup by name.
pub fn project(name: &str) -> String {
    normalise(name.split('[').next().unwrap_or(name))
}

fn item(content: &str) -> Item {
    let words: Vec<&str> = content.split_whitespace().collect();
    let Some(&first) = words.first() else {
        return Item::Other;
    };
    let option = |names: &[&str]| -> Option<String> {
        for name in names {
            if first == *name {
                return words.get(1).map(|w| w.to_string());
            }
            if let Some(value) = first.strip_prefix(name) {
                let value = value.strip_prefix('=').unwrap_or(value);
                // `-rfile` is allowed for short options; long ones need `=`.
                if !value.is_empty() && (name.len() == 2 || first.as_bytes()[name.len()] == b'=') {
                    return Some(value.to_string());
                }
            }
        }
        None
    };
    if let Some(file) = option(&["--requirement", "-r"]) {
        return Item::Requirements(file);
    }
    if let Some(file) = option(&["--constraint", "-c"]) {
        return Item::Constraints(file);
    }
    if let Some(dir) = option(&["--find-links", "-f"]) {
        return Item::FindLinks(dir);
    }
    if let Some(path) = option(&["--editable", "-e"]) {
        return if is_local(&path) {
            Item::Local(path)
        } else {
            Item::Other
        };
    }
    if first.starts_with('-') {
        return Item::Other;
    }
    let head = first.split(';').next().unwrap_or(first);
    let path = head.split('[').next().unwrap_or(head);
    if is_local(path) {
        return Item::Local(path.to_string());
    }
    let requirement = content.split(';').next().unwrap_or_default().trim();
    let is_name = requirement.starts_with(|c: char| c.is_ascii_alphanumeric());
    if !is_name || requirement.contains('/') {
        return Item::Other;
    }
    let pinned =
        requirement.contains("==") || requirement.contains(" @ ") || requirement.contains("://");
    let name = requirement
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "-_.[]".contains(*c))
        .collect();
    Item::Named { name, pinned }
}

/// A context path a requirements file refers to, and where in that file it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Include {
    pub path: String,
    pub kind: IncludeKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncludeKind {
    /// `-r FILE`: another requirements file, read in turn.
    Requirements,
    /// `-c FILE`: a constraints file, read in turn (it can include more).
    Constraints,
    /// A local project or archive, or a `--find-links` directory: seen, not read.
    Path,
}

/// A reference that cannot be followed, and where in the file it is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub span: Span,
    pub message: String,
}

/// The context paths `file` (a context path itself) refers to, resolved like pip does:
/// relative to the directory of the file that names them.
pub fn includes(file: &str, text: &str) -> (Vec<Include>, Vec<Problem>) {
    let dir = file.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for line in parse(text) {
        let (kind, target) = match line.item {
            Item::Requirements(file) => (IncludeKind::Requirements, file),
            Item::Constraints(file) => (IncludeKind::Constraints, file),
            Item::FindLinks(dir) | Item::Local(dir) => (IncludeKind::Path, dir),
            Item::Named { .. } | Item::Other => continue,
        };
        if is_url(&target) {
            continue;
        }
        let span = locate(text, line.number, &target);
        match join(dir, &target) {
            Ok(path) => found.push(Include { path, kind, span }),
            Err(why) => problems.push(Problem {
                span,
                message: format!("`{target}` {why}"),
            }),
        }
    }
    (found, problems)
}

/// Where `needle` is written on line `number`: the whole line when it is not there as written
/// (a value continued over lines with `\`).
fn locate(text: &str, number: u32, needle: &str) -> Span {
    let line = text
        .lines()
        .nth(number.saturating_sub(1) as usize)
        .unwrap_or_default();
    let count = |s: &str| u32::try_from(s.chars().count()).unwrap_or(u32::MAX);
    match line.find(needle) {
        Some(at) => Span::new(number, count(&line[..at]) + 1, count(needle)),
        None => Span::new(number, 1, count(line)),
    }
}

/// pip's rule: a requirement is a path when it looks like one (starts like a path or names an
/// archive), not when it is a name like `flask>=3`.
fn is_local(text: &str) -> bool {
    text.starts_with('.')
        || text.starts_with('/')
        || text.starts_with("file:")
        || [".whl", ".tar.gz", ".zip", ".tar.bz2"]
            .iter()
            .any(|ext| text.ends_with(ext) && !text.contains("://"))
}

fn is_url(text: &str) -> bool {
    text.contains("://") && !text.starts_with("file:")
}

fn join(dir: &str, target: &str) -> Result<String, &'static str> {
    let target = target.strip_prefix("file:").unwrap_or(target);
    if target.starts_with('/') {
        return Err("is an absolute path: the build sees only the build context");
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("is outside the build context");
                }
            }
            part => parts.push(part),
        }
    }
    if parts.is_empty() {
        Ok(".".into())
    } else {
        Ok(parts.join("/"))
    }
}

/// Lines as pip reads them: `\` continues a line, `#` after whitespace starts a comment.
/// Whether a line pins a hash (`--hash=sha256:…`): pip then checks every requirement of the
/// run, and refuses one without a hash.
pub fn hash_checked(text: &str) -> bool {
    logical_lines(text)
        .iter()
        .any(|(_, line)| line.split_whitespace().any(|w| w.starts_with("--hash")))
}

fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (n, raw) in text.lines().enumerate() {
        let number = u32::try_from(n + 1).unwrap_or(u32::MAX);
        if current.is_empty() {
            start = number;
        }
        let code = strip_comment(raw);
        match code.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(code);
                if !current.trim().is_empty() {
                    lines.push((start, std::mem::take(&mut current)));
                }
                current.clear();
            }
        }
    }
    if !current.trim().is_empty() {
        lines.push((start, current));
    }
    lines
}

fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    match line.find(" #").or_else(|| line.find("\t#")) {
        Some(at) => &line[..at],
        None => line,
    }
}

/// The first line of a file that cannot be a requirements file: a TOML table header or a JSON
/// object, as locks in other formats begin (pip would fail on it with `Invalid requirement`).
pub fn not_requirements(text: &str) -> Option<std::ops::Range<usize>> {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            let starts_like_data =
                trimmed.starts_with('[') || trimmed.starts_with('{') || toml_assignment(trimmed);
            let start = at + (line.len() - line.trim_start().len());
            return starts_like_data.then(|| start..start + trimmed.len());
        }
        at += line.len();
    }
    None
}

/// `key = value`: one `=`, after a bare key (`name==1.0` and `name>=1` are requirements).
fn toml_assignment(line: &str) -> bool {
    let Some((key, value)) = line.split_once('=') else {
        return false;
    };
    let key = key.trim_end();
    // Options (`--index-url=…`) start with a dash.
    key.starts_with(|c: char| c.is_ascii_alphanumeric())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && !value.starts_with('=')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(file: &str, text: &str) -> Vec<(String, IncludeKind, u32)> {
        let (found, problems) = includes(file, text);
        assert!(problems.is_empty(), "{problems:?}");
        found
            .into_iter()
            .map(|r| (r.path, r.kind, r.span.line))
            .collect()
    }

    #[test]
    fn finds_includes_relative_to_the_including_file() {
        let text = "flask==3.0.3 --hash=sha256:ab \\\n    --hash=sha256:cd\n-r base.txt\n--requirement=../common/more.txt\n-c constraints.txt  # pins\n# -r commented.txt\n-e ./libs/tool\n./vendor/pkg-1.0.tar.gz ; python_version>'3'\n--find-links wheels\nhttps://example.com/x.whl\n-rshort.txt\n";
        assert_eq!(
            paths("reqs/prod.txt", text),
            [
                ("reqs/base.txt".to_string(), IncludeKind::Requirements, 3),
                ("common/more.txt".to_string(), IncludeKind::Requirements, 4),
                (
                    "reqs/constraints.txt".to_string(),
                    IncludeKind::Constraints,
                    5
                ),
                ("reqs/libs/tool".to_string(), IncludeKind::Path, 7),
                (
                    "reqs/vendor/pkg-1.0.tar.gz".to_string(),
                    IncludeKind::Path,
                    8
                ),
                ("reqs/wheels".to_string(), IncludeKind::Path, 9),
                ("reqs/short.txt".to_string(), IncludeKind::Requirements, 11),
            ]
        );
    }

    #[test]
    fn project_names_are_normalised_like_pep_503() {
        for (written, project_name) in [
            ("psycopg2", "psycopg2"),
            ("Python_LDAP", "python-ldap"),
            ("python.-_ldap[sasl]", "python-ldap"),
            ("MySQLclient", "mysqlclient"),
            ("uWSGI", "uwsgi"),
            ("psycopg2-binary", "psycopg2-binary"),
        ] {
            assert_eq!(project(written), project_name, "{written}");
        }
        // The parser's names, as written, normalise to the project.
        let names: Vec<String> = parse("Python_LDAP[sasl]==3.4.4 ; python_version > '3'\n")
            .into_iter()
            .filter_map(|line| match line.item {
                Item::Named { name, .. } => Some(project(&name)),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["python-ldap"]);
    }

    #[test]
    fn hash_pinned_files_are_told_apart() {
        assert!(hash_checked("six==1.16.0 \\\n    --hash=sha256:ab\n"));
        assert!(hash_checked("six==1.16.0 --hash sha256:ab\n"));
        assert!(!hash_checked(
            "six==1.16.0  # --hash=sha256:ab\n# --hash\nflask\n"
        ));
    }

    #[test]
    fn refuses_paths_outside_the_context() {
        let (_, problems) = includes("requirements.txt", "-r ../secret.txt\n-r /etc/x.txt\n");
        assert_eq!(problems.len(), 2);
        // At the path itself, so the carets fall under it.
        assert_eq!(problems[0].span, Span::new(1, 4, 13));
        assert!(problems[0].message.contains("outside the build context"));
        assert!(problems[1].message.contains("absolute"));
    }

    #[test]
    fn named_requirements_and_whether_they_are_pinned() {
        let text = "flask==3.0.3 \\\n  --hash=sha256:ab\nrequests>=2  # any\nnumpy ; python_version > '3'\nlib @ https://x/lib.whl\n-r other.txt\n./local/pkg\nFlask[async]~=3.0\n";
        let named: Vec<_> = parse(text)
            .into_iter()
            .filter_map(|l| match l.item {
                Item::Named { name, pinned } => Some((l.number, name, pinned)),
                _ => None,
            })
            .collect();
        assert_eq!(
            named,
            [
                (1, "flask".to_string(), true),
                (3, "requests".into(), false),
                (4, "numpy".into(), false),
                (8, "Flask[async]".into(), false),
            ]
        );
        assert_eq!(
            unpinned(text),
            [
                (3, "requests".to_string()),
                (4, "numpy".into()),
                (8, "Flask[async]".into())
            ]
        );
    }

    #[test]
    fn toml_and_json_are_not_requirements() {
        for data in [
            "version = 1\n",
            "# comment\n\n[[package]]\n",
            "{\"_meta\": {}}",
            "lock-version = '1.0'",
        ] {
            assert!(not_requirements(data).is_some(), "{data}");
        }
        for requirements in [
            "flask==3.0\n",
            "--index-url=https://x/simple\nflask\n",
            "a===1\n",
            "b >= 1\n",
            "-r other.txt\n",
            "",
            "# only\n",
        ] {
            assert_eq!(not_requirements(requirements), None, "{requirements}");
        }
    }
}
