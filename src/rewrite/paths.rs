//! Relative paths between the rewritten files and the manifest, and the
//! layout of inserted text.

use crate::detect::{Code, Reason};
use std::path::{Component, Path};

/// Directory part of a `/`-separated relative file name.
pub(crate) fn parent_of(file: &str) -> &str {
    file.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Normalise `a/b/../c` → `a/c`; `None` if it climbs above its start and
/// has to keep `..` components (returned as is then).
fn normalize(path: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if out.last().is_some_and(|l| l != "..") {
                    out.pop();
                } else {
                    out.push("..".into());
                }
            }
            Component::Normal(s) => out.push(s.to_string_lossy().into_owned()),
            Component::RootDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// A Nix relative path literal from directory `from_dir` to `to` (both
/// relative to the repository root).
pub fn relative_path(from_dir: &str, to: &str) -> String {
    let from = normalize(from_dir);
    let to = normalize(to);
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let ups = from.len() - common;
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_string(), ups).collect();
    parts.extend(to[common..].iter().cloned());
    let joined = parts.join("/");
    if joined.starts_with("..") {
        // A Nix path literal needs a `/`: `..` alone does not parse.
        if joined.contains('/') {
            joined
        } else {
            format!("{joined}/.")
        }
    } else if joined.is_empty() {
        "./.".to_string()
    } else {
        format!("./{joined}")
    }
}

/// A path literal written in `file`, as seen from the manifest (or why the
/// manifest cannot refer to it).
pub(super) fn rebase_path(src: &str, file: &str, manifest_file: &str) -> Result<String, Reason> {
    if src.contains("${") {
        return Err(Reason::new(Code::UnsupportedPath, "interpolated path"));
    }
    if src.starts_with('/') {
        return Ok(src.to_string());
    }
    if !(src.starts_with("./") || src.starts_with("../")) {
        return Err(Reason::new(
            Code::UnsupportedPath,
            format!("path `{src}` is not relative"),
        ));
    }
    let target = format!("{}/{}", parent_of(file), src);
    let target = normalize(&target).join("/");
    Ok(relative_path(parent_of(manifest_file), &target))
}

/// When `at` is the first non-blank character of its line, its indentation.
pub(crate) fn indent_before(text: &str, at: usize) -> Option<&str> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..at];
    before
        .chars()
        .all(|c| c == ' ' || c == '\t')
        .then_some(before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path("haskell", "nix/ifd-batch.nix"),
            "../nix/ifd-batch.nix"
        );
        assert_eq!(
            relative_path("", "nix/ifd-batch.nix"),
            "./nix/ifd-batch.nix"
        );
        assert_eq!(relative_path("nix", "nix/ifd-batch.nix"), "./ifd-batch.nix");
        assert_eq!(
            rebase_path("../app", "haskell/overlay.nix", "nix/ifd-batch.nix"),
            Ok("../app".into())
        );
        assert_eq!(
            rebase_path("./local", "overlay.nix", "nix/ifd-batch.nix"),
            Ok("../local".into())
        );
        assert_eq!(
            rebase_path("./a/b", "x/y/o.nix", "ifd-batch.nix"),
            Ok("./x/y/a/b".into())
        );
        assert!(rebase_path("./${x}", "o.nix", "m.nix").is_err());
        // A source that is the manifest's parent, or the root, must still
        // be a path literal (`..` alone does not parse).
        assert_eq!(
            rebase_path("./.", "default.nix", "nix/ifd-batch.nix"),
            Ok("../.".into())
        );
        assert_eq!(
            rebase_path("../.", "nix/default.nix", "nix/ifd-batch.nix"),
            Ok("../.".into())
        );
        assert_eq!(
            rebase_path("./.", "nix/default.nix", "nix/ifd-batch.nix"),
            Ok("./.".into())
        );
        assert_eq!(
            rebase_path("../..", "a/b/c.nix", "a/b/m.nix"),
            Ok("../..".into())
        );
        assert_eq!(relative_path("a/b", ""), "../..");
        assert_eq!(relative_path("a", ""), "../.");
    }
}
