//! The files a pylock.toml entry names (`archive`, `sdist`, wheels): where each is — a URL, or a
//! path relative to the lock — and the sha256 pip will check it against.

use std::ops::Range;

use toml::de::DeTable;

use super::*;

pub(super) enum Location {
    Url(String),
    /// Relative to the lock's directory.
    Path(String),
}

/// A file entry (`archive`, `sdist`, a wheel): where it is and its sha256.
pub(super) struct File {
    pub(super) name: Option<String>,
    pub(super) location: Location,
    pub(super) sha256: String,
}

pub(super) fn read_file(
    table: &DeTable<'_>,
    span: Range<usize>,
    package: &str,
    problems: &mut Vec<Problem>,
) -> Option<File> {
    let before = problems.len();
    let url = string(table, "url", problems);
    let path = string(table, "path", problems);
    let written_name = string(table, "name", problems).map(|(n, _)| n.to_string());
    if problems.len() > before {
        return None;
    }
    let (location, last) = match (url, path) {
        (Some((url, _)), _) => (Location::Url(url.to_string()), file_name(url)),
        (None, Some((path, at))) => {
            let local = local_path(path, package, at, problems)?;
            (Location::Path(local), file_name(path))
        }
        (None, None) => {
            problems.push(
                Problem::at(
                    Some(span),
                    format!("records a file of `{package}` with neither `url` nor `path`"),
                )
                .with_hint(relock()),
            );
            return None;
        }
    };
    let name = written_name.or(last);
    let label = name.as_deref().unwrap_or(package).to_string();
    let sha256 = file_sha256(table, span, &label, package, problems)?;
    Some(File {
        name,
        location,
        sha256,
    })
}

/// The sha256 of a file's `hashes`: pip checks every file it installs against it, and no
/// other algorithm the PEP allows is one pip takes.
fn file_sha256(
    table: &DeTable<'_>,
    span: Range<usize>,
    label: &str,
    package: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let hint = "pyslim installs every file hash-checked by sha256; write the lock again with sha256 hashes";
    let Some(hashes) = get(table, "hashes") else {
        problems.push(
            Problem::at(
                Some(span),
                format!("records no hashes for `{label}` of `{package}`, so it cannot be checked"),
            )
            .with_hint(hint),
        );
        return None;
    };
    let Some(hashes_table) = hashes.get_ref().as_table() else {
        problems.push(not_a("`hashes`", "table", hashes.span()));
        return None;
    };
    let found = hashes_table
        .iter()
        .find(|(k, _)| k.get_ref().eq_ignore_ascii_case("sha256"));
    let Some((_, value)) = found else {
        let algorithms: Vec<&str> = hashes_table
            .iter()
            .map(|(k, _)| k.get_ref().as_ref())
            .collect();
        let message = if algorithms.is_empty() {
            format!("records no hashes for `{label}` of `{package}`, so it cannot be checked")
        } else {
            format!(
                "records only {} for `{label}` of `{package}`, no sha256, so pip cannot check it",
                algorithms.join(", ")
            )
        };
        problems.push(Problem::at(Some(hashes.span()), message).with_hint(hint));
        return None;
    };
    let digest = value
        .get_ref()
        .as_str()
        .and_then(|hex| sha256(&format!("sha256:{hex}")));
    if digest.is_none() {
        problems.push(
            Problem::at(
                Some(value.span()),
                format!("has a sha256 for `{label}` of `{package}` that is not 64 hex digits"),
            )
            .with_hint(relock()),
        );
    }
    digest
}

/// The last part of a URL or path, without query or fragment.
fn file_name(location: &str) -> Option<String> {
    let location = location.split(['#', '?']).next().unwrap_or(location);
    let last = location.rsplit(['/', '\\']).next()?;
    (!last.is_empty()).then(|| last.to_string())
}

/// A path the PEP records relative to the lock, as pyslim joins it to the lock's directory.
/// An absolute path is on the locking machine, which a build cannot see.
pub(in crate::lock) fn local_path(
    path: &str,
    package: &str,
    span: Range<usize>,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let path = path.replace('\\', "/");
    let windows_drive = path.as_bytes().get(1) == Some(&b':');
    if path.starts_with('/') || windows_drive || path.starts_with("file:") {
        problems.push(
            Problem::at(
                Some(span),
                format!("installs `{package}` from `{path}`, an absolute path on the machine that wrote the lock"),
            )
            .with_hint("keep the package inside the project and lock it by a path relative to the lock file"),
        );
        return None;
    }
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    Some(if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    })
}
