//! Detection: from one parsed file to a list of IFD sites.
//!
//! [`detect`] visits every outermost application whose callee some kind
//! looks at, asks each kind's detector (`kinds/`, one file per kind, listed
//! by the `kinds!` registry), and turns the first [`Finding`] into a
//! [`Site`]. Below the kinds, the analyses they share: the derivation
//! analysis (`drv`), hotspots (`multiplicity`), local helpers (`helper`),
//! overlays (`overlay`), the routed-group syntax (`routed`) and the reason
//! codes (`reason`). Above them, the decisions taken over a whole file,
//! which read the registry: generic groups (`generic`) and conflicts
//! (`conflicts`).

pub(crate) mod conflicts;
pub(crate) mod drv;
pub(crate) mod generic;
pub(crate) mod helper;
pub(crate) mod kinds;
pub(crate) mod multiplicity;
pub(crate) mod overlay;
pub(crate) mod reason;
pub(crate) mod routed;
pub(crate) mod site;

pub use drv::Confidence;
pub use kinds::builtin_fetch::Fetch;
pub use kinds::cabal2nix::{Source, SrcKind};
pub use kinds::hackage::Pins;
pub use kinds::hackage_direct::DirectPins;
pub use kinds::source_overrides::{Entries, Override};
pub use kinds::{Args, Batch, Detector, Empty, Finding, Kind, KindDecl, Pin, ReadTarget, TargetFn};
/// The kinds' modules where other stages name them
/// (`detect::cabal2nix::SrcKind`, `detect::source_overrides::Override`).
pub(crate) use kinds::{cabal2nix, source_overrides};
pub use multiplicity::Multiplicity;
pub use reason::{Code, Reason};
pub use site::{FileSites, Site};

use crate::source::LineIndex;
use crate::syntax::{self, Call, Callee};
use rnix::{SyntaxKind::*, SyntaxNode};

/// The marker comment that suppresses the site on the next line.
pub const ALLOW_MARKER: &str = "ifd-batch: allow";

/// Run every detector over a parsed file.
pub fn detect(root: &SyntaxNode, text: &str, file: &str) -> FileSites {
    detect_calls(root, text, file).0
}

/// [`detect`], and each site's call (`calls[i]` is `sites[i]`'s) for the
/// stages that act on the tree while it is alive (`rewrite`).
pub fn detect_calls(root: &SyntaxNode, text: &str, file: &str) -> (FileSites, Vec<Call>) {
    // Most files have no site: build the line index only when one is found.
    let index = std::cell::OnceCell::new();
    let mut out = FileSites::default();
    let mut calls = Vec::new();
    for node in candidate_calls(root, &alias_names(root, text)) {
        let index = index.get_or_init(|| LineIndex::new(text));
        let Some(call) = Call::flatten(&node) else {
            continue;
        };
        let Some(callee) = Callee::resolved(&call.head) else {
            continue;
        };
        let Some(mut finding) = Kind::ALL
            .iter()
            .find_map(|k| (k.decl().detect)(&call, &callee))
        else {
            continue;
        };
        // Haskell sites are batched in the overlay whose set they call
        // into; generic ones where their derivation can share a barrier.
        if finding.batchable.is_ok() {
            let decl = finding.kind.decl();
            finding.batchable = match decl.batch {
                Batch::Haskell => overlay::batchable(&call, &callee).map(drop),
                Batch::Generic => match decl.target.and_then(|t| t(&call, &callee)) {
                    Some(target) => generic::batchability(&call.node, &target).map(drop),
                    None => Ok(()),
                },
                Batch::No => Ok(()),
            };
        }
        let start = usize::from(call.head.text_range().start());
        let last = call
            .args
            .get(finding.arity.saturating_sub(1))
            .filter(|_| finding.arity > 0)
            .unwrap_or(&call.head);
        let end = usize::from(last.text_range().end());
        let (line, column) = index.line_col(start);
        if line >= 2
            && index.line_text(line - 2).trim_start().starts_with('#')
            && index.line_text(line - 2).contains(ALLOW_MARKER)
        {
            out.suppressed += 1;
            continue;
        }
        let (end_line, end_column) = index.line_col(end);
        let per = multiplicity::per_element(&call.node);
        let (multiplicity, elements) = match &per {
            Some(p) => (Multiplicity::PerElement, p.elements),
            None => (Multiplicity::Once, None),
        };
        let rounds = finding.rounds * elements.unwrap_or(1);
        out.sites.push(Site {
            file: file.to_string(),
            line,
            column,
            end_line,
            end_column,
            byte_range: [start, end],
            kind: finding.kind,
            confidence: finding.confidence,
            batchable: finding.batchable.is_ok(),
            reason_code: finding.batchable.as_ref().err().map(|r| r.code),
            reason: finding.batchable.err().map(|r| r.message),
            multiplicity,
            elements,
            call: call.head.text().to_string(),
            args: finding.args,
            message: finding.message,
            rounds,
            rounds_exact: per.is_none() || elements.is_some(),
            group: None,
        });
        calls.push(call);
    }
    generic::layer(&mut out.sites, &calls);
    conflicts::mark(&mut out.sites, &calls);
    (out, calls)
}

/// Names bound in the file (`let` / `rec`) to a name or select that ends
/// in a callee some detector looks at: `c2n = final.haskellPackages.callCabal2nix;`.
/// Their calls are candidates too; `Callee::resolved` follows them. Files
/// that mention no callee name skip the walk.
fn alias_names(root: &SyntaxNode, text: &str) -> Vec<String> {
    let mentions = Kind::ALL
        .iter()
        .flat_map(|k| k.decl().callees)
        .any(|c| text.contains(c));
    if !mentions {
        return Vec::new();
    }
    // (name, the last name of what it is bound to)
    let mut bound: Vec<(String, String)> = Vec::new();
    for binding in root
        .descendants()
        .filter(|n| n.kind() == NODE_ATTRPATH_VALUE)
    {
        let mut kids = binding.children();
        let (Some(path), Some(value)) = (kids.next(), kids.next()) else {
            continue;
        };
        let value = syntax::unparen(&value);
        if !matches!(value.kind(), NODE_IDENT | NODE_SELECT) {
            continue;
        }
        let (Some(attr), 1) = (path.first_child(), path.children().count()) else {
            continue;
        };
        let Some(name) = syntax::ident_text(&attr) else {
            continue;
        };
        if let Some(c) = Callee::of(&value)
            && !Kind::is_callee_name(&name)
        {
            bound.push((name, c.name().to_string()));
        }
    }
    // Aliases of aliases (`c = self.callHackage; d = c;`), to a fixpoint.
    let mut out: Vec<String> = Vec::new();
    loop {
        let before = out.len();
        for (name, to) in &bound {
            if !out.contains(name) && (Kind::is_callee_name(to) || out.contains(to)) {
                out.push(name.clone());
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

/// The outermost applications whose callee a detector looks at, in
/// source order. Walks rowan's green tree (no cursor node is allocated per
/// visited node, unlike `descendants()`), and makes a syntax node only for
/// the few matches.
fn candidate_calls(root: &SyntaxNode, aliases: &[String]) -> Vec<SyntaxNode> {
    let wanted = |name: &str| Kind::is_callee_name(name) || aliases.iter().any(|a| a == name);
    let green = root.green();
    let mut ranges = Vec::new();
    // (node, its start offset, is it the function part of an application?)
    let mut stack = vec![(green, root.text_range().start(), false)];
    while let Some((node, start, is_head)) = stack.pop() {
        let is_apply = green_kind(node) == NODE_APPLY;
        if is_apply && !is_head && green_head_name(node).is_some_and(wanted) {
            ranges.push(rowan::TextRange::at(start, node.text_len()));
        }
        let mut offset = start;
        let mut first = true;
        let mut children = Vec::new();
        for child in node.children() {
            if let rowan::NodeOrToken::Node(n) = child {
                children.push((n, offset, is_apply && first));
                first = false;
            }
            offset += child.text_len();
        }
        // Reversed, so that nodes pop in source order.
        stack.extend(children.into_iter().rev());
    }
    ranges
        .into_iter()
        .filter_map(|r| match root.covering_element(r) {
            rowan::NodeOrToken::Node(n) if n.kind() == NODE_APPLY => Some(n),
            _ => None,
        })
        .collect()
}

fn green_child_nodes(node: &rowan::GreenNodeData) -> impl Iterator<Item = &rowan::GreenNodeData> {
    node.children().filter_map(|c| c.into_node())
}

fn green_kind(node: &rowan::GreenNodeData) -> rnix::SyntaxKind {
    <rnix::NixLanguage as rowan::Language>::kind_from_raw(node.kind())
}

/// The last name of an application chain's head (`callHackage` for
/// `self.callHackage "a" "1" { }`), read on the green tree.
fn green_head_name(mut node: &rowan::GreenNodeData) -> Option<&str> {
    while matches!(green_kind(node), NODE_APPLY | NODE_PAREN) {
        node = node.children().find_map(|c| c.into_node())?;
    }
    let ident = match green_kind(node) {
        NODE_IDENT => node,
        NODE_SELECT => {
            let attrpath = green_child_nodes(node).find(|c| green_kind(c) == NODE_ATTRPATH)?;
            let last = green_child_nodes(attrpath).last()?;
            (green_kind(last) == NODE_IDENT).then_some(last)?
        }
        _ => return None,
    };
    ident
        .children()
        .find_map(|c| c.into_token())
        .map(|t| t.text())
}
