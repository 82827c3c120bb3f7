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

/// The extractor nixlib picks: `ifd-batch` when the package set provides it
/// (as this project's flake overlay does), GNU tar otherwise; `"ifd-batch"`
/// insists (a clear error without it), `"tar"` forces tar. Through the
/// seekable index (a derivation of the index alone: a new salt, standing
/// for fresh generators, does not rebuild it), the batch's files are GNU
/// tar's.
#[test]
fn nixlib_extractor_default_follows_the_package_set() {
    let Some(nix) = Nix::get() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let tool = Nix::str(&tool_dir(tmp.path()).display().to_string());
    let batch = |salt: &str, with_tool: bool, extractor: Option<&str>, attr: &str| {
        let pkgs_tool = if with_tool {
            format!("ifd-batch = {tool};")
        } else {
            String::new()
        };
        let extractor = extractor
            .map(|x| format!("extractor = \"{x}\";"))
            .unwrap_or_default();
        format!(
            "let b = (import ./nixlib).batch {{ hself = (import {WORLD} {{ salt = {}; {pkgs_tool} }}).haskellPackages; \
               manifest = {{ hackage = {{ aeson = \"2.1.2.1\"; text = \"2.1\"; nope = \"1.0\"; }}; }}; {extractor} }}; \
             in {attr}",
            Nix::str(salt)
        )
    };
    let kind = |with_tool, extractor| {
        let r = nix.eval_json(&batch(
            "kind",
            with_tool,
            extractor,
            "if b.extractor == \"tar\" then \"tar\" else \"ifd-batch\"",
        ));
        assert!(r.ok, "{}", r.stderr);
        r.stdout.trim().to_string()
    };
    assert_eq!(kind(true, None), "\"ifd-batch\"");
    assert_eq!(kind(false, None), "\"tar\"");
    assert_eq!(kind(true, Some("tar")), "\"tar\"");
    assert_eq!(kind(true, Some("ifd-batch")), "\"ifd-batch\"");
    let r = nix.eval_json(&batch(
        "kind",
        false,
        Some("ifd-batch"),
        "b.extracted.drvPath",
    ));
    assert!(
        !r.ok && r.stderr.contains("has no `ifd-batch`"),
        "{}",
        r.stderr
    );

    // The seekable index does not depend on the salt (the generators do).
    let seekable = |salt: &str| {
        let r = nix.eval_json(&batch(salt, true, None, "b.seekable.drvPath"));
        assert!(r.ok, "{}", r.stderr);
        r.stdout
    };
    assert_eq!(seekable("one"), seekable("two"));
    let index = nix.build(&batch("one", true, None, "b.seekable"));
    assert!(std::fs::metadata(&index).unwrap().len() > 0, "{index}");

    let salt = fresh_salt("extractor-default");
    let by_default = nix.build(&batch(&salt, true, None, "b.extracted"));
    let by_tar = nix.build(&batch(&salt, true, Some("tar"), "b.extracted"));
    assert_ne!(by_default, by_tar);
    same_tree(&by_default, &by_tar);
}
