//! "Is this a derivation output?" — the small binding analysis behind the
//! `import-drv` and `read-drv` kinds.
//!
//! `Definite`: a derivation is built there — a producer such as
//! `runCommand`, reached directly, through names, through a local helper
//! that returns one, or through an overlay's own attribute (`self.gen`).
//! `Possible`: a plausible derivation that cannot be decided statically (a
//! lambda parameter, an attribute of something). `None`: not a derivation
//! output, so not import-from-derivation: a path literal, `<…>`, a plain
//! string, a builtin fetcher's store path (that fetch is its own
//! `builtin-fetch` site), a flake input (`inputs.x`, a name bound by a
//! flake's `outputs` arguments) or the flake's own source (`self`), a
//! nixpkgs source tree (`import nixpkgs { … }`), pinned sources (niv's and
//! npins' `sources.x`), and a parameter that is a path by its default or
//! by every element it is mapped over.

use super::multiplicity::literal_elements;
use super::routed::unwrap_ready;
use crate::syntax::scope::{Binding, binding_in, lambda_binder, resolve};
use crate::syntax::{
    Call, Callee, attrset_get, ident_text, is_path, leading_interpolation, string_literal, unparen,
};
use rnix::{SyntaxKind::*, SyntaxNode};
use serde::Serialize;

/// How sure a site is: a derivation is built there (`Definite`), or
/// plausibly but not decidably (`Possible`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Definite,
    Possible,
}

/// Functions whose result is a derivation (by last attribute name).
pub const PRODUCERS: &[&str] = &[
    "runCommand",
    "runCommandLocal",
    "runCommandNoCC",
    "runCommandNoCCLocal",
    "runCommandCC",
    "runCommandWith",
    "writeText",
    "writeTextFile",
    "writeTextDir",
    "writeScript",
    "writeScriptBin",
    "writeShellScript",
    "writeShellScriptBin",
    "writeShellApplication",
    "writeJSON",
    "mkDerivation",
    "derivation",
    "fetchFromGitHub",
    "fetchFromGitLab",
    "fetchFromGitea",
    "fetchFromBitbucket",
    "fetchFromSourcehut",
    "fetchurl",
    "fetchzip",
    "fetchgit",
    "fetchgitPrivate",
    "fetchpatch",
    "fetchsvn",
    "fetchhg",
    "fetchCrate",
    "symlinkJoin",
    "linkFarm",
    "linkFarmFromDrvs",
    "applyPatches",
    "srcOnly",
    "substituteAll",
    "replaceVars",
    "buildEnv",
    "haskellSrc2nix",
    "hackage2nix",
];

/// Functions that return their source argument as a string or a filtered
/// copy: a derivation output stays one. Which argument is the source.
const PASS_THROUGH: &[(&str, Source)] = &[
    ("toString", Source::Arg(0)),
    ("toPath", Source::Arg(0)),
    ("cleanSource", Source::Arg(0)),
    ("sourceByRegex", Source::Arg(0)),
    ("sourceFilesBySuffices", Source::Arg(0)),
    ("gitignoreSource", Source::Last),
    ("gitignoreSourcePure", Source::Last),
    ("cleanSourceWith", Source::Attr("src")),
    ("concatStrings", Source::FirstElement(0)),
    ("concatStringsSep", Source::FirstElement(1)),
    ("overrideAttrs", Source::Object),
    ("override", Source::Object),
    ("overrideDerivation", Source::Object),
];

#[derive(Clone, Copy)]
enum Source {
    Arg(usize),
    Last,
    Attr(&'static str),
    /// The first element of the list given as this argument.
    FirstElement(usize),
    /// `x.overrideAttrs f`: `x`.
    Object,
}

/// Functions whose result is most likely a derivation, though not surely.
const LIKELY_DERIVATIONS: &[&str] = &["callPackage", "callCabal2nix", "callHackage"];

/// Names that look like values but are plain paths, never derivations.
const PLAIN_PATH_ATTRS: &[&str] = &["path"];

const MAX_DEPTH: u32 = 12;

/// Is `expr` (the thing imported / read) a derivation output?
pub fn drv_output(expr: &SyntaxNode) -> Option<Confidence> {
    Analysis::default().output(expr, 0)
}

/// Not a derivation by its name: `self` (a flake's own source),
/// `inputs.x` (a flake input), `sources.x` (niv, npins), `…nixpkgs…` (a
/// nixpkgs source tree). `segments` is a selection's base and attributes.
pub fn implausible_name(segments: &[&str]) -> bool {
    let segments = match segments.split_last() {
        Some((&"outPath", rest)) => rest,
        _ => segments,
    };
    let Some((last, rest)) = segments.split_last() else {
        return false;
    };
    last.to_ascii_lowercase().contains("nixpkgs")
        || matches!(rest.last(), Some(&"inputs" | &"sources"))
        || segments == ["self"]
}

#[derive(Default)]
struct Analysis {
    /// The local helpers being followed, each with the argument it was
    /// applied to: (lambda, argument).
    args: Vec<(SyntaxNode, SyntaxNode)>,
}

fn either(a: Option<Confidence>, b: Option<Confidence>) -> Option<Confidence> {
    match (a, b) {
        (Some(Confidence::Definite), Some(Confidence::Definite)) => Some(Confidence::Definite),
        (None, None) => None,
        _ => Some(Confidence::Possible),
    }
}

impl Analysis {
    fn output(&mut self, expr: &SyntaxNode, depth: u32) -> Option<Confidence> {
        if depth > MAX_DEPTH {
            return Some(Confidence::Possible);
        }
        let expr = unparen(expr);
        // A site already routed through a generic batch: `ifdBatchGroup.ready X`.
        if let Some(inner) = unwrap_ready(&expr) {
            return self.output(&inner, depth + 1);
        }
        match expr.kind() {
            NODE_STRING => {
                // "${drv}/x": the string's context carries the derivation.
                let inner = leading_interpolation(&expr)?;
                self.output(&inner, depth + 1)
            }
            NODE_BIN_OP => {
                // drv + "/x"
                let is_add = expr.children_with_tokens().any(|c| c.kind() == TOKEN_ADD);
                if !is_add {
                    return None;
                }
                self.output(&expr.first_child()?, depth + 1)
            }
            NODE_IF_ELSE => {
                let mut kids = expr.children().skip(1);
                let (then, other) = (kids.next()?, kids.next()?);
                let a = self.output(&then, depth + 1);
                let b = self.output(&other, depth + 1);
                either(a, b)
            }
            NODE_LET_IN | NODE_WITH | NODE_ASSERT => self.output(&expr.last_child()?, depth + 1),
            NODE_SELECT => self.select(&expr, depth),
            NODE_APPLY => self.apply(&expr, depth),
            NODE_IDENT => self.ident(&expr, depth),
            _ => None,
        }
    }

    fn select(&mut self, expr: &SyntaxNode, depth: u32) -> Option<Confidence> {
        let callee = Callee::of(expr)?;
        let segments: Vec<&str> = callee
            .base
            .iter()
            .chain(&callee.path)
            .map(String::as_str)
            .collect();
        if implausible_name(&segments) || from_pinned_sources(expr) {
            return None;
        }
        match callee.name() {
            "outPath" => {
                let base = expr.first_child()?;
                Some(
                    self.output(&base, depth + 1)
                        .unwrap_or(Confidence::Possible),
                )
            }
            name if PLAIN_PATH_ATTRS.contains(&name) => None,
            _ if self.param_field_is_plain(expr, depth) => None,
            _ => match overlay_attribute(expr) {
                Some(value) => self.output(&value, depth + 1),
                None => Some(Confidence::Possible),
            },
        }
    }

    fn apply(&mut self, expr: &SyntaxNode, depth: u32) -> Option<Confidence> {
        let call = Call::flatten(expr)?;
        let callee = Callee::of(&call.head)?;
        let name = callee.name();
        if let Some(&(_, source)) = PASS_THROUGH.iter().find(|(n, _)| *n == name) {
            let inner = match source {
                Source::Arg(i) => call.arg(i).cloned(),
                Source::Last => call.args.last().cloned(),
                Source::Attr(key) => call.arg(0).and_then(|a| attrset_get(a, key)),
                Source::FirstElement(i) => call
                    .arg(i)
                    .map(unparen)
                    .filter(|l| l.kind() == NODE_LIST)
                    .and_then(|l| l.first_child()),
                // `x.overrideAttrs f`: `x`, when it is a node of its own;
                // `pkgs.x.overrideAttrs f`: an attribute of something.
                Source::Object if callee.path.len() == 1 && callee.base.is_some() => {
                    unparen(&call.head).first_child()
                }
                Source::Object => {
                    let segments: Vec<&str> = callee
                        .base
                        .iter()
                        .chain(&callee.path[..callee.path.len().saturating_sub(1)])
                        .map(String::as_str)
                        .collect();
                    return (callee.base.is_some() && !implausible_name(&segments))
                        .then_some(Confidence::Possible);
                }
            };
            return self.output(&inner?, depth + 1);
        }
        // builtins.fetchurl and the other builtins return a plain store path
        // (a builtin fetch is reported on its own) or a value, not a
        // derivation.
        if callee.is_builtins()
            || callee.ident.as_ref().is_some_and(|i| {
                crate::syntax::scope::GLOBAL_BUILTINS.contains(&name)
                    && matches!(resolve(i), Binding::Global)
            })
        {
            return (name == "derivation").then_some(Confidence::Definite);
        }
        if PRODUCERS.contains(&name) {
            return Some(Confidence::Definite);
        }
        if LIKELY_DERIVATIONS.contains(&name) {
            return Some(Confidence::Possible);
        }
        // A local helper: `fetch = spec: pkgs.fetchFromGitHub { … };`.
        let helper = callee.ident.as_ref().and_then(|i| match resolve(i) {
            Binding::Value(v) => Some(unparen(&v)).filter(|v| v.kind() == NODE_LAMBDA),
            _ => None,
        })?;
        self.follow(&helper, &call.args, depth)
    }

    /// The value a helper returns when applied to `args`.
    fn follow(
        &mut self,
        helper: &SyntaxNode,
        args: &[SyntaxNode],
        depth: u32,
    ) -> Option<Confidence> {
        // A recursive helper: its other branches decide.
        if self.args.iter().any(|(l, _)| l == helper) {
            return None;
        }
        let before = self.args.len();
        let mut body = helper.clone();
        for arg in args {
            if body.kind() != NODE_LAMBDA {
                break;
            }
            self.args.push((body.clone(), arg.clone()));
            match body.last_child() {
                Some(b) => body = unparen(&b),
                None => break,
            }
        }
        // Partially applied: a function, not a derivation.
        let out = if body.kind() == NODE_LAMBDA {
            None
        } else {
            self.output(&body, depth + 1)
        };
        self.args.truncate(before);
        out
    }

    fn ident(&mut self, expr: &SyntaxNode, depth: u32) -> Option<Confidence> {
        let name = ident_text(expr)?;
        if guarded_as_path(expr, &name) {
            return None;
        }
        match resolve(expr) {
            Binding::Value(v) => self.output(&v, depth + 1),
            Binding::Param => self.param(expr, &name, depth),
            Binding::Inherit(from) => {
                let from = from.and_then(|f| Callee::of(&f));
                let mut segments: Vec<&str> = from
                    .iter()
                    .flat_map(|c| c.base.iter().chain(&c.path))
                    .map(String::as_str)
                    .collect();
                segments.push(&name);
                (!implausible_name(&segments)).then_some(Confidence::Possible)
            }
            Binding::With => {
                if implausible_name(&[&name]) {
                    return None;
                }
                match with_overlay_attribute(expr, &name) {
                    Some(value) => self.output(&value, depth + 1),
                    None => Some(Confidence::Possible),
                }
            }
            Binding::Global => None,
        }
    }

    /// `project.base` where `project` is a plain parameter (`project: …`)
    /// whose every application in the file passes a literal set with a
    /// plain `base` (a path, a string): not a derivation.
    fn param_field_is_plain(&mut self, select: &SyntaxNode, depth: u32) -> bool {
        let (Some(base), Some(attrpath)) = (select.first_child(), select.children().nth(1)) else {
            return false;
        };
        let base = unparen(&base);
        let attrs: Vec<SyntaxNode> = attrpath.children().collect();
        let (Some(name), [attr]) = (ident_text(&base), attrs.as_slice()) else {
            return false;
        };
        let Some(field) = crate::syntax::attr_name(attr) else {
            return false;
        };
        if !matches!(resolve(&base), Binding::Param) {
            return false;
        }
        let Some((lambda, false)) = lambda_binder(&base, &name) else {
            return false;
        };
        // A helper being followed: the set it was applied to.
        if let Some(arg) = self
            .args
            .iter()
            .rev()
            .find(|(l, _)| *l == lambda)
            .map(|(_, a)| a.clone())
        {
            return attrset_get(&arg, &field)
                .is_some_and(|v| is_plain(&v) || self.output(&v, depth + 1).is_none());
        }
        let (head, position) = curried_head(&lambda);
        always_applied_to_plain(&head, position, Some(&field))
    }

    fn param(&mut self, expr: &SyntaxNode, name: &str, depth: u32) -> Option<Confidence> {
        if implausible_name(&[name]) {
            return None;
        }
        let Some((lambda, pattern)) = lambda_binder(expr, name) else {
            return Some(Confidence::Possible);
        };
        // A parameter of a helper being followed: what it was applied to.
        if let Some(arg) = self
            .args
            .iter()
            .rev()
            .find(|(l, _)| *l == lambda)
            .map(|(_, a)| a.clone())
        {
            if !pattern {
                return self.output(&arg, depth + 1);
            }
            return match attrset_get(&arg, name) {
                Some(v) => self.output(&v, depth + 1),
                None => Some(Confidence::Possible),
            };
        }
        if is_flake_outputs(&lambda) || has_plain_default(&lambda, name) {
            return None;
        }
        let (head, position) = curried_head(&lambda);
        if literal_elements(&head).is_some_and(|els| !els.is_empty() && els.iter().all(is_plain))
            || always_applied_to_plain(&head, position, pattern.then_some(name))
        {
            return None;
        }
        Some(Confidence::Possible)
    }
}

/// A plain value, never a derivation output: a path literal (also
/// `./x + "/y"`), `<…>`, a string without interpolation, a number, a URI,
/// an `if` whose branches are plain (one may be `null`), or a name bound to
/// one. A bare `null` (`src ? null`) says nothing of what is passed.
fn is_plain(node: &SyntaxNode) -> bool {
    plain(node, 0)
}

fn plain(node: &SyntaxNode, depth: u32) -> bool {
    let is_null = |n: &SyntaxNode| {
        let n = unparen(n);
        n.kind() == NODE_IDENT && n.text() == "null" && matches!(resolve(&n), Binding::Global)
    };
    let n = unparen(node);
    if depth > 4 {
        return false;
    }
    match n.kind() {
        NODE_LITERAL => true,
        NODE_STRING => string_literal(&n).is_some(),
        NODE_BIN_OP => {
            n.children_with_tokens().any(|c| c.kind() == TOKEN_ADD)
                && n.first_child().is_some_and(|a| is_path(&a))
        }
        NODE_IF_ELSE => {
            let branches: Vec<SyntaxNode> = n.children().skip(1).collect();
            branches.iter().any(|b| !is_null(b))
                && branches.iter().all(|b| is_null(b) || plain(b, depth + 1))
        }
        NODE_IDENT => match resolve(&n) {
            Binding::Global => matches!(n.text().to_string().as_str(), "true" | "false"),
            Binding::Value(v) => plain(&v, depth + 1),
            _ => false,
        },
        _ => is_path(&n),
    }
}

/// The outermost lambda of a curried chain `a: b: c: …` that `lambda` ends,
/// and the position of `lambda` in it (0 for the outermost).
fn curried_head(lambda: &SyntaxNode) -> (SyntaxNode, usize) {
    let mut l = lambda.clone();
    let mut position = 0;
    while let Some(p) = crate::syntax::up_through_parens(&l).parent()
        && p.kind() == NODE_LAMBDA
        && p.first_child()
            .is_some_and(|param| param.text_range().end() <= l.text_range().start())
    {
        l = p;
        position += 1;
    }
    (l, position)
}

/// `f = dir: … readDir dir …;` where every use of `f` in its scope applies
/// it to a plain value at `position` (for a pattern parameter, to a literal
/// set whose `field` is plain): the parameter is a path, not a derivation.
fn always_applied_to_plain(head: &SyntaxNode, position: usize, field: Option<&str>) -> bool {
    let outer = crate::syntax::up_through_parens(head);
    let Some(entry) = outer.parent().filter(|p| p.kind() == NODE_ATTRPATH_VALUE) else {
        return false;
    };
    let mut attrs = entry
        .first_child()
        .map(|p| p.children())
        .into_iter()
        .flatten();
    let (Some(name), None) = (
        attrs.next().and_then(|a| crate::syntax::attr_name(&a)),
        attrs.next(),
    ) else {
        return false;
    };
    let Some(scope) = entry.parent() else {
        return false;
    };
    let is_scope = scope.kind() == NODE_LET_IN
        || (scope.kind() == NODE_ATTR_SET
            && scope.children_with_tokens().any(|c| c.kind() == TOKEN_REC));
    if !is_scope {
        return false;
    }
    let mut uses = 0;
    for ident in scope.descendants().filter(|n| {
        n.kind() == NODE_IDENT
            && n.text() == name.as_str()
            && !n.ancestors().any(|a| a.kind() == NODE_ATTRPATH)
    }) {
        if !matches!(crate::syntax::scope::resolve_name(&ident, &name), Binding::Value(v) if v == outer)
        {
            continue;
        }
        uses += 1;
        let used = crate::syntax::up_through_parens(&ident);
        let Some(call) = Call::enclosing(&used).filter(|c| c.head == used) else {
            return false;
        };
        let Some(arg) = call.arg(position) else {
            return false;
        };
        let ok = match field {
            None => is_plain(arg),
            Some(f) => crate::syntax::attrset_entries(arg).is_some_and(|entries| {
                entries
                    .iter()
                    .any(|(k, v)| k == f && v.as_ref().is_some_and(is_plain))
            }),
        };
        if !ok {
            return false;
        }
    }
    uses > 0
}

/// `{ outputs = { self, nixpkgs, … }: …; }` at the top of a flake: its
/// arguments are the flake's own source and its inputs, store paths
/// fetched before evaluation.
fn is_flake_outputs(lambda: &SyntaxNode) -> bool {
    let outer = crate::syntax::up_through_parens(lambda);
    let Some(entry) = outer.parent().filter(|p| p.kind() == NODE_ATTRPATH_VALUE) else {
        return false;
    };
    let key = entry
        .first_child()
        .and_then(|path| path.first_child())
        .and_then(|a| crate::syntax::attr_name(&a));
    let Some(set) = entry.parent().filter(|s| s.kind() == NODE_ATTR_SET) else {
        return false;
    };
    key.as_deref() == Some("outputs")
        && crate::syntax::up_through_parens(&set)
            .parent()
            .is_some_and(|r| r.kind() == NODE_ROOT)
}

/// `{ src ? ./., … }:`: a parameter whose default is a plain path or string
/// is a path parameter.
fn has_plain_default(lambda: &SyntaxNode, name: &str) -> bool {
    let Some(pattern) = lambda.first_child().filter(|p| p.kind() == NODE_PATTERN) else {
        return false;
    };
    pattern
        .children()
        .filter(|e| e.kind() == NODE_PAT_ENTRY)
        .find(|e| e.first_child().and_then(|i| ident_text(&i)).as_deref() == Some(name))
        .and_then(|e| e.children().nth(1))
        .is_some_and(|default| is_plain(&default))
}

/// `sources.x` where `sources = import ./nix/sources.nix { … };` (niv): the
/// store paths of pinned builtin fetches, reported at the fetch.
fn from_pinned_sources(select: &SyntaxNode) -> bool {
    let Some(base) = select.first_child().map(|b| unparen(&b)) else {
        return false;
    };
    let value = match base.kind() {
        NODE_IDENT => match resolve(&base) {
            Binding::Value(v) => unparen(&v),
            _ => return false,
        },
        _ => base,
    };
    let Some(call) = Call::flatten(&value) else {
        return false;
    };
    Callee::of(&call.head).is_some_and(|c| c.name() == "import")
        && call.arg(0).is_some_and(|p| {
            let p = unparen(p);
            is_path(&p) && {
                let t = p.text().to_string();
                t.ends_with("sources.nix") || t.ends_with("npins") || t.ends_with("npins/")
            }
        })
}

/// `self.gen` inside an overlay `self: super: { gen = …; … }`: the value of
/// the overlay's own attribute.
fn overlay_attribute(select: &SyntaxNode) -> Option<SyntaxNode> {
    let base = unparen(&select.first_child()?);
    let attrpath = select.children().nth(1)?;
    let mut attrs = attrpath.children();
    let name = crate::syntax::attr_name(&attrs.next()?)?;
    if attrs.next().is_some() || base.kind() != NODE_IDENT {
        return None;
    }
    attribute_of_overlay_self(&base, &name)
}

/// A bare name under `with self;` (the overlay's own set): its value.
fn with_overlay_attribute(ident: &SyntaxNode, name: &str) -> Option<SyntaxNode> {
    let mut child = ident.clone();
    while let Some(parent) = child.parent() {
        if parent.kind() == NODE_WITH && parent.first_child().as_ref() != Some(&child) {
            let ns = unparen(&parent.first_child()?);
            if ns.kind() == NODE_IDENT
                && let Some(v) = attribute_of_overlay_self(&ns, name)
            {
                return Some(v);
            }
        }
        child = parent;
    }
    None
}

/// `ident` is the first parameter of an overlay `self: super: BODY` whose
/// body is an attribute set binding `name`: that binding's value.
fn attribute_of_overlay_self(ident: &SyntaxNode, name: &str) -> Option<SyntaxNode> {
    let self_name = ident_text(ident)?;
    if !matches!(resolve(ident), Binding::Param) {
        return None;
    }
    let (outer, pattern) = lambda_binder(ident, &self_name)?;
    if pattern {
        return None;
    }
    let inner = unparen(&outer.last_child()?);
    if inner.kind() != NODE_LAMBDA
        || inner
            .first_child()
            .is_none_or(|p| p.kind() != NODE_IDENT_PARAM)
    {
        return None;
    }
    attribute_of_body(&inner.last_child()?, name, 0)
}

/// The value an overlay body binds to `name`: through `let … in` and
/// `with`, and in either side of `a // b` (the right one wins, as `//`
/// does).
fn attribute_of_body(body: &SyntaxNode, name: &str, depth: u32) -> Option<SyntaxNode> {
    let mut body = unparen(body);
    while matches!(body.kind(), NODE_LET_IN | NODE_WITH) {
        body = unparen(&body.last_child()?);
    }
    match body.kind() {
        NODE_ATTR_SET => match binding_in(&body, name)? {
            Binding::Value(v) => Some(v),
            _ => None,
        },
        NODE_BIN_OP
            if depth < 8
                && body
                    .children_with_tokens()
                    .any(|c| c.kind() == TOKEN_UPDATE) =>
        {
            let (left, right) = (body.first_child()?, body.last_child()?);
            // The left side counts only when the right is a set we can read
            // (something computed there could bind the name too).
            let readable = |n: &SyntaxNode| unparen(n).kind() == NODE_ATTR_SET;
            attribute_of_body(&right, name, depth + 1).or_else(|| {
                readable(&right)
                    .then(|| attribute_of_body(&left, name, depth + 1))
                    .flatten()
            })
        }
        _ => None,
    }
}

/// Is `ident` used where a condition has just said it is a path: the
/// `then` branch of `if isPath x`, (`lib.isPath x`, `builtins.isPath x`,
/// `builtins.typeOf x == "path"`, alone or in a chain of `&&`), or the body
/// of `assert isPath x;`? A path value is never a derivation's output.
fn guarded_as_path(ident: &SyntaxNode, name: &str) -> bool {
    let binding = crate::syntax::scope::binder(ident, name);
    let says_path = |cond: &SyntaxNode| says_path(cond, name, &binding, 0);
    let mut child = ident.clone();
    while let Some(parent) = child.parent() {
        match parent.kind() {
            NODE_IF_ELSE => {
                let mut kids = parent.children();
                if let (Some(cond), Some(then)) = (kids.next(), kids.next())
                    && then == child
                    && says_path(&cond)
                {
                    return true;
                }
            }
            NODE_ASSERT => {
                if let Some(cond) = parent.first_child()
                    && cond != child
                    && says_path(&cond)
                {
                    return true;
                }
            }
            _ => {}
        }
        child = parent;
    }
    false
}

fn says_path(cond: &SyntaxNode, name: &str, binding: &Option<SyntaxNode>, depth: u32) -> bool {
    let cond = unparen(cond);
    let same = |n: &SyntaxNode| {
        let n = unparen(n);
        ident_text(&n).as_deref() == Some(name)
            && crate::syntax::scope::binder(&n, name) == *binding
    };
    match cond.kind() {
        NODE_APPLY => Call::flatten(&cond).is_some_and(|c| {
            Callee::of(&c.head).is_some_and(|f| f.name() == "isPath")
                && c.args.len() == 1
                && same(&c.args[0])
        }),
        NODE_BIN_OP if depth < 8 => {
            let op = cond
                .children_with_tokens()
                .find(|c| matches!(c.kind(), TOKEN_AND_AND | TOKEN_EQUAL))
                .map(|c| c.kind());
            let (Some(a), Some(b)) = (cond.first_child(), cond.last_child()) else {
                return false;
            };
            match op {
                Some(TOKEN_AND_AND) => {
                    says_path(&a, name, binding, depth + 1)
                        || says_path(&b, name, binding, depth + 1)
                }
                // builtins.typeOf x == "path"
                Some(TOKEN_EQUAL) => {
                    let type_of = |n: &SyntaxNode| {
                        Call::flatten(&unparen(n)).is_some_and(|c| {
                            Callee::of(&c.head).is_some_and(|f| f.name() == "typeOf")
                                && c.args.len() == 1
                                && same(&c.args[0])
                        })
                    };
                    let path = |n: &SyntaxNode| string_literal(n).as_deref() == Some("path");
                    (type_of(&a) && path(&b)) || (path(&a) && type_of(&b))
                }
                _ => false,
            }
        }
        _ => false,
    }
}
