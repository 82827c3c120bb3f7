//! `--format json`: one document on stdout.

use crate::scan::Scan;
use serde_json::{Value, json};

pub const VERSION: u32 = 1;

pub fn render(scan: &Scan) -> String {
    let doc: Value = json!({
        "version": VERSION,
        "root": scan.root.to_string_lossy(),
        "sites": scan.sites,
        "suppressed": scan.suppressed,
        "errors": scan.errors,
        "summary": super::summarize(scan),
    });
    // Serializing plain data cannot fail; an empty document would be a bug.
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
