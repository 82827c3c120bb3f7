//! Serial hotspots: is a site inside a function that is applied once per
//! element of a collection (`map`, `mapAttrs`, …)?

use crate::syntax::scope::{Binding, resolve_name};
use crate::syntax::{Call, Callee, attr_name, string_literal, unparen, up_through_parens};
use rnix::{SyntaxKind::*, SyntaxNode};
use serde::Serialize;

/// How often a site runs in one evaluation: once, or once per element of
/// a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Multiplicity {
    Once,
    PerElement,
}

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
            let elements = collection(&call, &lambda).and_then(|c| literal_len(&c));
            return Some(PerElement {
                lambda,
                call,
                elements,
            });
        }
    }
    None
}

/// The literal elements a lambda is applied to, one by one: the items of
/// `map (x: …) [ … ]`, the values of `mapAttrs (n: v: …) { … }`. None when
/// the lambda is not applied per element or its collection is no literal.
pub fn literal_elements(lambda: &SyntaxNode) -> Option<Vec<SyntaxNode>> {
    let call = applied_per_element(lambda)?;
    let c = resolve_literal(&collection(&call, lambda)?);
    match c.kind() {
        NODE_LIST => Some(c.children().collect()),
        NODE_ATTR_SET => crate::syntax::attrset_entries(&c)?
            .into_iter()
            .map(|(_, v)| v)
            .collect(),
        _ => None,
    }
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

/// The collection a per-element call iterates over: `map f XS`,
/// `genAttrs NAMES f`, `forEach XS f`, `foldl' f init XS`, the count of
/// `genList f N`.
fn collection(call: &Call, lambda: &SyntaxNode) -> Option<SyntaxNode> {
    let outer = up_through_parens(lambda);
    // The function's position: where the lambda is, or (bound by name) the
    // first argument that is not the collection.
    let name = Callee::of(&call.head)?.name().to_string();
    let collection_first = matches!(name.as_str(), "genAttrs" | "forEach");
    let f = call
        .args
        .iter()
        .position(|a| *a == outer)
        .unwrap_or(usize::from(collection_first));
    let at = match name.as_str() {
        "genAttrs" | "forEach" => f.checked_sub(1)?,
        "foldl" | "foldl'" | "foldr" | "foldAttrs" => f + 2,
        _ => f + 1,
    };
    call.args.get(at).cloned()
}

/// Resolve an identifier to the literal it is bound to (one step).
pub fn resolve_literal(node: &SyntaxNode) -> SyntaxNode {
    let n = unparen(node);
    if n.kind() == NODE_IDENT
        && let Some(name) = crate::syntax::ident_text(&n)
        && let Binding::Value(v) = resolve_name(&n, &name)
    {
        return unparen(&v);
    }
    n
}

/// A string argument that is a literal, or a name bound (let / rec) to one.
pub fn literal_arg(node: &SyntaxNode) -> Option<String> {
    string_literal(&resolve_literal(node))
}

fn literal_len(collection: &SyntaxNode) -> Option<usize> {
    let c = resolve_literal(collection);
    match c.kind() {
        NODE_LIST => Some(c.children().count()),
        NODE_ATTR_SET => crate::syntax::attrset_entries(&c).map(|e| e.len()),
        // `genList f 3`
        NODE_LITERAL => c.text().to_string().parse().ok(),
        _ => None,
    }
}
