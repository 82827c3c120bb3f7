//! The backends: where the batched sites' generated Nix comes from. A
//! backend is one implementation of one trait, [`Backend`]: it reads the
//! plan and returns its [`Changes`] (its generated files, what it removes
//! of another backend's, its errors) — it never changes the plan — and it
//! verifies a plan as its own evaluation sees it. `rewrite` and
//! `check --fix` both go through it; nixlib reads the choice from the
//! manifest.

use crate::dynamic::{self, DynamicError, verify::DynamicVerifyError};
use crate::manifest::Materialize;
use crate::materialize::MaterializeError;
use crate::plan::{Changes, Plan};
use crate::verify::{self, AttrTarget, VerifyError};

/// Why a backend could not be chosen, or could not make its changes or
/// verify them.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(
        "--backend dynamic needs --target FILE[:ATTRPATH]: the derivations to evaluate without import-from-derivation"
    )]
    DynamicNeedsTarget,
    #[error(
        "--backend materialized needs --target FILE[:ATTRPATH]: what to evaluate to find the package sets to build for"
    )]
    MaterializedNeedsTarget,
    #[error("--system is for the materialized backend (--backend materialized)")]
    SystemNotMaterialized,
    #[error(transparent)]
    Materialize(#[from] MaterializeError),
    #[error(transparent)]
    Dynamic(#[from] DynamicError),
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error(transparent)]
    DynamicVerify(#[from] DynamicVerifyError),
}

impl BackendError {
    /// Whether the error is the caller's (a usage error), not the run's.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            BackendError::DynamicNeedsTarget
                | BackendError::MaterializedNeedsTarget
                | BackendError::SystemNotMaterialized
        )
    }
}

/// Which backend, as asked for on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Built during evaluation, behind the batch's barriers.
    Ifd,
    /// Built now and checked in next to the manifest: no IFD at evaluation.
    Materialized,
    /// Dynamic derivations (`builtins.outputOf`).
    Dynamic,
}

/// A backend's changes, and what it found that its report and its
/// verification need (the dynamic backend's eligible derivations).
#[derive(Default)]
pub struct Applied {
    pub changes: Changes,
    pub dynamic: Option<dynamic::Eligibility>,
}

/// One backend.
pub trait Backend {
    /// Its changes to `plan` (which it does not change).
    fn changes(&self, plan: &Plan) -> Result<Applied, BackendError>;

    /// Evaluate `targets` before and after `plan` (with `applied` merged),
    /// as this backend's evaluation sees them.
    fn verify(
        &self,
        plan: &Plan,
        applied: &Applied,
        targets: &[AttrTarget],
    ) -> Result<verify::Comparison, BackendError> {
        let _ = applied;
        verify::compare(plan, targets).map_err(BackendError::from)
    }

    /// The materialized backend's settings, when it is that one.
    fn materialize(&self) -> Option<&Materialize> {
        None
    }
}

/// Built during evaluation: removes what another backend generated.
pub struct Ifd;

/// Built now, checked in (`--system`: only those systems' platforms).
pub struct Materialized {
    pub conf: Materialize,
    pub systems: Vec<String>,
}

/// Dynamic derivations for these targets.
pub struct Dynamic(pub Vec<AttrTarget>);

impl Backend for Ifd {
    fn changes(&self, plan: &Plan) -> Result<Applied, BackendError> {
        let m = crate::materialize::changes(plan, None, &[]).map_err(BackendError::from)?;
        let (d, _) = dynamic::changes(plan, None).map_err(BackendError::from)?;
        Ok(Applied {
            changes: m.and(d),
            dynamic: None,
        })
    }
}

impl Backend for Materialized {
    fn changes(&self, plan: &Plan) -> Result<Applied, BackendError> {
        let (d, _) = dynamic::changes(plan, None).map_err(BackendError::from)?;
        let m = crate::materialize::changes(plan, Some(&self.conf), &self.systems)
            .map_err(BackendError::from)?;
        Ok(Applied {
            changes: d.and(m),
            dynamic: None,
        })
    }

    fn materialize(&self) -> Option<&Materialize> {
        Some(&self.conf)
    }
}

impl Backend for Dynamic {
    fn changes(&self, plan: &Plan) -> Result<Applied, BackendError> {
        // Evaluated with the materialized backend's leftovers gone.
        let m = crate::materialize::changes(plan, None, &[]).map_err(BackendError::from)?;
        let staged = plan.clone().with(m.clone());
        let (d, outcome) = dynamic::changes(&staged, Some(&self.0)).map_err(BackendError::from)?;
        Ok(Applied {
            changes: m.and(d),
            dynamic: outcome,
        })
    }

    fn verify(
        &self,
        plan: &Plan,
        applied: &Applied,
        targets: &[AttrTarget],
    ) -> Result<verify::Comparison, BackendError> {
        match &applied.dynamic {
            Some(outcome) => {
                dynamic::verify::compare(plan, outcome, targets).map_err(BackendError::from)
            }
            None => verify::compare(plan, targets).map_err(BackendError::from),
        }
    }
}

/// The backend `kind` with `targets` (`FILE[:ATTRPATH]` to evaluate), or,
/// when no kind is given, the one the repository already uses (the
/// dynamic backend's generated file, the manifest's `materialize`), else
/// `Ifd`. `systems`: the materialized backend's `--system`. An error says
/// what is missing.
pub fn choose(
    kind: Option<Kind>,
    targets: &[AttrTarget],
    systems: &[String],
    plan: &Plan,
) -> Result<Box<dyn Backend>, BackendError> {
    let recorded = || Some(dynamic::recorded(plan)).filter(|t| !t.is_empty());
    let materialized = |conf: Materialize| -> Box<dyn Backend> {
        Box::new(Materialized {
            conf,
            systems: systems.to_vec(),
        })
    };
    let backend: Box<dyn Backend> = match kind {
        None => match (recorded(), plan.manifest.materialize.clone()) {
            (Some(t), _) => Box::new(Dynamic(t)),
            (None, Some(m)) => materialized(m),
            (None, None) => Box::new(Ifd),
        },
        Some(Kind::Ifd) => Box::new(Ifd),
        Some(Kind::Dynamic) => match (targets, recorded()) {
            ([], None) => {
                return Err(BackendError::DynamicNeedsTarget);
            }
            ([], Some(t)) => Box::new(Dynamic(t)),
            (t, _) => Box::new(Dynamic(t.to_vec())),
        },
        Some(Kind::Materialized) => {
            let targets: Vec<String> = if targets.is_empty() {
                plan.manifest
                    .materialize
                    .clone()
                    .map(|m| m.targets)
                    .unwrap_or_default()
            } else {
                targets.iter().map(ToString::to_string).collect()
            };
            if targets.is_empty() {
                return Err(BackendError::MaterializedNeedsTarget);
            }
            materialized(Materialize::new(&plan.manifest_file, targets))
        }
    };
    if !systems.is_empty() && backend.materialize().is_none() {
        return Err(BackendError::SystemNotMaterialized);
    }
    Ok(backend)
}
