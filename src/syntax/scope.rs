//! Lexical scope: what does an identifier refer to?
//!
//! Nix scoping in one paragraph: `let` and `rec { }` bind over their whole
//! body; lambda parameters (`x:` and `{ x, … }@args:`) bind over the lambda
//! body; `with e;` provides names *only* when no lexical binding exists,
//! however far out that lexical binding is.

use super::{attr_name, ident_text};
use rnix::{SyntaxKind::*, SyntaxNode};

/// What an identifier is bound to.
#[derive(Debug, Clone)]
pub enum Binding {
    /// `name = value;` in a `let` or `rec { }`.
    Value(SyntaxNode),
    /// `inherit (from) name;` in a `let` or `rec { }`; `from` is None for a
    /// plain `inherit name;`.
    Inherit(Option<SyntaxNode>),
    /// A lambda parameter (plain, pattern entry or `@` binding).
    Param,
    /// No lexical binding, but inside at least one `with`.
    With,
    /// No lexical binding at all: a builtin global or an undefined name.
    Global,
}

/// Resolve the identifier node `ident` (a `NODE_IDENT` in expression position).
pub fn resolve(ident: &SyntaxNode) -> Binding {
    match ident_text(ident) {
        Some(name) => resolve_name(ident, &name),
        None => Binding::Global,
    }
}

/// Resolve `name` as seen from `at`.
pub fn resolve_name(at: &SyntaxNode, name: &str) -> Binding {
    let mut in_with = false;
    let mut child = at.clone();
    while let Some(parent) = child.parent() {
        match parent.kind() {
            NODE_LET_IN | NODE_LEGACY_LET => {
                if let Some(b) = binding_in(&parent, name) {
                    return b;
                }
            }
            NODE_ATTR_SET if is_rec(&parent) => {
                if let Some(b) = binding_in(&parent, name) {
                    return b;
                }
            }
            NODE_LAMBDA => {
                // Only the body is in the parameters' scope (defaults of a
                // pattern too, but treating them alike is harmless here).
                if let Some(param) = parent.first_child()
                    && binds_param(&param, name)
                {
                    return Binding::Param;
                }
            }
            // `with e; body`: the body sees e's attributes, e itself does not.
            NODE_WITH if parent.first_child().as_ref() != Some(&child) => in_with = true,
            _ => {}
        }
        child = parent;
    }
    if in_with {
        Binding::With
    } else {
        Binding::Global
    }
}

/// The lambda whose parameter `name` is, as seen from `at` (None when the
/// name is bound by a `let` / `rec` first, or not at all), and whether it is
/// bound by a pattern `{ name, … }:` rather than `name:`.
pub fn lambda_binder(at: &SyntaxNode, name: &str) -> Option<(SyntaxNode, bool)> {
    let mut child = at.clone();
    while let Some(parent) = child.parent() {
        match parent.kind() {
            NODE_LET_IN | NODE_LEGACY_LET if binding_in(&parent, name).is_some() => return None,
            NODE_ATTR_SET if is_rec(&parent) && binding_in(&parent, name).is_some() => {
                return None;
            }
            NODE_LAMBDA => {
                if let Some(param) = parent.first_child()
                    && binds_param(&param, name)
                {
                    // `{ a ? 1 }@name:` binds `name` outside the pattern.
                    let pattern = param.kind() == NODE_PATTERN
                        && param.children().any(|c| {
                            c.kind() == NODE_PAT_ENTRY
                                && c.first_child()
                                    .and_then(|i| ident_text(&i))
                                    .is_some_and(|n| n == name)
                        });
                    return Some((parent, pattern));
                }
            }
            _ => {}
        }
        child = parent;
    }
    None
}

fn is_rec(attrset: &SyntaxNode) -> bool {
    attrset
        .children_with_tokens()
        .any(|c| c.kind() == TOKEN_REC)
}

/// A binding of `name` directly in a let / rec set.
pub fn binding_in(scope: &SyntaxNode, name: &str) -> Option<Binding> {
    for entry in scope.children() {
        match entry.kind() {
            NODE_ATTRPATH_VALUE => {
                let mut kids = entry.children();
                let (Some(path), value) = (kids.next(), kids.next()) else {
                    continue;
                };
                let mut attrs = path.children();
                if attrs.next().and_then(|a| attr_name(&a)).as_deref() == Some(name) {
                    // `a.b = …` binds `a` to a set; we only follow single names.
                    if attrs.next().is_some() {
                        return Some(Binding::Inherit(None));
                    }
                    return Some(match value {
                        Some(v) => Binding::Value(v),
                        None => Binding::Inherit(None),
                    });
                }
            }
            NODE_INHERIT => {
                let from = entry
                    .children()
                    .find(|c| c.kind() == NODE_INHERIT_FROM)
                    .and_then(|f| f.first_child());
                let hit = entry
                    .children()
                    .filter(|c| c.kind() != NODE_INHERIT_FROM)
                    .any(|a| attr_name(&a).as_deref() == Some(name));
                if hit {
                    return Some(Binding::Inherit(from));
                }
            }
            _ => {}
        }
    }
    None
}

fn binds_param(param: &SyntaxNode, name: &str) -> bool {
    match param.kind() {
        NODE_IDENT_PARAM => param
            .first_child()
            .and_then(|i| ident_text(&i))
            .is_some_and(|n| n == name),
        NODE_PATTERN => param.children().any(|c| match c.kind() {
            NODE_PAT_ENTRY | NODE_PAT_BIND => c
                .first_child()
                .and_then(|i| ident_text(&i))
                .is_some_and(|n| n == name),
            _ => false,
        }),
        _ => false,
    }
}

/// The names Nix binds in its base environment (besides the `__`
/// aliases): lexical, so no `with` can shadow them.
pub const NIX_GLOBALS: &[&str] = &[
    "abort",
    "baseNameOf",
    "break",
    "builtins",
    "derivation",
    "derivationStrict",
    "dirOf",
    "false",
    "fetchGit",
    "fetchMercurial",
    "fetchTarball",
    "fetchTree",
    "fromTOML",
    "import",
    "isNull",
    "map",
    "null",
    "placeholder",
    "removeAttrs",
    "scopedImport",
    "throw",
    "toString",
    "true",
];

/// Global builtins callable without `builtins.` (a subset: the ones detectors
/// care about).
pub const GLOBAL_BUILTINS: &[&str] = &[
    "import",
    "scopedImport",
    "fetchTarball",
    "fetchGit",
    "fetchTree",
    "fetchMercurial",
    "derivation",
    "map",
    "toString",
];

/// Does the callee refer to the builtin `name`? `builtins.name`; a bare
/// global builtin that is not shadowed; a bare name under `with builtins;`;
/// or a name bound by `inherit (builtins) name;` / `name = builtins.name;`.
pub fn refers_to_builtin(callee: &super::Callee, name: &str) -> bool {
    if callee.name() != name {
        return false;
    }
    if callee.is_builtins() {
        return true;
    }
    let Some(ident) = &callee.ident else {
        return false;
    };
    match resolve(ident) {
        Binding::Global => GLOBAL_BUILTINS.contains(&name),
        Binding::With => GLOBAL_BUILTINS.contains(&name) || under_with_builtins(ident),
        Binding::Inherit(Some(from)) => from.text() == "builtins",
        Binding::Value(v) => super::Callee::of(&v).is_some_and(|c| c.is_builtins()),
        _ => false,
    }
}

/// Does the callee refer to builtin `name` or to its global alias `__name`
/// (`__readFile`, `__pathExists`, …: every builtin has one)?
pub fn refers_to_builtin_or_alias(callee: &super::Callee, name: &str) -> bool {
    if refers_to_builtin(callee, name) {
        return true;
    }
    let Some(ident) = &callee.ident else {
        return false;
    };
    callee.name().strip_prefix("__") == Some(name)
        && matches!(resolve(ident), Binding::Global | Binding::With)
}

/// Does the callee refer to nixpkgs' `lib.name` (`lib.readFile`,
/// `lib.strings.fileContents`, `pkgs.lib.pathExists`), also as a bare name
/// bound by `inherit (lib) name;` / `name = lib.name;` or under `with lib;`?
pub fn refers_to_lib(callee: &super::Callee, name: &str) -> bool {
    use super::Callee;
    let through_lib = |c: &Callee| {
        c.base
            .iter()
            .chain(&c.path[..c.path.len().saturating_sub(1)])
            .any(|s| s == "lib")
    };
    let lib_set = |n: &SyntaxNode| {
        Callee::of(n).is_some_and(|c| c.base.iter().chain(&c.path).any(|s| s == "lib"))
    };
    if callee.name() != name {
        return false;
    }
    let Some(ident) = &callee.ident else {
        return through_lib(callee);
    };
    match resolve(ident) {
        Binding::Inherit(Some(from)) => lib_set(&from),
        Binding::Value(v) => Callee::of(&v).is_some_and(|c| c.name() == name && through_lib(&c)),
        Binding::With => ident.ancestors().any(|a| {
            a.kind() == NODE_WITH
                && a.first_child().is_some_and(|ns| {
                    !ns.text_range().contains_range(ident.text_range()) && lib_set(&ns)
                })
        }),
        _ => false,
    }
}

fn under_with_builtins(node: &SyntaxNode) -> bool {
    node.ancestors().any(|a| {
        a.kind() == NODE_WITH
            && a.first_child().is_some_and(|ns| ns.text() == "builtins")
            && !a
                .first_child()
                .is_some_and(|ns| ns.text_range().contains_range(node.text_range()))
    })
}

/// The node (let, rec set, lambda) that binds `name` as seen from `at`.
pub fn binder(at: &SyntaxNode, name: &str) -> Option<SyntaxNode> {
    let mut child = at.clone();
    while let Some(parent) = child.parent() {
        let binds = match parent.kind() {
            NODE_LET_IN | NODE_LEGACY_LET => binding_in(&parent, name).is_some(),
            NODE_ATTR_SET => {
                parent.children_with_tokens().any(|c| c.kind() == TOKEN_REC)
                    && binding_in(&parent, name).is_some()
            }
            NODE_LAMBDA => {
                parent.first_child().is_some_and(|p| param_binds(&p, name))
                    && parent.first_child().as_ref() != Some(&child)
            }
            _ => false,
        };
        if binds {
            return Some(parent);
        }
        child = parent;
    }
    None
}

fn param_binds(param: &SyntaxNode, name: &str) -> bool {
    match param.kind() {
        NODE_IDENT_PARAM => param
            .first_child()
            .and_then(|i| ident_text(&i))
            .is_some_and(|n| n == name),
        NODE_PATTERN => param.children().any(|c| {
            matches!(c.kind(), NODE_PAT_ENTRY | NODE_PAT_BIND)
                && c.first_child()
                    .and_then(|i| ident_text(&i))
                    .is_some_and(|n| n == name)
        }),
        _ => false,
    }
}

/// What a callee that is a name stands for, through `let` / `rec`
/// aliases: `c2n` bound by `c2n = final.haskellPackages.callCabal2nix;`
/// is that select; `f` bound by `f = g;` and `g = self.f;` is `self.f`; a
/// plain `inherit f;` in a `let` is the `f` outside it. Stops at the first
/// node that is not such an alias (a select, a parameter, a `with` name,
/// `inherit (set) f`, a global), which is returned. Cycles (`a = b; b = a;`)
/// and long chains stop after a few steps.
pub fn follow_alias(head: &SyntaxNode) -> SyntaxNode {
    let mut cur = super::unparen(head);
    for _ in 0..16 {
        if cur.kind() != NODE_IDENT {
            break;
        }
        let Some(name) = ident_text(&cur) else { break };
        let next = match resolve_name(&cur, &name) {
            Binding::Value(v) => super::unparen(&v),
            Binding::Inherit(None) => match inherit_outer(&cur, &name) {
                Some(n) => super::unparen(&n),
                None => break,
            },
            _ => break,
        };
        if !matches!(next.kind(), NODE_IDENT | NODE_SELECT) || next == cur {
            break;
        }
        cur = next;
    }
    cur
}

/// For a name bound by a plain `inherit name;` in a `let` / `rec` set seen
/// from `at`: the value of the `name` outside that set, when it is a
/// `name = value;` binding.
fn inherit_outer(at: &SyntaxNode, name: &str) -> Option<SyntaxNode> {
    match resolve_name(&binder(at, name)?, name) {
        Binding::Value(v) => Some(v),
        _ => None,
    }
}
