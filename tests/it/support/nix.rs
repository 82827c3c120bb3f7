//! Running real Nix from tests.
//!
//! `Nix::get()` finds `nix-instantiate`. When it is missing the test is
//! skipped with a loud message — except under `CI=true`, where it fails: CI
//! must run the Nix tests. Every command gets the test settings (no binary
//! cache, no sandbox, no build users) unless `NIX_CONFIG` is already set, and
//! evaluation runs with `--read-write-mode` so import-from-derivation can
//! build.
//!
//! `Modern::get()` is a Nix >= 2.30 (dynamic derivations): Debian sid's, in
//! the isolated root `scripts/modern-nix.sh` makes. With
//! `IFD_BATCH_NIX=modern` (the version matrix, `scripts/modern-nix.sh test`)
//! the test binaries already run inside that root: every Nix is the modern
//! one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const NIX_CONFIG: &str =
    "substituters =\nsandbox = false\nbuild-users-group =\nexperimental-features = nix-command";

pub struct Nix {
    root: PathBuf,
}

/// Result of one Nix command.
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            ok: o.status.success(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
    /// Panics with the command's stderr unless it succeeded.
    pub fn expect_ok(self, what: &str) -> Run {
        assert!(self.ok, "{what} failed:\n{}", self.stderr);
        self
    }
    /// `building '…'` lines: derivations built during evaluation.
    pub fn builds(&self) -> Vec<String> {
        self.stderr
            .lines()
            .filter_map(|l| l.strip_prefix("building '"))
            .map(|l| l.trim_end_matches("'...").to_string())
            .collect()
    }
    /// IFD barriers that built something, from `--log-format internal-json`:
    /// every import-from-derivation realisation is one `actRealise` (102)
    /// activity; the `actBuild` (105) activities started while it is the
    /// latest one are its builds. Returns the derivations built per barrier.
    pub fn barriers(&self) -> Vec<Vec<String>> {
        let mut groups: Vec<Vec<String>> = Vec::new();
        let mut open = false;
        for line in self.stderr.lines() {
            let Some(json) = line.strip_prefix("@nix ") else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(json) else {
                continue;
            };
            if v["action"] != "start" {
                continue;
            }
            match v["type"].as_u64() {
                Some(102) => {
                    groups.push(Vec::new());
                    open = true;
                }
                Some(105) if open => {
                    let drv = v["fields"][0].as_str().unwrap_or("").to_string();
                    groups.last_mut().expect("open group").push(drv);
                }
                _ => {}
            }
        }
        groups.retain(|g| !g.is_empty());
        groups
    }
}

impl Nix {
    /// `None` (after a loud message) when Nix is missing outside CI.
    pub fn get() -> Option<Nix> {
        let found = Command::new("nix-instantiate")
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !found {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("nix-instantiate not found, and CI=true: the Nix tests must run in CI");
            }
            eprintln!(
                "\n*** SKIPPED: nix-instantiate not found. Install Nix (scripts/test.sh \
                 installs Debian's nix-bin) to run the test-world tests. ***\n"
            );
            return None;
        }
        if Modern::inside() {
            let v = Command::new("nix-instantiate").arg("--version").output();
            let v = v.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
            assert!(
                v.as_deref().is_ok_and(|v| !v.contains(" 2.8")),
                "IFD_BATCH_NIX=modern, but nix-instantiate is {v:?}: run through scripts/modern-nix.sh test"
            );
        }
        Some(Nix {
            root: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        })
    }

    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.current_dir(&self.root);
        if std::env::var_os("NIX_CONFIG").is_none() {
            c.env("NIX_CONFIG", NIX_CONFIG);
        }
        c
    }

    /// `nix-instantiate --eval --strict --json --read-write-mode -E EXPR`.
    pub fn eval_json(&self, expr: &str) -> Run {
        self.eval(expr, &["--json"])
    }

    /// Like `eval_json`, with machine-readable build events on stderr.
    pub fn eval_json_logged(&self, expr: &str) -> Run {
        self.eval(expr, &["--json", "--log-format", "internal-json", "-v"])
    }

    pub fn eval(&self, expr: &str, extra: &[&str]) -> Run {
        let o = self
            .command("nix-instantiate")
            .args(["--eval", "--strict", "--read-write-mode"])
            .args(extra)
            .args(["-E", expr])
            .output()
            .expect("run nix-instantiate");
        Run::from(o)
    }

    /// `nix-build --no-out-link -E EXPR`; returns the output path.
    pub fn build(&self, expr: &str) -> String {
        let o = self
            .command("nix-build")
            .args(["--no-out-link", "-E", expr])
            .output()
            .expect("run nix-build");
        let r = Run::from(o).expect_ok("nix-build");
        r.stdout.trim().lines().last().unwrap_or("").to_string()
    }

    /// A Nix string literal.
    pub fn str(s: &str) -> String {
        serde_json::to_string(s).expect("string")
    }
}

/// A salt no earlier run used: derivations are new, so builds really happen.
pub fn fresh_salt(tag: &str) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{tag}-{}-{t}", std::process::id())
}

/// A Nix >= 2.30, for dynamic derivations: `scripts/modern-nix.sh run …`
/// (Debian sid's Nix in its isolated root), or the Nix on PATH when the
/// tests already run inside that root (`IFD_BATCH_NIX=modern`).
pub struct Modern {
    script: PathBuf,
}

impl Modern {
    /// Are these tests running inside the modern root (the version matrix)?
    pub fn inside() -> bool {
        std::env::var("IFD_BATCH_NIX").as_deref() == Ok("modern")
    }

    /// `None` (after a loud message) when no modern Nix can be had outside
    /// CI; under `CI=true`, a panic.
    pub fn get() -> Option<Modern> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/modern-nix.sh");
        if Modern::inside() {
            return Some(Modern { script });
        }
        let why = match Command::new(&script).arg("ensure").output() {
            Ok(o) if o.status.success() => return Some(Modern { script }),
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
            Err(e) => e.to_string(),
        };
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "no modern Nix, and CI=true: the dynamic-derivations tests must run in CI:\n{why}"
            );
        }
        eprintln!(
            "\n*** SKIPPED: no Nix >= 2.30 for the dynamic-derivations tests \
             (`scripts/modern-nix.sh ensure` makes one, as root or through sudo, \
             from Debian's archive): {why} ***\n"
        );
        None
    }

    /// `program` with the modern Nix first on PATH, in `dir`.
    pub fn command(&self, dir: &Path, program: &str) -> Command {
        let mut c = if Modern::inside() {
            Command::new(program)
        } else {
            let mut c = Command::new(&self.script);
            c.arg("run").arg(program);
            // The test binaries' directory (the ifd-batch binary), wherever
            // CARGO_TARGET_DIR puts it.
            if let Some(bin) = Path::new(env!("CARGO_BIN_EXE_ifd-batch")).parent() {
                c.env("IFD_BATCH_MODERN_BIND", bin);
            }
            c
        };
        c.current_dir(dir);
        c
    }

    /// Run `program args` in `dir`.
    pub fn run(&self, dir: &Path, program: &str, args: &[&str]) -> Run {
        let o = self
            .command(dir, program)
            .args(args)
            .output()
            .expect("run a modern Nix command");
        Run::from(o)
    }
}
