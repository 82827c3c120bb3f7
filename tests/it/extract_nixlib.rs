//! nixlib with `ifd-batch extract` as its extractor gives exactly what GNU
//! tar gives: same files, same contents, same MISSING list, for the test
//! world's `.tar.gz` index and for the same index unpacked, and for a
//! manifest without Hackage entries. Real Nix (fails under CI=true without it).

use crate::support::nix::{Nix, fresh_salt};
use std::path::{Path, PathBuf};
use std::process::Command;

const WORLD: &str = "./fixtures/mini-nixpkgs";

/// A directory with `bin/ifd-batch`, the layout nixlib's `extractor` wants.
fn tool_dir(tmp: &Path) -> PathBuf {
    let dir = tmp.join("tool");
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_ifd-batch"), dir.join("bin/ifd-batch")).unwrap();
    dir
}

fn extracted(
    nix: &Nix,
    salt: &str,
    manifest: &str,
    index: Option<&Path>,
    extractor: &str,
) -> String {
    let index_arg = index
        .map(|p| format!("all-cabal-hashes = {};", p.display()))
        .unwrap_or_default();
    nix.build(&format!(
        "((import ./nixlib).batch {{ hself = (import {WORLD} {{ salt = {salt}; }}).haskellPackages; \
           manifest = {manifest}; extractor = {extractor}; {index_arg} }}).extracted"
    ))
}

fn same_tree(a: &str, b: &str) {
    let o = Command::new("diff").args(["-r", a, b]).output().unwrap();
    assert!(
        o.status.success(),
        "tar and ifd-batch extract differ:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn count_files(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            n += count_files(&e.path());
        } else {
            n += 1;
        }
    }
    n
}

#[test]
fn nixlib_extractor_option_matches_gnu_tar() {
    let Some(nix) = Nix::get() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let tool = Nix::str(&tool_dir(tmp.path()).display().to_string());
    let salt = Nix::str(&fresh_salt("extract-nixlib"));
    // The checked-in index, unpacked (no top directory), as a second input.
    let unpacked = tmp.path().join("index");
    std::fs::create_dir(&unpacked).unwrap();
    let st = Command::new("tar")
        .arg("-xzf")
        .arg(Path::new(WORLD).join("data/all-cabal-hashes.tar.gz"))
        .arg("-C")
        .arg(&unpacked)
        .arg("--strip-components=1")
        .status()
        .unwrap();
    assert!(st.success());

    let manifest = "{ hackage = { aeson = [ \"2.1.2.1\" \"2.2.1.0\" ]; text = \"2.1\"; \
                    lens = \"5.2.3\"; warp = \"3.3.30\"; nope = \"1.0\"; }; }";
    for index in [None, Some(unpacked.as_path())] {
        let by_tar = extracted(&nix, &salt, manifest, index, "\"tar\"");
        let by_tool = extracted(&nix, &salt, manifest, index, &tool);
        assert_ne!(by_tar, by_tool, "two extractions expected");
        same_tree(&by_tar, &by_tool);
        // 5 found packages × 2 files and MISSING (no placeholders: a missing
        // entry gets no generator).
        assert_eq!(count_files(Path::new(&by_tool)), 11, "{by_tool}");
        assert_eq!(
            std::fs::read_to_string(format!("{by_tool}/MISSING")).unwrap(),
            "nope/1.0/nope.cabal\nnope/1.0/nope.json\n"
        );
    }

    // No Hackage entries: nothing extracted either way.
    let manifest = format!("{{ cabal2nix.local-pkg.src = {WORLD}/sources/local-pkg; }}");
    let by_tar = extracted(&nix, &salt, &manifest, None, "\"tar\"");
    let by_tool = extracted(&nix, &salt, &manifest, None, &tool);
    same_tree(&by_tar, &by_tool);
    assert_eq!(count_files(Path::new(&by_tool)), 1);
}
