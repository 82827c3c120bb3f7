//! Finding the `.nix` files to scan.
//!
//! The files are [`fileset`]'s: inside a git work tree what git shows
//! (tracked files, even ignored ones, and untracked files no rule ignores:
//! `git ls-files -co --exclude-standard`); elsewhere, or without git, the
//! `ignore` crate's walk (`.gitignore` also outside a repository, `.ignore`,
//! never following directory symlinks, so loops cannot trap it). Either way
//! no `.git`, no `result*` symlinks (nix-build's out-links), and only regular
//! files (a directory called `foo.nix` is not a file; a symlink to a
//! regular file counts). Paths matching an `--exclude` glob ([`Exclude`])
//! are left out, files named explicitly too (pre-commit passes staged files
//! by name).

use crate::fileset::{self, Which};
use std::path::{Path, PathBuf};

/// `--exclude GLOB` patterns, in `.gitignore` syntax, relative to a root:
/// `tests/bad.nix`, `*.broken.nix`, `fixtures/` (a directory and all
/// below it), `**/invalid/*.nix`.
/// An `--exclude` glob that does not compile.
#[derive(Debug, thiserror::Error)]
#[error("--exclude{}: {source}", glob.as_deref().map(|g| format!(" {g}")).unwrap_or_default())]
pub struct ExcludeError {
    glob: Option<String>,
    source: ignore::Error,
}

#[derive(Clone, Default)]
pub struct Exclude {
    root: PathBuf,
    set: Option<ignore::gitignore::Gitignore>,
}

impl Exclude {
    /// Compile `globs` for paths under `root`; an invalid glob is an error.
    pub fn new(root: &Path, globs: &[String]) -> Result<Exclude, ExcludeError> {
        if globs.is_empty() {
            return Ok(Exclude::default());
        }
        let mut builder = ignore::gitignore::GitignoreBuilder::new("");
        for g in globs {
            builder.add_line(None, g).map_err(|source| ExcludeError {
                glob: Some(g.clone()),
                source,
            })?;
        }
        let set = builder
            .build()
            .map_err(|source| ExcludeError { glob: None, source })?;
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

/// A file the walk could not visit.
#[derive(Debug, Clone)]
pub struct WalkError {
    pub path: PathBuf,
    pub message: String,
}

/// Every `.nix` file under `roots` that `exclude` leaves in, sorted,
/// deduplicated.
pub fn nix_files(roots: &[PathBuf], exclude: &Exclude) -> (Vec<PathBuf>, Vec<WalkError>) {
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
        let skip = {
            let exclude = exclude.clone();
            move |path: &Path, is_dir: bool| exclude.excludes(path, is_dir)
        };
        // `Seen` never fails: without git it is the ignore-rule walk.
        let listing = fileset::list(root, Which::Seen, skip).unwrap_or_default();
        files.extend(
            listing
                .files
                .into_iter()
                .map(|rel| root.join(rel))
                .filter(|path| is_nix_file(path)),
        );
        errors.extend(listing.errors.into_iter().map(|e| WalkError {
            path: e.path,
            message: e.message,
        }));
    }
    files.sort();
    files.dedup();
    (files, errors)
}

/// A `.nix` regular file, or a symlink to one (the listing holds regular
/// files and symlinks; a symlink to a directory or nowhere is not a file).
fn is_nix_file(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "nix")
        && std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// `git ARGS` in `dir`; false when git is missing (the flake's build
    /// sandbox), except under `CI=true`.
    fn git(dir: &Path, args: &[&str]) -> bool {
        match Command::new("git").args(args).current_dir(dir).output() {
            Ok(o) => {
                assert!(o.status.success(), "git {args:?}");
                true
            }
            Err(_) => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "git not found, and CI=true"
                );
                false
            }
        }
    }

    /// Inside a work tree the walk reads what git shows: a tracked file
    /// that an ignore rule matches too; several roots, one inside another,
    /// once; `--exclude` still applies.
    #[test]
    fn git_files_under_several_roots_with_exclude() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path();
        if !git(d, &["init", "-q"]) {
            return;
        }
        std::fs::create_dir_all(d.join("ci/broken")).expect("mkdir");
        std::fs::write(d.join(".gitignore"), "release.nix\n*.local.nix\n").expect("write");
        for f in [
            "default.nix",
            "ci/release.nix",
            "ci/broken/bad.nix",
            "x.local.nix",
            "notes.txt",
        ] {
            std::fs::write(d.join(f), "{ }").expect("write");
        }
        git(d, &["add", "-A"]);
        git(d, &["add", "-f", "ci/release.nix"]);
        let exclude = Exclude::new(d, &["broken/".into()]).expect("exclude");
        let roots = [d.join("ci"), d.to_path_buf()];
        let (files, errors) = nix_files(&roots, &exclude);
        assert!(errors.is_empty(), "{errors:?}");
        let rel: Vec<_> = files
            .iter()
            .map(|f| {
                f.strip_prefix(d)
                    .unwrap_or(f)
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(rel, ["ci/release.nix", "default.nix"]);
    }
}
