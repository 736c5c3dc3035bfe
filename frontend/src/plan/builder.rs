//! Appends steps to a plan: names them by stage, marks them for `--no-cache`, and decides which
//! of them become layers of the image.

use pyslim_spec::Span;

use super::advice::Advice;
use super::types::{Action, Fs, Run, Settings, Stage, Step, StepId, StepMount, StepNetwork};

pub struct Builder<'a> {
    pub steps: Vec<Step>,
    settings: &'a Settings,
    /// The steps pushed from now on make the app's layers, not the dependencies'.
    app: bool,
}

/// The file time of the layers below the app's: fixed, not the build's `SOURCE_DATE_EPOCH`, so
/// a new epoch (each commit's, say) leaves them, and the cache of every step on them, as they
/// were; and a build without an epoch makes them bit for bit as any other build does. No file
/// in them is later than any epoch, as `rewrite-timestamp` would leave it.
pub const DEPENDENCY_TIMES: u64 = 0;

impl<'a> Builder<'a> {
    pub fn new(settings: &'a Settings) -> Builder<'a> {
        Builder {
            steps: Vec::new(),
            settings,
            app: false,
        }
    }

    /// The layers pushed from now on are the app's (its install, its source, what build
    /// commands make of it): their files get the build's epoch, or the time they were built.
    pub fn app_from_here(&mut self) {
        self.app = true;
    }

    pub fn push(&mut self, mut step: Step) -> StepId {
        step.ignore_cache = self.settings.no_cache.contains(&step.stage);
        step.name = format!("[{}] {}", step.stage.name(), step.name);
        if step.stage != Stage::Compile {
            step.times = match self.app {
                true => self.settings.epoch,
                false => Some(DEPENDENCY_TIMES),
            };
        }
        self.steps.push(step);
        StepId(self.steps.len() - 1)
    }

    /// A command whose output is the next layer of its stage, run as root in `/`, with no
    /// network ([`Builder::online`] gives it one): an engine takes about 0.1 s longer to start
    /// a step in a network sandbox of its own than one with none (Docker 26.1: 0.20–0.26 s
    /// against 0.11–0.17 s for `echo`), and the install steps are on every rebuild's path.
    pub fn run(
        &mut self,
        stage: Stage,
        on: Fs,
        name: String,
        args: Vec<String>,
        mounts: Vec<StepMount>,
        origin: Option<Span>,
    ) -> Fs {
        let run = Run {
            args,
            env: Vec::new(),
            cwd: "/".into(),
            mounts,
            network: StepNetwork::None,
            user: None,
        };
        self.layer(stage, on, name, run, origin)
    }

    /// `run` as the next layer of its stage.
    pub fn layer(
        &mut self,
        stage: Stage,
        on: Fs,
        name: String,
        mut run: Run,
        origin: Option<Span>,
    ) -> Fs {
        let image = stage != Stage::Compile;
        let history = image.then(|| format!("pyslim: {name}"));
        if image {
            run.mounts.push(StepMount::Tmpfs {
                dest: "/tmp".into(),
            });
        }
        Fs::Step(self.push(Step {
            stage,
            name,
            on,
            action: Action::Run(run),
            origin,
            history,
            ignore_cache: false,
            advice: None,
            times: None,
        }))
    }

    /// A file action (a copy, a directory) whose output is a layer with `history`.
    pub fn file_layer(
        &mut self,
        stage: Stage,
        on: Fs,
        name: String,
        action: Action,
        origin: Option<Span>,
        history: String,
    ) -> Fs {
        Fs::Step(self.push(Step {
            stage,
            name,
            on,
            action,
            origin,
            history: Some(history),
            ignore_cache: false,
            advice: None,
            times: None,
        }))
    }

    /// A compile-stage command: what it makes is mounted into later steps, never a layer.
    pub fn compile(
        &mut self,
        name: String,
        on: Fs,
        run: Run,
        origin: Option<Span>,
        advice: Option<Advice>,
    ) -> StepId {
        self.probe(Stage::Compile, name, on, run, origin, advice)
    }

    /// A command whose output is read by the frontend or by later steps, never a layer of the
    /// image: the scan, a gathering step, the smoke test.
    pub fn probe(
        &mut self,
        stage: Stage,
        name: String,
        on: Fs,
        run: Run,
        origin: Option<Span>,
        advice: Option<Advice>,
    ) -> StepId {
        self.push(Step {
            stage,
            name,
            on,
            action: Action::Run(run),
            origin,
            history: None,
            ignore_cache: false,
            advice,
            times: None,
        })
    }

    /// The steps so far stay steps of the build but none of them is a layer of the image: what
    /// they made is gathered onto nothing (`flavor: minimal`).
    pub fn unlayer(&mut self) {
        for step in &mut self.steps {
            step.history = None;
        }
        self.app = false;
    }

    /// Whether the build asked for an SBOM.
    pub fn sbom(&self) -> bool {
        self.settings.sbom
    }

    /// The build's `SOURCE_DATE_EPOCH`, if it has one.
    pub fn epoch(&self) -> Option<u64> {
        self.settings.epoch
    }

    /// Replaces the history entry of the step that made `fs`.
    pub fn with_history(&mut self, fs: Fs, history: String) -> Fs {
        if let Fs::Step(id) = fs {
            self.steps[id.0].history = Some(history);
        }
        fs
    }

    /// Gives the step that made `fs` the network (a sandbox of its own).
    pub fn online(&mut self, fs: Fs) -> Fs {
        if let Fs::Step(id) = fs
            && let Action::Run(run) = &mut self.steps[id.0].action
        {
            run.network = StepNetwork::Sandbox;
        }
        fs
    }

    /// Attaches advice to the step that made `fs`.
    pub fn advise(&mut self, fs: Fs, advice: Advice) -> Fs {
        if let Fs::Step(id) = fs {
            self.steps[id.0].advice = Some(advice);
        }
        fs
    }
}
