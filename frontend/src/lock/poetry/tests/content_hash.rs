//! The lock against its pyproject.toml: `content-hash` as each poetry computes it.

use super::*;

#[test]
fn every_fixture_is_fresh_and_a_changed_dependency_makes_it_stale() {
    let cases = [
        ("poetry-1.1-webapp", "flask = \"^2.2\"", "flask = \"^2.3\""),
        (
            "poetry-1.8-webapp",
            "gunicorn = \"^23.0\"",
            "gunicorn = \"^22.0\"",
        ),
        // The lock's project is a [tool.poetry] table: poetry 1.x and 2.x hash it alike.
        ("poetry-1.8-webapp", "cache = [\"redis\"]", "cache = []"),
        ("poetry-2-cli", "click = \"^8.1\"", "click = \"^8.2\""),
        (
            "poetry-2-cli",
            "docutils = \"^0.21\"",
            "docutils = \"^0.22\"",
        ),
        (
            "poetry-2-webapp",
            "\"gunicorn (>=23.0)\"",
            "\"gunicorn (>=24.0)\"",
        ),
        // poetry 2.3 and later hash [dependency-groups].
        ("poetry-2-webapp", "\"pytest>=8.0\"", "\"pytest>=8.1\""),
    ];
    for (project, from, to) in cases {
        let lock = fixture(project, "poetry.lock");
        let pyproject = fixture(project, "pyproject.toml");
        assert!(read(&lock, Some(&pyproject)).is_ok(), "{project}");
        let changed = pyproject.replace(from, to);
        assert_ne!(changed, pyproject, "{project}");
        let problem = one(read(&lock, Some(&changed)));
        assert!(
            problem
                .message
                .starts_with("is out of date with pyproject.toml"),
            "{problem:?}"
        );
        assert_eq!(
            problem.hint.as_deref(),
            Some(
                "run `poetry lock` (poetry 2) or `poetry lock --no-update` (poetry 1) and commit the lock"
            )
        );
        let recorded = at(&lock, &problem);
        assert!(
            recorded.starts_with('"') && recorded.len() == 66,
            "{project}: {recorded}"
        );
        assert!(lock.contains(&format!("content-hash = {recorded}")));
    }
    // What is not hashed does not make it stale.
    let lock = fixture("poetry-1.8-webapp", "poetry.lock");
    let pyproject = fixture("poetry-1.8-webapp", "pyproject.toml")
        .replace("version = \"0.1.0\"", "version = \"0.2.0\"");
    assert!(read(&lock, Some(&pyproject)).is_ok());
}

#[test]
fn the_content_hashes_are_those_each_poetry_wrote() {
    let hashes = |project: &str| {
        let text = fixture(project, "pyproject.toml");
        let parsed = Project::parse(&text, RELOCK).expect("TOML");
        stale::content_hashes(&parsed.doc).expect("hashable")
    };
    let recorded = |project: &str| {
        let lock = fixture(project, "poetry.lock");
        lock.lines()
            .find_map(|l| l.strip_prefix("content-hash = "))
            .expect("a content-hash")
            .trim_matches('"')
            .to_string()
    };
    // A [tool.poetry] project: one hash for every poetry. poetry 1.1.15, 1.8.5 and 2.5.1 wrote
    // these; poetry 1.8.5 and 2.2.1, locking poetry-2-cli's pyproject.toml, wrote its hash too.
    for project in ["poetry-1.1-webapp", "poetry-1.8-webapp", "poetry-2-cli"] {
        assert_eq!(
            hashes(project),
            [recorded(project), recorded(project), recorded(project)]
        );
    }
    // A [project] with [dependency-groups]: poetry 2.5.1 wrote the first; poetry 2.2.1, locking
    // the same pyproject.toml, wrote the second.
    let pep621 = hashes("poetry-2-webapp");
    assert_eq!(pep621[0], recorded("poetry-2-webapp"));
    assert_eq!(
        pep621[1],
        "4c16bbf7a12823ea703c59eee7eb08176ee01a0cbc80e334d9d85fb2a0135b5d"
    );
}

#[test]
fn content_hashes_are_poetrys() {
    // Each checked against poetry's Locker._get_content_hash run on the same file by CPython.
    let hashes = |text: &str| {
        let project = Project::parse(text, RELOCK).expect("TOML");
        stale::content_hashes(&project.doc).expect("hashable")
    };
    let graph = include_str!("../testdata/graph.pyproject.toml");
    assert_eq!(
        hashes(graph),
        ["1bf2d3050a08840152435ddbd5f295e6a31687b19315641bcd26ed4894b67c45"; 3]
    );
    let pep621 = include_str!("../testdata/pep621.pyproject.toml");
    assert_eq!(
        hashes(pep621),
        [
            // poetry 2.3 and later, [dependency-groups] hashed
            "d4206da111276afb1a92b5e2173cb707cb81f8d91d112ea6d7bbedfe2005ebae",
            // poetry 2.0 to 2.2
            "bdf9270fc3b1a5b76dd13a0a68a14331b763e041e356f8564826631d38c85737",
            // poetry 1.x, [tool.poetry] alone
            "26046b8c1f92ce50d538ac28fce10a6774bdde932f87d0ab5b18771d37a450c0",
        ]
    );
    // A float is not hashed as Python's repr would write it: no verdict, rather than a wrong one.
    let project = Project::parse("[tool.poetry.dependencies]\nx = 1.5\n", RELOCK).expect("TOML");
    assert_eq!(stale::content_hashes(&project.doc), None);
}
