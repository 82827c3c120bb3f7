//! The repository's own files and the real tools the tests run beside Nix.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Copy `rel` (a directory of this repository) into `to`, same layout.
pub fn copy_dir(rel: &str, to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let mut stack = vec![from.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            let dest = to.join(rel).join(p.strip_prefix(&from).expect("prefix"));
            if p.is_dir() {
                stack.push(p);
            } else {
                std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
                std::fs::copy(&p, &dest).expect("copy");
            }
        }
    }
}

/// `ifd-batch ARGS` in `dir`, with the tests' Nix settings (the
/// environment's `NIX_CONFIG`, else `nix::NIX_CONFIG`): its exit code and
/// its stdout then stderr.
pub fn ifd_batch(args: &[&str], dir: &Path) -> (i32, String) {
    let config = std::env::var("NIX_CONFIG").unwrap_or_else(|_| super::nix::NIX_CONFIG.to_string());
    ifd_batch_env(args, dir, &[("NIX_CONFIG", &config)])
}

/// [`ifd_batch`] with these environment variables.
pub fn ifd_batch_env(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ifd-batch"))
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
        .expect("run ifd-batch");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Run the real deadnix (`--fail`) on `files`; panic with its report when it
/// finds anything. Missing deadnix skips the check, except under `CI=true`
/// (scripts/test.sh installs it) outside the version matrix's root (there
/// the host run has checked the same text). Returns whether it ran.
pub fn deadnix(files: &[PathBuf]) -> bool {
    let have = Command::new("deadnix").arg("--version").output();
    if !have.is_ok_and(|o| o.status.success()) {
        let in_matrix = std::env::var("IFD_BATCH_NIX").as_deref() == Ok("modern");
        assert!(
            in_matrix || std::env::var("CI").as_deref() != Ok("true"),
            "deadnix not found, and CI=true (scripts/test.sh installs it)"
        );
        eprintln!("*** SKIPPED: deadnix not found (scripts/test.sh installs it) ***");
        return false;
    }
    let out = Command::new("deadnix")
        .args(["--fail", "--output-format", "json"])
        .args(files)
        .output()
        .expect("run deadnix");
    assert!(
        out.status.success(),
        "deadnix:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

/// A directory with `bin/ifd-batch` (this build's binary), the layout of a
/// package set's `ifd-batch` (`import fixtures/mini-nixpkgs { ifd-batch =
/// <it>; }`). One directory under the target's tmp, refreshed once per test
/// run by an atomic rename (no copy is left behind per run).
pub fn tool_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ifd-batch-tool");
        std::fs::create_dir_all(dir.join("bin")).expect("tool dir");
        let tmp = dir.join(format!("bin/.ifd-batch.{}", std::process::id()));
        std::fs::copy(env!("CARGO_BIN_EXE_ifd-batch"), &tmp).expect("copy ifd-batch");
        std::fs::rename(&tmp, dir.join("bin/ifd-batch")).expect("rename ifd-batch");
        dir
    })
    .clone()
}
