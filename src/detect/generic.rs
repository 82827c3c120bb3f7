//! Generic import-from-derivation batching: which `import-drv` / `read-drv`
//! sites can share one barrier, and where it is bound. The one definition
//! `scan` (batchable or not, and why) and `rewrite` (the edit) both use.
//!
//! A site is batchable when the derivation it reads is named statically —
//! a name bound in a `let` / `rec` set or a lambda parameter, or a selection
//! from one (`pkgs.x`, `gen.schema`) — and that name means the same thing
//! at the innermost `let … in` around the site (its *group scope*, where
//! the rewrite binds `ifdBatchGroup = (import …/ifd-batch.nix).group [ … ];`).
//! Each site's target is then wrapped, `import (ifdBatchGroup.ready a)`:
//! `ready` forces the group once, so the first site forced builds every
//! derivation of its group in one go, and returns its argument unchanged.
//!
//! Groups are decided over the whole file ([`layer`]): a member whose value
//! reaches a site (through `let` bindings, `inherit (x)`, `with`, helper
//! functions) must not share that site's barrier — forcing the group would
//! force itself. Sites are layered by dependency instead: a site's layer is
//! one above the highest layer of the sites its member reaches, and each
//! scope gets one group per layer (`ifdBatchGroup`, `ifdBatchGroup'2`, …),
//! so a scope costs as many barriers as its longest chain. A `possible`
//! site never joins a group, and a layer with one member is no batch.

use super::drv::{Confidence, drv_output};
use super::kinds::{Batch, Kind};
use super::multiplicity::{collection_after, per_element};
use super::reason::{Code, Reason};
use super::routed::{group_name, is_group_name, unwrap_ready};
use super::site::Site;
use crate::syntax::scope::{Binding, binder, resolve, resolve_name};
use crate::syntax::{Call, Callee, ident_text, is_reference, leading_interpolation, unparen};
use rnix::{SyntaxKind::*, SyntaxNode};
use rowan::TextRange;
use std::collections::{BTreeMap, BTreeSet};

pub use super::routed::ready_group;

/// The derivation expression behind a site's target: `"${d}/x"`, `d + "/x"`,
/// `d.outPath`, `(d)` → `d`; must be a name or a selection from a name.
pub fn root(target: &SyntaxNode) -> Option<SyntaxNode> {
    let mut node = unparen(target);
    for _ in 0..8 {
        if let Some(inner) = unwrap_ready(&node) {
            node = unparen(&inner);
            continue;
        }
        match node.kind() {
            NODE_STRING => node = unparen(&leading_interpolation(&node)?),
            NODE_BIN_OP => node = unparen(&node.first_child()?),
            NODE_SELECT
                if node
                    .last_child()
                    .and_then(|p| p.last_child())
                    .and_then(|a| ident_text(&a))
                    .as_deref()
                    == Some("outPath") =>
            {
                node = unparen(&node.first_child()?)
            }
            NODE_IDENT => return Some(node),
            NODE_SELECT => {
                let base = unparen(&node.first_child()?);
                return (base.kind() == NODE_IDENT).then_some(node);
            }
            _ => return None,
        }
    }
    None
}

/// The argument of a generic site that holds the derivation output: the
/// first target a kind declares (`KindDecl::target`, the same definition
/// its detector uses), in registry order.
pub fn target(call: &Call) -> Option<SyntaxNode> {
    let callee = Callee::of(&call.head)?;
    Kind::ALL
        .iter()
        .filter_map(|k| k.decl().target)
        .find_map(|target| target(call, &callee))
}

/// The innermost `let … in` around `site`.
pub fn group_scope(site: &SyntaxNode) -> Option<SyntaxNode> {
    site.ancestors()
        .skip(1)
        .find(|a| matches!(a.kind(), NODE_LET_IN))
}

/// Where the site's derivation can be batched: its group scope and the
/// group member to demand (the derivation's name, or for a per-element site
/// the collection it is mapped over), or why not.
pub fn batchability(
    site: &SyntaxNode,
    target: &SyntaxNode,
) -> Result<(SyntaxNode, SyntaxNode), Reason> {
    let not_shareable = |m: String| Err(Reason::new(Code::NotShareable, m));
    let internal = || Reason::new(Code::Internal, "unexpected name");
    let Some(root) = root(target) else {
        return not_shareable(
            "the derivation is not a name or a selection from one (bind it with `let` to batch it)"
                .into(),
        );
    };
    if let Some(branch) = branch_of(site) {
        return not_shareable(format!(
            "inside a conditional branch (`{branch}`): a batch would build it even when the branch is not taken"
        ));
    }
    let Some(scope) = group_scope(site) else {
        return Err(Reason::new(
            Code::NoScope,
            "no enclosing `let … in` to bind the batch in",
        ));
    };
    // Per element (`map (d: import d) drvs`): the group demands the whole
    // collection once.
    let member = match per_element(site) {
        None => root,
        Some(p) => {
            let base = name_of(&root).ok_or_else(internal)?;
            let name = ident_text(&base).ok_or_else(internal)?;
            let bound_by_element = binder(&base, &name)
                .is_some_and(|b| b == p.lambda || b.parent().is_some_and(|up| up == p.lambda));
            let collection = collection_after(&p.call, &p.lambda).map(|c| unparen(&c));
            match collection {
                Some(c) if bound_by_element && name_of(&c).is_some() => c,
                _ => {
                    return not_shareable(
                        "per-element site whose elements are not the derivations of a named collection: not batched"
                            .into(),
                    );
                }
            }
        }
    };
    let base = name_of(&member).ok_or_else(internal)?;
    let name = ident_text(&base).ok_or_else(internal)?;
    // The name must mean the same at the group scope as at the site: a
    // binding made between the scope and the site is not visible there.
    let anchor = scope.first_child().unwrap_or_else(|| scope.clone());
    if binder(&base, &name) != binder(&anchor, &name) {
        return not_shareable(format!(
            "`{name}` is bound between the site and its enclosing `let`: the batch cannot see it there"
        ));
    }
    if binder(&base, &name).is_none() {
        return not_shareable(format!(
            "`{name}` is not bound lexically (a global or a `with` name)"
        ));
    }
    Ok((scope, member))
}

/// The name a member expression starts from: `a` for `a`, `pkgs` for `pkgs.x`.
fn name_of(member: &SyntaxNode) -> Option<SyntaxNode> {
    let m = unparen(member);
    match m.kind() {
        NODE_IDENT => Some(m),
        NODE_SELECT => {
            let base = unparen(&m.first_child()?);
            (base.kind() == NODE_IDENT).then_some(base)
        }
        _ => None,
    }
}

/// `then` / `else` (or the right of `&&`, `||`) of a conditional between the
/// site and its group scope.
fn branch_of(site: &SyntaxNode) -> Option<&'static str> {
    let mut child = site.clone();
    while let Some(parent) = child.parent() {
        match parent.kind() {
            NODE_LET_IN => return None,
            // The condition itself is always evaluated.
            NODE_IF_ELSE if parent.first_child().as_ref() != Some(&child) => {
                return Some("if … then … else …");
            }
            _ => {}
        }
        child = parent;
    }
    None
}

/// Decide the groups of a file's generic sites (`calls[i]` is `sites[i]`'s
/// call), over the whole file: which sites join a group and which group
/// binding (`Site::group`) each goes through; the others get their reason.
/// The one decision `scan`, `check` and `rewrite` share.
pub fn layer(sites: &mut [Site], calls: &[Call]) {
    let cand = candidates(sites, calls);
    if cand.is_empty() {
        return;
    }
    let ranges: Vec<TextRange> = calls.iter().map(|c| c.node.text_range()).collect();
    let index_of: BTreeMap<usize, usize> = cand.iter().enumerate().map(|(k, c)| (c.0, k)).collect();
    // Which candidates each candidate's member reaches (None: unknown).
    let deps: Vec<Option<BTreeSet<usize>>> = cand
        .iter()
        .map(|(_, _, member)| {
            reach(member, &ranges)
                .map(|r| r.iter().filter_map(|j| index_of.get(j).copied()).collect())
        })
        .collect();
    let level = levels(&deps);
    // Groups: (scope start, layer) → distinct members.
    let mut groups: BTreeMap<(usize, usize), BTreeSet<String>> = BTreeMap::new();
    for (k, (i, scope, member)) in cand.iter().enumerate() {
        match level[k] {
            Some(l) => {
                groups
                    .entry((usize::from(scope.text_range().start()), l))
                    .or_default()
                    .insert(member.text().to_string());
            }
            None => skip(
                &mut sites[*i],
                match deps[k] {
                    None => format!(
                        "what `{}` depends on could not be followed: not grouped",
                        member.text()
                    ),
                    Some(_) => format!(
                        "`{}` depends on the result of an import-from-derivation site that \
                         depends on it, or on itself: a group would force itself",
                        member.text()
                    ),
                },
            ),
        }
    }
    name_groups(sites, &cand, &level, &groups);
}

/// A generic site the file-level decision leaves alone.
fn skip(site: &mut Site, message: String) {
    site.batchable = false;
    site.reason_code = Some(Code::NotShareable);
    site.reason = Some(message);
}

/// The sites that may join a group: (site index, scope, member). The others
/// are left alone here, with the reason.
fn candidates(sites: &mut [Site], calls: &[Call]) -> Vec<(usize, SyntaxNode, SyntaxNode)> {
    let mut cand = Vec::new();
    for (i, (site, call)) in sites.iter_mut().zip(calls).enumerate() {
        if site.kind.decl().batch != Batch::Generic || !site.batchable {
            continue;
        }
        let found = target(call).and_then(|t| batchability(&call.node, &t).ok());
        let definite_collection = found
            .as_ref()
            .is_some_and(|(_, m)| per_element(&call.node).is_some() && all_derivations(m));
        if site.confidence == Confidence::Possible && !definite_collection {
            skip(
                site,
                "not known to read a derivation's output (possible): never grouped, so a wrong \
                 guess cannot make a group force itself"
                    .into(),
            );
            continue;
        }
        match found {
            Some((scope, member)) => cand.push((i, scope, member)),
            None => skip(site, "no group for it (internal)".into()),
        }
    }
    cand
}

/// Each candidate's layer (depth first over what it reaches); `None` for a
/// candidate on a cycle, reaching its own site, or reaching the unknown.
fn levels(deps: &[Option<BTreeSet<usize>>]) -> Vec<Option<usize>> {
    fn visit(
        k: usize,
        deps: &[Option<BTreeSet<usize>>],
        level: &mut Vec<Option<Option<usize>>>,
        on_stack: &mut BTreeSet<usize>,
    ) -> Option<usize> {
        if let Some(l) = level[k] {
            return l;
        }
        if !on_stack.insert(k) {
            return None;
        }
        let mut l = Some(0);
        match &deps[k] {
            None => l = None,
            Some(ds) => {
                for &d in ds {
                    match visit(d, deps, level, on_stack) {
                        Some(dl) if d != k => l = l.map(|x: usize| x.max(dl + 1)),
                        _ => {
                            l = None;
                            break;
                        }
                    }
                }
            }
        }
        on_stack.remove(&k);
        level[k] = Some(l);
        l
    }
    let mut level: Vec<Option<Option<usize>>> = vec![None; deps.len()];
    let mut on_stack = BTreeSet::new();
    for k in 0..deps.len() {
        visit(k, deps, &mut level, &mut on_stack);
    }
    level.into_iter().map(Option::flatten).collect()
}

/// Name each scope's layers that hold two members or more, in order
/// (`ifdBatchGroup`, `ifdBatchGroup'2`, …); a member alone in its layer is
/// left alone.
fn name_groups(
    sites: &mut [Site],
    cand: &[(usize, SyntaxNode, SyntaxNode)],
    level: &[Option<usize>],
    groups: &BTreeMap<(usize, usize), BTreeSet<String>>,
) {
    let mut rank: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let mut per_scope: BTreeMap<usize, usize> = BTreeMap::new();
    for (key, members) in groups {
        if members.len() > 1 {
            let r = per_scope.entry(key.0).or_default();
            rank.insert(*key, *r);
            *r += 1;
        }
    }
    for (k, (i, scope, member)) in cand.iter().enumerate() {
        let Some(l) = level[k] else {
            continue;
        };
        let key = (usize::from(scope.text_range().start()), l);
        match rank.get(&key) {
            Some(r) => sites[*i].group = Some(group_name(*r)),
            None => skip(
                &mut sites[*i],
                format!(
                    "`{}` is the only derivation of its barrier in this scope: a group of one \
                     saves nothing",
                    member.text()
                ),
            ),
        }
    }
}

/// A per-element site's collection (`ds` bound to `[ a b ]` or
/// `{ x = a; }`) whose every element is definitely a derivation: its site
/// is `possible` only because the element is a lambda parameter.
fn all_derivations(collection: &SyntaxNode) -> bool {
    let value = match unparen(collection).kind() {
        NODE_IDENT => match resolve(&unparen(collection)) {
            Binding::Value(v) => unparen(&v),
            _ => return false,
        },
        _ => unparen(collection),
    };
    let elements: Vec<SyntaxNode> = match value.kind() {
        NODE_LIST => value.children().collect(),
        NODE_ATTR_SET => {
            let mut out = Vec::new();
            for c in value.children() {
                match c.kind() {
                    NODE_ATTRPATH_VALUE => out.extend(c.children().nth(1)),
                    // `inherit a b;` (names from outside); `inherit (x) a;`
                    // is not followed.
                    NODE_INHERIT if !c.children().any(|k| k.kind() == NODE_INHERIT_FROM) => {
                        out.extend(c.children().filter(|k| k.kind() == NODE_IDENT))
                    }
                    _ => return false,
                }
            }
            out
        }
        _ => return false,
    };
    !elements.is_empty()
        && elements
            .iter()
            .all(|e| drv_output(e) == Some(Confidence::Definite))
}

/// The sites (indices into `ranges`) that evaluating `member` may force:
/// every value it reaches through names (`let` / `rec` bindings,
/// `inherit (x)`, the namespaces of enclosing `with`s, the bodies of helper
/// functions), checked against the sites' ranges. None when the walk is
/// too large to trust.
fn reach(member: &SyntaxNode, ranges: &[TextRange]) -> Option<BTreeSet<usize>> {
    const LIMIT: usize = 20_000;
    let mut out = BTreeSet::new();
    let mut seen: BTreeSet<(u32, u32, u16)> = BTreeSet::new();
    let mut work: Vec<(SyntaxNode, bool)> = vec![(member.clone(), false)];
    let mut steps = 0usize;
    while let Some((node, check)) = work.pop() {
        let key = (
            u32::from(node.text_range().start()),
            u32::from(node.text_range().end()),
            node.kind() as u16,
        );
        if !seen.insert(key) {
            continue;
        }
        let r = node.text_range();
        if check {
            for (j, sr) in ranges.iter().enumerate() {
                if r.contains_range(*sr) || sr.contains_range(r) {
                    out.insert(j);
                }
            }
        }
        for n in node.descendants() {
            steps += 1;
            if steps > LIMIT {
                return None;
            }
            if n.kind() != NODE_IDENT || !is_reference(&n) {
                continue;
            }
            let Some(name) = ident_text(&n) else { continue };
            if is_group_name(&name) {
                continue;
            }
            match resolve(&n) {
                Binding::Value(v) => work.push((v, true)),
                Binding::Inherit(Some(from)) => work.push((from, true)),
                Binding::Inherit(None) => {
                    if let Some(scope) = binder(&n, &name)
                        && let Binding::Value(v) = resolve_name(&scope, &name)
                    {
                        work.push((v, true));
                    }
                }
                Binding::With => {
                    for w in n.ancestors().filter(|a| a.kind() == NODE_WITH) {
                        if let Some(ns) = w.first_child()
                            && !ns.text_range().contains_range(n.text_range())
                        {
                            work.push((ns, true));
                        }
                    }
                }
                Binding::Param | Binding::Global => {}
            }
        }
    }
    Some(out)
}
