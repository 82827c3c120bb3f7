//! Where a Haskell site's batch is bound: the overlay (`self: super: …`)
//! whose package set the site calls into. The one definition `scan`
//! (batchable or not, and why) and `rewrite` (where `ifdBatch` goes, which
//! sources move into it) both use.
//!
//! The rewrite binds `ifdBatch = import …/ifd-batch.nix "FILE" self;` once
//! per overlay, at its *anchor*: as the first binding of the overlay body's
//! `let … in`, or in a new `let … in` around the body. A `callCabal2nix`
//! source that is not a path literal (`lib.cleanSource ./x`, `"${self}/sub"`,
//! `gitignoreSource ./.`, a fetcher call) is copied into that binding, so the
//! batch knows every source before the first site is evaluated: every name
//! it uses must mean the same at the anchor as at the site.

use super::multiplicity::per_element;
use super::reason::{Code, Reason};
use crate::syntax::scope::{Binding, binder, follow_alias, lambda_binder, resolve, resolve_name};
use crate::syntax::{Call, Callee, ident_text, is_reference, unparen};
use rnix::{SyntaxKind::*, SyntaxNode};

/// The name bound to the batch in rewritten overlays.
pub const BATCH_NAME: &str = "ifdBatch";

/// An overlay `outer: inner: body` whose package set (`outer`) sites call into.
pub struct Overlay {
    pub outer_param: String,
    pub inner_param: String,
    pub body: SyntaxNode,
}

impl Overlay {
    /// Where `ifdBatch` is bound: the body's own `let … in` when it has one
    /// (its names are then visible to moved sources), else the body.
    pub fn anchor(&self) -> SyntaxNode {
        let body = unparen(&self.body);
        if body.kind() == NODE_LET_IN {
            body
        } else {
            self.body.clone()
        }
    }
}

/// A site already routed through a batch (`ifdBatch.callHackage …`, or
/// `ifdBatch'ghc96.callHackage …` for a set named explicitly).
pub fn is_routed(callee: &Callee) -> bool {
    callee.path.len() == 1
        && callee.base.as_deref().is_some_and(|b| {
            b == BATCH_NAME
                || b.strip_prefix(BATCH_NAME)
                    .is_some_and(|r| r.starts_with('\''))
        })
}

/// Where a batchable site's batch is bound, and for which set.
pub struct Route {
    pub overlay: Overlay,
    /// A set named explicitly at the site (`pkgs.haskell.packages.ghc96`,
    /// its text), batched by its own binding; None: the overlay's own set.
    pub set: Option<String>,
}

/// The names the batch of `set` may be bound as (None: the overlay's own,
/// `ifdBatch`), shortest first: `ifdBatch'ghc96`, then
/// `ifdBatch'packages'ghc96`, … up to the whole select. Two sets whose
/// last names agree (`pkgsOld.haskellPackages`, `pkgsNew.haskellPackages`)
/// get names of their own, never one batch for both.
pub fn batch_names(set: Option<&str>) -> Vec<String> {
    let Some(s) = set else {
        return vec![BATCH_NAME.to_string()];
    };
    let parts: Vec<String> = s
        .split('.')
        .map(|p| {
            p.chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
                .collect::<String>()
        })
        .filter(|p| !p.is_empty())
        .collect();
    (1..=parts.len().max(1))
        .map(|n| {
            let tail = &parts[parts.len().saturating_sub(n)..];
            format!("{BATCH_NAME}'{}", tail.join("'"))
        })
        .collect()
}

/// Can the rewrite route this Haskell call through a batch? The overlay it
/// is in, or why not. Routed sites need no overlay check.
pub fn batchable(call: &Call, callee: &Callee) -> Result<Option<Route>, Reason> {
    if is_routed(callee) {
        return Ok(None);
    }
    // What the callee stands for, through aliases (`c2n = final.haskellPackages.callCabal2nix;`):
    // the set is read there, and names are resolved where the alias is bound.
    let head = follow_alias(&call.head);
    let aliased = Callee::of(&head);
    let callee = aliased.as_ref().unwrap_or(callee);
    if head.kind() == NODE_IDENT
        && let Some(name) = ident_text(&head)
        && matches!(lambda_binder(&head, &name), Some((_, true)))
    {
        return Err(Reason::new(
            Code::NotInOverlay,
            format!(
                "`{name}` is a parameter of this file's function (a callPackage-style file): \
                 the package set that supplies it is the caller's, which this file cannot name"
            ),
        ));
    }
    // The innermost enclosing overlay whose set the callee calls into: a
    // helper `pkg: ver: self.callHackage pkg ver { }` has the shape of an
    // overlay but not its set.
    let mut first = None;
    let mut innermost = None;
    for overlay in enclosing_overlays(&call.node) {
        match check_callee_set(callee, &head, &overlay) {
            Ok(()) => {
                return Ok(Some(Route { overlay, set: None }));
            }
            Err(e) => {
                first.get_or_insert(e);
                innermost.get_or_insert(overlay);
            }
        }
    }
    // A set named explicitly (`pkgs.haskell.packages.ghc96.callHackage`
    // inside `.override`/`.extend`): its own batch, bound at the innermost
    // overlay's anchor, when the set's name means the same there.
    if let Some((set, expr)) = explicit_set(&head, callee) {
        let mut why = None;
        if let Some(overlay) = innermost {
            match movable(&expr, &overlay, "the package set uses") {
                Ok(()) => {
                    return Ok(Some(Route {
                        overlay,
                        set: Some(set),
                    }));
                }
                Err(m) => why = Some(m.to_string()),
            }
        }
        // Outside any overlay (a flake's `pkgs.haskellPackages.callCabal2nix`),
        // or the set's name is bound below the overlay's top: the nearest
        // `let … in` around the site, else the outermost function body,
        // where the set's name means the same.
        // Only a set that is provably a Haskell package set (the batch
        // needs its `haskellSrc2nix` and `callPackage`).
        let haskell = is_haskell_set(&expr) || haskell_set_name(&set);
        for scope in binding_scopes(&call.node).into_iter().filter(|_| haskell) {
            if movable(&expr, &scope, "the package set uses").is_ok() {
                return Ok(Some(Route {
                    overlay: scope,
                    set: Some(set),
                }));
            }
        }
        return Err(match why {
            Some(m) => Reason::new(Code::OtherSet, m),
            None if !haskell => Reason::new(
                Code::NotInOverlay,
                format!(
                    "not inside an overlay (`self: super: …`) whose package set it calls, and \
                     `{set}` is not provably a Haskell package set (…haskellPackages, \
                     …haskell.packages.NAME)"
                ),
            ),
            None => Reason::new(
                Code::NotInOverlay,
                format!("no `let … in` or function body around the site sees `{set}`"),
            ),
        });
    }
    Err(match first {
        Some(e) => e,
        None => Reason::new(
            Code::NotInOverlay,
            "not inside an overlay (`self: super: …`) whose package set it calls",
        ),
    })
}

/// The set a callee selects from by name, its text and its node:
/// `pkgs.haskellPackages` for `pkgs.haskellPackages.callHackage`, `hself`
/// for `hself.callHackage`, `final.haskellPackages` for a bare
/// `callCabal2nix` bound by `inherit (final.haskellPackages) callCabal2nix;`
/// — when it is a plain name or a select of names from one.
fn explicit_set(head: &SyntaxNode, callee: &Callee) -> Option<(String, SyntaxNode)> {
    let head = unparen(head);
    let (text, node) = match head.kind() {
        NODE_SELECT if callee.base.is_some() => {
            let text = head.text().to_string();
            let set = text
                .strip_suffix(&format!(".{}", callee.name()))?
                .to_string();
            (set, head.first_child()?)
        }
        NODE_IDENT => match resolve(&head) {
            Binding::Inherit(Some(from)) => {
                let from = unparen(&from);
                (from.text().to_string(), from)
            }
            // A bare name under `with hsPkgs;` (innermost), where `hsPkgs`
            // is provably a Haskell package set (it has the function).
            Binding::With => {
                let ns = head
                    .ancestors()
                    .filter(|a| a.kind() == NODE_WITH)
                    .find_map(|w| w.first_child().map(|ns| unparen(&ns)))?;
                if !is_haskell_set(&ns) {
                    return None;
                }
                (ns.text().to_string(), ns)
            }
            _ => return None,
        },
        _ => return None,
    };
    // Only names and selects of names (`a.b.c`), never a computed set.
    let mut base = unparen(&node);
    while base.kind() == NODE_SELECT {
        let attrs = base.children().nth(1)?;
        if attrs.children().any(|a| a.kind() != NODE_IDENT) {
            return None;
        }
        base = unparen(&base.first_child()?);
    }
    (base.kind() == NODE_IDENT
        && !text.contains(|c: char| c.is_whitespace() || c == '#' || c == '('))
    .then_some((text, node))
}

/// Is the overlay one of a Haskell package set: given as `overrides = …`,
/// or to `.extend`, `composeExtensions`, `composeManyExtensions` (directly
/// or in a list)?
fn is_haskell_overlay(overlay: &Overlay) -> bool {
    let Some(lambda) = overlay.body.parent().and_then(|inner| inner.parent()) else {
        return false;
    };
    let mut node = crate::syntax::up_through_parens(&lambda);
    for _ in 0..4 {
        let Some(parent) = node.parent() else {
            return false;
        };
        match parent.kind() {
            NODE_ATTRPATH_VALUE => {
                return parent
                    .first_child()
                    .and_then(|p| p.last_child())
                    .and_then(|a| ident_text(&a))
                    .is_some_and(|n| n == "overrides");
            }
            NODE_APPLY => {
                return Call::flatten(&crate::syntax::up_through_parens(&parent)).is_some_and(
                    |c| {
                        Callee::of(&c.head).is_some_and(|f| {
                            matches!(
                                f.name(),
                                "extend" | "composeExtensions" | "composeManyExtensions"
                            )
                        })
                    },
                );
            }
            NODE_LIST | NODE_PAREN => node = parent,
            _ => return false,
        }
    }
    false
}

/// Is `ns` (a `with`'s namespace) a Haskell package set, which has every
/// `call*` function: a parameter of an overlay of one (`hself` in
/// `hself: hsuper: …` given as `overrides`, `.extend`, or composed), or a
/// name or select that is (through aliases) `….haskellPackages` or
/// `….haskell.packages.NAME`.
fn is_haskell_set(ns: &SyntaxNode) -> bool {
    let ns = follow_alias(ns);
    if haskell_set_name(&ns.text().to_string()) {
        return true;
    }
    // `hs.override …`, `hs.extend …` of a Haskell set is one (also
    // through a name bound to it).
    let ns = match (ns.kind(), resolve(&ns)) {
        (NODE_IDENT, Binding::Value(v)) => unparen(&v),
        _ => ns,
    };
    let Some(call) = Call::flatten(&ns) else {
        return false;
    };
    let head = unparen(&call.head);
    head.kind() == NODE_SELECT
        && Callee::of(&head).is_some_and(|c| matches!(c.name(), "override" | "extend"))
        && head.first_child().is_some_and(|object| {
            let attrs: Vec<String> = head
                .children()
                .nth(1)
                .map(|p| p.children().filter_map(|a| ident_text(&a)).collect())
                .unwrap_or_default();
            let object_text = format!(
                "{}.{}",
                object.text(),
                attrs[..attrs.len().saturating_sub(1)].join(".")
            );
            haskell_set_name(object_text.trim_end_matches('.'))
                || (attrs.len() == 1 && is_haskell_set(&object))
        })
}

/// `….haskellPackages` or `….haskell.packages.NAME`, names only.
fn haskell_set_name(text: &str) -> bool {
    let text: String = text.split_whitespace().collect();
    let parts: Vec<&str> = text.split('.').collect();
    let named = parts.last() == Some(&"haskellPackages")
        || (parts.len() >= 3
            && parts[parts.len() - 3] == "haskell"
            && parts[parts.len() - 2] == "packages");
    named && !text.contains(['(', '$', '"', '#'])
}

/// Where a batch for a set named explicitly may be bound when no overlay
/// holds it: each `let … in` around `node` (innermost first), then each
/// function body (outermost first: a helper's body would make a batch per
/// call), never inside a per-element function. As `Overlay`s without
/// parameters (their body is the anchor).
fn binding_scopes(node: &SyntaxNode) -> Vec<Overlay> {
    let per = per_element(node).map(|p| p.lambda);
    let range = node.text_range();
    let inside_per = |a: &SyntaxNode| {
        per.as_ref()
            .is_some_and(|p| p.text_range().contains_range(a.text_range()) && a != p)
    };
    let scope = |body: SyntaxNode| Overlay {
        outer_param: String::new(),
        inner_param: String::new(),
        body,
    };
    let lets = node
        .ancestors()
        .filter(|a| a.kind() == NODE_LET_IN && !inside_per(a))
        .map(scope);
    let mut bodies: Vec<Overlay> = node
        .ancestors()
        .filter(|a| a.kind() == NODE_LAMBDA && Some(a) != per.as_ref() && !inside_per(a))
        .filter_map(|l| l.children().nth(1))
        .filter(|b| b.text_range().contains_range(range))
        .map(scope)
        .collect();
    bodies.reverse();
    lets.chain(bodies).collect()
}

/// Every `a: b: body` around `node`, innermost first, that is not a
/// per-element function (`mapAttrs (name: value: …)`).
pub fn enclosing_overlays(node: &SyntaxNode) -> impl Iterator<Item = Overlay> {
    let per = per_element(node).map(|p| p.lambda);
    let range = node.text_range();
    node.ancestors()
        .filter(|n| n.kind() == NODE_LAMBDA)
        .filter(move |l| Some(l) != per.as_ref())
        .filter_map(move |outer| {
            let outer_param = ident_param(&outer)?;
            let inner = unparen(&outer.children().nth(1)?);
            if inner.kind() != NODE_LAMBDA {
                return None;
            }
            let inner_param = ident_param(&inner)?;
            let body = inner.children().nth(1)?;
            // The site must be inside the inner body.
            body.text_range().contains_range(range).then_some(Overlay {
                outer_param,
                inner_param,
                body,
            })
        })
}

fn ident_param(lambda: &SyntaxNode) -> Option<String> {
    let p = lambda
        .first_child()
        .filter(|p| p.kind() == NODE_IDENT_PARAM)?;
    ident_text(&p.first_child()?)
}

/// The callee must call into the overlay's own package set: `self.f`,
/// `super.f`, bare `f` under `with self;`, a name bound with
/// `inherit (self) f;` or `f = self.f;`, or a set-independent helper
/// (`haskell.lib.packageSourceOverrides`).
fn check_callee_set(callee: &Callee, head: &SyntaxNode, overlay: &Overlay) -> Result<(), Reason> {
    check_callee_text(callee, head, overlay).map_err(|m| Reason::new(Code::OtherSet, m))
}

/// [`check_callee_set`]'s test, with the reason's message.
fn check_callee_text(
    callee: &Callee,
    head: &SyntaxNode,
    overlay: &Overlay,
) -> Result<(), std::borrow::Cow<'static, str>> {
    if callee.name() == "packageSourceOverrides" {
        return Ok(());
    }
    let params = [overlay.outer_param.as_str(), overlay.inner_param.as_str()];
    // The overlay's own parameter: the same binding seen from `at` as from
    // the overlay's body (an alias bound elsewhere may name another `self`).
    let is_overlay_param = |name: &str, at: &SyntaxNode| {
        params.contains(&name)
            && matches!(resolve_name(at, name), Binding::Param)
            && binder(at, name).is_some_and(|b| binder(&overlay.body, name) == Some(b))
    };
    let is_param_node = |n: &SyntaxNode| {
        let n = unparen(n);
        ident_text(&n).is_some_and(|name| is_overlay_param(&name, &n))
    };
    let not_the_set = |set: &str| {
        format!(
            "`{set}.…{}` is not the package set of the enclosing overlay (`{}: {}: …`)",
            callee.name(),
            overlay.outer_param,
            overlay.inner_param
        )
    };
    match (&callee.base, callee.path.len()) {
        (Some(base), 1) if is_overlay_param(base, head) => Ok(()),
        (Some(base), _) => Err(not_the_set(base).into()),
        (None, _) => {
            let ident = callee.ident.as_ref().ok_or("callee is not a name")?;
            match resolve(ident) {
                // `inherit (self) callHackage;`
                Binding::Inherit(Some(from)) if is_param_node(&from) => return Ok(()),
                Binding::Inherit(Some(from)) => {
                    return Err(not_the_set(&from.text().to_string()).into());
                }
                // (`f = self.f;` was followed by `follow_alias`: what is
                // left is not an alias of a set's function.)
                Binding::Value(v) => {
                    return Err(format!(
                        "`{}` is bound to `{}`, not to the enclosing overlay's package set",
                        callee.name(),
                        unparen(&v).text()
                    )
                    .into());
                }
                Binding::With => {}
                _ => {
                    return Err(
                        "bare name not provided by `with self;` of the enclosing overlay".into(),
                    );
                }
            }
            // Bare name: provided by the INNERMOST `with`, which must be
            // `with <param>;`. An inner `with haskellPackages;` (say, under
            // an outer `with self;` of a nixpkgs overlay) may supply the name
            // from a set we cannot name statically: binding the batch to the
            // outer set would be wrong, so the site is left alone.
            let innermost = head
                .ancestors()
                .filter(|a| a.kind() == NODE_WITH)
                .find_map(|w| w.first_child().map(|ns| unparen(&ns)));
            // Another `with` further out could supply the name when the
            // overlay's set lacks it (a nixpkgs overlay's `final` has no
            // `callHackage`): then the set must be provably Haskell's.
            let withs = head.ancestors().filter(|a| a.kind() == NODE_WITH).count();
            match innermost {
                Some(ns) if is_param_node(&ns) && (withs == 1 || is_haskell_overlay(overlay)) => {
                    Ok(())
                }
                Some(ns) if is_param_node(&ns) => Err(format!(
                    "bare `{}` under `with {};` and another `with`: `{}` is not provably a Haskell \
                     package set, so the name may come from the outer `with`",
                    callee.name(),
                    ns.text(),
                    ns.text()
                )
                .into()),
                Some(ns) => Err(format!(
                    "bare `{}` may come from the innermost `with {};`, whose package set is not \
                     the enclosing overlay's (`{}: {}: …`)",
                    callee.name(),
                    ns.text(),
                    overlay.outer_param,
                    overlay.inner_param
                )
                .into()),
                None => {
                    Err("bare name not provided by `with self;` of the enclosing overlay".into())
                }
            }
        }
    }
}

/// A name an expression uses that the overlay's batch binding cannot see.
#[derive(Debug, thiserror::Error)]
#[error("{uses} `{name}`, {from}")]
pub struct NotMovable {
    /// How the reason starts ("the source uses").
    uses: String,
    name: String,
    from: Between,
}

/// What stands between the overlay's top and the site.
#[derive(Debug)]
enum Between {
    Binding,
    With,
}

impl std::fmt::Display for Between {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Between::Binding => {
                "bound between the overlay and the site: the batch (bound at the top of the overlay) cannot see it"
            }
            Between::With => {
                "which may come from a `with` between the overlay and the site: the batch cannot see it"
            }
        })
    }
}

/// Can `expr` (at a site inside `overlay`) be copied to the overlay's
/// anchor and mean the same there? Every name it uses from outside itself
/// must be bound at or above the anchor — not by a `let`, lambda or `with`
/// between the anchor and the site. `uses` starts the reason
/// ("the source uses").
pub fn movable(expr: &SyntaxNode, overlay: &Overlay, uses: &str) -> Result<(), NotMovable> {
    let anchor = overlay.anchor();
    // Where the binding is seen from: just inside the anchor when it is a
    // `let … in` (its names are visible), else the anchor itself (the
    // binding goes in a new `let … in` around it).
    let (at, stop) = if anchor.kind() == NODE_LET_IN {
        (anchor.first_child(), Some(anchor.clone()))
    } else {
        (Some(anchor.clone()), anchor.parent())
    };
    let at = at.unwrap_or_else(|| anchor.clone());
    let range = expr.text_range();
    for ident in expr.descendants().filter(|n| n.kind() == NODE_IDENT) {
        if !is_reference(&ident) {
            continue;
        }
        let Some(name) = ident_text(&ident) else {
            continue;
        };
        // Nix's global names are lexical: no `with` can shadow them.
        if crate::syntax::scope::NIX_GLOBALS.contains(&name.as_str()) || name.starts_with("__") {
            continue;
        }
        match binder(&ident, &name) {
            Some(b) if range.contains_range(b.text_range()) => {}
            Some(b) => {
                if binder(&at, &name).as_ref() != Some(&b) {
                    return Err(NotMovable {
                        uses: uses.to_string(),
                        name,
                        from: Between::Binding,
                    });
                }
            }
            None => {
                // A global or a `with` name: no `with` may stand between the
                // anchor and the site.
                let between = ident
                    .ancestors()
                    .take_while(|a| Some(a) != stop.as_ref())
                    .any(|a| {
                        a.kind() == NODE_WITH
                            && !range.contains_range(a.text_range())
                            && a.first_child().is_some_and(|ns| {
                                !ns.text_range().contains_range(ident.text_range())
                            })
                    });
                if between {
                    return Err(NotMovable {
                        uses: uses.to_string(),
                        name,
                        from: Between::With,
                    });
                }
            }
        }
    }
    Ok(())
}
