//! Where a spec value came from: spans into the spec file's text.

use std::fmt;
use std::ops::Deref;

/// A place in the spec file: 1-based line and column (in characters), and how many characters
/// on that line the value covers (at least one, so a caret can always be drawn). The default
/// span, line 0, marks a value the spec did not write (a default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

/// The spec file as the user wrote it: its name (as given to `docker buildx build -f`) and text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
        }
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
