//! `SOURCE_DATE_EPOCH`, the time a reproducible build stamps: `--build-arg SOURCE_DATE_EPOCH=…`,
//! or the default the spec declares under `args:` (as a Dockerfile's `ARG SOURCE_DATE_EPOCH=…`
//! does), so that a team can pin it in the spec and every build of it is reproducible.
//!
//! With an epoch, the image config's `created` and the history entries pyslim adds are the
//! epoch, its app layers' files are no later than it (the layers below always are, see
//! `plan::times`), and the result tells the exporter (`source.date.epoch`), which on BuildKit
//! 0.29 and later then treats a spec's default as it treats the build argument.

use std::collections::BTreeMap;

use pyslim_spec::{Diagnostic, Diagnostics, SourceFile, Spec};

use crate::failure::Failure;
use crate::options::Options;

pub const ARG: &str = "SOURCE_DATE_EPOCH";
/// The result metadata key that hands the exporter the epoch (BuildKit's `ExporterEpochKey`).
pub const METADATA_KEY: &str = "source.date.epoch";

/// The options with the epoch the build uses: the build argument's, else the spec's default.
pub fn resolve(options: &Options, spec: &Spec, source: &SourceFile) -> Result<Options, Failure> {
    let mut resolved = options.clone();
    if resolved.epoch.is_some() {
        return Ok(resolved);
    }
    let declared = spec.args.iter().find(|arg| arg.name.value == ARG);
    let Some((arg, value)) = declared.and_then(|arg| Some((arg, arg.value.as_deref()?))) else {
        return Ok(resolved);
    };
    if value.trim().is_empty() {
        return Ok(resolved);
    }
    resolved.epoch = Some(value.trim().parse().map_err(|_| {
        let problem = Diagnostic::new(
            arg.name.span,
            format!("{ARG} `{value}` is not a number of seconds since 1970"),
        )
        .with_hint("write the time of the release, e.g. `SOURCE_DATE_EPOCH: \"1735689600\"`, or pass `--build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)`");
        Failure::Spec(Diagnostics::new(source.clone(), vec![problem]))
    })?);
    Ok(resolved)
}

/// What the result tells the exporter about the epoch.
pub fn metadata(options: &Options) -> BTreeMap<String, Vec<u8>> {
    options
        .epoch
        .map(|epoch| (METADATA_KEY.to_string(), epoch.to_string().into_bytes()))
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyslim_spec::{LoadOptions, load_with};

    fn resolved(yaml: &str, build_args: &[(&str, &str)]) -> Result<Option<u64>, Failure> {
        let build_args: BTreeMap<String, String> = build_args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let options = Options::from_pairs(
            build_args
                .iter()
                .map(|(k, v)| (format!("build-arg:{k}"), v.clone())),
        )
        .expect("valid options");
        let source = SourceFile::new("pyslim.yaml", yaml);
        let load = LoadOptions {
            build_args,
            target: None,
        };
        let spec = load_with(source.clone(), &load).expect("valid spec");
        resolve(&options, &spec, &source).map(|o| o.epoch)
    }

    #[test]
    fn the_build_argument_wins_over_the_spec_default() {
        let spec = "python: '3.11'\napp: .\nargs: {SOURCE_DATE_EPOCH: '1700000000'}\n";
        assert_eq!(resolved(spec, &[]).ok(), Some(Some(1_700_000_000)));
        assert_eq!(
            resolved(spec, &[("SOURCE_DATE_EPOCH", "5")]).ok(),
            Some(Some(5))
        );
        assert_eq!(resolved("python: '3.11'\napp: .\n", &[]).ok(), Some(None));
        // Declared without a default and not passed: no epoch, as with no declaration.
        let open = "python: '3.11'\napp: .\nargs: {SOURCE_DATE_EPOCH: }\n";
        assert_eq!(resolved(open, &[]).ok(), Some(None));
    }

    #[test]
    fn a_default_that_is_not_a_time_is_an_error_at_its_line() {
        let spec = "python: '3.11'\napp: .\nargs:\n  SOURCE_DATE_EPOCH: yesterday\n";
        let Err(Failure::Spec(diagnostics)) = resolved(spec, &[]) else {
            panic!("a bad default must fail the build");
        };
        let text = diagnostics.to_string();
        assert!(text.contains("pyslim.yaml:4:"), "{text}");
        assert!(text.contains("`yesterday` is not a number"), "{text}");
    }

    #[test]
    fn the_exporter_hears_of_the_epoch_only_when_there_is_one() {
        let mut options = Options::default();
        assert!(metadata(&options).is_empty());
        options.epoch = Some(42);
        assert_eq!(metadata(&options)[METADATA_KEY], b"42");
    }
}
