//! What one file cannot batch twice, decided over the whole file in source
//! order as `rewrite` plans it (the first site wins; a later one is left
//! alone with the same reason in `scan`, `check` and `rewrite`):
//! - a `callHackageDirect` name with another version or hash (nixlib keys
//!   direct entries by package name);
//! - a `callCabal2nix` name whose source or options are not literals and
//!   differ within one overlay: the overlay's batch binding gives them by
//!   package name (`ifdBatch = import … { NAME = SRC; }`), one per name.
//!
//! Path sources and literal options are not conflicts: each distinct name,
//! source and options is an entry of its own (`manifest::FileEntries`).

use super::kinds::Args;
use super::kinds::cabal2nix::SrcKind;
use super::overlay;
use super::reason::{Code, Reason};
use super::site::Site;
use crate::syntax::{Call, Callee, unparen};
use std::collections::BTreeMap;

/// Mark the later of two conflicting sites not batchable.
pub fn mark(sites: &mut [Site], calls: &[Call]) {
    let mut direct: BTreeMap<String, (String, String)> = BTreeMap::new();
    // (overlay anchor, set, key) → the expression's text, whitespace folded.
    let mut given: BTreeMap<(usize, String, String), String> = BTreeMap::new();
    for (site, call) in sites.iter_mut().zip(calls) {
        if !site.batchable {
            continue;
        }
        let conflict = match &site.args {
            Args::HackageDirect(p) => {
                let rows: Vec<(String, String, String)> = match (&p.name, &p.version, &p.sha256) {
                    (Some(n), Some(v), Some(h)) => vec![(n.clone(), v.clone(), h.clone())],
                    _ => p
                        .elements
                        .iter()
                        .flatten()
                        .filter_map(|e| {
                            Some((e.name.clone(), e.version.clone(), e.sha256.clone()?))
                        })
                        .collect(),
                };
                rows.into_iter().find_map(|(n, v, h)| match direct.get(&n) {
                    Some((v0, h0)) if (v0, h0) != (&v, &h) => Some(format!(
                        "`{n}` is already in the batch as callHackageDirect {v0}"
                    )),
                    Some(_) => None,
                    None => {
                        direct.insert(n, (v, h));
                        None
                    }
                })
            }
            Args::Cabal2nix(c) => {
                let route = Callee::resolved(&call.head)
                    .and_then(|callee| overlay::batchable(call, &callee).ok().flatten());
                match (&c.name, route) {
                    (Some(name), Some(route)) => {
                        let at = usize::from(route.overlay.anchor().text_range().start());
                        let set = route.set.unwrap_or_default();
                        let mut exprs = Vec::new();
                        if c.src_kind != Some(SrcKind::Path)
                            && let Some(src) = call.arg(1)
                        {
                            exprs.push((name.clone(), fold(&unparen(src).text().to_string())));
                        }
                        if c.options_expr.is_some()
                            && let Some(opts) = call.arg(2)
                        {
                            exprs.push((
                                format!("options:{name}"),
                                fold(&unparen(opts).text().to_string()),
                            ));
                        }
                        exprs.into_iter().find_map(|(key, text)| {
                            match given.get(&(at, set.clone(), key.clone())) {
                                Some(other) if *other != text => Some(format!(
                                    "`{name}` is already in this overlay's batch with another value ({other})"
                                )),
                                Some(_) => None,
                                None => {
                                    given.insert((at, set.clone(), key), text);
                                    None
                                }
                            }
                        })
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(message) = conflict {
            let r = Reason::new(Code::Conflict, message);
            site.batchable = false;
            site.reason_code = Some(r.code);
            site.reason = Some(r.message);
        }
    }
}

/// Whitespace runs folded to one space.
fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
