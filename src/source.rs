//! Source text helpers: byte offsets to 1-based line:column, in one place.

/// Maps byte offsets of one file to 1-based lines and columns.
///
/// Columns count Unicode scalar values (SARIF `unicodeCodePoints`), so a
/// column is the same in every editor that counts characters.
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Lines end at a LF, or at a lone CR (one not followed by a LF), as
    /// Nix counts them in its own error positions.
    pub fn new(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        line_starts.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
                .map(|(i, _)| i + 1),
        );
        LineIndex { text, line_starts }
    }

    /// 0-based line number containing `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// 1-based (line, column) of a byte offset. Offsets inside a UTF-8
    /// sequence are rounded down to the character start.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let mut end = offset;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        (line + 1, self.text[start..end].chars().count() + 1)
    }

    /// Text of a 0-based line, without its line terminator.
    pub fn line_text(&self, line: usize) -> &'a str {
        let Some(&start) = self.line_starts.get(line) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line + 1)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let idx = LineIndex::new("ab\ncé d\n");
        assert_eq!(idx.line_col(0), (1, 1));
        assert_eq!(idx.line_col(3), (2, 1));
        // 'd' is at byte 7 (é is two bytes) and char column 4.
        assert_eq!(idx.line_col(7), (2, 4));
        assert_eq!(idx.line_text(1), "cé d");
        assert_eq!(idx.line_col(100), (3, 1));
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        // nix-instantiate --parse on "# c\r{ a = ; }": error at 2:7.
        let idx = LineIndex::new("# c\r{ a = ; }\r\nx");
        assert_eq!(idx.line_col(10), (2, 7));
        assert_eq!(idx.line_text(0), "# c");
        assert_eq!(idx.line_text(1), "{ a = ; }");
        assert_eq!(idx.line_col(15), (3, 1));
    }
}
