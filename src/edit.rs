//! Text edits: `{ range, insert }`, sorted, non-overlapping, applied once.
//!
//! Edits are data. They are never applied to a tree; the result is reparsed
//! by the caller before anything is written.

use std::ops::Range;

/// Replace the bytes in `range` by `insert` (an empty range inserts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub range: Range<usize>,
    pub insert: String,
}

impl TextEdit {
    pub fn replace(range: Range<usize>, insert: impl Into<String>) -> TextEdit {
        TextEdit {
            range,
            insert: insert.into(),
        }
    }

    pub fn insert(at: usize, insert: impl Into<String>) -> TextEdit {
        TextEdit::replace(at..at, insert)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// Two edits touch the same bytes.
    Overlap(Range<usize>, Range<usize>),
    /// An edit lies outside the text or splits a UTF-8 character.
    OutOfBounds(Range<usize>),
}

impl std::fmt::Display for EditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EditError::Overlap(a, b) => write!(f, "overlapping edits at {a:?} and {b:?}"),
            EditError::OutOfBounds(r) => write!(f, "edit {r:?} outside the text"),
        }
    }
}

/// Apply `edits` to `text`. Edits are sorted by position (insertions at the
/// same point keep their given order); overlapping replacements are refused.
pub fn apply(text: &str, edits: &[TextEdit]) -> Result<String, EditError> {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    for e in &sorted {
        if e.range.start > e.range.end
            || e.range.end > text.len()
            || !text.is_char_boundary(e.range.start)
            || !text.is_char_boundary(e.range.end)
        {
            return Err(EditError::OutOfBounds(e.range.clone()));
        }
    }
    for pair in sorted.windows(2) {
        let (a, b) = (&pair[0].range, &pair[1].range);
        if b.start < a.end {
            return Err(EditError::Overlap(a.clone(), b.clone()));
        }
    }
    let mut out = String::with_capacity(text.len() + 64 * sorted.len());
    let mut at = 0;
    for e in sorted {
        out.push_str(&text[at..e.range.start]);
        out.push_str(&e.insert);
        at = e.range.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_sorted_edits_once() {
        let edits = [
            TextEdit::replace(6..11, "there"),
            TextEdit::insert(0, ">> "),
            TextEdit::insert(11, "!"),
        ];
        assert_eq!(apply("hello world", &edits), Ok(">> hello there!".into()));
    }

    #[test]
    fn refuses_overlaps_and_out_of_bounds() {
        let overlap = [TextEdit::replace(0..4, "x"), TextEdit::replace(2..6, "y")];
        assert!(matches!(
            apply("abcdefg", &overlap),
            Err(EditError::Overlap(..))
        ));
        assert!(matches!(
            apply("abc", &[TextEdit::replace(2..9, "")]),
            Err(EditError::OutOfBounds(_))
        ));
        assert!(matches!(
            apply("é", &[TextEdit::insert(1, "x")]),
            Err(EditError::OutOfBounds(_))
        ));
    }
}
