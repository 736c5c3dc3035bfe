//! Lock files, read by the frontend itself: `uv.lock`, `poetry.lock`, `pdm.lock`,
//! `Pipfile.lock` and PEP 751 `pylock.toml`, each by a file of its own, into one model — the
//! [`Lock`]: every package the lock pins, where its files come from and their sha256, and the
//! edges a target's install follows ([`select`]). No poetry, pdm or pipenv runs in the build;
//! the dependency step installs exactly the selected set, hash-checked, with no resolution.
//!
//! Two shapes of lock meet here. Graph locks (uv.lock, poetry 1.x) record each package's own
//! dependencies with their markers: what to install is found by walking from the project's
//! requirements. Flat locks (Pipfile.lock, pdm.lock, pylock.toml, poetry 2.x) record each
//! package's own condition: a root edge per package carries it, and the walk is one step deep.

pub mod pdm;
pub mod pipfile;
pub mod poetry;
mod project;
pub mod pylock;
pub mod render;
pub mod select;
#[cfg(test)]
mod testing;
pub mod uv;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use pep508_rs::MarkerTree;

pub use select::{Environment, Selected};

/// The lock formats pyslim reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Uv,
    Poetry,
    Pdm,
    Pipfile,
    /// PEP 751: `pylock.toml` or `pylock.NAME.toml`.
    Pylock,
}

impl Format {
    /// The format a file's name says it is in, if any.
    pub fn of_file_name(path: &str) -> Option<Format> {
        let name = path.rsplit('/').next().unwrap_or(path);
        match name {
            "uv.lock" => Some(Format::Uv),
            "poetry.lock" => Some(Format::Poetry),
            "pdm.lock" => Some(Format::Pdm),
            "Pipfile.lock" => Some(Format::Pipfile),
            "pylock.toml" => Some(Format::Pylock),
            _ if name.starts_with("pylock.") && name.ends_with(".toml") => Some(Format::Pylock),
            _ => None,
        }
    }

    /// What writes the lock again after its project changed.
    pub fn relock_command(self) -> &'static str {
        match self {
            Format::Uv => "uv lock",
            Format::Poetry => "poetry lock",
            Format::Pdm => "pdm lock",
            Format::Pipfile => "pipenv lock",
            Format::Pylock => {
                "uv export --format pylock.toml -o pylock.toml (or the tool that wrote it)"
            }
        }
    }

    /// The project file the lock was written from, beside it.
    pub fn project_file(self) -> &'static str {
        match self {
            Format::Pipfile => "Pipfile",
            _ => "pyproject.toml",
        }
    }

    /// The name the build log and messages use.
    pub fn label(self) -> &'static str {
        match self {
            Format::Uv => "uv.lock",
            Format::Poetry => "poetry.lock",
            Format::Pdm => "pdm.lock",
            Format::Pipfile => "Pipfile.lock",
            Format::Pylock => "pylock.toml",
        }
    }

    /// Every format, in the order a project directory is searched for one (a project has one
    /// lock; if it has two, the first found is honoured and the build says which).
    pub const ALL: [Format; 5] = [
        Format::Uv,
        Format::Poetry,
        Format::Pdm,
        Format::Pylock,
        Format::Pipfile,
    ];
}

/// A lock, parsed: what it pins and the edges an install follows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lock {
    pub format: Option<Format>,
    /// `requires-python` (or Pipfile's `python_version`), as written.
    pub requires_python: Option<String>,
    /// What a plain install starts from: the project's own dependencies.
    pub main: Vec<Edge>,
    /// Optional dependency groups of the project (`[project.optional-dependencies]`, poetry
    /// extras), by normalised name.
    pub extras: BTreeMap<String, Vec<Edge>>,
    /// Dependency groups (PEP 735, poetry groups, pdm dev-groups, Pipfile `develop` as `dev`),
    /// by normalised name.
    pub groups: BTreeMap<String, Vec<Edge>>,
    /// Groups installed when the spec names none (PEP 751 `default-groups`; uv's `dev`).
    pub default_groups: Vec<String>,
    /// The environments the lock is for (PEP 751 `environments`): a target none of them holds
    /// for is refused rather than given a set resolved for another. Empty: any environment.
    pub environments: Vec<MarkerTree>,
    pub packages: Vec<Package>,
}

/// One pinned package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// PEP 503-normalised.
    pub name: String,
    /// Absent only for a source without one (a local directory whose version is dynamic).
    pub version: Option<String>,
    pub source: Source,
    /// The files it may be installed from, each with its sha256 (registry and URL sources).
    pub files: Vec<Dist>,
    /// Its own dependencies (graph locks); empty in flat locks.
    pub dependencies: Vec<Edge>,
    /// Its optional dependencies, by extra (graph locks).
    pub extras: BTreeMap<String, Vec<Edge>>,
    /// Where the lock records it, to point at.
    pub span: Option<Range<usize>>,
}

/// Where a package's files come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// An index: the spec's `index:` (or PyPI) serves it; the lock's hashes say which files.
    Registry { url: Option<String> },
    /// A git repository at the commit the lock recorded.
    Git { url: String, commit: String },
    /// A directory or archive inside the project, as a path relative to the lock's directory.
    Path { path: String },
    /// An archive at a URL (its hash is in `files`).
    Url { url: String },
    /// The project the lock was written for (uv's editable or virtual root, a workspace
    /// member): built by pyslim as the app, never installed from the lock.
    Project { path: String },
}

/// A file a package may be installed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dist {
    /// The file name (`flask-3.0.0-py3-none-any.whl`), when the lock records one.
    pub name: Option<String>,
    pub url: Option<String>,
    /// Lower-case hex.
    pub sha256: String,
}

/// "Install this package, when this marker holds": an edge of the lock's graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// PEP 503-normalised.
    pub name: String,
    /// Which of the lock's packages of that name, where it has several (uv's forks).
    pub version: Option<String>,
    /// None: always.
    pub marker: Option<MarkerTree>,
    /// The target's extras this edge turns on.
    pub extras: Vec<String>,
}

impl Edge {
    pub fn to(name: &str) -> Edge {
        Edge {
            name: normalise(name),
            version: None,
            marker: None,
            extras: Vec::new(),
        }
    }
}

/// Why a lock cannot be honoured: a problem at a byte range of the lock (none: the whole file),
/// with what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub span: Option<Range<usize>>,
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    pub fn at(span: Option<Range<usize>>, message: impl Into<String>) -> Problem {
        Problem {
            span,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Problem {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a lock reader is given: the lock's text, and the project file it was written from
/// (pyproject.toml or Pipfile) when it is there, to check the lock is not stale.
pub struct Input<'a> {
    pub lock: &'a str,
    pub project: Option<&'a str>,
}

/// Reads a lock of a known format, for the project at `member` (relative to the lock's
/// directory: `.`, or a uv workspace's member).
pub fn parse(format: Format, input: &Input<'_>, member: &str) -> Result<Lock, Vec<Problem>> {
    let mut lock = match format {
        Format::Uv => uv::parse_member(input, member),
        Format::Poetry => poetry::parse(input),
        Format::Pdm => pdm::parse(input),
        Format::Pipfile => pipfile::parse(input),
        Format::Pylock => pylock::parse(input),
    }?;
    lock.format = Some(format);
    Ok(lock)
}

/// PEP 503: lower case, runs of `-`, `_` and `.` as one `-`.
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.trim().chars() {
        if "-_.".contains(c) {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// A marker as a lock writes it; an empty string is no marker.
pub fn marker(text: &str, span: Option<Range<usize>>) -> Result<Option<MarkerTree>, Problem> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    text.parse::<MarkerTree>().map(Some).map_err(|error| {
        Problem::at(span, format!("has a marker pyslim cannot read: {error}"))
            .with_hint("markers are PEP 508 environment markers, e.g. `sys_platform == 'linux'`")
    })
}

/// The hex digest of a `sha256:HEX` hash; other algorithms are not enough to verify a file.
pub fn sha256(hash: &str) -> Option<String> {
    let hex = hash.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

#[cfg(test)]
mod tests;
