//! `ifd-batch extract`: the arguments, messages and exit codes (0 all
//! members written, or missing ones listed with `--missing` and refused ones
//! with `--refused`; 1 error,
//! including an unusable `--index`; 2 bad usage or member list, or `--index`
//! with a directory; 3 members not found).

use super::{Exit, fail, warn};
use crate::extract::{
    Strip, decompress_only, extract, extract_with_index, read_member_list, write_names,
};
use std::path::PathBuf;

/// Arguments of `ifd-batch extract`.
#[derive(clap::Args, Debug)]
pub(crate) struct ExtractArgs {
    /// The archive (.tar.gz, .tar) or an unpacked directory.
    pub archive: PathBuf,
    /// File listing the wanted members, one a line (`-`: standard input).
    #[arg(
        long,
        value_name = "FILE|-",
        required_unless_present = "decompress_only"
    )]
    pub members: Option<PathBuf>,
    /// Directory to write the members into (created if absent).
    #[arg(long, value_name = "DIR", required_unless_present = "decompress_only")]
    pub out: Option<PathBuf>,
    /// Leading path components to drop from archive names: `auto` detects
    /// the archive's top directory.
    #[arg(long, value_name = "auto|N", default_value = "auto", value_parser = parse_strip)]
    pub strip: Strip,
    /// An index of ARCHIVE made by `ifd-batch index`: read only around the
    /// wanted members instead of the whole archive.
    #[arg(long, value_name = "FILE")]
    pub index: Option<PathBuf>,
    /// Write the members not found to FILE (one a line) and exit 0, instead
    /// of exiting 3 with the list on standard error.
    #[arg(long, value_name = "FILE")]
    pub missing: Option<PathBuf>,
    /// Write the members refused (links, special files: never followed) to
    /// FILE (one a line), each said on standard error, and go on, instead of
    /// exiting 1.
    #[arg(long, value_name = "FILE")]
    pub refused: Option<PathBuf>,
    /// Benchmark aid: decompress the whole archive and discard it (the lower
    /// bound of a one-pass extraction).
    #[arg(long, hide = true)]
    pub decompress_only: bool,
}

fn parse_strip(s: &str) -> Result<Strip, String> {
    if s == "auto" {
        Ok(Strip::Auto)
    } else {
        s.parse::<usize>()
            .map(Strip::Components)
            .map_err(|_| format!("expected `auto` or a number, got `{s}`"))
    }
}

/// Run `ifd-batch extract`; returns the exit code.
pub(crate) fn run(args: ExtractArgs) -> Exit {
    if args.decompress_only {
        return match decompress_only(&args.archive) {
            Ok(n) => {
                println!("{n}");
                Exit::Success
            }
            Err(e) => fail(Exit::Failure, format!("extract: {e:#}")),
        };
    }
    let (Some(members_path), Some(out)) = (args.members.as_deref(), args.out.as_deref()) else {
        return fail(Exit::Usage, "extract: --members and --out are required");
    };
    let list = match read_member_list(members_path) {
        Ok(l) => l,
        Err(e) => {
            return fail(Exit::Usage, format!("extract: {e:#}"));
        }
    };
    if args.index.is_some() && args.archive.is_dir() {
        return fail(
            Exit::Usage,
            format!(
                "extract: {} is a directory: --index applies to a tar archive (a directory is read directly, without it)",
                args.archive.display()
            ),
        );
    }
    let outcome = match &args.index {
        Some(index) => extract_with_index(&args.archive, index, &list, out, args.strip),
        None => extract(&args.archive, &list, out, args.strip),
    };
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            return fail(Exit::Failure, format!("extract: {e:#}"));
        }
    };
    if outcome.unsafe_names > 0 {
        warn(format!(
            "extract: skipped {} archive entries with unsafe names",
            outcome.unsafe_names
        ));
    }
    if let Some(path) = &args.refused {
        for (m, why) in &outcome.refused {
            warn(format!("extract: refused {m}: {why}"));
        }
        let names: Vec<String> = outcome.refused.iter().map(|(m, _)| m.clone()).collect();
        if let Err(e) = write_names(path, &names) {
            return fail(Exit::Failure, format!("extract: {}: {e}", path.display()));
        }
    } else if !outcome.refused.is_empty() {
        for (m, why) in &outcome.refused {
            fail(Exit::Failure, format!("extract: refused {m}: {why}"));
        }
        return Exit::Failure;
    }
    if outcome.missing.is_empty() {
        if let Some(path) = &args.missing
            && let Err(e) = write_names(path, &[])
        {
            return fail(Exit::Failure, format!("extract: {}: {e}", path.display()));
        }
        return Exit::Success;
    }
    match &args.missing {
        Some(path) => match write_names(path, &outcome.missing) {
            Ok(()) => Exit::Success,
            Err(e) => fail(Exit::Failure, format!("extract: {}: {e}", path.display())),
        },
        None => {
            fail(
                Exit::Missing,
                format!(
                    "extract: {} member(s) not found in {}:",
                    outcome.missing.len(),
                    args.archive.display()
                ),
            );
            for m in &outcome.missing {
                eprintln!("  {m}");
            }
            Exit::Missing
        }
    }
}
