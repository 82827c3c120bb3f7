//! Serial hotspots: is a site inside a function that is applied once per
//! element of a collection (`map`, `mapAttrs`, …)?

use super::scope::{Binding, resolve_name};
use super::syntax::{Call, Callee, attr_name, unparen, up_through_parens};
use rnix::{SyntaxKind::*, SyntaxNode};

/// Higher-order functions that apply their function argument per element.
pub const PER_ELEMENT: &[&str] = &[
    "map",
    "mapAttrs",
    "mapAttrs'",
    "mapAttrsToList",
    "mapAttrsRecursive",
    "concatMapAttrs",
    "genAttrs",
    "genList",
    "listToAttrs",
    "concatMap",
    "concatMapStrings",
    "foldl",
    "foldl'",
    "foldr",
    "foldAttrs",
    "filter",
    "filterAttrs",
    "imap0",
    "imap1",
    "forEach",
    "zipAttrsWith",
    "zipListsWith",
];

/// Where a site is applied many times: the per-element application and, when
/// the collection is a literal, its size.
pub struct PerElement {
    /// The lambda whose body contains the site.
    pub lambda: SyntaxNode,
    /// The `map`-like call.
    pub call: Call,
    /// Number of elements when the collection is a literal list or set.
    pub elements: Option<usize>,
}

/// Find the innermost enclosing lambda that is applied per element.
pub fn per_element(site: &SyntaxNode) -> Option<PerElement> {
    for lambda in site.ancestors().filter(|n| n.kind() == NODE_LAMBDA) {
        if let Some(call) = applied_per_element(&lambda) {
            let elements = collection_after(&call, &lambda).and_then(|c| literal_len(&c));
            return Some(PerElement {
                lambda,
                call,
                elements,
            });
        }
    }
    None
}

/// `map (x: …) xs`, or `f = x: …;` with `map f xs` in the same scope.
fn applied_per_element(lambda: &SyntaxNode) -> Option<Call> {
    let outer = up_through_parens(lambda);
    if let Some(call) = Call::enclosing(&outer)
        && is_per_element_head(&call)
        && call.args.contains(&outer)
    {
        return Some(call);
    }
    // Bound to a name in a let / rec set, then passed to a map-like function.
    let binding = outer.parent().filter(|p| p.kind() == NODE_ATTRPATH_VALUE)?;
    let mut attrs = binding.first_child()?.children();
    let name = attr_name(&attrs.next()?)?;
    if attrs.next().is_some() {
        return None;
    }
    let scope = binding.parent()?;
    scope
        .descendants()
        .filter(|n| n.kind() == NODE_IDENT && n.text() == name.as_str())
        .find_map(|ident| {
            let arg = up_through_parens(&ident);
            let call = Call::enclosing(&arg)?;
            (is_per_element_head(&call)
                && call.args.contains(&arg)
                && matches!(resolve_name(&ident, &name), Binding::Value(v) if v == outer))
            .then_some(call)
        })
}

fn is_per_element_head(call: &Call) -> bool {
    Callee::of(&call.head).is_some_and(|c| PER_ELEMENT.contains(&c.name()))
}

/// The argument after the function: `map f XS`, `mapAttrs f SET`.
pub fn collection_after(call: &Call, lambda: &SyntaxNode) -> Option<SyntaxNode> {
    let outer = up_through_parens(lambda);
    let i = call.args.iter().position(|a| *a == outer);
    match i {
        Some(i) => call.args.get(i + 1).cloned(),
        // Bound by name: the argument after the first non-lambda argument.
        None => call.args.get(1).cloned(),
    }
}

/// Resolve an identifier to the literal it is bound to (one step).
pub fn resolve_literal(node: &SyntaxNode) -> SyntaxNode {
    let n = unparen(node);
    if n.kind() == NODE_IDENT
        && let Some(name) = super::syntax::ident_text(&n)
        && let Binding::Value(v) = resolve_name(&n, &name)
    {
        return unparen(&v);
    }
    n
}

fn literal_len(collection: &SyntaxNode) -> Option<usize> {
    let c = resolve_literal(collection);
    match c.kind() {
        NODE_LIST => Some(c.children().count()),
        NODE_ATTR_SET => super::syntax::attrset_entries(&c).map(|e| e.len()),
        _ => None,
    }
}
