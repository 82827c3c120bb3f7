//! `builtins.fetchTarball` / `fetchurl` / `fetchGit` / `fetchTree`: they
//! download during evaluation; without a hash or rev they are impure too.

use crate::detect::multiplicity::resolve_literal;
use crate::detect::multiplicity::literal_arg;
use crate::detect::reason::{Code};
use super::{Args, Batch, Finding, Kind, KindDecl};
use crate::syntax::scope::refers_to_builtin_or_alias;
use crate::syntax::{Call, Callee, attr_name, attrset_get, string_literal, unparen};
use rnix::{SyntaxKind::*, SyntaxNode};
use serde::Serialize;

const FETCHERS: &[&str] = &[
    "fetchTarball",
    "fetchurl",
    "fetchGit",
    "fetchTree",
    "fetchMercurial",
];

/// The `builtin-fetch` kind, declared once (the registry in `kinds/mod.rs` lists it).
pub const KIND: KindDecl = KindDecl {
    name: "builtin-fetch",
    callees: &[
        "fetchTarball",
        "fetchurl",
        "fetchGit",
        "fetchTree",
        "fetchMercurial",
    ],
    help: "Builtin fetchers download during evaluation, blocking it; without a pinned hash or rev they are also impure. Prefer a fixed-output fetcher (pkgs.fetchurl, fetchFromGitHub) or pin the hash.",
    detect,
    batch: Batch::No,
    target: None,
};

/// The fetcher, whether a hash or rev pins it (`pinned_known: false` when
/// that cannot be told here), and its url when literal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fetch {
    pub function: String,
    pub pinned: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned_known: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

pub fn detect(call: &Call, callee: &Callee) -> Option<Finding> {
    let fname = *FETCHERS
        .iter()
        .find(|n| refers_to_builtin_or_alias(callee, n))?;
    let arg = call.arg(0).map(resolve_literal)?;
    // What the argument says: its url (when literal) and whether a hash or
    // rev pins it (None: cannot be told here).
    let (url, pinned) = match arg.kind() {
        NODE_STRING => (string_literal(&arg), Some(false)),
        // An unquoted URL: `fetchTarball https://…/x.tar.gz`.
        NODE_LITERAL => (Some(arg.text().to_string()), Some(false)),
        _ => match keys(&arg) {
            Some((keys, complete)) => {
                let has = |k: &str| keys.iter().any(|x| x == k);
                let found = match fname {
                    "fetchGit" | "fetchMercurial" | "fetchTree" => has("rev") || has("narHash"),
                    _ => has("sha256") || has("hash") || has("narHash"),
                };
                let url = attrs(&arg)
                    .into_iter()
                    .find_map(|set| attrset_get(&set, "url"))
                    .and_then(|u| literal_arg(&u));
                (url, (found || complete).then_some(found))
            }
            None => (None, None),
        },
    };
    let message = match pinned {
        Some(true) => format!(
            "builtins.{fname} (pinned) downloads during evaluation when not yet in the store"
        ),
        Some(false) => format!(
            "builtins.{fname} without a pinned hash or rev downloads during evaluation, impurely"
        ),
        None => format!(
            "builtins.{fname} downloads during evaluation (whether a hash or rev pins it is not known here)"
        ),
    };
    let f = Finding::new(Kind::BuiltinFetch, 1, message)
        .with(Args::BuiltinFetch(Fetch {
            function: fname.to_string(),
            pinned: pinned == Some(true),
            pinned_known: pinned.is_none().then_some(false),
            url,
        }))
        .not_batchable(
            Code::NotSupported,
            "builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher",
        );
    Some(f)
}

/// The attribute sets an argument is made of: `{ … }`, `{ … } // { … }`,
/// `lib.optionalAttrs c { … }`, with names bound to them followed.
fn attrs(arg: &SyntaxNode) -> Vec<SyntaxNode> {
    let mut out = Vec::new();
    let mut todo = vec![resolve_literal(arg)];
    while let Some(n) = todo.pop() {
        let n = unparen(&n);
        match n.kind() {
            NODE_ATTR_SET => out.push(n),
            NODE_BIN_OP if n.children_with_tokens().any(|c| c.kind() == TOKEN_UPDATE) => {
                todo.extend(n.children().map(|c| resolve_literal(&c)));
            }
            NODE_APPLY => {
                if let Some(call) = Call::flatten(&n)
                    && Callee::of(&call.head).is_some_and(|c| c.name() == "optionalAttrs")
                    && let Some(set) = call.arg(1)
                {
                    todo.push(resolve_literal(set));
                }
            }
            _ => {}
        }
    }
    out
}

/// The keys an argument is known to have, and whether that list is
/// complete (every part of it is a literal set with static keys).
fn keys(arg: &SyntaxNode) -> Option<(Vec<String>, bool)> {
    let mut complete = true;
    let mut keys = Vec::new();
    let mut todo = vec![resolve_literal(arg)];
    let mut any = false;
    while let Some(n) = todo.pop() {
        let n = unparen(&n);
        match n.kind() {
            NODE_ATTR_SET => {
                any = true;
                for entry in n.children() {
                    match entry.kind() {
                        NODE_ATTRPATH_VALUE => {
                            match entry
                                .first_child()
                                .and_then(|p| p.first_child())
                                .and_then(|a| key_name(&a))
                            {
                                Some(k) => keys.push(k),
                                None => complete = false,
                            }
                        }
                        NODE_INHERIT => keys.extend(
                            entry
                                .children()
                                .filter(|c| c.kind() != NODE_INHERIT_FROM)
                                .filter_map(|a| attr_name(&a)),
                        ),
                        _ => {}
                    }
                }
            }
            NODE_BIN_OP if n.children_with_tokens().any(|c| c.kind() == TOKEN_UPDATE) => {
                todo.extend(n.children().map(|c| resolve_literal(&c)));
            }
            // Anything else (`lib.optionalAttrs c { … }`, a parameter): keys
            // that may or may not be there.
            _ => complete = false,
        }
    }
    any.then_some((keys, complete))
}

/// `rev`, `"rev"`, or a computed key whose value is a literal: `${"rev"}`.
fn key_name(attr: &SyntaxNode) -> Option<String> {
    attr_name(attr).or_else(|| {
        (attr.kind() == NODE_DYNAMIC)
            .then(|| attr.first_child())
            .flatten()
            .and_then(|inner| string_literal(&inner))
    })
}
