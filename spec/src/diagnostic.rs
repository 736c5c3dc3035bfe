//! A problem in the spec, located at a span, with a hint that says how to fix it — rendered like
//! a compiler error: `file:line:col`, the line itself, carets under the span, then the hint.

use std::fmt::{self, Write as _};

use crate::source::{SourceFile, Span};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub span: Span,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            span,
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    /// Renders one problem against the file it was found in.
    pub fn render(&self, source: &SourceFile) -> String {
        let Span { line, column, len } = self.span;
        let mut out = format!("{}:{line}:{column}: error: {}\n", source.name, self.message);
        if let Some(text) = source.line(line) {
            let gutter = line.to_string().len();
            let pad = " ".repeat(gutter);
            // Tabs would shift the carets; show them as single spaces in both lines.
            let shown: String = text.replace('\t', " ");
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{line} | {shown}");
            let _ = writeln!(
                out,
                "{pad} | {}{}",
                " ".repeat(column.saturating_sub(1) as usize),
                "^".repeat(len as usize)
            );
        }
        if let Some(hint) = &self.hint {
            for (i, hint_line) in hint.lines().enumerate() {
                let lead = if i == 0 { "hint:" } else { "     " };
                let _ = writeln!(out, "  {lead} {hint_line}");
            }
        }
        out
    }
}

/// Every problem found in one spec, in file order. Validation never stops at the first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics {
    pub source: SourceFile,
    pub problems: Vec<Diagnostic>,
}

impl PartialEq for SourceFile {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.text == other.text
    }
}

impl Eq for SourceFile {}

impl Diagnostics {
    pub fn new(source: SourceFile, mut problems: Vec<Diagnostic>) -> Diagnostics {
        problems.sort_by_key(|p| p.span);
        problems.dedup();
        Diagnostics { source, problems }
    }

    /// The lines the problems sit on, for pointing BuildKit's error display at them.
    pub fn lines(&self) -> Vec<u32> {
        let mut lines: Vec<u32> = self.problems.iter().map(|p| p.span.line).collect();
        lines.dedup();
        lines
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            f.write_str(&problem.render(&self.source))?;
        }
        let n = self.problems.len();
        write!(
            f,
            "{} problem{} in {}",
            n,
            if n == 1 { "" } else { "s" },
            self.source.name
        )
    }
}

impl std::error::Error for Diagnostics {}
