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

use super::multiplicity::{collection_after, per_element};
use super::reason::{Code, Reason};
use crate::syntax::scope::{Binding, binder, resolve};
use crate::syntax::{Call, Callee, ident_text, leading_interpolation, unparen};
use rnix::{SyntaxKind::*, SyntaxNode};

/// The binding every group scope gets.
pub const GROUP_NAME: &str = "ifdBatchGroup";

/// `ifdBatchGroup.ready X` (already routed): X.
pub fn unwrap_ready(node: &SyntaxNode) -> Option<SyntaxNode> {
    let node = unparen(node);
    if node.kind() != NODE_APPLY {
        return None;
    }
    let f = node.first_child()?;
    let callee = Callee::of(&unparen(&f))?;
    (callee.base.as_deref() == Some(GROUP_NAME) && callee.name() == "ready")
        .then(|| node.children().nth(1))
        .flatten()
}

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

/// The argument of a generic site that holds the derivation output (as the
/// `import-drv` / `read-drv` detectors find it: the same definition).
pub fn target(call: &Call) -> Option<SyntaxNode> {
    let callee = Callee::of(&call.head)?;
    super::import_drv::target(call, &callee)
        .map(|(_, t, _)| t)
        .or_else(|| super::read_drv::target(call, &callee).map(|(_, t, _)| t))
}

/// Does the value bound to the site's derivation name itself read another
/// derivation's output (chained IFD)? Then it cannot be demanded before
/// that read: the site stays on its own, a later barrier.
fn chained(member: &SyntaxNode) -> bool {
    name_of(member).is_some_and(|base| reads_output(&base, 0))
}

/// Does the value `ident` is bound to read a derivation's output, directly
/// or through the names it uses (a few levels deep)?
fn reads_output(ident: &SyntaxNode, depth: u32) -> bool {
    if depth > 4 {
        return false;
    }
    let Binding::Value(value) = resolve(ident) else {
        return false;
    };
    value.descendants().any(|n| match n.kind() {
        NODE_APPLY => Call::flatten(&n)
            .and_then(|c| target(&c))
            .is_some_and(|t| super::drv::drv_output(&t).is_some()),
        NODE_IDENT => reads_output(&n, depth + 1),
        _ => false,
    })
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
    if chained(&member) {
        return not_shareable(format!(
            "`{}` itself reads a derivation's output (chained import-from-derivation): it joins a later barrier",
            member.text()
        ));
    }
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
