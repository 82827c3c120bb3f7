//! The file set is git's (issue 21): `scan` reads what git shows (a tracked
//! file even when an ignore rule matches it; no ignored, untracked file),
//! and the dynamic backend's store copy of the repository holds what git
//! tracks, intent-to-add files included, and none of the secrets an ignore
//! rule keeps out of git, whichever rule it is: a glob (`*.pem`, `.env.*`),
//! a negation, a nested `.gitignore`, `.git/info/exclude`.
//!
//! The store copy is checked twice: generated and evaluated with the host's
//! Nix (Debian's 2.8: generating needs no dynamic-derivation support), and
//! generated, evaluated and built with the modern Nix (2.34).

use crate::support::nix::{self, Modern, Nix, Run, fresh_salt};
use crate::support::tools::copy_dir;
use std::path::{Path, PathBuf};
use std::process::Command;

const SITE: &str = "self: { a = self.callHackage \"a\" \"1\" { }; }\n";

/// The mark every secret carries: no file of the store copy may hold it.
const SECRET: &str = "TOP-SECRET";

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git").args(args).current_dir(dir).output();
    assert!(out.is_ok_and(|o| o.status.success()), "git {args:?}");
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap_or(dir)).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// `ifd-batch ARGS` in `dir` (with the tests' Nix settings).
fn ifd_batch(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ifd-batch"))
        .args(args)
        .current_dir(dir)
        .env(
            "NIX_CONFIG",
            std::env::var("NIX_CONFIG").unwrap_or_else(|_| nix::NIX_CONFIG.to_string()),
        )
        .output()
        .expect("run ifd-batch");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The files `scan --format json` found sites in, relative to the root.
fn files_with_sites(dir: &Path, root: &str) -> Vec<String> {
    let (code, out, err) = ifd_batch(dir, &["scan", "--format", "json", root]);
    assert_eq!(code, 0, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    let mut files: Vec<String> = doc["sites"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["file"].as_str().map(str::to_string))
        .collect();
    files.sort();
    files.dedup();
    files
}

/// `scan DIR` reads what `git ls-files -co --exclude-standard` lists: the
/// tracked `release.nix` a rule names, `scan release.nix` or not.
#[test]
fn scan_reads_what_git_shows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    git(d, &["init", "-q"]);
    write(
        d,
        ".gitignore",
        "release.nix\n*.generated.nix\nbuild/\n*.local.nix\n",
    );
    write(d, "sub/.gitignore", "*.private.nix\n");
    for f in [
        "default.nix",
        "release.nix",
        "jobs.generated.nix",
        "build/keep.nix",
        "sub/b.private.nix",
    ] {
        write(d, f, SITE);
    }
    git(d, &["add", "-A"]);
    git(
        d,
        &[
            "add",
            "-f",
            "release.nix",
            "jobs.generated.nix",
            "build/keep.nix",
            "sub/b.private.nix",
        ],
    );
    // Untracked: ignored (by the root's rules, the nested one) or not.
    for f in [
        "build/out.nix",
        "tmp.local.nix",
        "sub/a.private.nix",
        "new.nix",
    ] {
        write(d, f, SITE);
    }
    assert_eq!(
        files_with_sites(d, "."),
        [
            "build/keep.nix",
            "default.nix",
            "jobs.generated.nix",
            "new.nix",
            "release.nix",
            "sub/b.private.nix",
        ]
    );
    // A root inside the work tree, even an ignored directory: its files as
    // git shows them.
    assert_eq!(files_with_sites(d, "build"), ["keep.nix"]);
    assert_eq!(files_with_sites(d, "release.nix"), ["release.nix"]);
}

/// A repository (the dynamic fixture and the test world) with a secret
/// ignored in every way, a tracked-but-ignored `release.nix` that the
/// target is evaluated through, and an intent-to-add file it imports.
struct Secrets {
    _tmp: tempfile::TempDir,
    top: PathBuf,
    repo: PathBuf,
}

const REPO: &str = "fixtures/dynamic";

/// Files of the store copy that must be there (from the top).
const KEPT: [&str; 6] = [
    "fixtures/dynamic/release.nix",
    "fixtures/dynamic/intent.nix",
    "fixtures/dynamic/default.nix",
    "fixtures/dynamic/nix/ifd-batch.nix",
    "fixtures/dynamic/local/.gitignore",
    "vault/README",
];

/// Files that must never reach the store: the secrets, an untracked file
/// (as in a flake), the generated file itself.
const LEFT_OUT: [&str; 8] = [
    "fixtures/dynamic/id.pem",
    "fixtures/dynamic/.env.production",
    "vault/master.key",
    "fixtures/dynamic/local/credentials.nix",
    "private.key",
    "fixtures/dynamic/notes.txt",
    "fixtures/dynamic/nix/ifd-batch-dynamic.nix",
    "late.pem",
];

fn secrets(tag: &str) -> Secrets {
    let tmp = tempfile::tempdir().expect("tempdir");
    let top = tmp.path().to_path_buf();
    copy_dir(REPO, &top);
    copy_dir("fixtures/mini-nixpkgs", &top);
    let repo = top.join(REPO);
    std::fs::write(repo.join("salt.nix"), format!("\"{}\"\n", fresh_salt(tag))).expect("salt");
    git(&top, &["init", "-q"]);
    write(
        &top,
        ".gitignore",
        "/target\nresult\n*.pem\n.env.*\nrelease.nix\nvault/*\n!vault/README\n",
    );
    write(&top, ".git/info/exclude", "private.key\n");
    write(&repo, "local/.gitignore", "credentials.nix\n");
    write(&top, "vault/README", "Keys live here, never in git.\n");
    write(
        &repo,
        "release.nix",
        "# Tracked although .gitignore names it (git add -f).\n\
         let d = import ./default.nix { }; in { app = import ./intent.nix d.app; }\n",
    );
    for f in [
        "fixtures/dynamic/id.pem",
        "fixtures/dynamic/.env.production",
        "vault/master.key",
        "private.key",
    ] {
        write(&top, f, &format!("{SECRET}\n"));
    }
    write(&repo, "local/credentials.nix", &format!("\"{SECRET}\"\n"));
    git(&top, &["add", "-A"]);
    git(&top, &["add", "-f", "fixtures/dynamic/release.nix"]);
    write(
        &repo,
        "intent.nix",
        "# Intent to add (git add -N).\napp: app\n",
    );
    git(&top, &["add", "-N", "fixtures/dynamic/intent.nix"]);
    // Untracked, not ignored: not in a flake's source, not in the store.
    write(&repo, "notes.txt", "untracked\n");
    Secrets {
        _tmp: tmp,
        top,
        repo,
    }
}

const REWRITE: [&str; 7] = [
    "rewrite",
    ".",
    "--backend",
    "dynamic",
    "--target",
    "release.nix:app",
    "--write",
];

/// The store path of the repository's copy: the producers' instantiation
/// script names it (evaluating it copies the tree into the store; nothing
/// is built, and no dynamic-derivation support is needed).
fn store_copy(eval: impl Fn(&str) -> Run, repo: &Path) -> String {
    let generated = repo.join("nix/ifd-batch-dynamic.nix");
    let expr = format!(
        "(import {} {{ as = \"producers\"; }}).app.instantiated.script",
        Nix::str(&generated.display().to_string())
    );
    let r = eval(&expr).expect_ok("evaluating the producer's script");
    let at = r.stdout.find("/nix/store/").expect("a store path") + "/nix/store/".len();
    let name: String = r.stdout[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '+'))
        .collect();
    let path = format!("/nix/store/{name}");
    assert!(path.ends_with("-source"), "{path}");
    path
}

/// Every file of the store copy (`find -type f -o -type l`), relative.
fn listed(find: &Run, copy: &str) -> Vec<String> {
    let mut files: Vec<String> = find
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix(copy))
        .map(|l| l.trim_start_matches('/').to_string())
        .filter(|l| !l.is_empty())
        .collect();
    files.sort();
    files
}

/// `program args` here (the host's store).
fn local(program: &str, args: &[&str]) -> Run {
    let o = Command::new(program).args(args).output().expect(program);
    Run {
        ok: o.status.success(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn assert_store_copy(files: &[String], grep: &Run) {
    for f in KEPT {
        assert!(files.iter().any(|x| x == f), "{f} missing: {files:#?}");
    }
    for f in LEFT_OUT {
        assert!(
            !files.iter().any(|x| x == f),
            "{f} reached the store: {files:#?}"
        );
    }
    // Whatever the file, no secret's text reached the store.
    assert!(
        !grep.ok && grep.stdout.is_empty(),
        "a secret in the store copy:\n{}",
        grep.stdout
    );
}

/// The generated file names what it copies, and nothing ignored.
fn assert_recorded(repo: &Path) {
    let text = std::fs::read_to_string(repo.join("nix/ifd-batch-dynamic.nix")).expect("generated");
    for f in [
        "\"fixtures/dynamic/release.nix\"",
        "\"fixtures/dynamic/intent.nix\"",
    ] {
        assert!(text.contains(f), "{f} not recorded");
    }
    for f in LEFT_OUT {
        assert!(!text.contains(&format!("\"{f}\"")), "{f} recorded");
    }
}

#[test]
fn store_copy_holds_what_git_tracks_and_no_secret_with_the_host_nix() {
    let Some(nix) = Nix::get() else { return };
    let s = secrets("fileset-host");
    let (code, out, err) = ifd_batch(&s.repo, &REWRITE);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("dynamic: 1 derivation"), "{out}");
    assert_recorded(&s.repo);
    // Written after the rewrite: the recorded list keeps it out.
    write(&s.top, "late.pem", &format!("{SECRET}\n"));
    let copy = store_copy(|e| nix.eval(e, &[]), &s.repo);
    let find = local("find", &[&copy, "-type", "f", "-o", "-type", "l"]);
    let grep = local("grep", &["-r", SECRET, &copy]);
    assert_store_copy(&listed(&find, &copy), &grep);
}

/// The same with the modern Nix, and the target builds from the store copy
/// (instantiated through the tracked-but-ignored file and the intent-to-add
/// one it imports).
#[test]
fn store_copy_builds_with_the_modern_nix() {
    let Some(m) = Modern::get() else { return };
    let s = secrets("fileset-modern");
    let o = m
        .command(&s.repo, env!("CARGO_BIN_EXE_ifd-batch"))
        .args(REWRITE)
        .output()
        .expect("run ifd-batch");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_recorded(&s.repo);
    write(&s.top, "late.pem", &format!("{SECRET}\n"));
    let copy = store_copy(
        |e| {
            m.run(
                &s.repo,
                "nix-instantiate",
                &["--eval", "--strict", "--read-write-mode", "-E", e],
            )
        },
        &s.repo,
    );
    let find = m.run(&s.repo, "find", &[&copy, "-type", "f", "-o", "-type", "l"]);
    let grep = m.run(&s.repo, "grep", &["-r", SECRET, &copy]);
    assert_store_copy(&listed(&find, &copy), &grep);
    let built = m.run(
        &s.repo,
        "nix",
        &[
            "build",
            "--no-link",
            "--print-out-paths",
            "-f",
            "nix/ifd-batch-dynamic.nix",
            "app",
        ],
    );
    assert!(built.ok, "{}", built.stderr);
    let direct = m.run(
        &s.repo,
        "nix-build",
        &["--no-out-link", "release.nix", "-A", "app"],
    );
    assert!(direct.ok, "{}", direct.stderr);
    assert_eq!(built.stdout.trim(), direct.stdout.trim());
}
