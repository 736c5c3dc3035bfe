//! One fixture file per case: every invalid spec must fail with the rendered diagnostics
//! snapshotted next to it; every example spec must load.

use std::fs;
use std::path::{Path, PathBuf};

use pyslim_spec::{SourceFile, load};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn source(path: &Path) -> SourceFile {
    let text = fs::read_to_string(path).expect("fixture is UTF-8");
    SourceFile::new("pyslim.yaml", text)
}

#[test]
fn invalid_specs_render_located_diagnostics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid");
    let fixtures = files(&dir);
    assert!(
        fixtures.len() >= 30,
        "the corpus shrank: {}",
        fixtures.len()
    );
    for path in fixtures {
        let name = path
            .file_stem()
            .expect("file name")
            .to_string_lossy()
            .to_string();
        let source = source(&path);
        let diagnostics = match load(source.clone()) {
            Ok(spec) => panic!("{name} should be invalid but loaded: {spec:?}"),
            Err(diagnostics) => diagnostics,
        };
        for problem in &diagnostics.problems {
            assert!(
                problem.hint.is_some(),
                "{name}: every problem says how to fix it"
            );
            assert!(
                source.line(problem.span.line).is_some() || source.text.trim().is_empty(),
                "{name}: span points at a line of the file: {problem:?}"
            );
        }
        insta::with_settings!({snapshot_path => "fixtures/invalid", prepend_module_to_snapshot => false, input_file => &path}, {
            insta::assert_snapshot!(name, format!("{}\n\n{diagnostics}", source.text));
        });
    }
}

#[test]
fn every_example_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut count = 0;
    for entry in fs::read_dir(&dir).expect("examples directory") {
        let path = entry.expect("entry").path().join("pyslim.yaml");
        if !path.exists() {
            continue;
        }
        if let Err(diagnostics) = load(source(&path)) {
            panic!("{}:\n{diagnostics}", path.display());
        }
        count += 1;
    }
    assert!(count >= 2, "examples found: {count}");
}

/// No input may panic the loader: cut every example at every character and splice in
/// characters YAML treats specially.
///
/// The whole sweep is ~88,000 loads: 3 s optimised, but 12–35 s in a debug build. Debug builds
/// try one (cut, character) pair in `SAMPLE`, shifted by one at each cut, so every cut still
/// gets a few characters and every character is tried every few cuts; `cargo test --release`
/// tries them all.
#[test]
fn no_input_panics() {
    const SAMPLE: usize = if cfg!(debug_assertions) { 7 } else { 1 };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts: Vec<String> = files(&dir.join("tests/fixtures/invalid"))
        .iter()
        .map(|p| fs::read_to_string(p).expect("utf-8"))
        .collect();
    texts.push(fs::read_to_string(dir.join("../examples/ldap/pyslim.yaml")).expect("example"));
    let specials = [
        "", ":", "- ", "[", "{", "\"", "'", "&a ", "*a", "!t ", "\t", "\n  ", "|", "~", "#", "%",
        "? ", "---\n", "é", "\u{feff}",
    ];
    let mut runs = 0;
    for text in &texts {
        let boundaries: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        for (i, &cut) in boundaries.iter().enumerate() {
            for (j, special) in specials.iter().enumerate() {
                if (i + j) % SAMPLE != 0 {
                    continue;
                }
                let mutated = format!("{}{}{}", &text[..cut], special, &text[cut..]);
                if let Err(diagnostics) = load(SourceFile::new("fuzz.yaml", mutated)) {
                    // Rendering must not panic either (spans past a line's end, odd characters).
                    let _ = diagnostics.to_string();
                }
                runs += 1;
            }
        }
    }
    assert!(runs > 10_000, "ran {runs} mutations");
}
