//! `callHackageDirect { pkg; ver; sha256; } ARGS`.

use super::multiplicity::resolve_literal;
use super::syntax::{Call, Callee, attrset_get};
use super::{Finding, Kind, is_package_set_function, literal_arg};

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
        _ => f.not_batchable("pkg, ver and sha256 are not all literal strings"),
    })
}
