//! Answers to `docker buildx build --call=…` (`--print=…` on older buildx): information about
//! a spec instead of an image. Each answer is JSON in the shape buildx decodes, plus the same
//! as text for clients that only print.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use pyslim_spec::{SourceFile, Spec};
use serde_json::{Value, json};

use crate::lint::Warning;
use crate::sources::Python;

// The ids buildx sends as the `requestid` option. buildx 0.13 and 0.14 have only
// `--print=NAME` (with BUILDX_EXPERIMENTAL=1) and send `"frontend." + NAME` as written
// (build/build.go), so `--print=check` arrives as `frontend.check`. buildx 0.15 added
// `--call=NAME` (and kept `--print` as a hidden alias of it); its ParseCallFunc
// (util/buildflags) turns `check` into `lint` first, so both spellings arrive as
// `frontend.lint` there. `outline` and `targets` arrive as themselves in every version.
pub const DESCRIBE: &str = "frontend.subrequests.describe";
pub const OUTLINE: &str = "frontend.outline";
pub const TARGETS: &str = "frontend.targets";
pub const LINT: &str = "frontend.lint";
/// `--print=check` on buildx 0.13 and 0.14.
pub const CHECK: &str = "frontend.check";

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
            LINT | CHECK => Request::Lint,
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

pub fn outline(spec: &Spec, source: &SourceFile, python: &Python) -> Answer {
    let args: Vec<Value> = spec
        .args
        .iter()
        .map(|arg| {
            let description = match &arg.default {
                Some(_) => String::new(),
                None => format!(
                    "no default: pass --build-arg {}=… if it is used",
                    arg.name.as_str()
                ),
            };
            json!({
                "name": arg.name.as_str(),
                "value": arg.default.clone().unwrap_or_default(),
                "description": description,
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
    let outline = json!({
        "name": spec.target.clone().unwrap_or_default(),
        "description": outline_description(spec, source, python),
        "args": args,
        "secrets": secrets,
        "ssh": ssh,
        "sources": [base64(source.text.as_bytes())],
    });
    let text = print_outline(&outline);
    answer(outline, text, None)
}

/// buildx prints an outline from its JSON, and of a target only the name and the description
/// (moby/buildkit frontend/subrequests/outline: PrintOutline): what else the build reads has
/// to be said there, or a spec without build arguments, secrets or SSH prints nothing at all.
/// The first line is the target's own description.
fn outline_description(spec: &Spec, source: &SourceFile, python: &Python) -> String {
    let mut lines = Vec::new();
    let chosen = spec
        .target
        .as_ref()
        .and_then(|name| spec.targets.iter().find(|t| *t.name == *name));
    lines.push(match (&spec.target, chosen) {
        (None, _) => "the image the spec describes".to_string(),
        (Some(name), Some(target)) => target
            .description
            .clone()
            .unwrap_or_else(|| format!("the default image with what target {name} changes")),
        (Some(_), None) => "just the dependency wheels in /wheels".to_string(),
    });
    lines.push(format!(
        "{}; base images {} (compile) and {} (runtime)",
        python.describe(&source.name),
        spec.base.compile_image(&python.version).image,
        spec.base.runtime_image(&python.version).image
    ));
    let mut reads: Vec<String> = spec.requirements.iter().map(|r| r.to_string()).collect();
    if let Some(app) = &spec.app {
        reads.push(format!("the app in {}", app.path));
    }
    reads.extend(spec.find_links.iter().map(|d| format!("wheels in {d}")));
    lines.push(if reads.is_empty() {
        "build context: not read (nothing is installed from it)".to_string()
    } else {
        format!("build context: {}", reads.join(", "))
    });
    if !spec.runtime.is_empty() {
        let packages: Vec<&str> = spec.runtime.iter().map(|p| p.as_str()).collect();
        lines.push(format!(
            "apt packages in the image: {}",
            packages.join(", ")
        ));
    }
    let others: Vec<&str> = std::iter::once(pyslim_spec::WHEELS_TARGET)
        .chain(spec.targets.iter().map(|t| t.name.as_str()))
        .filter(|name| spec.target.as_deref() != Some(*name))
        .collect();
    let mut targets = format!("other targets (--target NAME): {}", others.join(", "));
    if spec.target.is_some() {
        targets.push_str("; without --target, the default image");
    }
    lines.push(targets);
    if spec.args.is_empty() {
        lines.push(
            "build arguments: none declared; add one under `args:` (`args: {VERSION: \"1.0\"}`), write `${VERSION}` in any value, and set it with `--build-arg VERSION=…`"
                .to_string(),
        );
    }
    lines.join("\n")
}

/// The outline as buildx's PrintOutline shows it (Go's tabwriter: each column as wide as its
/// widest cell plus padding), for clients that print `result.txt` instead.
fn print_outline(outline: &Value) -> String {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let mut out = String::new();
    let (name, description) = (text(&outline["name"]), text(&outline["description"]));
    if !name.is_empty() || !description.is_empty() {
        let name = if name.is_empty() {
            "(default)".into()
        } else {
            name
        };
        let mut rows = vec![vec!["TARGET:".to_string(), name]];
        if !description.is_empty() {
            rows.push(vec!["DESCRIPTION:".to_string(), description]);
        }
        out.push_str(&table(&rows, 1));
        out.push('\n');
    }
    let list = |key: &str| outline[key].as_array().cloned().unwrap_or_default();
    let args = list("args");
    if !args.is_empty() {
        let mut rows = vec![vec![
            "BUILD ARG".into(),
            "VALUE".into(),
            "DESCRIPTION".into(),
        ]];
        rows.extend(
            args.iter()
                .map(|a| vec![text(&a["name"]), text(&a["value"]), text(&a["description"])]),
        );
        out.push_str(&table(&rows, 3));
        out.push('\n');
    }
    for (key, heading) in [("secrets", "SECRET"), ("ssh", "SSH")] {
        let items = list(key);
        if items.is_empty() {
            continue;
        }
        let required = |v: &Value| if v["required"] == true { "true" } else { "" }.to_string();
        let mut rows = vec![vec![heading.to_string(), "REQUIRED".to_string()]];
        rows.extend(items.iter().map(|s| vec![text(&s["name"]), required(s)]));
        out.push_str(&table(&rows, 3));
        out.push('\n');
    }
    out
}

/// Rows of cells, every column but the last padded to its widest cell plus `padding`. A cell
/// spanning lines ends the table at its first line break, as a tabwriter's column block does.
fn table(rows: &[Vec<String>], padding: usize) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width = |column: usize| {
        rows.iter()
            .filter_map(|row| row.get(column))
            .map(|cell| cell.lines().next().unwrap_or_default().chars().count())
            .max()
            .unwrap_or(0)
            + padding
    };
    let widths: Vec<usize> = (0..columns.saturating_sub(1)).map(width).collect();
    let mut out = String::new();
    for row in rows {
        for (column, cell) in row.iter().enumerate() {
            match widths.get(column) {
                Some(width) if column + 1 < row.len() => {
                    let _ = write!(out, "{cell:<width$}");
                }
                _ => out.push_str(cell),
            }
        }
        out.push('\n');
    }
    out
}

pub fn targets(spec: &Spec, source: &SourceFile, python: &Python) -> Answer {
    let base = spec.base.runtime_image(&python.version).image;
    let mut list = vec![json!({
        "name": "",
        "default": true,
        "description": "the image the spec describes (build without --target)",
        "base": base.as_str(),
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
            "base": base.as_str(),
            "location": location(0, target.name.span.line),
        }));
        let _ = writeln!(text, "{:<24} {description}", target.name.as_str());
    }
    let targets = json!({"targets": list, "sources": [base64(source.text.as_bytes())]});
    answer(targets, text, None)
}

pub fn lint(
    source: &SourceFile,
    files: &[SourceFile],
    warnings: &[Warning],
    python: &Python,
) -> Answer {
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
    // The JSON has no place for anything but warnings (buildx fails a check that has any), so
    // the Python the checks were made for is said in the text alone.
    let mut text = format!("Checked for {}.\n", python.describe(&source.name));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_buildx_sends_is_understood() {
        for (id, request) in [
            ("frontend.outline", Request::Outline),
            ("frontend.targets", Request::Targets),
            ("frontend.lint", Request::Lint),
            ("frontend.check", Request::Lint),
            ("frontend.subrequests.describe", Request::Describe),
        ] {
            assert_eq!(Request::from_id(id), request, "{id}");
        }
        assert_eq!(
            Request::from_id("frontend.build"),
            Request::Unknown("frontend.build".into())
        );
    }

    #[test]
    fn a_target_without_a_description_still_leads_with_one_line() {
        let spec = pyslim_spec::load_with(
            SourceFile::new(
                "pyslim.yaml",
                "python: \"3.11\"\nrequirements: r.txt\ntargets:\n  debug:\n    env: {DEBUG: \"1\"}\n",
            ),
            &pyslim_spec::LoadOptions {
                target: Some("debug".into()),
                ..Default::default()
            },
        )
        .expect("valid");
        let python = Python::written(&spec).expect("written");
        let description = outline_description(&spec, &SourceFile::new("pyslim.yaml", ""), &python);
        assert!(
            description.starts_with(
                "the default image with what target debug changes\n\
                 python 3.11, from pyslim.yaml; base images python:3.11 (compile) and python:3.11-slim (runtime)\n\
                 build context: r.txt\n"
            ),
            "{description}"
        );
        assert!(
            description.contains(
                "\nother targets (--target NAME): wheels; without --target, the default image\n"
            ),
            "{description}"
        );
    }

    #[test]
    fn the_text_outline_is_laid_out_like_buildx_prints_it() {
        let spec = pyslim_spec::load(SourceFile::new(
            "pyslim.yaml",
            "python: \"3.11\"\nargs: {PY: \"3.11\", TOKEN: }\nrequirements: r.txt\nindex: {secret: pypi-netrc}\nssh: default\n",
        ))
        .expect("valid");
        let python = Python::written(&spec).expect("written");
        let answer = outline(&spec, &SourceFile::new("pyslim.yaml", ""), &python);
        let text = String::from_utf8_lossy(&answer["result.txt"]).into_owned();
        assert_eq!(
            text,
            "TARGET:      (default)\n\
             DESCRIPTION: the image the spec describes\n\
             python 3.11, from pyslim.yaml; base images python:3.11 (compile) and python:3.11-slim (runtime)\n\
             build context: r.txt\n\
             other targets (--target NAME): wheels\n\
             \n\
             BUILD ARG   VALUE   DESCRIPTION\n\
             PY          3.11    \n\
             TOKEN               no default: pass --build-arg TOKEN=… if it is used\n\
             \n\
             SECRET       REQUIRED\n\
             pypi-netrc   true\n\
             \n\
             SSH       REQUIRED\n\
             default   true\n\
             \n"
        );
    }
}
