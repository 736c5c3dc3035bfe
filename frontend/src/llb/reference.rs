//! Docker's reference normalisation, so `python:3.11` names the same image the engine resolves.

/// `python:3.11` → `docker.io/library/python:3.11`; `org/app` → `docker.io/org/app:latest`;
/// references with a registry host (`ghcr.io/…`, `localhost:5000/…`) keep it.
pub fn normalize_image_ref(reference: &str) -> String {
    let (domain, path) = match reference.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => ("docker.io".to_string(), reference.to_string()),
    };
    let path = if domain == "docker.io" && !path.contains('/') {
        format!("library/{path}")
    } else {
        path
    };
    let name = path.split('@').next().unwrap_or_default();
    let tagged = name
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':'));
    let digested = path.contains('@');
    if tagged || digested {
        format!("{domain}/{path}")
    } else {
        format!("{domain}/{path}:latest")
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_image_ref as n;

    #[test]
    fn normalises_like_docker() {
        assert_eq!(n("python:3.11"), "docker.io/library/python:3.11");
        assert_eq!(n("python"), "docker.io/library/python:latest");
        assert_eq!(n("org/app"), "docker.io/org/app:latest");
        assert_eq!(
            n("docker.io/library/python:3.11-slim"),
            "docker.io/library/python:3.11-slim"
        );
        assert_eq!(n("ghcr.io/o/p:1"), "ghcr.io/o/p:1");
        assert_eq!(n("localhost:5000/p"), "localhost:5000/p:latest");
        assert_eq!(
            n("python@sha256:abcd"),
            "docker.io/library/python@sha256:abcd"
        );
    }
}
