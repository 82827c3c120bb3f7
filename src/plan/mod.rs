//! The plan: what a rewrite will do, before anything is written — the
//! edited files, the manifest, each site's outcome, a backend's generated
//! files and removals. `rewrite` fills it; a backend returns its
//! [`Changes`] (it never changes the plan: [`Plan::with`] merges them);
//! `write` applies it to a tree, atomically, and `diff` shows it.

mod write;

pub(crate) use write::{ApplyError, apply_to};
pub use write::{WriteError, diff, write, write_atomic};

use crate::detect::{Code, Kind, Reason, Site};
use crate::manifest::Manifest;
use crate::scan::FileError;
use serde::Serialize;
use std::path::PathBuf;

/// Where a site ended up.
#[derive(Debug, Clone, Serialize)]
pub struct SiteOutcome {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub kind: Kind,
    pub call: String,
    pub action: Action,
    pub reason: Option<String>,
    /// The reason's stable code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<Code>,
}

/// What the rewrite does with a site (stable JSON: `edited`, `routed`,
/// `skipped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Routed through the batch by this rewrite.
    Edited,
    /// Already routed (a previous rewrite): only contributes entries.
    Routed,
    /// Left alone; the outcome's `reason` says why.
    Skipped,
}

/// One file's new text.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub file: String,
    pub path: PathBuf,
    pub old: String,
    pub new: String,
    /// A materialized expression (not an edited source file).
    pub generated: bool,
}

/// The whole rewrite, before anything is written.
#[derive(Debug, Clone)]
pub struct Plan {
    pub root: PathBuf,
    /// Manifest path, relative to the root.
    pub manifest_file: String,
    pub manifest: Manifest,
    /// Current manifest text (None when absent) and the planned one.
    pub manifest_old: Option<String>,
    /// The current manifest, parsed once (None: absent or unreadable).
    pub manifest_on_disk: Option<Manifest>,
    pub manifest_new: Option<String>,
    pub changes: Vec<FileChange>,
    /// Files to delete (relative to the root): materialized files no
    /// longer generated.
    pub removals: Vec<String>,
    pub sites: Vec<SiteOutcome>,
    /// Generic groups: which sites share a barrier.
    pub groups: Vec<String>,
    pub errors: Vec<FileError>,
}

impl Plan {
    /// Nothing to write: the repository is already rewritten.
    pub fn is_noop(&self) -> bool {
        self.changes.is_empty()
            && self.removals.is_empty()
            && self.manifest_new == self.manifest_old
    }
}

/// What a backend adds to a plan: the files it generates, the ones it
/// removes (another backend's leftovers), its errors, and the manifest when
/// the backend records itself there (the materialized backend's
/// `materialize = { … }`).
#[derive(Debug, Default, Clone)]
pub struct Changes {
    pub manifest: Option<Manifest>,
    pub generated: Vec<FileChange>,
    pub removals: Vec<String>,
    pub errors: Vec<FileError>,
}

impl Changes {
    /// Both backends' changes: `later`'s manifest wins.
    pub fn and(mut self, later: Changes) -> Changes {
        if later.manifest.is_some() {
            self.manifest = later.manifest;
        }
        self.generated.extend(later.generated);
        self.removals.extend(later.removals);
        self.errors.extend(later.errors);
        self
    }
}

impl Plan {
    /// The plan with a backend's changes.
    /// The plan with the extraction's tool set (`rewrite --extractor`;
    /// `None`: nixlib's choice), the manifest rendered again.
    pub fn with_extractor(mut self, extractor: Option<crate::manifest::Extractor>) -> Plan {
        self.manifest.extractor = extractor;
        if self.manifest_new.is_some() {
            self.manifest_new = Some(self.manifest.render());
        }
        self
    }

    pub fn with(mut self, changes: Changes) -> Plan {
        if let Some(m) = changes.manifest {
            if m.count() > 0 {
                self.manifest_new = Some(m.render());
            }
            self.manifest = m;
        }
        self.changes.extend(changes.generated);
        for r in changes.removals {
            if !self.removals.contains(&r) {
                self.removals.push(r);
            }
        }
        self.errors.extend(changes.errors);
        self
    }
}

/// A site's outcome.
pub fn outcome(s: &Site, action: Action, reason: Option<Reason>) -> SiteOutcome {
    SiteOutcome {
        file: s.file.clone(),
        line: s.line,
        column: s.column,
        kind: s.kind,
        call: s.call.clone(),
        action,
        reason_code: reason.as_ref().map(|r| r.code),
        reason: reason.map(|r| r.message),
    }
}
