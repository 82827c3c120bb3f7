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
    ifd-batch profile default.nix -A foo      (runs nix-instantiate --read-write-mode)\n  \
    ifd-batch profile --trace before.json -- nix-instantiate default.nix -A foo\n  \
    ifd-batch profile --svg after.svg --svg-compare before.json -- nix-instantiate default.nix -A foo\n\n\
Pictures:\n  \
    --trace writes the run in Chrome's Trace Event Format (JSON): open it in\n  \
    Perfetto, speedscope or chrome://tracing. Lane 'evaluation'\n  \
    shows evaluating and blocked IFD rounds; lanes 'builds N' the builds (overlapping\n  \
    builds on different lanes), each with its derivation, round and site in args.\n  \
    --svg draws the same timeline as a standalone SVG (tooltips on every bar).\n  \
    With --svg-compare TRACE, a trace written earlier by --trace (say, before a\n  \
    rewrite) is drawn above this run, labelled before/after, on one time scale.\n  \
    It is read before Nix runs. The report is always printed; a file that cannot\n  \
    be written is an error (exit 1, or Nix's own non-zero status).")]
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
    /// Also write the run as a Chrome trace (Trace Event Format JSON) to
    /// FILE: Perfetto, speedscope, chrome://tracing.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Also draw the run as an SVG timeline in FILE.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Draw TRACE (written earlier by --trace) above this run in the SVG,
    /// as before/after on one time scale. Needs --svg.
    #[arg(long, value_name = "TRACE", requires = "svg")]
    svg_compare: Option<PathBuf>,
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
        trace: args.trace,
        svg: args.svg,
        svg_compare: args.svg_compare,
        command: args.command,
    };
    match profile::run(options) {
        Ok(ran) => {
            for e in &ran.unwritten {
                fail(Exit::Failure, e);
            }
            match ran.status {
                // Nix's own failure says more than a file we could not write.
                0 if ran.unwritten.is_empty() => Exit::Success,
                0 => Exit::Failure,
                code => Exit::Passthrough(u8::try_from(code).unwrap_or(1)),
            }
        }
        Err(e @ profile::ProfileError::NoCommand) => fail(Exit::Usage, e),
        Err(e @ profile::ProfileError::Compare { .. }) => fail(Exit::Failure, e),
    }
}
