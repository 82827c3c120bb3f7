//! `ifd-batch check`: the pre-commit hook. Checks only the files it is
//! given (the staged ones) and the manifest; `--fix` rewrites them.

use crate::manifest::Manifest;
use crate::rewrite::Plan;

/// One problem, as `file:line:col: kind: message`.
pub struct Finding {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub kind: String,
    pub message: String,
}

/// What is wrong with the checked files and the manifest.
pub fn findings(plan: &Plan, checked: Option<&[String]>) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in plan
        .sites
        .iter()
        .filter(|s| s.action == crate::rewrite::Action::Edited)
    {
        out.push(Finding {
            file: s.file.clone(),
            line: s.line,
            column: s.column,
            kind: s.kind.to_string(),
            message: format!("`{}` is not routed through the batch", s.call),
        });
    }
    for e in &plan.errors {
        out.push(Finding {
            file: e.file.clone(),
            line: e.line.unwrap_or(1),
            column: e.column.unwrap_or(1),
            kind: "error".into(),
            message: e.message.clone(),
        });
    }
    let old = plan
        .manifest_old
        .as_deref()
        .map(Manifest::parse)
        .and_then(Result::ok)
        .unwrap_or_default();
    let files: Vec<&String> = plan.manifest.files.keys().chain(old.files.keys()).collect();
    for file in files {
        if checked.is_some_and(|c| !c.contains(file)) {
            continue;
        }
        let new_entries = plan
            .manifest
            .files
            .get(file)
            .map(|e| e.semantic())
            .unwrap_or_default();
        let old_entries = old
            .files
            .get(file)
            .map(|e| e.semantic())
            .unwrap_or_default();
        if new_entries == old_entries {
            continue;
        }
        let (new_d, old_d) = (new_entries, old_entries);
        let missing: Vec<&String> = new_d.iter().filter(|x| !old_d.contains(x)).collect();
        let extra: Vec<&String> = old_d.iter().filter(|x| !new_d.contains(x)).collect();
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("missing {}", join(&missing)));
        }
        if !extra.is_empty() {
            parts.push(format!("extra {}", join(&extra)));
        }
        if parts.is_empty() {
            parts.push("changed entries".into());
        }
        out.push(Finding {
            file: plan.manifest_file.clone(),
            line: 1,
            column: 1,
            kind: "manifest".into(),
            message: format!("stale for {file}: {}", parts.join("; ")),
        });
    }
    for s in crate::materialize::stale(&plan.root, &plan.manifest_file, &plan.manifest) {
        out.push(Finding {
            file: s.file,
            line: 1,
            column: 1,
            kind: "materialized".into(),
            message: s.message,
        });
    }
    out.dedup_by(|a, b| a.file == b.file && a.line == b.line && a.message == b.message);
    out
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}
