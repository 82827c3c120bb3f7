//! `callCabal2nix NAME SRC ARGS`, `callCabal2nixWithOptions NAME SRC OPTS ARGS`,
//! `haskellSrc2nix { name; src; }`, `developPackage { root; … }`.

use super::{Args, Batch, Finding, Kind, KindDecl, is_package_set_function};
use crate::detect::drv::PRODUCERS;
use crate::detect::multiplicity::literal_arg;
use crate::detect::multiplicity::resolve_literal;
use crate::detect::reason::{Code, Reason};
use crate::syntax::{Call, Callee, attrset_get, is_path, unparen};
use rnix::{SyntaxKind::*, SyntaxNode};
use serde::Serialize;

/// The `cabal2nix` kind, declared once (the registry in `kinds/mod.rs` lists it).
pub const KIND: KindDecl = KindDecl {
    name: "cabal2nix",
    callees: &[
        "callCabal2nix",
        "callCabal2nixWithOptions",
        "haskellSrc2nix",
        "developPackage",
    ],
    help: "callCabal2nix / haskellSrc2nix / developPackage run cabal2nix on a source during evaluation (import from derivation), one build per call, serially. Route it through an ifd-batch batch.",
    detect,
    batch: Batch::Haskell,
    target: None,
};

pub fn detect(call: &Call, callee: &Callee) -> Option<Finding> {
    let fname = callee.name();
    if !matches!(
        fname,
        "callCabal2nix" | "callCabal2nixWithOptions" | "haskellSrc2nix" | "developPackage"
    ) || !is_package_set_function(callee)
    {
        return None;
    }
    let (name, src, opts, arity) = match fname {
        "callCabal2nix" => (
            call.arg(0).and_then(literal_arg),
            call.arg(1).cloned(),
            None,
            3,
        ),
        "callCabal2nixWithOptions" => (
            call.arg(0).and_then(literal_arg),
            call.arg(1).cloned(),
            call.arg(2).cloned(),
            4,
        ),
        "haskellSrc2nix" => {
            let spec = call.arg(0).map(resolve_literal);
            let get = |k: &str| spec.as_ref().and_then(|s| attrset_get(s, k));
            (
                get("name").and_then(|n| literal_arg(&n)),
                get("src"),
                None,
                1,
            )
        }
        _ => {
            let spec = call.arg(0).map(resolve_literal);
            let get = |k: &str| spec.as_ref().and_then(|s| attrset_get(s, k));
            (
                get("name").and_then(|n| literal_arg(&n)),
                get("root"),
                None,
                1,
            )
        }
    };
    let shown = name.clone().unwrap_or_else(|| "a source".into());
    let message = format!("{fname} runs cabal2nix on {shown} during evaluation");
    let f = Finding::new(Kind::Cabal2nix, call.args.len().min(arity), message);
    let src_kind = src.as_ref().map(source_kind);
    let mut args = Source {
        function: fname.to_string(),
        name: name.clone(),
        src: src.as_ref().map(|s| unparen(s).text().to_string()),
        src_kind,
        options: None,
        options_expr: None,
    };
    // Options that are not a literal (`lib.concatStringsSep " " flags`) are
    // copied into the overlay's batch binding, as sources are.
    let caller_options = match &opts {
        Some(o) => match literal_arg(o) {
            Some(lit) => {
                args.options = Some(lit);
                None
            }
            None => {
                args.options_expr = Some(unparen(o).text().to_string());
                Some(o)
            }
        },
        None => None,
    };
    let f = f.with(Args::Cabal2nix(args));
    // Whatever is copied to the binding must mean the same there.
    let route = crate::detect::overlay::batchable(call, callee)
        .ok()
        .flatten();
    let movable = |expr: &SyntaxNode, uses: &str| match &route {
        Some(route) => crate::detect::overlay::movable(expr, &route.overlay, uses)
            .map_err(|m| Reason::new(Code::SourceNotMovable, m.to_string())),
        None => Ok(()),
    };
    let f = match caller_options {
        Some(o) => f.batchable_if(movable(o, "the options use")),
        None => f,
    };
    if f.batchable.is_err() {
        return Some(f);
    }
    Some(match fname {
        "haskellSrc2nix" => f.not_batchable(
            Code::NotSupported,
            "haskellSrc2nix is not batched yet (use callCabal2nix)",
        ),
        "developPackage" => f.not_batchable(
            Code::NotSupported,
            "developPackage builds a development shell; not batched",
        ),
        _ if name.is_none() => {
            f.not_batchable(Code::NotLiteral, "package name is not a literal string")
        }
        _ if call.args.len() < arity - 1 => f.not_batchable(
            Code::PartialApplication,
            "partial application: source not given here",
        ),
        _ => match (&src, src_kind) {
            (Some(_), Some(SrcKind::Path)) => f,
            // Any other source is copied into the overlay's batch binding.
            (Some(src), _) => f.batchable_if(movable(src, "the source uses")),
            (None, _) => f.not_batchable(Code::PartialApplication, "source not given here"),
        },
    })
}

/// What a `callCabal2nix` source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SrcKind {
    /// A path literal (`./x`): it goes into the manifest.
    Path,
    /// A fixed-output fetcher call.
    Fetched,
    /// Any other expression.
    Expression,
}

/// The function called, the package name, and its source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    pub function: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The source expression's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_kind: Option<SrcKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<String>,
    /// Options that are not a literal: the expression's text (given to the
    /// batch by the overlay's binding).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options_expr: Option<String>,
}

/// What kind of source `src` is.
fn source_kind(src: &SyntaxNode) -> SrcKind {
    let s = unparen(src);
    if is_path(&s) && s.kind() != NODE_PATH_SEARCH {
        return SrcKind::Path;
    }
    if s.kind() == NODE_APPLY
        && let Some(c) = Call::flatten(&s)
        && let Some(callee) = Callee::of(&c.head)
        && !callee.is_builtins()
        && callee.name().starts_with("fetch")
        && PRODUCERS.contains(&callee.name())
    {
        return SrcKind::Fetched;
    }
    SrcKind::Expression
}
