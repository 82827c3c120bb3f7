//! `rewrite --verify`: evaluate with real Nix before and after the rewrite
//! and compare the drvPath of every derivation.

use crate::fileset::{self, Which};
use crate::nix::{Nix, NixError};
use crate::plan::{ApplyError, Plan, apply_to};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why `--verify` could not compare.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Copy(#[from] CopyError),
    #[error(transparent)]
    Eval(#[from] EvalError),
}

/// Why the rewritten copy of the tree could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    List(#[from] crate::fileset::ListError),
    #[error(transparent)]
    FileSet(#[from] crate::fileset::CopyError),
    #[error("copying the tree: {}: {message}", path.display())]
    Unreadable { path: PathBuf, message: String },
    #[error("cannot create a temporary directory: {0}")]
    TempDir(std::io::Error),
    #[error("{}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

/// Why evaluating a file failed.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{}: {source}", path.display())]
    Missing {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Nix(#[from] NixError),
}

impl EvalError {
    /// The file, as Nix will be given it (absolute, links resolved).
    pub fn canonical(file: &Path) -> Result<PathBuf, EvalError> {
        file.canonicalize().map_err(|source| EvalError::Missing {
            path: file.to_path_buf(),
            source,
        })
    }
}

/// `evaluating FILE -A ATTR`: what an evaluation was doing, for its error.
pub fn evaluating(file: &Path, attr: &str) -> String {
    if attr.is_empty() {
        format!("evaluating {}", file.display())
    } else {
        format!("evaluating {} -A {attr}", file.display())
    }
}

/// Not `FILE[:ATTRPATH]`.
#[derive(Debug, thiserror::Error)]
#[error("expected FILE[:ATTRPATH]")]
pub struct BadTarget;

/// `FILE[:ATTRPATH]`, FILE relative to the repository root.
#[derive(Debug, Clone)]
pub struct AttrTarget {
    pub file: String,
    pub attr: String,
}

impl std::str::FromStr for AttrTarget {
    type Err = BadTarget;
    fn from_str(s: &str) -> Result<AttrTarget, BadTarget> {
        let (file, attr) = s.split_once(':').unwrap_or((s, ""));
        if file.is_empty() {
            return Err(BadTarget);
        }
        Ok(AttrTarget {
            file: file.to_string(),
            attr: attr.to_string(),
        })
    }
}

impl std::fmt::Display for AttrTarget {
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
pub struct Comparison {
    pub rows: Vec<Row>,
}

impl Comparison {
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
pub fn rewritten_copy(plan: &Plan) -> Result<Rewritten, CopyError> {
    let base = copy_base(&plan.root);
    let listing = fileset::list(&base, Which::Seen, |_: &Path, _| false)?;
    if let Some(e) = listing.errors.first() {
        return Err(CopyError::Unreadable {
            path: e.path.clone(),
            message: e.message.clone(),
        });
    }
    rewritten_copy_of(plan, &listing.files)
}

/// Copy `files` (relative to the work tree, a [`fileset::list`]) and apply
/// `plan` to the copy.
pub(crate) fn rewritten_copy_of(plan: &Plan, files: &[PathBuf]) -> Result<Rewritten, CopyError> {
    let base = copy_base(&plan.root);
    let tmp = tempfile::tempdir().map_err(CopyError::TempDir)?;
    let copy = tmp.path().join("tree");
    std::fs::create_dir_all(&copy).map_err(|source| CopyError::Write {
        path: copy.clone(),
        source,
    })?;
    fileset::copy(&base, files, &copy)?;
    let root_rel = plan.root.canonicalize().ok().and_then(|r| {
        base.canonicalize()
            .ok()
            .and_then(|b| r.strip_prefix(&b).ok().map(Path::to_path_buf))
    });
    let copy_root = copy.join(root_rel.unwrap_or_default());
    apply_to(&copy_root, plan)?;
    let collect = tmp.path().join("collect.nix");
    write_plain(&collect, COLLECT)?;
    Ok(Rewritten {
        tmp,
        root: copy_root,
        collect,
    })
}

/// Evaluate every target on the original tree and on a rewritten copy.
pub fn compare(plan: &Plan, targets: &[AttrTarget]) -> Result<Comparison, VerifyError> {
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
    Ok(Comparison { rows })
}

fn evaluate(
    collect: &Path,
    file: &Path,
    attr: &str,
) -> Result<BTreeMap<String, String>, EvalError> {
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
) -> Result<(BTreeMap<String, String>, String), EvalError> {
    let file = EvalError::canonical(file)?;
    Ok(Nix::eval_json()
        .envs(env)
        .arg(collect)
        .args(["--arg", "file"])
        .arg(&file)
        .args(["--argstr", "attr", attr])
        .args(["--arg", "depth", &DEPTH.to_string()])
        .json(&evaluating(&file, attr))?)
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

pub(crate) fn write_plain(path: &Path, text: &str) -> Result<(), CopyError> {
    let at = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CopyError::Write { path, source }
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(at(dir))?;
    }
    std::fs::write(path, text).map_err(at(path))
}
