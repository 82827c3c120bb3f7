//! The syntax of a site already routed through a generic batch:
//! `ifdBatchGroup.ready X` (or `ifdBatchGroup'2.ready X`, one group binding
//! per layer of a scope). Read by the derivation analysis (a routed target
//! is still the derivation it wraps) and by generic batching (a group
//! binding is not a member).

use crate::syntax::{Callee, unparen};
use rnix::{SyntaxKind::*, SyntaxNode};

/// The binding every group scope gets.
pub const GROUP_NAME: &str = "ifdBatchGroup";

/// `ifdBatchGroup.ready X` (already routed): X.
pub fn unwrap_ready(node: &SyntaxNode) -> Option<SyntaxNode> {
    ready_group(node).map(|(_, x)| x)
}

/// `G.ready X` for a group binding `G` (already routed): `G`'s name and X.
pub fn ready_group(node: &SyntaxNode) -> Option<(String, SyntaxNode)> {
    let node = unparen(node);
    if node.kind() != NODE_APPLY {
        return None;
    }
    let f = node.first_child()?;
    let callee = Callee::of(&unparen(&f))?;
    let base = callee.base.clone().filter(|b| is_group_name(b))?;
    (callee.name() == "ready" && callee.path.len() == 1)
        .then(|| node.children().nth(1).map(|x| (base, x)))
        .flatten()
}

/// `ifdBatchGroup`, `ifdBatchGroup'2`, …: a group binding's name.
pub fn is_group_name(name: &str) -> bool {
    name.strip_prefix(GROUP_NAME).is_some_and(|r| {
        r.is_empty()
            || r.strip_prefix('\'')
                .is_some_and(|n| n.parse::<u32>().is_ok())
    })
}

/// The name of a scope's `rank`-th group (0: `ifdBatchGroup`).
pub fn group_name(rank: usize) -> String {
    match rank {
        0 => GROUP_NAME.to_string(),
        r => format!("{GROUP_NAME}'{}", r + 1),
    }
}
