//! The returned image's config: the runtime base image's config, with what the spec and the
//! build options say on top, and one history entry per layer the plan adds.

use std::collections::BTreeMap;

use pyslim_spec::Spec;
use serde_json::{Map, Value, json};

use crate::platform::Platform;

/// The base image's config JSON (as ResolveImageConfig returns it) turned into ours.
/// A base config that is not a JSON object is treated as empty: the engine resolved it, so
/// a strange one is the base image's problem, not a reason to fail the build.
/// The runtime base image as resolved: its config JSON, and the name and digest that the
/// image's `org.opencontainers.image.base.*` labels record for scanners and rebuild bots.
pub struct Base<'a> {
    pub config: &'a [u8],
    pub name: &'a str,
    pub digest: &'a str,
}

pub fn config(
    base: &Base<'_>,
    spec: &Spec,
    labels: &BTreeMap<String, String>,
    platform: &Platform,
    layers: &[&str],
    workdir: Option<&str>,
    from_scratch: bool,
) -> Value {
    let mut image = match serde_json::from_slice::<Value>(base.config) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    // The exporter writes rootfs from the layers it actually exports.
    image.remove("rootfs");
    image.insert("os".into(), json!(platform.os));
    image.insert("architecture".into(), json!(platform.architecture));
    match &platform.variant {
        Some(variant) => image.insert("variant".into(), json!(variant)),
        None => image.remove("variant"),
    };

    let mut config = match image.remove("config") {
        Some(Value::Object(config)) => config,
        _ => Map::new(),
    };
    let mut env = strings(config.get("Env"));
    for (name, value) in &spec.env {
        set_env(&mut env, name.as_str(), value);
    }
    config.insert("Env".into(), json!(env));

    // Like Dockerfile ENTRYPOINT: a new entrypoint drops the base image's CMD unless one is given.
    if let Some(entrypoint) = &spec.entrypoint {
        config.insert("Entrypoint".into(), json!(entrypoint.value));
        if spec.cmd.is_none() {
            config.insert("Cmd".into(), Value::Null);
        }
    }
    if let Some(cmd) = &spec.cmd {
        config.insert("Cmd".into(), json!(cmd.value));
    }
    if let Some(workdir) = workdir {
        config.insert("WorkingDir".into(), json!(workdir));
    }
    config.insert("User".into(), json!(spec.user.config()));
    let volumes: Vec<&str> = spec
        .writable
        .iter()
        .filter(|dir| dir.volume)
        .map(|dir| dir.path.as_str())
        .collect();
    if !volumes.is_empty() {
        let all = object_entry(&mut config, "Volumes");
        for volume in volumes {
            all.insert(volume.into(), json!({}));
        }
    }
    if !spec.expose.is_empty() {
        let ports = object_entry(&mut config, "ExposedPorts");
        for port in &spec.expose {
            ports.insert(port.to_string(), json!({}));
        }
    }
    let all = object_entry(&mut config, "Labels");
    all.insert(
        "org.opencontainers.image.base.name".into(),
        json!(base.name),
    );
    if !base.digest.is_empty() {
        all.insert(
            "org.opencontainers.image.base.digest".into(),
            json!(base.digest),
        );
    }
    for (key, value) in spec.labels.iter().chain(labels) {
        all.insert(key.clone(), json!(value));
    }
    image.insert("config".into(), Value::Object(config));

    // An image gathered onto nothing has none of the base's layers, so none of its history.
    let mut history = match image.remove("history") {
        Some(Value::Array(history)) if !from_scratch => history,
        _ => Vec::new(),
    };
    history.extend(
        layers
            .iter()
            .map(|created_by| json!({"created_by": created_by, "comment": "pyslim"})),
    );
    image.insert("history".into(), Value::Array(history));
    Value::Object(image)
}

/// The config of an image that only carries files (`--target wheels`): no base, nothing to run.
pub fn files_only(
    labels: &BTreeMap<String, String>,
    platform: &Platform,
    layers: &[&str],
) -> Value {
    let mut image = json!({
        "os": platform.os,
        "architecture": platform.architecture,
        "config": {"Labels": labels},
        "history": layers.iter().map(|l| json!({"created_by": l, "comment": "pyslim"})).collect::<Vec<_>>(),
    });
    if let Some(variant) = &platform.variant {
        image["variant"] = json!(variant);
    }
    image
}

/// Stamps a config with the build's epoch: its `created`, and that of the last `added` history
/// entries (pyslim's, after the base image's, which keep their own). Without an epoch the
/// exporter stamps both with the time each layer was made.
pub fn stamp(image: &mut Value, epoch: Option<u64>, added: usize) {
    let Some(epoch) = epoch else {
        return;
    };
    let created = json!(rfc3339(epoch));
    image["created"] = created.clone();
    if let Some(history) = image.get_mut("history").and_then(Value::as_array_mut) {
        let from = history.len().saturating_sub(added);
        for entry in &mut history[from..] {
            entry["created"] = created.clone();
        }
    }
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ`, the form image configs use.
fn rfc3339(seconds: u64) -> String {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    // Howard Hinnant's days-to-civil, for days since 1970-01-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The `Env` of a base config, as `K=V` strings.
pub fn env(base: &[u8]) -> Vec<String> {
    serde_json::from_slice::<Value>(base)
        .ok()
        .map(|v| strings(v.get("config").and_then(|c| c.get("Env"))))
        .unwrap_or_default()
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn set_env(env: &mut Vec<String>, name: &str, value: &str) {
    let entry = format!("{name}={value}");
    match env.iter_mut().find(|e| e.split('=').next() == Some(name)) {
        Some(existing) => *existing = entry,
        None => env.push(entry),
    }
}

fn object_entry<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map.entry(key).or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    slot.as_object_mut().expect("made an object just above")
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyslim_spec::{SourceFile, load};

    fn spec(yaml: &str) -> Spec {
        load(SourceFile::new("pyslim.yaml", yaml)).expect("valid spec")
    }

    const BASE: &str = r#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:aa"]},
        "config":{"Env":["PATH=/usr/local/bin:/usr/bin","LANG=C.UTF-8"],"Cmd":["python3"],"Labels":{"base":"yes"}},
        "history":[{"created_by":"debootstrap"}]}"#;

    fn base(config: &[u8]) -> Base<'_> {
        Base {
            config,
            name: "docker.io/library/python:3.11-slim",
            digest: "sha256:ab",
        }
    }

    fn amd64() -> Platform {
        Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }

    /// The config of `spec`'s image on `BASE` for amd64, with no labels of the build's and no
    /// workdir of the plan's.
    fn on_base(spec: &Spec, layers: &[&str], from_scratch: bool) -> Value {
        config(
            &base(BASE.as_bytes()),
            spec,
            &BTreeMap::new(),
            &amd64(),
            layers,
            None,
            from_scratch,
        )
    }

    #[test]
    fn an_image_from_nothing_has_only_its_own_history() {
        let spec = spec("python: '3.11'\napp: .\nflavor: minimal\n");
        let layers = ["pyslim: minimal interpreter", "pyslim: minimal app"];
        let image = on_base(&spec, &layers, true);
        let history: Vec<&Value> = image["history"]
            .as_array()
            .expect("a history list")
            .iter()
            .collect();
        assert_eq!(history.len(), 2, "{history:?}");
        assert_eq!(history[0]["created_by"], json!(layers[0]));
        // What the base says about running stays: its PATH finds the gathered interpreter.
        assert_eq!(
            image["config"]["Env"][0],
            json!("PATH=/usr/local/bin:/usr/bin")
        );
    }

    #[test]
    fn spec_fields_land_on_the_base_config() {
        let spec = spec(
            "python: '3.11'\napp: .\nentrypoint: [python, -m, app]\nenv: {LANG: en_US.UTF-8, MODE: prod}\nworkdir: /app\nexpose: [8000, 53/udp]\nlabels: {team: py}\n",
        );
        let labels = BTreeMap::from([("build".to_string(), "ci".to_string())]);
        let image = config(
            &base(BASE.as_bytes()),
            &spec,
            &labels,
            &amd64(),
            &["pyslim: install app"],
            Some("/app"),
            false,
        );
        let c = &image["config"];
        assert_eq!(
            c["Env"],
            json!([
                "PATH=/usr/local/bin:/usr/bin",
                "LANG=en_US.UTF-8",
                "MODE=prod"
            ])
        );
        assert_eq!(c["Entrypoint"], json!(["python", "-m", "app"]));
        assert_eq!(c["Cmd"], Value::Null, "a new entrypoint drops the base CMD");
        assert_eq!(c["WorkingDir"], json!("/app"));
        assert_eq!(c["User"], json!("10001:10001"), "numeric, for runAsNonRoot");
        assert!(c.get("Volumes").is_none(), "{c}");
        assert_eq!(c["ExposedPorts"], json!({"8000/tcp": {}, "53/udp": {}}));
        assert_eq!(
            c["Labels"],
            json!({"base": "yes", "team": "py", "build": "ci",
                "org.opencontainers.image.base.name": "docker.io/library/python:3.11-slim",
                "org.opencontainers.image.base.digest": "sha256:ab"})
        );
        assert!(image.get("rootfs").is_none());
        assert_eq!(image["history"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            image["history"][1]["created_by"],
            json!("pyslim: install app")
        );
    }

    #[test]
    fn base_cmd_stays_without_entrypoint_and_root_is_kept() {
        let spec = spec("python: '3.11'\napp: .\nuser: root\n");
        let image = on_base(&spec, &[], false);
        assert_eq!(image["config"]["Cmd"], json!(["python3"]));
        assert_eq!(image["config"]["User"], json!("root"));
    }

    #[test]
    fn users_are_numeric_and_writable_volumes_are_declared() {
        let web = spec(
            "python: '3.11'\napp: .\nuser: {name: web, uid: 20001, gid: 0}\nwritable: [/app/media, {path: /data, volume: true}, {path: /srv/cache, volume: true}]\n",
        );
        let with_volume = r#"{"config":{"Volumes":{"/base":{}}}}"#;
        let image = config(
            &base(with_volume.as_bytes()),
            &web,
            &BTreeMap::new(),
            &amd64(),
            &[],
            None,
            false,
        );
        assert_eq!(image["config"]["User"], json!("20001:0"));
        // The base image's volumes stay: a Dockerfile's VOLUME adds to them too.
        assert_eq!(
            image["config"]["Volumes"],
            json!({"/base": {}, "/data": {}, "/srv/cache": {}})
        );
        let root = spec("python: '3.11'\napp: .\nuser: '0'\n");
        let image = config(
            &base(b"{}"),
            &root,
            &BTreeMap::new(),
            &amd64(),
            &[],
            None,
            false,
        );
        assert_eq!(image["config"]["User"], json!("root"));
    }

    #[test]
    fn the_epoch_stamps_the_config_and_only_pyslims_history() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_735_689_599), "2024-12-31T23:59:59Z");
        let spec = spec("python: '3.11'\napp: .\n");
        let layers = ["pyslim: install dependencies", "pyslim: install app"];
        let built = || on_base(&spec, &layers, false);
        let mut image = built();
        stamp(&mut image, Some(1_700_000_000), layers.len());
        assert_eq!(image["created"], json!("2023-11-14T22:13:20Z"));
        let history = image["history"].as_array().expect("a history list");
        assert_eq!(history.len(), 3);
        assert!(history[0].get("created").is_none(), "the base's own entry");
        assert!(
            history[1..]
                .iter()
                .all(|h| h["created"] == json!("2023-11-14T22:13:20Z")),
            "{history:?}"
        );
        let mut unstamped = built();
        stamp(&mut unstamped, None, layers.len());
        assert_eq!(unstamped, built());
    }

    #[test]
    fn garbage_base_config_still_yields_a_valid_config() {
        let spec = spec("python: '3.11'\napp: .\n");
        let image = config(
            &base(b"not json"),
            &spec,
            &BTreeMap::new(),
            &amd64(),
            &[],
            None,
            false,
        );
        assert_eq!(image["os"], json!("linux"));
        assert_eq!(image["config"]["Env"], json!([]));
        assert_eq!(env(b"not json"), Vec::<String>::new());
        assert_eq!(
            env(BASE.as_bytes()),
            vec!["PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8"]
        );
    }
}
