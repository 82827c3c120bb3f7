//! The one command-line edge: clap, rendering, exit codes and the message
//! prefix. Library modules return data or typed errors; each subcommand's
//! file here turns them into output and an `Exit`.

mod check;
mod extract;
mod index;
mod profile;
mod rewrite;
mod scan;

use clap::{Parser, Subcommand};
use std::io::Write;

#[derive(Parser)]
#[command(
    name = "ifd-batch",
    version,
    about = "Find import-from-derivation sites in Nix code and batch them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find every import-from-derivation site under PATHs (default: .).
    Scan(scan::ScanArgs),
    /// Route batchable sites through one batch (dry run: prints a diff).
    Rewrite(rewrite::RewriteArgs),
    /// Pre-commit check: are the given files' sites routed and the manifest current?
    Check(check::CheckArgs),
    /// Extract listed members of a tar archive in one streaming pass.
    Extract(extract::ExtractArgs),
    /// Index a tar(.gz) archive once, so that `extract --index` reads only around members.
    Index(index::IndexArgs),
    /// Run Nix and measure where evaluation blocks on builds.
    Profile(profile::ProfileArgs),
}

/// How the process ends: the one place exit codes are decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: done; nothing to report.
    Success,
    /// 1: problems found (scan errors, check findings, a refused rewrite) or
    /// an operation failed.
    Failure,
    /// 2: bad usage (arguments, a missing directory, a bad member list).
    Usage,
    /// 3: `extract`: listed members are not in the archive.
    Missing,
    /// `profile`: the status of the Nix command it ran.
    Passthrough(u8),
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> std::process::ExitCode {
        std::process::ExitCode::from(match e {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::Missing => 3,
            Exit::Passthrough(c) => c,
        })
    }
}

/// Run the CLI.
pub fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Success
            }
            .into();
        }
    };
    match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Rewrite(args) => rewrite::run(args),
        Command::Check(args) => check::run(args),
        Command::Extract(args) => extract::run(args),
        Command::Index(args) => index::run(args),
        Command::Profile(args) => profile::run(args),
    }
    .into()
}

/// Every message of ours on stderr starts with this.
const PREFIX: &str = "ifd-batch";

/// Say `ifd-batch: error: MESSAGE` on stderr; end with `exit`.
pub(crate) fn fail(exit: Exit, message: impl std::fmt::Display) -> Exit {
    eprintln!("{PREFIX}: error: {message}");
    exit
}

/// Say `ifd-batch: warning: MESSAGE` on stderr.
pub(crate) fn warn(message: impl std::fmt::Display) {
    eprintln!("{PREFIX}: warning: {message}");
}

/// Say `ifd-batch: MESSAGE` on stderr.
pub(crate) fn note(message: impl std::fmt::Display) {
    eprintln!("{PREFIX}: {message}");
}

/// Write to stdout; a closed pipe (`| head`) is not an error.
pub(crate) fn write_stdout(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

/// `1 site`, `2 sites`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
