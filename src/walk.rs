//! Finding the `.nix` files to scan.
//!
//! Honours `.gitignore` (also outside a git repository), `.ignore`, skips
//! `.git` and `result*` symlinks (nix-build's out-links), never follows
//! directory symlinks (so symlink loops cannot trap the walk), and only takes
//! regular files (a directory called `foo.nix` is not a file). Paths
//! matching an `--exclude` glob ([`Exclude`]) are left out, files named
//! explicitly too (pre-commit passes staged files by name).

use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// `--exclude GLOB` patterns, in `.gitignore` syntax, relative to a root:
/// `tests/bad.nix`, `*.broken.nix`, `fixtures/` (a directory and all
/// below it), `**/invalid/*.nix`.
#[derive(Clone, Default)]
pub struct Exclude {
    root: PathBuf,
    set: Option<ignore::gitignore::Gitignore>,
}

impl Exclude {
    /// Compile `globs` for paths under `root`; an invalid glob is an error.
    pub fn new(root: &Path, globs: &[String]) -> Result<Exclude, String> {
        if globs.is_empty() {
            return Ok(Exclude::default());
        }
        let mut builder = ignore::gitignore::GitignoreBuilder::new("");
        for g in globs {
            builder
                .add_line(None, g)
                .map_err(|e| format!("--exclude {g}: {e}"))?;
        }
        let set = builder.build().map_err(|e| format!("--exclude: {e}"))?;
        Ok(Exclude {
            root: root.to_path_buf(),
            set: Some(set),
        })
    }

    /// Is `path` (under the root, or relative to it) excluded, itself or
    /// through one of its directories?
    pub fn excludes(&self, path: &Path, is_dir: bool) -> bool {
        let Some(set) = &self.set else {
            return false;
        };
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        let rel = rel.strip_prefix(".").unwrap_or(rel);
        if rel.has_root() || rel.as_os_str().is_empty() {
            return false;
        }
        set.matched_path_or_any_parents(rel, is_dir).is_ignore()
    }
}

thread_local! {
    static EXCLUDE: RefCell<Exclude> = RefCell::new(Exclude::default());
}

/// Run `f` with `exclude` applied to every walk it makes on this thread.
/// `rewrite` and `check` plan through a scan that knows nothing of the
/// command line; this is how their `--exclude` reaches the walk.
pub fn with_exclude<R>(exclude: &Exclude, f: impl FnOnce() -> R) -> R {
    let old = EXCLUDE.with(|e| e.replace(exclude.clone()));
    let out = f();
    EXCLUDE.with(|e| e.replace(old));
    out
}

/// A file the walk could not visit.
#[derive(Debug, Clone)]
pub struct WalkError {
    pub path: PathBuf,
    pub message: String,
}

/// Every `.nix` file under `roots`, sorted, deduplicated.
pub fn nix_files(roots: &[PathBuf]) -> (Vec<PathBuf>, Vec<WalkError>) {
    let exclude = EXCLUDE.with(|e| e.borrow().clone());
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for root in roots {
        // A file named explicitly is scanned whatever its extension.
        match std::fs::metadata(root) {
            Ok(meta) if meta.is_file() => {
                if !exclude.excludes(root, false) {
                    files.push(root.clone());
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                errors.push(WalkError {
                    path: root.clone(),
                    message: e.to_string(),
                });
                continue;
            }
        }
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .require_git(false)
            .follow_links(false)
            .filter_entry({
                let exclude = exclude.clone();
                move |e| {
                    let name = e.file_name().to_string_lossy();
                    let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                    !(name == ".git"
                        || (name.starts_with("result") && e.path_is_symlink())
                        || (e.depth() > 0 && exclude.excludes(e.path(), is_dir)))
                }
            })
            .build();
        for entry in walker {
            match entry {
                Ok(entry) => {
                    if is_nix_file(entry.path(), entry.file_type()) {
                        files.push(entry.into_path());
                    }
                }
                Err(e) => errors.push(WalkError {
                    path: error_path(&e).unwrap_or_else(|| root.clone()),
                    message: e.to_string(),
                }),
            }
        }
    }
    files.sort();
    files.dedup();
    (files, errors)
}

fn is_nix_file(path: &Path, file_type: Option<std::fs::FileType>) -> bool {
    if path.extension().is_none_or(|ext| ext != "nix") {
        return false;
    }
    match file_type {
        Some(ft) if ft.is_file() => true,
        // A symlink to a regular file counts; to a directory or nowhere, not.
        Some(ft) if ft.is_symlink() => std::fs::metadata(path).is_ok_and(|m| m.is_file()),
        _ => false,
    }
}

fn error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}
