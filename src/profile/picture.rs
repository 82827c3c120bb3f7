//! `--trace` and `--svg`: the run's timeline written to files once the
//! report is out, and `--svg-compare`'s earlier trace, read before Nix runs.

use super::svg::{self, Panel};
use super::timeline::Timeline;
use super::trace;
use std::path::{Path, PathBuf};

/// A file that could not be written; the report is out already.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the {what} to {}: {source}", path.display())]
pub struct WriteError {
    /// `trace` or `SVG`.
    pub what: &'static str,
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Why an earlier trace cannot be drawn.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Trace(#[from] trace::ReadError),
}

/// The trace `--svg-compare` names.
pub fn read_compare(path: &Path) -> Result<Timeline, CompareError> {
    Ok(trace::read(&std::fs::read_to_string(path)?)?)
}

/// Write the trace and the SVG that were asked for: what failed.
pub fn write(
    trace_to: Option<&Path>,
    svg_to: Option<&Path>,
    timeline: &Timeline,
    before: Option<&Timeline>,
) -> Vec<WriteError> {
    let mut failed = Vec::new();
    let mut put = |what, path: &Path, text: String| {
        if let Err(source) = std::fs::write(path, text) {
            failed.push(WriteError {
                what,
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if let Some(path) = trace_to {
        put("trace", path, trace::write(timeline));
    }
    if let Some(path) = svg_to {
        let panels = match before {
            Some(b) => vec![
                Panel {
                    label: "before",
                    timeline: b,
                },
                Panel {
                    label: "after",
                    timeline,
                },
            ],
            None => vec![Panel {
                label: "",
                timeline,
            }],
        };
        put("SVG", path, svg::render(&panels));
    }
    failed
}
