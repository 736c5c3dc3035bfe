//! Golden LLB of every example, and of every variant of the spec and the build options the
//! examples leave out: spec → plan → LLB, rendered one op per line with its digest. Any change
//! to a graph shows up as a diff of these snapshots.

mod support;

use std::fs;
use std::path::Path;

use pyslim_frontend::llb;

/// Each example built through the real frontend loop against the fake gateway: the graph it
/// solves and the image config it returns are the snapshot.
#[tokio::test]
async fn examples() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("examples/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("pyslim.yaml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 3);
    for name in names {
        let files = support::directory(&dir.join(&name));
        let context: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(path, data)| (path.as_str(), data.as_slice()))
            .collect();
        let spec = fs::read_to_string(dir.join(&name).join("pyslim.yaml")).expect("spec");
        let options = [("filename", "pyslim.yaml"), ("platform", "linux/amd64")];
        let (result, recorded) = support::build(&spec, &context, &options).await;
        if let Err(failure) = result {
            panic!("{name}: {failure:?}");
        }
        let definition = recorded.graph();
        for op in &definition.def {
            assert_go_order(op);
        }
        insta::with_settings!({snapshot_path => "golden", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(name.clone(), golden(&recorded));
        });
    }
}

/// The graph the frontend solved for the image, and the config it returned with it.
fn golden(recorded: &support::Recorded) -> String {
    let graph = llb::render(&recorded.build_graph());
    let returned = recorded.returned_metadata();
    if returned.contains_key("containerimage.config") {
        let config = serde_json::to_string_pretty(&recorded.config()).expect("json");
        return format!("{graph}\n{config}\n");
    }
    // Several platforms: each image's config under its key, then the list of platforms.
    let mut keys: Vec<&String> = returned
        .keys()
        .filter(|k| k.starts_with("containerimage.config/") || *k == "refs.platforms")
        .collect();
    keys.sort();
    let mut out = graph;
    for key in keys {
        let value: serde_json::Value = serde_json::from_slice(&returned[key]).expect("json");
        let value = serde_json::to_string_pretty(&value).expect("json");
        out.push_str(&format!("\n{key}\n{value}\n"));
    }
    out
}

/// A variant: a spec and a build context small enough to read, built with the options a
/// `docker buildx build` of it would pass.
struct Case {
    name: &'static str,
    spec: &'static str,
    /// Files of the build context besides (or replacing) [`CONTEXT`]'s.
    files: &'static [(&'static str, &'static str)],
    /// Options besides the spec's file name and the platform (which the case may replace).
    options: &'static [(&'static str, &'static str)],
    /// What the snapshot shows only because of this variant: a snapshot regenerated without
    /// looking cannot quietly lose the point of its case.
    shows: &'static [&'static str],
}

/// The spec every variant starts from: dependencies and an app, so every downloading step is
/// in the graph.
macro_rules! base {
    () => {
        "python: \"3.11\"\nrequirements: requirements.txt\napp: .\n"
    };
}

const CONTEXT: &[(&str, &str)] = &[
    ("requirements.txt", "flask==3.0.3\n"),
    // A build system with no `requires`: pip's legacy default, setuptools and wheel.
    (
        "pyproject.toml",
        "[project]\nname = \"app\"\nversion = \"1\"\n[build-system]\nbuild-backend = \"setuptools.build_meta\"\n",
    ),
    ("app/__init__.py", ""),
];

const CASES: &[Case] = &[
    Case {
        name: "variant_index_secret",
        spec: concat!(
            base!(),
            "index:\n  url: https://pypi.example.com/simple\n  extra: [https://download.example.com/simple]\n  secret: pypi-netrc\n"
        ),
        files: &[],
        options: &[],
        shows: &[
            r#""--index-url", "https://pypi.example.com/simple""#,
            r#""--extra-index-url", "https://download.example.com/simple""#,
            "mount[/run/secrets/pypi-netrc secret id=pypi-netrc]",
            "NETRC=/run/secrets/pypi-netrc",
        ],
    },
    Case {
        name: "variant_ssh_known_hosts",
        spec: concat!(
            base!(),
            "ssh:\n  id: default\n  known-hosts: [\"github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\"]\n"
        ),
        files: &[(
            "requirements.txt",
            "lib @ git+ssh://git@github.com/org/lib.git@v1\n",
        )],
        options: &[],
        shows: &[
            "ssh id=default",
            "SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0",
            "StrictHostKeyChecking=yes -o UserKnownHostsFile=/pyslim-ssh/known_hosts",
            "mkfile /known_hosts",
        ],
    },
    Case {
        name: "variant_ssh_default",
        spec: concat!(base!(), "ssh: default\n"),
        files: &[],
        options: &[],
        shows: &["ssh id=default", "StrictHostKeyChecking=accept-new"],
    },
    Case {
        name: "variant_offline_find_links",
        spec: concat!(base!(), "index: none\nfind-links: [wheels]\n"),
        files: &[("wheels/flask-3.0.3-py3-none-any.whl", "not really a wheel")],
        options: &[],
        shows: &[
            r#""--no-index", "--find-links", "/pyslim-context/wheels""#,
            "install dependencies with pip",
        ],
    },
    Case {
        name: "variant_network_host",
        spec: concat!(base!(), "network: host\n"),
        files: &[],
        options: &[],
        shows: &["network=1"],
    },
    Case {
        name: "variant_force_network_none",
        spec: base!(),
        files: &[],
        options: &[("force-network-mode", "none")],
        shows: &["network=2"],
    },
    Case {
        name: "variant_force_network_host",
        spec: base!(),
        files: &[],
        options: &[("force-network-mode", "host")],
        shows: &["network=1"],
    },
    Case {
        name: "variant_target_wheels",
        spec: base!(),
        files: &[],
        options: &[("target", "wheels")],
        shows: &["collect dependency wheels", "copy #"],
    },
    Case {
        name: "variant_wheels_context_image",
        spec: base!(),
        files: &[],
        options: &[("context:wheels", "docker-image://example.com/app-wheels:1")],
        shows: &[
            "source docker-image://example.com/app-wheels:1",
            r#""--find-links", "/pyslim-wheelhouse""#,
        ],
    },
    Case {
        name: "variant_wheels_context_local",
        spec: base!(),
        files: &[],
        options: &[("context:wheels", "local:wheels")],
        shows: &[
            "source local://wheels",
            r#""--find-links", "/pyslim-wheelhouse""#,
        ],
    },
    Case {
        name: "variant_no_cache",
        spec: base!(),
        files: &[],
        options: &[("no-cache", "")],
        shows: &["[slim] install app with uv", " no-cache"],
    },
    Case {
        name: "variant_no_cache_compile",
        spec: base!(),
        files: &[],
        options: &[("no-cache", "compile")],
        shows: &[" no-cache"],
    },
    Case {
        name: "variant_platform_arm64",
        spec: base!(),
        files: &[],
        options: &[("platform", "linux/arm64")],
        shows: &["platform=linux/arm64", r#""architecture": "arm64""#],
    },
    Case {
        name: "variant_platforms_amd64_arm64",
        spec: base!(),
        files: &[],
        options: &[("platform", "linux/amd64,linux/arm64")],
        shows: &[
            "platform=linux/arm64",
            "containerimage.config/linux/amd64",
            "containerimage.config/linux/arm64",
            r#""architecture": "arm64""#,
            r#""ID": "linux/arm64""#,
        ],
    },
    Case {
        name: "variant_installer_pip",
        spec: concat!(base!(), "installer: pip\n"),
        files: &[],
        options: &[],
        shows: &["install dependencies with pip", "install app with pip"],
    },
    Case {
        name: "variant_installer_uv_asked",
        spec: concat!(
            base!(),
            "installer: uv\nindex: {url: https://pypi.example.com/simple}\n"
        ),
        files: &[],
        options: &[],
        // From an index of the spec's, uv comes from pip there, with no fallback to pip.
        shows: &[
            r#"args=["python", "-m", "pip", "install", "--no-deps", "--target", "/pyslim-uv""#,
        ],
    },
    Case {
        name: "variant_installer_uv_from_pypi",
        spec: concat!(base!(), "installer: uv\n"),
        files: &[],
        options: &[],
        // From PyPI, the engine downloads uv's wheel (checked by its hash) and a step
        // without network unpacks it.
        shows: &[
            "source https://files.pythonhosted.org/",
            "http.checksum=sha256:d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19",
            r#"\n", "/pyslim-uv-wheel/uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "/pyslim-uv"] cwd=/ env=["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"] network=2"#,
        ],
    },
    Case {
        name: "variant_pyproject_extras",
        spec: "python: \"3.11\"\nrequirements: pyproject.toml\nextras: [postgres, CLI]\n",
        files: &[(
            "pyproject.toml",
            "[project]\nname = \"app\"\nversion = \"1\"\ndependencies = [\"flask==3.0.3\"]\n[project.optional-dependencies]\npostgres = [\"psycopg2-binary==2.9.9\"]\ncli = [\"click==8.1.7\"]\ndev = [\"pytest==8.3.3\"]\n",
        )],
        options: &[],
        shows: &["psycopg2-binary==2.9.9", "click==8.1.7"],
    },
    Case {
        name: "variant_requirements_references",
        spec: "python: \"3.11\"\nrequirements: [deps/requirements.txt, deps/extra.txt]\n",
        files: &[
            (
                "deps/requirements.txt",
                "-r base.txt\n-c ../constraints.txt\n./../vendor/lib-1.0.tar.gz\n-e ../libs/local\n--find-links ../wheels\nflask==3.0.3\n",
            ),
            ("deps/base.txt", "gunicorn==22.0.0\n"),
            ("deps/extra.txt", "-r base.txt\nclick==8.1.7\n"),
            ("constraints.txt", "werkzeug<4\n"),
            ("vendor/lib-1.0.tar.gz", "not really an archive"),
            ("libs/local/pyproject.toml", "[project]\nname = \"local\"\n"),
            (
                "wheels/six-1.16.0-py2.py3-none-any.whl",
                "not really a wheel",
            ),
        ],
        options: &[],
        shows: &[
            r#"local.includepattern=["deps/requirements.txt","deps/extra.txt","deps/base.txt","constraints.txt","vendor/lib-1.0.tar.gz","libs/local","wheels"]"#,
        ],
    },
    Case {
        name: "variant_proxy_build_args",
        spec: base!(),
        files: &[],
        options: &[
            ("build-arg:HTTP_PROXY", "http://proxy:3128"),
            ("build-arg:no_proxy", "localhost"),
        ],
        // The render names the capability, not the values: those are in the exec ops'
        // digests (and the fake-gateway tests check the fields).
        shows: &["exec.meta.proxyenv"],
    },
    Case {
        name: "variant_target_build_args",
        spec: "python: \"${PY}\"\nargs: {PY: \"3.11\", LIBPQ: libpq5}\nrequirements: requirements.txt\napp: .\ntargets:\n  test:\n    description: The image plus the test tools\n    requirements: requirements-dev.txt\n    runtime: [\"${LIBPQ}\"]\n    env: {MODE: test}\n    cmd: [pytest]\n",
        files: &[(
            "requirements-dev.txt",
            "-r requirements.txt\npytest==8.3.3\n",
        )],
        options: &[
            ("target", "test"),
            ("build-arg:PY", "3.12"),
            ("build-arg:LIBPQ", "libpq5=15.8-0+deb12u1"),
        ],
        shows: &[
            "docker-image://docker.io/library/python:3.12-slim",
            "build dependency wheels: requirements.txt requirements-dev.txt",
            "apt-get install libpq5=15.8-0+deb12u1",
            "MODE=test",
        ],
    },
    Case {
        name: "variant_dockerignore",
        spec: base!(),
        files: &[(".dockerignore", "# local clutter\n*.pyc\n\n.venv\n")],
        options: &[],
        shows: &[r#"local.excludepatterns=["*.pyc",".venv"]"#],
    },
    Case {
        name: "variant_user_root",
        spec: concat!(
            base!(),
            "user: root\nworkdir: /srv\nexpose: [8000, 53/udp]\n"
        ),
        files: &[],
        options: &[("label:team", "core")],
        shows: &["mkdir /srv", r#""team": "core""#, r#""53/udp": {}"#],
    },
    Case {
        name: "variant_source_dir",
        spec: "python: \"3.11\"\nrequirements: requirements.txt\napp: site\nentrypoint: [python, main.py]\n",
        files: &[
            ("site/main.py", "print('hi')\n"),
            ("site/data/words.txt", "a\n"),
        ],
        options: &[],
        shows: &[
            "\"[slim] copy app site to /app\" file on",
            "copy #",
            ":/site -> /app owner=0:0",
            r#""WorkingDir": "/app""#,
        ],
    },
    Case {
        name: "variant_source_date_epoch",
        // The spec's default epoch: the app's layers get it, the layers below keep 1970.
        spec: "python: \"3.11\"\nrequirements: requirements.txt\napp: {path: ., as: source}\nworkdir: /srv\nbuild-commands: [[python, -m, compileall, .]]\nargs: {SOURCE_DATE_EPOCH: \"1700000000\"}\n",
        files: &[],
        options: &[],
        shows: &[
            "/ -> /srv owner=0:0 time=1700000000",
            r#"args=["python3", "-B", "/pyslim-tools/clamp_times.py", "1700000000", "python", "-m", "compileall", "."]"#,
            r#"args=["python3", "-B", "/pyslim-tools/clamp_times.py", "0", "python", "/pyslim-tools/install_wheels.py""#,
            r#""created": "2023-11-14T22:13:20Z""#,
        ],
    },
    Case {
        name: "variant_source_forced",
        spec: "python: \"3.11\"\nrequirements: requirements.txt\napp: {path: ., as: source}\nworkdir: /srv\n",
        files: &[],
        options: &[],
        shows: &["copy app . to /srv", ":/ -> /srv owner=0:0"],
    },
    Case {
        name: "variant_source_poetry_not_a_package",
        spec: base!(),
        files: &[(
            "pyproject.toml",
            "[tool.poetry]\npackage-mode = false\n[build-system]\nrequires = [\"poetry-core\"]\nbuild-backend = \"poetry.core.masonry.api\"\n",
        )],
        options: &[],
        shows: &["copy app . to /app"],
    },
    Case {
        name: "variant_app_setup_cfg_dependencies",
        spec: "python: \"3.11\"\napp: svc\n",
        files: &[
            ("svc/setup.py", "from setuptools import setup\nsetup()\n"),
            (
                "svc/setup.cfg",
                "[metadata]\nname = svc\n[options]\ninstall_requires =\n    six==1.16.0\n",
            ),
        ],
        options: &[],
        shows: &[
            "mkfile /app-dependencies.txt mode=644 data=\"six==1.16.0\\n\"",
            "build app wheel: svc",
            "install app with uv",
        ],
    },
    Case {
        name: "variant_app_dynamic_dependencies",
        spec: "python: \"3.11\"\napp: svc\n",
        files: &[
            (
                "svc/setup.py",
                "from setuptools import setup\nsetup(name=\"svc\", install_requires=[\"six==1.16.0\"])\n",
            ),
            ("svc/svc.py", "import six\n"),
        ],
        options: &[],
        shows: &[
            "read app metadata: svc",
            r#""/pyslim-tools/backend.py", "metadata", "/pyslim-context/svc", "/pyslim-app-metadata"]"#,
            r#"local.includepattern=["svc/pyproject.toml","svc/setup.py","svc/setup.cfg"]"#,
            "mount[/pyslim-app-metadata <- #10.1 ro]",
            "--requirement\", \"/pyslim-app-metadata/requirements.txt",
            "build app wheel: svc",
        ],
    },
    Case {
        name: "variant_app_poetry_dependencies",
        // Poetry 1.x: the dependencies only in [tool.poetry.dependencies]; the dev group stays out.
        spec: "python: \"3.11\"\napp: .\n",
        files: &[(
            "pyproject.toml",
            "[tool.poetry]\nname = \"svc\"\nversion = \"1.0.0\"\n[tool.poetry.dependencies]\npython = \"^3.11\"\nflask = \"^3.0.3\"\nrequests = { version = \"~2.32\", extras = [\"socks\"] }\ntomli = { version = \">=2.0,<3\", python = \"<3.11\" }\npendulum = { version = \"^3.0\", optional = true }\n[tool.poetry.group.dev.dependencies]\npytest = \"^8.3\"\n[build-system]\nrequires = [\"poetry-core>=1.0\"]\nbuild-backend = \"poetry.core.masonry.api\"\n",
        )],
        options: &[],
        shows: &[
            r#"mkfile /app-dependencies.txt mode=644 data="flask>=3.0.3,<4.0.0\nrequests[socks]>=2.32,<2.33\ntomli>=2.0,<3 ; python_version < \"3.11\"\n""#,
            "build dependency wheels: the app's dependencies",
            "install app with uv",
        ],
    },
    Case {
        name: "variant_source_poetry_path_dependency",
        // A source app's path dependency is a directory the dependency step sees.
        spec: base!(),
        files: &[
            (
                "pyproject.toml",
                "[tool.poetry]\npackage-mode = false\n[tool.poetry.dependencies]\npython = \"^3.11\"\ncommon = { path = \"libs/common\", develop = true }\n",
            ),
            (
                "libs/common/pyproject.toml",
                "[project]\nname = \"common\"\n",
            ),
        ],
        options: &[],
        shows: &[
            r#"local.includepattern=["requirements.txt","libs/common"]"#,
            "common @ file:///pyslim-context/libs/common",
            "copy app . to /app",
        ],
    },
    Case {
        name: "variant_build_commands",
        spec: concat!(
            base!(),
            "env: {DJANGO_SETTINGS_MODULE: site.settings}\nworkdir: /srv\nwritable: [/srv/static]\nbuild-commands:\n  - [python, manage.py, collectstatic, --noinput]\n  - {run: [python, -m, nltk.downloader, punkt], network: true, user: root}\n"
        ),
        files: &[],
        options: &[],
        shows: &[
            r#""[slim] run python manage.py collectstatic --noinput" exec args=["python", "manage.py", "collectstatic", "--noinput"] cwd=/srv"#,
            "DJANGO_SETTINGS_MODULE=site.settings",
            "user=10001:10001",
            "network=2",
            r#""created_by": "pyslim: run python -m nltk.downloader punkt""#,
        ],
    },
    Case {
        name: "variant_app_setuptools_dependency_files",
        spec: "python: \"3.11\"\napp: svc\n",
        files: &[
            (
                "svc/pyproject.toml",
                "[project]\nname = \"svc\"\nversion = \"1\"\ndynamic = [\"dependencies\"]\n[tool.setuptools.dynamic]\ndependencies = {file = [\"requirements.in\"]}\n[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n",
            ),
            ("svc/requirements.in", "six==1.16.0\n"),
        ],
        options: &[],
        shows: &[
            r#""--requirement", "/pyslim-context/svc/requirements.in""#,
            "build dependency wheels: the app's dependencies",
        ],
    },
    Case {
        name: "variant_python_from_the_project",
        // No `python:`: the project's .python-version (a patch release) picks the series.
        spec: "requirements: requirements.txt\napp: .\n",
        files: &[(".python-version", "3.13.1\n")],
        options: &[],
        shows: &[
            "source docker-image://docker.io/library/python:3.13-slim ",
            "source docker-image://docker.io/library/python:3.13 ",
            r#""org.opencontainers.image.base.name": "docker.io/library/python:3.13-slim""#,
        ],
    },
    Case {
        name: "variant_flavor_minimal",
        // The slim stage is built but gathered onto nothing: three parts, three layers.
        spec: concat!(
            base!(),
            "runtime: [libpq5]\nworkdir: /app\nflavor: minimal\n"
        ),
        files: &[],
        options: &[],
        shows: &[
            r#""[minimal] gather the minimal interpreter""#,
            r#""--user", "app", "--package", "libpq5""#,
            r#""[minimal] copy the minimal app""#,
            "pyslim: minimal packages",
        ],
    },
    Case {
        name: "variant_flavor_minimal_debug",
        spec: concat!(base!(), "flavor: minimal-debug\n"),
        files: &[],
        options: &[],
        shows: &[
            "apt-get install busybox-static",
            r#"args=["/bin/busybox", "--install", "-s", "/bin"]"#,
        ],
    },
    Case {
        name: "variant_smoke_test",
        // Skipped modules and a test command reach the smoke test; it runs with no network.
        spec: concat!(
            base!(),
            "smoke-test: {skip: [redis_om]}\ntest: [python, -m, app, --self-check]\n"
        ),
        files: &[],
        options: &[],
        shows: &[
            r#""--skip", "redis_om""#,
            r#""--", "python", "-m", "app", "--self-check"]"#,
            r#""[slim] smoke test: import the app""#,
        ],
    },
    Case {
        name: "variant_sbom",
        // `--sbom=true`: a step on the finished image writes the SPDX document.
        spec: base!(),
        files: &[],
        options: &[("attest:sbom", "")],
        shows: &[
            r#""[slim] write the SBOM" exec args=["python", "/pyslim-tools/sbom.py", "--out", "/pyslim-report/sbom.spdx.json", "--name", "image", "--wheels", "/wheels", "--app", "/pyslim-app"]"#,
        ],
    },
    Case {
        name: "variant_smoke_test_off",
        spec: concat!(base!(), "smoke-test: false\n"),
        files: &[],
        options: &[],
        shows: &[r#""[slim] find the shared libraries the dependencies need""#],
    },
    Case {
        name: "variant_runtime_only",
        // A helper image: apt packages and nothing from an index (no uv, no compile stage).
        spec: "python: \"3.11\"\nruntime: [redis-server]\nentrypoint: [redis-server, --version]\n",
        files: &[],
        options: &[],
        shows: &["apt-get install redis-server", r#""--version""#],
    },
    Case {
        name: "variant_user_numeric",
        spec: concat!(base!(), "user: \"20001:20002\"\nworkdir: /srv/app\n"),
        files: &[],
        options: &[],
        shows: &[
            r#""create-user", "20002", "app", "useradd", "--uid", "20001", "--gid", "20002""#,
            // A workdir the base may have already is handed over, as `writable:` ones are.
            r#""[slim] create workdir /srv/app" exec args=["python3", "-B", "/pyslim-tools/clamp_times.py", "0", "install", "-d", "-m", "0755", "-o", "20001", "-g", "20002", "--", "/srv/app"]"#,
            r#""User": "20001:20002""#,
        ],
    },
    Case {
        name: "variant_user_mapping",
        spec: concat!(
            base!(),
            "user: {name: web, uid: 12345, gid: 0}\nworkdir: /app\n"
        ),
        files: &[],
        options: &[],
        // Group 0 exists: useradd alone, no shell.
        shows: &[
            r#""create-user", "web", "useradd", "--uid", "12345", "--gid", "0""#,
            r#""-o", "12345", "-g", "0", "--", "/app"]"#,
            r#""User": "12345:0""#,
        ],
    },
    Case {
        name: "variant_writable_volume",
        spec: concat!(
            base!(),
            "workdir: /app\nwritable: [/app/media, {path: /data, volume: true}]\n"
        ),
        files: &[],
        options: &[],
        shows: &[
            r#""0", "install", "-d", "-m", "0755", "-o", "10001", "-g", "10001", "--", "/app/media", "/data"]"#,
            r#""/data": {}"#,
            "pyslim: create writable directories /app/media /data",
        ],
    },
];

/// Each variant built like the examples, so a refactor can show that no graph changed.
#[tokio::test]
async fn variants() {
    let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CASES.len(), "two cases share a snapshot");
    // A renamed or removed case must not leave its snapshot behind, passing for ever.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut snapshots: Vec<String> = fs::read_dir(&dir)
        .expect("tests/golden/")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            file.strip_suffix(".snap")
                .filter(|name| name.starts_with("variant_"))
                .map(String::from)
        })
        .collect();
    snapshots.sort();
    let stale: Vec<&String> = snapshots
        .iter()
        .filter(|s| !names.contains(&s.as_str()))
        .collect();
    assert!(stale.is_empty(), "snapshots without a case: {stale:?}");

    // Every case is checked before failing, so a change shows all the variants it touches.
    let mut changed = Vec::new();
    for case in CASES {
        let mut context: Vec<(&str, &[u8])> = CONTEXT
            .iter()
            .filter(|(path, _)| !case.files.iter().any(|(p, _)| p == path))
            .chain(case.files)
            .map(|(path, text)| (*path, text.as_bytes()))
            .collect();
        context.sort();
        let mut options = vec![("filename", "pyslim.yaml"), ("platform", "linux/amd64")];
        options.extend(case.options);
        let (result, recorded) = support::build(case.spec, &context, &options).await;
        if let Err(failure) = result {
            panic!("{}: {failure:?}", case.name);
        }
        for op in &recorded.graph().def {
            assert_go_order(op);
        }
        let golden = golden(&recorded);
        for shown in case.shows {
            assert!(
                golden.contains(shown),
                "{}: the snapshot does not show {shown}:\n{golden}",
                case.name
            );
        }
        let matched = std::panic::catch_unwind(|| {
            insta::with_settings!({snapshot_path => "golden", prepend_module_to_snapshot => false}, {
                insta::assert_snapshot!(case.name, &golden);
            });
        });
        if matched.is_err() {
            changed.push(case.name);
        }
    }
    assert!(changed.is_empty(), "changed: {changed:?}");
}

/// BuildKit re-encodes every op with Go's deterministic marshalling and digests that: the
/// fields in tag order, but the `op` oneof (tags 2–7) last. Our bytes must be exactly those.
fn assert_go_order(bytes: &[u8]) {
    use prost::Message;
    let op = llb::pb::Op::decode(bytes).expect("an op decodes");
    assert_eq!(llb::encode_op(&op), bytes, "re-encoding changes the op");
    let tags = top_level_tags(bytes);
    let (oneof, rest): (Vec<u64>, Vec<u64>) = tags.iter().partition(|t| (2..=7).contains(*t));
    assert!(rest.is_sorted(), "fields out of order: {tags:?}");
    assert!(oneof.len() <= 1, "more than one op kind: {tags:?}");
    if let Some(kind) = oneof.first() {
        assert_eq!(
            tags.last(),
            Some(kind),
            "the op oneof must come last: {tags:?}"
        );
    }
}

fn top_level_tags(mut bytes: &[u8]) -> Vec<u64> {
    fn varint(bytes: &mut &[u8]) -> u64 {
        let mut value = 0;
        for shift in (0..64).step_by(7) {
            let (byte, rest) = bytes.split_first().expect("truncated varint");
            *bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
        }
        value
    }
    let mut tags = Vec::new();
    while !bytes.is_empty() {
        let key = varint(&mut bytes);
        tags.push(key >> 3);
        match key & 7 {
            0 => {
                varint(&mut bytes);
            }
            2 => {
                let len = usize::try_from(varint(&mut bytes)).expect("length");
                bytes = &bytes[len..];
            }
            1 => bytes = &bytes[8..],
            5 => bytes = &bytes[4..],
            wire => panic!("unexpected wire type {wire}"),
        }
    }
    tags
}

#[test]
fn go_order_check_catches_prost_order() {
    use prost::Message;
    // The same op in prost's tag order puts the exec (tag 2) before the platform (tag 10).
    let op = llb::pb::Op {
        inputs: vec![],
        platform: Some(llb::pb::Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            ..Default::default()
        }),
        constraints: None,
        op: Some(llb::pb::op::Op::Source(llb::pb::SourceOp {
            identifier: "local://context".into(),
            attrs: Default::default(),
        })),
    };
    let prost_order = op.encode_to_vec();
    assert_ne!(prost_order, llb::encode_op(&op));
    assert_eq!(top_level_tags(&prost_order), [3, 10]);
    assert_eq!(top_level_tags(&llb::encode_op(&op)), [10, 3]);
}
