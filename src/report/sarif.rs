//! `--format sarif`: SARIF 2.1.0, one rule per site kind, for GitHub code
//! scanning and other SARIF viewers.

use crate::detect::{Args, Confidence, Kind};
use crate::scan::Scan;
use serde_json::{Value, json};

pub fn render(scan: &Scan) -> String {
    let rules: Vec<Value> = Kind::ALL
        .iter()
        .map(|k| {
            json!({
                "id": k.as_str(),
                "name": k.as_str(),
                "shortDescription": { "text": format!("import-from-derivation site: {k}") },
                "fullDescription": { "text": k.help() },
                "help": { "text": k.help() },
                "defaultConfiguration": { "level": "warning" },
            })
        })
        .collect();
    let results: Vec<Value> = scan
        .sites
        .iter()
        .map(|s| {
            let level = match (s.kind, s.confidence) {
                (_, _) if matches!(&s.args, Args::BuiltinFetch(f) if f.pinned) => "note",
                (_, Confidence::Possible) => "note",
                _ => "warning",
            };
            let rule_index = Kind::ALL.iter().position(|k| *k == s.kind).unwrap_or(0);
            let mut message = s.message.clone();
            if let Some(r) = &s.reason {
                message.push_str(&format!(" (not batchable: {r})"));
            }
            json!({
                "ruleId": s.kind.as_str(),
                "ruleIndex": rule_index,
                "level": level,
                "message": { "text": message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri_path(&s.file), "uriBaseId": "SRCROOT" },
                        "region": {
                            "startLine": s.line,
                            "startColumn": s.column,
                            "endLine": s.end_line,
                            "endColumn": s.end_column,
                        }
                    }
                }],
                "properties": {
                    "confidence": s.confidence,
                    "batchable": s.batchable,
                    "multiplicity": s.multiplicity,
                    "args": s.args,
                },
            })
        })
        .collect();
    let notifications: Vec<Value> = scan
        .errors
        .iter()
        .map(|e| {
            let mut loc =
                json!({ "artifactLocation": { "uri": uri_path(&e.file), "uriBaseId": "SRCROOT" } });
            if let (Some(l), Some(c)) = (e.line, e.column) {
                loc["region"] = json!({ "startLine": l, "startColumn": c });
            }
            json!({
                "level": "error",
                "message": { "text": e.message },
                "locations": [{ "physicalLocation": loc }],
            })
        })
        .collect();
    let root = std::fs::canonicalize(&scan.root).unwrap_or_else(|_| scan.root.clone());
    let mut root_uri = format!("file://{}", uri_path(&root.to_string_lossy()));
    if !root_uri.ends_with('/') {
        root_uri.push('/');
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "ifd-batch",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/ifd-batch/ifd-batch",
                "rules": rules,
            }},
            "originalUriBaseIds": { "SRCROOT": { "uri": root_uri } },
            "columnKind": "unicodeCodePoints",
            "results": results,
            "invocations": [{
                "executionSuccessful": scan.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// Percent-encode a `/`-separated path for a URI (RFC 3986: unreserved
/// characters and `/` stay, every other byte becomes `%XX`).
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
