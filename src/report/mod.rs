//! Reporting a scan: human (rustc-like snippets), JSON (one document),
//! SARIF 2.1.0.

pub mod human;
pub mod json;
pub mod sarif;

use crate::detect::{Confidence, Kind, Multiplicity, Site};
use indexmap::IndexMap;
use serde::Serialize;

/// Totals shared by every format.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub files_scanned: usize,
    pub sites: usize,
    pub suppressed: usize,
    pub hotspots: usize,
    pub batchable: usize,
    pub by_kind: IndexMap<String, usize>,
    pub by_file: IndexMap<String, usize>,
    /// Serial IFD rounds one full evaluation of everything would take,
    /// counting only the sites that surely block (`definite` ones).
    pub rounds: usize,
    /// False when `rounds` is a lower bound.
    pub rounds_exact: bool,
    /// Rounds once every batchable site goes through one batch (definite
    /// sites only, as `rounds`).
    pub rounds_after_batching: usize,
    /// Sites whose derivation could not be decided statically.
    pub possible: usize,
    /// The further rounds they would cost if they all block.
    pub possible_rounds: usize,
}

pub fn summarize(scan: &crate::scan::Scan) -> Summary {
    let sites = &scan.sites;
    let mut by_kind = IndexMap::new();
    for &k in Kind::ALL {
        let n = sites.iter().filter(|s| s.kind == k).count();
        if n > 0 {
            by_kind.insert(k.as_str().to_string(), n);
        }
    }
    // Files ordered hotspots first, then by site count.
    let mut files: IndexMap<&str, (usize, usize)> = IndexMap::new();
    for s in sites {
        let e = files.entry(&s.file).or_default();
        e.0 += 1;
        if s.multiplicity == Multiplicity::PerElement {
            e.1 += 1;
        }
    }
    let mut files: Vec<_> = files.into_iter().collect();
    files.sort_by(|a, b| (b.1.1, b.1.0).cmp(&(a.1.1, a.1.0)).then(a.0.cmp(b.0)));
    // Only what surely blocks counts in the rounds: a `possible` site may
    // read a plain path, and is counted apart.
    let blocking = || {
        sites
            .iter()
            .filter(|s| s.confidence == Confidence::Definite)
    };
    let possible = || {
        sites
            .iter()
            .filter(|s| s.confidence == Confidence::Possible)
    };
    let rounds = blocking().map(|s| s.rounds).sum();
    let unbatched: usize = blocking().filter(|s| !s.batchable).map(|s| s.rounds).sum();
    let any_batchable = blocking().any(|s| s.batchable);
    Summary {
        files_scanned: scan.files_scanned,
        sites: sites.len(),
        suppressed: scan.suppressed,
        hotspots: sites.iter().filter(|s| is_hotspot(s)).count(),
        batchable: sites.iter().filter(|s| s.batchable).count(),
        by_kind,
        by_file: files
            .into_iter()
            .map(|(f, (n, _))| (f.to_string(), n))
            .collect(),
        rounds,
        rounds_exact: blocking().all(|s| s.rounds_exact),
        rounds_after_batching: unbatched + usize::from(any_batchable),
        possible: possible().count(),
        possible_rounds: possible().map(|s| s.rounds).sum(),
    }
}

/// A serial hotspot: a site evaluated once per element of a collection.
pub fn is_hotspot(site: &Site) -> bool {
    site.multiplicity == Multiplicity::PerElement
}
