//! Running Nix: the one place that spawns `nix-instantiate`, `nix-store`
//! and `nix`, checks how they ended, formats what they said on stderr and
//! decodes their JSON. Every other module builds a [`Nix`] command and gets
//! a typed [`NixError`] back.

use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};

/// The evaluator of Nix files and expressions.
pub const INSTANTIATE: &str = "nix-instantiate";
/// The store's command line (realise, query).
pub const STORE: &str = "nix-store";
/// The new-style command line (`nix eval`, `nix build`).
pub const NIX: &str = "nix";

/// Why running Nix did not give what was asked.
#[derive(Debug, thiserror::Error)]
pub enum NixError {
    /// The program is not on `PATH`.
    #[error("cannot run `{program}`: not found (is Nix installed and on PATH?)")]
    NotFound { program: String },
    /// The program exists but could not be started (or waited for).
    #[error("cannot run `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    /// It ran and failed: `what` it was doing, and its stderr, trimmed.
    #[error("{}", failed(what, status, stderr))]
    Failed {
        what: String,
        status: ExitStatus,
        stderr: String,
    },
    /// It succeeded, but its stdout is not the JSON expected.
    #[error("unexpected output from {program}: {source}")]
    BadJson {
        program: String,
        source: serde_json::Error,
    },
}

/// `WHAT failed:` and Nix's message; its status when it said nothing.
fn failed(what: &str, status: &ExitStatus, stderr: &str) -> String {
    if stderr.is_empty() {
        format!("{what} failed ({status}), with nothing on stderr")
    } else {
        format!("{what} failed:\n{stderr}")
    }
}

impl NixError {
    /// The last `n` non-blank lines of a failure's stderr (where Nix says
    /// why); the whole message for other errors.
    pub fn last_lines(&self, n: usize) -> String {
        match self {
            NixError::Failed { stderr, .. } if !stderr.is_empty() => {
                let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
                lines[lines.len().saturating_sub(n)..].join("\n")
            }
            other => other.to_string(),
        }
    }

    fn spawn(program: &str, e: std::io::Error) -> NixError {
        if e.kind() == std::io::ErrorKind::NotFound {
            NixError::NotFound {
                program: program.to_string(),
            }
        } else {
            NixError::Spawn {
                program: program.to_string(),
                source: e,
            }
        }
    }
}

/// What a successful run printed.
#[derive(Debug)]
pub struct Output {
    pub stdout: Vec<u8>,
    /// Everything, untrimmed (evaluation traces are read from it).
    pub stderr: String,
}

/// One Nix command, built up and then run once.
#[derive(Debug)]
pub struct Nix {
    program: String,
    cmd: Command,
}

impl Nix {
    /// Any Nix program by name or path (`profile` runs what the user names).
    pub fn program(program: &str) -> Nix {
        Nix {
            program: program.to_string(),
            cmd: Command::new(program),
        }
    }

    /// `nix-instantiate`.
    pub fn instantiate() -> Nix {
        Nix::program(INSTANTIATE)
    }

    /// `nix-instantiate --eval --strict --json --read-write-mode`: add the
    /// file (or `-E EXPR`) and its arguments, then [`Nix::json`].
    pub fn eval_json() -> Nix {
        Nix::instantiate().args(["--eval", "--strict", "--json", "--read-write-mode"])
    }

    /// `nix-store`.
    pub fn store() -> Nix {
        Nix::program(STORE)
    }

    /// `nix`.
    pub fn cmd() -> Nix {
        Nix::program(NIX)
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Nix {
        self.cmd.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Nix
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn envs(mut self, env: &[(&str, &str)]) -> Nix {
        self.cmd.envs(env.iter().copied());
        self
    }

    /// Run to completion; a non-zero status is [`NixError::Failed`] with
    /// `what` (e.g. "evaluating default.nix -A x").
    pub fn run(mut self, what: &str) -> Result<Output, NixError> {
        let out = self
            .cmd
            .output()
            .map_err(|e| NixError::spawn(&self.program, e))?;
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() {
            return Err(NixError::Failed {
                what: what.to_string(),
                status: out.status,
                stderr: stderr.trim().to_string(),
            });
        }
        Ok(Output {
            stdout: out.stdout,
            stderr,
        })
    }

    /// Run, and decode stdout as JSON: the value and the stderr (traces).
    pub fn json<T: DeserializeOwned>(self, what: &str) -> Result<(T, String), NixError> {
        let program = self.program.clone();
        let out = self.run(what)?;
        let value = serde_json::from_slice(&out.stdout)
            .map_err(|source| NixError::BadJson { program, source })?;
        Ok((value, out.stderr))
    }

    /// Start it with stdin inherited, stdout to `stdout` and stderr piped,
    /// to be read while it runs (`profile` reads the log stream).
    pub fn spawn_streaming(mut self, stdout: Stdio) -> Result<Child, NixError> {
        self.cmd
            .stdin(Stdio::inherit())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| NixError::spawn(&self.program, e))
    }
}

/// `PROGRAM --version`, trimmed (e.g. `nix (Nix) 2.8.1`).
pub fn version(program: &str) -> Result<String, NixError> {
    let out = Nix::program(program)
        .arg("--version")
        .run(&format!("`{program} --version`"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Build the derivations with `nix-store --realise --keep-going` (in
/// parallel, the others going on when one fails): drvPath → output path,
/// for those built. Only a Nix that cannot be run is an error.
pub fn realise(drvs: &[&str]) -> Result<BTreeMap<String, String>, NixError> {
    let mut built = BTreeMap::new();
    if drvs.is_empty() {
        return Ok(built);
    }
    match Nix::store()
        .args(["--realise", "--keep-going", "--quiet"])
        .args(drvs)
        .run("building")
    {
        Ok(_) | Err(NixError::Failed { .. }) => {}
        Err(e) => return Err(e),
    }
    for d in drvs {
        let what = format!("querying the outputs of {d}");
        let path = match Nix::store().args(["--query", "--outputs", d]).run(&what) {
            Ok(q) => String::from_utf8_lossy(&q.stdout).trim().to_string(),
            Err(NixError::Failed { .. }) => continue,
            Err(e) => return Err(e),
        };
        if Path::new(&path).exists() {
            built.insert(d.to_string(), path);
        }
    }
    Ok(built)
}
