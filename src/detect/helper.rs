//! Local helpers called with literal arguments:
//!
//! ```nix
//! self: super:
//! let hackage = pkg: ver: self.callHackage pkg ver { };
//! in { a = hackage "a" "1.0"; b = hackage "b" "2.0"; }
//! ```
//!
//! The site inside the helper has parameters for arguments, but every call
//! of the helper gives literals: the site is batchable with one entry per
//! call.

use super::multiplicity::literal_arg;
use crate::syntax::scope::{Binding, resolve};
use crate::syntax::scope::{binder, lambda_binder};
use crate::syntax::{ident_text, unparen};
use rnix::{SyntaxKind::*, SyntaxNode};

/// `node` (through parentheses) when it is a name bound by a lambda
/// parameter: a helper's argument.
pub fn param(node: &SyntaxNode) -> Option<SyntaxNode> {
    let n = unparen(node);
    (n.kind() == NODE_IDENT && matches!(resolve(&n), Binding::Param)).then_some(n)
}

/// The literal value of each of `params` (identifiers naming parameters of
/// one curried helper `h = a: b: …;` bound by a `let` or `rec` set) at every
/// call of the helper, one row per call. None when a parameter is not one of
/// such a helper's, the helper is used other than called, a call leaves an
/// argument out, or an argument is not a literal string (or a name bound to
/// one).
pub fn literal_args(params: &[SyntaxNode]) -> Option<Vec<Vec<String>>> {
    // Each parameter's lambda; the deepest one starts the curried chain.
    let lambdas = params
        .iter()
        .map(|p| match lambda_binder(p, &ident_text(p)?)? {
            (_, true) => None,
            (lambda, false) => Some(lambda),
        })
        .collect::<Option<Vec<_>>>()?;
    let innermost = lambdas
        .iter()
        .max_by_key(|l| l.ancestors().count())?
        .clone();
    // The curried chain `a: b: …`, outermost first.
    let mut chain = vec![innermost.clone()];
    let mut top = innermost;
    while let Some(parent) = top
        .parent()
        .filter(|p| p.kind() == NODE_LAMBDA && p.children().nth(1).as_ref() == Some(&top))
    {
        chain.insert(0, parent.clone());
        top = parent;
    }
    let positions = lambdas
        .iter()
        .map(|l| chain.iter().position(|c| c == l))
        .collect::<Option<Vec<_>>>()?;
    // `h = <chain>;` in a `let` (or `rec { }`).
    let binding = top.parent().filter(|b| b.kind() == NODE_ATTRPATH_VALUE)?;
    let path = binding.first_child()?;
    if path.children().count() != 1 {
        return None;
    }
    let name = ident_text(&path.first_child()?)?;
    let scope = binding.parent()?;
    let rec = scope.kind() == NODE_ATTR_SET
        && scope.children_with_tokens().any(|c| c.kind() == TOKEN_REC);
    if scope.kind() != NODE_LET_IN && !rec {
        return None;
    }
    let mut rows = Vec::new();
    for ident in scope.descendants().filter(|n| n.kind() == NODE_IDENT) {
        if ident_text(&ident).as_deref() != Some(name.as_str())
            || ident.parent().is_some_and(|p| p.kind() == NODE_ATTRPATH)
            || binder(&ident, &name).as_ref() != Some(&scope)
        {
            continue;
        }
        // The reference must be called: the head of an application (through
        // parentheses), its arguments collected on the way up.
        let mut head = ident.clone();
        let mut args = Vec::new();
        while let Some(p) = head.parent() {
            match p.kind() {
                NODE_PAREN => {}
                NODE_APPLY if p.first_child().as_ref() == Some(&head) => {
                    args.push(p.children().nth(1)?);
                }
                _ => break,
            }
            head = p;
        }
        let row = positions
            .iter()
            .map(|&i| args.get(i).and_then(literal_arg))
            .collect::<Option<Vec<String>>>()?;
        rows.push(row);
    }
    (!rows.is_empty()).then_some(rows)
}
