//! Builds that run at once share an engine, its caches and the frontend image: each must still
//! get exactly its own packages.

use std::thread;

use pyslim_e2e::*;

const PACKAGES: [(&str, &str); 8] = [
    ("six", "1.16.0"),
    ("idna", "3.10"),
    ("attrs", "24.2.0"),
    ("iniconfig", "2.0.0"),
    ("packaging", "24.1"),
    ("pluggy", "1.5.0"),
    ("toml", "0.10.2"),
    ("wcwidth", "0.2.13"),
];

#[test]
fn eight_concurrent_builds_each_get_exactly_their_own_packages() {
    require_engine();
    let builds: Vec<_> = PACKAGES
        .iter()
        .enumerate()
        .map(|(n, (name, version))| {
            let dir = scratch(&format!("concurrent-{n}"));
            write_files(
                &dir,
                &[
                    (
                        "pyslim.yaml",
                        &format!(
                            "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\nenv:\n  BUILD: \"{n}\"\n"
                        ),
                    ),
                    ("requirements.txt", &format!("{name}=={version}\n")),
                ],
            );
            let tag = format!("pyslim-e2e/concurrent-{n}");
            thread::spawn(move || {
                let out = build_dir(&dir, &tag, &[]);
                (tag, out)
            })
        })
        .collect();
    let built: Vec<_> = builds
        .into_iter()
        .map(|b| b.join().expect("a build thread"))
        .collect();
    for (n, (tag, out)) in built.iter().enumerate() {
        assert!(
            out.status.success(),
            "{tag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listing = run(docker().args([
            "run",
            "--rm",
            "--entrypoint",
            "python",
            tag,
            "-c",
            "import importlib.metadata as m, os\nprint(os.environ['BUILD'])\nfor d in m.distributions(): print(d.metadata['Name'].lower(), d.version)",
        ]));
        let mut lines = listing.lines();
        assert_eq!(
            lines.next(),
            Some(n.to_string().as_str()),
            "{tag}: its own env"
        );
        let installed: Vec<&str> = lines.collect();
        for (m, (name, version)) in PACKAGES.iter().enumerate() {
            let has = installed.iter().any(|l| *l == format!("{name} {version}"));
            assert_eq!(has, m == n, "{tag}: {name} {version} in {installed:?}");
        }
    }
}
