//! The syntax layer below `detect` and `rewrite`: parsing as Nix reads it
//! ([`parse`]), small panic-free helpers over rnix's untyped tree
//! (application chains, callee names, literal values) and name resolution
//! ([`scope`]).
//!
//! These work on `SyntaxNode` kinds rather than rnix's typed AST because the
//! typed accessors assert on shapes that error-recovered trees can violate.

pub mod scope;

use rnix::{SyntaxKind::*, SyntaxNode};

/// Strip any number of parentheses.
pub fn unparen(node: &SyntaxNode) -> SyntaxNode {
    let mut n = node.clone();
    while n.kind() == NODE_PAREN {
        match n.first_child() {
            Some(inner) => n = inner,
            None => break,
        }
    }
    n
}

/// Walk up from `node` through enclosing parentheses; returns the outermost
/// parenthesised node (or `node` itself).
pub fn up_through_parens(node: &SyntaxNode) -> SyntaxNode {
    let mut n = node.clone();
    while let Some(p) = n.parent() {
        if p.kind() == NODE_PAREN {
            n = p;
        } else {
            break;
        }
    }
    n
}

/// A function application flattened: `f a b c` is `Call { head: f, args: [a, b, c] }`.
pub struct Call {
    /// The outermost `NODE_APPLY` of the chain.
    pub node: SyntaxNode,
    pub head: SyntaxNode,
    pub args: Vec<SyntaxNode>,
}

impl Call {
    /// Flatten the chain whose outermost application is `node`.
    pub fn flatten(node: &SyntaxNode) -> Option<Call> {
        if node.kind() != NODE_APPLY {
            return None;
        }
        let mut args = Vec::new();
        let mut cur = node.clone();
        while cur.kind() == NODE_APPLY {
            let mut kids = cur.children();
            let (f, a) = (kids.next()?, kids.next()?);
            args.push(a);
            cur = f;
        }
        args.reverse();
        Some(Call {
            node: node.clone(),
            head: cur,
            args,
        })
    }

    /// The chain containing `node` as an argument or head, from its outermost
    /// application.
    pub fn enclosing(node: &SyntaxNode) -> Option<Call> {
        let mut top = node.parent()?;
        if top.kind() != NODE_APPLY {
            return None;
        }
        while let Some(p) = top.parent() {
            if p.kind() == NODE_APPLY && p.first_child().as_ref() == Some(&top) {
                top = p;
            } else {
                break;
            }
        }
        Call::flatten(&top)
    }

    pub fn arg(&self, i: usize) -> Option<&SyntaxNode> {
        self.args.get(i)
    }
}

/// The name of a callee: `self.callHackage` → (Some("self"), ["callHackage"]),
/// `callHackage` → (None, ["callHackage"]), `pkgs.haskell.lib.dontCheck` →
/// (Some("pkgs"), ["haskell", "lib", "dontCheck"]). Dynamic attributes give None.
pub struct Callee {
    /// The identifier the select starts from, or None for a bare identifier.
    pub base: Option<String>,
    /// For a bare identifier its name; for a select, the attribute path.
    pub path: Vec<String>,
    /// The identifier node when the callee is bare.
    pub ident: Option<SyntaxNode>,
}

impl Callee {
    pub fn of(head: &SyntaxNode) -> Option<Callee> {
        let head = unparen(head);
        match head.kind() {
            NODE_IDENT => Some(Callee {
                base: None,
                path: vec![ident_text(&head)?],
                ident: Some(head),
            }),
            NODE_SELECT => {
                // A select with an `or` default is still a reference to the attribute.
                let mut kids = head.children();
                let base = unparen(&kids.next()?);
                let attrpath = kids.next().filter(|n| n.kind() == NODE_ATTRPATH)?;
                let mut path = Vec::new();
                for attr in attrpath.children() {
                    path.push(attr_name(&attr)?);
                }
                let base_name = match base.kind() {
                    NODE_IDENT => ident_text(&base)?,
                    NODE_SELECT => {
                        let inner = Callee::of(&base)?;
                        let mut full = Vec::new();
                        full.extend(inner.base);
                        full.extend(inner.path);
                        let first = full.remove(0);
                        full.extend(path);
                        return Some(Callee {
                            base: Some(first),
                            path: full,
                            ident: None,
                        });
                    }
                    _ => "<expr>".to_string(),
                };
                Some(Callee {
                    base: Some(base_name),
                    path,
                    ident: None,
                })
            }
            _ => None,
        }
    }

    /// The callee a call's head stands for, through `let` aliases
    /// ([`scope::follow_alias`]): `c2n` bound to
    /// `final.haskellPackages.callCabal2nix` is that select.
    pub fn resolved(head: &SyntaxNode) -> Option<Callee> {
        Callee::of(&scope::follow_alias(head)).or_else(|| Callee::of(head))
    }

    /// The last name: `callHackage` for `self.callHackage`.
    pub fn name(&self) -> &str {
        self.path.last().map(String::as_str).unwrap_or("")
    }

    /// `builtins.NAME`?
    pub fn is_builtins(&self) -> bool {
        self.base.as_deref() == Some("builtins") && self.path.len() == 1
    }
}

/// An identifier in expression position: not an attribute name (`a.b`'s
/// `b`, `{ b = …; }`, `inherit (s) b;`) or a parameter. `inherit x;`
/// refers to `x`.
pub fn is_reference(ident: &SyntaxNode) -> bool {
    !ident.parent().is_some_and(|p| match p.kind() {
        NODE_ATTRPATH | NODE_IDENT_PARAM | NODE_PAT_ENTRY | NODE_PAT_BIND => true,
        NODE_INHERIT => p.children().any(|c| c.kind() == NODE_INHERIT_FROM),
        _ => false,
    })
}

/// Text of an identifier node.
pub fn ident_text(node: &SyntaxNode) -> Option<String> {
    (node.kind() == NODE_IDENT)
        .then(|| node.first_token().map(|t| t.text().to_string()))
        .flatten()
}

/// Name of a static attribute (`a`, `"a"`); None for `${dynamic}` ones.
pub fn attr_name(attr: &SyntaxNode) -> Option<String> {
    match attr.kind() {
        NODE_IDENT => ident_text(attr),
        NODE_STRING => string_literal(attr),
        _ => None,
    }
}

/// The value of a string without interpolation (`"x"` or `''x''`).
pub fn string_literal(node: &SyntaxNode) -> Option<String> {
    let node = unparen(node);
    if node.kind() != NODE_STRING {
        return None;
    }
    let mut multiline = false;
    let mut out = String::new();
    for child in node.children_with_tokens() {
        match child.kind() {
            TOKEN_STRING_START => {
                multiline = child.as_token().is_some_and(|t| t.text() == "''");
            }
            TOKEN_STRING_END => {}
            TOKEN_STRING_CONTENT => {
                let t = child.as_token()?;
                out.push_str(&unescape(t.text(), multiline));
            }
            _ => return None,
        }
    }
    if multiline {
        // Names and versions in indented strings are single-line in practice;
        // strip the indentation the simple way.
        return Some(out.trim().to_string());
    }
    Some(out)
}

fn unescape(s: &str, multiline: bool) -> String {
    if multiline {
        return s.replace("''$", "$").replace("'''", "''");
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Is this a string with at least one interpolation, and is the first part an
/// interpolation? Returns the interpolated expression in that case.
pub fn leading_interpolation(node: &SyntaxNode) -> Option<SyntaxNode> {
    let node = unparen(node);
    if node.kind() != NODE_STRING {
        return None;
    }
    let first = node
        .children_with_tokens()
        .find(|c| c.kind() != TOKEN_STRING_START)?;
    let interpol = first.into_node().filter(|n| n.kind() == NODE_INTERPOL)?;
    interpol.first_child()
}

/// Is this a path literal (`./x`, `/x`, `~/x`, `<x>`), possibly interpolated?
pub fn is_path(node: &SyntaxNode) -> bool {
    matches!(
        unparen(node).kind(),
        NODE_PATH_ABS | NODE_PATH_REL | NODE_PATH_HOME | NODE_PATH_SEARCH
    )
}

/// Entries of an attribute set `{ k = v; … }` with single static keys.
/// `inherit` entries are returned with `None` values.
pub fn attrset_entries(node: &SyntaxNode) -> Option<Vec<(String, Option<SyntaxNode>)>> {
    let node = unparen(node);
    if node.kind() != NODE_ATTR_SET {
        return None;
    }
    let mut out = Vec::new();
    for entry in node.children() {
        match entry.kind() {
            NODE_ATTRPATH_VALUE => {
                let mut kids = entry.children();
                let path = kids.next()?;
                let value = kids.next();
                let mut attrs = path.children();
                let key = attr_name(&attrs.next()?)?;
                if attrs.next().is_some() {
                    return None; // nested `a.b = …`: not a flat literal set
                }
                out.push((key, value));
            }
            NODE_INHERIT => {
                for attr in entry.children().filter(|c| c.kind() != NODE_INHERIT_FROM) {
                    out.push((attr_name(&attr)?, None));
                }
            }
            _ => {}
        }
    }
    Some(out)
}

/// The value bound to `key` in an attribute-set literal.
pub fn attrset_get(node: &SyntaxNode, key: &str) -> Option<SyntaxNode> {
    attrset_entries(node)?
        .into_iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v)
}

/// Parse `text` as Nix reads it. Nix's lexer takes a lone carriage return
/// (one not followed by a line feed) as a line end: it ends a `#` comment,
/// and inside a string it becomes a line feed; elsewhere it is blank. rnix
/// only ends comments at a line feed, so it would read the code after such a
/// comment as part of it. Replacing each lone CR with a LF gives rnix the
/// tokens Nix sees, at the same byte offsets (positions stay valid).
pub fn parse(text: &str) -> rnix::Parse<rnix::Root> {
    let bytes = text.as_bytes();
    let lone_cr = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
    if !(0..bytes.len()).any(lone_cr) {
        return rnix::Root::parse(text);
    }
    let fixed: String = text
        .char_indices()
        .map(|(i, c)| if lone_cr(i) { '\n' } else { c })
        .collect();
    rnix::Root::parse(&fixed)
}
