//! nixlib with `ifd-batch extract` as its extractor gives exactly what GNU
//! tar gives: same files, same contents, same MISSING list, for the test
//! world's `.tar.gz` index and for the same index unpacked, and for a
//! manifest without Hackage entries. Real Nix (fails under CI=true without it).

use crate::support::nix::{Nix, fresh_salt};
use crate::support::tools::tool_dir;
use std::path::Path;
use std::process::Command;

const WORLD: &str = "./fixtures/mini-nixpkgs";

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
    let tool = Nix::str(&tool_dir().display().to_string());
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
        // 5 found packages × 2 files, MISSING and REFUSED (no placeholders: a missing
        // entry gets no generator).
        assert_eq!(count_files(Path::new(&by_tool)), 12, "{by_tool}");
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
    assert_eq!(count_files(Path::new(&by_tool)), 2);
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
    let tool = Nix::str(&tool_dir().display().to_string());
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
    // No store references: substitutable from a binary cache on its own.
    let refs = nix
        .command("nix-store")
        .args(["-q", "--references", &index])
        .output()
        .unwrap();
    assert!(refs.status.success());
    assert_eq!(String::from_utf8_lossy(&refs.stdout).trim(), "", "{index}");

    let salt = fresh_salt("extractor-default");
    let by_default = nix.build(&batch(&salt, true, None, "b.extracted"));
    let by_tar = nix.build(&batch(&salt, true, Some("tar"), "b.extracted"));
    assert_ne!(by_default, by_tar);
    same_tree(&by_default, &by_tar);
}

/// A hostile index, through nixlib, both extractors: links (symbolic, hard,
/// a linked directory) and `..` names under a wanted version directory.
/// Both give the same files, MISSING and REFUSED lists; nothing is followed
/// or written outside; a refused entry fails only its own attribute, with
/// the reason; the healthy entry still evaluates. Through the seekable
/// index and the streaming pass, and from an unpacked copy.
#[test]
fn hostile_index_same_refusals_with_either_extractor() {
    use crate::extract::{TOP, dir, file, gz, link, tar_bytes};
    let Some(nix) = Nix::get() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let tool = Nix::str(&tool_dir().display().to_string());
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret"), "secret").unwrap();
    let secret = outside.join("secret");
    let entries = vec![
        dir(&format!("{TOP}/")),
        file(&format!("{TOP}/aeson/2.1.2.1/aeson.cabal"), "name: aeson\n"),
        file(
            &format!("{TOP}/aeson/2.1.2.1/aeson.json"),
            "{\"package-hashes\":{\"SHA256\":\"0000\"}}\n",
        ),
        file(&format!("{TOP}/aeson/2.1.2.1/../../../escape"), "x"),
        link(
            &format!("{TOP}/text/2.1/text.cabal"),
            b'2',
            secret.to_str().unwrap(),
        ),
        file(&format!("{TOP}/text/2.1/text.json"), "{}\n"),
        file(&format!("{TOP}/lens/5.2.3/lens.json"), "{}\n"),
        link(
            &format!("{TOP}/lens/5.2.3/lens.cabal"),
            b'1',
            &format!("{TOP}/lens/5.2.3/lens.json"),
        ),
        link(&format!("{TOP}/warp"), b'2', outside.to_str().unwrap()),
        file(
            &format!("{TOP}/warp/3.3.30/warp.cabal"),
            "through the link\n",
        ),
    ];
    let archive = tmp.path().join("hostile.tar.gz");
    std::fs::write(&archive, gz(&tar_bytes(&entries))).unwrap();
    let salt = fresh_salt("hostile");
    let manifest = "{ hackage = { aeson = \"2.1.2.1\"; text = \"2.1\"; lens = \"5.2.3\"; warp = \"3.3.30\"; }; }";
    let by_tar = extracted(&nix, &Nix::str(&salt), manifest, Some(&archive), "\"tar\"");
    let by_tool = extracted(&nix, &Nix::str(&salt), manifest, Some(&archive), &tool);
    same_tree(&by_tar, &by_tool);
    let read = |o: &str, f: &str| std::fs::read_to_string(format!("{o}/{f}")).unwrap();
    assert_eq!(
        read(&by_tool, "REFUSED"),
        "lens/5.2.3/lens.cabal\ntext/2.1/text.cabal\n",
        "{by_tool}"
    );
    assert_eq!(
        read(&by_tool, "MISSING"),
        "warp/3.3.30/warp.json\n",
        "{by_tool}"
    );
    assert!(!Path::new(&by_tool).join("text/2.1/text.cabal").exists());
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        1,
        "nothing written outside"
    );
    assert!(!tmp.path().join("escape").exists());

    // The same index unpacked (GNU tar keeps the symlink, makes the hard
    // link a plain file): both extractors again agree, and follow nothing.
    let unpacked = tmp.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let _ = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&unpacked)
        .arg("--strip-components=1")
        .status()
        .unwrap();
    let by_tar = extracted(&nix, &Nix::str(&salt), manifest, Some(&unpacked), "\"tar\"");
    let by_tool = extracted(&nix, &Nix::str(&salt), manifest, Some(&unpacked), &tool);
    same_tree(&by_tar, &by_tool);
    assert!(
        read(&by_tool, "REFUSED").contains("text/2.1/text.cabal"),
        "{by_tool}"
    );
    assert!(!Path::new(&by_tool).join("text/2.1/text.cabal").exists());

    // The attributes: the healthy entry evaluates, each refused or missing
    // one fails alone, saying why.
    let attr = |name: &str, extractor: &str| {
        nix.eval_json(&format!(
            "let hp = (import {WORLD} {{ salt = {}; all-cabal-hashes = {}; }}).haskellPackages.override {{ \
               overrides = self: _: let b = (import ./nixlib).batch {{ hself = self; manifest = {manifest}; \
                 extractor = {extractor}; }}; in {{ \
                 aeson = b.callHackage \"aeson\" \"2.1.2.1\" {{ }}; text = b.callHackage \"text\" \"2.1\" {{ }}; }}; }}; \
             in hp.{name}.drvPath",
            Nix::str(&salt),
            archive.display()
        ))
    };
    for extractor in ["\"tar\"", tool.as_str()] {
        let text = attr("text", extractor);
        assert!(!text.ok, "text must fail");
        assert!(
            text.stderr
                .contains("holds its files as links or special files"),
            "{}",
            text.stderr
        );
        // (aeson's stand-in generator needs a real cabal file: its
        // evaluation reaches the barrier, past the refused entries.)
        let aeson = attr("aeson", extractor);
        assert!(
            !aeson.stderr.contains("holds its files as links"),
            "{}",
            aeson.stderr
        );
    }
}
