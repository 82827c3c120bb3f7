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
    /// The names the replaced callees referred to (`c2n`, `super`): what
    /// the edits may leave unused.
    pub(super) replaced_names: std::collections::BTreeSet<String>,
}

/// Where a site's batch is bound.
enum Bind {
    /// An existing `ifdBatch = import PATH "FILE" SET …;` (its value).
    Existing(SyntaxNode),
    /// None yet: bound at the overlay's anchor, for its package set (or a
    /// set named explicitly at the sites), as `name`.
    New {
        anchor: SyntaxNode,
        hself: String,
        name: String,
    },
}

/// One batch binding of the file, and what goes into it.
struct BindPlan {
    bind: Bind,
    /// Package name → source expression (sources that are not path
    /// literals, copied from the sites).
    sources: BTreeMap<String, Moved>,
    /// Some site of it is edited by this run.
    edited: bool,
}

/// A batchable site, located in the parsed file.
struct Located<'a> {
    site: &'a Site,
    call: &'a Call,
    routed: bool,
    /// The callee through the batch (`ifdBatch.callHackage`,
    /// `ifdBatch'ghc96.callHackage`).
    routed_callee: String,
}

/// Plan one file's batchable Haskell sites, given with their calls in the
/// scan's tree: locate each site's binding (first pass), plan the bindings,
/// then the callee edits and the manifest entries (second pass, whose
/// origins count every line the bindings and `other_edits` insert).
pub(super) fn plan_file(
    text: &str,
    file: &str,
    sites: &[(&Site, &Call)],
    manifest_file: &str,
    other_edits: &[TextEdit],
) -> FilePlan {
    let mut out = FilePlan {
        edits: Vec::new(),
        entries: FileEntries::default(),
        outcomes: Vec::new(),
        replaced_names: Default::default(),
    };
    let import_path = relative_path(parent_of(file), manifest_file);
    let mut binds: BTreeMap<(usize, String), BindPlan> = BTreeMap::new();
    let mut located: Vec<Located> = Vec::new();
    // Entries with placeholder origins: which sites conflict.
    let mut scratch = FileEntries::default();
    for &(site, call) in sites {
        match locate(
            text,
            file,
            manifest_file,
            site,
            call,
            &mut binds,
            &mut scratch,
        ) {
            Ok(l) => located.push(l),
            Err(reason) => out
                .outcomes
                .push(outcome(site, Action::Skipped, Some(reason))),
        }
    }
    let bind_edits = binding_edits(text, file, &import_path, &binds);
    route_sites(
        &mut out,
        text,
        file,
        manifest_file,
        located,
        &bind_edits,
        other_edits,
    );
    out.edits.extend(bind_edits);
    out
}

/// First pass, one site: the binding it goes through (planned in `binds`,
/// with the sources it gives), or why it is left alone.
fn locate<'a>(
    text: &str,
    file: &str,
    manifest_file: &str,
    site: &'a Site,
    call: &'a Call,
    binds: &mut BTreeMap<(usize, String), BindPlan>,
    scratch: &mut FileEntries,
) -> Result<Located<'a>, Reason> {
    let callee = Callee::resolved(&call.head)
        .ok_or_else(|| Reason::new(Code::Internal, "callee is not a name"))?;
    let routed = overlay::is_routed(&callee);
    let (name, key, bind) = match overlay::batchable(call, &callee)? {
        None => {
            let name = callee
                .base
                .clone()
                .unwrap_or_else(|| BATCH_NAME.to_string());
            match resolve_name(&call.head, &name) {
                Binding::Value(v) => (name, usize::from(v.text_range().start()), Bind::Existing(v)),
                _ => {
                    return Err(Reason::new(
                        Code::NotInOverlay,
                        format!("`{name}` is not bound by a `let`"),
                    ));
                }
            }
        }
        Some(route) => choose_binding(&route, binds)?,
    };
    // Two sets named alike (`a.ghc96`, `b.ghc96`) cannot share a name.
    if let (Some(plan), Bind::New { hself, .. }) = (binds.get(&(key, name.clone())), &bind)
        && let Bind::New { hself: other, .. } = &plan.bind
        && other != hself
    {
        return Err(Reason::new(
            Code::Conflict,
            format!("`{name}` is already the batch of `{other}` in this overlay"),
        ));
    }
    add_entries(scratch, site, file, manifest_file, String::new())?;
    let plan = binds
        .entry((key, name.clone()))
        .or_insert_with(|| BindPlan {
            bind,
            sources: BTreeMap::new(),
            edited: false,
        });
    for (name, src) in caller_sources(text, site, call) {
        match plan.sources.get(&name) {
            Some(other) if *other != src => {
                return Err(Reason::new(
                    Code::Conflict,
                    format!(
                        "`{name}` is already in this overlay's batch with another value ({})",
                        other.text
                    ),
                ));
            }
            _ => {
                plan.sources.insert(name, src);
            }
        }
    }
    plan.edited |= !routed;
    Ok(Located {
        site,
        call,
        routed,
        routed_callee: format!("{name}.{}", callee.name()),
    })
}

/// The binding a route's batch goes through: the first name that is this
/// set's batch already, or free (not bound, not planned for another set).
fn choose_binding(
    route: &overlay::Route,
    binds: &BTreeMap<(usize, String), BindPlan>,
) -> Result<(String, usize, Bind), Reason> {
    let hself = route
        .set
        .clone()
        .unwrap_or_else(|| route.overlay.outer_param.clone());
    let anchor = route.overlay.anchor();
    let at = usize::from(anchor.text_range().start());
    // The first name that is this set's batch already, or
    // free (not bound, not planned for another set here).
    let chosen = overlay::batch_names(route.set.as_deref())
        .into_iter()
        .find_map(|name| match existing_binding(&route.overlay.body, &name) {
            Some(v) => (bound_set(&v).as_deref() == Some(hself.as_str()))
                .then(|| (name, usize::from(v.text_range().start()), Bind::Existing(v))),
            None => {
                let taken = binds.get(&(at, name.clone())).is_some_and(
                    |p| matches!(&p.bind, Bind::New { hself: other, .. } if *other != hself),
                );
                (!taken).then(|| {
                    (
                        name.clone(),
                        at,
                        Bind::New {
                            anchor: anchor.clone(),
                            hself: hself.clone(),
                            name,
                        },
                    )
                })
            }
        });
    chosen.ok_or_else(|| {
        Reason::new(
            Code::Conflict,
            format!(
                "every name for the batch of `{hself}` is bound to another set in this overlay"
            ),
        )
    })
}

/// The bindings: new ones (where a site is edited), existing ones updated.
fn binding_edits(
    text: &str,
    file: &str,
    import_path: &str,
    binds: &BTreeMap<(usize, String), BindPlan>,
) -> Vec<TextEdit> {
    let mut bind_edits = Vec::new();
    // New batches, by anchor: one edit each.
    let mut new_at: BTreeMap<usize, (SyntaxNode, Vec<NewBatch>)> = BTreeMap::new();
    for plan in binds.values() {
        match &plan.bind {
            Bind::New {
                anchor,
                hself,
                name,
            } if plan.edited => {
                new_at
                    .entry(usize::from(anchor.text_range().start()))
                    .or_insert_with(|| (anchor.clone(), Vec::new()))
                    .1
                    .push((name, hself, &plan.sources));
            }
            Bind::New { .. } => {}
            Bind::Existing(value) => {
                bind_edits.extend(update_binding(
                    text,
                    file,
                    import_path,
                    value,
                    &plan.sources,
                ));
            }
        }
    }
    for (anchor, batches) in new_at.values_mut() {
        // The overlay's own batch first.
        batches.sort_by_key(|(name, _, _)| (*name != BATCH_NAME, name.to_string()));
        bind_edits.push(new_binding(text, file, import_path, anchor, batches));
    }
    bind_edits
}

/// Second pass: each located site's manifest entries and callee edit.
fn route_sites(
    out: &mut FilePlan,
    text: &str,
    file: &str,
    manifest_file: &str,
    located: Vec<Located>,
    bind_edits: &[TextEdit],
    other_edits: &[TextEdit],
) {
    // Origins name lines of the rewritten file, so a second run agrees.
    let shift = |offset: usize| -> isize {
        bind_edits
            .iter()
            .chain(other_edits)
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
        let result = add_entries(&mut out.entries, l.site, file, manifest_file, origin).map(|()| {
            if l.routed {
                return Action::Routed;
            }
            let range = l.call.head.text_range();
            out.replaced_names.extend(
                l.call
                    .head
                    .descendants()
                    .filter(|n| n.kind() == NODE_IDENT)
                    .filter_map(|n| ident_text(&n)),
            );
            out.edits.push(TextEdit::replace(
                usize::from(range.start())..usize::from(range.end()),
                l.routed_callee.clone(),
            ));
            Action::Edited
        });
        out.outcomes.push(match result {
            Ok(action) => outcome(l.site, action, None),
            Err(reason) => outcome(l.site, Action::Skipped, Some(reason)),
        });
    }
}

/// What a `callCabal2nix` site gives the batch binding: a source that is
/// not a path literal (`NAME = SRC;`) and options that are not a literal
/// (`"options:NAME" = OPTS;`), as they are written at the site.
fn caller_sources(text: &str, site: &Site, call: &Call) -> Vec<(String, Moved)> {
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
        out.push((name.clone(), moved_text(text, &unparen(src))));
    }
    if c.options_expr.is_some()
        && let Some(opts) = call.arg(2)
    {
        out.push((
            format!("{OPTIONS_KEY}{name}"),
            moved_text(text, &unparen(opts)),
        ));
    }
    out
}

/// An expression copied from a site into a binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Moved {
    text: String,
    /// Continuation lines are relative (their indentation at the site
    /// removed): the binding indents them. False: written as is.
    reindent: bool,
}

impl Moved {
    /// The text under a binding indented by `inner`.
    fn under(&self, inner: &str) -> String {
        if !self.reindent {
            return self.text.clone();
        }
        self.text
            .split('\n')
            .enumerate()
            .map(|(i, l)| match (i, l.is_empty()) {
                (0, _) | (_, true) => l.to_string(),
                _ => format!("{inner}{l}"),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// An expression's text, to be written elsewhere: its continuation lines
/// lose the indentation of the line it starts on (the binding indents them
/// again). Left as it is when a line is indented less, or a string in it
/// spans lines (re-indenting would change its value).
fn moved_text(text: &str, node: &SyntaxNode) -> Moved {
    let own = node.text().to_string();
    let verbatim = |text: String| Moved {
        text,
        reindent: false,
    };
    if !own.contains('\n')
        || node
            .descendants_with_tokens()
            .any(|t| t.kind() == TOKEN_STRING_CONTENT && t.to_string().contains('\n'))
    {
        return verbatim(own);
    }
    let base = line_indent(text, usize::from(node.text_range().start()));
    let mut lines = own.split('\n');
    let mut out = vec![lines.next().unwrap_or_default().to_string()];
    for line in lines {
        match line.strip_prefix(base) {
            Some(rest) => out.push(rest.trim_end().to_string()),
            None if line.trim().is_empty() => out.push(String::new()),
            None => return verbatim(own),
        }
    }
    Moved {
        text: out.join("\n"),
        reindent: true,
    }
}

/// The binding's key for a package's options (`"options:NAME"`): not a
/// package name (those have no `:`).
pub(super) const OPTIONS_KEY: &str = "options:";

/// The value of the overlay body's binding of `name` (`ifdBatch`,
/// `ifdBatch'ghc96`), if it has one: in the body's `let … in`, or a `let`
/// directly inside it (where a first rewrite put a second batch).
/// The set an existing batch binding `import PATH "FILE" SET …` is for
/// (its text).
fn bound_set(value: &SyntaxNode) -> Option<String> {
    let call = Call::flatten(&unparen(value))?;
    Some(unparen(call.args.get(2)?).text().to_string())
}

fn existing_binding(body: &SyntaxNode, name: &str) -> Option<SyntaxNode> {
    let mut body = unparen(body);
    while body.kind() == NODE_LET_IN {
        if let Some(Binding::Value(v)) = crate::syntax::scope::binding_in(&body, name) {
            return Some(v);
        }
        body = unparen(&body.last_child()?);
    }
    None
}

/// `import PATH "FILE" SET` and, when the overlay has sources to give the
/// batch, the set of them (one per line, indented from `indent`).
fn binding_value(
    import_path: &str,
    file: &str,
    hself: &str,
    sources: &BTreeMap<String, Moved>,
    indent: &str,
) -> String {
    let mut v = format!(
        "import {import_path} {} {hself}",
        crate::manifest::nix_string(file)
    );
    if !sources.is_empty() {
        v.push_str(" {\n");
        let inner = format!("{indent}  ");
        for (name, src) in sources {
            v.push_str(&format!(
                "{inner}{} = {};\n",
                crate::manifest::nix_attr(name),
                src.under(&inner)
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

/// A batch to bind: its name, its package set, its sources.
type NewBatch<'a> = (&'a str, &'a str, &'a BTreeMap<String, Moved>);

/// Bind batches at an overlay's anchor, in one edit: first in its
/// `let … in`, or in a new `let … in` around its body. Each is
/// `(name, package set, sources)`.
fn new_binding(
    text: &str,
    file: &str,
    import_path: &str,
    anchor: &SyntaxNode,
    binds: &[NewBatch],
) -> TextEdit {
    let first_binding = (anchor.kind() == NODE_LET_IN)
        .then(|| {
            anchor
                .children()
                .find(|c| matches!(c.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT))
        })
        .flatten();
    let render = |ind: &str| -> Vec<String> {
        binds
            .iter()
            .map(|(name, hself, sources)| {
                let value = binding_value(import_path, file, hself, sources, ind);
                format!("{name} = {value};")
            })
            .collect()
    };
    if let Some(first) = first_binding {
        let at = usize::from(first.text_range().start());
        let lines = render(line_indent(text, at));
        return TextEdit::insert(
            at,
            match indent_before(text, at) {
                Some(ind) => lines
                    .iter()
                    .map(|l| format!("{l}\n{ind}"))
                    .collect::<String>(),
                None => lines.iter().map(|l| format!("{l} ")).collect(),
            },
        );
    }
    let at = usize::from(anchor.text_range().start());
    let ind = line_indent(text, at);
    if let [(_, _, sources)] = binds
        && sources.is_empty()
    {
        let line = render(ind).concat();
        return TextEdit::insert(
            at,
            match indent_before(text, at) {
                Some(ind) => format!("let {line} in\n{ind}"),
                None => format!("let {line} in "),
            },
        );
    }
    // With sources or several batches, one binding per line.
    let inner = format!("{ind}  ");
    let lines: String = render(&inner)
        .iter()
        .map(|l| format!("{inner}{l}\n"))
        .collect();
    TextEdit::insert(
        at,
        match indent_before(text, at) {
            Some(_) => format!("let\n{lines}{ind}in\n{ind}"),
            None => format!("let\n{lines}{ind}in "),
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
    sources: &BTreeMap<String, Moved>,
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
