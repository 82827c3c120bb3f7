//! The scan pipeline: walk → parse → detect, one rayon task per file.
//!
//! Each task reads, parses and analyses one file and returns owned data
//! (sites, errors); the syntax tree is dropped inside the task, so memory
//! stays flat however large the repository.

use crate::detect::{self, Site};
use crate::source::LineIndex;
use crate::walk;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A file that could not be read or parsed.
#[derive(Debug, Clone, Serialize)]
pub struct FileError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

/// Everything a scan found.
#[derive(Debug, Default)]
pub struct Scan {
    /// The directory file names are relative to.
    pub root: PathBuf,
    pub files_scanned: usize,
    pub sites: Vec<Site>,
    pub suppressed: usize,
    pub errors: Vec<FileError>,
    /// Source text of the files with sites, when asked for (human output).
    pub sources: BTreeMap<String, String>,
}

impl Scan {
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

pub struct ScanOptions {
    /// Keep the source text of files with sites (for snippets).
    pub keep_sources: bool,
}

/// The root that reported paths are relative to: the one directory scanned,
/// the parent of the one file scanned, or the current directory.
pub fn root_of(paths: &[PathBuf]) -> PathBuf {
    match paths {
        [one] if one.is_dir() => one.clone(),
        [one] => one
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
        _ => PathBuf::from("."),
    }
}

/// Relative, `/`-separated name of `path` under `root`.
pub fn relative_name(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let s = rel.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// Stack size for threads that parse: rnix recurses up to 512 levels deep
/// before giving up, which needs more than the 2 MiB default in debug builds.
pub const WORKER_STACK: usize = 64 << 20;

/// Scan `paths` (files or directories).
pub fn scan(paths: &[PathBuf], opts: &ScanOptions) -> Scan {
    // Only the first call configures the global pool; later calls are no-ops.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK)
        .build_global();
    let root = root_of(paths);
    let (files, walk_errors) = walk::nix_files(paths);
    let mut out = Scan {
        root: root.clone(),
        files_scanned: files.len(),
        ..Scan::default()
    };
    out.errors
        .extend(walk_errors.into_iter().map(|e| FileError {
            file: relative_name(&root, &e.path),
            line: None,
            column: None,
            message: e.message,
        }));
    let results: Vec<FileResult> = files
        .par_iter()
        .map(|path| scan_file(path, &relative_name(&root, path), opts))
        .collect();
    for r in results {
        out.suppressed += r.suppressed;
        if let Some(text) = r.source {
            out.sources.insert(r.file.clone(), text);
        }
        out.sites.extend(r.sites);
        out.errors.extend(r.errors);
    }
    out
}

struct FileResult {
    file: String,
    sites: Vec<Site>,
    suppressed: usize,
    errors: Vec<FileError>,
    source: Option<String>,
}

/// Read, parse and analyse one file.
fn scan_file(path: &Path, name: &str, opts: &ScanOptions) -> FileResult {
    let mut r = FileResult {
        file: name.to_string(),
        sites: Vec::new(),
        suppressed: 0,
        errors: Vec::new(),
        source: None,
    };
    let error = |line, column, message: String| FileError {
        file: name.to_string(),
        line,
        column,
        message,
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            r.errors
                .push(error(None, None, format!("cannot read file: {e}")));
            return r;
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            // Valid prefix, so this cannot fail; fall back to 1:1 anyway.
            let (line, column) = std::str::from_utf8(valid)
                .map(|v| LineIndex::new(v).line_col(v.len()))
                .unwrap_or((1, 1));
            r.errors.push(error(
                Some(line),
                Some(column),
                "file is not valid UTF-8; not scanned".to_string(),
            ));
            return r;
        }
    };
    match parse_and_detect(&text, name) {
        Ok(found) => {
            r.suppressed = found.suppressed;
            r.sites = found.sites;
            if opts.keep_sources && !r.sites.is_empty() {
                r.source = Some(text);
            }
        }
        Err(errors) => r.errors = errors,
    }
    r
}

/// Parse `text` and detect its sites; a file with syntax errors is not
/// analysed (its partial tree is not trusted) and yields its errors.
pub fn parse_and_detect(text: &str, name: &str) -> Result<detect::FileSites, Vec<FileError>> {
    let parse = rnix::Root::parse(text);
    if !parse.errors().is_empty() {
        // The first error is the real one; the rest usually cascade from it.
        let index = LineIndex::new(text);
        let errors = parse.errors();
        let (offset, message) = describe_parse_error(&errors[0], text.len());
        let (line, column) = index.line_col(offset);
        let more = match errors.len() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more)"),
        };
        return Err(vec![FileError {
            file: name.to_string(),
            line: Some(line),
            column: Some(column),
            message: format!("syntax error: {message}{more}; file not scanned"),
        }]);
    }
    Ok(detect::detect(&parse.syntax(), text, name))
}

fn describe_parse_error(e: &rnix::ParseError, eof: usize) -> (usize, String) {
    use rnix::ParseError as P;
    let fmt_kinds = |ks: &[rnix::SyntaxKind]| {
        ks.iter()
            .map(|k| token_name(*k))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match e {
        P::Unexpected(r) => (r.start().into(), "unexpected input".into()),
        P::UnexpectedExtra(r) => (
            r.start().into(),
            "unexpected input after the expression".into(),
        ),
        P::UnexpectedWanted(found, r, wanted) => (
            r.start().into(),
            format!(
                "unexpected {}, expected {}",
                token_name(*found),
                fmt_kinds(wanted)
            ),
        ),
        P::UnexpectedDoubleBind(r) => (r.start().into(), "pattern bound twice".into()),
        P::UnexpectedEOF => (eof, "unexpected end of file".into()),
        P::UnexpectedEOFWanted(wanted) => (
            eof,
            format!("unexpected end of file, expected {}", fmt_kinds(wanted)),
        ),
        P::DuplicatedArgs(r, name) => (r.start().into(), format!("duplicated argument `{name}`")),
        P::RecursionLimitExceeded => (eof, "nesting too deep to parse".into()),
        other => (0, other.to_string()),
    }
}

/// `TOKEN_SEMICOLON` → "`;`", `NODE_ATTR_SET` → "attr set".
fn token_name(kind: rnix::SyntaxKind) -> String {
    use rnix::SyntaxKind::*;
    let sym = match kind {
        TOKEN_SEMICOLON => ";",
        TOKEN_ASSIGN => "=",
        TOKEN_COLON => ":",
        TOKEN_COMMA => ",",
        TOKEN_DOT => ".",
        TOKEN_L_BRACE => "{",
        TOKEN_R_BRACE => "}",
        TOKEN_L_BRACK => "[",
        TOKEN_R_BRACK => "]",
        TOKEN_L_PAREN => "(",
        TOKEN_R_PAREN => ")",
        TOKEN_IN => "in",
        TOKEN_THEN => "then",
        TOKEN_ELSE => "else",
        TOKEN_OR => "or",
        TOKEN_AT => "@",
        TOKEN_QUESTION => "?",
        TOKEN_INTERPOL_END => "}",
        TOKEN_CUR_POS => "__curPos",
        TOKEN_IDENT => "an identifier",
        _ => "",
    };
    if sym == "an identifier" {
        return sym.to_string();
    }
    if !sym.is_empty() {
        return format!("`{sym}`");
    }
    let raw = format!("{kind:?}");
    raw.trim_start_matches("TOKEN_")
        .trim_start_matches("NODE_")
        .to_lowercase()
        .replace('_', " ")
}
