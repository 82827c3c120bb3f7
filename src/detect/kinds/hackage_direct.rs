//! `callHackageDirect { pkg; ver; sha256; } ARGS`.

use crate::detect::multiplicity::resolve_literal;
use crate::detect::multiplicity::literal_arg;
use crate::detect::reason::{Code};
use super::{Args, Batch, Finding, Kind, KindDecl, Pin, is_package_set_function};
use crate::syntax::{Call, Callee, attrset_get, ident_text};
use rnix::{SyntaxKind::*, SyntaxNode};
use serde::Serialize;

/// The `hackage-direct` kind, declared once (the registry in `kinds/mod.rs` lists it).
pub const KIND: KindDecl = KindDecl {
    name: "hackage-direct",
    callees: &["callHackageDirect"],
    help: "callHackageDirect fetches the package tarball from Hackage and runs cabal2nix on it during evaluation. Route it through an ifd-batch batch.",
    detect,
    batch: Batch::Haskell,
    target: None,
};

/// The package pinned (`pkg`, `ver`, `sha256`), or the packages a helper's
/// calls pin (`elements`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DirectPins {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elements: Option<Vec<Pin>>,
}

pub fn detect(call: &Call, callee: &Callee) -> Option<Finding> {
    if callee.name() != "callHackageDirect" || !is_package_set_function(callee) {
        return None;
    }
    let spec = call.arg(0).map(resolve_literal);
    let field = |k: &str| {
        spec.as_ref()
            .and_then(|s| attrset_get(s, k))
            .and_then(|v| literal_arg(&v))
    };
    let (pkg, ver, sha256) = (field("pkg"), field("ver"), field("sha256"));
    let message = match (&pkg, &ver) {
        (Some(p), Some(v)) => format!(
            "callHackageDirect fetches {p}-{v} from Hackage and runs cabal2nix during evaluation"
        ),
        _ => "callHackageDirect fetches from Hackage and runs cabal2nix during evaluation".into(),
    };
    let f = Finding::new(Kind::HackageDirect, call.args.len().min(2), message);
    Some(match (pkg, ver, sha256) {
        (Some(p), Some(v), Some(h)) => f.with(Args::HackageDirect(DirectPins {
            name: Some(p),
            version: Some(v),
            sha256: Some(h),
            elements: None,
        })),
        _ => match spec.as_ref().and_then(helper_calls) {
            Some(elements) => {
                let calls = elements.len();
                let mut f = f.with(Args::HackageDirect(DirectPins {
                    name: None,
                    version: None,
                    sha256: None,
                    elements: Some(elements),
                }));
                f.rounds = calls;
                f
            }
            None => f.not_batchable(
                Code::NotLiteral,
                "pkg, ver and sha256 are not all literal strings",
            ),
        },
    })
}

/// `hackage = pkg: ver: sha256: self.callHackageDirect { inherit pkg ver sha256; } { };`
/// (any of the fields a literal or a parameter of the helper) called with
/// literals: one element per call.
fn helper_calls(spec: &SyntaxNode) -> Option<Vec<Pin>> {
    const FIELDS: [&str; 3] = ["pkg", "ver", "sha256"];
    // Each field: its literal, or the identifier naming a helper parameter.
    let mut literal: [Option<String>; 3] = Default::default();
    let mut params = Vec::new();
    for (i, field) in FIELDS.into_iter().enumerate() {
        let node = field_node(spec, field)?;
        match literal_arg(&node) {
            Some(l) => literal[i] = Some(l),
            None => params.push(crate::detect::helper::param(&node)?),
        }
    }
    let rows = crate::detect::helper::literal_args(&params)?;
    rows.into_iter()
        .map(|row| {
            let mut row = row.into_iter();
            let [name, version, sha256] = literal.clone().map(|lit| lit.or_else(|| row.next()));
            Some(Pin {
                name: name?,
                version: version?,
                sha256: Some(sha256?),
            })
        })
        .collect()
}

/// The value of `field` in the set literal `spec`: `field = v;`, or the name
/// itself for `inherit field;`.
fn field_node(spec: &SyntaxNode, field: &str) -> Option<SyntaxNode> {
    if let Some(v) = attrset_get(spec, field) {
        return Some(v);
    }
    spec.children()
        .filter(|c| c.kind() == NODE_INHERIT)
        .filter(|i| !i.children().any(|c| c.kind() == NODE_INHERIT_FROM))
        .flat_map(|i| i.children().collect::<Vec<_>>())
        .find(|a| ident_text(a).as_deref() == Some(field))
}
