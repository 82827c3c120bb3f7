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

pub mod backend;
mod dead;
mod entries;
pub(crate) mod generic;
mod overlay;
mod paths;
mod run;

use overlay::plan_file;

use crate::detect::{Batch, Code, Reason, Site};
use crate::edit;
use crate::manifest::FileEntries;
use crate::manifest::Manifest;
pub use crate::plan::{
    Action, Changes, FileChange, Plan, SiteOutcome, diff, outcome, write, write_atomic,
};
use crate::scan::{FileError, FileTree, Scan, ScanOptions, scan_planned};
use crate::syntax::Call;
use crate::walk::Exclude;
pub use backend::{Backend, BackendError};
pub use paths::relative_path;
pub(crate) use paths::{indent_before, parent_of};
pub use run::{Request, Rewritten, run};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The name bound to the batch in rewritten overlays.
pub use crate::detect::overlay::BATCH_NAME;

/// Plan the rewrite of the whole repository at `root`.
pub fn plan(root: &Path, manifest_file: &str, exclude: &Exclude) -> Plan {
    plan_files(root, None, manifest_file, exclude)
}

/// Plan the rewrite of `files` only (paths relative to `root`, as
/// pre-commit passes them) — or of the whole repository when `None`. For a
/// subset, the manifest keeps every other file's entries.
pub fn plan_files(
    root: &Path,
    files: Option<&[PathBuf]>,
    manifest_file: &str,
    exclude: &Exclude,
) -> Plan {
    let manifest_old = std::fs::read_to_string(root.join(manifest_file)).ok();
    // The manifest on disk, parsed once.
    let on_disk = manifest_old.as_deref().map(Manifest::parse);
    let mut errors = Vec::new();
    // Each file is planned in its scan task, while its tree is alive.
    let opts = ScanOptions {
        keep_sources: false,
        exclude: exclude.clone(),
    };
    let scan =
        |paths: &[PathBuf]| scan_planned(root, paths, &opts, |t| plan_tree(t, manifest_file));
    let ((scanned, planned), manifest) = match files {
        None => (scan(&[root.to_path_buf()]), Manifest::default()),
        Some(files) => {
            let base = kept_entries(root, files, on_disk.as_ref(), manifest_file, &mut errors);
            let paths: Vec<PathBuf> = files
                .iter()
                .map(|f| root.join(f))
                .filter(|p| p.exists())
                .collect();
            let scanned = if paths.is_empty() {
                (Scan::default(), BTreeMap::new())
            } else {
                scan(&paths)
            };
            (scanned, base)
        }
    };
    errors.extend(scanned.errors.iter().cloned());
    let mut plan = Plan {
        root: root.to_path_buf(),
        manifest_file: manifest_file.to_string(),
        manifest,
        manifest_old,
        manifest_on_disk: on_disk.and_then(Result::ok),
        manifest_new: None,
        changes: Vec::new(),
        removals: Vec::new(),
        sites: skipped(&scanned),
        groups: Vec::new(),
        errors,
    };
    for (file, p) in planned {
        add_planned(&mut plan, file, p);
    }
    finish(plan)
}

/// For a plan of some files: the manifest's entries of every other file
/// (a manifest that does not read is an error: the whole repository must
/// be rewritten).
fn kept_entries(
    root: &Path,
    files: &[PathBuf],
    on_disk: Option<&Result<Manifest, crate::manifest::ManifestError>>,
    manifest_file: &str,
    errors: &mut Vec<FileError>,
) -> Manifest {
    let mut base = match on_disk {
        Some(Ok(m)) => m.clone(),
        Some(Err(e)) => {
            errors.push(FileError::whole(
                manifest_file,
                format!("{e}; re-run `ifd-batch rewrite --write` on the whole repository"),
            ));
            Manifest::default()
        }
        None => Manifest::default(),
    };
    for f in files {
        base.files
            .remove(&crate::scan::relative_name(root, &root.join(f)));
    }
    base
}

/// One file's planned rewrite, added to the plan.
fn add_planned(plan: &mut Plan, file: String, p: Planned) {
    plan.sites.extend(p.outcomes);
    plan.groups.extend(p.groups);
    plan.errors.extend(p.error);
    if !p.entries.is_empty() {
        plan.manifest.files.insert(file.clone(), p.entries);
    }
    if let Some((old, new)) = p.change {
        plan.changes.push(FileChange {
            path: plan.root.join(&file),
            file,
            old,
            new,
            generated: false,
        });
    }
}

/// The sites in file order, the backend's setting kept, and the manifest
/// rendered (and checked to parse).
fn finish(mut plan: Plan) -> Plan {
    plan.sites.sort_by(|a, b| {
        (a.file.as_str(), a.line, a.column).cmp(&(b.file.as_str(), b.line, b.column))
    });
    if let Some(on_disk) = &plan.manifest_on_disk {
        if plan.manifest.materialize.is_none() {
            plan.manifest.materialize = on_disk.materialize.clone();
        }
        if plan.manifest.extractor.is_none() {
            plan.manifest.extractor = on_disk.extractor;
        }
    }
    // Generic groups import the manifest too (`.group`), even without entries.
    plan.manifest_new =
        (plan.manifest.count() > 0 || !plan.groups.is_empty()).then(|| plan.manifest.render());
    let error = plan
        .manifest_new
        .as_deref()
        .and_then(|m| reparse_error(m, &plan.manifest_file));
    plan.errors.extend(error);
    plan
}

/// The outcomes of the sites the rewrite leaves alone (not batchable, with
/// the reason `detect` gave).
fn skipped(scanned: &Scan) -> Vec<SiteOutcome> {
    scanned
        .sites
        .iter()
        .filter(|s| s.kind.decl().batch == Batch::No || !s.batchable)
        .map(|s| {
            let reason = match (&s.reason, s.reason_code) {
                (Some(m), Some(code)) => Reason::new(code, m.clone()),
                _ => Reason::new(Code::NotSupported, "not a batchable kind"),
            };
            outcome(s, Action::Skipped, Some(reason))
        })
        .collect()
}

/// One file's rewrite, planned in its scan task.
struct Planned {
    outcomes: Vec<SiteOutcome>,
    entries: FileEntries,
    /// Generic groups, described for the report.
    groups: Vec<String>,
    /// The old and the new text, when edited.
    change: Option<(String, String)>,
    error: Option<FileError>,
}

/// Plan a file's batchable sites (None: it has none).
fn plan_tree(t: &FileTree, manifest_file: &str) -> Option<Planned> {
    let batched = |b: Batch| -> Vec<(&Site, &Call)> {
        t.sites
            .iter()
            .zip(t.calls)
            .filter(|(s, _)| s.batchable && s.kind.decl().batch == b)
            .collect()
    };
    let (haskell, generic) = (batched(Batch::Haskell), batched(Batch::Generic));
    if haskell.is_empty() && generic.is_empty() {
        return None;
    }
    // Generic groups first: the Haskell plan's origins (lines of the
    // rewritten file) count the lines the group bindings insert.
    let g = generic::plan(t.text, t.file, &generic, manifest_file);
    let mut planned = plan_file(t.text, t.file, &haskell, manifest_file, &g.edits);
    let groups = g.groups;
    planned.edits.extend(g.edits);
    planned.outcomes.extend(g.outcomes);
    let mut out = Planned {
        outcomes: planned.outcomes,
        entries: planned.entries,
        groups,
        change: None,
        error: None,
    };
    if planned.edits.is_empty() {
        return Some(out);
    }
    match edit::apply(t.text, &planned.edits) {
        Ok(new) => {
            // What the callee edits left unused goes (deadnix-clean), and
            // the origins follow the lines it took.
            let cleaned = dead::clean(&new, &planned.replaced_names);
            out.entries.map_origin_lines(t.file, |l| cleaned.line(l));
            reparse_checked(&mut out, t, cleaned.text)
        }
        Err(e) => {
            out.error = Some(FileError::whole(
                t.file,
                format!("internal error planning edits: {e}; file left alone"),
            ))
        }
    }
    Some(out)
}

fn reparse_checked(out: &mut Planned, t: &FileTree, new: String) {
    match reparse_error(&new, t.file) {
        Some(e) => out.error = Some(e),
        None => out.change = Some((t.text.to_string(), new)),
    }
}

fn reparse_error(text: &str, file: &str) -> Option<FileError> {
    let parse = crate::syntax::parse(text);
    parse.errors().first().map(|e| {
        FileError::whole(
            file,
            format!("the rewritten file would not parse ({e}); nothing written"),
        )
    })
}
