//! Human output: rustc-like snippets, then a summary.

use super::{is_hotspot, summarize};
use crate::detect::{Confidence, Kind, Multiplicity};
use crate::scan::Scan;
use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor::Buffer};
use std::collections::HashMap;
use std::fmt::Write as _;

pub fn render(scan: &Scan, color: bool) -> Vec<u8> {
    let mut buf = if color {
        Buffer::ansi()
    } else {
        Buffer::no_color()
    };
    let config = term::Config::default();
    let mut files = SimpleFiles::new();
    let mut ids = HashMap::new();
    for (name, text) in &scan.sources {
        ids.insert(name.as_str(), files.add(name.as_str(), text.as_str()));
    }
    // Hotspots first, then by file and position.
    let mut order: Vec<_> = scan.sites.iter().collect();
    order.sort_by_key(|s| (!is_hotspot(s), s.file.as_str(), s.byte_range[0]));
    for site in order {
        let mut notes = Vec::new();
        if site.multiplicity == Multiplicity::PerElement {
            notes.push(match site.elements {
                Some(n) => format!(
                    "serial hotspot: evaluated once per element ({n} elements), one build each"
                ),
                None => {
                    "serial hotspot: evaluated once per element of a collection, one build each"
                        .to_string()
                }
            });
        }
        if site.confidence == Confidence::Possible {
            notes.push(
                "possible: whether this is a derivation output could not be decided statically"
                    .into(),
            );
        }
        match &site.reason {
            Some(r) => notes.push(format!("not batchable: {r}")),
            None => {
                notes.push("batchable: `ifd-batch rewrite` can route it through one batch".into())
            }
        }
        let label_text = match (site.kind, site.confidence) {
            (Kind::BuiltinFetch, _) => "blocks evaluation on a download",
            (_, Confidence::Definite) => "blocks evaluation on a build",
            (_, Confidence::Possible) => "may block evaluation on a build",
        };
        let diag = Diagnostic::warning()
            .with_code(site.kind.as_str())
            .with_message(&site.message)
            .with_notes(notes);
        let diag = match ids.get(site.file.as_str()) {
            Some(&id) => diag.with_labels(vec![
                Label::primary(id, site.byte_range[0]..site.byte_range[1]).with_message(label_text),
            ]),
            None => diag.with_notes(vec![format!(
                "at {}:{}:{}",
                site.file, site.line, site.column
            )]),
        };
        // Rendering only fails if a range is outside its file, which the
        // scanner never produces; fall back to a plain line rather than panic.
        if term::emit_to_write_style(&mut buf, &config, &files, &diag).is_err() {
            let _ = std::io::Write::write_all(
                &mut buf,
                format!(
                    "warning[{}]: {}:{}:{}: {}\n",
                    site.kind, site.file, site.line, site.column, site.message
                )
                .as_bytes(),
            );
        }
    }
    for e in &scan.errors {
        let diag = Diagnostic::<usize>::error().with_message(e.to_string());
        let _ = term::emit_to_write_style(&mut buf, &config, &files, &diag);
    }
    let mut out = buf.into_inner();
    out.extend_from_slice(summary_text(scan).as_bytes());
    out
}

fn summary_text(scan: &Scan) -> String {
    let s = summarize(scan);
    let mut t = String::new();
    let _ = writeln!(
        t,
        "summary: {} IFD site{} in {} file{} scanned ({} hotspot{}, {} batchable, {} suppressed, {} error{})",
        s.sites,
        plural(s.sites),
        s.files_scanned,
        plural(s.files_scanned),
        s.hotspots,
        plural(s.hotspots),
        s.batchable,
        s.suppressed,
        scan.errors.len(),
        plural(scan.errors.len()),
    );
    if s.sites == 0 {
        return t;
    }
    let _ = writeln!(t, "  by kind:");
    for (k, n) in &s.by_kind {
        let _ = writeln!(t, "    {k:<18} {n}");
    }
    let _ = writeln!(t, "  by file (hotspots first):");
    let mut hot_by_file: HashMap<&str, usize> = HashMap::new();
    for x in scan.sites.iter().filter(|x| is_hotspot(x)) {
        *hot_by_file.entry(x.file.as_str()).or_default() += 1;
    }
    for (f, n) in &s.by_file {
        let hot = hot_by_file.get(f.as_str()).copied().unwrap_or(0);
        let mark = if hot > 0 {
            format!("  ({hot} hotspot{})", plural(hot))
        } else {
            String::new()
        };
        let _ = writeln!(t, "    {f}: {n}{mark}");
    }
    let possible = match (s.possible, s.possible_rounds) {
        (0, _) => String::new(),
        (1, r) => format!(" (+{r} if the possible site blocks)"),
        (n, r) => format!(" (+{r} if the {n} possible sites block)"),
    };
    let _ = writeln!(
        t,
        "  serial IFD rounds for a full evaluation: {}{}{possible}; after batching: {}",
        if s.rounds_exact { "" } else { "at least " },
        s.rounds,
        s.rounds_after_batching
    );
    t
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
