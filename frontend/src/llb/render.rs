//! A `pb::Definition` as text, one op per line, for golden tests and debugging: what
//! `buildctl debug dump-llb` shows, shortened so a change to the graph reads as a small diff.
//! Inputs are named by the line of the op that produces them.

use std::collections::HashMap;
use std::fmt::Write;

use bollard_buildkit_proto::pb;
use prost::Message;

use super::marshal::digest;

pub fn render(definition: &pb::Definition) -> String {
    let mut out = String::new();
    let mut lines: HashMap<String, usize> = HashMap::new();
    for (n, bytes) in definition.def.iter().enumerate() {
        let digest = digest(bytes);
        lines.insert(digest.clone(), n);
        let op = match pb::Op::decode(bytes.as_slice()) {
            Ok(op) => op,
            Err(error) => {
                let _ = writeln!(out, "#{n} {} <undecodable op: {error}>", short(&digest));
                continue;
            }
        };
        let input = |i: &pb::Input| match lines.get(&i.digest) {
            Some(line) if i.index == 0 => format!("#{line}"),
            Some(line) => format!("#{line}.{}", i.index),
            None => format!("{}?", short(&i.digest)),
        };
        let _ = write!(out, "#{n} {}", short(&digest));
        let meta = definition.metadata.get(&digest);
        if let Some(name) = meta.and_then(|m| m.description.get("llb.customname")) {
            let _ = write!(out, " {name:?}");
        }
        match &op.op {
            None => {
                let targets: Vec<_> = op.inputs.iter().map(input).collect();
                let _ = write!(out, " result {}", targets.join(" "));
            }
            Some(pb::op::Op::Source(source)) => {
                let _ = write!(out, " source {}", source.identifier);
                for (key, value) in &source.attrs {
                    let _ = write!(out, " {key}={value}");
                }
            }
            Some(pb::op::Op::Exec(exec)) => {
                let _ = write!(out, " exec");
                if let Some(m) = &exec.meta {
                    let _ = write!(out, " args={:?} cwd={}", m.args, m.cwd);
                    if !m.user.is_empty() {
                        let _ = write!(out, " user={}", m.user);
                    }
                    let _ = write!(out, " env={:?}", m.env);
                }
                if exec.network != 0 {
                    let _ = write!(out, " network={}", exec.network);
                }
                for mount in &exec.mounts {
                    let _ = write!(out, " mount[{}", mount.dest);
                    match pb::MountType::try_from(mount.mount_type) {
                        Ok(pb::MountType::Cache) => {
                            if let Some(cache) = &mount.cache_opt {
                                let sharing = pb::CacheSharingOpt::try_from(cache.sharing)
                                    .map_or("?", |s| s.as_str_name());
                                let _ = write!(out, " cache id={} sharing={sharing}", cache.id);
                            }
                        }
                        Ok(pb::MountType::Secret) => {
                            let id = mount.secret_opt.as_ref().map_or("", |s| s.id.as_str());
                            let _ = write!(out, " secret id={id}");
                        }
                        Ok(pb::MountType::Ssh) => {
                            let id = mount.ssh_opt.as_ref().map_or("", |s| s.id.as_str());
                            let _ = write!(out, " ssh id={id}");
                        }
                        Ok(pb::MountType::Tmpfs) => {
                            let _ = write!(out, " tmpfs");
                        }
                        _ => {
                            let from = usize::try_from(mount.input)
                                .ok()
                                .and_then(|i| op.inputs.get(i))
                                .map_or_else(|| "scratch".to_string(), input);
                            let _ = write!(out, " <- {from}");
                            if !mount.selector.is_empty() {
                                let _ = write!(out, ":{}", mount.selector);
                            }
                            if mount.readonly {
                                let _ = write!(out, " ro");
                            }
                            if mount.content_cache == pb::MountContentCache::Off as i32 {
                                let _ = write!(out, " unhashed");
                            }
                        }
                    }
                    if mount.output >= 0 {
                        let _ = write!(out, " out={}", mount.output);
                    }
                    let _ = write!(out, "]");
                }
            }
            Some(pb::op::Op::File(file)) => {
                let on: Vec<_> = op.inputs.iter().map(input).collect();
                let on = if on.is_empty() {
                    "scratch".to_string()
                } else {
                    on.join(" ")
                };
                let _ = write!(out, " file on {on}");
                for action in &file.actions {
                    match &action.action {
                        Some(pb::file_action::Action::Mkdir(mkdir)) => {
                            let _ = write!(out, " mkdir {} mode={:o}", mkdir.path, mkdir.mode);
                            if mkdir.make_parents {
                                let _ = write!(out, " parents");
                            }
                            if let Some(owner) = &mkdir.owner {
                                let _ = write!(out, " owner={}", chown(owner));
                            }
                            if mkdir.timestamp >= 0 {
                                let _ = write!(out, " time={}", mkdir.timestamp / 1_000_000_000);
                            }
                        }
                        Some(pb::file_action::Action::Mkfile(mkfile)) => {
                            let _ = write!(
                                out,
                                " mkfile {} mode={:o} data={}",
                                mkfile.path,
                                mkfile.mode,
                                file_data(&mkfile.data)
                            );
                        }
                        Some(pb::file_action::Action::Copy(copy)) => {
                            let from = usize::try_from(action.secondary_input)
                                .ok()
                                .and_then(|i| op.inputs.get(i))
                                .map_or_else(|| "?".to_string(), input);
                            let _ = write!(out, " copy {from}:{} -> {}", copy.src, copy.dest);
                            if let Some(owner) = &copy.owner {
                                let _ = write!(out, " owner={}", chown(owner));
                            }
                            if copy.timestamp >= 0 {
                                let _ = write!(out, " time={}", copy.timestamp / 1_000_000_000);
                            }
                        }
                        other => {
                            let _ = write!(out, " {other:?}");
                        }
                    }
                }
            }
            Some(other) => {
                let _ = write!(out, " {other:?}");
            }
        }
        if let Some(platform) = &op.platform {
            let _ = write!(out, " platform={}/{}", platform.os, platform.architecture);
        }
        if !matches!(op.op, None | Some(pb::op::Op::File(_))) && !op.inputs.is_empty() {
            let ins: Vec<_> = op.inputs.iter().map(input).collect();
            let _ = write!(out, " inputs={}", ins.join(","));
        }
        if let Some(meta) = meta {
            if meta.ignore_cache {
                let _ = write!(out, " no-cache");
            }
            if !meta.caps.is_empty() {
                let caps: Vec<_> = meta.caps.keys().map(String::as_str).collect();
                let _ = write!(out, " caps={}", caps.join(","));
            }
        }
        if let Some(location) = definition
            .source
            .as_ref()
            .and_then(|s| s.locations.get(&digest))
        {
            for range in location.locations.iter().flat_map(|l| &l.ranges) {
                let line = |p: &Option<pb::Position>| p.as_ref().map_or(0, |p| p.line);
                let _ = write!(out, " @{}-{}", line(&range.start), line(&range.end));
            }
        }
        out.push('\n');
    }
    out
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(19)]
}

fn chown(owner: &pb::ChownOpt) -> String {
    let user = |u: &Option<pb::UserOpt>| match u.as_ref().and_then(|u| u.user.as_ref()) {
        Some(pb::user_opt::User::ByName(named)) => named.name.clone(),
        Some(pb::user_opt::User::ById(id)) => id.to_string(),
        None => "-".into(),
    };
    format!("{}:{}", user(&owner.user), user(&owner.group))
}

/// Short files as they are; a long one (a script of ours) by size and digest, so that a change
/// to it still shows in a snapshot without the whole text in every line.
fn file_data(data: &[u8]) -> String {
    if data.len() <= 160 {
        return format!("{:?}", String::from_utf8_lossy(data));
    }
    // `sha256:` and 12 hex digits, as the op digests are shown.
    format!("<{} bytes {}>", data.len(), &digest(data)[..19])
}
