//! One IFD site, as owned data (ranges, strings, kinds): what detection
//! returns for each file, and what every later stage reads.

use super::drv::Confidence;
use super::kinds::{Args, Kind};
use super::multiplicity::Multiplicity;
use super::reason::Code;
use serde::Serialize;

/// One IFD site, as owned data (safe to send across threads).
#[derive(Debug, Clone, Serialize)]
pub struct Site {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// Byte range in the file, `[start, end)`.
    pub byte_range: [usize; 2],
    pub kind: Kind,
    pub confidence: Confidence,
    pub batchable: bool,
    /// Why it is not batchable.
    pub reason: Option<String>,
    /// The reason's stable code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<Code>,
    pub multiplicity: Multiplicity,
    /// For per-element sites whose collection is a literal: its size.
    pub elements: Option<usize>,
    /// Source text of the callee, e.g. `self.callHackage`.
    pub call: String,
    pub args: Args,
    pub message: String,
    /// Serial IFD rounds this site costs in one full evaluation.
    pub rounds: usize,
    /// False when `rounds` is a lower bound (a per-element site over a
    /// collection of unknown size).
    pub rounds_exact: bool,
    /// A grouped generic site: the group binding it goes through
    /// (`ifdBatchGroup`, `ifdBatchGroup'2`: one per layer of its scope),
    /// decided over the whole file by `generic::layer`.
    #[serde(skip)]
    pub group: Option<String>,
}

/// What one file yields.
#[derive(Debug, Default)]
pub struct FileSites {
    pub sites: Vec<Site>,
    pub suppressed: usize,
}
