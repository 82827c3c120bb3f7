//! `ifd-batch scan`: the arguments and the report chosen.

use super::{Exit, fail, write_stdout};
use crate::report;
use crate::scan::{ScanOptions, scan};
use clap::ValueEnum;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Args)]
pub(crate) struct ScanArgs {
    /// Files or directories to scan.
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScanFormatArg::Human)]
    format: ScanFormatArg,
    /// Colour the human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Leave out paths matching GLOB (`.gitignore` syntax, relative to the
    /// scanned directory). Repeatable.
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ScanFormatArg {
    Human,
    Json,
    Sarif,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

pub(crate) fn run(args: ScanArgs) -> Exit {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };
    let exclude = match crate::walk::Exclude::new(&crate::scan::root_of(&paths), &args.exclude) {
        Ok(e) => e,
        Err(e) => {
            return fail(Exit::Usage, e);
        }
    };
    let result = scan(
        &paths,
        &ScanOptions {
            keep_sources: matches!(args.format, ScanFormatArg::Human),
            exclude,
        },
    );
    match args.format {
        ScanFormatArg::Human => {
            write_stdout(&report::human::render(&result, use_color(args.color)))
        }
        ScanFormatArg::Json => {
            // Streamed: a closed pipe (`| head`) just ends the output.
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let _ = report::json::write(&result, &mut out).and_then(|()| out.flush());
        }
        ScanFormatArg::Sarif => write_stdout(report::sarif::render(&result).as_bytes()),
    }
    if result.has_errors() {
        Exit::Failure
    } else {
        Exit::Success
    }
}

fn use_color(c: Color) -> bool {
    match c {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}
