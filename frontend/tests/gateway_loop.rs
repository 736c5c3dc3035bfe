//! The real frontend loop against a fake LLBBridge: what it asks BuildKit for, the graph it
//! solves, the image it returns, and the errors it returns instead.

mod support;

use bollard_buildkit_proto::moby::buildkit::v1::frontend as api;
use prost::Message;
use pyslim_frontend::llb::{self, pb};
use sha2::{Digest, Sha256};

const SPEC: &str = "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\napp: .\nruntime: [libpq5]\nentrypoint: [gunicorn, app:app]\nenv: {GREETING: hi}\nworkdir: /app\n";

fn context() -> Vec<(&'static str, &'static [u8])> {
    vec![
        (
            "requirements.txt",
            b"-r base.txt\nflask==3.0.3\n".as_slice(),
        ),
        ("base.txt", b"gunicorn==22.0.0\n".as_slice()),
        (
            "pyproject.toml",
            b"[project]\nname='app'\nversion='1'\n[build-system]\nbuild-backend='setuptools.build_meta'\n"
                .as_slice(),
        ),
        ("app/__init__.py", b"".as_slice()),
    ]
}

fn ops(definition: &pb::Definition) -> Vec<(String, pb::Op)> {
    definition
        .def
        .iter()
        .map(|bytes| {
            let digest = format!("sha256:{:x}", Sha256::digest(bytes));
            (
                digest,
                pb::Op::decode(bytes.as_slice()).expect("op decodes"),
            )
        })
        .collect()
}

/// The digests of the step that downloads a foreign target's wheels on the build platform
/// (amd64, where the tests run) and of the image it runs on: the rest of the graph is the
/// target's. Asserts they are the build platform's.
fn native_ops(definition: &pb::Definition) -> Vec<String> {
    let all = ops(definition);
    let Some((digest, op)) = all.iter().find(|(digest, _)| {
        definition
            .metadata
            .get(digest)
            .and_then(|m| m.description.get("llb.customname"))
            .is_some_and(|n| n.contains("download binary wheels on linux/amd64"))
    }) else {
        return Vec::new();
    };
    let mut native = vec![digest.clone()];
    for input in &op.inputs {
        let (source, op) = all
            .iter()
            .find(|(d, _)| *d == input.digest)
            .expect("an input of the graph");
        if matches!(&op.op, Some(pb::op::Op::Source(s)) if s.identifier.starts_with("docker-image://"))
        {
            native.push(source.clone());
        }
    }
    for digest in &native {
        let (_, op) = all.iter().find(|(d, _)| d == digest).expect("in the graph");
        let platform = op.platform.as_ref().map(|p| p.architecture.as_str());
        assert_eq!(
            platform,
            Some("amd64"),
            "{digest} runs on the build platform"
        );
    }
    native
}

fn named<'a>(
    definition: &'a pb::Definition,
    ops: &'a [(String, pb::Op)],
    name: &str,
) -> &'a pb::Op {
    ops.iter()
        .find(|(digest, _)| {
            definition
                .metadata
                .get(digest)
                .and_then(|m| m.description.get("llb.customname"))
                .map(String::as_str)
                == Some(name)
        })
        .map(|(_, op)| op)
        .unwrap_or_else(|| panic!("no op named {name}"))
}

/// Every solve only looked at files (the spec, views of the context): nothing was built.
fn only_read_files(recorded: &support::Recorded) -> bool {
    recorded.solves.iter().all(|definition| {
        ops(definition).iter().all(|(_, op)| match &op.op {
            Some(pb::op::Op::Source(source)) => source.identifier.starts_with("local://"),
            None => true,
            Some(_) => false,
        })
    })
}

fn exec(op: &pb::Op) -> &pb::ExecOp {
    match &op.op {
        Some(pb::op::Op::Exec(exec)) => exec,
        other => panic!("not an exec: {other:?}"),
    }
}

#[tokio::test]
async fn builds_and_returns_the_image() {
    let (result, recorded) = support::build(
        SPEC,
        &context(),
        &[("filename", "pyslim.yaml"), ("label:team", "core")],
    )
    .await;
    result.expect("the build succeeds");

    // The definition is well formed: inputs before use, metadata keyed by the op digests,
    // a bare terminal op last, and every op in the encoding the solver digests.
    let definition = recorded.graph();
    let ops = ops(definition);
    for (i, (digest, op)) in ops.iter().enumerate() {
        for input in &op.inputs {
            let at = ops
                .iter()
                .position(|(d, _)| *d == input.digest)
                .expect("input is defined");
            assert!(at < i, "input of op {i} comes later");
        }
        assert_eq!(llb::encode_op(op), definition.def[i], "op {i} re-encodes");
        if i + 1 < ops.len() {
            assert!(
                definition.metadata.contains_key(digest),
                "op {i} has metadata"
            );
        }
    }
    let (_, terminal) = ops.last().expect("ops");
    assert!(terminal.op.is_none() && terminal.inputs.len() == 1);
    assert_eq!(
        definition
            .metadata
            .keys()
            .filter(|k| !ops.iter().any(|(d, _)| d == *k))
            .count(),
        0,
        "metadata only for ops of the definition"
    );

    // The dependency step sees the requirements file and what it includes, nothing else.
    let wheels = named(
        definition,
        &ops,
        "[compile] build dependency wheels: requirements.txt",
    );
    let context_input = &exec(wheels)
        .mounts
        .iter()
        .find(|m| m.dest == "/pyslim-context")
        .expect("context mount");
    let context_op = ops
        .iter()
        .find(|(d, _)| *d == wheels.inputs[context_input.input as usize].digest)
        .map(|(_, op)| op)
        .expect("context op");
    let Some(pb::op::Op::Source(source)) = &context_op.op else {
        panic!("context is a source")
    };
    assert_eq!(
        source.attrs["local.includepattern"],
        r#"["requirements.txt","base.txt"]"#
    );
    assert!(context_input.readonly);

    // The compile step writes the wheels into an empty directory that is an output of its own;
    // the slim stage sees just that output through a read-only bind, with no output of its own.
    let produced = exec(wheels)
        .mounts
        .iter()
        .find(|m| m.dest == "/wheels")
        .expect("wheels output");
    assert!(produced.input == -1 && produced.output >= 1 && !produced.readonly);
    let install_op = named(definition, &ops, "[slim] install dependencies with uv");
    let install = exec(install_op);
    let mount = install
        .mounts
        .iter()
        .find(|m| m.dest == "/wheels")
        .expect("wheels mount");
    assert!(mount.readonly && mount.selector.is_empty() && mount.output == -1);
    let input = &install_op.inputs[mount.input as usize];
    let wheels_digest = ops
        .iter()
        .find(|(_, op)| op == wheels)
        .map(|(d, _)| d.clone())
        .expect("the wheels op");
    assert_eq!(
        (&input.digest, input.index),
        (&wheels_digest, produced.output)
    );
    assert!(
        install
            .meta
            .as_ref()
            .expect("meta")
            .env
            .contains(&"LANG=C.UTF-8".to_string())
    );

    // The spec travels with the definition, so failing steps can point at its lines.
    let source = definition.source.as_ref().expect("source info");
    assert_eq!(source.infos[0].filename, "pyslim.yaml");
    assert!(!source.locations.is_empty());

    // Both bases were resolved for the platform; the config is the runtime base's plus ours.
    assert_eq!(recorded.resolved.len(), 2);
    let config = recorded.config();
    assert_eq!(config["os"], "linux");
    assert!(config.get("rootfs").is_none(), "the exporter writes rootfs");
    assert_eq!(config["config"]["User"], "10001:10001");
    assert_eq!(config["config"]["WorkingDir"], "/app");
    assert_eq!(config["config"]["Entrypoint"][0], "gunicorn");
    assert_eq!(config["config"]["Cmd"], serde_json::Value::Null);
    assert_eq!(config["config"]["Labels"]["team"], "core");
    let env = config["config"]["Env"].as_array().expect("env");
    assert!(env.iter().any(|e| e == "GREETING=hi"), "{env:?}");
    let history = config["history"].as_array().expect("history");
    // base + apt + user + workdir + dependencies + app
    assert_eq!(history.len(), 6, "{history:?}");
}

#[tokio::test]
async fn spec_errors_are_returned_with_their_lines() {
    let spec = "# syntax=org/pyslim\npyhton: \"3.11\"\nrequirements: requirements.txt\n";
    let (result, recorded) = support::build(spec, &context(), &[("filename", "pyslim.yaml")]).await;
    assert!(result.is_err());
    let error = recorded.error();
    assert_eq!(error.code, 2);
    assert!(
        error
            .message
            .contains("pyslim.yaml:2:1: error: `pyhton` is not a top-level key"),
        "{}",
        error.message
    );
    assert!(error.message.contains("did you mean `python`?"));
    let detail = &error.details[0];
    assert_eq!(
        detail.type_url,
        "github.com/moby/buildkit/errdefs.Source+json"
    );
    let json: serde_json::Value = serde_json::from_slice(&detail.value).expect("json");
    assert_eq!(json["info"]["filename"], "pyslim.yaml");
    assert_eq!(json["ranges"][0]["start"]["line"], 2);
    // Without a `python:` the project is asked, in the same round.
    assert!(
        error
            .message
            .contains("pyslim.yaml:2:1: error: the spec does not say which python to use"),
        "{}",
        error.message
    );
    // Only files were read: nothing was built and nothing was resolved.
    assert!(only_read_files(&recorded));
    assert!(recorded.resolved.is_empty());
}

/// The file and language of each source BuildKit is asked to show with the error.
fn error_sources(recorded: &support::Recorded) -> Vec<(String, String, u64)> {
    recorded
        .error()
        .details
        .iter()
        .filter(|d| d.type_url == "github.com/moby/buildkit/errdefs.Source+json")
        .map(|d| {
            let json: serde_json::Value = serde_json::from_slice(&d.value).expect("json");
            (
                json["info"]["filename"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                json["info"]["language"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                json["ranges"][0]["start"]["line"]
                    .as_u64()
                    .unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn problems_in_a_requirements_file_point_at_its_lines() {
    let context = vec![
        (
            "requirements.txt",
            b"-r more/missing.txt
flask==3.0.3
-c ../outside.txt
"
            .as_slice(),
        ),
        ("pyproject.toml", b"[project]\nname='app'\n".as_slice()),
    ];
    let spec = SPEC.replace(
        "requirements: requirements.txt",
        "requirements: [requirements.txt, gone.txt]",
    );
    let (result, recorded) = support::build(&spec, &context, &[("filename", "pyslim.yaml")]).await;
    assert!(result.is_err());
    let message = &recorded.error().message;
    // What the spec names and is not there: at the spec's entry.
    assert!(
        message.contains(
            "pyslim.yaml:3:34: error: the requirements file `gone.txt` is not in the build context"
        ),
        "{message}"
    );
    // What a requirements file names: at that file's line and column, carets under the path.
    assert!(message.contains("requirements.txt:1:4: error: `more/missing.txt` is not in the build context\n  |\n1 | -r more/missing.txt\n  |    ^^^^^^^^^^^^^^^^"), "{message}");
    assert!(
        message
            .contains("requirements.txt:3:4: error: `../outside.txt` is outside the build context"),
        "{message}"
    );
    assert!(
        message.ends_with("3 problems in pyslim.yaml and requirements.txt"),
        "{message}"
    );
    assert_eq!(
        error_sources(&recorded),
        [
            ("pyslim.yaml".to_string(), "yaml".to_string(), 3),
            ("requirements.txt".into(), "requirements".into(), 1),
        ]
    );
}

#[tokio::test]
async fn problems_in_a_pyproject_point_at_its_lines() {
    let spec = "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: pyproject.toml\napp: .\n";
    let pyproject = b"[project]\nname = 'app'\ndependencies = ['flask', 3]\n[build-system]\nrequires = 'setuptools'\n";
    let context = vec![("pyproject.toml", pyproject.as_slice())];
    let (result, recorded) = support::build(spec, &context, &[("filename", "pyslim.yaml")]).await;
    assert!(result.is_err());
    let message = &recorded.error().message;
    assert!(message.contains("pyproject.toml:3:26: error: `pyproject.toml` has a [project] dependencies entry that is not a string"), "{message}");
    assert!(message.contains("pyproject.toml:5:12: error: `pyproject.toml` has [build-system] requires that is not a list of strings"), "{message}");
    assert_eq!(
        error_sources(&recorded),
        [("pyproject.toml".to_string(), "toml".to_string(), 3)]
    );
    // What the file lacks altogether has no line of its own: the spec's entry stands for it.
    let context = vec![("pyproject.toml", b"[tool.x]\n".as_slice())];
    let spec = "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: pyproject.toml\n";
    let (_, recorded) = support::build(spec, &context, &[("filename", "pyslim.yaml")]).await;
    let message = &recorded.error().message;
    assert!(
        message.contains("pyslim.yaml:3:15: error: `pyproject.toml` has no [project] table"),
        "{message}"
    );
}

#[tokio::test]
async fn poetry_dependencies_are_read_and_their_problems_located() {
    let build = |pyproject: &'static str, app: &'static str| async move {
        let spec = format!("# syntax=org/pyslim\npython: \"3.11\"\napp: {app}\n");
        let context = vec![
            ("pyproject.toml", pyproject.as_bytes()),
            (
                "libs/common/pyproject.toml",
                b"[project]\nname = 'common'\n".as_slice(),
            ),
        ];
        let (result, recorded) =
            support::build(&spec, &context, &[("filename", "pyslim.yaml")]).await;
        (result.is_ok(), recorded)
    };
    let poetry = "[tool.poetry]\nname = 'svc'\nversion = '1'\n[build-system]\nrequires = ['poetry-core']\nbuild-backend = 'poetry.core.masonry.api'\n[tool.poetry.dependencies]\npython = '^3.11'\n";
    // An `||` of ranges that do not meet: no one requirement says it.
    let either: &'static str = format!("{poetry}six = '^1.16 || ^3.0'\n").leak();
    let (ok, recorded) = build(either, ".").await;
    assert!(!ok);
    let message = &recorded.error().message;
    assert!(message.contains("pyproject.toml:9:7: error: `pyproject.toml` has a version constraint `^1.16 || ^3.0` for `six` that allows versions in separate ranges, which one pip requirement cannot say"), "{message}");
    assert!(
        message.contains("hint: a pip requirement allows one range of versions"),
        "{message}"
    );
    // A package cannot take a path dependency along; source can.
    let path: &'static str = format!("{poetry}common = {{ path = 'libs/common' }}\n").leak();
    let (ok, recorded) = build(path, ".").await;
    assert!(!ok);
    let message = &recorded.error().message;
    assert!(
        message.contains(
            "pyproject.toml:9:19: error: `pyproject.toml` has a path dependency on `libs/common`"
        ),
        "{message}"
    );
    assert!(message.contains("as: source"), "{message}");
    let (ok, recorded) = build(path, "{path: ., as: source}").await;
    assert!(ok, "{:?}", recorded.returned);
    // A path that is not there: at its value, like a requirements file's.
    let missing: &'static str = format!("{poetry}common = {{ path = 'libs/gone' }}\n").leak();
    let (ok, recorded) = build(missing, "{path: ., as: source}").await;
    assert!(!ok);
    let message = &recorded.error().message;
    assert!(
        message.contains("pyproject.toml:9:19: error: `libs/gone` is not in the build context"),
        "{message}"
    );
    assert!(
        message.contains("relative to its pyproject.toml's directory"),
        "{message}"
    );
    // Beside a hash-pinned requirements file (`poetry export`), the app's own list is left
    // out: pip would refuse its unhashed lines.
    let names = |recorded: &support::Recorded| -> Vec<String> {
        recorded
            .graph()
            .metadata
            .values()
            .filter_map(|m| m.description.get("llb.customname").cloned())
            .collect()
    };
    let six: &'static str = format!("{poetry}six = '~1.16.0'\n").leak();
    let (ok, recorded) = build(six, ".").await;
    assert!(ok, "{:?}", recorded.returned);
    assert!(names(&recorded).contains(&"write app-dependencies.txt".to_string()));
    let spec = "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\napp: .\n";
    let context = vec![
        ("pyproject.toml", six.as_bytes()),
        (
            "requirements.txt",
            b"six==1.16.0 \\\n    --hash=sha256:1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926\n"
                .as_slice(),
        ),
    ];
    let (result, recorded) = support::build(spec, &context, &[("filename", "pyslim.yaml")]).await;
    assert!(result.is_ok(), "{:?}", recorded.returned);
    let names = names(&recorded);
    assert!(
        !names.iter().any(|n| n.contains("app-dependencies")),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n == "[compile] build dependency wheels: requirements.txt"),
        "{names:?}"
    );
}

#[tokio::test]
async fn options_reach_the_graph_and_the_config() {
    let (result, recorded) = support::build(
        SPEC,
        &context(),
        &[
            ("filename", "pyslim.yaml"),
            ("no-cache", ""),
            ("platform", "linux/arm64"),
            ("build-arg:HTTPS_PROXY", "http://proxy:3128"),
        ],
    )
    .await;
    result.expect("the build succeeds");
    let definition = recorded.graph();
    // The wheels, all binary in the fake, come from the build platform's download.
    let native = native_ops(definition);
    assert_eq!(native.len(), 2, "the download and its image");
    for (digest, op) in ops(definition) {
        if let Some(pb::op::Op::Exec(exec)) = &op.op {
            assert!(
                definition.metadata[&digest].ignore_cache,
                "--no-cache reaches every step"
            );
            let proxy = exec
                .meta
                .as_ref()
                .and_then(|m| m.proxy_env.as_ref())
                .expect("proxy env");
            assert_eq!(proxy.https_proxy, "http://proxy:3128");
            assert!(
                !exec
                    .meta
                    .as_ref()
                    .expect("meta")
                    .env
                    .iter()
                    .any(|e| e.contains("proxy:3128"))
            );
        }
        // Local sources are the same files on any platform; everything else targets arm64.
        let local =
            matches!(&op.op, Some(pb::op::Op::Source(s)) if s.identifier.starts_with("local://"));
        if op.op.is_some() && !local && !native.contains(&digest) {
            assert_eq!(
                op.platform.as_ref().map(|p| p.architecture.as_str()),
                Some("arm64")
            );
        }
    }
    assert_eq!(recorded.config()["architecture"], "arm64");
    assert_eq!(
        recorded.resolved[0]
            .platform
            .as_ref()
            .map(|p| p.architecture.as_str()),
        Some("arm64")
    );
}

#[tokio::test]
async fn targets_and_build_args_come_from_the_options() {
    let spec = "python: \"${PY}\"\nargs: {PY: \"3.11\"}\nrequirements: requirements.txt\ntargets:\n  test:\n    runtime: [libpq5]\n";
    let (result, recorded) = support::build(
        spec,
        &context(),
        &[
            ("filename", "pyslim.yaml"),
            ("target", "test"),
            ("build-arg:PY", "3.12"),
        ],
    )
    .await;
    result.expect("the build succeeds");
    let references: Vec<&str> = recorded.resolved.iter().map(|r| r.r#ref.as_str()).collect();
    assert_eq!(
        references,
        [
            "docker.io/library/python:3.12",
            "docker.io/library/python:3.12-slim"
        ]
    );
    let definition = recorded.graph();
    let ops = ops(definition);
    named(definition, &ops, "[slim] apt-get install libpq5");

    let (result, recorded) = support::build(
        spec,
        &context(),
        &[("filename", "pyslim.yaml"), ("target", "prod")],
    )
    .await;
    assert!(result.is_err());
    assert!(
        recorded
            .error()
            .message
            .contains("there is no target `prod`")
    );
}

#[tokio::test]
async fn every_solve_imports_the_caches_of_cache_from() {
    let imports = r#"[{"Type":"registry","Attrs":{"ref":"localhost:5055/cache:app"}}]"#;
    let (result, recorded) = support::build(
        SPEC,
        &context(),
        &[("filename", "pyslim.yaml"), ("cache-imports", imports)],
    )
    .await;
    assert!(result.is_ok(), "{result:?}");
    // The scan and the smoke test too: a result they would compute again on an empty machine
    // is what the imported cache is for.
    assert!(recorded.solves.len() > 2, "{}", recorded.solves.len());
    for (n, entries) in recorded.cache_imports.iter().enumerate() {
        let refs: Vec<_> = entries
            .iter()
            .map(|e| (e.r#type.as_str(), e.attrs.get("ref").map(String::as_str)))
            .collect();
        assert_eq!(
            refs,
            [("registry", Some("localhost:5055/cache:app"))],
            "solve {n}"
        );
    }
}

#[tokio::test]
async fn several_platforms_are_one_build_with_an_image_each() {
    let (result, recorded) = support::build(
        SPEC,
        &context(),
        &[
            ("filename", "pyslim.yaml"),
            ("platform", "linux/amd64,linux/arm64,linux/amd64"),
        ],
    )
    .await;
    assert!(result.is_ok(), "{result:?}");
    // Each base is resolved for each platform: an image may have one and lack the other.
    let mut resolved: Vec<(String, String)> = recorded
        .resolved
        .iter()
        .map(|r| {
            let platform = r.platform.as_ref().expect("a platform");
            (r.r#ref.clone(), platform.architecture.clone())
        })
        .collect();
    resolved.sort();
    resolved.dedup();
    assert_eq!(resolved.len(), 4, "{resolved:?}");
    let returned = recorded.returned.as_ref().and_then(|r| r.result.as_ref());
    let Some(api::result::Result::Refs(refs)) = returned.and_then(|r| r.result.as_ref()) else {
        panic!("a ref per platform: {returned:?}");
    };
    let mut ids: Vec<&String> = refs.refs.keys().collect();
    ids.sort();
    assert_eq!(ids, ["linux/amd64", "linux/arm64"]);
    assert_ne!(refs.refs["linux/amd64"].id, refs.refs["linux/arm64"].id);
    let metadata = recorded.returned_metadata();
    assert!(!metadata.contains_key("containerimage.config"));
    for (id, architecture) in [("linux/amd64", "amd64"), ("linux/arm64", "arm64")] {
        let config: serde_json::Value =
            serde_json::from_slice(&metadata[&format!("containerimage.config/{id}")])
                .expect("config JSON");
        assert_eq!(config["architecture"], architecture, "{id}");
        assert_eq!(config["os"], "linux", "{id}");
        // Each platform's image is the graph solved for that platform.
        let n: usize = refs.refs[id]
            .id
            .strip_prefix("ref-")
            .and_then(|n| n.parse().ok())
            .expect("a fake ref");
        let native = native_ops(&recorded.solves[n]);
        assert_eq!(native.is_empty(), architecture == "amd64", "{id}");
        let platforms: Vec<String> = ops(&recorded.solves[n])
            .iter()
            .filter(|(digest, _)| !native.contains(digest))
            .filter_map(|(_, op)| op.platform.as_ref().map(|p| p.architecture.clone()))
            .collect();
        assert!(!platforms.is_empty());
        assert!(
            platforms.iter().all(|p| p == architecture),
            "{id}: {platforms:?}"
        );
    }
    let listed: serde_json::Value =
        serde_json::from_slice(&metadata["refs.platforms"]).expect("refs.platforms JSON");
    assert_eq!(
        listed,
        serde_json::json!({"Platforms": [
            {"ID": "linux/amd64", "Platform": {"architecture": "amd64", "os": "linux"}},
            {"ID": "linux/arm64", "Platform": {"architecture": "arm64", "os": "linux"}},
        ]})
    );
}

#[tokio::test]
async fn one_platform_is_one_image_unless_an_index_is_asked_for() {
    let one = [("filename", "pyslim.yaml"), ("platform", "linux/arm64")];
    let (result, recorded) = support::build(SPEC, &context(), &one).await;
    assert!(result.is_ok(), "{result:?}");
    let returned = recorded.returned.as_ref().and_then(|r| r.result.as_ref());
    assert!(
        matches!(
            returned.and_then(|r| r.result.as_ref()),
            Some(api::result::Result::Ref(_))
        ),
        "{returned:?}"
    );
    assert_eq!(recorded.config()["architecture"], "arm64");
    let listed: serde_json::Value =
        serde_json::from_slice(&recorded.returned_metadata()["refs.platforms"]).expect("JSON");
    assert_eq!(listed["Platforms"][0]["ID"], "linux/arm64");

    let index = [
        ("filename", "pyslim.yaml"),
        ("platform", "linux/arm64"),
        ("multi-platform", "true"),
    ];
    let (result, recorded) = support::build(SPEC, &context(), &index).await;
    assert!(result.is_ok(), "{result:?}");
    let metadata = recorded.returned_metadata();
    assert!(metadata.contains_key("containerimage.config/linux/arm64"));
    assert!(!metadata.contains_key("containerimage.config"));
}

#[tokio::test]
async fn a_base_without_the_platform_is_an_error_naming_it() {
    let spec = "python: \"3.11\"\nrequirements: requirements.txt\nbase: {runtime: \"registry.example/amd64-only:1\"}\n";
    let (result, recorded) = support::build(
        spec,
        &context(),
        &[
            ("filename", "pyslim.yaml"),
            ("platform", "linux/amd64,linux/arm64"),
        ],
    )
    .await;
    assert!(result.is_err());
    let message = &recorded.error().message;
    assert!(
        message.contains("pyslim.yaml:3:17: error: cannot resolve the base image `registry.example/amd64-only:1` for linux/arm64"),
        "{message}"
    );
    assert!(message.contains("no match for platform"), "{message}");
}

#[tokio::test]
async fn an_unresolvable_base_is_an_error_at_its_line() {
    let spec = "python: \"3.11\"\nrequirements: requirements.txt\nbase: {runtime: \"registry.example/does-not-exist:1\"}\n";
    let (result, recorded) = support::build(spec, &context(), &[("filename", "pyslim.yaml")]).await;
    assert!(result.is_err());
    let message = &recorded.error().message;
    assert!(
        message.contains("pyslim.yaml:3:17: error: cannot resolve the base image"),
        "{message}"
    );
}

#[tokio::test]
async fn index_credentials_travel_as_a_secret_id_only() {
    let spec = "python: \"3.11\"\nrequirements: requirements.txt\nindex: {url: \"https://pypi.example.com/simple\", secret: pypi-netrc}\nnetwork: host\n";
    let (result, recorded) = support::build(spec, &context(), &[("filename", "pyslim.yaml")]).await;
    result.expect("the build succeeds");
    let definition = recorded.graph();
    let ops = ops(definition);
    let wheels = exec(named(
        definition,
        &ops,
        "[compile] build dependency wheels: requirements.txt",
    ));
    let secret = wheels
        .mounts
        .iter()
        .find(|m| m.mount_type == pb::MountType::Secret as i32)
        .expect("a secret mount");
    assert_eq!(secret.dest, "/run/secrets/pypi-netrc");
    assert_eq!(
        secret
            .secret_opt
            .as_ref()
            .map(|s| (s.id.as_str(), s.optional)),
        Some(("pypi-netrc", false))
    );
    let meta = wheels.meta.as_ref().expect("meta");
    assert!(
        meta.env
            .contains(&"NETRC=/run/secrets/pypi-netrc".to_string())
    );
    assert_eq!(wheels.network, pb::NetMode::Host as i32);
    // The slim stage downloads nothing: no secret, no host network there.
    let install = exec(named(
        definition,
        &ops,
        "[slim] install dependencies with uv",
    ));
    assert!(
        install
            .mounts
            .iter()
            .all(|m| m.mount_type != pb::MountType::Secret as i32)
    );
    assert_eq!(install.network, pb::NetMode::None as i32);
}

fn json(answer: &std::collections::HashMap<String, Vec<u8>>) -> serde_json::Value {
    assert_eq!(answer["version"], b"1.0.0");
    serde_json::from_slice(&answer["result.json"]).expect("result.json")
}

const VARIANTS: &str = "python: \"${PY}\"\nargs: {PY: \"3.11\", TOKEN: }\nrequirements: requirements.txt\nindex: {secret: pypi-netrc}\nruntime: [libpq-dev]\ntargets:\n  test:\n    description: Runs the tests\n    cmd: [pytest]\n";

#[tokio::test]
async fn call_outline_and_targets_describe_the_spec() {
    let (result, recorded) = support::build(
        VARIANTS,
        &context(),
        &[
            ("filename", "pyslim.yaml"),
            ("requestid", "frontend.outline"),
            ("target", "test"),
        ],
    )
    .await;
    result.expect("answered");
    let outline = json(recorded.answer());
    assert_eq!(outline["name"], "test");
    let description = outline["description"].as_str().unwrap_or_default();
    assert!(description.starts_with("Runs the tests\n"), "{description}");
    assert!(
        description.contains(
            "\nother targets (--target NAME): wheels; without --target, the default image"
        ),
        "{description}"
    );
    // It declares arguments: no advice on how to.
    assert!(!description.contains("build arguments"), "{description}");
    assert_eq!(outline["args"][0]["name"], "PY");
    assert_eq!(outline["args"][0]["value"], "3.11");
    assert_eq!(
        outline["args"][0]["location"]["ranges"][0]["start"]["line"],
        2
    );
    assert_eq!(outline["args"][1]["name"], "TOKEN");
    assert_eq!(
        outline["args"][1]["description"],
        "no default: pass --build-arg TOKEN=… if it is used"
    );
    assert_eq!(outline["secrets"][0]["name"], "pypi-netrc");
    assert_eq!(outline["secrets"][0]["required"], true);
    let text = String::from_utf8_lossy(&recorded.answer()["result.txt"]).into_owned();
    assert!(
        text.contains("TARGET:      test") && text.contains("pypi-netrc"),
        "{text}"
    );
    // Nothing was built or resolved to answer: only the files that may name the Python read.
    assert!(only_read_files(&recorded));
    assert!(recorded.resolved.is_empty());

    let (result, recorded) = support::build(
        VARIANTS,
        &context(),
        &[
            ("filename", "pyslim.yaml"),
            ("requestid", "frontend.targets"),
        ],
    )
    .await;
    result.expect("answered");
    let targets = json(recorded.answer());
    assert_eq!(targets["targets"][0]["default"], true);
    assert_eq!(targets["targets"][1]["name"], "wheels");
    assert_eq!(targets["targets"][2]["name"], "test");
    assert_eq!(targets["targets"][2]["description"], "Runs the tests");
    assert_eq!(
        targets["targets"][2]["location"]["ranges"][0]["start"]["line"],
        7
    );
}

/// buildx prints an outline from its JSON, where only a target's name and description are
/// free text: a spec with no arguments, secrets or SSH says there what the build reads.
#[tokio::test]
async fn call_outline_of_a_spec_without_arguments_says_what_the_build_reads() {
    let (result, recorded) = support::build(
        SPEC,
        &context(),
        &[
            ("filename", "pyslim.yaml"),
            ("requestid", "frontend.outline"),
        ],
    )
    .await;
    result.expect("answered");
    let outline = json(recorded.answer());
    assert_eq!(outline["name"], "");
    assert_eq!(
        outline["description"],
        "the image the spec describes\n\
         python 3.11, from pyslim.yaml; base images python:3.11 (compile) and python:3.11-slim (runtime)\n\
         build context: requirements.txt, the app in .\n\
         apt packages in the image: libpq5\n\
         other targets (--target NAME): wheels\n\
         build arguments: none declared; add one under `args:` (`args: {VERSION: \"1.0\"}`), write `${VERSION}` in any value, and set it with `--build-arg VERSION=…`"
    );
    assert!(
        outline
            .get("args")
            .is_none_or(|a| a == &serde_json::json!([]))
    );
    // The text is what buildx's own printer makes of the JSON.
    let text = String::from_utf8_lossy(&recorded.answer()["result.txt"]).into_owned();
    assert!(
        text.starts_with(
            "TARGET:      (default)\nDESCRIPTION: the image the spec describes\npython 3.11, from pyslim.yaml; base images python:3.11 (compile) and python:3.11-slim (runtime)\nbuild context: requirements.txt"
        ),
        "{text}"
    );

    // An image of system packages reads nothing from the context, and says so.
    let helper = "python: \"3.11\"\nruntime: [redis-server]\n";
    let (result, recorded) = support::build(
        helper,
        &[],
        &[
            ("filename", "pyslim.yaml"),
            ("requestid", "frontend.outline"),
        ],
    )
    .await;
    result.expect("answered");
    let description = json(recorded.answer())["description"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        description.contains("\nbuild context: not read (nothing is installed from it)\napt packages in the image: redis-server\n"),
        "{description}"
    );
}

/// `--print=check` on buildx 0.13/0.14 sends `frontend.check`; `--call=check` and
/// `--print=lint` send `frontend.lint`. Both get the same answer.
#[tokio::test]
async fn call_check_answers_both_request_ids() {
    let context = vec![("requirements.txt", b"flask>=3\n".as_slice())];
    let mut answers = Vec::new();
    for id in ["frontend.check", "frontend.lint"] {
        let (result, recorded) = support::build(
            VARIANTS,
            &context,
            &[("filename", "pyslim.yaml"), ("requestid", id)],
        )
        .await;
        result.unwrap_or_else(|e| panic!("{id}: {e}"));
        let answer = recorded.answer().clone();
        assert_eq!(answer["result.statuscode"], b"1", "{id}");
        answers.push(answer);
    }
    assert_eq!(answers[0], answers[1]);
}

#[tokio::test]
async fn call_check_names_the_runtime_library_a_compiled_requirement_needs() {
    let spec = "python: \"3.11\"\nrequirements: requirements.txt\nsystem: [default-libmysqlclient-dev, pkg-config]\n";
    let context = vec![(
        "requirements.txt",
        b"flask==3.0.3\npsycopg2==2.9.9\nmysqlclient==2.2.4\n".as_slice(),
    )];
    // What the scan of the built wheels finds: each extension's library, in the compile image.
    let needs = |library: &str, package: &str, wheel: &str, file: &str| {
        let (distribution, version) = wheel.split_once('-').expect("name-version");
        let version = version.split('-').next().unwrap_or_default();
        format!(
            r#"{{"library": "{library}", "package": "{package}", "package_version": "1", "provided_by": null,
              "needed_by": [{{"wheel": "{wheel}", "distribution": "{distribution}", "version": "{version}",
                              "file": "{file}", "via": null, "directory": "/wheels"}}]}}"#
        )
    };
    let report = format!(
        r#"{{"version": 1, "scanned": {{"wheels": 9, "elf_files": 3}}, "missing": [{}, {}]}}"#,
        needs(
            "libmariadb.so.3",
            "libmariadb3",
            "mysqlclient-2.2.4-cp311-cp311-linux_x86_64.whl",
            "/usr/local/lib/python3.11/site-packages/MySQLdb/_mysql.so"
        ),
        needs(
            "libpq.so.5",
            "libpq5",
            "psycopg2-2.9.9-cp311-cp311-linux_x86_64.whl",
            "/usr/local/lib/python3.11/site-packages/psycopg2/_psycopg.so"
        ),
    );
    let (result, recorded) = support::build_reporting(
        spec,
        &context,
        &[("filename", "pyslim.yaml"), ("requestid", "frontend.check")],
        &[("/pyslim-report/libraries.json", &report)],
    )
    .await;
    result.expect("answered");
    let answer = recorded.answer();
    let lint = json(answer);
    let found: Vec<(String, u64, u64)> = lint["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| {
            (
                w["ruleName"].as_str().unwrap_or_default().to_string(),
                w["location"]["sourceIndex"].as_u64().unwrap_or(99),
                w["location"]["ranges"][0]["start"]["line"]
                    .as_u64()
                    .unwrap_or(0),
            )
        })
        .collect();
    // The scan knows; the lint's guesses by package name are not repeated. Each package at
    // the requirement whose file needs it.
    assert_eq!(
        found,
        [
            ("SharedLibraryInstalled".to_string(), 1, 3),
            ("SharedLibraryInstalled".to_string(), 1, 2),
        ]
    );
    let text = String::from_utf8_lossy(&answer["result.txt"]).into_owned();
    assert!(
        text.contains("WARNING: SharedLibraryInstalled - requirements.txt:2\n"),
        "{text}"
    );
    assert!(text.contains("add `runtime: [libpq5]`"), "{text}");
    assert!(text.contains("add `runtime: [libmariadb3]`"), "{text}");
    assert!(
        text.ends_with("Check complete, 2 warnings found.\n"),
        "{text}"
    );
}

#[tokio::test]
async fn call_check_reports_lint_findings_with_a_failing_status() {
    let context = vec![("requirements.txt", b"flask>=3\n".as_slice())];
    let (result, recorded) = support::build(
        VARIANTS,
        &context,
        &[("filename", "pyslim.yaml"), ("requestid", "frontend.lint")],
    )
    .await;
    result.expect("answered");
    let answer = recorded.answer();
    assert_eq!(answer["result.statuscode"], b"1");
    let lint = json(answer);
    let rules: Vec<_> = lint["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w["ruleName"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(rules, ["RuntimeDevPackage", "UnpinnedRequirement"]);
    assert_eq!(lint["warnings"][1]["location"]["sourceIndex"], 1);
    assert_eq!(lint["sources"][1]["filename"], "requirements.txt");
    let text = String::from_utf8_lossy(&answer["result.txt"]).into_owned();
    assert!(
        text.contains("WARNING: RuntimeDevPackage - pyslim.yaml:5"),
        "{text}"
    );
    assert!(
        text.contains("WARNING: UnpinnedRequirement - requirements.txt:1"),
        "{text}"
    );

    // A normal build shows the same findings as warnings, and still builds.
    let (result, recorded) = support::build(
        VARIANTS,
        &context,
        &[("filename", "pyslim.yaml"), ("build-arg:TOKEN", "x")],
    )
    .await;
    result.expect("the build succeeds");
    assert_eq!(recorded.warnings.len(), 2);
    let warning = &recorded.warnings[1];
    assert!(String::from_utf8_lossy(&warning.short).starts_with("UnpinnedRequirement"));
    assert_eq!(
        warning.info.as_ref().map(|i| i.filename.as_str()),
        Some("requirements.txt")
    );
    assert_eq!(warning.ranges[0].start.as_ref().map(|p| p.line), Some(1));
    assert_eq!(
        warning.digest,
        recorded.solves[0]
            .metadata
            .keys()
            .next()
            .cloned()
            .unwrap_or_default()
    );
}

#[tokio::test]
async fn describe_lists_the_answers_and_unknown_requests_fail() {
    let (result, recorded) = support::build(
        SPEC,
        &context(),
        &[
            ("filename", "pyslim.yaml"),
            ("requestid", "frontend.subrequests.describe"),
        ],
    )
    .await;
    result.expect("answered");
    let list = json(recorded.answer());
    let names: Vec<_> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        names,
        ["frontend.outline", "frontend.targets", "frontend.lint"]
    );
    let (result, recorded) = support::build(
        SPEC,
        &context(),
        &[("filename", "pyslim.yaml"), ("requestid", "frontend.bogus")],
    )
    .await;
    assert!(result.is_err());
    assert!(recorded.error().message.contains("--call=check"));
}

#[tokio::test]
async fn a_wheels_context_is_searched_before_building() {
    let options = [
        ("filename", "pyslim.yaml"),
        ("context:wheels", "local:wheels"),
    ];
    let (result, recorded) = support::build(SPEC, &context(), &options).await;
    result.expect("the build succeeds");
    let definition = recorded.graph();
    let found = ops(definition);
    let wheels = exec(named(
        definition,
        &found,
        "[compile] build dependency wheels: requirements.txt",
    ));
    let args = &wheels.meta.as_ref().expect("meta").args;
    let at = args
        .iter()
        .position(|a| a == "/pyslim-wheelhouse")
        .expect("--find-links the wheelhouse");
    assert_eq!(args[at - 1], "--find-links");
    let mount = wheels
        .mounts
        .iter()
        .find(|m| m.dest == "/pyslim-wheelhouse")
        .expect("mounted");
    assert!(mount.readonly);
    let source = found
        .iter()
        .find_map(|(_, op)| match &op.op {
            Some(pb::op::Op::Source(s)) if s.identifier == "local://wheels" => Some(s),
            _ => None,
        })
        .expect("the wheels context is a local source");
    assert_eq!(source.attrs["local.sharedkeyhint"], "wheels");

    let image = [
        ("filename", "pyslim.yaml"),
        ("context:wheels", "docker-image://registry.example/wheels:1"),
    ];
    let (result, recorded) = support::build(SPEC, &context(), &image).await;
    result.expect("the build succeeds");
    let definition = recorded.graph();
    let found = ops(definition);
    let wheels = exec(named(
        definition,
        &found,
        "[compile] build dependency wheels: requirements.txt",
    ));
    let mount = wheels
        .mounts
        .iter()
        .find(|m| m.dest == "/pyslim-wheelhouse")
        .expect("mounted");
    assert_eq!(mount.selector, "/wheels");
}

#[tokio::test]
async fn the_wheels_target_is_an_image_of_just_the_wheels() {
    let options = [
        ("filename", "pyslim.yaml"),
        ("target", "wheels"),
        ("label:team", "core"),
    ];
    let (result, recorded) = support::build(SPEC, &context(), &options).await;
    result.expect("the build succeeds");
    let definition = recorded.graph();
    let found = ops(definition);
    let collect = named(definition, &found, "[compile] collect dependency wheels");
    let Some(pb::op::Op::File(file)) = &collect.op else {
        panic!("a file op")
    };
    let Some(pb::file_action::Action::Copy(copy)) = &file.actions[0].action else {
        panic!("a copy")
    };
    // All of the output the wheels step produced, into /wheels.
    assert_eq!((copy.src.as_str(), copy.dest.as_str()), ("/", "/wheels"));
    assert_eq!(file.actions[0].input, -1, "onto nothing");
    assert_eq!(collect.inputs.len(), 1);
    // Nothing of the slim stage is built.
    assert!(definition.metadata.values().all(|m| {
        !m.description
            .get("llb.customname")
            .is_some_and(|n| n.starts_with("[slim]"))
    }));
    let config = recorded.config();
    assert!(config["config"].get("Entrypoint").is_none());
    assert_eq!(config["config"]["Labels"]["team"], "core");
    assert_eq!(config["history"].as_array().map(Vec::len), Some(1));

    let spec = "python: \"3.11\"\napp: .\n";
    let (result, recorded) = support::build(spec, &context(), &options).await;
    assert!(result.is_err());
    assert!(recorded.error().message.contains("has no `requirements`"));

    // Per platform: each platform's wheels, collected from its own compile stage.
    let both = [
        ("filename", "pyslim.yaml"),
        ("target", "wheels"),
        ("platform", "linux/amd64,linux/arm64"),
    ];
    let (result, recorded) = support::build(SPEC, &context(), &both).await;
    result.expect("the build succeeds");
    let metadata = recorded.returned_metadata();
    for (id, architecture) in [("linux/amd64", "amd64"), ("linux/arm64", "arm64")] {
        let config: serde_json::Value =
            serde_json::from_slice(&metadata[&format!("containerimage.config/{id}")])
                .expect("config JSON");
        assert_eq!(config["architecture"], architecture);
        assert!(config["config"].get("Entrypoint").is_none(), "{id}");
    }
    let graph = recorded.build_graph();
    let names: Vec<&String> = graph
        .metadata
        .values()
        .filter_map(|m| m.description.get("llb.customname"))
        .collect();
    for name in [
        "[linux/amd64 compile] collect dependency wheels",
        "[linux/arm64 compile] collect dependency wheels",
    ] {
        assert!(names.iter().any(|n| *n == name), "{name}: {names:?}");
    }
}

#[tokio::test]
async fn an_include_cycle_is_refused_at_the_include_that_closes_it() {
    let context = vec![
        (
            "requirements.txt",
            b"-r base.txt\nflask==3.0.3\n".as_slice(),
        ),
        (
            "base.txt",
            b"-r requirements.txt\ngunicorn==22.0.0\n".as_slice(),
        ),
        ("pyproject.toml", b"[project]\nname='app'\n".as_slice()),
    ];
    let (result, recorded) = support::build(SPEC, &context, &[("filename", "pyslim.yaml")]).await;
    // pip would recurse until Python stops it: the include that closes the cycle is refused,
    // at its line in the file that has it.
    assert!(result.is_err());
    assert_eq!(
        recorded.error().message,
        "base.txt:1:4: error: the requirements files include each other in a cycle: requirements.txt → base.txt → requirements.txt\n  |\n1 | -r requirements.txt\n  |    ^^^^^^^^^^^^^^^^\n  hint: pip follows includes without remembering the files it read, and never leaves a cycle (it dies in a RecursionError); remove one of these includes\n1 problem in base.txt"
    );
    assert_eq!(
        error_sources(&recorded),
        [("base.txt".to_string(), "requirements".to_string(), 1)]
    );
    // Every view of the context names the files it wants: none is the whole context.
    for definition in &recorded.solves {
        for (_, op) in ops(definition) {
            if let Some(pb::op::Op::Source(source)) = &op.op
                && source.identifier == "local://context"
            {
                let include = source.attrs.get("local.includepattern").map(String::as_str);
                assert!(include.is_some_and(|i| i != "[]"), "{:?}", source.attrs);
            }
        }
    }
}

/// The error the user sees when the image solve fails at `step` of [`SPEC`]: BuildKit's
/// status, as the frontend returned it.
async fn failing_at(step: &str) -> pyslim_frontend::gateway::Status {
    let (result, recorded) =
        support::build_failing_at(SPEC, &context(), &[("filename", "pyslim.yaml")], step).await;
    assert!(result.is_err(), "a failed solve fails the build");
    assert!(recorded.returned.is_some(), "the failure was returned");
    recorded.error().clone()
}

#[tokio::test]
async fn a_failed_step_gets_its_own_advice() {
    let error = failing_at("[compile] build dependency wheels: requirements.txt").await;
    let message = &error.message;
    // BuildKit's own words stay first; the advice follows, named after the step. An exit
    // code of 1 says pip's output showed no cause pyslim knows: no header advice.
    assert!(message.starts_with("process \""), "{message}");
    assert!(message.contains(support::FAILED_STEP), "{message}");
    assert!(
        message.ends_with(
            "\n\n[compile] build dependency wheels: requirements.txt failed: pip could not resolve or build the dependencies; its output above says which and why: a version that does not exist (check the pin), requirements that conflict, or a project the index does not serve (check `index:`)."
        ),
        "{message}"
    );
    assert!(!message.contains("-dev"), "{message}");
    // Every detail BuildKit attached (the vertex, the stack) reaches the client unchanged.
    let types: Vec<&str> = error.details.iter().map(|d| d.type_url.as_str()).collect();
    assert_eq!(
        types,
        [
            support::STACK_TYPE,
            "github.com/moby/buildkit/errdefs.Vertex+json"
        ]
    );
    assert_eq!(error.code, 2);

    // Another step's failure gets that step's advice, not the dependency step's.
    let error = failing_at("[slim] apt-get install libpq5").await;
    assert!(
        error
            .message
            .contains("[slim] apt-get install libpq5 failed: apt-get could not install"),
        "{}",
        error.message
    );
    assert!(!error.message.contains("a dependency did not build"));
}

const DEPENDENCIES: &str = "[compile] build dependency wheels: requirements.txt";

/// [`SPEC`] with a private index.
fn private_spec() -> String {
    format!(
        "{SPEC}index:\n  url: https://pypi.example.com/simple/\n  extra: [https://extra.example.com/simple/]\n  secret: pypi-netrc\n"
    )
}

/// The error of a build of `spec` whose dependency step fails with BuildKit's `message`.
async fn failing_with(spec: &str, message: &str) -> pyslim_frontend::gateway::Status {
    let (result, recorded) = support::build_failing_with(
        spec,
        &context(),
        &[("filename", "pyslim.yaml")],
        DEPENDENCIES,
        message,
    )
    .await;
    assert!(result.is_err(), "a failed solve fails the build");
    recorded.error().clone()
}

/// The spec lines the client is asked to show with the error.
fn spec_lines(error: &pyslim_frontend::gateway::Status) -> Vec<u64> {
    error
        .details
        .iter()
        .filter(|d| d.type_url == "github.com/moby/buildkit/errdefs.Source+json")
        .map(|d| {
            let json: serde_json::Value = serde_json::from_slice(&d.value).expect("json");
            json["ranges"][0]["start"]["line"]
                .as_u64()
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test]
async fn a_secret_the_build_was_not_given_is_told_at_the_index() {
    // BuildKit refuses to start the step before it runs, and says why in its message.
    let error = failing_with(&private_spec(), "secret pypi-netrc not found: not found").await;
    assert_eq!(
        error.message,
        "secret pypi-netrc not found: not found\n\npyslim.yaml:12:11: error: the build was not given the secret `pypi-netrc`, which holds the credentials for `index:`\n   |\n12 |   secret: pypi-netrc\n   |           ^^^^^^^^^^\n  hint: pass it to the build: `docker buildx build --secret id=pypi-netrc,src=FILE …`, FILE a netrc file (`machine HOST login USER password TOKEN`)"
    );
    assert_eq!(spec_lines(&error), [12]);
    // BuildKit's other details stay.
    assert!(
        error
            .details
            .iter()
            .any(|d| d.type_url == support::STACK_TYPE)
    );
    assert!(!error.message.contains("-dev"));
}

#[tokio::test]
async fn an_index_the_step_could_not_reach_is_told_at_its_url() {
    let error = failing_with(
        &private_spec(),
        "process \"{command}\" did not complete successfully: exit code: 69",
    )
    .await;
    let (buildkit, ours) = error.message.split_once("\n\n").expect("advice");
    assert!(buildkit.ends_with("exit code: 69"), "{buildkit}");
    assert_eq!(
        ours,
        "pyslim.yaml:10:8: error: [compile] build dependency wheels: requirements.txt failed: pip could not reach the index `https://pypi.example.com/simple/` (or one of `https://extra.example.com/simple/`), or it refused the request\n   |\n10 |   url: https://pypi.example.com/simple/\n   |        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n  hint: check the URL (pip reads `URL/PROJECT/` from it), that the build can reach it (a host on your machine or network needs `network: host` and `--allow network.host`), and for a private index its credentials (`index: {secret: …}`)"
    );
    assert_eq!(spec_lines(&error), [10]);
    // Without `index:`, PyPI it is, and there is no line to point at.
    let error = failing_with(
        SPEC,
        "process \"{command}\" did not complete successfully: exit code: 69",
    )
    .await;
    assert!(
        error.message.ends_with("\n\n[compile] build dependency wheels: requirements.txt failed: pip could not reach the index, PyPI (https://pypi.org/simple/); check the URL (pip reads `URL/PROJECT/` from it), that the build can reach it (a host on your machine or network needs `network: host` and `--allow network.host`), and for a private index its credentials (`index: {secret: …}`), or name a mirror in `index:`."),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn only_a_build_that_lacked_a_header_or_tool_gets_the_headers_advice() {
    let error = failing_with(
        SPEC,
        "process \"{command}\" did not complete successfully: exit code: 72",
    )
    .await;
    let message = &error.message;
    assert!(
        message.contains("\n\n[compile] build dependency wheels: requirements.txt failed: a dependency did not build: the log above shows a missing compiler, header or tool. Add the -dev packages that provide it to `system:` and their libraries to `runtime:`:\n"),
        "{message}"
    );
    // The known fixes, from the table the lint reads too.
    assert!(
        message.contains("mysqlclient (`mysql_config not found`")
            && message.contains(
                "`system: [default-libmysqlclient-dev, pkg-config]`, `runtime: [libmariadb3]`"
            ),
        "{message}"
    );
    // The same code from another step is that step's own failure.
    let (_, recorded) = support::build_failing_with(
        SPEC,
        &context(),
        &[("filename", "pyslim.yaml")],
        "[slim] apt-get install libpq5",
        "process \"{command}\" did not complete successfully: exit code: 72",
    )
    .await;
    let message = &recorded.error().message;
    assert!(message.contains("apt-get could not install"), "{message}");
    assert!(!message.contains("a dependency did not build"), "{message}");
}

#[tokio::test]
async fn a_failed_step_without_advice_is_reported_as_buildkit_said() {
    let error = failing_at("[slim] create user app (10001:10001)").await;
    assert!(
        error.message.ends_with(support::FAILED_STEP),
        "{}",
        error.message
    );
    assert!(!error.message.contains(" failed: "), "{}", error.message);
    assert!(
        !error.message.contains("create user app"),
        "{}",
        error.message
    );
    assert_eq!(error.details.len(), 2);
}

#[tokio::test]
async fn an_app_must_be_there_and_be_a_project_to_be_a_package() {
    let context = vec![
        ("requirements.txt", b"six==1.16.0\n".as_slice()),
        ("site/main.py", b"print('hi')\n".as_slice()),
    ];
    let build = |app: &str| {
        let spec = format!(
            "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\napp: {app}\n"
        );
        let context = context.clone();
        async move {
            let (result, recorded) =
                support::build(&spec, &context, &[("filename", "pyslim.yaml")]).await;
            (result.is_ok(), recorded)
        }
    };
    let (ok, recorded) = build("src").await;
    assert!(!ok);
    let message = &recorded.error().message;
    assert!(
        message.contains(
            "pyslim.yaml:4:6: error: the app's directory `src` is not in the build context"
        ),
        "{message}"
    );
    let (ok, recorded) = build("{path: site, as: package}").await;
    assert!(!ok);
    let message = &recorded.error().message;
    assert!(
        message.contains("`site` has no pyproject.toml or setup.py in the build context, so it cannot be built to a wheel"),
        "{message}"
    );
    // Without `as:`, the same directory is source, copied as it is.
    let (ok, recorded) = build("site").await;
    assert!(ok);
    let graph = recorded.graph();
    let names: Vec<&String> = graph
        .metadata
        .values()
        .filter_map(|m| m.description.get("llb.customname"))
        .collect();
    assert!(
        names.iter().any(|n| *n == "[slim] copy app site to /app"),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.contains("app wheel")), "{names:?}");
}

#[tokio::test]
async fn a_script_the_image_starts_must_be_in_it() {
    let context = vec![
        ("requirements.txt", b"six==1.16.0\n".as_slice()),
        ("site/main.py", b"print('hi')\n".as_slice()),
    ];
    let build = |rest: &str| {
        let spec = format!(
            "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: requirements.txt\n{rest}"
        );
        let context = context.clone();
        async move {
            let (result, recorded) =
                support::build(&spec, &context, &[("filename", "pyslim.yaml")]).await;
            (result.is_ok(), recorded)
        }
    };
    // Without an app, nothing puts main.py anywhere: the image would die at start.
    let (ok, recorded) = build("entrypoint: [python, main.py]\n").await;
    assert!(!ok);
    let message = &recorded.error().message;
    assert!(
        message.contains("pyslim.yaml:4:14: error: `main.py` is not in the image: the command runs it from /, and nothing puts it there"),
        "{message}"
    );
    assert!(message.contains("add `app: .`"), "{message}");
    // A source app without that file: named in the message.
    let (ok, recorded) = build("app: site\ncmd: [python, -u, serve.py]\n").await;
    assert!(!ok);
    let message = &recorded.error().message;
    assert!(
        message.contains(
            "`serve.py` is not in the image: the app's directory `site` has no `serve.py`"
        ),
        "{message}"
    );
    // Present, or not a script of ours: the build goes on.
    for rest in [
        "app: site\nentrypoint: [python, main.py]\n",
        "app: site\nentrypoint: [python, /app/main.py]\n",
        "entrypoint: [python, -m, six]\n",
        "entrypoint: [python, /usr/local/lib/tool.py]\n",
    ] {
        let (ok, recorded) = build(rest).await;
        assert!(ok, "{rest}: {:?}", recorded.returned);
    }
}

#[tokio::test]
async fn a_module_or_command_the_image_starts_must_be_in_it() {
    let context = vec![
        ("site/main.py", b"print('hi')\n".as_slice()),
        ("site/web/__init__.py", b"".as_slice()),
        ("site/web/cli.py", b"".as_slice()),
        (
            "greeter/pyproject.toml",
            b"[project]\nname = 'greeter'\nversion = '1'\ndependencies = []\n[project.scripts]\ngreet = 'greeter:main'\n[build-system]\nrequires = ['uv_build']\nbuild-backend = 'uv_build'\n"
                .as_slice(),
        ),
        ("greeter/src/greeter/__init__.py", b"def main(): pass\n".as_slice()),
        ("requirements.txt", b"gunicorn==22.0.0\n".as_slice()),
    ];
    let build = |rest: &str| {
        let spec = format!("# syntax=org/pyslim\npython: \"3.11\"\n{rest}");
        let context = context.clone();
        async move {
            let (result, recorded) =
                support::build(&spec, &context, &[("filename", "pyslim.yaml")]).await;
            (result.is_ok(), recorded)
        }
    };
    // What the image has, or may have from what it installs: the build goes on.
    for rest in [
        "app: site\nentrypoint: [python, -m, web]\n",
        "app: site\nentrypoint: [python, -m, web.cli]\n",
        "app: site\nentrypoint: [python, -m, http.server]\n",
        "app: site\nrequirements: requirements.txt\nentrypoint: [python, -m, gunicorn]\n",
        "app: site\nrequirements: requirements.txt\nentrypoint: [gunicorn, main:app]\n",
        "app: greeter\nentrypoint: [greet]\n",
        "app: greeter\nentrypoint: [python, -m, greeter]\n",
        "app: site\nentrypoint: [sh, -c, 'exec python main.py']\n",
        "runtime: [redis-server]\nentrypoint: [redis-server]\n",
    ] {
        let (ok, recorded) = build(rest).await;
        assert!(ok, "{rest}: {:?}", recorded.returned);
    }
    // What nothing in the image could provide: each at its spec line, saying what would.
    let mut messages = Vec::new();
    for rest in [
        "app: site\nentrypoint: [python, -m, wbe]\n",
        "app: site\nrequirements: requirements.txt\ncmd: [python, -m, web.mian]\n",
        "app: site\nentrypoint: [gunicorn, --bind, ':8000', main:app]\n",
        "app: greeter\nentrypoint: [greeter]\n",
        "app: greeter\nentrypoint: [python, -m, greeting]\n",
    ] {
        let (ok, recorded) = build(rest).await;
        assert!(!ok, "{rest}");
        messages.push(format!("{rest}---\n{}\n", recorded.error().message));
    }
    insta::with_settings!({snapshot_path => "errors", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("start_check", messages.join("\n"));
    });
}

#[tokio::test]
async fn spec_mistakes_and_missing_files_come_in_one_round() {
    let spec = "# syntax=org/pyslim\npython: \"3.11\"\nrequirements: [requirements.txt, missing.txt]\nentrypiont: [python]\n";
    let (result, recorded) = support::build(spec, &context(), &[("filename", "pyslim.yaml")]).await;
    assert!(result.is_err());
    let message = &recorded.error().message;
    assert!(
        message.contains("pyslim.yaml:3:34: error: the requirements file `missing.txt` is not in the build context"),
        "{message}"
    );
    assert!(
        message.contains("pyslim.yaml:4:1: error: `entrypiont` is not a top-level key"),
        "{message}"
    );
    assert!(message.ends_with("2 problems in pyslim.yaml"), "{message}");
    // Nothing is built from a spec with problems: the solves only viewed the context.
    assert!(recorded.resolved.is_empty());
}
