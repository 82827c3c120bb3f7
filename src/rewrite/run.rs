//! One rewrite, start to end: plan the repository, choose the backend, take
//! its changes, verify them when asked, write them when asked. The CLI
//! builds a [`Request`] from its arguments and renders the [`Rewritten`];
//! nothing here prints.

use super::backend::{self, BackendError, Kind};
use crate::dynamic::Eligibility;
use crate::manifest::Extractor;
use crate::plan::{Plan, WriteError};
use crate::verify::{AttrTarget, Comparison};
use crate::walk::Exclude;
use std::path::Path;

/// What a rewrite is asked to do.
pub struct Request<'a> {
    /// The repository root.
    pub root: &'a Path,
    /// The manifest, relative to the root.
    pub manifest_file: &'a str,
    pub exclude: &'a Exclude,
    /// The backend asked for (`None`: the repository's, else `ifd`).
    pub backend: Option<Kind>,
    /// What the materialized and dynamic backends evaluate.
    pub targets: &'a [AttrTarget],
    /// The materialized backend's `--system`.
    pub systems: &'a [String],
    /// The extraction's tool, when asked for (`Some(None)`: nixlib's
    /// choice, `None`: the manifest's as it is).
    pub extractor: Option<Option<Extractor>>,
    /// What `--verify` evaluates before and after.
    pub verify: &'a [AttrTarget],
    /// Write the changes (when the plan has no errors and verification
    /// passed).
    pub write: bool,
}

/// What one rewrite did.
pub struct Rewritten {
    /// The plan, with the backend's changes merged.
    pub plan: Plan,
    /// The dynamic backend's eligible derivations.
    pub dynamic: Option<Eligibility>,
    /// `--verify`'s comparison (when asked for and the plan had no errors).
    pub verified: Option<Result<Comparison, BackendError>>,
    /// What writing did (when asked for and everything before passed).
    pub written: Option<Result<usize, WriteError>>,
}

impl Rewritten {
    /// The plan has no errors, verification (if any) passed, and writing
    /// (if any) succeeded.
    pub fn ok(&self) -> bool {
        self.plan.errors.is_empty()
            && self
                .verified
                .as_ref()
                .is_none_or(|v| v.as_ref().is_ok_and(Comparison::ok))
            && self.written.as_ref().is_none_or(Result::is_ok)
    }
}

/// Run one rewrite. An error is a backend that cannot be chosen (a usage
/// error, [`BackendError::is_usage`]) or cannot make its changes.
pub fn run(req: &Request) -> Result<Rewritten, BackendError> {
    let mut plan = super::plan(req.root, req.manifest_file, req.exclude);
    if let Some(x) = req.extractor {
        plan = plan.with_extractor(x);
    }
    let backend = backend::choose(req.backend, req.targets, req.systems, &plan)?;
    let applied = backend.changes(&plan)?;
    let plan = plan.with(applied.changes.clone());
    let verified = (!req.verify.is_empty() && plan.errors.is_empty())
        .then(|| backend.verify(&plan, &applied, req.verify));
    let mut done = Rewritten {
        plan,
        dynamic: applied.dynamic,
        verified,
        written: None,
    };
    if req.write && done.ok() {
        done.written = Some(crate::plan::write(&done.plan));
    }
    Ok(done)
}
