//! Golden tests for `ifd-batch rewrite`: `tests/cases/<name>/{in,out}/`.
//!
//! Each case: copy `in/` to a temporary directory, run `rewrite --write`,
//! compare the tree with `out/` (the vendored nixlib in the manifest is
//! elided), then rewrite again and check nothing changes. A case may hold
//! `exit-code` with the expected status (default 0). Set `IFD_BATCH_BLESS=1`
//! to regenerate `out/`.

use crate::support::golden::{self, read_tree};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const MANIFEST: &str = "nix/ifd-batch.nix";

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

/// Replace the vendored nixlib in a manifest by a placeholder.
fn elide_nixlib(text: &str) -> String {
    let start = text.find("  nixlib =\n");
    let end = text.find("\n  ;\n");
    match (start, end) {
        (Some(s), Some(e)) if s < e => {
            format!("{}  nixlib =\n    <nixlib>{}", &text[..s], &text[e..])
        }
        _ => text.to_string(),
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for (rel, text) in read_tree(from) {
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap_or(to)).expect("mkdir");
        std::fs::write(dest, text).expect("write");
    }
}

fn rewrite(dir: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ifd-batch"))
        .arg("rewrite")
        .arg(dir)
        .args(extra)
        .output()
        .expect("run ifd-batch")
}

fn normalized(dir: &Path) -> BTreeMap<String, String> {
    let mut tree = read_tree(dir);
    if let Some(m) = tree.get_mut(MANIFEST) {
        *m = elide_nixlib(m);
    }
    tree
}

fn run_case(case: &Path) -> Result<(), String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    copy_tree(&case.join("in"), tmp.path());
    let expected_code: i32 = std::fs::read_to_string(case.join("exit-code"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let first = rewrite(tmp.path(), &["--write"]);
    let stdout = String::from_utf8_lossy(&first.stdout).into_owned();
    if first.status.code() != Some(expected_code) {
        return Err(format!(
            "exit {:?}, expected {expected_code}\n{stdout}{}",
            first.status.code(),
            String::from_utf8_lossy(&first.stderr)
        ));
    }
    let actual = normalized(tmp.path());
    golden::compare_tree(&case.join("out"), &actual)
        .map_err(|msg| format!("tree differs from out/:\n{msg}\nstdout:\n{stdout}"))?;
    // Idempotence: a second run plans nothing and changes nothing.
    let before = read_tree(tmp.path());
    let second = rewrite(tmp.path(), &["--write"]);
    let second_out = String::from_utf8_lossy(&second.stdout);
    if expected_code == 0 && !second_out.contains("0 sites edited in 0 files") {
        return Err(format!("second rewrite was not a no-op:\n{second_out}"));
    }
    if read_tree(tmp.path()) != before {
        return Err("second rewrite changed the tree".into());
    }
    // Every rewritten file parses.
    for (rel, text) in &before {
        if rel.ends_with(".nix")
            && expected_code == 0
            && !rnix::Root::parse(text).errors().is_empty()
        {
            return Err(format!("{rel} does not parse after the rewrite"));
        }
    }
    Ok(())
}

#[test]
fn golden_cases() {
    let mut failures = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/cases")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("in").is_dir())
        .collect();
    names.sort();
    assert!(
        names.len() >= 9,
        "expected the golden cases, found {names:?}"
    );
    for case in &names {
        if let Err(e) = run_case(case) {
            failures.push(format!("case {}: {e}", case.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn dry_run_prints_a_diff_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(&cases_dir().join("multi-file/in"), tmp.path());
    let before = read_tree(tmp.path());
    let out = rewrite(tmp.path(), &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--- a/a.nix\n+++ b/a.nix"), "{text}");
    assert!(text.contains("+self: super: let ifdBatch = import ./nix/ifd-batch.nix \"a.nix\" self; in { aeson = ifdBatch.callHackage"), "{text}");
    assert!(text.contains("+++ b/nix/ifd-batch.nix"), "{text}");
    assert!(text.contains("dry run"), "{text}");
    assert_eq!(read_tree(tmp.path()), before);
}

#[test]
fn json_plan() {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(&cases_dir().join("not-batchable/in"), tmp.path());
    let out = rewrite(tmp.path(), &["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["manifest"], MANIFEST);
    let sites = doc["sites"].as_array().cloned().unwrap_or_default();
    assert_eq!(sites.len(), 4);
    assert!(
        sites
            .iter()
            .all(|s| s["action"] == "skipped" && s["reason"].is_string()),
        "{sites:#?}"
    );
    assert_eq!(doc["entries"], 0);
}

#[cfg(unix)]
#[test]
fn permissions_are_preserved() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(&cases_dir().join("multi-file/in"), tmp.path());
    let a = tmp.path().join("a.nix");
    std::fs::set_permissions(&a, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    assert_eq!(rewrite(tmp.path(), &["--write"]).status.code(), Some(0));
    let mode = std::fs::metadata(&a).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(
        std::fs::read_to_string(&a)
            .unwrap_or_default()
            .contains("ifdBatch.callHackage")
    );
}

/// `check --fix` (the pre-commit path) plans as `rewrite` does: where the
/// package set of a site is not known (a bare name under an inner `with` of
/// another set), it writes nothing and reports nothing to fix.
#[test]
fn check_fix_leaves_an_unknown_package_set_alone() {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(&cases_dir().join("nested-with/in"), tmp.path());
    let before = read_tree(tmp.path());
    let out = Command::new(env!("CARGO_BIN_EXE_ifd-batch"))
        .args(["check", "--fix", "--root"])
        .arg(tmp.path())
        .arg("overlay.nix")
        .output()
        .expect("run ifd-batch");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read_tree(tmp.path()), before, "nothing written");
}

/// What we write into a user's repository passes deadnix (users run its
/// pre-commit hook beside ours): every golden case's manifest, and nixlib.
#[test]
fn generated_nix_passes_deadnix() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut files = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("nixlib/default.nix")];
    for case in std::fs::read_dir(cases_dir()).expect("cases").flatten() {
        let m = case.path().join("out").join(MANIFEST);
        if m.is_file() {
            // The golden file elides nixlib: render the real one.
            let dir = tmp.path().join(case.file_name());
            copy_tree(&case.path().join("in"), &dir);
            let _ = rewrite(&dir, &["--write"]);
            if dir.join(MANIFEST).is_file() {
                files.push(dir.join(MANIFEST));
            }
        }
    }
    assert!(files.len() > 3, "{files:?}");
    crate::support::tools::deadnix(&files);
}
