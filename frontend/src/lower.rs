//! Plan → LLB: each plan step becomes one op on the state it runs on. The only place that
//! knows both the plan and LLB.

use std::collections::BTreeMap;

use crate::llb::{self, CacheSharing, Exec, MountSource, OpMeta, Owner, State};
use crate::plan::{Action, Fs, Mount, Plan, Stage, Step, StepId};
use crate::platform::Platform;

/// Where the build runs and whose files it reads.
#[derive(Clone, Debug)]
pub struct Target {
    pub platform: Platform,
    /// Proxy settings from `--build-arg HTTP_PROXY=…` and friends: every run may use them, no
    /// cache key or layer keeps them.
    pub proxy: BTreeMap<String, String>,
    /// The client session that serves the build context.
    pub session_id: String,
    /// The name of the local build context source (`contextkey`, usually "context").
    pub context: String,
    /// `.dockerignore` patterns, applied to every view of the context.
    pub excludes: Vec<String>,
    /// `--network`: every step's network, whatever the plan says.
    pub network: Option<llb::Network>,
    /// The `wheels` build context and the directory in it that holds the wheels.
    pub wheelhouse: Option<(State, String)>,
}

pub fn lower(plan: &Plan, target: &Target) -> State {
    let mut lowering = Lowering {
        plan,
        target,
        compile: State::image(&plan.bases.compile.reference, Some(&target.platform)),
        slim: State::image(&plan.bases.runtime.reference, Some(&target.platform)),
        steps: Vec::with_capacity(plan.steps.len()),
    };
    for step in &plan.steps {
        let state = lowering.step(step);
        lowering.steps.push(state);
    }
    lowering.fs(plan.result)
}

struct Lowering<'a> {
    plan: &'a Plan,
    target: &'a Target,
    compile: State,
    slim: State,
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
        }
    }

    fn step(&self, step: &Step) -> State {
        let meta = OpMeta {
            name: Some(step.name.clone()),
            ignore_cache: step.ignore_cache,
            location: step.origin.map(|span| llb::Location {
                start_line: span.line,
                end_line: span.line,
            }),
        };
        if let Action::Copy { from, path } = &step.action {
            let copy = llb::FileAction::Copy(llb::Copy {
                from: self.steps[from.0].clone(),
                src: path.clone(),
                dest: path.clone(),
            });
            return match step.on {
                Fs::Empty => State::scratch(vec![copy], Some(&self.target.platform), meta),
                on => self.fs(on).file(vec![copy], meta),
            };
        }
        let on = self.fs(step.on);
        match &step.action {
            Action::Copy { .. } => unreachable!("handled above"),
            Action::Run(run) => {
                let base = match step.stage {
                    Stage::Compile => &self.plan.bases.compile,
                    Stage::Slim => &self.plan.bases.runtime,
                };
                let mut env = base.env.clone();
                env.extend(run.env.iter().map(|(k, v)| format!("{k}={v}")));
                on.run(Exec {
                    args: run.args.clone(),
                    env,
                    cwd: run.cwd.clone(),
                    user: String::new(),
                    network: match (self.target.network, run.host_network) {
                        (Some(forced), _) => forced,
                        (None, true) => llb::Network::Host,
                        (None, false) => llb::Network::Sandbox,
                    },
                    mounts: run.mounts.iter().map(|m| self.mount(m)).collect(),
                    proxy: self.target.proxy.clone(),
                    meta,
                })
            }
            Action::Mkdir { path, owner } => on.mkdir(
                llb::Mkdir {
                    path: path.clone(),
                    mode: 0o755,
                    make_parents: true,
                    owner: owner.as_ref().map(|user| Owner::Name {
                        user: user.clone(),
                        group: Some(user.clone()),
                    }),
                },
                meta,
            ),
        }
    }

    fn mount(&self, mount: &Mount) -> llb::Mount {
        let (dest, source) = match mount {
            Mount::Context {
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
            Mount::Output { dest, from, path } => (
                dest,
                MountSource::Bind {
                    state: self.steps[from.0].clone(),
                    selector: path.clone(),
                    readonly: true,
                },
            ),
            Mount::Tmpfs { dest } => (dest, MountSource::Tmpfs),
            Mount::Wheelhouse { dest } => {
                let (state, selector) = self
                    .target
                    .wheelhouse
                    .clone()
                    .expect("the plan mounts a wheelhouse only when the build has one");
                (
                    dest,
                    MountSource::Bind {
                        state,
                        selector,
                        readonly: true,
                    },
                )
            }
            Mount::Secret { dest, id } => (dest, MountSource::Secret { id: id.clone() }),
            Mount::Ssh { dest, id } => (dest, MountSource::Ssh { id: id.clone() }),
            Mount::Files { dest, files } => (
                dest,
                MountSource::Bind {
                    state: self.files(files),
                    selector: String::new(),
                    readonly: true,
                },
            ),
            Mount::Cache { dest, id, locked } => (
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
        State::scratch(actions, Some(&self.target.platform), meta)
    }

    /// The build context, narrowed to `include`: BuildKit then transfers and checksums only
    /// those files, so a change elsewhere does not invalidate the steps that mount it.
    fn context(&self, include: &[String]) -> State {
        let mut attrs = BTreeMap::from([
            ("local.session".to_string(), self.target.session_id.clone()),
            (
                "local.sharedkeyhint".to_string(),
                self.target.context.clone(),
            ),
        ]);
        if !include.is_empty() {
            attrs.insert("local.includepattern".into(), json_list(include));
        }
        if !self.target.excludes.is_empty() {
            attrs.insert(
                "local.excludepatterns".into(),
                json_list(&self.target.excludes),
            );
        }
        State::source(format!("local://{}", self.target.context), attrs, None)
    }
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("a list of strings always serialises")
}
