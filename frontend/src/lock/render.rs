//! The selected packages as requirements pip installs exactly, one file with every hash (pip
//! checks each file against them and refuses any other) and one for what has no hash to check
//! (a git commit, a directory of the project).

use super::{Package, Problem, Source};

/// The requirement lines of a selected set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pinned {
    /// `name==version --hash=sha256:…`: installed in pip's hash-checking mode.
    pub hashed: Vec<String>,
    /// `name @ git+…@commit`, `name @ file://…`: pip cannot hash these.
    pub unhashed: Vec<String>,
    /// Context paths the install reads (local sources), relative to the build context.
    pub context: Vec<String>,
}

/// Renders `packages`; `lock_dir` is the lock's directory in the build context (`.` at its
/// root), `context_root` where the step mounts the build context.
pub fn pinned(
    packages: &[&Package],
    lock_dir: &str,
    context_root: &str,
) -> Result<Pinned, Problem> {
    let mut out = Pinned::default();
    for package in packages {
        let name = &package.name;
        let hashes: String = package
            .files
            .iter()
            .map(|f| format!(" --hash=sha256:{}", f.sha256))
            .collect();
        match &package.source {
            Source::Registry { .. } => {
                let Some(version) = &package.version else {
                    return Err(Problem::at(
                        package.span.clone(),
                        format!("pins `{name}` from an index without a version"),
                    ));
                };
                if package.files.is_empty() {
                    return Err(Problem::at(
                        package.span.clone(),
                        format!("records no sha256 for any file of `{name}` {version}, so its files cannot be checked"),
                    )
                    .with_hint("write the lock again with hashes (uv, poetry and pdm record them by default; `pipenv lock` too)"));
                }
                out.hashed.push(format!("{name}=={version}{hashes}"));
            }
            Source::Url { url } => {
                if package.files.is_empty() {
                    out.unhashed.push(format!("{name} @ {url}"));
                } else {
                    out.hashed.push(format!("{name} @ {url}{hashes}"));
                }
            }
            Source::Git { url, commit } => {
                out.unhashed.push(format!("{name} @ git+{url}@{commit}"));
            }
            Source::Path { path } => {
                let in_context = join(lock_dir, path);
                out.unhashed
                    .push(format!("{name} @ file://{context_root}/{in_context}"));
                out.context.push(in_context);
            }
            Source::Project { .. } => {}
        }
    }
    Ok(out)
}

/// `path` (relative to `dir`) as a context path, `..` resolved.
fn join(dir: &str, path: &str) -> String {
    let mut parts: Vec<&str> = if dir == "." {
        Vec::new()
    } else {
        dir.split('/').collect()
    };
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}
