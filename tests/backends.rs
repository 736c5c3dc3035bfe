//! The build backends people use, each on a tiny package of its own shape, built to a wheel by
//! the real frontend and run through its console script: hatchling, flit_core, pdm-backend,
//! poetry-core 2 and 1.x (uv_build has its example). No requirements file anywhere: each
//! package's dependency comes from its own metadata, poetry 1.x's from its own table. And
//! maturin, on examples/maturin: a Rust extension module, compiled by the Rust toolchain its
//! spec puts in the compile stage.

use std::fs;

use pyslim_e2e::*;

struct Backend {
    name: &'static str,
    pyproject: &'static str,
    files: &'static [(&'static str, &'static str)],
}

const MODULE: &str = "import six\n\n\ndef main():\n    print(f\"built by {__name__.split('_')[0]} with six {six.__version__}\")\n";

const BACKENDS: &[Backend] = &[
    Backend {
        name: "hatchling",
        pyproject: "[project]\nname = \"hatchling-app\"\nversion = \"0.1.0\"\ndependencies = [\"six==1.16.0\"]\n[project.scripts]\nhello = \"hatchling_app:main\"\n[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n",
        files: &[("src/hatchling_app/__init__.py", MODULE)],
    },
    Backend {
        name: "flit",
        pyproject: "[project]\nname = \"flit_app\"\nversion = \"0.1.0\"\ndescription = \"a flit package\"\ndependencies = [\"six==1.16.0\"]\n[project.scripts]\nhello = \"flit_app:main\"\n[build-system]\nrequires = [\"flit_core>=3.4,<4\"]\nbuild-backend = \"flit_core.buildapi\"\n",
        files: &[("flit_app/__init__.py", MODULE)],
    },
    Backend {
        name: "pdm",
        pyproject: "[project]\nname = \"pdm-app\"\nversion = \"0.1.0\"\ndependencies = [\"six==1.16.0\"]\n[project.scripts]\nhello = \"pdm_app:main\"\n[build-system]\nrequires = [\"pdm-backend\"]\nbuild-backend = \"pdm.backend\"\n",
        files: &[("src/pdm_app/__init__.py", MODULE)],
    },
    Backend {
        name: "poetry",
        // Poetry 2 reads PEP 621 [project] tables; the dependency is there for pyslim too.
        pyproject: "[project]\nname = \"poetry-app\"\nversion = \"0.1.0\"\ndependencies = [\"six==1.16.0\"]\n[project.scripts]\nhello = \"poetry_app:main\"\n[tool.poetry]\npackages = [{include = \"poetry_app\"}]\n[build-system]\nrequires = [\"poetry-core>=2.0\"]\nbuild-backend = \"poetry.core.masonry.api\"\n",
        files: &[("poetry_app/__init__.py", MODULE)],
    },
    Backend {
        name: "poetry1",
        // Poetry 1.x: no [project]; the dependency is a poetry constraint (`~1.16.0` is
        // >=1.16.0,<1.17.0) in [tool.poetry.dependencies], with `python`, which is none, and a
        // dev group that is not installed.
        pyproject: "[tool.poetry]\nname = \"poetry1-app\"\nversion = \"0.1.0\"\ndescription = \"a poetry 1.x package\"\nauthors = [\"pyslim <pyslim@example.com>\"]\npackages = [{include = \"poetry1_app\"}]\n[tool.poetry.dependencies]\npython = \"^3.8\"\nsix = \"~1.16.0\"\n[tool.poetry.group.dev.dependencies]\npyslim-no-such-package = \"^1\"\n[tool.poetry.scripts]\nhello = \"poetry1_app:main\"\n[build-system]\nrequires = [\"poetry-core>=1.0,<2\"]\nbuild-backend = \"poetry.core.masonry.api\"\n",
        files: &[("poetry1_app/__init__.py", MODULE)],
    },
];

#[test]
fn every_common_build_backend_builds_its_package_with_its_dependencies() {
    require_engine();
    let mut failures = Vec::new();
    for backend in BACKENDS {
        let dir = scratch(&format!("backend-{}", backend.name));
        let mut files = vec![
            (
                "pyslim.yaml",
                "# syntax=org/pyslim\npython: \"3.11\"\napp: .\nentrypoint: [hello]\n",
            ),
            ("pyproject.toml", backend.pyproject),
        ];
        files.extend(backend.files.iter().copied());
        write_files(&dir, &files);
        let tag = format!("pyslim-e2e/backend-{}", backend.name);
        let out = build_dir(&dir, &tag, &[]);
        if !out.status.success() {
            failures.push(format!(
                "{}: the build failed:\n{}",
                backend.name,
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let said = run(docker().args(["run", "--rm", &tag]));
        let expected = format!("built by {} with six 1.16.0", backend.name);
        if said.trim() != expected {
            failures.push(format!("{}: said {said:?}, not {expected:?}", backend.name));
        }
        let _ = fs::remove_dir_all(&dir);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Two shapes besides a PEP 621 package: a setuptools project whose dependencies are in
/// setup.cfg only (with a setup.py shim), and a poetry project that is not a package, which is
/// copied as source.
#[test]
fn setup_cfg_dependencies_and_a_poetry_app_that_is_not_a_package() {
    require_engine();
    let setup_cfg = scratch("shape-setup-cfg");
    write_files(
        &setup_cfg,
        &[
            (
                "pyslim.yaml",
                "# syntax=org/pyslim\npython: \"3.11\"\napp: .\nentrypoint: [hello]\n",
            ),
            ("setup.py", "from setuptools import setup\n\nsetup()\n"),
            (
                "setup.cfg",
                "[metadata]\nname = cfgapp\nversion = 0.1.0\n\n[options]\npy_modules = cfgapp\ninstall_requires =\n    six==1.16.0\n\n[options.entry_points]\nconsole_scripts =\n    hello = cfgapp:main\n",
            ),
            (
                "cfgapp.py",
                "import six\n\n\ndef main():\n    print(f\"setup.cfg app with six {six.__version__}\")\n",
            ),
        ],
    );
    let tag = "pyslim-e2e/shape-setup-cfg";
    let out = build_dir(&setup_cfg, tag, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = run(docker().args(["run", "--rm", tag]));
    assert_eq!(said.trim(), "setup.cfg app with six 1.16.0");

    let poetry = scratch("shape-poetry-source");
    write_files(
        &poetry,
        &[
            (
                "pyslim.yaml",
                "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\napp: .\nentrypoint: [python, main.py]\n",
            ),
            (
                "pyproject.toml",
                "[tool.poetry]\nname = \"tool\"\nversion = \"0.1.0\"\npackage-mode = false\n\n[build-system]\nrequires = [\"poetry-core\"]\nbuild-backend = \"poetry.core.masonry.api\"\n",
            ),
            ("requirements.txt", "six==1.16.0\n"),
            (
                "main.py",
                "import six\n\nprint(f\"poetry source app with six {six.__version__}\")\n",
            ),
        ],
    );
    let tag = "pyslim-e2e/shape-poetry-source";
    let out = build_dir(&poetry, tag, &[]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    // Not a package: no wheel is built for it, the directory is copied.
    assert!(!log.contains("build app wheel"), "{log}");
    assert!(log.contains("[slim] copy app . to /app"), "{log}");
    let said = run(docker().args(["run", "--rm", tag]));
    assert_eq!(said.trim(), "poetry source app with six 1.16.0");
    let _ = std::fs::remove_dir_all(&setup_cfg);
    let _ = std::fs::remove_dir_all(&poetry);
}

/// Whether BuildKit's plain progress says the step named `name` came from the cache.
fn cached(log: &str, name: &str) -> bool {
    let ids: Vec<&str> = log
        .lines()
        .filter_map(|line| line.split_once(' '))
        .filter(|(id, rest)| id.starts_with('#') && rest.trim_end() == name.trim_end())
        .map(|(id, _)| id)
        .collect();
    !ids.is_empty() && ids.iter().all(|id| log.contains(&format!("{id} CACHED")))
}

/// A setup.py that computes its dependencies, with no requirements file and no setup.cfg:
/// its build backend is asked for them, on the project's metadata files only, so a code edit
/// rebuilds the app's wheel and neither that step nor the dependency wheels.
#[test]
fn setup_py_dependencies_come_from_its_build_backend() {
    let dir = scratch("shape-setup-py-dynamic");
    let code = |message: &str| {
        format!(
            "import six\n\n\ndef main():\n    print(f\"{message} with six {{six.__version__}}\")\n"
        )
    };
    write_files(
        &dir,
        &[
            (
                "pyslim.yaml",
                "# syntax=org/pyslim\npython: \"3.11\"\napp: .\nentrypoint: [hello]\n",
            ),
            (
                "setup.py",
                "from setuptools import setup\n\nsetup(\n    name=\"dynapp\",\n    version=\"0.1.0\",\n    packages=[\"dynapp\"],\n    install_requires=[\"six==1.16.0\"],\n    entry_points={\"console_scripts\": [\"hello = dynapp:main\"]},\n)\n",
            ),
            ("dynapp/__init__.py", &code("setup.py app")),
        ],
    );
    let tag = "pyslim-e2e/shape-setup-py-dynamic";
    let out = build_dir(&dir, tag, &[]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("[compile] read app metadata: ."), "{log}");
    let said = run(docker().args(["run", "--rm", tag]));
    assert_eq!(said.trim(), "setup.py app with six 1.16.0");

    // An edit no earlier run made: the engine keeps its cache between runs, and a change it
    // has seen before would come from that cache, app wheel and all.
    let edit = format!(
        "edited app {}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    write_files(&dir, &[("dynapp/__init__.py", &code(&edit))]);
    let out = build_dir(&dir, tag, &[]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(cached(&log, "[compile] read app metadata: ."), "{log}");
    assert!(
        cached(
            &log,
            "[compile] build dependency wheels: the app's dependencies"
        ),
        "{log}"
    );
    assert!(!cached(&log, "[compile] build app wheel: ."), "{log}");
    let said = run(docker().args(["run", "--rm", tag]));
    assert_eq!(said.trim(), format!("{edit} with six 1.16.0"));
    let _ = fs::remove_dir_all(&dir);
}

/// examples/maturin: a pyo3 module built by maturin with Debian's Rust toolchain
/// (`system: [rustc-web, cargo-web]`), its crates from crates.io at the versions of its
/// Cargo.lock. The image imports the compiled module and runs its console script, and holds
/// nothing of Rust: no toolchain, no cargo registry, no target directory.
#[test]
fn maturin_builds_a_rust_extension_module_with_the_toolchain_of_system() {
    require_engine();
    let tag = "pyslim-e2e/maturin";
    let out = build_example("maturin", tag, &[]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("[compile] apt-get install rustc-web cargo-web"),
        "{log}"
    );
    assert!(
        log.contains("[compile] install app build backend: maturin>=1.5,<2"),
        "{log}"
    );
    // A wheel for this Python's ABI, not a stable-ABI or pure-Python one (read from the
    // installed distribution: the build log names the file only when the step is not cached).
    let wheel = sh(
        tag,
        "python -c 'import importlib.metadata as m; print(m.distribution(\"hello_rust\").read_text(\"WHEEL\"))'",
    );
    assert!(wheel.contains("Tag: cp311-cp311-linux_x86_64"), "{wheel}");
    let said = sh(
        tag,
        "python -c 'import hello_rust; print(hello_rust.add(2, 3)); print(hello_rust.greet(\"e2e\"))'",
    );
    assert_eq!(said, "5\nHello, e2e, from Rust!\n");
    let said = run(docker().args(["run", "--rm", tag]));
    assert_eq!(said.trim(), "Hello, pyslim, from Rust! 2 + 3 = 5");
    assert_clean(tag);
    for (i, files) in added_layers(tag, "python:3.11-slim").iter().enumerate() {
        for path in files {
            let p = format!("/{}", path.trim_start_matches("./"));
            let rust = p.contains("/.cargo/")
                || p.contains("/.rustup/")
                || p.contains("/rustlib/")
                || p.contains("/target/")
                || p.contains("rust-web")
                || p.contains("libstd-")
                || p.ends_with(".rlib")
                || p.ends_with(".rs")
                || ["/usr/bin/rustc", "/usr/bin/cargo"].contains(&p.as_str());
            assert!(!rust, "{tag}: layer {i} added by pyslim holds {p}");
        }
    }
    let found = sh(tag, "command -v rustc cargo || true");
    assert_eq!(found.trim(), "", "{tag} has Rust on PATH");
}
