//! The file set: which files of a directory ifd-batch reads (`scan`), copies
//! (`--verify`'s temporary tree) and lets reach the world-readable Nix store
//! (the dynamic backend's copy of the repository). One definition, so the
//! three cannot disagree.
//!
//! Inside a git work tree the answer is git's, as a user sees it: a tracked
//! file is in the set even when an ignore rule matches it (`git add -f`, or
//! added before the rule), and an ignored, untracked one never is, whatever
//! rule ignores it (globs, `!` negations, nested `.gitignore` files,
//! `.git/info/exclude`, the user's global excludes). `git ls-files -z`
//! lists it; the names are bytes, so spaces, newlines and non-UTF-8 names
//! come through. Outside a work tree, or without git installed, the
//! `ignore` crate's walk stands in (its `.gitignore` rules, also outside a
//! checkout).
//!
//! Entries are regular files and symlinks (listed as themselves, never
//! followed: git does not follow them either). Left out: what is not on
//! disk (a tracked file deleted in the work tree), directories (submodules'
//! gitlinks, nested repositories), `.git`, and `result*` symlinks
//! (nix-build's out-links).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Which of git's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// `git ls-files -co --exclude-standard`: tracked files and untracked
    /// files no rule ignores. What `scan` reads and `--verify` copies (the
    /// tree the user's own evaluation sees, less what is ignored).
    Seen,
    /// `git ls-files -c`: tracked files, intent-to-add ones (`git add -N`)
    /// included. What a flake's source holds, and what the dynamic backend
    /// copies into the store. A git failure inside a work tree is an error
    /// here, not a fallback: the walk's approximation must not decide what
    /// reaches the store when git could have.
    Tracked,
}

/// An entry the fallback walk could not read, or a file git listed whose
/// kind could not be read.
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub path: PathBuf,
    pub message: String,
}

/// The files of a directory.
#[derive(Debug, Default)]
pub struct Listing {
    /// Relative to the directory, sorted, without duplicates.
    pub files: Vec<PathBuf>,
    pub errors: Vec<Unreadable>,
}

/// Why git could not list a directory's files.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
    #[error("git ls-files in {} failed: {stderr}", dir.display())]
    Git { dir: PathBuf, stderr: String },
}

/// A file [`copy`] could not copy.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct CopyError {
    pub path: PathBuf,
    source: std::io::Error,
}

/// The `which` files under `dir` (a directory). `skip(path, is_dir)` (the
/// path is `dir` joined with the entry's) leaves entries out, and with them,
/// in the fallback walk, whatever is below a skipped directory.
pub fn list<F>(dir: &Path, which: Which, skip: F) -> Result<Listing, ListError>
where
    F: Fn(&Path, bool) -> bool + Clone + Send + Sync + 'static,
{
    let mut listing = match git_ls_files(dir, which) {
        Ok(Some(out)) => from_git(dir, &out, &skip),
        Ok(None) => walk(dir, &skip),
        Err(_) if which == Which::Seen => walk(dir, &skip),
        Err(e) => return Err(e),
    };
    listing.files.sort();
    listing.files.dedup();
    Ok(listing)
}

/// Is `dir` inside a git work tree (a `.git` directory or file above it)?
fn in_work_tree(dir: &Path) -> bool {
    dir.canonicalize()
        .is_ok_and(|d| d.ancestors().any(|a| a.join(".git").exists()))
}

/// `git ls-files -z …` in `dir`: `None` outside a work tree or when git is
/// not installed.
fn git_ls_files(dir: &Path, which: Which) -> Result<Option<Vec<u8>>, ListError> {
    if !in_work_tree(dir) {
        return Ok(None);
    }
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir).args(["ls-files", "-z", "--cached"]);
    if which == Which::Seen {
        cmd.args(["--others", "--exclude-standard"]);
    }
    // The repository is the one holding `dir`, not one a hook's environment
    // names (git runs hooks with GIT_DIR and GIT_INDEX_FILE set).
    for var in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"] {
        cmd.env_remove(var);
    }
    match cmd.output() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ListError::Spawn(e)),
        Ok(o) if !o.status.success() => Err(ListError::Git {
            dir: dir.to_path_buf(),
            stderr: String::from_utf8_lossy(&o.stderr).trim().to_string(),
        }),
        Ok(o) => Ok(Some(o.stdout)),
    }
}

/// What git listed, checked against the disk.
fn from_git(dir: &Path, out: &[u8], skip: &dyn Fn(&Path, bool) -> bool) -> Listing {
    let mut listing = Listing::default();
    // A trailing `/`: a nested repository `--others` does not descend into.
    for name in out
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty() && !n.ends_with(b"/"))
    {
        let rel = PathBuf::from(OsStr::from_bytes(name));
        let path = dir.join(&rel);
        if skip(&path, false) {
            continue;
        }
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if keep(&rel, meta.file_type()) => listing.files.push(rel),
            Ok(_) => {}
            // Tracked, but deleted in the work tree (or a parent replaced).
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) => {}
            Err(e) => listing.errors.push(Unreadable {
                path,
                message: e.to_string(),
            }),
        }
    }
    listing
}

/// A regular file or a symlink, not an out-link.
fn keep(rel: &Path, ft: std::fs::FileType) -> bool {
    ft.is_file() || (ft.is_symlink() && !is_out_link_name(rel))
}

fn is_out_link_name(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.as_bytes().starts_with(b"result"))
}

/// The `ignore` crate's walk (outside git): `.gitignore`, `.ignore`; never
/// follows directory symlinks, so symlink loops cannot trap it.
fn walk<F>(dir: &Path, skip: &F) -> Listing
where
    F: Fn(&Path, bool) -> bool + Clone + Send + Sync + 'static,
{
    let mut listing = Listing::default();
    let walker = ignore::WalkBuilder::new(dir)
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .filter_entry({
            let skip = skip.clone();
            move |e| {
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                !(e.file_name() == ".git"
                    || (e.path_is_symlink() && is_out_link_name(e.path()))
                    || (e.depth() > 0 && skip(e.path(), is_dir)))
            }
        })
        .build();
    for entry in walker {
        match entry {
            Ok(entry) if entry.depth() > 0 => {
                let Some(ft) = entry.file_type() else {
                    continue;
                };
                if ft.is_file() || ft.is_symlink() {
                    let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
                    listing.files.push(rel.to_path_buf());
                }
            }
            Ok(_) => {}
            Err(e) => listing.errors.push(Unreadable {
                path: error_path(&e).unwrap_or_else(|| dir.to_path_buf()),
                message: e.to_string(),
            }),
        }
    }
    listing
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

/// Copy `files` (relative, as [`list`] gives them) from `from` to `to`:
/// regular files by content, symlinks as symlinks.
pub fn copy(from: &Path, files: &[PathBuf], to: &Path) -> Result<(), CopyError> {
    let at = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CopyError { path, source }
    };
    for rel in files {
        let src = from.join(rel);
        let dest = to.join(rel);
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).map_err(at(dir))?;
        }
        let meta = std::fs::symlink_metadata(&src).map_err(at(&src))?;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&src).map_err(at(&src))?;
            std::os::unix::fs::symlink(target, &dest).map_err(at(&dest))?;
        } else {
            std::fs::copy(&src, &dest).map_err(at(&dest))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// Run git in `dir`; false when git is missing (the flake's build
    /// sandbox), except under `CI=true`, where it must be there.
    fn git(dir: &Path, args: &[&str]) -> bool {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
            .args(["-c", "protocol.file.allow=always"])
            .args(args)
            .current_dir(dir)
            .output();
        match out {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "git not found, and CI=true"
                );
                eprintln!("*** SKIPPED: git not found ***");
                false
            }
            Err(e) => panic!("git {args:?}: {e}"),
            Ok(o) => {
                assert!(
                    o.status.success(),
                    "git {args:?}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                true
            }
        }
    }

    fn write(dir: &Path, rel: impl AsRef<Path>, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap_or(dir)).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn names(dir: &Path, which: Which) -> Vec<String> {
        list(dir, which, |_: &Path, _| false)
            .expect("list")
            .files
            .iter()
            .map(|f| f.to_string_lossy().into_owned())
            .collect()
    }

    /// A repository with a file ignored or kept in every way git has. None
    /// when git is missing.
    fn repo() -> Option<tempfile::TempDir> {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path();
        if !git(d, &["init", "-q"]) {
            return None;
        }
        write(
            d,
            ".gitignore",
            "*.pem\n.env.*\nrelease.nix\nignored/\n!keep.pem\n",
        );
        write(d, "sub/.gitignore", "local.nix\n");
        write(d, ".git/info/exclude", "excluded.nix\n");
        for f in [
            "default.nix",
            "release.nix",
            "ignored/tracked.nix",
            "gone.nix",
            "a b.nix",
            "new\nline.nix",
        ] {
            write(d, f, "{ }");
        }
        git(d, &["add", "-A"]);
        git(d, &["add", "-f", "release.nix", "ignored/tracked.nix"]);
        std::fs::remove_file(d.join("gone.nix")).expect("rm");
        for f in [
            "secret.pem",
            ".env.local",
            "ignored/untracked.nix",
            "sub/local.nix",
            "excluded.nix",
            "keep.pem",
            "new.nix",
            "sub/other.nix",
            "intent.nix",
        ] {
            write(d, f, "{ }");
        }
        git(d, &["add", "-N", "intent.nix"]);
        std::fs::write(d.join(OsStr::from_bytes(b"caf\xe9.nix")), "{ }").expect("latin1");
        symlink("default.nix", d.join("link.nix")).expect("symlink");
        symlink("sub", d.join("dirlink")).expect("symlink");
        symlink("/nix/store", d.join("result")).expect("symlink");
        // A submodule (its gitlink is a directory: left out) and a nested
        // repository git does not descend into.
        let inner = d.join("inner");
        write(&inner, "x.nix", "{ }");
        git(&inner, &["init", "-q"]);
        git(&inner, &["add", "-A"]);
        git(&inner, &["commit", "-qm", "x"]);
        git(d, &["add", "inner"]);
        write(d, "nested/y.nix", "{ }");
        git(&d.join("nested"), &["init", "-q"]);
        Some(tmp)
    }

    #[test]
    fn seen_is_what_git_shows() {
        let Some(tmp) = repo() else { return };
        let mut expected = vec![
            ".gitignore",
            "a b.nix",
            "caf\u{fffd}.nix",
            "default.nix",
            "dirlink",
            "ignored/tracked.nix",
            "intent.nix",
            "keep.pem",
            "link.nix",
            "new\nline.nix",
            "new.nix",
            "release.nix",
            "sub/.gitignore",
            "sub/other.nix",
        ];
        expected.sort();
        assert_eq!(names(tmp.path(), Which::Seen), expected);
    }

    #[test]
    fn tracked_is_a_flakes_source() {
        let Some(tmp) = repo() else { return };
        assert_eq!(
            names(tmp.path(), Which::Tracked),
            [
                ".gitignore",
                "a b.nix",
                "default.nix",
                "ignored/tracked.nix",
                "intent.nix",
                "new\nline.nix",
                "release.nix",
                "sub/.gitignore",
            ]
        );
    }

    #[test]
    fn a_subdirectory_lists_its_own_files() {
        let Some(tmp) = repo() else { return };
        assert_eq!(
            names(&tmp.path().join("sub"), Which::Seen),
            [".gitignore", "other.nix"]
        );
        assert_eq!(
            names(&tmp.path().join("ignored"), Which::Seen),
            ["tracked.nix"]
        );
    }

    #[test]
    fn skip_leaves_files_out() {
        let Some(tmp) = repo() else { return };
        let d = tmp.path().to_path_buf();
        let listing = list(tmp.path(), Which::Tracked, move |p: &Path, _| {
            p.starts_with(d.join("ignored")) || p.ends_with("release.nix")
        })
        .expect("list");
        assert!(!listing.files.iter().any(|f| f.starts_with("ignored")));
        assert!(!listing.files.contains(&PathBuf::from("release.nix")));
        assert!(listing.files.contains(&PathBuf::from("default.nix")));
    }

    #[test]
    fn outside_git_the_ignore_rules_stand_in() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path();
        write(d, ".gitignore", "*.pem\n");
        write(d, "sub/.gitignore", "local.nix\n");
        for f in ["a.nix", "k.pem", "sub/local.nix", "sub/b.nix"] {
            write(d, f, "{ }");
        }
        symlink("/nix/store", d.join("result")).expect("symlink");
        for which in [Which::Seen, Which::Tracked] {
            assert_eq!(
                names(d, which),
                [".gitignore", "a.nix", "sub/.gitignore", "sub/b.nix"]
            );
        }
    }

    #[test]
    fn copy_keeps_symlinks_as_symlinks() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path();
        write(d, "from/a/b.nix", "{ }");
        symlink("a/b.nix", d.join("from/l.nix")).expect("symlink");
        let files = [PathBuf::from("a/b.nix"), PathBuf::from("l.nix")];
        copy(&d.join("from"), &files, &d.join("to")).expect("copy");
        assert_eq!(
            std::fs::read_to_string(d.join("to/a/b.nix")).expect("read"),
            "{ }"
        );
        assert_eq!(
            std::fs::read_link(d.join("to/l.nix")).expect("link"),
            Path::new("a/b.nix")
        );
    }
}
