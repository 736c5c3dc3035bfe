//! The platform a build targets (`--platform`), as `os/arch[/variant]`.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The platform this binary was built for: BuildKit runs the frontend natively, so it is
    /// the worker's default platform when the client names none.
    pub fn host() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }

    /// Parses `linux/amd64`, `linux/arm64/v8`, or a bare `arm64` (Linux implied), the forms
    /// `docker buildx build --platform` accepts.
    pub fn parse(text: &str) -> Result<Platform, NotAPlatform> {
        let parts: Vec<&str> = text.trim().split('/').collect();
        let lower = |s: &str| s.to_ascii_lowercase();
        let (os, architecture, variant) = match parts.as_slice() {
            [arch] if !arch.is_empty() => ("linux".to_string(), lower(arch), None),
            [os, arch] if !os.is_empty() && !arch.is_empty() => (lower(os), lower(arch), None),
            [os, arch, variant] if [os, arch, variant].iter().all(|p| !p.is_empty()) => {
                (lower(os), lower(arch), Some(lower(variant)))
            }
            _ => return Err(NotAPlatform(text.to_string())),
        };
        let architecture = match architecture.as_str() {
            "x86_64" | "x86-64" => "amd64".to_string(),
            "aarch64" => "arm64".to_string(),
            _ => architecture,
        };
        // containerd's normal form, which platform ids are compared in: arm64's v8 is implied.
        let variant =
            variant.filter(|v| !(architecture == "arm64" && ["8", "v8"].contains(&v.as_str())));
        Ok(Platform {
            os,
            architecture,
            variant,
        })
    }
}

impl Platform {
    /// The OCI image-spec form (`refs.platforms`, an index's manifests).
    pub fn oci(&self) -> serde_json::Value {
        let mut value = serde_json::json!({"architecture": self.architecture, "os": self.os});
        if let Some(variant) = &self.variant {
            value["variant"] = variant.as_str().into();
        }
        value
    }
}

/// Text that names no platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotAPlatform(pub String);

impl fmt::Display for NotAPlatform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a platform; write it as os/arch[/variant], e.g. linux/amd64",
            self.0
        )
    }
}

impl std::error::Error for NotAPlatform {}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_buildx_accepts() {
        assert_eq!(
            Platform::parse("linux/amd64").map(|p| p.to_string()),
            Ok("linux/amd64".into())
        );
        assert_eq!(
            Platform::parse("arm64").map(|p| p.to_string()),
            Ok("linux/arm64".into())
        );
        assert_eq!(
            Platform::parse("Linux/aarch64/v8").map(|p| p.to_string()),
            Ok("linux/arm64".into())
        );
        assert_eq!(
            Platform::parse("linux/arm/v7").map(|p| p.to_string()),
            Ok("linux/arm/v7".into())
        );
        for bad in ["", "/", "linux/", "a/b/c/d", "linux//v7"] {
            assert!(Platform::parse(bad).is_err(), "{bad:?}");
        }
    }
}
