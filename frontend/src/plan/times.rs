//! The file times of the image's layers. A layer's tar holds every file's mtime, and a step
//! writes the time it ran: each run step that is a layer runs its command under
//! `clamp_times.py`, which then clamps what the command made or changed to the step's time
//! (see [`Step::times`]); file steps set it themselves (`lower`). This works on every engine
//! and exporter: `rewrite-timestamp` does it only at export, and only when the client asks.

use super::layout::{CLAMP_TIMES, TOOLS, strings, tool};
use super::types::{Action, Step, StepMount};

/// Wraps the command of every run step that is a layer and has a time.
pub fn clamp(steps: &mut [Step]) {
    for step in steps {
        let (Some(time), Some(_), Action::Run(run)) = (step.times, &step.history, &mut step.action)
        else {
            continue;
        };
        // python3: the name every base has (a minimal image's gathered interpreter too); -B: no
        // bytecode of the modules it imports is written into the layer.
        let script = format!("{TOOLS}/clamp_times.py");
        let mut args = strings(&["python3", "-B", &script, &time.to_string()]);
        args.append(&mut run.args);
        run.args = args;
        // One directory of our scripts per step: beside the step's own, if it runs one.
        let tools = run.mounts.iter_mut().find_map(|m| match m {
            StepMount::Files { dest, files } if dest == TOOLS => Some(files),
            _ => None,
        });
        match tools {
            Some(files) => files.push(("clamp_times.py".into(), CLAMP_TIMES.into())),
            None => run.mounts.push(tool("clamp_times.py", CLAMP_TIMES)),
        }
    }
}
