//! The physical limit for any rnix-based tool: walk, read and parse every
//! `.nix` file, and nothing else. The scan benchmark (`benches/scan.sh`)
//! compares `ifd-batch scan` against this.
//!
//! ```text
//! cargo xtask parse-only PATH...
//! target/release/xtask parse-only PATH...   (what the benchmark times)
//! ```
//!
//! Mirrors the scanner's pipeline (`src/walk.rs`, `src/scan.rs`) so the
//! comparison is fair: the same `ignore` walk settings (`.gitignore` honoured
//! outside git too, hidden files included, no directory symlinks followed,
//! `.git` and `result*` out-links skipped), sequential walk collected and
//! sorted, then one rayon task per file that reads it, checks UTF-8, parses
//! it with `rnix::Root::parse` and drops the tree. No detection, no report.
//!
//! Prints files, bytes and parse errors; exits 1 if any file failed to read
//! or parse, like the scanner.

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

fn nix_files(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for root in roots {
        if std::fs::metadata(root).is_ok_and(|m| m.is_file()) {
            files.push(root.clone());
            continue;
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
        for entry in walker.flatten() {
            if is_nix_file(entry.path(), entry.file_type()) {
                files.push(entry.into_path());
            }
        }
    }
    files.sort();
    files.dedup();
    files
}

fn is_nix_file(path: &Path, file_type: Option<std::fs::FileType>) -> bool {
    if path.extension().is_none_or(|ext| ext != "nix") {
        return false;
    }
    match file_type {
        Some(ft) if ft.is_file() => true,
        Some(ft) if ft.is_symlink() => std::fs::metadata(path).is_ok_and(|m| m.is_file()),
        _ => false,
    }
}

/// `cargo xtask parse-only PATH...`.
pub fn main(args: impl Iterator<Item = std::ffi::OsString>) {
    let mut roots: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if roots.is_empty() {
        roots.push(PathBuf::from("."));
    }
    let files = nix_files(&roots);
    let bytes = AtomicUsize::new(0);
    let failed_files = AtomicUsize::new(0);
    let parse_errors = AtomicUsize::new(0);
    files.par_iter().for_each(|path| {
        let Ok(raw) = std::fs::read(path) else {
            failed_files.fetch_add(1, Relaxed);
            return;
        };
        bytes.fetch_add(raw.len(), Relaxed);
        let Ok(text) = String::from_utf8(raw) else {
            failed_files.fetch_add(1, Relaxed);
            return;
        };
        let parse = rnix::Root::parse(&text);
        let errors = parse.errors().len();
        if errors > 0 {
            parse_errors.fetch_add(errors, Relaxed);
            failed_files.fetch_add(1, Relaxed);
        }
        // `parse` (and its tree) is dropped here, inside the task.
    });
    let failed = failed_files.into_inner();
    println!(
        "parse-only: {} files, {} bytes, {} parse errors, {} files failed",
        files.len(),
        bytes.into_inner(),
        parse_errors.into_inner(),
        failed
    );
    std::process::exit(i32::from(failed > 0));
}
