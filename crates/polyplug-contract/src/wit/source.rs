//! The WIT sources of one parse, and turning wit-parser's byte spans into `file:line:column`.

use super::WitError;
use wit_parser::{SourceMap, Span};

/// The files of one package, as given.
pub(super) struct Sources {
    files: Vec<(String, String)>,
}

impl Sources {
    pub(super) fn new(files: Vec<(String, String)>) -> Sources {
        Sources { files }
    }

    /// A wit-parser source map of the files.
    pub(super) fn source_map(&self) -> SourceMap {
        let mut map = SourceMap::new();
        for (name, text) in &self.files {
            map.push_str(name, text.as_str());
        }
        map
    }

    /// An error at `span`, which is valid in `map`. A span wit-parser did not know points at the
    /// start of the first file, rather than nowhere.
    pub(super) fn error(&self, map: &SourceMap, span: Span, message: String) -> WitError {
        let at = map.resolve_span(span).and_then(|loc| {
            let (name, text) = self.files.iter().find(|(name, _)| name == loc.path)?;
            Some((name.as_str(), text.as_str(), loc.range.start))
        });
        match at {
            Some((file, text, offset)) => self.error_at(file, text, offset, message),
            None => WitError {
                file: self
                    .files
                    .first()
                    .map(|(n, _)| n.clone())
                    .unwrap_or_default(),
                line: 1,
                column: 1,
                message,
            },
        }
    }

    fn error_at(&self, file: &str, text: &str, offset: usize, message: String) -> WitError {
        let (line, column) = line_column(text, offset);
        WitError {
            file: file.to_owned(),
            line,
            column,
            message,
        }
    }

    /// An error at the name in the package header (`package demo:text;`), found by scanning the
    /// files in wit-parser's order, since wit-parser does not expose the header's span.
    pub(super) fn package_error(&self, message: String) -> WitError {
        let mut files: Vec<_> = self.files.iter().collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        for (file, text) in files {
            if let Some(offset) = package_name_offset(text) {
                return self.error_at(file, text, offset, message);
            }
        }
        WitError {
            file: self
                .files
                .first()
                .map(|(n, _)| n.clone())
                .unwrap_or_default(),
            line: 1,
            column: 1,
            message,
        }
    }
}

/// Line and character column, both from 1, of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (saturate(line), saturate(column))
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Byte offset of the package name when the file's first token is `package`.
fn package_name_offset(text: &str) -> Option<usize> {
    let start = skip_trivia(text, 0);
    let rest = text.get(start..)?.strip_prefix("package")?;
    if !rest.starts_with(|c: char| c.is_whitespace() || c == '/') {
        return None;
    }
    Some(skip_trivia(text, start + "package".len()))
}

/// The offset of the first byte at or after `at` that is not whitespace or a comment. WIT block
/// comments nest.
fn skip_trivia(text: &str, mut at: usize) -> usize {
    let bytes = text.as_bytes();
    loop {
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if bytes[at..].starts_with(b"//") {
            at = text[at..].find('\n').map_or(bytes.len(), |i| at + i + 1);
        } else if bytes[at..].starts_with(b"/*") {
            let mut depth = 0usize;
            while at < bytes.len() {
                if bytes[at..].starts_with(b"/*") {
                    depth += 1;
                    at += 2;
                } else if bytes[at..].starts_with(b"*/") {
                    depth -= 1;
                    at += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    at += 1;
                }
            }
        } else {
            return at;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 1), (1, 2));
        assert_eq!(line_column(text, 3), (2, 1));
        // After `é`, a two-byte character: the column counts it once.
        assert_eq!(line_column(text, 7), (2, 4));
        assert_eq!(line_column(text, 8), (3, 1));
        assert_eq!(line_column(text, 99), (3, 2));
    }

    #[test]
    fn package_header() {
        assert_eq!(package_name_offset("package a:b;"), Some(8));
        assert_eq!(
            package_name_offset("// c\n/* x /* nested */ */\n/// doc\npackage   a:b;"),
            Some(44)
        );
        assert_eq!(package_name_offset("interface x {}"), None);
        assert_eq!(package_name_offset("packages"), None);
        assert_eq!(package_name_offset("/* unterminated"), None);
        assert_eq!(package_name_offset(""), None);
    }
}
