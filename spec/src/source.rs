//! Where a value came from: the files problems point into, and spans in them.

use std::fmt;
use std::ops::Deref;

/// A place in a file: 1-based line and column (in characters), and how many characters on that
/// line the value covers (at least one, so a caret can always be drawn).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub len: u32,
}

impl Span {
    pub fn new(line: u32, column: u32, len: u32) -> Span {
        Span {
            line,
            column,
            len: len.max(1),
        }
    }
}

/// A value that remembers where it was written. Equality and ordering ignore the span, so two
/// specs that say the same thing compare equal wherever they said it.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Spanned<T> {
        Spanned { value, span }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned {
            value: f(self.value),
            span: self.span,
        }
    }
}

impl<T> Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Spanned<T> {}

impl<T: fmt::Display> fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

/// A setting the spec may leave out: the value in effect, and where the spec wrote it if it did.
/// Some choices depend on the difference (an offline spec installs with pip unless it asked for
/// uv), and a default has no line to point at.
#[derive(Clone, Debug)]
pub struct Defaulted<T> {
    pub value: T,
    written: Option<Span>,
}

impl<T> Defaulted<T> {
    /// The value the spec did not write.
    pub fn by_default(value: T) -> Defaulted<T> {
        Defaulted {
            value,
            written: None,
        }
    }

    /// Where the spec wrote the value; `None` when it is the default.
    pub fn written(&self) -> Option<Span> {
        self.written
    }
}

impl<T> From<Spanned<T>> for Defaulted<T> {
    fn from(spanned: Spanned<T>) -> Defaulted<T> {
        Defaulted {
            value: spanned.value,
            written: Some(spanned.span),
        }
    }
}

/// What the spec wrote, or `T`'s default.
impl<T: Default> From<Option<Spanned<T>>> for Defaulted<T> {
    fn from(written: Option<Spanned<T>>) -> Defaulted<T> {
        written.map_or_else(|| Defaulted::by_default(T::default()), Defaulted::from)
    }
}

impl<T> Deref for Defaulted<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// Where it was written does not matter, whether it was does.
impl<T: PartialEq> PartialEq for Defaulted<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value && self.written.is_some() == other.written.is_some()
    }
}

impl<T: Eq> Eq for Defaulted<T> {}

/// What a file is, which decides how it is read and how BuildKit shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// The `pyslim.yaml` being built.
    #[default]
    Spec,
    /// A pip requirements file.
    Requirements,
    /// A `pyproject.toml`.
    Pyproject,
    /// A lock file written in TOML (`uv.lock`, `pylock.toml`).
    LockToml,
    /// A lock file written in JSON (`Pipfile.lock`).
    LockJson,
    /// A `Pipfile`: TOML, read for its `[requires]` python.
    Pipfile,
    /// A line of plain text: `.python-version`, `runtime.txt`.
    Text,
}

impl SourceKind {
    /// The language BuildKit's source maps and error details name the file's text with.
    pub fn language(self) -> &'static str {
        match self {
            SourceKind::Spec => "yaml",
            SourceKind::Requirements => "requirements",
            SourceKind::Pyproject | SourceKind::LockToml | SourceKind::Pipfile => "toml",
            SourceKind::LockJson => "json",
            SourceKind::Text => "text",
        }
    }
}

/// A file as the user wrote it: its name (the spec's as given to `docker buildx build -f`,
/// another file's as its path in the build context), its text and what kind of file it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    pub kind: SourceKind,
}

impl SourceFile {
    /// The spec file.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile::of_kind(SourceKind::Spec, name, text)
    }

    pub fn of_kind(
        kind: SourceKind,
        name: impl Into<String>,
        text: impl Into<String>,
    ) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
            kind,
        }
    }

    /// Where the bytes `range` of the text start (1-based line, column in characters), and how
    /// many characters of that line they cover: parsers that count bytes (TOML's) meet the
    /// diagnostics, which count lines and characters.
    pub fn span_at(&self, range: std::ops::Range<usize>) -> Span {
        let start = floor_char_boundary(&self.text, range.start);
        let before = &self.text[..start];
        let line_start = before.rfind('\n').map_or(0, |at| at + 1);
        let line = before.matches('\n').count() + 1;
        let column = before[line_start..].chars().count() + 1;
        let line_end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |at| start + at);
        let end = floor_char_boundary(&self.text, range.end.clamp(start, line_end));
        let len = self.text[start..end].chars().count();
        let number = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span::new(number(line), number(column), number(len))
    }

    /// The text of a 1-based line, without its line break.
    pub fn line(&self, line: u32) -> Option<&str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        self.text.lines().nth(index)
    }

    /// How many characters a scalar written at (line, column) covers on that line: a quoted
    /// scalar up to its closing quote, a plain one as long as its value (or to the end of the line
    /// for a block or folded scalar, whose text does not sit at its start marker).
    pub fn scalar_len(&self, line: u32, column: u32, value: &str) -> u32 {
        let Some(text) = self.line(line) else {
            return 1;
        };
        let rest: Vec<char> = text
            .chars()
            .skip(column.saturating_sub(1) as usize)
            .collect();
        let len = match rest.first() {
            Some(&quote @ ('"' | '\'')) => rest[1..]
                .iter()
                .position(|&c| c == quote)
                .map_or(rest.len(), |end| end + 2),
            Some('|' | '>') => rest.len(),
            _ => {
                let n = value.chars().count();
                if n == 0 || n > rest.len() {
                    rest.len()
                } else {
                    n
                }
            }
        };
        u32::try_from(len).unwrap_or(u32::MAX).max(1)
    }
}

/// The nearest char boundary at or before `at`, within the text.
fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaulted_knows_whether_it_was_written() {
        let span = Span::new(3, 1, 2);
        let written = Defaulted::from(Some(Spanned::new(7u8, span)));
        let defaulted: Defaulted<u8> = None.into();
        assert_eq!((*written, written.written()), (7, Some(span)));
        assert_eq!((*defaulted, defaulted.written()), (0, None));
        assert_ne!(Defaulted::from(Spanned::new(0u8, span)), defaulted);
    }

    #[test]
    fn a_file_is_the_spec_unless_said_otherwise() {
        assert_eq!(SourceFile::new("pyslim.yaml", "").kind, SourceKind::Spec);
        let file = SourceFile::of_kind(SourceKind::Requirements, "requirements.txt", "flask\n");
        assert_eq!(file.kind.language(), "requirements");
        assert_eq!(file.line(1), Some("flask"));
    }

    #[test]
    fn byte_ranges_become_line_column_and_length_in_characters() {
        let file = SourceFile::of_kind(
            SourceKind::Pyproject,
            "pyproject.toml",
            "[project]\nname = \"é\"\ndeps = 3\n",
        );
        let at = |text: &str| {
            let start = file.text.find(text).expect("in the text");
            file.span_at(start..start + text.len())
        };
        assert_eq!(at("[project]"), Span::new(1, 1, 9));
        assert_eq!(at("\"é\""), Span::new(2, 8, 3));
        assert_eq!(at("3"), Span::new(3, 8, 1));
        // A range across lines is shown on its first; one past the end or inside a character
        // still lands on a line.
        assert_eq!(file.span_at(0..15), Span::new(1, 1, 9));
        assert_eq!(file.span_at(1000..1001).line, 4);
        let inside = file.text.find('é').expect("é") + 1;
        assert_eq!(file.span_at(inside..inside + 1).line, 2);
    }
}
