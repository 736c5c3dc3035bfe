//! Answers to `docker buildx build --call=…` (`--print=…` on older buildx): information about
//! a spec instead of an image. Each answer is JSON in the shape buildx decodes, plus the same
//! as text for clients that only print.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use pyslim_spec::{SourceFile, Spec};
use serde_json::{Value, json};

use crate::lint::Warning;

pub const DESCRIBE: &str = "frontend.subrequests.describe";
pub const OUTLINE: &str = "frontend.outline";
pub const TARGETS: &str = "frontend.targets";
pub const LINT: &str = "frontend.lint";

/// What `--call` asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Describe,
    Outline,
    Targets,
    Lint,
    /// A request pyslim does not answer (a newer buildx's, or a typo).
    Unknown(String),
}

impl Request {
    pub fn from_id(id: &str) -> Request {
        match id {
            DESCRIBE => Request::Describe,
            OUTLINE => Request::Outline,
            TARGETS => Request::Targets,
            LINT => Request::Lint,
            other => Request::Unknown(other.to_string()),
        }
    }
}

/// The result metadata of one answer.
pub type Answer = BTreeMap<String, Vec<u8>>;

pub fn describe() -> Answer {
    let requests = [
        (
            OUTLINE,
            "List the build arguments, secrets and SSH sockets of the build",
        ),
        (TARGETS, "List the targets of the spec"),
        (
            LINT,
            "Check the spec and its requirements files for problems that still build",
        ),
    ];
    let list: Vec<Value> = requests
        .iter()
        .map(|(name, description)| {
            json!({"name": name, "version": "1.0.0", "type": "rpc", "description": description})
        })
        .collect();
    let mut text = String::new();
    for (name, description) in requests {
        let _ = writeln!(text, "{name:<24} {description}");
    }
    answer(json!(list), text, None)
}

pub fn outline(spec: &Spec, source: &SourceFile) -> Answer {
    let args: Vec<Value> = spec
        .args
        .iter()
        .map(|arg| {
            json!({
                "name": arg.name.as_str(),
                "value": arg.default.clone().unwrap_or_default(),
                "location": location(0, arg.name.span.line),
            })
        })
        .collect();
    let secrets: Vec<Value> = spec
        .index
        .secret
        .iter()
        .map(|id| json!({"name": id.as_str(), "required": true, "location": location(0, id.span.line)}))
        .collect();
    let ssh: Vec<Value> = spec
        .ssh
        .iter()
        .map(|ssh| json!({"name": ssh.id.as_str(), "required": true, "location": location(0, ssh.id.span.line)}))
        .collect();
    let description = spec
        .target
        .as_ref()
        .and_then(|name| spec.targets.iter().find(|t| *t.name == *name))
        .and_then(|t| t.description.clone())
        .unwrap_or_default();
    let outline = json!({
        "name": spec.target.clone().unwrap_or_default(),
        "description": description,
        "args": args,
        "secrets": secrets,
        "ssh": ssh,
        "sources": [base64(source.text.as_bytes())],
    });
    let mut text = String::new();
    if let Some(target) = &spec.target {
        let _ = writeln!(text, "TARGET:      {target}");
        if !description.is_empty() {
            let _ = writeln!(text, "DESCRIPTION: {description}");
        }
        text.push('\n');
    }
    if !spec.args.is_empty() {
        let _ = writeln!(text, "{:<24} DEFAULT", "BUILD ARG");
        for arg in &spec.args {
            let _ = writeln!(
                text,
                "{:<24} {}",
                arg.name.as_str(),
                arg.default.as_deref().unwrap_or("(none: pass --build-arg)")
            );
        }
        text.push('\n');
    }
    if let Some(id) = &spec.index.secret {
        let _ = writeln!(text, "{:<24} REQUIRED", "SECRET");
        let _ = writeln!(text, "{:<24} true", id.as_str());
    }
    if let Some(ssh) = &spec.ssh {
        let _ = writeln!(text, "{:<24} REQUIRED", "SSH");
        let _ = writeln!(text, "{:<24} true", ssh.id.as_str());
    }
    answer(outline, text, None)
}

pub fn targets(spec: &Spec, source: &SourceFile) -> Answer {
    let mut list = vec![json!({
        "name": "",
        "default": true,
        "description": "the image the spec describes (build without --target)",
        "base": spec.base.runtime.as_str(),
    })];
    let mut text = format!(
        "{:<24} {}\n{:<24} {}\n",
        "TARGET", "DESCRIPTION", "(default)", "the image the spec describes"
    );
    list.push(json!({
        "name": pyslim_spec::WHEELS_TARGET,
        "description": "just the dependency wheels in /wheels, for other builds' `--build-context wheels=docker-image://…`",
    }));
    let _ = writeln!(
        text,
        "{:<24} just the dependency wheels in /wheels",
        pyslim_spec::WHEELS_TARGET
    );
    for target in &spec.targets {
        let description = target.description.clone().unwrap_or_default();
        list.push(json!({
            "name": target.name.as_str(),
            "description": description,
            "base": spec.base.runtime.as_str(),
            "location": location(0, target.name.span.line),
        }));
        let _ = writeln!(text, "{:<24} {description}", target.name.as_str());
    }
    let targets = json!({"targets": list, "sources": [base64(source.text.as_bytes())]});
    answer(targets, text, None)
}

pub fn lint(source: &SourceFile, files: &[SourceFile], warnings: &[Warning]) -> Answer {
    let sources: Vec<Value> = std::iter::once(source)
        .chain(files)
        .map(|f| {
            json!({"filename": f.name, "data": base64(f.text.as_bytes()), "language": f.kind.language()})
        })
        .collect();
    let list: Vec<Value> = warnings
        .iter()
        .map(|w| {
            json!({
                "ruleName": w.rule,
                "description": w.description,
                "detail": w.detail,
                "location": location(w.file, w.line),
            })
        })
        .collect();
    let mut text = String::new();
    for w in warnings {
        let file = match w.file {
            0 => source.name.as_str(),
            n => files[n - 1].name.as_str(),
        };
        let _ = writeln!(
            text,
            "WARNING: {} - {file}:{}\n{}\n{}\n",
            w.rule, w.line, w.description, w.detail
        );
    }
    if warnings.is_empty() {
        text.push_str("Check complete, no warnings found.\n");
    } else {
        let _ = writeln!(
            text,
            "Check complete, {} warning{} found.",
            warnings.len(),
            if warnings.len() == 1 { "" } else { "s" }
        );
    }
    // Like `docker build --check`: warnings fail the check, so CI notices them.
    let status = if warnings.is_empty() { 0 } else { 1 };
    answer(
        json!({"warnings": list, "sources": sources}),
        text,
        Some(status),
    )
}

fn answer(json: Value, text: String, status: Option<i32>) -> Answer {
    let mut metadata = BTreeMap::from([
        (
            "result.json".to_string(),
            serde_json::to_vec(&json).expect("JSON serialises"),
        ),
        ("result.txt".to_string(), text.into_bytes()),
        ("version".to_string(), b"1.0.0".to_vec()),
    ]);
    if let Some(status) = status {
        metadata.insert("result.statuscode".into(), status.to_string().into_bytes());
    }
    metadata
}

fn location(source: usize, line: u32) -> Value {
    json!({
        "sourceIndex": source,
        "ranges": [{"start": {"line": line}, "end": {"line": line}}],
    })
}

fn base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}
