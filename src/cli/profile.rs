//! `ifd-batch profile`: the arguments, and Nix's status as ours.

use super::{Exit, fail};
use crate::profile::{self, ProfileOptions};
use clap::ValueEnum;
use std::path::PathBuf;

/// Arguments of `ifd-batch profile`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    ifd-batch profile -- nix-instantiate default.nix -A foo\n  \
    ifd-batch profile -- nix eval -f default.nix foo\n  \
    ifd-batch profile --format json -- nix-build default.nix\n  \
    ifd-batch profile default.nix -A foo      (runs nix-instantiate --read-write-mode)")]
pub(crate) struct ProfileArgs {
    /// Report format: a table on stderr, or one JSON document on stdout
    /// (Nix's own stdout then goes to stderr).
    #[arg(long, value_enum, default_value_t = ProfileFormatArg::Human)]
    format: ProfileFormatArg,
    /// Write the report to FILE instead.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Files or directories to scan for attribution (default: the FILE's
    /// directory, else the current directory). Repeatable.
    #[arg(long = "scan", value_name = "PATH")]
    scan: Vec<PathBuf>,
    /// No live progress line.
    #[arg(long)]
    no_progress: bool,
    /// The Nix command to run (after `--`), or FILE [NIX-INSTANTIATE ARGS...].
    /// Options before the command are ours: an unknown one is a usage error,
    /// not the command (`trailing_var_arg` alone: the words after the first
    /// one are the command's, hyphens and all).
    #[arg(trailing_var_arg = true, required = true)]
    command: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProfileFormatArg {
    Human,
    Json,
}

pub(crate) fn run(args: ProfileArgs) -> Exit {
    let options = ProfileOptions {
        format: match args.format {
            ProfileFormatArg::Human => profile::ReportFormat::Human,
            ProfileFormatArg::Json => profile::ReportFormat::Json,
        },
        report: args.report,
        scan: args.scan,
        no_progress: args.no_progress,
        command: args.command,
    };
    match profile::run(options) {
        Ok(0) => Exit::Success,
        Ok(code) => Exit::Passthrough(u8::try_from(code).unwrap_or(1)),
        Err(e) => fail(Exit::Usage, e),
    }
}
