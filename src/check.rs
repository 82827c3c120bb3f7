//! `ifd-batch check`: the pre-commit hook. Checks only the files it is
//! given (the staged ones) and the manifest; `--fix` rewrites them.

use crate::plan::Plan;

/// One problem, as `file:line:col: kind: message`.
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub kind: ProblemKind,
    pub message: String,
}

/// What a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A batchable site not routed through the batch.
    Site(crate::detect::Kind),
    /// The plan could not be made (a file that does not parse, …).
    Error,
    /// The manifest's entries are stale.
    Manifest,
    /// A materialized file is missing, extra or stale.
    Materialized,
}

impl std::fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProblemKind::Site(k) => write!(f, "{k}"),
            ProblemKind::Error => f.write_str("error"),
            ProblemKind::Manifest => f.write_str("manifest"),
            ProblemKind::Materialized => f.write_str("materialized"),
        }
    }
}

/// `file:line:col: kind: message`
impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.kind, self.message
        )
    }
}

/// What is wrong with the checked files and the manifest.
pub fn problems(plan: &Plan, checked: Option<&[String]>) -> Vec<Problem> {
    let mut out = Vec::new();
    for s in plan
        .sites
        .iter()
        .filter(|s| s.action == crate::plan::Action::Edited)
    {
        out.push(Problem {
            file: s.file.clone(),
            line: s.line,
            column: s.column,
            kind: ProblemKind::Site(s.kind),
            message: format!("`{}` is not routed through the batch", s.call),
        });
    }
    for e in &plan.errors {
        out.push(Problem {
            file: e.file.clone(),
            line: e.line.unwrap_or(1),
            column: e.column.unwrap_or(1),
            kind: ProblemKind::Error,
            message: e.message.clone(),
        });
    }
    let none = crate::manifest::Manifest::default();
    let old = plan.manifest_on_disk.as_ref().unwrap_or(&none);
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
        out.push(Problem {
            file: plan.manifest_file.clone(),
            line: 1,
            column: 1,
            kind: ProblemKind::Manifest,
            message: format!("stale for {file}: {}", parts.join("; ")),
        });
    }
    for s in crate::materialize::stale(&plan.root, &plan.manifest_file, &plan.manifest) {
        out.push(Problem {
            file: s.file,
            line: 1,
            column: 1,
            kind: ProblemKind::Materialized,
            message: s.message,
        });
    }
    out.dedup_by(|a, b| a.file == b.file && a.line == b.line && a.message == b.message);
    out
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}
