//! Specs written to break the loader: too deep, too large, bytes the parser would stop at, line
//! endings it reads differently from the rest of the world. Each must fail with a located
//! problem (or load), never crash, hang or drop what it says. Texts too large or too odd for a
//! fixture file are made here.

use pyslim_spec::{SourceFile, load};

fn error(text: impl Into<String>) -> String {
    match load(SourceFile::new("pyslim.yaml", text)) {
        Ok(spec) => panic!("should be invalid: {spec:?}"),
        Err(diagnostics) => diagnostics.to_string(),
    }
}

#[test]
fn deep_block_nesting_is_refused_at_its_line() {
    let text = format!("python: \"3.11\"\napp: .\nzzz:\n{}x\n", "- ".repeat(30_000));
    let error = error(text);
    let shown: Vec<&str> = error
        .lines()
        .filter(|l| l.contains("error:") || l.contains("hint:"))
        .collect();
    insta::assert_snapshot!(shown.join("\n"));
}

#[test]
fn deep_flow_nesting_is_refused_at_its_line() {
    let text = format!("python: \"3.11\"\napp: .\nenv: {}\n", "[".repeat(30_000));
    insta::assert_snapshot!(error(text).lines().next().unwrap_or_default());
}

#[test]
fn a_nul_byte_is_refused_where_it_is() {
    insta::assert_snapshot!(error("python: \"3.11\"\napp: .\u{0}\nuser: root\n"));
}

#[test]
fn old_mac_line_endings_keep_their_line_numbers() {
    insta::assert_snapshot!(error("python: \"3.11\"\rapp: .\rworkdir: app\r"));
}

#[test]
fn a_spec_over_the_size_limit_is_refused() {
    let mut text = String::from("python: \"3.11\"\napp: .\nenv:\n");
    while text.len() <= 1 << 20 {
        text.push_str(&format!("  VAR_{:06}: \"value\"\n", text.len()));
    }
    insta::assert_snapshot!(error(text).lines().next().unwrap_or_default());
}

/// 33,000 values, just under the limit, load at once: each value's place in the file is found
/// by a binary search, not by reading the file again from its top.
#[test]
fn a_large_spec_loads() {
    let mut text = String::from("python: \"3.11\"\napp: .\nenv:\n");
    for i in 0..33_000 {
        text.push_str(&format!("  VAR_{i:06}: \"value {i:06}\"\n"));
    }
    assert!(text.len() > 900_000 && text.len() < 1 << 20);
    let spec = load(SourceFile::new("pyslim.yaml", text)).expect("loads");
    assert_eq!(spec.env.len(), 33_000);
}
