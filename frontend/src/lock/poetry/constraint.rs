//! Poetry's version constraints (`^3.8`, `~3.8`, `~=3.8`, `>=3.7,<4`, `3.8.*`, `!=3.8`, `||`),
//! read as poetry-core reads them. A dependency's `python = "..."` becomes the PEP 508 marker
//! poetry-core makes of it (`create_nested_marker`): a bound of two or fewer components is a
//! `python_version` bound, except `>3.8` and `<=3.8`, which `python_version` cannot say and so
//! become `python_full_version > "3.8.0"` and `python_full_version <= "3.8.0"`.

use std::cmp::Ordering;
use std::str::FromStr;

use pep508_rs::pep440_rs;

/// A version as a constraint writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Version {
    release: Vec<u64>,
    /// As written, without a leading `v`.
    text: String,
    /// No pre-, post-, dev- or local part.
    plain: bool,
}

impl Version {
    fn parse(text: &str) -> Result<Version, String> {
        let text = text.trim();
        let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
        let digits_end = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let numbers = text[..digits_end].trim_end_matches('.');
        let release: Vec<u64> = numbers
            .split('.')
            .map(|n| n.parse::<u64>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("`{text}` is not a version"))?;
        let suffix = &text[numbers.len()..];
        let suffix_ok = suffix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_+".contains(c));
        if !suffix_ok {
            return Err(format!("`{text}` is not a version"));
        }
        Ok(Version {
            plain: suffix.is_empty(),
            release,
            text: text.to_string(),
        })
    }

    fn precision(&self) -> usize {
        self.release.len()
    }

    /// Same precision, component `index` raised by one and those after it zeroed.
    fn bump(&self, index: usize) -> Version {
        let len = self.release.len().max(index + 1);
        let mut release: Vec<u64> = (0..len)
            .map(|i| self.release.get(i).copied().unwrap_or(0))
            .collect();
        release[index] += 1;
        for later in release.iter_mut().skip(index + 1) {
            *later = 0;
        }
        Version::of(release)
    }

    fn of(release: Vec<u64>) -> Version {
        let text = release
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(".");
        Version {
            release,
            text,
            plain: true,
        }
    }

    /// poetry-core's `next_breaking`: `^1.2.3` → 2.0.0, `^0.2.3` → 0.3.0, `^0.0.3` → 0.0.4.
    fn next_breaking(&self) -> Version {
        let major = self.release[0];
        let minor = self.release.get(1).copied();
        let patch = self.release.get(2).copied();
        if major > 0 || minor.is_none() {
            self.bump(0)
        } else if minor.unwrap_or(0) > 0 || patch.is_none() {
            self.bump(1)
        } else {
            self.bump(2)
        }
    }

    /// Padded with zeros to `major.minor.patch`.
    fn full(&self) -> String {
        if self.precision() >= 3 || !self.plain {
            return self.text.clone();
        }
        let mut release = self.release.clone();
        release.resize(3, 0);
        Version::of(release).text
    }

    /// The marker variable a bound on this version is written with.
    fn variable(&self) -> &'static str {
        if self.precision() >= 3 || !self.plain {
            "python_full_version"
        } else {
            "python_version"
        }
    }

    fn pep440(&self) -> Option<pep440_rs::Version> {
        pep440_rs::Version::from_str(&self.text).ok()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Bound {
    version: Version,
    inclusive: bool,
}

/// One constraint between commas, or a union of them (`!=3.8` is `<3.8 || >3.8`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Any,
    Exact(Version),
    Range {
        min: Option<Bound>,
        max: Option<Bound>,
    },
    Union(Vec<Part>),
}

fn at_least(version: Version) -> Option<Bound> {
    Some(Bound {
        version,
        inclusive: true,
    })
}

fn below(version: Version) -> Option<Bound> {
    Some(Bound {
        version,
        inclusive: false,
    })
}

/// A constraint: alternatives (`||`) of conjunctions (`,` or space).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint(Vec<Vec<Part>>);

impl FromStr for Constraint {
    type Err = String;

    fn from_str(text: &str) -> Result<Constraint, String> {
        let text = text.trim();
        if text == "*" || text.is_empty() {
            return Ok(Constraint(vec![vec![Part::Any]]));
        }
        let alternatives = text
            .split("||")
            .flat_map(|a| a.split('|'))
            .map(|alternative| {
                conjuncts(alternative.trim().trim_end_matches(',').trim_end())
                    .iter()
                    .map(|c| part(c))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Constraint(alternatives))
    }
}

/// What poetry-core's `and` split yields: pieces between commas or spaces, an operator kept
/// with the version after it (`>= 3.8, < 4` is `>= 3.8` and `< 4`).
fn conjuncts(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for piece in text.split(',') {
        let mut pending = String::new();
        for token in piece.split_whitespace() {
            pending.push_str(token);
            if !token.chars().all(|c| "^~=<>!".contains(c)) {
                out.push(std::mem::take(&mut pending));
            }
        }
        if !pending.is_empty() {
            out.push(pending);
        }
    }
    out
}

fn part(text: &str) -> Result<Part, String> {
    let text = text.trim();
    let any = text
        .strip_prefix(['v', 'V'])
        .unwrap_or(text)
        .split('.')
        .all(|c| matches!(c, "*" | "x" | "X"));
    if any {
        return Ok(Part::Any);
    }
    if let Some(rest) = text.strip_prefix("~=") {
        let version = Version::parse(rest)?;
        let high = if version.precision() == 2 {
            version.bump(0)
        } else {
            version.bump(1)
        };
        return Ok(range(version, high));
    }
    if let Some(rest) = text.strip_prefix('~') {
        let version = Version::parse(rest)?;
        let high = if version.precision() == 1 {
            version.bump(0)
        } else {
            version.bump(1)
        };
        return Ok(range(version, high));
    }
    if let Some(rest) = text.strip_prefix('^') {
        let version = Version::parse(rest)?;
        let high = version.next_breaking();
        return Ok(range(version, high));
    }
    let op_end = text
        .find(|c: char| !"<>=!".contains(c))
        .unwrap_or(text.len());
    let (op, rest) = text.split_at(op_end);
    let rest = rest.trim();
    if let Some(stem) = rest.strip_suffix(".*") {
        let stem = stem.trim_end_matches(".*");
        let low = Version::parse(stem)?;
        let high = low.bump(low.precision() - 1);
        let inside = range(low.clone(), high.clone());
        return match op {
            "" | "==" | "=" => Ok(inside),
            "!=" => Ok(Part::Union(vec![
                Part::Range {
                    min: None,
                    max: below(low),
                },
                Part::Range {
                    min: at_least(high),
                    max: None,
                },
            ])),
            _ => Err(format!("`{text}`: a wildcard goes with `==` or `!=`")),
        };
    }
    let version = Version::parse(rest)?;
    Ok(match op {
        "" | "==" | "=" => Part::Exact(version),
        "<" => Part::Range {
            min: None,
            max: below(version),
        },
        "<=" => Part::Range {
            min: None,
            max: at_least(version),
        },
        ">" => Part::Range {
            min: below(version),
            max: None,
        },
        ">=" => Part::Range {
            min: at_least(version),
            max: None,
        },
        "!=" => Part::Union(vec![
            Part::Range {
                min: None,
                max: below(version.clone()),
            },
            Part::Range {
                min: below(version),
                max: None,
            },
        ]),
        other => return Err(format!("`{other}` is not an operator poetry knows")),
    })
}

fn range(low: Version, high: Version) -> Part {
    Part::Range {
        min: at_least(low),
        max: below(high),
    }
}

impl Constraint {
    /// The PEP 508 marker of `python = "<this>"`; None when it allows any Python.
    pub fn python_marker(&self) -> Option<String> {
        let alternatives: Vec<Vec<String>> = self
            .0
            .iter()
            .map(|all| {
                all.iter()
                    .map(python_marker)
                    .filter(|m| !m.is_empty())
                    .collect()
            })
            .collect();
        if alternatives.iter().any(Vec::is_empty) {
            return None;
        }
        let joined: Vec<String> = alternatives.iter().map(|all| all.join(" and ")).collect();
        Some(if joined.len() == 1 {
            joined.into_iter().collect()
        } else {
            joined
                .iter()
                .map(|m| format!("({m})"))
                .collect::<Vec<_>>()
                .join(" or ")
        })
    }

    /// Whether `version` meets the constraint; None when either cannot be compared.
    pub fn allows(&self, version: &str) -> Option<bool> {
        let version = pep440_rs::Version::from_str(version).ok()?;
        let mut any = false;
        for all in &self.0 {
            let mut holds = true;
            for part in all {
                holds &= allows(part, &version)?;
            }
            any |= holds;
        }
        Some(any)
    }
}

fn python_marker(part: &Part) -> String {
    match part {
        Part::Any => String::new(),
        Part::Exact(v) => format!("{} == \"{}\"", v.variable(), v.text),
        Part::Range { min, max } => {
            let mut bounds = Vec::new();
            if let Some(Bound { version, inclusive }) = min {
                bounds.push(if *inclusive {
                    format!("{} >= \"{}\"", version.variable(), version.text)
                } else {
                    format!("python_full_version > \"{}\"", version.full())
                });
            }
            if let Some(Bound { version, inclusive }) = max {
                bounds.push(if *inclusive {
                    format!("python_full_version <= \"{}\"", version.full())
                } else {
                    format!("{} < \"{}\"", version.variable(), version.text)
                });
            }
            bounds.join(" and ")
        }
        Part::Union(parts) => {
            let parts: Vec<String> = parts.iter().map(python_marker).collect();
            if parts.iter().any(String::is_empty) {
                return String::new();
            }
            format!(
                "({})",
                parts
                    .iter()
                    .map(|p| format!("({p})"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )
        }
    }
}

fn allows(part: &Part, version: &pep440_rs::Version) -> Option<bool> {
    Some(match part {
        Part::Any => true,
        Part::Exact(v) => v.pep440()?.cmp(version) == Ordering::Equal,
        Part::Range { min, max } => {
            let above = match min {
                None => true,
                Some(Bound {
                    version: low,
                    inclusive,
                }) => match version.cmp(&low.pep440()?) {
                    Ordering::Greater => true,
                    Ordering::Equal => *inclusive,
                    Ordering::Less => false,
                },
            };
            let under = match max {
                None => true,
                Some(Bound {
                    version: high,
                    inclusive,
                }) => match version.cmp(&high.pep440()?) {
                    Ordering::Less => true,
                    Ordering::Equal => *inclusive,
                    Ordering::Greater => false,
                },
            };
            above && under
        }
        Part::Union(parts) => {
            let mut any = false;
            for p in parts {
                any |= allows(p, version)?;
            }
            any
        }
    })
}

/// The marker of poetry's `platform = "linux || darwin"`: `sys_platform` compared to each.
pub fn platform_marker(text: &str) -> Option<String> {
    let alternatives: Vec<String> = text
        .split("||")
        .flat_map(|a| a.split('|'))
        .map(|alternative| {
            alternative
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty() && *c != "*")
                .map(|c| match c.strip_prefix("!=") {
                    Some(other) => format!("sys_platform != \"{}\"", other.trim()),
                    None => format!("sys_platform == \"{}\"", c.trim_start_matches("==").trim()),
                })
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .collect();
    if alternatives.iter().any(String::is_empty) {
        return None;
    }
    Some(if alternatives.len() == 1 {
        alternatives.into_iter().collect()
    } else {
        alternatives
            .iter()
            .map(|m| format!("({m})"))
            .collect::<Vec<_>>()
            .join(" or ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::select::select;
    use crate::lock::{Dist, Edge, Environment, Lock, Package, Source, marker};
    use crate::platform::Platform;

    fn python(constraint: &str) -> Option<String> {
        constraint
            .parse::<Constraint>()
            .expect("a constraint")
            .python_marker()
    }

    /// Which of these Pythons the constraint's marker lets in, as the selection evaluates it.
    fn admits(constraint: &str, pythons: &[&str]) -> Vec<String> {
        let text = python(constraint).expect("a marker");
        let lock = Lock {
            main: vec![Edge {
                marker: marker(&text, None).expect("PEP 508"),
                ..Edge::to("x")
            }],
            packages: vec![Package {
                name: "x".into(),
                version: Some("1".into()),
                source: Source::Registry { url: None },
                files: vec![Dist {
                    name: None,
                    url: None,
                    sha256: "a".repeat(64),
                }],
                dependencies: Vec::new(),
                extras: Default::default(),
                span: None,
            }],
            ..Lock::default()
        };
        let platform = Platform::parse("linux/amd64").expect("platform");
        pythons
            .iter()
            .filter(|p| {
                let env = Environment::new(p, &platform).expect("env");
                !select(&lock, &env, &[], None)
                    .expect("selection")
                    .is_empty()
            })
            .map(|p| p.to_string())
            .collect()
    }

    const PYTHONS: [&str; 9] = [
        "3.7.9", "3.8.0", "3.8.5", "3.9.1", "3.10.0", "3.11.2", "3.11.9", "3.12.0", "4.0.0",
    ];

    #[test]
    fn python_constraints_become_the_markers_poetry_core_makes() {
        // Each as poetry-core 2.x's create_nested_marker writes it.
        assert_eq!(
            python("^3.8").as_deref(),
            Some(r#"python_version >= "3.8" and python_version < "4.0""#)
        );
        assert_eq!(
            python("~3.8").as_deref(),
            Some(r#"python_version >= "3.8" and python_version < "3.9""#)
        );
        assert_eq!(
            python(">=3.7,<4").as_deref(),
            Some(r#"python_version >= "3.7" and python_version < "4""#)
        );
        assert_eq!(
            python(">= 3.7, < 3.11").as_deref(),
            Some(r#"python_version >= "3.7" and python_version < "3.11""#)
        );
        assert_eq!(
            python(">3.8").as_deref(),
            Some(r#"python_full_version > "3.8.0""#)
        );
        assert_eq!(
            python("<=3.10").as_deref(),
            Some(r#"python_full_version <= "3.10.0""#)
        );
        assert_eq!(python("3.8").as_deref(), Some(r#"python_version == "3.8""#));
        assert_eq!(
            python(">=3.8.1,<4.0").as_deref(),
            Some(r#"python_full_version >= "3.8.1" and python_version < "4.0""#)
        );
        assert_eq!(
            python("<3.8 || >=3.10").as_deref(),
            Some(r#"(python_version < "3.8") or (python_version >= "3.10")"#)
        );
        assert_eq!(python("*"), None);
        assert_eq!(python(">=2.7 || *"), None);
        assert!("^three".parse::<Constraint>().is_err());
        assert!(">>3".parse::<Constraint>().is_err());
    }

    #[test]
    fn python_markers_admit_what_the_constraints_say() {
        assert_eq!(
            admits("^3.8", &PYTHONS),
            [
                "3.8.0", "3.8.5", "3.9.1", "3.10.0", "3.11.2", "3.11.9", "3.12.0"
            ]
        );
        assert_eq!(admits("~3.11", &PYTHONS), ["3.11.2", "3.11.9"]);
        assert_eq!(admits("~=3.8", &PYTHONS), admits("^3.8", &PYTHONS));
        assert_eq!(admits("~3.8.1", &PYTHONS), ["3.8.5"]);
        assert_eq!(
            admits(">=3.7,<3.10", &PYTHONS),
            ["3.7.9", "3.8.0", "3.8.5", "3.9.1"]
        );
        assert_eq!(
            admits("<3.8 || >=3.12", &PYTHONS),
            ["3.7.9", "3.12.0", "4.0.0"]
        );
        assert_eq!(admits("3.8.*", &PYTHONS), ["3.8.0", "3.8.5"]);
        assert_eq!(admits("==3.8", &PYTHONS), ["3.8.0", "3.8.5"]);
        assert_eq!(
            admits("!=3.8.*", &PYTHONS),
            [
                "3.7.9", "3.9.1", "3.10.0", "3.11.2", "3.11.9", "3.12.0", "4.0.0"
            ]
        );
        // `>3.8` lets in 3.8.5 (3.8.5 > 3.8), `<=3.11` keeps out 3.11.2 (3.11.2 > 3.11).
        assert_eq!(
            admits(">3.8,<=3.11", &PYTHONS),
            ["3.8.5", "3.9.1", "3.10.0"]
        );
        assert_eq!(admits("!=3.11.2", &["3.11.2", "3.11.9"]), ["3.11.9"]);
        assert_eq!(admits("^3.11.4", &PYTHONS), ["3.11.9", "3.12.0"]);
        assert_eq!(
            admits("^0.2.3", &["0.2.3", "0.2.9", "0.3.0"]),
            ["0.2.3", "0.2.9"]
        );
    }

    #[test]
    fn versions_are_checked_against_constraints() {
        let c: Constraint = ">=4.2.5,<5.13.0 || >5.13.0,<6".parse().expect("constraint");
        assert_eq!(c.allows("5.12.0"), Some(true));
        assert_eq!(c.allows("5.13.0"), Some(false));
        assert_eq!(c.allows("5.13.2"), Some(true));
        assert_eq!(c.allows("6.0"), Some(false));
        let caret: Constraint = "^1.2".parse().expect("constraint");
        assert_eq!(caret.allows("1.9.9"), Some(true));
        assert_eq!(caret.allows("2.0.0"), Some(false));
        let exact: Constraint = "1.2".parse().expect("constraint");
        assert_eq!(exact.allows("1.2.0"), Some(true));
        assert_eq!(exact.allows("not a version"), None);
    }

    #[test]
    fn platforms_become_sys_platform_markers() {
        assert_eq!(
            platform_marker("linux").as_deref(),
            Some(r#"sys_platform == "linux""#)
        );
        assert_eq!(
            platform_marker("linux || darwin").as_deref(),
            Some(r#"(sys_platform == "linux") or (sys_platform == "darwin")"#)
        );
        assert_eq!(
            platform_marker("!=win32").as_deref(),
            Some(r#"sys_platform != "win32""#)
        );
        assert_eq!(platform_marker("*"), None);
    }
}
