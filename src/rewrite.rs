//! `ifd-batch rewrite`: plan edits that route batchable sites through the
//! batch, and the manifest they need.
//!
//! For each source file with batchable sites: find the overlay (`self: super:
//! …`) whose package set each site calls into, replace the callee
//! (`self.callHackage` → `ifdBatch.callHackage`), and bind `ifdBatch` once
//! per overlay, just inside it:
//!
//! ```nix
//! self: super:
//! let ifdBatch = import ../nix/ifd-batch.nix "haskell/overlay.nix" self; in
//! { aeson = ifdBatch.callHackage "aeson" "2.1.2.1" { }; }
//! ```
//!
//! Sites already routed (callee `ifdBatch.…`) contribute their entries to the
//! manifest and are not edited again, so a second rewrite changes nothing.

use crate::detect::overlay;
use crate::detect::scope::{Binding, resolve_name};
use crate::detect::syntax::{
    Call, Callee, ident_text, is_outermost_apply, string_literal, unparen,
};
use crate::detect::{Batch, Kind, Site};
use crate::edit::{self, TextEdit};
use crate::manifest::{FileEntries, Manifest};
use crate::scan::{FileError, Scan, ScanOptions, scan_in};
use rnix::{SyntaxKind::*, SyntaxNode, TextSize};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// The name bound to the batch in rewritten overlays.
pub use crate::detect::overlay::BATCH_NAME;

/// Where a site ended up.
#[derive(Debug, Clone, Serialize)]
pub struct SiteOutcome {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub kind: Kind,
    pub call: String,
    pub action: Action,
    pub reason: Option<String>,
}

/// What the rewrite does with a site (stable JSON: `edited`, `routed`,
/// `skipped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Routed through the batch by this rewrite.
    Edited,
    /// Already routed (a previous rewrite): only contributes entries.
    Routed,
    /// Left alone; the outcome's `reason` says why.
    Skipped,
}

/// One file's new text.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub file: String,
    pub path: PathBuf,
    pub old: String,
    pub new: String,
    /// A materialized expression (not an edited source file).
    pub generated: bool,
}

/// The whole rewrite, before anything is written.
#[derive(Debug)]
pub struct Plan {
    pub root: PathBuf,
    /// Manifest path, relative to the root.
    pub manifest_file: String,
    pub manifest: Manifest,
    /// Current manifest text (None when absent) and the planned one.
    pub manifest_old: Option<String>,
    pub manifest_new: Option<String>,
    pub changes: Vec<FileChange>,
    /// Files to delete (relative to the root): materialized files no
    /// longer generated.
    pub removals: Vec<String>,
    pub sites: Vec<SiteOutcome>,
    /// Generic groups: which sites share a barrier.
    pub groups: Vec<String>,
    pub errors: Vec<FileError>,
}

impl Plan {
    /// Nothing to write: the repository is already rewritten.
    pub fn is_noop(&self) -> bool {
        self.changes.is_empty()
            && self.removals.is_empty()
            && self.manifest_new == self.manifest_old
    }
}

/// Plan the rewrite of the whole repository at `root`.
pub fn plan(root: &Path, manifest_file: &str) -> Plan {
    plan_files(root, None, manifest_file)
}

/// Plan the rewrite of `files` only (paths relative to `root`, as
/// pre-commit passes them) — or of the whole repository when `None`. For a
/// subset, the manifest keeps every other file's entries.
pub fn plan_files(root: &Path, files: Option<&[PathBuf]>, manifest_file: &str) -> Plan {
    let manifest_old = std::fs::read_to_string(root.join(manifest_file)).ok();
    let mut manifest_error = None;
    let (scanned, mut manifest): (Scan, Manifest) = match files {
        None => (
            scan_in(
                root,
                &[root.to_path_buf()],
                &ScanOptions { keep_sources: true },
            ),
            Manifest::default(),
        ),
        Some(files) => {
            let paths: Vec<PathBuf> = files
                .iter()
                .map(|f| root.join(f))
                .filter(|p| p.exists())
                .collect();
            let mut base = match manifest_old.as_deref().map(Manifest::parse) {
                Some(Ok(m)) => m,
                Some(Err(e)) => {
                    manifest_error = Some(FileError {
                        file: manifest_file.to_string(),
                        line: None,
                        column: None,
                        message: format!(
                            "{e}; re-run `ifd-batch rewrite --write` on the whole repository"
                        ),
                    });
                    Manifest::default()
                }
                None => Manifest::default(),
            };
            for f in files {
                base.files
                    .remove(&crate::scan::relative_name(root, &root.join(f)));
            }
            let scanned = if paths.is_empty() {
                Scan::default()
            } else {
                scan_in(root, &paths, &ScanOptions { keep_sources: true })
            };
            (scanned, base)
        }
    };
    let mut by_file: BTreeMap<&str, Vec<&Site>> = BTreeMap::new();
    let mut sites = Vec::new();
    for s in &scanned.sites {
        if s.kind.decl().batch != Batch::No && s.batchable {
            by_file.entry(&s.file).or_default().push(s);
        } else {
            sites.push(outcome(
                s,
                Action::Skipped,
                s.reason
                    .clone()
                    .or_else(|| Some("not a batchable kind".into())),
            ));
        }
    }
    let mut changes = Vec::new();
    let mut errors = scanned.errors.clone();
    errors.extend(manifest_error);
    let mut generic_groups: Vec<String> = Vec::new();
    for (file, file_sites) in by_file {
        let Some(text) = scanned.sources.get(file) else {
            continue;
        };
        let (generic_sites, haskell_sites): (Vec<&Site>, Vec<&Site>) = file_sites
            .iter()
            .partition(|s| s.kind.decl().batch == Batch::Generic);
        let mut planned = plan_file(text, file, &haskell_sites, manifest_file);
        if !generic_sites.is_empty() {
            let g = crate::rewrite_generic::plan(text, file, &generic_sites, manifest_file);
            generic_groups.extend(g.groups);
            planned.edits.extend(g.edits);
            planned.outcomes.extend(g.outcomes);
        }
        sites.extend(planned.outcomes);
        if !planned.entries.is_empty() {
            manifest.files.insert(file.to_string(), planned.entries);
        }
        if planned.edits.is_empty() {
            continue;
        }
        match edit::apply(text, &planned.edits) {
            Ok(new) => {
                if let Some(e) = reparse_error(&new, file) {
                    errors.push(e);
                    continue;
                }
                changes.push(FileChange {
                    file: file.to_string(),
                    path: root.join(file),
                    old: text.clone(),
                    new,
                    generated: false,
                });
            }
            Err(e) => errors.push(FileError {
                file: file.to_string(),
                line: None,
                column: None,
                message: format!("internal error planning edits: {e}; file left alone"),
            }),
        }
    }
    sites.sort_by(|a, b| {
        (a.file.as_str(), a.line, a.column).cmp(&(b.file.as_str(), b.line, b.column))
    });
    if manifest.materialize.is_none() {
        manifest.materialize = manifest_old
            .as_deref()
            .and_then(|m| Manifest::parse(m).ok())
            .and_then(|m| m.materialize);
    }
    // Generic groups import the manifest too (`.group`), even without entries.
    let manifest_new =
        (manifest.count() > 0 || !generic_groups.is_empty()).then(|| manifest.render());
    if let Some(m) = &manifest_new
        && let Some(e) = reparse_error(m, manifest_file)
    {
        errors.push(e);
    }
    Plan {
        root: root.to_path_buf(),
        manifest_file: manifest_file.to_string(),
        manifest,
        manifest_old,
        manifest_new,
        changes,
        removals: Vec::new(),
        sites,
        groups: generic_groups,
        errors,
    }
}

fn reparse_error(text: &str, file: &str) -> Option<FileError> {
    let parse = crate::scan::parse(text);
    parse.errors().first().map(|e| FileError {
        file: file.to_string(),
        line: None,
        column: None,
        message: format!("the rewritten file would not parse ({e}); nothing written"),
    })
}

pub(crate) fn outcome(s: &Site, action: Action, reason: Option<String>) -> SiteOutcome {
    SiteOutcome {
        file: s.file.clone(),
        line: s.line,
        column: s.column,
        kind: s.kind,
        call: s.call.clone(),
        action,
        reason,
    }
}

struct FilePlan {
    edits: Vec<TextEdit>,
    entries: FileEntries,
    outcomes: Vec<SiteOutcome>,
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
    call: Call,
    routed: bool,
}

fn plan_file(text: &str, file: &str, sites: &[&Site], manifest_file: &str) -> FilePlan {
    let mut out = FilePlan {
        edits: Vec::new(),
        entries: FileEntries::default(),
        outcomes: Vec::new(),
    };
    let root = crate::scan::parse(text).syntax();
    let import_path = relative_path(parent_of(file), manifest_file);
    // First pass: each site's binding, and the sources each binding holds.
    let mut binds: BTreeMap<usize, BindPlan> = BTreeMap::new();
    let mut located: Vec<Located> = Vec::new();
    // Entries with placeholder origins: which sites conflict.
    let mut scratch = FileEntries::default();
    for site in sites {
        let found = (|| -> Result<Located, String> {
            let call = find_call(&root, site.byte_range[0])
                .ok_or_else(|| "internal: call not found in the reparsed file".to_string())?;
            let callee = Callee::of(&call.head).ok_or("callee is not a name")?;
            let routed = overlay::is_routed(&callee);
            let (key, bind) = match overlay::batchable(&call, &callee)? {
                None => match resolve_name(&call.head, BATCH_NAME) {
                    Binding::Value(v) => (usize::from(v.text_range().start()), Bind::Existing(v)),
                    _ => return Err(format!("`{BATCH_NAME}` is not bound by a `let`")),
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
            add_entries(
                &mut scratch,
                site,
                &call,
                file,
                manifest_file,
                String::new(),
            )?;
            let plan = binds.entry(key).or_insert_with(|| BindPlan {
                bind,
                sources: BTreeMap::new(),
                edited: false,
            });
            if let Some((name, src)) = caller_source(site, &call) {
                match plan.sources.get(&name) {
                    Some(other) if *other != src => {
                        return Err(format!(
                            "`{name}` is already in this overlay's batch with another source ({other})"
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
        let result = add_entries(
            &mut out.entries,
            l.site,
            &l.call,
            file,
            manifest_file,
            origin,
        )
        .and_then(|()| {
            if l.routed {
                return Ok(Action::Routed);
            }
            let callee = Callee::of(&l.call.head).ok_or("callee is not a name")?;
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

/// A `callCabal2nix` source that is not a path literal: it goes into the
/// batch binding (package name, source text).
fn caller_source(site: &Site, call: &Call) -> Option<(String, String)> {
    if site.kind != Kind::Cabal2nix
        || site.args.get("src_kind").and_then(|v| v.as_str()) == Some("path")
    {
        return None;
    }
    let name = site.args.get("name")?.as_str()?.to_string();
    Some((name, unparen(call.arg(1)?).text().to_string()))
}

/// The value of the overlay body's `ifdBatch` binding, if it has one.
fn existing_binding(body: &SyntaxNode) -> Option<SyntaxNode> {
    let body = unparen(body);
    if body.kind() != NODE_LET_IN {
        return None;
    }
    match crate::detect::scope::binding_in(&body, BATCH_NAME) {
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

/// The outermost application whose head starts at `start`.
pub(crate) fn find_call(root: &SyntaxNode, start: usize) -> Option<Call> {
    let token = root
        .token_at_offset(TextSize::try_from(start).ok()?)
        .right_biased()?;
    token
        .parent_ancestors()
        .filter(is_outermost_apply)
        .filter_map(|n| Call::flatten(&n))
        .find(|c| usize::from(c.head.text_range().start()) == start)
}

fn add_entries(
    entries: &mut FileEntries,
    site: &Site,
    call: &Call,
    file: &str,
    manifest_file: &str,
    origin: String,
) -> Result<(), String> {
    let s = |k: &str| {
        site.args
            .get(k)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    match site.kind {
        Kind::Hackage => match (s("name"), s("version")) {
            (Some(n), Some(v)) => entries.add_hackage(&n, &v, origin),
            _ => {
                let elements = site
                    .args
                    .get("elements")
                    .and_then(|e| e.as_array())
                    .ok_or("name and version unknown")?;
                for e in elements {
                    let (Some(n), Some(v)) = (e["name"].as_str(), e["version"].as_str()) else {
                        return Err("name and version unknown".into());
                    };
                    entries.add_hackage(n, v, origin.clone());
                }
            }
        },
        Kind::HackageDirect => match (s("name"), s("version"), s("sha256")) {
            (Some(n), Some(v), Some(h)) => entries.add_hackage_direct(&n, &v, &h, origin)?,
            _ => {
                let elements = site
                    .args
                    .get("elements")
                    .and_then(|e| e.as_array())
                    .ok_or("pkg, ver and sha256 unknown")?;
                for e in elements {
                    let (Some(n), Some(v), Some(h)) = (
                        e["name"].as_str(),
                        e["version"].as_str(),
                        e["sha256"].as_str(),
                    ) else {
                        return Err("pkg, ver and sha256 unknown".into());
                    };
                    entries.add_hackage_direct(n, v, h, origin.clone())?;
                }
            }
        },
        Kind::Cabal2nix => {
            let name = s("name").ok_or("name unknown")?;
            // A path goes into the manifest; any other source is given by the
            // file's batch binding (`CALLER_SOURCE`).
            let src = match (s("src_kind").as_deref(), s("src")) {
                (Some("path"), Some(src)) => rebase_path(&src, file, manifest_file)?,
                (_, Some(_)) => crate::manifest::CALLER_SOURCE.to_string(),
                (_, None) => return Err("source unknown".into()),
            };
            entries.add_cabal2nix(&name, &src, &s("options").unwrap_or_default(), origin)?;
        }
        Kind::SourceOverrides => {
            let arg = call.arg(0).ok_or("no overrides")?;
            let set = crate::detect::multiplicity::resolve_literal(arg);
            for (name, value) in
                crate::detect::syntax::attrset_entries(&set).ok_or("overrides not literal")?
            {
                let value = value.map(|v| unparen(&v)).ok_or("inherited entry")?;
                if let Some(version) = string_literal(&value) {
                    entries.add_hackage(&name, &version, origin.clone());
                } else if crate::detect::syntax::is_path(&value) {
                    let src = rebase_path(&value.text().to_string(), file, manifest_file)?;
                    entries.add_cabal2nix(&name, &src, "", origin.clone())?;
                } else {
                    return Err(format!("override `{name}` is neither a version nor a path"));
                }
            }
        }
        _ => return Err("not a batchable kind".into()),
    }
    Ok(())
}

/// Directory part of a `/`-separated relative file name.
pub(crate) fn parent_of(file: &str) -> &str {
    file.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Normalise `a/b/../c` → `a/c`; `None` if it climbs above its start and
/// has to keep `..` components (returned as is then).
fn normalize(path: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if out.last().is_some_and(|l| l != "..") {
                    out.pop();
                } else {
                    out.push("..".into());
                }
            }
            Component::Normal(s) => out.push(s.to_string_lossy().into_owned()),
            Component::RootDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// A Nix relative path literal from directory `from_dir` to `to` (both
/// relative to the repository root).
pub fn relative_path(from_dir: &str, to: &str) -> String {
    let from = normalize(from_dir);
    let to = normalize(to);
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let ups = from.len() - common;
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_string(), ups).collect();
    parts.extend(to[common..].iter().cloned());
    let joined = parts.join("/");
    if joined.starts_with("..") {
        joined
    } else if joined.is_empty() {
        "./.".to_string()
    } else {
        format!("./{joined}")
    }
}

/// A path literal written in `file`, as seen from the manifest.
fn rebase_path(src: &str, file: &str, manifest_file: &str) -> Result<String, String> {
    if src.contains("${") {
        return Err("interpolated path".into());
    }
    if src.starts_with('/') {
        return Ok(src.to_string());
    }
    if !(src.starts_with("./") || src.starts_with("../")) {
        return Err(format!("path `{src}` is not relative"));
    }
    let target = format!("{}/{}", parent_of(file), src);
    let target = normalize(&target).join("/");
    Ok(relative_path(parent_of(manifest_file), &target))
}

/// When `at` is the first non-blank character of its line, its indentation.
pub(crate) fn indent_before(text: &str, at: usize) -> Option<&str> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..at];
    before
        .chars()
        .all(|c| c == ' ' || c == '\t')
        .then_some(before)
}

/// Write `text` to `path` atomically: a temporary file in the same
/// directory, synced, given the old file's permissions, then renamed over.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".ifd-batch-")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    let perms = match std::fs::metadata(path) {
        Ok(m) => m.permissions(),
        Err(_) => {
            use std::os::unix::fs::PermissionsExt;
            std::fs::Permissions::from_mode(0o644)
        }
    };
    std::fs::set_permissions(tmp.path(), perms)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Apply a plan: every changed file and the manifest, each atomically.
/// Refuses (writes nothing) when the plan has errors.
pub fn write(plan: &Plan) -> Result<usize, String> {
    if !plan.errors.is_empty() {
        return Err("the plan has errors; nothing written".into());
    }
    let mut n = 0;
    let mut created = Vec::new();
    for c in &plan.changes {
        if std::fs::symlink_metadata(&c.path).is_err() {
            created.push(c.path.clone());
        }
        write_atomic(&c.path, &c.new).map_err(|e| format!("{}: {e}", c.path.display()))?;
        n += 1;
    }
    if let Some(m) = &plan.manifest_new
        && plan.manifest_old.as_ref() != Some(m)
    {
        let path = plan.root.join(&plan.manifest_file);
        if std::fs::symlink_metadata(&path).is_err() {
            created.push(path.clone());
        }
        write_atomic(&path, m).map_err(|e| format!("{}: {e}", path.display()))?;
        n += 1;
    }
    track_new_files(&plan.root, &created);
    for r in &plan.removals {
        let path = plan.root.join(r);
        match std::fs::remove_file(&path) {
            Ok(()) => n += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
        // Empty directories left behind go too (never the root).
        let mut dir = path.parent();
        while let Some(d) = dir.filter(|d| *d != plan.root) {
            if std::fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
    Ok(n)
}

/// In a git work tree, flake evaluation only sees files git knows: mark the
/// files just created with `git add --intent-to-add` (their content is not
/// staged), or, when git refuses, say exactly that on stderr.
fn track_new_files(root: &Path, created: &[PathBuf]) {
    use std::process::{Command, Stdio};
    if created.is_empty() {
        return;
    }
    let git = || {
        let mut c = Command::new("git");
        c.arg("-C").arg(root).stdin(Stdio::null());
        c
    };
    let in_work_tree = git()
        .args(["rev-parse", "--is-inside-work-tree"])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"true"));
    if !in_work_tree {
        return;
    }
    // Absolute paths: `created` is relative to the current directory, git
    // runs in `root`.
    let absolute: Vec<PathBuf> = created
        .iter()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .collect();
    let added = git()
        .args(["add", "--intent-to-add", "--"])
        .args(&absolute)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !added {
        let names: Vec<String> = created.iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "hint: git does not track the new file{s} yet, and flake evaluation will not see {them} until it does: git add --intent-to-add {}",
            names.join(" "),
            s = if created.len() == 1 { "" } else { "s" },
            them = if created.len() == 1 { "it" } else { "them" },
        );
    }
}

/// Unified diff of the plan, file by file, then the manifest.
pub fn diff(plan: &Plan) -> String {
    let mut out = String::new();
    for c in &plan.changes {
        out.push_str(&unified(&c.old, &c.new, &c.file));
    }
    if let Some(m) = &plan.manifest_new
        && plan.manifest_old.as_ref() != Some(m)
    {
        out.push_str(&unified(
            plan.manifest_old.as_deref().unwrap_or(""),
            m,
            &plan.manifest_file,
        ));
    }
    for r in &plan.removals {
        let old = std::fs::read_to_string(plan.root.join(r)).unwrap_or_default();
        out.push_str(&unified(&old, "", r));
    }
    out
}

fn unified(old: &str, new: &str, name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path("haskell", "nix/ifd-batch.nix"),
            "../nix/ifd-batch.nix"
        );
        assert_eq!(
            relative_path("", "nix/ifd-batch.nix"),
            "./nix/ifd-batch.nix"
        );
        assert_eq!(relative_path("nix", "nix/ifd-batch.nix"), "./ifd-batch.nix");
        assert_eq!(
            rebase_path("../app", "haskell/overlay.nix", "nix/ifd-batch.nix"),
            Ok("../app".into())
        );
        assert_eq!(
            rebase_path("./local", "overlay.nix", "nix/ifd-batch.nix"),
            Ok("../local".into())
        );
        assert_eq!(
            rebase_path("./a/b", "x/y/o.nix", "ifd-batch.nix"),
            Ok("./x/y/a/b".into())
        );
        assert!(rebase_path("./${x}", "o.nix", "m.nix").is_err());
    }
}
