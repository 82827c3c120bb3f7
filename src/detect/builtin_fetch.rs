//! `builtins.fetchTarball` / `fetchurl` / `fetchGit` / `fetchTree`: they
//! download during evaluation; without a hash or rev they are impure too.

use super::multiplicity::resolve_literal;
use super::scope::refers_to_builtin;
use super::syntax::{Call, Callee, attrset_entries, attrset_get, string_literal};
use super::{Confidence, Finding, Kind, literal_arg};
use rnix::SyntaxKind::*;

const FETCHERS: &[&str] = &[
    "fetchTarball",
    "fetchurl",
    "fetchGit",
    "fetchTree",
    "fetchMercurial",
];

pub fn detect(call: &Call, callee: &Callee) -> Option<Finding> {
    let fname = *FETCHERS.iter().find(|n| refers_to_builtin(callee, n))?;
    let arg = call.arg(0).map(resolve_literal)?;
    let (url, pinned, decided) = match arg.kind() {
        NODE_STRING => (string_literal(&arg), false, true),
        NODE_ATTR_SET => {
            let keys: Vec<String> = attrset_entries(&arg)
                .unwrap_or_default()
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            let has = |k: &str| keys.iter().any(|x| x == k);
            let pinned = match fname {
                "fetchGit" | "fetchMercurial" => has("rev") || has("narHash"),
                "fetchTree" => has("narHash") || has("rev"),
                _ => has("sha256") || has("hash") || has("narHash"),
            };
            let url = attrset_get(&arg, "url").and_then(|u| literal_arg(&u));
            (url, pinned, true)
        }
        _ => (None, false, false),
    };
    let message = if pinned {
        format!("builtins.{fname} (pinned) downloads during evaluation when not yet in the store")
    } else {
        format!(
            "builtins.{fname} without a pinned hash or rev downloads during evaluation, impurely"
        )
    };
    let mut f = Finding::new(Kind::BuiltinFetch, 1, message)
        .arg("function", fname)
        .arg("pinned", pinned)
        .not_batchable(
            "builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher",
        );
    if let Some(u) = url {
        f = f.arg("url", u);
    }
    if !decided {
        f = f.confidence(Confidence::Possible);
    }
    Some(f)
}
