//! A problem located in a file — the spec, or a file it names (a requirements file, a
//! `pyproject.toml`, a lock file) — with a hint that says how to fix it, rendered like a compiler
//! error: `file:line:col`, the line itself, carets under the span, then the hint.

use std::fmt::{self, Write as _};

use crate::source::{SourceFile, Span};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub span: Span,
    pub hint: Option<String>,
    /// The name of the file the span points into; `None` is the spec.
    pub file: Option<String>,
}

impl Diagnostic {
    /// A problem in the spec.
    pub fn new(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            span,
            hint: None,
            file: None,
        }
    }

    /// The same problem, located in the file of that name instead of the spec.
    pub fn in_file(mut self, name: impl Into<String>) -> Diagnostic {
        self.file = Some(name.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    /// Renders one problem against the file it was found in.
    pub fn render(&self, source: &SourceFile) -> String {
        self.render_in(&source.name, Some(source))
    }

    /// Without the file's text there is no line to show, only where it is.
    fn render_in(&self, name: &str, source: Option<&SourceFile>) -> String {
        let Span { line, column, len } = self.span;
        let mut out = format!("{name}:{line}:{column}: error: {}\n", self.message);
        if let Some(text) = source.and_then(|s| s.line(line)) {
            let gutter = line.to_string().len();
            let pad = " ".repeat(gutter);
            // Tabs would shift the carets: show them as single spaces. Other control characters
            // (a NUL, a lone CR) would garble the terminal: show each as its visible symbol (␀),
            // one character wide like the rest.
            let shown: String = text
                .chars()
                .map(|c| match c {
                    '\t' => ' ',
                    '\0'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('?'),
                    '\u{7f}' => '\u{2421}',
                    c => c,
                })
                .collect();
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

/// Every problem found, the spec's first, then each file's in file order. Validation never
/// stops at the first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics {
    /// The spec.
    pub source: SourceFile,
    /// The other files problems point into.
    pub files: Vec<SourceFile>,
    pub problems: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new(source: SourceFile, mut problems: Vec<Diagnostic>) -> Diagnostics {
        // `None`, the spec, sorts first.
        problems.sort_by(|a, b| (&a.file, a.span).cmp(&(&b.file, b.span)));
        problems.dedup();
        Diagnostics {
            source,
            files: Vec::new(),
            problems,
        }
    }

    /// Adds a file problems point into, so they are shown with its lines.
    pub fn with_file(mut self, file: SourceFile) -> Diagnostics {
        self.files.push(file);
        self
    }

    /// The file a problem points into, if its text is here.
    pub fn file_of(&self, problem: &Diagnostic) -> Option<&SourceFile> {
        match &problem.file {
            None => Some(&self.source),
            Some(name) => self.files.iter().find(|f| &f.name == name),
        }
    }

    /// Each file that has problems, with the lines they sit on: what BuildKit's error display
    /// needs to show them.
    pub fn lines_by_file(&self) -> Vec<(&SourceFile, Vec<u32>)> {
        let mut by_file: Vec<(&SourceFile, Vec<u32>)> = Vec::new();
        for problem in &self.problems {
            let Some(file) = self.file_of(problem) else {
                continue;
            };
            match by_file.iter_mut().find(|(f, _)| std::ptr::eq(*f, file)) {
                Some((_, lines)) => lines.push(problem.span.line),
                None => by_file.push((file, vec![problem.span.line])),
            }
        }
        for (_, lines) in &mut by_file {
            lines.dedup();
        }
        by_file
    }

    /// The names of the files with problems, the spec's first.
    fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for problem in &self.problems {
            let name = problem.file.as_deref().unwrap_or(&self.source.name);
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let name = problem.file.as_deref().unwrap_or(&self.source.name);
            f.write_str(&problem.render_in(name, self.file_of(problem)))?;
        }
        let n = self.problems.len();
        let names = match self.names().as_slice() {
            [] => self.source.name.clone(),
            [one] => one.to_string(),
            [most @ .., last] => format!("{} and {last}", most.join(", ")),
        };
        write!(
            f,
            "{} problem{} in {names}",
            n,
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceKind;

    fn spec() -> SourceFile {
        SourceFile::new(
            "pyslim.yaml",
            "python: \"3.11\"\nrequirements: requirements.txt\n",
        )
    }

    fn requirements() -> SourceFile {
        SourceFile::of_kind(
            SourceKind::Requirements,
            "requirements.txt",
            "flask\n\tgunicorn\n-r ../outside.txt\n",
        )
    }

    #[test]
    fn a_problem_in_another_file_is_shown_at_its_own_line() {
        let problem = Diagnostic::new(
            Span::new(3, 1, 2),
            "`../outside.txt` is outside the build context",
        )
        .in_file("requirements.txt")
        .with_hint("name files inside the build context");
        let diagnostics = Diagnostics::new(spec(), vec![problem]).with_file(requirements());
        assert_eq!(
            diagnostics.to_string(),
            "requirements.txt:3:1: error: `../outside.txt` is outside the build context\n  |\n3 | -r ../outside.txt\n  | ^^\n  hint: name files inside the build context\n1 problem in requirements.txt"
        );
    }

    #[test]
    fn problems_in_several_files_render_each_against_its_file() {
        let problems = vec![
            Diagnostic::new(Span::new(2, 2, 8), "not pinned")
                .in_file("requirements.txt")
                .with_hint("pin it"),
            Diagnostic::new(Span::new(2, 15, 16), "lists a file with problems")
                .with_hint("see below"),
            // A file whose text is not at hand: where, without the line.
            Diagnostic::new(Span::new(4, 1, 1), "broken").in_file("pyproject.toml"),
        ];
        let diagnostics = Diagnostics::new(spec(), problems).with_file(requirements());
        let text = diagnostics.to_string();
        let spec_at = text.find("pyslim.yaml:2:15: error").expect("spec problem");
        let requirements_at = text
            .find("requirements.txt:2:2: error")
            .expect("other file");
        assert!(
            spec_at < requirements_at,
            "the spec's problems come first:\n{text}"
        );
        // The tab shows as one space, so the carets stay under the name.
        assert!(text.contains("2 |  gunicorn\n  |  ^^^^^^^^\n"), "{text}");
        assert!(
            text.contains("pyproject.toml:4:1: error: broken\n"),
            "{text}"
        );
        assert!(
            text.ends_with("3 problems in pyslim.yaml, pyproject.toml and requirements.txt"),
            "{text}"
        );
        let lines: Vec<(&str, &str, Vec<u32>)> = diagnostics
            .lines_by_file()
            .into_iter()
            .map(|(file, lines)| (file.name.as_str(), file.kind.language(), lines))
            .collect();
        assert_eq!(
            lines,
            [
                ("pyslim.yaml", "yaml", vec![2]),
                ("requirements.txt", "requirements", vec![2])
            ]
        );
    }

    #[test]
    fn columns_count_characters() {
        let source = SourceFile::new("pyslim.yaml", "env: {É: x}\n");
        let problem = Diagnostic::new(Span::new(1, 7, 1), "bad name").with_hint("rename it");
        assert!(
            problem
                .render(&source)
                .contains("1 | env: {É: x}\n  |       ^\n")
        );
    }
}
