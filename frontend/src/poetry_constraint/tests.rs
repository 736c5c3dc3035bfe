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
    for (poetry, marker) in [
        (
            "^3.8",
            Some(r#"python_version >= "3.8" and python_version < "4.0""#),
        ),
        (
            "~3.8",
            Some(r#"python_version >= "3.8" and python_version < "3.9""#),
        ),
        (
            ">=3.7,<4",
            Some(r#"python_version >= "3.7" and python_version < "4""#),
        ),
        (
            ">= 3.7, < 3.11",
            Some(r#"python_version >= "3.7" and python_version < "3.11""#),
        ),
        (">3.8", Some(r#"python_full_version > "3.8.0""#)),
        ("<=3.10", Some(r#"python_full_version <= "3.10.0""#)),
        ("3.8", Some(r#"python_version == "3.8""#)),
        (
            ">=3.8.1,<4.0",
            Some(r#"python_full_version >= "3.8.1" and python_version < "4.0""#),
        ),
        (
            "<3.8 || >=3.10",
            Some(r#"(python_version < "3.8") or (python_version >= "3.10")"#),
        ),
        (
            "~2.7 || ^3.6",
            Some(
                r#"(python_version >= "2.7" and python_version < "2.8") or (python_version >= "3.6" and python_version < "4.0")"#,
            ),
        ),
        // poetry-core reads `3.9.*` as the range [3.9, 3.10) and writes its bounds.
        (
            "3.9.*",
            Some(r#"python_version >= "3.9" and python_version < "3.10""#),
        ),
        // poetry-core leaves out the outer parentheses, which an `and` beside it needs.
        (
            "!=3.8",
            Some(r#"((python_version < "3.8") or (python_full_version > "3.8.0"))"#),
        ),
        ("*", None),
        (">=2.7 || *", None),
    ] {
        assert_eq!(python(poetry).as_deref(), marker, "{poetry}");
    }
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

fn specifiers(constraint: &str) -> Result<String, String> {
    constraint.parse::<Constraint>()?.specifiers()
}

#[test]
fn constraints_become_the_specifiers_of_the_same_versions() {
    for (poetry, pip) in [
        ("^1.2.3", ">=1.2.3,<2.0.0"),
        ("^1.2", ">=1.2,<2.0"),
        ("^1", ">=1,<2"),
        ("^0.2.3", ">=0.2.3,<0.3.0"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^0.0", ">=0.0,<0.1"),
        ("^0", ">=0,<1"),
        ("^2.0.0b1", ">=2.0.0b1,<3.0.0"),
        ("^ 1.2", ">=1.2,<2.0"),
        ("~1.2.3", ">=1.2.3,<1.3.0"),
        ("~1.2", ">=1.2,<1.3"),
        ("~1", ">=1,<2"),
        ("~=1.2", ">=1.2,<2.0"),
        ("~=1.2.3", ">=1.2.3,<1.3.0"),
        // Not PEP 440's, but poetry-core's: one part, and the next minor is the end.
        ("~=1", ">=1,<1.1"),
        ("1.2.*", "==1.2.*"),
        ("==1.*", "==1.*"),
        ("!=1.2.*", "!=1.2.*"),
        ("*", ""),
        ("x", ""),
        ("1.2.3", "==1.2.3"),
        ("=1.2.3", "==1.2.3"),
        ("v1.2.3", "==1.2.3"),
        (">=1,<2", ">=1,<2"),
        (">= 1.2, < 2.0", ">=1.2,<2.0"),
        (">=1.2 <2.0", ">=1.2,<2.0"),
        (">=1.2,<2.0,", ">=1.2,<2.0"),
        ("^1.2, !=1.2.5", ">=1.2,<2.0,!=1.2.5"),
        ("<>1.3", "!=1.3"),
        (">1.0", ">1.0"),
        ("<=2", "<=2"),
        // `||` when the ranges meet: one range says it.
        ("^1.0 || ^2.0", ">=1.0,<3.0"),
        ("^1.0 | ^2.0", ">=1.0,<3.0"),
        (">=1,<2 || >=1.5,<3", ">=1,<3"),
        ("<1 || >=1", ""),
        ("1.2.3 || >1.2.3,<2", ">=1.2.3,<2"),
        ("^2.0 || ^1.0", ">=1.0,<3.0"),
        ("* || ^1", ""),
    ] {
        assert_eq!(specifiers(poetry).as_deref(), Ok(pip), "{poetry}");
    }
}

#[test]
fn what_pip_cannot_say_is_refused() {
    for (poetry, why) in [
        ("^1.0 || ^3.0", "separate ranges"),
        ("1.2.3 || 1.2.5", "separate ranges"),
        ("<1 || >1", "separate ranges"),
        ("^1 || !=2.1", "exclusion"),
        ("^abc", "`abc`, which is not a version"),
        (">=1.2.*", "wildcard after `>=`"),
        ("1.x.*", "not a release"),
        ("", "is empty"),
    ] {
        let error = specifiers(poetry).expect_err(poetry);
        assert!(error.contains(why), "{poetry}: {error}");
    }
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
