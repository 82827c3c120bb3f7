//! `callHackage NAME VERSION ARGS` through any package-set reference.

use crate::detect::helper::param;
use crate::detect::multiplicity::{collection_after, per_element, resolve_literal};
use crate::detect::multiplicity::literal_arg;
use crate::detect::reason::{Code};
use super::{Args, Batch, Finding, Kind, KindDecl, Pin, is_package_set_function};
use crate::syntax::{Call, Callee, attrset_entries, string_literal, unparen};
use rnix::SyntaxKind::*;
use serde::Serialize;

/// The `hackage` kind, declared once (the registry in `kinds/mod.rs` lists it).
pub const KIND: KindDecl = KindDecl {
    name: "hackage",
    callees: &["callHackage"],
    help: "callHackage extracts the package's .cabal file from all-cabal-hashes (a full pass over the tarball) and runs cabal2nix, during evaluation, once per package, serially. Route it through an ifd-batch batch so all packages are generated in one build.",
    detect,
    batch: Batch::Haskell,
    target: None,
};

/// The package a site names, or the packages a per-element site or a
/// helper's calls name (`elements`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pins {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elements: Option<Vec<Pin>>,
}

impl Pins {
    fn each(elements: Vec<Pin>) -> Pins {
        Pins {
            name: None,
            version: None,
            elements: Some(elements),
        }
    }
}

pub fn detect(call: &Call, callee: &Callee) -> Option<Finding> {
    if callee.name() != "callHackage" || !is_package_set_function(callee) {
        return None;
    }
    let name = call.arg(0).and_then(literal_arg);
    let version = call.arg(1).and_then(literal_arg);
    let message = match (&name, &version) {
        (Some(n), Some(v)) => format!(
            "callHackage {n}-{v} extracts from all-cabal-hashes and runs cabal2nix during evaluation"
        ),
        _ => "callHackage extracts from all-cabal-hashes and runs cabal2nix during evaluation"
            .to_string(),
    };
    let f = Finding::new(Kind::Hackage, call.args.len().min(3), message);
    if call.args.len() < 2 {
        return Some(f.not_batchable(
            Code::PartialApplication,
            "partial application: name or version not given here",
        ));
    }
    Some(match (name, version) {
        (Some(n), Some(v)) => f.with(Args::Hackage(Pins {
            name: Some(n),
            version: Some(v),
            elements: None,
        })),
        _ => match (pins(call), helper_calls(call)) {
            (Some(elements), _) => f.with(Args::Hackage(Pins::each(elements))),
            (None, Some(elements)) => {
                let calls = elements.len();
                let mut f = f.with(Args::Hackage(Pins::each(elements)));
                f.rounds = calls;
                f
            }
            (None, None) => f.not_batchable(
                Code::NotLiteral,
                "package name or version is not a literal string (nor a name bound to one, nor a literal set mapped over)",
            ),
        },
    })
}

/// `mapAttrs (name: version: self.callHackage name version { }) { a = "1"; … }`:
/// the name and version come from a literal set, so the site is batchable
/// with one entry per element.
fn pins(call: &Call) -> Option<Vec<Pin>> {
    let per = per_element(&call.node)?;
    let head = Callee::of(&per.call.head)?;
    if head.name() != "mapAttrs" {
        return None;
    }
    let (n_ident, v_ident) = (param(call.arg(0)?)?, param(call.arg(1)?)?);
    // The lambda must be `N: V: …` with N and V the idents used.
    let outer_param = per.lambda.first_child()?.first_child()?;
    let inner = per.lambda.children().nth(1).map(|b| unparen(&b))?;
    let inner_param = (inner.kind() == NODE_LAMBDA)
        .then(|| inner.first_child()?.first_child())
        .flatten()?;
    if outer_param.text() != n_ident.text() || inner_param.text() != v_ident.text() {
        return None;
    }
    let set = resolve_literal(&collection_after(&per.call, &per.lambda)?);
    let mut out = Vec::new();
    for (name, value) in attrset_entries(&set)? {
        let version = string_literal(&value?)?;
        out.push(Pin {
            name,
            version,
            sha256: None,
        });
    }
    Some(out)
}

/// `hackage = name: version: self.callHackage name version { };` called
/// with literals (`hackage "a" "1.0"`): one element per call.
fn helper_calls(call: &Call) -> Option<Vec<Pin>> {
    let (n, v) = (param(call.arg(0)?)?, param(call.arg(1)?)?);
    let rows = crate::detect::helper::literal_args(&[n, v])?;
    rows.into_iter()
        .map(|r| match <[String; 2]>::try_from(r) {
            Ok([name, version]) => Some(Pin {
                name,
                version,
                sha256: None,
            }),
            Err(_) => None,
        })
        .collect()
}
