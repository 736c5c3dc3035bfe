//! The JSON Schema of a spec, for editors (`# yaml-language-server: $schema=…`): completion,
//! hover text and the first line of validation. The loader stays the authority — it also
//! checks what a schema cannot (paths inside the context, `${ARG}`s, package names).
//!
//! Built from the same key lists the loader uses; a test keeps the two in step and the
//! committed `schema/pyslim.schema.json` fresh.

use serde_json::{Map, Value, json};

use crate::validate::{BASE_KEYS, INDEX_KEYS, KEYS, SSH_KEYS, TARGET_KEYS};

pub fn schema() -> Value {
    let mut properties = Map::new();
    for key in KEYS {
        properties.insert(key.to_string(), property(key));
    }
    let mut target = Map::new();
    for key in TARGET_KEYS {
        target.insert(key.to_string(), property(key));
    }
    properties.insert(
        "targets".into(),
        json!({
            "description": "Named variants, built with `docker buildx build --target NAME`: lists add to the default image's, mappings merge, single values replace.",
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
            "additionalProperties": {
                "anyOf": [
                    {"type": "object", "properties": target, "additionalProperties": false},
                    {"type": "null"}
                ]
            }
        }),
    );
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "pyslim spec",
        "description": "A slim Python container image, built by the pyslim BuildKit frontend (first line: `# syntax=org/pyslim`).",
        "type": "object",
        "required": ["python"],
        "properties": properties,
        "additionalProperties": false
    })
}

fn strings(description: &str) -> Value {
    json!({
        "description": description,
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    })
}

fn argv(description: &str) -> Value {
    json!({"description": description, "type": "array", "items": {"type": "string"}})
}

fn mapping(description: &str) -> Value {
    json!({
        "description": description,
        "type": "object",
        "additionalProperties": {"type": ["string", "number", "boolean"]}
    })
}

fn property(key: &str) -> Value {
    match key {
        "python" => json!({
            "description": "Python version: selects python:X (compile) and python:X-slim (runtime). Quote it: YAML reads 3.10 as 3.1.",
            "type": "string",
            "pattern": "^(3\\.[0-9]+(\\.[0-9]+)?|.*\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}.*)$",
            "examples": ["3.12", "3.11"]
        }),
        "requirements" => strings(
            "Requirements files in the build context (with their -r/-c includes), or a pyproject.toml whose [project] dependencies are installed.",
        ),
        "app" => {
            json!({"description": "A project directory (pyproject.toml or setup.py) in the build context, built to a wheel and installed after the dependencies.", "type": "string"})
        }
        "system" => strings("Build-time apt packages (headers, tools), compile stage only."),
        "runtime" => strings("Run-time apt packages (shared libraries), installed into the image."),
        "entrypoint" => {
            argv("ENTRYPOINT, exec form. Replaces the base image's CMD unless `cmd` is given.")
        }
        "cmd" => argv("CMD, exec form; [] clears it."),
        "env" => mapping("Environment variables of the image."),
        "workdir" => {
            json!({"description": "Working directory (absolute), created and owned by `user`.", "type": "string", "pattern": "^/"})
        }
        "user" => {
            json!({"description": "The user the container runs as; default `app`, created by pyslim. `root` is allowed.", "type": "string", "pattern": "^(root|[a-z_][a-z0-9_-]{0,31})$"})
        }
        "expose" => json!({
            "description": "Ports the app listens on, like 8000 or 53/udp.",
            "type": "array",
            "items": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 65535}, {"type": "string", "pattern": "^[0-9]+(/(tcp|udp))?$"}]}
        }),
        "labels" => mapping("Image labels; `docker buildx build --label` adds more."),
        "base" => {
            let mut properties = Map::new();
            for key in BASE_KEYS {
                let description = match *key {
                    "compile" => "The image that builds the wheels (default python:X).",
                    _ => "The image the result is built on (default python:X-slim).",
                };
                properties.insert(
                    key.to_string(),
                    json!({"description": description, "type": "string"}),
                );
            }
            json!({"description": "Override either base image.", "type": "object", "properties": properties, "additionalProperties": false})
        }
        "extras" => strings("Optional-dependency groups of the pyproject.toml in `requirements`."),
        "index" => {
            let mut properties = Map::new();
            for key in INDEX_KEYS {
                let value = match *key {
                    "url" => {
                        json!({"description": "The index that replaces PyPI (a PEP 503 simple index). No credentials in the URL: use `secret`.", "type": "string", "pattern": "^https?://[^@/]+(/.*)?$"})
                    }
                    "extra" => strings("More indexes to search."),
                    _ => {
                        json!({"description": "Id of a BuildKit secret holding a netrc file with the index credentials (`--secret id=ID,src=$HOME/.netrc`).", "type": "string", "pattern": "^[A-Za-z0-9._-]+$"})
                    }
                };
                properties.insert(key.to_string(), value);
            }
            json!({
                "description": "Where packages come from; `none` for offline builds from `find-links`.",
                "anyOf": [
                    {"const": "none"},
                    {"type": "object", "properties": properties, "additionalProperties": false}
                ]
            })
        }
        "ssh" => {
            let mut properties = Map::new();
            for key in SSH_KEYS {
                let value = match *key {
                    "id" => {
                        json!({"description": "The agent's id as the build forwards it (`--ssh default`).", "type": "string", "pattern": "^[A-Za-z0-9._-]+$"})
                    }
                    _ => strings(
                        "known_hosts lines (`ssh-keyscan HOST`) of the hosts git may reach; without them a host key is accepted on first use.",
                    ),
                };
                properties.insert(key.to_string(), value);
            }
            json!({
                "description": "Forward an SSH agent to the downloading steps, for `git+ssh://` requirements.",
                "anyOf": [
                    {"type": "string", "pattern": "^[A-Za-z0-9._-]+$"},
                    {"type": "object", "properties": properties, "additionalProperties": false}
                ]
            })
        }
        "find-links" => strings("Wheel directories in the build context that pip looks in first."),
        "installer" => {
            json!({"description": "What installs the built wheels into the image: `uv` (default) or `pip`. Both leave the same files.", "enum": ["uv", "pip"]})
        }
        "network" => {
            json!({"description": "`host`: the downloading steps use the host's network (build with --allow network.host).", "enum": ["host", "default"]})
        }
        "args" => json!({
            "description": "Build arguments and their defaults; `${NAME}` in any value is replaced, `--build-arg NAME=value` overrides.",
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
            "additionalProperties": {"type": ["string", "number", "boolean", "null"]}
        }),
        "description" => {
            json!({"description": "What this target is for, shown by `--call=targets`.", "type": "string"})
        }
        // Filled in by `schema`, which knows the target keys.
        "targets" => json!({}),
        other => unreachable!("`{other}` has no schema: add it here"),
    }
}
