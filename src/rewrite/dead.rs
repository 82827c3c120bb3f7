//! What the callee edits leave unused. Routing `c2n "x" ./x { }` through
//! `ifdBatch.callCabal2nix` can leave the alias `c2n = …;`, the name in
//! `inherit (final) callHackage;` or the overlay's `super` without a
//! reference: deadnix (which users run as a hook) would then report code
//! the rewrite made dead. Such `let` bindings are removed and such lambda
//! parameters renamed `_name` — only names the replaced callees referred to,
//! and only when nothing refers to them any more. Runs on the edited text,
//! to a fixpoint (a removed alias can leave the set it selected from
//! unused).

use crate::syntax::scope::binder;
use crate::syntax::{ident_text, is_reference, parse};
use rnix::{SyntaxKind::*, SyntaxNode};
use std::collections::BTreeSet;
use std::ops::Range;

/// The cleaned text, and the lines each round removed (for origins).
pub(super) struct Cleaned {
    pub text: String,
    /// Per round: (1-based line where a removal starts, lines removed).
    pub removed: Vec<Vec<(usize, usize)>>,
}

impl Cleaned {
    /// Where line `line` of the edited text is in the cleaned one.
    pub fn line(&self, mut line: usize) -> usize {
        for round in &self.removed {
            let before: usize = round
                .iter()
                .filter(|(at, _)| *at < line)
                .map(|(_, n)| n)
                .sum();
            line = line.saturating_sub(before).max(1);
        }
        line
    }
}

pub(super) fn clean(text: &str, names: &BTreeSet<String>) -> Cleaned {
    let mut out = Cleaned {
        text: text.to_string(),
        removed: Vec::new(),
    };
    let mut names = names.clone();
    for _ in 0..4 {
        let parse = parse(&out.text);
        if !parse.errors().is_empty() {
            break;
        }
        let root = parse.syntax();
        let (edits, freed) = dead_edits(&root, &out.text, &names);
        if edits.is_empty() {
            break;
        }
        let Ok(new) = crate::edit::apply(&out.text, &edits) else {
            break;
        };
        let line_of = |at: usize| out.text[..at].matches('\n').count() + 1;
        out.removed.push(
            edits
                .iter()
                .map(|e| {
                    (
                        line_of(e.range.start),
                        out.text[e.range.clone()].matches('\n').count(),
                    )
                })
                .filter(|(_, n)| *n > 0)
                .collect(),
        );
        out.text = new;
        names.extend(freed);
    }
    out
}

/// One round: the edits, and the names the removed values referred to.
fn dead_edits(
    root: &SyntaxNode,
    text: &str,
    names: &BTreeSet<String>,
) -> (Vec<crate::edit::TextEdit>, BTreeSet<String>) {
    use crate::edit::TextEdit;
    let mut edits = Vec::new();
    let mut freed = BTreeSet::new();
    let unused = |scope: &SyntaxNode, name: &str| {
        !scope.descendants().any(|i| {
            i.kind() == NODE_IDENT
                && ident_text(&i).as_deref() == Some(name)
                && is_reference(&i)
                && binder(&i, name).as_ref() == Some(scope)
        })
    };
    for node in root.descendants() {
        match node.kind() {
            NODE_LET_IN => {
                for b in node.children() {
                    match b.kind() {
                        NODE_ATTRPATH_VALUE => {
                            let Some(name) = b
                                .first_child()
                                .filter(|p| p.children().count() == 1)
                                .and_then(|p| p.first_child())
                                .and_then(|a| ident_text(&a))
                            else {
                                continue;
                            };
                            if names.contains(&name) && unused(&node, &name) {
                                freed.extend(referenced(&b));
                                edits.push(TextEdit::replace(removal(text, &b), ""));
                            }
                        }
                        NODE_INHERIT => {
                            let idents: Vec<SyntaxNode> =
                                b.children().filter(|c| c.kind() == NODE_IDENT).collect();
                            let dead: Vec<&SyntaxNode> = idents
                                .iter()
                                .filter(|i| {
                                    ident_text(i)
                                        .is_some_and(|n| names.contains(&n) && unused(&node, &n))
                                })
                                .collect();
                            if dead.is_empty() {
                                continue;
                            }
                            if dead.len() == idents.len() {
                                freed.extend(referenced(&b));
                                edits.push(TextEdit::replace(removal(text, &b), ""));
                            } else {
                                for i in dead {
                                    let r = i.text_range();
                                    let start = text[..usize::from(r.start())]
                                        .trim_end_matches([' ', '\t'])
                                        .len();
                                    edits.push(TextEdit::replace(start..usize::from(r.end()), ""));
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            NODE_LAMBDA => {
                let Some(param) = node.first_child().filter(|p| p.kind() == NODE_IDENT_PARAM)
                else {
                    continue;
                };
                let Some(ident) = param.first_child() else {
                    continue;
                };
                let Some(name) = ident_text(&ident) else {
                    continue;
                };
                if names.contains(&name) && !name.starts_with('_') && unused(&node, &name) {
                    let r = ident.text_range();
                    edits.push(TextEdit::replace(
                        usize::from(r.start())..usize::from(r.end()),
                        format!("_{name}"),
                    ));
                }
            }
            _ => {}
        }
    }
    (edits, freed)
}

/// The text a removed binding takes with it: its line when it stands on
/// one (the newline and indentation before it, a trailing comment), else
/// itself and the blanks after it.
fn removal(text: &str, node: &SyntaxNode) -> Range<usize> {
    let r = node.text_range();
    let (start, mut end) = (usize::from(r.start()), usize::from(r.end()));
    let rest = &text[end..];
    let line_rest = rest.split('\n').next().unwrap_or("");
    let trimmed = line_rest.trim_start_matches([' ', '\t']);
    let before = &text[..start];
    let line_start = before.rfind('\n');
    let own_line = line_start.is_some_and(|nl| before[nl + 1..].trim().is_empty());
    if own_line && (trimmed.is_empty() || trimmed.starts_with('#')) {
        end += line_rest.len();
        // From the newline before it: the line goes, the next stays put.
        return line_start.unwrap_or(start)..end;
    }
    end += line_rest.len() - trimmed.len();
    start..end
}

/// The names a removed binding's value refers to.
fn referenced(node: &SyntaxNode) -> BTreeSet<String> {
    node.descendants()
        .filter(|i| i.kind() == NODE_IDENT && is_reference(i))
        .filter_map(|i| ident_text(&i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, names: &[&str]) -> String {
        clean(text, &names.iter().map(|s| s.to_string()).collect()).text
    }

    #[test]
    fn unused_aliases_go_and_used_ones_stay() {
        let t = "self: super:\nlet\n  ifdBatch = 1;\n  c2n = super.callCabal2nix; # alias\n  keep = 2;\nin\n{ a = ifdBatch; b = keep; }\n";
        assert_eq!(
            run(t, &["c2n", "super"]),
            "self: _super:\nlet\n  ifdBatch = 1;\n  keep = 2;\nin\n{ a = ifdBatch; b = keep; }\n"
        );
        // Still used: nothing changes.
        let t = "self: super: let c2n = super.f; in { a = c2n; }";
        assert_eq!(run(t, &["c2n", "super"]), t);
        // Names the rewrite did not touch are not its business.
        let t = "x: let unused = 1; in 2";
        assert_eq!(run(t, &[]), t);
    }

    #[test]
    fn inherits_lose_only_dead_names_and_chains_are_followed() {
        let t = "final: let\n  inherit (final) callHackage lib;\n  hp = final.hp;\n  c = hp.callCabal2nix;\nin lib";
        assert_eq!(
            run(t, &["callHackage", "c"]),
            "final: let\n  inherit (final) lib;\nin lib"
        );
        let c = clean(
            t,
            &["callHackage", "c"].iter().map(|s| s.to_string()).collect(),
        );
        // Line 4 (`c = …`) and line 3 (`hp = …`, freed in the second round) are gone.
        assert_eq!(c.line(5), 3);
    }
}
