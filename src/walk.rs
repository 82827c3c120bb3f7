//! Finding the `.nix` files to scan.
//!
//! Honours `.gitignore` (also outside a git repository), `.ignore`, skips
//! `.git` and `result*` symlinks (nix-build's out-links), never follows
//! directory symlinks (so symlink loops cannot trap the walk), and only takes
//! regular files (a directory called `foo.nix` is not a file).

use std::path::{Path, PathBuf};

/// A file the walk could not visit.
#[derive(Debug, Clone)]
pub struct WalkError {
    pub path: PathBuf,
    pub message: String,
}

/// Every `.nix` file under `roots`, sorted, deduplicated.
pub fn nix_files(roots: &[PathBuf]) -> (Vec<PathBuf>, Vec<WalkError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for root in roots {
        // A file named explicitly is scanned whatever its extension.
        match std::fs::metadata(root) {
            Ok(meta) if meta.is_file() => {
                files.push(root.clone());
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
            .filter_entry(|e| {
                let name = e.file_name().to_string_lossy();
                !(name == ".git" || (name.starts_with("result") && e.path_is_symlink()))
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
