//! Applying a plan (atomically, file by file) and showing it (a unified
//! diff).

use super::Plan;
use std::path::{Path, PathBuf};

/// Write `text` to `path` atomically: a temporary file in the same
/// directory, synced, given the old file's permissions, then renamed over.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".ifd-batch-")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    let perms = match std::fs::metadata(path) {
        Ok(m) => m.permissions(),
        Err(_) => {
            use std::os::unix::fs::PermissionsExt;
            std::fs::Permissions::from_mode(0o644)
        }
    };
    std::fs::set_permissions(tmp.path(), perms)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Why [`write`] wrote nothing, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the plan has errors; nothing written")]
    PlanHasErrors,
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

/// Apply a plan: every changed file and the manifest, each atomically.
/// Refuses (writes nothing) when the plan has errors.
pub fn write(plan: &Plan) -> Result<usize, WriteError> {
    if !plan.errors.is_empty() {
        return Err(WriteError::PlanHasErrors);
    }
    Ok(apply_to(&plan.root, plan)?)
}

/// A file [`apply_to`] could not write or remove.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct ApplyError {
    pub path: PathBuf,
    source: std::io::Error,
}

/// Apply `plan` to the tree at `root` (the plan's own root, or a copy of
/// it): every change, then the manifest when it differs from the file
/// there, each atomically; then the removals, with the empty directories
/// they leave (never `root`). Returns how many files were written or
/// removed. When `root` is the plan's root, the files created are marked
/// intent-to-add in git (see [`track_new_files`]).
pub(crate) fn apply_to(root: &Path, plan: &Plan) -> Result<usize, ApplyError> {
    let at = |path: PathBuf| move |source| ApplyError { path, source };
    let mut n = 0;
    let mut created = Vec::new();
    for c in &plan.changes {
        let path = root.join(&c.file);
        if std::fs::symlink_metadata(&path).is_err() {
            created.push(path.clone());
        }
        write_atomic(&path, &c.new).map_err(at(path))?;
        n += 1;
    }
    if let Some(m) = &plan.manifest_new {
        let path = root.join(&plan.manifest_file);
        if std::fs::read_to_string(&path).ok().as_ref() != Some(m) {
            if std::fs::symlink_metadata(&path).is_err() {
                created.push(path.clone());
            }
            write_atomic(&path, m).map_err(at(path))?;
            n += 1;
        }
    }
    if root == plan.root {
        track_new_files(root, &created);
    }
    for r in &plan.removals {
        let path = root.join(r);
        match std::fs::remove_file(&path) {
            Ok(()) => n += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(at(path)(e)),
        }
        // Empty directories left behind go too (never the root).
        let mut dir = path.parent();
        while let Some(d) = dir.filter(|d| *d != root) {
            if std::fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
    Ok(n)
}

/// In a git work tree, flake evaluation only sees files git knows: mark the
/// files just created with `git add --intent-to-add` (their content is not
/// staged), or, when git refuses, say exactly that on stderr.
fn track_new_files(root: &Path, created: &[PathBuf]) {
    use std::process::{Command, Stdio};
    if created.is_empty() {
        return;
    }
    let git = || {
        let mut c = Command::new("git");
        c.arg("-C").arg(root).stdin(Stdio::null());
        c
    };
    let in_work_tree = git()
        .args(["rev-parse", "--is-inside-work-tree"])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"true"));
    if !in_work_tree {
        return;
    }
    // Absolute paths: `created` is relative to the current directory, git
    // runs in `root`.
    let absolute: Vec<PathBuf> = created
        .iter()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .collect();
    let added = git()
        .args(["add", "--intent-to-add", "--"])
        .args(&absolute)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !added {
        let names: Vec<String> = created.iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "ifd-batch: hint: git does not track the new file{s} yet, and flake evaluation will not see {them} until it does: git add --intent-to-add {}",
            names.join(" "),
            s = if created.len() == 1 { "" } else { "s" },
            them = if created.len() == 1 { "it" } else { "them" },
        );
    }
}

/// Unified diff of the plan, file by file, then the manifest.
pub fn diff(plan: &Plan) -> String {
    let mut out = String::new();
    for c in &plan.changes {
        out.push_str(&unified(&c.old, &c.new, &c.file));
    }
    if let Some(m) = &plan.manifest_new
        && plan.manifest_old.as_ref() != Some(m)
    {
        out.push_str(&unified(
            plan.manifest_old.as_deref().unwrap_or(""),
            m,
            &plan.manifest_file,
        ));
    }
    for r in &plan.removals {
        let old = std::fs::read_to_string(plan.root.join(r)).unwrap_or_default();
        out.push_str(&unified(&old, "", r));
    }
    out
}

fn unified(old: &str, new: &str, name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}
