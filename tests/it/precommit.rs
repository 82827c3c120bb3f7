//! The pre-commit hook through the real `pre-commit` framework (PyPI), in a
//! temporary git repository: a commit adding an unbatched `callHackage` is
//! refused with the message; after `ifd-batch check --fix` it passes.
//!
//! `scripts/test.sh` installs pre-commit with pip when it is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_ifd-batch"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn path_with_bin() -> String {
    format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn run(dir: &Path, home: &Path, cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .env("PATH", path_with_bin())
        .env("PRE_COMMIT_HOME", home.join("pre-commit-cache"))
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"))
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn commit_refused_until_fixed() {
    let have = Command::new("pre-commit").arg("--version").output();
    assert!(
        have.is_ok_and(|o| o.status.success()),
        "pre-commit is not installed (scripts/test.sh installs it with pip)"
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = tmp.path();
    // A hooks repository holding our .pre-commit-hooks.yaml, as pre-commit
    // would clone it from GitHub.
    let hooks = home.join("hooks-repo");
    std::fs::create_dir_all(&hooks).expect("mkdir");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
        hooks.join(".pre-commit-hooks.yaml"),
    )
    .expect("copy hooks file");
    ok(
        &run(&hooks, home, "git", &["init", "-q", "-b", "main"]),
        "git init hooks",
    );
    ok(&run(&hooks, home, "git", &["add", "."]), "git add hooks");
    ok(
        &run(&hooks, home, "git", &["commit", "-qm", "hooks"]),
        "git commit hooks",
    );
    let rev = String::from_utf8_lossy(&run(&hooks, home, "git", &["rev-parse", "HEAD"]).stdout)
        .trim()
        .to_string();

    let repo = home.join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    ok(
        &run(&repo, home, "git", &["init", "-q", "-b", "main"]),
        "git init",
    );
    std::fs::write(
        repo.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: ifd-batch-system\n",
            hooks.display()
        ),
    )
    .expect("config");
    std::fs::write(repo.join("overlay.nix"), "self: super: {\n}\n").expect("write");
    ok(
        &run(&repo, home, "pre-commit", &["install"]),
        "pre-commit install",
    );
    ok(&run(&repo, home, "git", &["add", "."]), "git add");
    ok(
        &run(&repo, home, "git", &["commit", "-qm", "initial"]),
        "clean commit",
    );

    // An unbatched callHackage is refused, with the hook's message.
    std::fs::write(
        repo.join("overlay.nix"),
        "self: super: {\n  aeson = self.callHackage \"aeson\" \"2.1.2.1\" { };\n}\n",
    )
    .expect("write");
    ok(&run(&repo, home, "git", &["add", "overlay.nix"]), "git add");
    let refused = run(&repo, home, "git", &["commit", "-qm", "add aeson"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&refused.stdout),
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(!refused.status.success(), "commit was not refused:\n{text}");
    assert!(
        text.contains(
            "overlay.nix:2:11: hackage: `self.callHackage` is not routed through the batch"
        ),
        "{text}"
    );
    assert!(
        text.contains("manifest: stale for overlay.nix: missing hackage aeson 2.1.2.1"),
        "{text}"
    );

    // After --fix, the same commit passes.
    ok(
        &run(&repo, home, "ifd-batch", &["check", "--fix", "overlay.nix"]),
        "ifd-batch check --fix",
    );
    let fixed = std::fs::read_to_string(repo.join("overlay.nix")).unwrap_or_default();
    assert!(fixed.contains("ifdBatch.callHackage \"aeson\""), "{fixed}");
    ok(
        &run(
            &repo,
            home,
            "git",
            &["add", "overlay.nix", "nix/ifd-batch.nix"],
        ),
        "git add fix",
    );
    ok(
        &run(&repo, home, "git", &["commit", "-qm", "add aeson, batched"]),
        "commit after --fix",
    );
}
