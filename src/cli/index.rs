//! `ifd-batch index`: one pass over a tar(.gz) archive writing the seekable
//! index `extract --index` reads (exit codes: 0 written, 1 error, 2 usage).

use super::{Exit, fail, note};
use crate::extract::{DEFAULT_SPAN, index_archive};
use std::path::PathBuf;

/// Arguments of `ifd-batch index`.
#[derive(clap::Args, Debug)]
pub(crate) struct IndexArgs {
    /// The archive (.tar.gz, single- or multi-member, or .tar).
    pub archive: PathBuf,
    /// The index file to write (replaced atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Uncompressed bytes between access points (suffixes K, M: KiB, MiB).
    /// Smaller: a larger index, less to inflate per member.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_SPAN, value_parser = parse_span)]
    pub span: u64,
}

fn parse_span(s: &str) -> Result<u64, String> {
    let (digits, unit) = match s.strip_suffix(['K', 'k']) {
        Some(d) => (d, 1 << 10),
        None => match s.strip_suffix('M') {
            Some(d) => (d, 1 << 20),
            None => (s, 1),
        },
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("expected a positive number of bytes (e.g. 4M), got `{s}`"))
}

/// Run `ifd-batch index`; returns the exit code.
pub(crate) fn run(args: IndexArgs) -> Exit {
    match index_archive(&args.archive, &args.out, args.span) {
        Ok(index) => {
            note(format!(
                "indexed {}: {} members, {} access points (sha256 {})",
                args.archive.display(),
                index.len(),
                index.points.len(),
                index.archive.sha256_hex()
            ));
            Exit::Success
        }
        Err(e) => fail(Exit::Failure, format!("index: {e:#}")),
    }
}
