//! Plan → LLB: each plan step becomes one op on the state it runs on. The only place that
//! knows both the plan and LLB.

use std::collections::BTreeMap;

use crate::context::{json_list, local};
use crate::llb::{self, CacheSharing, Exec, MountSource, OpMeta, Owner, State};
use crate::options::{Network, Sessions, WheelsContext};
use crate::plan::{Action, CopyFrom, Fs, Plan, Stage, Step, StepId, StepMount, StepNetwork};
use crate::platform::Platform;

/// Where the build runs and whose files it reads: what the plan leaves to the build.
#[derive(Clone, Debug)]
pub struct BuildSite {
    pub platform: Platform,
    /// Proxy settings from `--build-arg HTTP_PROXY=…` and friends: every run may use them, no
    /// cache key or layer keeps them.
    pub proxy: BTreeMap<String, String>,
    /// The client sessions that serve the local sources.
    pub sessions: Sessions,
    /// The name of the local build context source (`contextkey`, usually "context").
    pub context: String,
    /// `.dockerignore` patterns, applied to every view of the context.
    pub excludes: Vec<String>,
    /// `--network`: every step's network, whatever the plan says.
    pub network: Option<Network>,
    /// In a build of several platforms, each step's name says which (`[linux/arm64 compile]`,
    /// as the Dockerfile frontend's do): the progress of one is told from the other's.
    pub named_platform: bool,
}

/// The plan's image.
pub fn lower(plan: &Plan, site: &BuildSite) -> State {
    lower_to(plan, site, plan.result)
}

/// The state of `fs` in the plan: the image, or a step the frontend solves on its own (the
/// scan, the smoke test).
pub fn lower_to(plan: &Plan, site: &BuildSite, fs: Fs) -> State {
    let mut lowering = Lowering {
        plan,
        site,
        compile: State::image(&plan.bases.compile.reference, Some(&site.platform)),
        slim: State::image(&plan.bases.runtime.reference, Some(&site.platform)),
        native: plan
            .bases
            .native
            .as_ref()
            .map(|n| State::image(&n.compile.reference, Some(&n.platform))),
        steps: Vec::with_capacity(plan.steps.len()),
    };
    for step in &plan.steps {
        let state = lowering.step(step);
        lowering.steps.push(state);
    }
    lowering.fs(fs)
}

/// The time a file step that is a layer of the image gives what it makes (a run step clamps
/// its own, see `plan::times`).
fn layer_times(step: &Step) -> Option<u64> {
    step.history.as_ref().and(step.times)
}

struct Lowering<'a> {
    plan: &'a Plan,
    site: &'a BuildSite,
    compile: State,
    slim: State,
    /// The compile image on the build platform, for a target that is not it.
    native: Option<State>,
    /// The output of each step so far, by index; plan steps only refer to earlier ones.
    steps: Vec<State>,
}

impl Lowering<'_> {
    fn fs(&self, fs: Fs) -> State {
        match fs {
            Fs::Base(Stage::Compile) => self.compile.clone(),
            Fs::Base(Stage::Slim) => self.slim.clone(),
            Fs::Step(StepId(i)) => self.steps[i].clone(),
            Fs::Empty => unreachable!("only file steps start from nothing, and they say so"),
            Fs::Native => self
                .native
                .clone()
                .expect("a step runs on the build platform only when the bases name it"),
            Fs::Base(Stage::Minimal) => unreachable!("the minimal stage starts from nothing"),
        }
    }

    fn step(&self, step: &Step) -> State {
        let name = match step.name.strip_prefix('[') {
            Some(rest) if self.site.named_platform => format!("[{} {rest}", self.site.platform),
            _ => step.name.clone(),
        };
        let meta = OpMeta {
            name: Some(name),
            ignore_cache: step.ignore_cache,
            location: step.origin.map(|span| llb::Location {
                start_line: span.line,
                end_line: span.line,
            }),
        };
        if let Action::Copy { from, src, dest } = &step.action {
            let (from, src, owner) = match from {
                CopyFrom::Step(id) => {
                    let (state, selector) = self.produced(*id, src);
                    // A produced directory is the whole of its output.
                    let src = if selector.is_empty() { "/" } else { src };
                    (state, src.to_string(), None)
                }
                CopyFrom::Context { include } => (
                    self.context(include),
                    src.clone(),
                    Some(Owner::Id { uid: 0, gid: 0 }),
                ),
            };
            let copy = llb::FileAction::Copy(llb::Copy {
                from,
                src,
                dest: dest.clone(),
                owner,
                timestamp: layer_times(step),
            });
            return match step.on {
                Fs::Empty => State::scratch(vec![copy], Some(&self.site.platform), meta),
                on => self.fs(on).file(vec![copy], meta),
            };
        }
        let on = self.fs(step.on);
        match &step.action {
            Action::Copy { .. } => unreachable!("handled above"),
            Action::Run(run) => {
                let base = match step.stage {
                    Stage::Compile => &self.plan.bases.compile,
                    Stage::Slim | Stage::Minimal => &self.plan.bases.runtime,
                };
                let env = with_env(&base.env, &run.env);
                on.run(Exec {
                    args: run.args.clone(),
                    env,
                    cwd: run.cwd.clone(),
                    user: run.user.clone().unwrap_or_default(),
                    network: match (self.site.network, run.network) {
                        (Some(Network::None), _) => llb::Network::None,
                        (Some(Network::Host), _) => llb::Network::Host,
                        (None, StepNetwork::Host) => llb::Network::Host,
                        (None, StepNetwork::Sandbox) => llb::Network::Sandbox,
                        (None, StepNetwork::None) => llb::Network::None,
                    },
                    mounts: run.mounts.iter().map(|m| self.mount(m)).collect(),
                    proxy: self.site.proxy.clone(),
                    meta,
                })
            }
            Action::Mkdir { path, owner } => on.mkdir(
                llb::Mkdir {
                    path: path.clone(),
                    mode: 0o755,
                    make_parents: true,
                    owner: owner.map(|o| Owner::Id {
                        uid: o.uid,
                        gid: o.gid,
                    }),
                    timestamp: layer_times(step),
                },
                meta,
            ),
        }
    }

    /// The directory `path` of what the step `from` made, as a state and a selector in it: the
    /// step's own output when it produced the directory there ([`StepMount::Produced`]), else
    /// that directory of its root filesystem.
    fn produced(&self, from: StepId, path: &str) -> (State, String) {
        let step = &self.steps[from.0];
        match step.mount_output(path) {
            Some(output) => (output, String::new()),
            None => (step.clone(), path.to_string()),
        }
    }

    fn mount(&self, mount: &StepMount) -> llb::Mount {
        let (dest, source) = match mount {
            StepMount::Context {
                dest,
                include,
                writable,
            } => (
                dest,
                MountSource::Bind {
                    state: self.context(include),
                    selector: String::new(),
                    readonly: !writable,
                },
            ),
            StepMount::Produced { dest } => (dest, MountSource::Output),
            StepMount::Output { dest, from, path } => {
                let (state, selector) = self.produced(*from, path);
                (
                    dest,
                    MountSource::Bind {
                        state,
                        selector,
                        readonly: true,
                    },
                )
            }
            StepMount::Root { dest, fs } => (
                dest,
                MountSource::Bind {
                    state: self.fs(*fs),
                    selector: String::new(),
                    readonly: true,
                },
            ),
            StepMount::Tmpfs { dest } => (dest, MountSource::Tmpfs),
            // Writable, so its writes are an output of the step no one reads, not the root's.
            StepMount::Sink { dest } => (
                dest,
                MountSource::Bind {
                    state: self.files(&[("discarded-log".into(), String::new())]),
                    selector: "/discarded-log".into(),
                    readonly: false,
                },
            ),
            StepMount::WheelsContext { dest, wheels } => {
                let (state, selector) = self.wheels_context(wheels);
                (
                    dest,
                    MountSource::Bind {
                        state,
                        selector,
                        readonly: true,
                    },
                )
            }
            StepMount::Secret { dest, id } => (dest, MountSource::Secret { id: id.clone() }),
            StepMount::Ssh { dest, id } => (dest, MountSource::Ssh { id: id.clone() }),
            StepMount::Files { dest, files } => (
                dest,
                MountSource::Bind {
                    state: self.files(files),
                    selector: String::new(),
                    readonly: true,
                },
            ),
            StepMount::Download {
                dest,
                url,
                sha256,
                filename,
            } => {
                let attrs = [
                    ("http.checksum".to_string(), format!("sha256:{sha256}")),
                    ("http.filename".to_string(), filename.clone()),
                ];
                let state = llb::State::source(url.clone(), attrs.into(), None);
                (
                    dest,
                    MountSource::Bind {
                        state,
                        selector: String::new(),
                        readonly: true,
                    },
                )
            }
            StepMount::Cache { dest, id, locked } => (
                dest,
                MountSource::Cache {
                    id: id.clone(),
                    sharing: if *locked {
                        CacheSharing::Locked
                    } else {
                        CacheSharing::Shared
                    },
                },
            ),
        };
        llb::Mount {
            dest: dest.clone(),
            source,
        }
    }

    fn files(&self, files: &[(String, String)]) -> State {
        let actions = files
            .iter()
            .map(|(name, text)| {
                llb::FileAction::Mkfile(llb::Mkfile {
                    path: format!("/{name}"),
                    mode: 0o644,
                    data: text.clone().into_bytes(),
                })
            })
            .collect();
        let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
        let meta = OpMeta {
            name: Some(format!("write {}", names.join(" "))),
            ..OpMeta::default()
        };
        State::scratch(actions, Some(&self.site.platform), meta)
    }

    /// The build context, narrowed to `include`: BuildKit then transfers and checksums only
    /// those files, so a change elsewhere does not invalidate the steps that mount it.
    fn context(&self, include: &[String]) -> State {
        let mut attrs = Vec::new();
        if !include.is_empty() {
            attrs.push(("local.includepattern", json_list(include)));
        }
        if !self.site.excludes.is_empty() {
            attrs.push(("local.excludepatterns", json_list(&self.site.excludes)));
        }
        let session = self.site.sessions.of(&self.site.context);
        local(&self.site.context, &session, &attrs)
    }

    /// The `wheels` build context, and the directory of it that holds the wheels: all of a
    /// local directory, or `/wheels` of an image.
    fn wheels_context(&self, wheels: &WheelsContext) -> (State, String) {
        match wheels {
            WheelsContext::Local { name } => (
                local(name, &self.site.sessions.of(name), &[]),
                String::new(),
            ),
            WheelsContext::Image { reference } => (
                State::image(reference, Some(&self.site.platform)),
                "/wheels".into(),
            ),
        }
    }
}

/// The base image's environment with `set` on top: a variable set again replaces the base's
/// (as a Dockerfile `ENV` does), so a process sees one value of it.
fn with_env(base: &[String], set: &[(String, String)]) -> Vec<String> {
    let mut env = base.to_vec();
    for (name, value) in set {
        let entry = format!("{name}={value}");
        let prefix = format!("{name}=");
        match env.iter_mut().find(|e| e.starts_with(&prefix)) {
            Some(existing) => *existing = entry,
            None => env.push(entry),
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variable_set_again_replaces_the_base_one() {
        let base = ["PATH=/usr/bin".to_string(), "LANG=C.UTF-8".to_string()];
        let set = [
            ("PATH".to_string(), "/pyslim-build/bin:/usr/bin".to_string()),
            ("NETRC".to_string(), "/run/secrets/n".to_string()),
        ];
        assert_eq!(
            with_env(&base, &set),
            [
                "PATH=/pyslim-build/bin:/usr/bin",
                "LANG=C.UTF-8",
                "NETRC=/run/secrets/n"
            ]
        );
    }
}
