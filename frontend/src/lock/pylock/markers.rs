//! PEP 751 markers as pep508_rs reads them: `'x' in extras` and `'x' in dependency_groups`
//! become `extra == …` markers, groups under [`GROUP_EXTRA_PREFIX`].

use std::ops::Range;

use pep508_rs::{ExtraName, MarkerTree};

use crate::lock::select::GROUP_EXTRA_PREFIX;
use crate::lock::{self, Problem, normalise};

/// A flat lock's marker, with PEP 751's `extras` and `dependency_groups` read as pep508_rs
/// reads extras; the groups in `always` hold whatever the spec chose.
pub(in crate::lock) fn marker(
    text: &str,
    span: Option<Range<usize>>,
    always: &[String],
) -> Result<Option<MarkerTree>, Problem> {
    let Some(marker) = lock::marker(&pep751_markers(text), span)? else {
        return Ok(None);
    };
    let always: Vec<ExtraName> = always
        .iter()
        .filter_map(|g| ExtraName::new(format!("{GROUP_EXTRA_PREFIX}{g}")).ok())
        .collect();
    let marker = marker.simplify_extras_with(|extra| always.contains(extra));
    Ok((!marker.is_true()).then_some(marker))
}

/// Rewrites `'x' in extras` to `extra == 'x'` and `'x' in dependency_groups` to
/// `extra == 'pyslim-group-x'` (`not in`: `!=`). PEP 508 strings have no escapes, so a
/// quote always ends one; text that does not tokenise is left for pep508_rs to report.
pub(super) fn pep751_markers(text: &str) -> String {
    let Some(tokens) = tokens(text) else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < tokens.len() {
        let Token::Str(value, start) = &tokens[i] else {
            i += 1;
            continue;
        };
        let negated = matches!(tokens.get(i + 1), Some(Token::Word("not", _)));
        let at = i + 1 + usize::from(negated);
        let (Some(Token::Word("in", _)), Some(Token::Word(set, end))) =
            (tokens.get(at), tokens.get(at + 1))
        else {
            i += 1;
            continue;
        };
        let prefix = match *set {
            "extras" => "",
            "dependency_groups" => GROUP_EXTRA_PREFIX,
            _ => {
                i += 1;
                continue;
            }
        };
        let op = if negated { "!=" } else { "==" };
        out.push_str(&text[copied..*start]);
        out.push_str(&format!("extra {op} '{prefix}{}'", normalise(value)));
        copied = *end;
        i = at + 2;
    }
    out.push_str(&text[copied..]);
    out
}

enum Token<'t> {
    /// A quoted string's content, and where the string starts.
    Str(&'t str, usize),
    /// A bare word, and where it ends.
    Word(&'t str, usize),
    Other,
}

fn tokens(text: &str) -> Option<Vec<Token<'_>>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let b = bytes[at];
        if b.is_ascii_whitespace() {
            at += 1;
        } else if b == b'\'' || b == b'"' {
            let end = at + 1 + text[at + 1..].find(b as char)?;
            out.push(Token::Str(&text[at + 1..end], at));
            at = end + 1;
        } else if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' {
            let start = at;
            while at < bytes.len()
                && (bytes[at].is_ascii_alphanumeric() || b"_.".contains(&bytes[at]))
            {
                at += 1;
            }
            out.push(Token::Word(&text[start..at], at));
        } else {
            // Operators and parentheses; a multi-byte character is skipped whole.
            at += text[at..].chars().next().map_or(1, char::len_utf8);
            out.push(Token::Other);
        }
    }
    Some(out)
}
