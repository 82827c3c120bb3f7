//! The backends: where the batched sites' generated Nix comes from. One
//! enum the rewrite dispatches on; each variant's work lives in its module
//! (`materialize`, `dynamic`), nixlib reads the choice from the manifest.

use super::Plan;
use crate::dynamic;
use crate::manifest::Materialize;
use crate::verify::{self, Target};

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

/// A backend with what it needs.
#[derive(Debug, Clone)]
pub enum Backend {
    Ifd,
    Materialized(Materialize),
    Dynamic(Vec<Target>),
}

impl Backend {
    /// The backend `kind` with `targets` (`FILE[:ATTRPATH]` to evaluate), or,
    /// when no kind is given, the one the repository already uses (the
    /// dynamic backend's generated file, the manifest's `materialize`), else
    /// `Ifd`. An error says what is missing.
    pub fn choose(kind: Option<Kind>, targets: &[Target], plan: &Plan) -> Result<Backend, String> {
        let recorded = || Some(dynamic::recorded(plan)).filter(|t| !t.is_empty());
        Ok(match kind {
            None => match (recorded(), plan.manifest.materialize.clone()) {
                (Some(t), _) => Backend::Dynamic(t),
                (None, Some(m)) => Backend::Materialized(m),
                (None, None) => Backend::Ifd,
            },
            Some(Kind::Ifd) => Backend::Ifd,
            Some(Kind::Dynamic) => match (targets, recorded()) {
                ([], None) => {
                    return Err("--backend dynamic needs --target FILE[:ATTRPATH]: the derivations to evaluate without import-from-derivation".into());
                }
                ([], Some(t)) => Backend::Dynamic(t),
                (t, _) => Backend::Dynamic(t.to_vec()),
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
                    return Err("--backend materialized needs --target FILE[:ATTRPATH]: what to evaluate to find the package sets to build for".into());
                }
                Backend::Materialized(Materialize::new(&plan.manifest_file, targets))
            }
        })
    }

    /// Plan this backend's files into `plan`, and the removal of what
    /// another backend left.
    pub fn apply(&self, plan: &mut Plan) -> Result<Option<dynamic::Outcome>, String> {
        let materialize = match self {
            Backend::Materialized(m) => Some(m.clone()),
            _ => None,
        };
        crate::materialize::apply(plan, materialize)?;
        let targets = match self {
            Backend::Dynamic(t) => Some(t.as_slice()),
            _ => None,
        };
        dynamic::apply(plan, targets)
    }

    /// Evaluate `targets` before and after the plan, as this backend's
    /// evaluation sees them (`outcome`: what `apply` returned).
    pub fn verify(
        plan: &Plan,
        outcome: Option<&dynamic::Outcome>,
        targets: &[Target],
    ) -> Result<verify::Report, String> {
        match outcome {
            Some(d) => dynamic::verify(plan, d, targets),
            None => verify::verify(plan, targets),
        }
    }
}
