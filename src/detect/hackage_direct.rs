//! `callHackageDirect { pkg; ver; sha256; } ARGS`.

use super::multiplicity::resolve_literal;
use super::scope::{Binding, resolve_name};
use super::syntax::{Call, Callee, attrset_get, ident_text, unparen};
use super::{Batch, KindDecl, Finding, Kind, is_package_set_function, literal_arg};
use rnix::{SyntaxKind::*, SyntaxNode};
use serde_json::Value;

/// The `hackage-direct` kind, declared once (the registry in `detect/mod.rs` lists it).
pub const KIND: KindDecl = KindDecl {
    name: "hackage-direct",
    callees: &["callHackageDirect"],
    help: "callHackageDirect fetches the package tarball from Hackage and runs cabal2nix on it during evaluation. Route it through an ifd-batch batch.",
    detect,
    batch: Batch::Haskell,
};

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
        (Some(p), Some(v), Some(h)) => f.arg("name", p).arg("version", v).arg("sha256", h),
        _ => match spec.as_ref().and_then(helper_calls) {
            Some(elements) => {
                let calls = elements.len();
                let mut f = f.arg("elements", Value::Array(elements));
                f.rounds = calls;
                f
            }
            None => f.not_batchable("pkg, ver and sha256 are not all literal strings"),
        },
    })
}

/// `hackage = pkg: ver: sha256: self.callHackageDirect { inherit pkg ver sha256; } { };`
/// (any of the fields a literal or a parameter of the helper) called with
/// literals: one element per call.
fn helper_calls(spec: &SyntaxNode) -> Option<Vec<Value>> {
    const FIELDS: [(&str, &str); 3] = [("pkg", "name"), ("ver", "version"), ("sha256", "sha256")];
    // Each field: its literal, or the identifier naming a helper parameter.
    let mut literal = Vec::new();
    let mut params = Vec::new();
    for (field, _) in FIELDS {
        let node = field_node(spec, field)?;
        match literal_arg(&node) {
            Some(l) => literal.push(Some(l)),
            None => {
                let n = unparen(&node);
                let name = ident_text(&n)?;
                if !matches!(resolve_name(&n, &name), Binding::Param) {
                    return None;
                }
                literal.push(None);
                params.push(n);
            }
        }
    }
    let rows = super::helper::literal_args(&params)?;
    Some(
        rows.into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                let mut e = serde_json::Map::new();
                for ((_, key), lit) in FIELDS.iter().zip(&literal) {
                    let v = lit.clone().or_else(|| row.next()).unwrap_or_default();
                    e.insert((*key).to_string(), Value::String(v));
                }
                Value::Object(e)
            })
            .collect(),
    )
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
