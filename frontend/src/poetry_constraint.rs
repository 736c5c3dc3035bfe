//! Poetry's version constraints (`^1.2`, `~1.2.3`, `~=1.2`, `>=1.2,<2`, `1.2.*`, `!=1.2`, `*`,
//! `A || B`), read as poetry-core reads them, and its `platform` values. Poetry writes them in
//! a pyproject's `[tool.poetry.dependencies]` and in poetry.lock, and both readers must agree on
//! what a constraint allows, so the language is read here once and said in PEP 440 / PEP 508
//! three ways: as pip specifiers, as the marker poetry-core makes of a `python` constraint
//! (`create_nested_marker`), and as a check of one version.
//!
//! In a python marker a bound of two or fewer components is a `python_version` bound, except
//! `>3.8` and `<=3.8`, which `python_version` cannot say (3.8.5 is above 3.8, yet its
//! `python_version` is "3.8"), and which so become `python_full_version > "3.8.0"` and
//! `python_full_version <= "3.8.0"`.

use std::cmp::Ordering;
use std::str::FromStr;

use pep508_rs::pep440_rs;

/// A version as a constraint writes it.
#[derive(Clone, Debug)]
struct Version {
    value: pep440_rs::Version,
    /// As written, without a leading `v`: poetry-core writes markers with it.
    text: String,
}

impl PartialEq for Version {
    fn eq(&self, other: &Version) -> bool {
        self.value == other.value
    }
}

impl Version {
    fn parse(text: &str) -> Result<Version, String> {
        let text = text.trim();
        let value = pep440_rs::Version::from_str(text)
            .map_err(|_| format!("has `{text}`, which is not a version"))?;
        Ok(Version {
            value,
            text: text.strip_prefix(['v', 'V']).unwrap_or(text).to_string(),
        })
    }

    fn release(&self) -> &[u64] {
        self.value.release()
    }

    /// Only a release: nothing a `python_version` could not be compared with.
    fn plain(&self) -> bool {
        self.text.chars().all(|c| c.is_ascii_digit() || c == '.')
    }

    /// The first release after every version of this one's series at component `index`
    /// (0 major, 1 minor, 2 patch), as poetry writes it: as many components as written, those
    /// after `index` zero (`1.2.3` at 0 is `2.0.0`). A pre-release counts as its release.
    fn bump(&self, index: usize) -> Version {
        let mut release = self.release().to_vec();
        if release.len() <= index {
            release.resize(index + 1, 0);
        }
        release[index] += 1;
        for later in &mut release[index + 1..] {
            *later = 0;
        }
        Version::of(self.value.epoch(), release)
    }

    fn of(epoch: u64, release: Vec<u64>) -> Version {
        let value = pep440_rs::Version::new(release).with_epoch(epoch);
        Version {
            text: value.to_string(),
            value,
        }
    }

    /// poetry-core's `next_breaking`: `^1.2.3` → 2.0.0, `^0.2.3` → 0.3.0, `^0.0.3` → 0.0.4.
    fn next_breaking(&self) -> Version {
        let release = self.release();
        let (major, minor, patch) = (release[0], release.get(1), release.get(2));
        if major > 0 || minor.is_none() {
            self.bump(0)
        } else if minor.is_some_and(|&m| m > 0) || patch.is_none() {
            self.bump(1)
        } else {
            self.bump(2)
        }
    }

    /// Padded with zeros to `major.minor.patch`.
    fn full(&self) -> String {
        if self.release().len() >= 3 || !self.plain() {
            return self.text.clone();
        }
        let mut release = self.release().to_vec();
        release.resize(3, 0);
        Version::of(self.value.epoch(), release).text
    }

    /// The marker variable a bound on this version is written with.
    fn variable(&self) -> &'static str {
        if self.release().len() >= 3 || !self.plain() {
            "python_full_version"
        } else {
            "python_version"
        }
    }
}

/// One end of a range of versions.
#[derive(Clone, Debug, PartialEq)]
struct Bound {
    version: Version,
    inclusive: bool,
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

/// `(low, high)`; None is no bound.
type Interval = (Option<Bound>, Option<Bound>);

/// One comparison of a constraint.
#[derive(Clone, Debug, PartialEq)]
enum Part {
    Any,
    Exact(Version),
    Range {
        min: Option<Bound>,
        max: Option<Bound>,
    },
    /// `1.2.*`: pip has a specifier of its own for it.
    Series(Version),
    /// `!=1.2.3`, or with `series` `!=1.2.*`: all but those, which is no one range.
    Not {
        version: Version,
        series: bool,
    },
}

impl Part {
    /// The range it allows; None for an exclusion.
    fn interval(&self) -> Option<Interval> {
        Some(match self {
            Part::Any => (None, None),
            Part::Exact(v) => (at_least(v.clone()), at_least(v.clone())),
            Part::Range { min, max } => (min.clone(), max.clone()),
            Part::Series(v) => series(v),
            Part::Not { .. } => return None,
        })
    }

    fn specifiers(&self) -> Vec<String> {
        match self {
            Part::Any => Vec::new(),
            Part::Exact(v) => vec![format!("=={}", v.value)],
            Part::Range { min, max } => interval_specifiers(min, max),
            Part::Series(v) => vec![format!("=={}.*", v.value)],
            Part::Not { version, series } => {
                vec![format!(
                    "!={}{}",
                    version.value,
                    if *series { ".*" } else { "" }
                )]
            }
        }
    }

    fn python_marker(&self) -> String {
        match self {
            Part::Any => String::new(),
            Part::Exact(v) => format!("{} == \"{}\"", v.variable(), v.text),
            Part::Range { min, max } => interval_marker(min, max),
            Part::Series(v) => {
                let (min, max) = series(v);
                interval_marker(&min, &max)
            }
            Part::Not { version, series } => {
                let above = if *series {
                    at_least(version.bump(version.release().len() - 1))
                } else {
                    below(version.clone())
                };
                format!(
                    "(({}) or ({}))",
                    interval_marker(&None, &below(version.clone())),
                    interval_marker(&above, &None)
                )
            }
        }
    }

    fn allows(&self, version: &pep440_rs::Version) -> bool {
        match self {
            Part::Not {
                version: v,
                series: true,
            } => !within(&series(v), version),
            Part::Not { version: v, .. } => v.value != *version,
            _ => self.interval().is_some_and(|i| within(&i, version)),
        }
    }
}

/// The versions of `1.2.*`: at least 1.2, below 1.3.
fn series(version: &Version) -> Interval {
    let high = version.bump(version.release().len() - 1);
    (at_least(version.clone()), below(high))
}

fn within((low, high): &Interval, version: &pep440_rs::Version) -> bool {
    let above = low
        .as_ref()
        .is_none_or(|low| match version.cmp(&low.version.value) {
            Ordering::Greater => true,
            Ordering::Equal => low.inclusive,
            Ordering::Less => false,
        });
    let under = high
        .as_ref()
        .is_none_or(|high| match version.cmp(&high.version.value) {
            Ordering::Less => true,
            Ordering::Equal => high.inclusive,
            Ordering::Greater => false,
        });
    above && under
}

fn interval_specifiers(low: &Option<Bound>, high: &Option<Bound>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(low) = low {
        let op = if low.inclusive { ">=" } else { ">" };
        out.push(format!("{op}{}", low.version.value));
    }
    if let Some(high) = high {
        let op = if high.inclusive { "<=" } else { "<" };
        out.push(format!("{op}{}", high.version.value));
    }
    out
}

fn interval_marker(low: &Option<Bound>, high: &Option<Bound>) -> String {
    let mut bounds = Vec::new();
    if let Some(Bound { version, inclusive }) = low {
        bounds.push(if *inclusive {
            format!("{} >= \"{}\"", version.variable(), version.text)
        } else {
            format!("python_full_version > \"{}\"", version.full())
        });
    }
    if let Some(Bound { version, inclusive }) = high {
        bounds.push(if *inclusive {
            format!("python_full_version <= \"{}\"", version.full())
        } else {
            format!("{} < \"{}\"", version.variable(), version.text)
        });
    }
    bounds.join(" and ")
}

/// A constraint: alternatives (`||`) of conjunctions (`,` or space). An error completes "the
/// constraint …".
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint(Vec<Vec<Part>>);

impl FromStr for Constraint {
    type Err = String;

    fn from_str(text: &str) -> Result<Constraint, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is empty".into());
        }
        let alternatives = text
            .replace("||", "|")
            .split('|')
            .map(|alternative| {
                let alternative = alternative.trim().trim_end_matches(',').trim_end();
                comparisons(alternative)
                    .iter()
                    .map(|c| part(c))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Constraint(alternatives))
    }
}

/// The comparisons of one alternative, as poetry-core's `and` split yields them: split at
/// commas and spaces, an operator written apart from its version (`>= 1.2`) kept with it.
fn comparisons(alternative: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending = String::new();
    for word in alternative
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        pending.push_str(word);
        if !word.chars().all(|c| "<>=!~^".contains(c)) {
            out.push(std::mem::take(&mut pending));
        }
    }
    if !pending.is_empty() {
        out.push(pending);
    }
    out
}

/// The end of a range from the version its operator is written with.
type Bump = fn(&Version) -> Version;

fn part(comparison: &str) -> Result<Part, String> {
    let bare = comparison.strip_prefix(['v', 'V']).unwrap_or(comparison);
    if bare.split('.').all(|p| matches!(p, "*" | "x" | "X")) {
        return Ok(Part::Any);
    }
    // Each a range from the version written; `~=` before `~`, which it starts with.
    let ranges: [(&str, Bump); 3] = [
        // PEP 440's, which poetry-core extends to one part: `~=1` is below 1.1.
        ("~=", |v| v.bump(usize::from(v.release().len() != 2))),
        ("~", |v| v.bump(usize::from(v.release().len() != 1))),
        ("^", Version::next_breaking),
    ];
    for (op, high) in ranges {
        if let Some(rest) = comparison.strip_prefix(op) {
            let low = Version::parse(rest)?;
            let high = high(&low);
            return Ok(range(low, high));
        }
    }
    // poetry-core matches `<>` and ignores it, making `<>1.3` mean `==1.3`; it is read here as
    // the `!=` it was written for.
    let (op, rest) = ["<>", "!=", ">=", "<=", "==", ">", "<", "="]
        .into_iter()
        .find_map(|op| comparison.strip_prefix(op).map(|rest| (op, rest.trim())))
        .unwrap_or(("==", comparison));
    if let Some(prefix) = rest.strip_suffix(".*") {
        let prefix = prefix.trim_end_matches(".*");
        let bare = prefix.strip_prefix(['v', 'V']).unwrap_or(prefix);
        if bare.is_empty() || !bare.split('.').all(|p| p.parse::<u64>().is_ok()) {
            return Err(format!(
                "has a wildcard on `{prefix}`, which is not a release like `1.2`"
            ));
        }
        let version = Version::parse(prefix)?;
        return match op {
            "==" | "=" => Ok(Part::Series(version)),
            "!=" | "<>" => Ok(Part::Not {
                version,
                series: true,
            }),
            _ => Err(format!(
                "puts a wildcard after `{op}` (`{comparison}`); only `==` and `!=` take one"
            )),
        };
    }
    let version = Version::parse(rest)?;
    Ok(match op {
        "<>" | "!=" => Part::Not {
            version,
            series: false,
        },
        ">=" => Part::Range {
            min: at_least(version),
            max: None,
        },
        ">" => Part::Range {
            min: below(version),
            max: None,
        },
        "<=" => Part::Range {
            min: None,
            max: at_least(version),
        },
        "<" => Part::Range {
            min: None,
            max: below(version),
        },
        _ => Part::Exact(version),
    })
}

/// `>=low,<high`.
fn range(low: Version, high: Version) -> Part {
    Part::Range {
        min: at_least(low),
        max: below(high),
    }
}

impl Constraint {
    /// The PEP 440 specifiers of the versions allowed (`^1.2.3` as `>=1.2.3,<2.0.0`); empty for
    /// any version. An `||` is said only where its ranges meet: a requirement is one range, and
    /// picking one of several would install what poetry might not.
    pub fn specifiers(&self) -> Result<String, String> {
        if let [only] = self.0.as_slice() {
            return Ok(only
                .iter()
                .flat_map(Part::specifiers)
                .collect::<Vec<_>>()
                .join(","));
        }
        union(&self.0)
    }

    /// The PEP 508 marker of `python = "<this>"`; None when it allows any Python.
    pub fn python_marker(&self) -> Option<String> {
        let alternatives: Vec<Vec<String>> = self
            .0
            .iter()
            .map(|all| {
                all.iter()
                    .map(Part::python_marker)
                    .filter(|m| !m.is_empty())
                    .collect()
            })
            .collect();
        if alternatives.iter().any(Vec::is_empty) {
            return None;
        }
        let joined: Vec<String> = alternatives.iter().map(|all| all.join(" and ")).collect();
        Some(or(joined))
    }

    /// Whether `version` meets the constraint; None when it is not a version.
    pub fn allows(&self, version: &str) -> Option<bool> {
        let version = pep440_rs::Version::from_str(version).ok()?;
        Some(
            self.0
                .iter()
                .any(|all| all.iter().all(|part| part.allows(&version))),
        )
    }
}

/// One alternative as is, several each in parentheses.
fn or(mut alternatives: Vec<String>) -> String {
    if alternatives.len() == 1 {
        return alternatives.remove(0);
    }
    alternatives
        .iter()
        .map(|m| format!("({m})"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// `A || B`: the one range the alternatives make together, when they meet.
fn union(alternatives: &[Vec<Part>]) -> Result<String, String> {
    let mut ranges = Vec::new();
    for group in alternatives {
        if group.iter().all(|p| matches!(p, Part::Any)) {
            return Ok(String::new());
        }
        let Some(range) = intersection(group) else {
            return Err(
                "puts an exclusion (`!=`) inside `||`, which one pip requirement cannot say".into(),
            );
        };
        ranges.push(range);
    }
    ranges.sort_by(|a, b| compare_low(&a.0, &b.0));
    let mut merged = ranges[0].clone();
    for (low, high) in &ranges[1..] {
        let meets = match (&merged.1, low) {
            (None, _) | (_, None) => true,
            (Some(end), Some(start)) => match start.version.value.cmp(&end.version.value) {
                Ordering::Less => true,
                Ordering::Equal => end.inclusive || start.inclusive,
                Ordering::Greater => false,
            },
        };
        if !meets {
            return Err(
                "allows versions in separate ranges, which one pip requirement cannot say".into(),
            );
        }
        merged.1 = higher(&merged.1, high);
    }
    let (low, high) = merged;
    if let (Some(low), Some(high)) = (&low, &high)
        && low.version == high.version
        && low.inclusive
        && high.inclusive
    {
        return Ok(format!("=={}", low.version.value));
    }
    Ok(interval_specifiers(&low, &high).join(","))
}

/// The range every comparison of `group` allows, when each is a range.
fn intersection(group: &[Part]) -> Option<Interval> {
    let mut low: Option<Bound> = None;
    let mut high: Option<Bound> = None;
    for part in group {
        let (from, to) = part.interval()?;
        if let Some(from) = from
            && low.as_ref().is_none_or(|l| {
                from.version.value > l.version.value
                    || (from.version == l.version && !from.inclusive)
            })
        {
            low = Some(from);
        }
        if let Some(to) = to
            && high.as_ref().is_none_or(|h| {
                to.version.value < h.version.value || (to.version == h.version && !to.inclusive)
            })
        {
            high = Some(to);
        }
    }
    Some((low, high))
}

fn compare_low(a: &Option<Bound>, b: &Option<Bound>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => a
            .version
            .value
            .cmp(&b.version.value)
            .then(b.inclusive.cmp(&a.inclusive)),
    }
}

fn higher(a: &Option<Bound>, b: &Option<Bound>) -> Option<Bound> {
    let (a, b) = (a.as_ref()?, b.as_ref()?);
    Some(match a.version.value.cmp(&b.version.value) {
        Ordering::Less => b.clone(),
        Ordering::Greater => a.clone(),
        Ordering::Equal => Bound {
            version: a.version.clone(),
            inclusive: a.inclusive || b.inclusive,
        },
    })
}

/// The marker of poetry's `platform = "linux || darwin"`: `sys_platform` compared to each;
/// None for any platform.
pub fn platform_marker(text: &str) -> Option<String> {
    let alternatives: Vec<String> = text
        .replace("||", "|")
        .split('|')
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
    Some(or(alternatives))
}

#[cfg(test)]
mod tests;
