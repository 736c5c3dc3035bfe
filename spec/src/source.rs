//! Where a value came from: the files problems point into, and spans in them.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

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
///
/// The text is read, never changed, once the file is made: where its lines start is worked out
/// then, once, so that every position a parser reports is found by a binary search instead of a
/// walk from the top of the file (which made loading a spec of many values take time in the
/// square of its size).
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    pub kind: SourceKind,
    /// Shared: a file is cloned into every report made against it.
    index: Arc<LineIndex>,
}

/// Equal when they hold the same file; the index follows from the text.
impl PartialEq for SourceFile {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, &self.text, self.kind) == (&other.name, &other.text, other.kind)
    }
}

impl Eq for SourceFile {}

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
        let mut text = text.into();
        // YAML ends a line at a lone CR (old Mac line endings) as at LF; so does the parser, and
        // so must the lines shown, or every problem past the first line would have none to show.
        // A CR becomes an LF byte for byte, so every offset stays where it was.
        if kind == SourceKind::Spec && text.contains('\r') {
            text = lone_cr_as_lf(&text);
        }
        let index = Arc::new(LineIndex::new(&text));
        SourceFile {
            name: name.into(),
            text,
            kind,
            index,
        }
    }

    /// Where the bytes `range` of the text start (1-based line, column in characters), and how
    /// many characters of that line they cover: parsers that count bytes (TOML's) meet the
    /// diagnostics, which count lines and characters.
    pub fn span_at(&self, range: std::ops::Range<usize>) -> Span {
        let start = floor_char_boundary(&self.text, range.start);
        let line = self.index.starts.partition_point(|&s| s <= start);
        let line_start = self.index.starts[line.saturating_sub(1)];
        let line_end = self
            .index
            .starts
            .get(line)
            .map_or(self.text.len(), |next| next - 1);
        let column = self.char_index(start) - self.char_index(line_start) + 1;
        let end = floor_char_boundary(&self.text, range.end.clamp(start, line_end.max(start)));
        let len = self.char_index(end) - self.char_index(start);
        let number = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span::new(number(line), number(column), number(len))
    }

    /// The text of a 1-based line, without its line break.
    pub fn line(&self, line: u32) -> Option<&str> {
        self.line_range(line).map(|range| &self.text[range])
    }

    /// How many lines the text has, counted as [`str::lines`] does.
    pub fn line_count(&self) -> usize {
        let n = self.index.starts.len();
        if self.text.is_empty() {
            0
        } else if self.text.ends_with('\n') {
            n - 1
        } else {
            n
        }
    }

    /// The byte offset of a 1-based (line, column in characters); past the line's end, its end.
    pub fn offset_of(&self, line: u32, column: u32) -> Option<usize> {
        let range = self.line_range(line)?;
        let first = self.char_index(range.start);
        let at = self.byte_index(first + column.saturating_sub(1) as usize);
        Some(at.clamp(range.start, range.end))
    }

    /// How many characters a scalar written at (line, column) covers on that line: a quoted
    /// scalar up to its closing quote, a plain one as long as its value (or to the end of the line
    /// for a block or folded scalar, whose text does not sit at its start marker).
    pub fn scalar_len(&self, line: u32, column: u32, value: &str) -> u32 {
        let (Some(range), Some(at)) = (self.line_range(line), self.offset_of(line, column)) else {
            return 1;
        };
        let rest = &self.text[at..range.end];
        let mut chars = rest.chars();
        // Counted only as far as the scalar goes: a line of a thousand values is not walked to
        // its end for each of them.
        let len = match chars.next() {
            Some(quote @ ('"' | '\'')) => match chars.position(|c| c == quote) {
                Some(end) => end + 2,
                None => rest.chars().count(),
            },
            Some('|' | '>') => rest.chars().count(),
            _ => {
                let n = value.chars().count();
                let available = rest.chars().take(n.saturating_add(1)).count();
                if n == 0 || n > available {
                    rest.chars().count()
                } else {
                    n
                }
            }
        };
        u32::try_from(len).unwrap_or(u32::MAX).max(1)
    }

    /// The bytes of a 1-based line, without its line break (LF, or CR LF).
    fn line_range(&self, line: u32) -> Option<std::ops::Range<usize>> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        if index >= self.line_count() {
            return None;
        }
        let start = self.index.starts[index];
        let mut end = self
            .index
            .starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next - 1);
        if self.text[start..end].ends_with('\r') {
            end -= 1;
        }
        Some(start..end)
    }

    /// How many characters come before the byte offset `byte` (a char boundary).
    fn char_index(&self, byte: usize) -> usize {
        let wide = &self.index.wide;
        match wide.partition_point(|&(b, _)| b < byte) {
            0 => byte,
            k => {
                let (b, c) = wide[k - 1];
                let after = b + self.char_len_at(b);
                c + 1 + byte.saturating_sub(after)
            }
        }
    }

    /// The byte offset of the character with index `char`, or the end of the text.
    fn byte_index(&self, char: usize) -> usize {
        let wide = &self.index.wide;
        let at = match wide.partition_point(|&(_, c)| c < char) {
            0 => char,
            k => {
                let (b, c) = wide[k - 1];
                b + self.char_len_at(b) + (char - c - 1)
            }
        };
        at.min(self.text.len())
    }

    fn char_len_at(&self, byte: usize) -> usize {
        self.text[byte..].chars().next().map_or(1, char::len_utf8)
    }
}

/// Where a text's lines start, and where its characters of more than one byte are.
#[derive(Clone, Debug, Default)]
struct LineIndex {
    /// The byte offset of each line's start: 0, then one past each LF.
    starts: Vec<usize>,
    /// Each character of more than one byte: its byte offset and its index in characters. Where
    /// there are none, bytes and characters count alike.
    wide: Vec<(usize, usize)>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut index = LineIndex {
            starts: vec![0],
            wide: Vec::new(),
        };
        for (n, (at, c)) in text.char_indices().enumerate() {
            if c == '\n' {
                index.starts.push(at + 1);
            } else if c.len_utf8() > 1 {
                index.wide.push((at, n));
            }
        }
        index
    }
}

/// The text with each CR that is not followed by an LF made an LF.
fn lone_cr_as_lf(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() != Some(&'\n') {
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
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

    #[test]
    fn lines_columns_and_offsets_agree_with_the_text() {
        let file = SourceFile::new("pyslim.yaml", "a: é\r\nbé: xé\n\nlast");
        assert_eq!(file.line_count(), 4);
        assert_eq!(file.line(1), Some("a: é"));
        assert_eq!(file.line(2), Some("bé: xé"));
        assert_eq!(file.line(3), Some(""));
        assert_eq!(file.line(4), Some("last"));
        assert_eq!((file.line(0), file.line(5)), (None, None));
        let x = file.text.find('x').expect("x");
        assert_eq!(file.offset_of(2, 5), Some(x));
        assert_eq!(file.span_at(x..x + 3), Span::new(2, 5, 2));
        // Past a line's end is its end, never the next line.
        assert_eq!(file.offset_of(1, 99), file.text.find('\r'));
        assert_eq!(file.scalar_len(2, 5, "xé"), 2);
        assert_eq!(SourceFile::new("pyslim.yaml", "a\n").line_count(), 1);
        assert_eq!(SourceFile::new("pyslim.yaml", "").line_count(), 0);
    }

    #[test]
    fn a_lone_cr_ends_a_line_of_the_spec() {
        let file = SourceFile::new("pyslim.yaml", "a: 1\rb: 2\r\nc: 3\r");
        assert_eq!(file.text, "a: 1\nb: 2\r\nc: 3\n");
        assert_eq!(file.line(2), Some("b: 2"));
        assert_eq!(file.line(3), Some("c: 3"));
    }
}
