//! Source files and positions inside them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file that was read, kept so that any later error can quote the offending line.
#[derive(Debug, PartialEq, Eq)]
pub struct SourceFile {
    path: PathBuf,
    text: String,
    /// Byte offset where each line starts: placing a span must not rescan the file (every
    /// YAML node gets a span, so a scan per span made loading quadratic in the file size).
    line_starts: Vec<usize>,
    /// The number of characters before every [`MARK_EVERY`]th byte: a column is counted
    /// from the nearest mark, not from the start of its line (a 16 MiB one-line flow
    /// mapping has a million nodes, and counting from the line start made it quadratic).
    char_marks: Vec<usize>,
}

/// Bytes between two character-count marks of a [`SourceFile`].
const MARK_EVERY: usize = 256;

/// The longest token a span underlines, in bytes: a longer one is underlined in part
/// (placing a span must not scan the rest of a long line).
const MAX_TOKEN_BYTES: usize = 1024;

/// Characters in `bytes`: the bytes that do not continue a UTF-8 sequence (so a range cut
/// inside a character counts it once, on the side of its first byte).
fn chars_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count()
}

impl SourceFile {
    /// A source file with the given path (as shown to the user) and text.
    ///
    /// A lone carriage return (an old Mac line end) is read as a line feed: YAML counts it
    /// as a line break, and so must every line number we show. The swap keeps every byte
    /// offset, since both are one byte.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Arc<Self> {
        let mut text = text.into();
        if text.contains('\r') {
            text = lone_cr_to_lf(&text);
        }
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut char_marks = Vec::with_capacity(text.len() / MARK_EVERY + 1);
        let mut chars = 0;
        for block in text.as_bytes().chunks(MARK_EVERY) {
            char_marks.push(chars);
            chars += chars_in(block);
        }
        char_marks.push(chars);
        Arc::new(Self {
            path: path.into(),
            text,
            line_starts,
            char_marks,
        })
    }

    /// The path as it is shown to the user.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole text of the file.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The 1-based line and (character) column of a byte offset.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let col = if offset - start <= MARK_EVERY {
            chars_in(&self.text.as_bytes()[start..offset])
        } else {
            self.chars_before(offset) - self.chars_before(start)
        };
        (line, col + 1)
    }

    /// The number of characters before a byte offset, from the nearest mark.
    fn chars_before(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        let block = offset / MARK_EVERY;
        let from = block * MARK_EVERY;
        self.char_marks.get(block).copied().unwrap_or(0)
            + chars_in(&self.text.as_bytes()[from..offset])
    }

    /// The byte range of a 1-based line, without its line break.
    pub(crate) fn line_range(&self, line: usize) -> std::ops::Range<usize> {
        let Some(&start) = line.checked_sub(1).and_then(|i| self.line_starts.get(i)) else {
            return self.text.len()..self.text.len();
        };
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |next| next - 1);
        let end = if self.text[start..end].ends_with('\r') {
            end - 1
        } else {
            end
        };
        start..end
    }

    /// The 1-based line a byte offset is on.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset).max(1)
    }

    /// Byte offset of a 1-based line and (character) column.
    pub(crate) fn offset_of(&self, line: usize, column: usize) -> usize {
        let Some(&start) = line.checked_sub(1).and_then(|i| self.line_starts.get(i)) else {
            return self.text.len();
        };
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        let l = &self.text[start..end];
        let col: usize = l
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(l.trim_end_matches('\n').len(), |(b, _)| b);
        start + col
    }

    /// The length in bytes of the YAML token starting at `offset` (a scalar, a key), used
    /// to underline it.
    pub(crate) fn token_len(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        let mut end = self.line_range(self.line_of(offset)).end.max(offset);
        if end - offset > MAX_TOKEN_BYTES {
            end = offset + MAX_TOKEN_BYTES;
            while !self.text.is_char_boundary(end) {
                end -= 1;
            }
        }
        let line = self.text.get(offset..end).unwrap_or("");
        let mut end = 0;
        let mut quote = None;
        for (i, c) in line.char_indices() {
            match (quote, c) {
                (None, '"' | '\'') if i == 0 => quote = Some(c),
                (Some(q), c) if c == q && i > 0 => {
                    end = i + 1;
                    break;
                }
                (None, ':') if line[i + 1..].starts_with([' ', '\t']) || i + 1 == line.len() => {
                    break;
                }
                (None, ',' | ']' | '}' | '#') if i > 0 => break,
                _ => {}
            }
            end = i + c.len_utf8();
        }
        line[..end].trim_end().len().max(1)
    }
}

/// `\r` not followed by `\n` becomes `\n`; `\r\n` stays.
fn lone_cr_to_lf(text: &str) -> String {
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

/// A place in a source file: `file:line:column`, with a byte range for underlining.
///
/// Only the byte offset is kept: the line, the column and the length underlined are found
/// from it when asked (an error, a report's location). Every YAML node gets a span, and
/// placing each one eagerly (a line search, a character count and a token scan) was an
/// eighth of loading a 1,000-step file (issue #10).
#[derive(Clone)]
pub struct Span {
    /// The file the span points into.
    pub source: Arc<SourceFile>,
    /// Byte offset of the start.
    pub offset: usize,
    /// The 1-based line and column given to [`Span::at`], or `(0, 0)`: found from the
    /// offset.
    written: (u32, u32),
}

impl Span {
    /// A span at a line and column of a file, underlining the token that starts there.
    pub fn at(source: &Arc<SourceFile>, line: usize, column: usize) -> Self {
        let offset = source.offset_of(line, column);
        let written = match (u32::try_from(line), u32::try_from(column)) {
            (Ok(l), Ok(c)) if l > 0 && c > 0 => (l, c),
            _ => (0, 0),
        };
        Self {
            source: Arc::clone(source),
            offset,
            written,
        }
    }

    /// A span at a byte offset of a file, underlining the token that starts there.
    pub fn at_offset(source: &Arc<SourceFile>, offset: usize) -> Self {
        Self {
            source: Arc::clone(source),
            offset: offset.min(source.text().len()),
            written: (0, 0),
        }
    }

    /// A span covering the start of a file (used when nothing better is known).
    pub fn file_start(source: &Arc<SourceFile>) -> Self {
        Self::at(source, 1, 1)
    }

    /// The 1-based line and (character) column.
    pub fn line_col(&self) -> (usize, usize) {
        match self.written {
            (0, _) | (_, 0) => self.source.line_col(self.offset),
            (l, c) => (l as usize, c as usize),
        }
    }

    /// The 1-based line.
    pub fn line(&self) -> usize {
        self.line_col().0
    }

    /// The 1-based column, in characters.
    pub fn column(&self) -> usize {
        self.line_col().1
    }

    /// The length in bytes of the token underlined (at least 1).
    pub fn byte_len(&self) -> usize {
        self.source.token_len(self.offset)
    }

    /// The text of the line the span starts on.
    pub fn line_text(&self) -> &str {
        &self.source.text()[self.source.line_range(self.line())]
    }

    /// The span as miette wants it.
    pub fn source_span(&self) -> miette::SourceSpan {
        (self.offset, self.byte_len()).into()
    }
}

impl PartialEq for Span {
    fn eq(&self, other: &Self) -> bool {
        (Arc::ptr_eq(&self.source, &other.source) || self.source == other.source)
            && self.offset == other.offset
            && self.line_col() == other.line_col()
    }
}

impl Eq for Span {}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, column) = self.line_col();
        write!(f, "{}:{line}:{column}", self.source.path().display())
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A value and where it was written.
#[derive(Clone)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it stands in its file; `None` for values built in code.
    pub span: Option<Span>,
}

impl<T> Spanned<T> {
    /// A value with no source position (built in code, not read from a file).
    pub fn new(value: T) -> Self {
        Self { value, span: None }
    }
}

impl<T: fmt::Debug> fmt::Debug for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: serde::Serialize> serde::Serialize for Spanned<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// Name of the newtype struct through which the node deserializer hands out spans.
pub(crate) const SPANNED_MAGIC: &str = "$__rehearse_spanned";

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Spanned<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = Spanned<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_newtype_struct<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                // The node deserializer answers here: the span comes through a side channel
                // (see `node::take_span`), the value through `d`.
                let span = crate::node::current_span();
                let value = T::deserialize(d)?;
                Ok(Spanned { value, span })
            }
        }
        d.deserialize_newtype_struct(SPANNED_MAGIC, V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_of_finds_lines_and_character_columns() {
        let f = SourceFile::new("f.yaml", "a: 1\nné: x\n\nlast");
        assert_eq!(f.offset_of(1, 1), 0);
        assert_eq!(f.offset_of(1, 4), 3);
        assert_eq!(f.offset_of(2, 1), 5);
        // Columns count characters: `é` is two bytes.
        assert_eq!(f.offset_of(2, 5), 5 + "né: ".len());
        // A column past the end of its line stops before the newline.
        assert_eq!(f.offset_of(1, 99), 4);
        assert_eq!(f.offset_of(3, 1), 12);
        assert_eq!(f.offset_of(4, 3), 15);
        // Out of range: the end of the text.
        assert_eq!(f.offset_of(0, 1), f.text().len());
        assert_eq!(f.offset_of(9, 1), f.text().len());
        let empty = SourceFile::new("e.yaml", "");
        assert_eq!(empty.offset_of(1, 1), 0);
    }

    #[test]
    fn line_col_of_an_offset_inverts_offset_of() {
        let f = SourceFile::new("f.yaml", "a: 1\nné: x\n\nlast");
        for (line, col) in [(1, 1), (1, 4), (2, 1), (2, 5), (3, 1), (4, 3)] {
            assert_eq!(f.line_col(f.offset_of(line, col)), (line, col));
        }
    }

    /// Columns counted from the marks agree with counting from the line start, for
    /// characters of every width across mark boundaries.
    #[test]
    fn columns_from_marks_match_columns_counted_from_the_line_start() {
        let mut text = String::new();
        for i in 0..5000 {
            text.push(['a', 'é', '€', '𝄞', '\n'][(i * 7 + i / 13) % 5]);
        }
        let f = SourceFile::new("m.yaml", text.clone());
        for (offset, _) in text.char_indices() {
            let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let line = text[..offset].matches('\n').count() + 1;
            let col = text[start..offset].chars().count() + 1;
            assert_eq!(f.line_col(offset), (line, col), "at byte {offset}");
        }
    }

    /// A span on a long line costs no scan of the line: a token is underlined up to
    /// 1 KiB, and the line's text is found by its start.
    #[test]
    fn a_span_on_a_long_line_underlines_at_most_a_kibibyte() {
        let line = format!("a: {}\nb: 1\n", "x".repeat(100_000));
        let f = SourceFile::new("long.yaml", line);
        let span = Span::at_offset(&f, 3);
        assert_eq!(
            (span.line(), span.column(), span.byte_len()),
            (1, 4, MAX_TOKEN_BYTES)
        );
        assert_eq!(span.line_text().len(), 100_003);
        let b = Span::at_offset(&f, f.text().find("b:").unwrap());
        assert_eq!((b.line(), b.column(), b.line_text()), (2, 1, "b: 1"));
    }

    #[test]
    fn a_lone_cr_is_a_line_break_and_keeps_offsets() {
        let f = SourceFile::new("f.yaml", "a: 1\rb: 2\r\nc: 3\n");
        assert_eq!(f.text(), "a: 1\nb: 2\r\nc: 3\n");
        assert_eq!(f.line_col(f.text().find('c').unwrap()), (3, 1));
        assert_eq!(f.line_col(f.text().find('b').unwrap()), (2, 1));
    }
}
