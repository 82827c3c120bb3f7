//! `rewrite --verify`: evaluate with real Nix before and after the rewrite
//! and compare the drvPath of every derivation.

use crate::fileset::{self, Which};
use crate::rewrite::Plan;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `FILE[:ATTRPATH]`, FILE relative to the repository root.
#[derive(Debug, Clone)]
pub struct Target {
    pub file: String,
    pub attr: String,
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Target, String> {
        let (file, attr) = s.split_once(':').unwrap_or((s, ""));
        if file.is_empty() {
            return Err("expected FILE[:ATTRPATH]".into());
        }
        Ok(Target {
            file: file.to_string(),
            attr: attr.to_string(),
        })
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.attr.is_empty() {
            f.write_str(&self.file)
        } else {
            write!(f, "{}:{}", self.file, self.attr)
        }
    }
}

/// How deep to recurse into nested attribute sets looking for derivations.
pub const DEPTH: u32 = 3;

/// The evaluator: drvPaths of every derivation under `attr`, errors as
/// `<error>` (only catchable ones; others fail the evaluation).
const COLLECT: &str = include_str!("../nixlib/collect.nix");

/// One compared attribute.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub target: String,
    pub attr: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Row {
    pub fn same(&self) -> bool {
        self.before == self.after
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub rows: Vec<Row>,
}

impl Report {
    pub fn ok(&self) -> bool {
        !self.rows.is_empty() && self.rows.iter().all(Row::same)
    }

    pub fn table(&self) -> String {
        let mut t = String::from("verify: drvPath before and after the rewrite\n");
        let w = self
            .rows
            .iter()
            .map(|r| r.target.len() + r.attr.len() + 1)
            .max()
            .unwrap_or(10);
        for r in &self.rows {
            let name = format!("{}:{}", r.target, r.attr);
            let mark = if r.same() { "same" } else { "DIFFERENT" };
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".into());
            if r.same() {
                t.push_str(&format!("  {name:<w$}  {mark}  {}\n", show(&r.before)));
            } else {
                t.push_str(&format!(
                    "  {name:<w$}  {mark}\n    before: {}\n    after:  {}\n",
                    show(&r.before),
                    show(&r.after)
                ));
            }
        }
        let same = self.rows.iter().filter(|r| r.same()).count();
        t.push_str(&format!(
            "  {same} of {} derivations identical\n",
            self.rows.len()
        ));
        t
    }
}

/// A temporary copy of the repository (its git work tree) with the plan
/// applied, and the collector next to it.
pub struct Rewritten {
    pub tmp: tempfile::TempDir,
    /// The plan's root inside the copy.
    pub root: PathBuf,
    pub collect: PathBuf,
}

/// Copy the work tree and apply `plan` to the copy. The copy holds the
/// files the user's own evaluation sees, less what git ignores
/// ([`Which::Seen`]).
pub fn rewritten_copy(plan: &Plan) -> Result<Rewritten, String> {
    let base = copy_base(&plan.root);
    let listing = fileset::list(&base, Which::Seen, |_: &Path, _| false)?;
    if let Some(e) = listing.errors.first() {
        return Err(format!(
            "copying the tree: {}: {}",
            e.path.display(),
            e.message
        ));
    }
    rewritten_copy_of(plan, &listing.files)
}

/// Copy `files` (relative to the work tree, a [`fileset::list`]) and apply
/// `plan` to the copy.
pub(crate) fn rewritten_copy_of(plan: &Plan, files: &[PathBuf]) -> Result<Rewritten, String> {
    let base = copy_base(&plan.root);
    let tmp =
        tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let copy = tmp.path().join("tree");
    std::fs::create_dir_all(&copy).map_err(|e| format!("{}: {e}", copy.display()))?;
    fileset::copy(&base, files, &copy)?;
    let root_rel = plan.root.canonicalize().ok().and_then(|r| {
        base.canonicalize()
            .ok()
            .and_then(|b| r.strip_prefix(&b).ok().map(Path::to_path_buf))
    });
    let copy_root = copy.join(root_rel.unwrap_or_default());
    for c in &plan.changes {
        write_plain(&copy_root.join(&c.file), &c.new)?;
    }
    for r in &plan.removals {
        let _ = std::fs::remove_file(copy_root.join(r));
    }
    if let Some(m) = &plan.manifest_new {
        write_plain(&copy_root.join(&plan.manifest_file), m)?;
    }
    let collect = tmp.path().join("collect.nix");
    write_plain(&collect, COLLECT)?;
    Ok(Rewritten {
        tmp,
        root: copy_root,
        collect,
    })
}

/// Evaluate every target on the original tree and on a rewritten copy.
pub fn verify(plan: &Plan, targets: &[Target]) -> Result<Report, String> {
    let copy = rewritten_copy(plan)?;
    let mut rows = Vec::new();
    for t in targets {
        let before = evaluate(&copy.collect, &plan.root.join(&t.file), &t.attr)?;
        let after = evaluate(&copy.collect, &copy.root.join(&t.file), &t.attr)?;
        let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
        names.sort();
        names.dedup();
        for n in names {
            rows.push(Row {
                target: t.file.clone(),
                attr: if t.attr.is_empty() {
                    n.clone()
                } else if n.is_empty() {
                    t.attr.clone()
                } else {
                    format!("{}.{n}", t.attr)
                },
                before: before.get(n).cloned(),
                after: after.get(n).cloned(),
            });
        }
    }
    Ok(Report { rows })
}

fn evaluate(collect: &Path, file: &Path, attr: &str) -> Result<BTreeMap<String, String>, String> {
    let (drvs, _) = evaluate_env(collect, file, attr, &[])?;
    Ok(drvs)
}

/// Evaluate `attr` of `file` with the collector and extra environment:
/// the drvPaths, and what Nix printed on stderr (traces).
pub fn evaluate_env(
    collect: &Path,
    file: &Path,
    attr: &str,
    env: &[(&str, &str)],
) -> Result<(BTreeMap<String, String>, String), String> {
    let file = file
        .canonicalize()
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let out = Command::new("nix-instantiate")
        .envs(env.iter().copied())
        .args(["--eval", "--strict", "--json", "--read-write-mode"])
        .arg(collect)
        .args(["--arg", "file"])
        .arg(&file)
        .args(["--argstr", "attr", attr])
        .args(["--arg", "depth", &DEPTH.to_string()])
        .output()
        .map_err(|e| format!("cannot run nix-instantiate: {e} (is Nix installed?)"))?;
    if !out.status.success() {
        return Err(format!(
            "evaluating {}{} failed:\n{}",
            file.display(),
            if attr.is_empty() {
                String::new()
            } else {
                format!(" -A {attr}")
            },
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let drvs = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("unexpected output from nix-instantiate: {e}"))?;
    Ok((drvs, String::from_utf8_lossy(&out.stderr).into_owned()))
}

/// The directory to copy: the enclosing git work tree when there is one (the
/// expression may import files outside the rewritten directory), else the
/// root itself.
fn copy_base(root: &Path) -> PathBuf {
    let abs = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    abs.ancestors()
        .find(|a| a.join(".git").exists())
        .map(Path::to_path_buf)
        .unwrap_or(abs)
}

pub(crate) fn write_plain(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
