//! The documents generated from the key table — the committed JSON Schema and README.md's
//! reference table — are fresh, and cover every key the loader takes.
//! `PYSLIM_UPDATE_SCHEMA=1 cargo test -p pyslim-spec --test schema` rewrites both.

use std::path::Path;

use pyslim_spec::{At, KEYS, reference, schema::schema};

fn update() -> bool {
    std::env::var_os("PYSLIM_UPDATE_SCHEMA").is_some()
}

#[test]
fn committed_schema_is_fresh() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/pyslim.schema.json");
    let generated = format!(
        "{}\n",
        serde_json::to_string_pretty(&schema()).expect("serialises")
    );
    if update() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, &generated).expect("write schema");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/pyslim.schema.json is stale: run `PYSLIM_UPDATE_SCHEMA=1 cargo test -p pyslim-spec --test schema` and commit it"
    );
}

#[test]
fn committed_reference_table_is_fresh() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let committed = std::fs::read_to_string(&path).expect("README.md");
    let generated = reference::update(&committed).unwrap_or_else(|| {
        panic!(
            "README.md has no `{}` … `{}` lines around the spec reference",
            reference::BEGIN,
            reference::END
        )
    });
    if update() {
        std::fs::write(&path, &generated).expect("write README.md");
    }
    let committed = std::fs::read_to_string(&path).expect("README.md");
    assert!(
        committed == generated,
        "README.md's spec reference is stale: run `PYSLIM_UPDATE_SCHEMA=1 cargo test -p pyslim-spec --test schema` and commit it"
    );
}

#[test]
fn schema_has_every_key_and_nothing_else() {
    let schema = schema();
    let keys = |value: &serde_json::Value| {
        let mut keys: Vec<String> = value
            .as_object()
            .expect("properties")
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    };
    let sorted = |at: At| {
        let mut list: Vec<String> = KEYS
            .iter()
            .filter(|key| key.allowed_at(at))
            .map(|key| key.name.to_string())
            .collect();
        list.sort();
        list
    };
    assert_eq!(keys(&schema["properties"]), sorted(At::TopLevel));
    let target = &schema["properties"]["targets"]["additionalProperties"]["anyOf"][0]["properties"];
    assert_eq!(keys(target), sorted(At::Target));
    assert_eq!(schema["additionalProperties"], false);
}

/// YAML as the editor's schema validator sees it: plain scalars may be numbers or booleans.
fn json_of(node: &marked_yaml::Node) -> serde_json::Value {
    use marked_yaml::Node;
    use serde_json::Value;
    match node {
        Node::Scalar(s) if s.may_coerce() => match s.as_str() {
            "" | "~" | "null" => Value::Null,
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            text => text
                .parse::<i64>()
                .map(Value::from)
                .or_else(|_| text.parse::<f64>().map(Value::from))
                .unwrap_or_else(|_| Value::String(text.into())),
        },
        Node::Scalar(s) => Value::String(s.as_str().into()),
        Node::Sequence(items) => items.iter().map(json_of).collect(),
        Node::Mapping(map) => map
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), json_of(v)))
            .collect(),
    }
}

fn instance(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("readable");
    let options = marked_yaml::LoaderOptions::default().prevent_coercion(true);
    json_of(&marked_yaml::parse_yaml_with_options(0, &text, options).expect("YAML"))
}

#[test]
fn examples_validate_and_mistakes_do_not() {
    let validator = jsonschema::validator_for(&schema()).expect("a valid JSON Schema");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(root.join("../examples")).expect("examples") {
        let path = entry.expect("entry").path().join("pyslim.yaml");
        if path.exists() {
            let errors: Vec<String> = validator
                .iter_errors(&instance(&path))
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        }
    }
    // Mistakes a schema can see: unknown keys, wrong types, unquoted versions, credentials.
    for fixture in [
        "unknown_key",
        "python_list",
        "python_two",
        "env_list",
        "targets_list",
        "target_unknown_key",
        "index_credentials",
        "network_bridge",
        "user_unknown_key",
        "writable_relative",
        "writable_volume",
    ] {
        let path = root.join(format!("tests/fixtures/invalid/{fixture}.yaml"));
        assert!(
            !validator.is_valid(&instance(&path)),
            "{fixture} passes the schema"
        );
    }
}
