//! Planning one file's Haskell sites: for each batchable site, the overlay
//! binding it goes through (an existing `ifdBatch = import …;`, or a new one
//! at the overlay's anchor, holding the sources that are not path
//! literals), the callee edit, and the file's manifest entries.

use super::entries::add_entries;
use super::paths::{indent_before, parent_of, relative_path};
use super::{Action, BATCH_NAME, SiteOutcome, outcome};
use crate::detect::cabal2nix::SrcKind;
use crate::detect::overlay;
use crate::detect::{Args, Code, Reason, Site};
use crate::edit::TextEdit;
use crate::manifest::FileEntries;
use crate::syntax::scope::{Binding, resolve_name};
use crate::syntax::{Call, Callee, ident_text, unparen};
use rnix::{SyntaxKind::*, SyntaxNode};
use std::collections::BTreeMap;

pub(super) struct FilePlan {
    pub(super) edits: Vec<TextEdit>,
    pub(super) entries: FileEntries,
    pub(super) outcomes: Vec<SiteOutcome>,
}

/// Where a site's batch is bound.
enum Bind {
    /// An existing `ifdBatch = import PATH "FILE" SET …;` (its value).
    Existing(SyntaxNode),
    /// None yet: bound at the overlay's anchor, for its package set.
    New { anchor: SyntaxNode, hself: String },
}

/// One batch binding of the file, and what goes into it.
struct BindPlan {
    bind: Bind,
    /// Package name → source expression (sources that are not path
    /// literals, copied from the sites).
    sources: BTreeMap<String, String>,
    /// Some site of it is edited by this run.
    edited: bool,
}

/// A batchable site, located in the parsed file.
struct Located<'a> {
    site: &'a Site,
    call: &'a Call,
    routed: bool,
}

/// Plan one file's batchable Haskell sites, given with their calls in the
/// scan's tree.
pub(super) fn plan_file(
    text: &str,
    file: &str,
    sites: &[(&Site, &Call)],
    manifest_file: &str,
) -> FilePlan {
    let mut out = FilePlan {
        edits: Vec::new(),
        entries: FileEntries::default(),
        outcomes: Vec::new(),
    };
    let import_path = relative_path(parent_of(file), manifest_file);
    // First pass: each site's binding, and the sources each binding holds.
    let mut binds: BTreeMap<usize, BindPlan> = BTreeMap::new();
    let mut located: Vec<Located> = Vec::new();
    // Entries with placeholder origins: which sites conflict.
    let mut scratch = FileEntries::default();
    for &(site, call) in sites {
        let found = (|| -> Result<Located, Reason> {
            let callee = Callee::of(&call.head)
                .ok_or_else(|| Reason::new(Code::Internal, "callee is not a name"))?;
            let routed = overlay::is_routed(&callee);
            let (key, bind) = match overlay::batchable(call, &callee)? {
                None => match resolve_name(&call.head, BATCH_NAME) {
                    Binding::Value(v) => (usize::from(v.text_range().start()), Bind::Existing(v)),
                    _ => {
                        return Err(Reason::new(
                            Code::NotInOverlay,
                            format!("`{BATCH_NAME}` is not bound by a `let`"),
                        ));
                    }
                },
                Some(o) => match existing_binding(&o.body) {
                    Some(v) => (usize::from(v.text_range().start()), Bind::Existing(v)),
                    None => {
                        let anchor = o.anchor();
                        (
                            usize::from(anchor.text_range().start()),
                            Bind::New {
                                anchor,
                                hself: o.outer_param.clone(),
                            },
                        )
                    }
                },
            };
            add_entries(&mut scratch, site, file, manifest_file, String::new())?;
            let plan = binds.entry(key).or_insert_with(|| BindPlan {
                bind,
                sources: BTreeMap::new(),
                edited: false,
            });
            for (name, src) in caller_sources(site, call) {
                match plan.sources.get(&name) {
                    Some(other) if *other != src => {
                        return Err(Reason::new(
                            Code::Conflict,
                            format!(
                                "`{name}` is already in this overlay's batch with another value ({other})"
                            ),
                        ));
                    }
                    _ => {
                        plan.sources.insert(name, src);
                    }
                }
            }
            plan.edited |= !routed;
            Ok(Located { site, call, routed })
        })();
        match found {
            Ok(l) => located.push(l),
            Err(reason) => out
                .outcomes
                .push(outcome(site, Action::Skipped, Some(reason))),
        }
    }
    // The bindings: new ones (where a site is edited), existing ones updated.
    let mut bind_edits = Vec::new();
    for plan in binds.values() {
        match &plan.bind {
            Bind::New { anchor, hself } if plan.edited => {
                bind_edits.push(new_binding(
                    text,
                    file,
                    &import_path,
                    anchor,
                    hself,
                    &plan.sources,
                ));
            }
            Bind::New { .. } => {}
            Bind::Existing(value) => {
                bind_edits.extend(update_binding(
                    text,
                    file,
                    &import_path,
                    value,
                    &plan.sources,
                ));
            }
        }
    }
    // Origins name lines of the rewritten file, so a second run agrees.
    let shift = |offset: usize| -> isize {
        bind_edits
            .iter()
            .filter(|e| e.range.end <= offset)
            .map(|e| {
                e.insert.matches('\n').count() as isize
                    - text[e.range.clone()].matches('\n').count() as isize
            })
            .sum()
    };
    // Second pass: entries and callee edits.
    for l in located {
        let line = (l.site.line as isize + shift(l.site.byte_range[0])).max(1);
        let origin = format!("{file}:{line}");
        let result =
            add_entries(&mut out.entries, l.site, file, manifest_file, origin).and_then(|()| {
                if l.routed {
                    return Ok(Action::Routed);
                }
                let callee = Callee::of(&l.call.head)
                    .ok_or_else(|| Reason::new(Code::Internal, "callee is not a name"))?;
                let range = l.call.head.text_range();
                out.edits.push(TextEdit::replace(
                    usize::from(range.start())..usize::from(range.end()),
                    format!("{BATCH_NAME}.{}", callee.name()),
                ));
                Ok(Action::Edited)
            });
        out.outcomes.push(match result {
            Ok(action) => outcome(l.site, action, None),
            Err(reason) => outcome(l.site, Action::Skipped, Some(reason)),
        });
    }
    out.edits.extend(bind_edits);
    out
}

/// What a `callCabal2nix` site gives the batch binding: a source that is
/// not a path literal (`NAME = SRC;`) and options that are not a literal
/// (`"options:NAME" = OPTS;`), as they are written at the site.
fn caller_sources(site: &Site, call: &Call) -> Vec<(String, String)> {
    let Args::Cabal2nix(c) = &site.args else {
        return Vec::new();
    };
    let Some(name) = &c.name else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if c.src_kind != Some(SrcKind::Path)
        && let Some(src) = call.arg(1)
    {
        out.push((name.clone(), unparen(src).text().to_string()));
    }
    if let Some(opts) = &c.options_expr {
        out.push((format!("{OPTIONS_KEY}{name}"), opts.clone()));
    }
    out
}

/// The binding's key for a package's options (`"options:NAME"`): not a
/// package name (those have no `:`).
pub(super) const OPTIONS_KEY: &str = "options:";

/// The value of the overlay body's `ifdBatch` binding, if it has one.
fn existing_binding(body: &SyntaxNode) -> Option<SyntaxNode> {
    let body = unparen(body);
    if body.kind() != NODE_LET_IN {
        return None;
    }
    match crate::syntax::scope::binding_in(&body, BATCH_NAME) {
        Some(Binding::Value(v)) => Some(v),
        _ => None,
    }
}

/// `import PATH "FILE" SET` and, when the overlay has sources to give the
/// batch, the set of them (one per line, indented from `indent`).
fn binding_value(
    import_path: &str,
    file: &str,
    hself: &str,
    sources: &BTreeMap<String, String>,
    indent: &str,
) -> String {
    let mut v = format!(
        "import {import_path} {} {hself}",
        crate::manifest::nix_string(file)
    );
    if !sources.is_empty() {
        v.push_str(" {\n");
        for (name, src) in sources {
            v.push_str(&format!(
                "{indent}  {} = {src};\n",
                crate::manifest::nix_attr(name)
            ));
        }
        v.push_str(indent);
        v.push('}');
    }
    v
}

/// The leading blanks of the line `at` is on.
fn line_indent(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// Bind the batch at an overlay's anchor: first in its `let … in`, or in a
/// new `let … in` around its body.
fn new_binding(
    text: &str,
    file: &str,
    import_path: &str,
    anchor: &SyntaxNode,
    hself: &str,
    sources: &BTreeMap<String, String>,
) -> TextEdit {
    let first_binding = (anchor.kind() == NODE_LET_IN)
        .then(|| {
            anchor
                .children()
                .find(|c| matches!(c.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT))
        })
        .flatten();
    if let Some(first) = first_binding {
        let at = usize::from(first.text_range().start());
        let ind = line_indent(text, at);
        let value = binding_value(import_path, file, hself, sources, ind);
        return TextEdit::insert(
            at,
            match indent_before(text, at) {
                Some(ind) => format!("{BATCH_NAME} = {value};\n{ind}"),
                None => format!("{BATCH_NAME} = {value}; "),
            },
        );
    }
    let at = usize::from(anchor.text_range().start());
    let ind = line_indent(text, at);
    if sources.is_empty() {
        let value = binding_value(import_path, file, hself, sources, ind);
        return TextEdit::insert(
            at,
            match indent_before(text, at) {
                Some(ind) => format!("let {BATCH_NAME} = {value}; in\n{ind}"),
                None => format!("let {BATCH_NAME} = {value}; in "),
            },
        );
    }
    // With sources, one binding per line.
    let value = binding_value(import_path, file, hself, sources, &format!("{ind}  "));
    TextEdit::insert(
        at,
        match indent_before(text, at) {
            Some(_) => format!("let\n{ind}  {BATCH_NAME} = {value};\n{ind}in\n{ind}"),
            None => format!("let\n{ind}  {BATCH_NAME} = {value};\n{ind}in "),
        },
    )
}

/// An existing `ifdBatch = import PATH "FILE" SET [SOURCES];` whose manifest
/// path, file key or sources no longer match (the file or the manifest
/// moved, a source changed): the edit that fixes it. A binding of another
/// shape (say, `(import … self).withIndex idx`) is the user's: left alone.
fn update_binding(
    text: &str,
    file: &str,
    import_path: &str,
    value: &SyntaxNode,
    sources: &BTreeMap<String, String>,
) -> Option<TextEdit> {
    let value = unparen(value);
    let call = Call::flatten(&value)?;
    if ident_text(&unparen(&call.head)).as_deref() != Some("import")
        || !(3..=4).contains(&call.args.len())
    {
        return None;
    }
    let hself = call.args[2].text().to_string();
    let start = usize::from(value.text_range().start());
    let wanted = binding_value(import_path, file, &hself, sources, line_indent(text, start));
    (value.text() != wanted.as_str())
        .then(|| TextEdit::replace(start..usize::from(value.text_range().end()), wanted))
}
