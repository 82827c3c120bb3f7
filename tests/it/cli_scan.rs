//! End-to-end tests of `ifd-batch scan`: the real binary on fixture
//! repositories and on hostile trees built in a temporary directory.
//!
//! Golden files: set `IFD_BATCH_BLESS=1` to rewrite them after a deliberate
//! change, then review the diff.

use crate::support::golden;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ifd-batch"));
    c.env_remove("NO_COLOR");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run ifd-batch")
}

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/scan")
        .join(p)
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document: {e}\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn json_on_the_fixture_repository() {
    let root = fixture("repo");
    let out = run(&[
        "scan",
        "--format",
        "json",
        root.to_str().unwrap_or_default(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut doc = json(&out);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["suppressed"], 1);
    assert_eq!(doc["errors"], serde_json::json!([]));
    // Field by field on one site, then the whole document as a golden file.
    let first = &doc["sites"][2];
    assert_eq!(first["file"], "haskell/overlay.nix");
    assert_eq!(first["line"], 14);
    assert_eq!(first["column"], 26);
    assert_eq!(first["end_line"], 14);
    assert_eq!(
        first["end_column"],
        26 + "self.callHackage \"optparse-applicative\" \"0.18.1.0\" { }".len()
    );
    assert_eq!(first["kind"], "hackage");
    assert_eq!(first["confidence"], "definite");
    assert_eq!(first["batchable"], true);
    assert_eq!(first["reason"], serde_json::Value::Null);
    assert_eq!(first["multiplicity"], "once");
    assert_eq!(first["call"], "self.callHackage");
    assert_eq!(
        first["args"],
        serde_json::json!({"name": "optparse-applicative", "version": "0.18.1.0"})
    );
    for site in doc["sites"].as_array().into_iter().flatten() {
        for key in [
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "kind",
            "confidence",
            "batchable",
            "reason",
            "multiplicity",
            "call",
            "args",
        ] {
            assert!(site.get(key).is_some(), "site lacks {key}: {site}");
        }
    }
    doc["root"] = "<root>".into();
    golden::assert_file(
        &fixture("repo.expected.json"),
        &serde_json::to_string_pretty(&doc).unwrap_or_default(),
    );
}

#[test]
fn human_output_snapshot() {
    let out = bin()
        .current_dir(fixture("repo"))
        .args(["scan", "--color", "never"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("┌─ haskell/overlay.nix:14:26"), "{text}");
    golden::assert_file(&fixture("repo.expected.txt"), &text);
}

#[test]
fn color_only_on_request_and_never_under_no_color() {
    let root = fixture("repo");
    let root = root.to_str().unwrap_or_default();
    let piped = run(&["scan", root]);
    assert!(!piped.stdout.contains(&0x1b), "escape codes when piped");
    let forced = run(&["scan", "--color", "always", root]);
    assert!(
        forced.stdout.contains(&0x1b),
        "no escape codes with --color always"
    );
    let no_color = bin()
        .env("NO_COLOR", "1")
        .args(["scan", root])
        .output()
        .expect("run");
    assert!(!no_color.stdout.contains(&0x1b));
}

#[test]
fn safe_when_piped_into_head() {
    let mut child = bin()
        .args([
            "scan",
            "--format",
            "json",
            fixture("repo").to_str().unwrap_or_default(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = [0u8; 16];
    child.stdout.as_mut().map(|s| s.read_exact(&mut first));
    drop(child.stdout.take()); // like `head -c 16` exiting
    let mut err = String::new();
    child.stderr.as_mut().map(|s| s.read_to_string(&mut err));
    let status = child.wait().expect("wait");
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(status.code(), Some(101));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["scan", "--format", "xml"]).status.code(), Some(2));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(run(&["--help"]).status.code(), Some(0));
}

/// A tree with every kind of bad input the walk and the parser can meet.
#[test]
fn hostile_tree_reports_errors_and_still_scans_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let write = |p: &str, bytes: &[u8]| {
        let path = d.join(p);
        std::fs::create_dir_all(path.parent().unwrap_or(d)).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    };
    let site = b"self: { a = self.callHackage \"a\" \"1\" { }; }";
    write("good.nix", site);
    write("broken.nix", b"{\n  a = self.callHackage \"a\" \"1\" { ;\n");
    write("latin1.nix", b"{ a = \"caf\xe9\"; }\n");
    write("ignored/skip.nix", site);
    write(".gitignore", b"ignored/\n");
    write("out/real.nix", site);
    std::fs::create_dir_all(d.join("dir.nix")).expect("mkdir dir.nix");
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink(d.join("out"), d.join("result")).expect("symlink result");
        symlink(d.join("out"), d.join("result-doc")).expect("symlink result-doc");
        symlink(d, d.join("loop")).expect("symlink loop");
        symlink(d.join("missing.nix"), d.join("dangling.nix")).expect("dangling");
    }
    let out = run(&["scan", "--format", "json", d.to_str().unwrap_or_default()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    let files: Vec<&str> = doc["sites"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["file"].as_str())
        .collect();
    assert_eq!(files, ["good.nix", "out/real.nix"]);
    let errors = doc["errors"].as_array().cloned().unwrap_or_default();
    let broken = errors
        .iter()
        .find(|e| e["file"] == "broken.nix")
        .expect("broken.nix error");
    assert_eq!(broken["line"], 2);
    assert!(
        broken["message"]
            .as_str()
            .unwrap_or("")
            .contains("syntax error")
    );
    let latin1 = errors
        .iter()
        .find(|e| e["file"] == "latin1.nix")
        .expect("latin1.nix error");
    assert_eq!(
        (latin1["line"].as_u64(), latin1["column"].as_u64()),
        (Some(1), Some(11))
    );
    assert!(latin1["message"].as_str().unwrap_or("").contains("UTF-8"));
    assert_eq!(errors.len(), 2, "{errors:#?}");
    // Human output still renders every site and the errors.
    let human = run(&["scan", d.to_str().unwrap_or_default()]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("broken.nix:2:"), "{text}");
    assert!(text.contains("2 IFD sites"), "{text}");
}

#[test]
fn missing_path_is_an_error_not_a_panic() {
    let out = run(&["scan", "--format", "json", "/nonexistent/ifd-batch-test"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["errors"].as_array().map(Vec::len), Some(1));
}

/// A large generated file (50 MB, like hackage-packages.nix × 2) scans
/// correctly.
#[test]
fn fifty_megabyte_generated_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("self: {\n");
    let mut n: usize = 0;
    while text.len() < 50 * 1024 * 1024 {
        text.push_str(&format!(
            "  \"pkg-{n}\" = self.callPackage ({{ mkDerivation, base, text }}: mkDerivation {{ pname = \"pkg-{n}\"; version = \"1.0.{n}\"; sha256 = \"0000000000000000000000000000000000000000000000000000\"; libraryHaskellDepends = [ base text ]; license = \"bsd3\"; }}) {{ }};\n"
        ));
        if n.is_multiple_of(1000) {
            text.push_str(&format!(
                "  \"hackage-{n}\" = self.callHackage \"hackage-{n}\" \"1.0\" {{ }};\n"
            ));
        }
        n += 1;
    }
    text.push_str("}\n");
    std::fs::write(dir.path().join("hackage-packages.nix"), &text).expect("write");
    let out = run(&[
        "scan",
        "--format",
        "json",
        dir.path().to_str().unwrap_or_default(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let sites = json(&out)["sites"].as_array().map(Vec::len);
    assert_eq!(sites, Some(n.div_ceil(1000)));
}

/// `--exclude GLOB` (gitignore syntax, relative to the root) leaves paths
/// out of `scan`, `rewrite` and `check`: one deliberately invalid fixture
/// no longer blocks a whole rewrite, nor a staged-file check.
#[test]
fn exclude_leaves_paths_out_of_scan_rewrite_and_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir_all(d.join("tests/invalid")).expect("mkdir");
    std::fs::write(d.join("tests/invalid/bad.nix"), "{ a = ; }").expect("write");
    std::fs::write(
        d.join("overlay.nix"),
        "self: super: { a = self.callHackage \"a\" \"1\" { }; }\n",
    )
    .expect("write");
    let root = d.to_str().unwrap_or_default();
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", "--format", "json", root];
        args.extend_from_slice(extra);
        run(&args)
    };
    let all = scan(&[]);
    assert_eq!(all.status.code(), Some(1));
    assert_eq!(json(&all)["summary"]["files_scanned"], 2);
    for glob in ["tests/invalid/", "bad.nix", "tests/**", "*/invalid/*.nix"] {
        let out = scan(&["--exclude", glob]);
        assert_eq!(out.status.code(), Some(0), "--exclude {glob}");
        let doc = json(&out);
        assert_eq!(doc["summary"]["files_scanned"], 1, "--exclude {glob}");
        assert_eq!(doc["errors"].as_array().map(Vec::len), Some(0));
    }
    // Repeatable; a file named explicitly is excluded too.
    let out = scan(&["--exclude", "nothing.nix", "--exclude", "bad.nix"]);
    assert_eq!(json(&out)["summary"]["files_scanned"], 1);
    let bad = d.join("tests/invalid/bad.nix");
    let out = run(&[
        "scan",
        "--format",
        "json",
        bad.to_str().unwrap_or_default(),
        "--exclude",
        "bad.nix",
    ]);
    assert_eq!(json(&out)["summary"]["files_scanned"], 0);
    // rewrite: refused with the invalid file, written without it.
    let refused = run(&["rewrite", "--write", root]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(!d.join("nix/ifd-batch.nix").exists());
    let written = run(&["rewrite", "--write", root, "--exclude", "tests/"]);
    assert_eq!(
        written.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&written.stdout)
    );
    assert!(d.join("nix/ifd-batch.nix").exists());
    // check with the invalid file staged.
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "--root", root, "tests/invalid/bad.nix"];
        args.extend_from_slice(extra);
        run(&args).status.code()
    };
    assert_eq!(check(&[]), Some(1));
    assert_eq!(check(&["--exclude", "tests/invalid"]), Some(0));
}

/// Nix ends a `#` comment at a lone carriage return (verified with
/// nix-instantiate 2.8: `{ a = 1; # c\r b = 2; }` is `{ a = 1; b = 2; }`);
/// the scan reads such files as Nix does, at the same positions.
#[test]
fn comment_ended_by_a_lone_carriage_return_parses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "self: super: {\n  # old Mac line end\r  a = self.callHackage \"a\" \"1\" { };\n}\n";
    std::fs::write(dir.path().join("cr.nix"), text).expect("write");
    let out = run(&[
        "scan",
        "--format",
        "json",
        dir.path().to_str().unwrap_or_default(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let doc = json(&out);
    assert_eq!(doc["sites"][0]["kind"], "hackage");
    let start = doc["sites"][0]["byte_range"][0].as_u64().unwrap_or(0) as usize;
    assert!(text[start..].starts_with("self.callHackage"));
}

/// In a git work tree (a flake needs it), `rewrite --write` marks the files
/// it creates with `git add --intent-to-add`, so flake evaluation sees them.
#[test]
fn rewrite_write_marks_new_files_intent_to_add() {
    let git_ok = Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !git_ok {
        eprintln!("skipped: no git");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(
        d.join("overlay.nix"),
        "self: super: { a = self.callHackage \"a\" \"1\" { }; }\n",
    )
    .expect("write");
    std::fs::write(d.join("flake.nix"), "{ outputs = { self }: { }; }\n").expect("write");
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(d)
            .args(args)
            .output()
            .expect("run git")
    };
    git(&["init", "-q"]);
    git(&["add", "overlay.nix", "flake.nix"]);
    let out = run(&["rewrite", "--write", d.to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(0));
    let status = git(&["status", "--porcelain"]);
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains(" A nix/ifd-batch.nix"), "{status}");
    // Outside a work tree nothing is run and nothing is said.
    let plain = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        plain.path().join("overlay.nix"),
        "self: super: { a = self.callHackage \"a\" \"1\" { }; }\n",
    )
    .expect("write");
    let out = bin()
        .args(["rewrite", "--write"])
        .arg(plain.path())
        .env(
            "GIT_CEILING_DIRECTORIES",
            plain.path().parent().unwrap_or(plain.path()),
        )
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hint"));
}

/// Real-world shapes (from public repositories; issue 13): flake inputs,
/// nixpkgs imports, niv sources, path literals mapped over a list are not
/// sites; nix-thunk fetches, an overlay's own attribute, an asset pipeline,
/// read aliases and operands are. One line per site, golden.
#[test]
fn real_world_shapes() {
    let root = fixture("shapes");
    let root = root.to_str().unwrap_or_default();
    let without = run(&["scan", "--format", "json", root]);
    assert_eq!(without.status.code(), Some(1), "the invalid input fails");
    assert_eq!(json(&without)["errors"][0]["file"], "invalid/broken.nix");
    let out = run(&["scan", "--format", "json", root, "--exclude", "invalid/"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let doc = json(&out);
    let mut text = String::new();
    for s in doc["sites"].as_array().into_iter().flatten() {
        let elements = match s["elements"].as_u64() {
            Some(n) => format!(" ×{n}"),
            None => String::new(),
        };
        let batch = match s["reason"].as_str() {
            Some(r) => format!("left alone: {r}"),
            None => "batchable".to_string(),
        };
        let args = serde_json::to_string(&s["args"]).unwrap_or_default();
        text.push_str(&format!(
            "{}:{}:{} {} {} {}{} {args}\n    {batch}\n",
            s["file"].as_str().unwrap_or(""),
            s["line"],
            s["column"],
            s["kind"].as_str().unwrap_or(""),
            s["confidence"].as_str().unwrap_or(""),
            s["multiplicity"].as_str().unwrap_or(""),
            elements,
        ));
    }
    let sum = &doc["summary"];
    text.push_str(&format!(
        "rounds {} (+{} possible in {} sites), after batching {}\n",
        sum["rounds"], sum["possible_rounds"], sum["possible"], sum["rounds_after_batching"]
    ));
    golden::assert_file(&fixture("shapes.expected.txt"), &text);
}
