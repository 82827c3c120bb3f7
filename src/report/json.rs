//! `--format json`: one document on stdout, serialized straight to the
//! writer (no intermediate `Value` tree: memory stays proportional to the
//! sites, not to twice the output).

use crate::detect::Site;
use crate::scan::{FileError, Scan};
use serde::Serialize;
use std::io::Write;

pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    root: std::borrow::Cow<'a, str>,
    sites: &'a [Site],
    suppressed: usize,
    errors: &'a [FileError],
    summary: super::Summary,
}

/// Write the document (pretty-printed, newline-terminated) to `w`.
pub fn write(scan: &Scan, w: &mut impl Write) -> std::io::Result<()> {
    let doc = Document {
        version: VERSION,
        root: scan.root.to_string_lossy(),
        sites: &scan.sites,
        suppressed: scan.suppressed,
        errors: &scan.errors,
        summary: super::summarize(scan),
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    w.write_all(b"\n")
}
