//! The dynamic-derivations backend: `rewrite --backend dynamic --target
//! FILE[:ATTRPATH]` writes `nix/ifd-batch-dynamic.nix` (next to the
//! manifest), an expression with the targets' attribute paths whose values
//! are `builtins.outputOf` placeholders: evaluating it does no
//! import-from-derivation, and building one builds, at build time, the
//! target's own `.drv` (see `nixlib/dynamic.nix` for the producers).
//!
//! Here: evaluate the targets once (on a copy of the tree with the IFD
//! rewrite applied) to learn every derivation under them — its name, which
//! the producer must carry, and its output — or why it is not eligible, then
//! render the file. `verify` (the `--verify` of this backend) builds the
//! producers with a modern Nix and compares what they output with the
//! original drvPaths.

pub(crate) mod verify;

use crate::fileset::{self, Which};
use crate::manifest::nix_string;
use crate::nix::Nix;
use crate::plan::{Changes, FileChange, Plan};
use crate::scan::FileError;
use crate::verify::{
    AttrTarget, CopyError, DEPTH, EvalError, Rewritten, evaluating, rewritten_copy_of,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

/// Why the dynamic backend generated nothing (what makes a target
/// ineligible is not an error here: it is a plan error or a `Refused`).
#[derive(Debug, thiserror::Error)]
pub enum DynamicError {
    #[error(transparent)]
    Copy(#[from] CopyError),
    #[error(transparent)]
    FileSet(#[from] crate::fileset::ListError),
    #[error("listing the repository's files: {}: {message}", path.display())]
    Unreadable { path: PathBuf, message: String },
    /// Evaluating a target with `collect`.
    #[error(
        "{0}\n(the targets are evaluated in a copy of what the store copy will hold: \
         what git tracks, with intent-to-add files; is a file they read untracked? \
         `git add` it)"
    )]
    Collect(EvalError),
}

/// nixlib's dynamic backend: vendored into the generated file, and its
/// `collect` evaluated here.
const NIXLIB_DYNAMIC: &str = include_str!("../../nixlib/dynamic.nix");

/// A generated-file line recording one `--target` (so a later `rewrite`
/// without `--target` redoes the same).
const TARGET_MARK: &str = "# ifd-batch: target ";

/// The generated file for a manifest: `nix/ifd-batch.nix` →
/// `nix/ifd-batch-dynamic.nix`.
pub fn file_for(manifest_file: &str) -> String {
    let p = Path::new(manifest_file);
    let stem = p
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ifd-batch".into());
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => format!("{}/{stem}-dynamic.nix", d.display()),
        _ => format!("{stem}-dynamic.nix"),
    }
}

/// The targets the repository's generated file records (empty when the
/// repository does not use the dynamic backend).
pub fn recorded(plan: &Plan) -> Vec<AttrTarget> {
    let Ok(text) = std::fs::read_to_string(plan.root.join(file_for(&plan.manifest_file))) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| l.strip_prefix(TARGET_MARK))
        .filter_map(|t| t.trim().parse().ok())
        .collect()
}

/// One derivation of a target, as the generated file names it.
#[derive(Debug, Clone, Serialize)]
pub struct Leaf {
    /// `FILE:ATTRPATH` it was found under (the `--target`).
    pub target: String,
    /// Attribute path, in the target's file and in the generated file.
    pub path: Vec<String>,
    /// The target's file, relative to the copied repository (`src`).
    #[serde(skip)]
    pub src_file: String,
    /// The derivation's name: the producer is named `<name>.drv`.
    pub name: String,
    /// The output the attribute selects (`out`, or e.g. `dev`).
    pub output: String,
    pub drv_path: String,
}

impl Leaf {
    pub fn attr(&self) -> String {
        attr_path(&self.path)
    }
}

/// A value under a target that cannot be a dynamic derivation, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    pub target: String,
    pub attr: String,
    pub reason: String,
}

/// What the dynamic backend will generate.
#[derive(Serialize)]
pub struct Eligibility {
    /// The generated file, relative to the repository root.
    pub file: String,
    pub targets: Vec<String>,
    pub eligible: Vec<Leaf>,
    pub refused: Vec<Refused>,
    /// Tracked files left out of the store copy: their names are not UTF-8.
    pub unnamed: Vec<String>,
    /// The tree the targets were evaluated in (the rewrite applied; the
    /// generated file is added to it): `--verify` builds there.
    #[serde(skip)]
    pub(crate) copy: Option<Rewritten>,
}

impl Eligibility {
    /// The human report: what is generated, what is left out and why.
    pub fn text(&self) -> String {
        let mut t = String::new();
        if !self.eligible.is_empty() {
            let _ = writeln!(
                t,
                "dynamic: {} derivation{} in {} (no import-from-derivation to evaluate; `nix build -f {} ATTR`):",
                self.eligible.len(),
                if self.eligible.len() == 1 { "" } else { "s" },
                self.file,
                self.file,
            );
            let w = self
                .eligible
                .iter()
                .map(|l| l.attr().len())
                .max()
                .unwrap_or(0);
            for l in &self.eligible {
                let _ = writeln!(t, "  {:<w$}  {}", l.attr(), l.name);
            }
        }
        if !self.refused.is_empty() {
            t.push_str("dynamic: not eligible (left out):\n");
            for r in &self.refused {
                let file = r
                    .target
                    .split_once(':')
                    .map_or(r.target.as_str(), |(f, _)| f);
                let at = if r.attr.is_empty() {
                    file.to_string()
                } else {
                    format!("{file}:{}", r.attr)
                };
                let _ = writeln!(t, "  {at}: {}", r.reason);
            }
        }
        if !self.unnamed.is_empty() {
            t.push_str(
                "dynamic: left out of the store copy (names that are not UTF-8 cannot be recorded):\n",
            );
            for n in &self.unnamed {
                let _ = writeln!(t, "  {n}");
            }
        }
        t
    }
}

/// This backend's changes to `plan` (which it does not change):
/// `Some(targets)` evaluates them and returns the generated file; `None`
/// removes a generated file an earlier run left. Targets with no eligible
/// derivation are errors of the changes (nothing is written).
pub fn changes(
    plan: &Plan,
    targets: Option<&[AttrTarget]>,
) -> Result<(Changes, Option<Eligibility>), DynamicError> {
    let mut out = Changes::default();
    let file = file_for(&plan.manifest_file);
    let Some(targets) = targets else {
        if plan.root.join(&file).is_file() {
            out.removals.push(file);
        }
        return Ok((out, None));
    };
    if !plan.errors.is_empty() {
        return Ok((out, None));
    }
    let base = copy_base(&plan.root);
    let root_rel = relative_to(&plan.root, &base).unwrap_or_default();
    let stored = stored_files(plan, &base, &root_rel, &file)?;
    // The targets are evaluated in a copy holding what the store copy will
    // hold (with the plan applied), so what they need and git does not
    // track fails here, not at build time.
    let on_disk: Vec<PathBuf> = stored
        .names
        .iter()
        .map(PathBuf::from)
        .filter(|f| base.join(f).symlink_metadata().is_ok())
        .collect();
    let copy = rewritten_copy_of(plan, &on_disk)?;
    for c in &plan.changes {
        if !stored.contains(&join_rel(&root_rel, &c.file)) {
            let _ = std::fs::remove_file(copy.root.join(&c.file));
        }
    }
    let lib = copy.tmp.path().join("dynamic.nix");
    crate::verify::write_plain(&lib, NIXLIB_DYNAMIC)?;

    let mut outcome = Eligibility {
        file: file.clone(),
        targets: targets.iter().map(ToString::to_string).collect(),
        eligible: Vec::new(),
        refused: Vec::new(),
        unnamed: stored.unnamed.clone(),
        copy: None,
    };
    let mut system = String::new();
    for t in targets {
        let src_file = join_rel(&root_rel, &t.file);
        let refusal = if src_file.starts_with("../") {
            Some(format!(
                "outside the repository ({}) the producers copy into the store",
                base.display()
            ))
        } else if !stored.contains(&src_file) {
            Some(format!(
                "{src_file} is not in the store copy of the repository, which holds what git tracks (a flake's source: no untracked or ignored files): `git add` it (`git add -N` to add it without its contents)"
            ))
        } else {
            None
        };
        if let Some(message) = refusal {
            out.errors.push(FileError::whole(t.to_string(), message));
            continue;
        }
        let collected =
            collect(&lib, &copy.root.join(&t.file), &t.attr).map_err(DynamicError::Collect)?;
        system = collected.system;
        if !sort_leaves(t, &src_file, collected.leaves, &mut outcome) {
            out.errors.push(FileError::whole(
                t.to_string(),
                "no derivation under this target can be a dynamic derivation (see `not eligible` above)",
            ));
        }
    }
    dedup_and_check(&mut outcome, &mut out.errors);
    if !out.errors.is_empty() {
        return Ok((out, Some(outcome)));
    }

    let dyn_dir = Path::new(&root_rel).join(Path::new(&file).parent().unwrap_or(Path::new("")));
    let up = dyn_dir
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count();
    let text = render(&outcome, up, &stored.names, &system);
    // The copy gets the file too: `--verify` builds from it.
    crate::verify::write_plain(&copy.root.join(&file), &text)?;
    outcome.copy = Some(copy);
    let path = plan.root.join(&file);
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    if old != text {
        out.generated.push(FileChange {
            file,
            path,
            old,
            new: text,
            generated: true,
        });
    }
    Ok((out, Some(outcome)))
}

/// Sort a target's leaves into the eligible and the refused; whether any
/// was eligible.
fn sort_leaves(
    t: &AttrTarget,
    src_file: &str,
    leaves: Vec<Collected>,
    outcome: &mut Eligibility,
) -> bool {
    let mut any = false;
    for l in leaves {
        let attr = attr_path(&l.path);
        match refusal(&l) {
            Some(reason) => outcome.refused.push(Refused {
                target: t.to_string(),
                attr,
                reason,
            }),
            None => {
                any = true;
                outcome.eligible.push(Leaf {
                    target: t.to_string(),
                    path: l.path,
                    src_file: src_file.to_string(),
                    name: l.name.unwrap_or_default(),
                    output: l.output.unwrap_or_else(|| "out".into()),
                    drv_path: l.drv_path.unwrap_or_default(),
                });
            }
        }
    }
    any
}

/// One value `collect` found.
#[derive(Debug, serde::Deserialize)]
struct Collected {
    path: Vec<String>,
    kind: String,
    name: Option<String>,
    output: Option<String>,
    #[serde(rename = "drvPath")]
    drv_path: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct Collection {
    system: String,
    leaves: Vec<Collected>,
}

/// Why a collected value cannot be a dynamic derivation (None: it can).
fn refusal(l: &Collected) -> Option<String> {
    let printable = |s: &str| s.chars().all(|c| !c.is_control() && c != '"');
    match l.kind.as_str() {
        "derivation" => {
            if !l.path.iter().all(|n| printable(n)) {
                Some("its attribute name has control characters or quotes".into())
            } else if l.name.as_deref().is_none_or(str::is_empty) {
                Some("a derivation without a name".into())
            } else {
                None
            }
        }
        "error" => Some("evaluating it fails".into()),
        "lambda" => Some("a function: nothing to build".into()),
        "set" => Some(format!(
            "an attribute set more than {DEPTH} levels below the target: name it as a --target"
        )),
        other => Some(format!(
            "not a derivation (a {other}): its value is read at evaluation time, which a dynamic derivation cannot provide (it stands only for a build output)"
        )),
    }
}

/// `(import nixlib/dynamic.nix).collect` on one target.
fn collect(lib: &Path, file: &Path, attr: &str) -> Result<Collection, EvalError> {
    let file = EvalError::canonical(file)?;
    let expr = format!(
        "(import {}).collect {{ file = {}; attr = {}; depth = {DEPTH}; }}",
        nix_string(&lib.to_string_lossy()),
        nix_string(&file.to_string_lossy()),
        nix_string(attr),
    );
    let (collection, _) = Nix::eval_json()
        .args(["-E", &expr])
        .json(&evaluating(&file, attr))?;
    Ok(collection)
}

/// The same attribute from two targets (`default.nix:sites` and
/// `default.nix:sites.aeson`) is kept once; two different values at one
/// path, or one path inside another, are errors.
fn dedup_and_check(outcome: &mut Eligibility, errors: &mut Vec<FileError>) {
    let mut seen: BTreeMap<Vec<String>, Leaf> = BTreeMap::new();
    for l in std::mem::take(&mut outcome.eligible) {
        match seen.get(&l.path) {
            Some(prev) if prev.src_file == l.src_file => {}
            Some(prev) => errors.push(FileError {
                file: l.target.clone(),
                line: None,
                column: None,
                message: format!(
                    "`{}` is also a derivation of {}: one attribute path, two targets",
                    l.attr(),
                    prev.target
                ),
            }),
            None => {
                seen.insert(l.path.clone(), l);
            }
        }
    }
    let paths: Vec<&Vec<String>> = seen.keys().collect();
    for w in paths.windows(2) {
        if w[1].starts_with(w[0]) {
            errors.push(FileError {
                file: seen[w[1]].target.clone(),
                line: None,
                column: None,
                message: format!(
                    "`{}` is inside the derivation `{}`: an attribute path cannot be both",
                    attr_path(w[1]),
                    attr_path(w[0])
                ),
            });
        }
    }
    outcome.eligible = seen.into_values().collect();
}

/// The store copy of the repository, as the generated file records it.
///
/// A list of files, not ignore rules: nixlib's filter keeps exactly these
/// (and the directories above them), so a file appearing in the work tree
/// later — a secret, whatever rule ignores it, or any untracked file —
/// never reaches the world-readable store; a file added to git later is
/// missing until the rewrite runs again (the producer says so). The list is
/// git's ([`fileset::Which::Tracked`], as a flake's source), so it holds a
/// tracked file even when an ignore rule matches it.
struct Stored {
    /// Paths from the copy's base, sorted: what git tracks (intent-to-add
    /// files too) and the manifest, not the generated file itself.
    names: Vec<String>,
    /// Tracked files whose names are not UTF-8: the generated file cannot
    /// name them, so they stay out of the store copy.
    unnamed: Vec<String>,
}

impl Stored {
    fn contains(&self, name: &str) -> bool {
        self.names
            .binary_search_by(|n| n.as_str().cmp(name))
            .is_ok()
    }
}

fn stored_files(
    plan: &Plan,
    base: &Path,
    root_rel: &str,
    generated: &str,
) -> Result<Stored, DynamicError> {
    let listing = fileset::list(base, Which::Tracked, |_: &Path, _| false)?;
    if let Some(e) = listing.errors.first() {
        return Err(DynamicError::Unreadable {
            path: e.path.clone(),
            message: e.message.clone(),
        });
    }
    let mut names = Vec::new();
    let mut unnamed = Vec::new();
    for f in listing.files {
        match f.to_str() {
            Some(n) => names.push(n.to_string()),
            None => unnamed.push(f.to_string_lossy().into_owned()),
        }
    }
    // The manifest is ifd-batch's own data, which the rewritten files
    // import: in the copy whether or not it has been added to git yet.
    let manifest = join_rel(root_rel, &plan.manifest_file);
    if plan.manifest_new.is_some() || base.join(&manifest).is_file() {
        names.push(manifest);
    }
    // The generated file is not needed to instantiate the targets; leaving
    // it out keeps the copy independent of it.
    let generated = join_rel(root_rel, generated);
    let removed: Vec<String> = plan
        .removals
        .iter()
        .map(|r| join_rel(root_rel, r))
        .collect();
    names.retain(|n| *n != generated && !removed.contains(n));
    names.sort();
    names.dedup();
    Ok(Stored { names, unnamed })
}

/// The generated file. Its first line is the scanner's
/// [`crate::scan::GENERATED_MARKER`]: the vendored nixlib's `import` and
/// `builtins.path` are not sites to rewrite.
fn render(o: &Eligibility, up: usize, files: &[String], system: &str) -> String {
    let mut t = String::new();
    let example = o.eligible.first().map(Leaf::attr).unwrap_or_default();
    let _ = writeln!(
        t,
        "# Generated by `ifd-batch rewrite` (ifd-batch {}, `--backend dynamic`). Do not\n\
         # edit by hand: re-run `ifd-batch rewrite --write` when the targets change.\n\
         #\n\
         # The targets' derivations, evaluated WITHOUT import-from-derivation: each\n\
         # attribute is the output of a dynamic derivation, whose producer\n\
         # instantiates the target at build time (it works with\n\
         # `allow-import-from-derivation = false`). Needs Nix >= 2.30 with\n\
         #   experimental-features = nix-command dynamic-derivations ca-derivations recursive-nix\n\
         #   system-features = recursive-nix        (to build)\n\
         #\n\
         #   nix build -f {file} {example}\n\
         #\n\
         # Arguments: `as` = \"outputs\" (default: the placeholders), \"derivations\"\n\
         # (derivation attribute sets, for flake `packages`, Hydra, nix-build: each\n\
         # output is a symlink to the target's output), \"producers\"; `path` =\n\
         # packages for the builders' PATH (with the sandbox on: [ nix coreutils ]).\n\
         #",
        env!("CARGO_PKG_VERSION"),
        file = o.file,
    );
    for target in &o.targets {
        let _ = writeln!(t, "{TARGET_MARK}{target}");
    }
    t.push_str("{ path ? [ ], as ? \"outputs\" }:\nlet\n  # nixlib's dynamic backend, vendored: no flake input or network needed.\n  nixlib =\n");
    for line in NIXLIB_DYNAMIC.lines() {
        if line.is_empty() {
            t.push('\n');
        } else {
            let _ = writeln!(t, "    {line}");
        }
    }
    let src = if up == 0 {
        "./.".to_string()
    } else {
        format!("{}.", "../".repeat(up))
    };
    let _ = writeln!(
        t,
        "  ;\nin\nnixlib.dynamic {{\n  \
           inherit path as;\n  \
           # The repository the targets are instantiated from. Its store copy\n  \
           # holds exactly `files`: what git tracks (with intent-to-add files)\n  \
           # and the manifest, as a flake's source; nothing untracked or ignored.\n  \
           src = {src};\n  \
           files = ["
    );
    for f in files {
        let _ = writeln!(t, "    {}", nix_string(f));
    }
    let _ = writeln!(
        t,
        "  ];\n  \
           system = {};\n  \
           targets = [",
        nix_string(system),
    );
    for l in &o.eligible {
        let path: Vec<String> = l.path.iter().map(|n| nix_string(n)).collect();
        let _ = writeln!(
            t,
            "    {{ path = [ {} ]; file = {}; name = {}; output = {}; }}",
            path.join(" "),
            nix_string(&l.src_file),
            nix_string(&l.name),
            nix_string(&l.output),
        );
    }
    t.push_str("  ];\n}\n");
    t
}

/// `a.b."c.d"`, as `nix build -f FILE ATTR` reads it.
fn attr_path(path: &[String]) -> String {
    path.iter()
        .map(|n| {
            let plain = n
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '-'));
            if plain { n.clone() } else { nix_string(n) }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The directory the store copy is made of: the enclosing git work tree
/// (the targets may import files outside the rewritten directory, as the
/// example imports the test world), else the root itself. As `--verify`.
fn copy_base(root: &Path) -> PathBuf {
    let abs = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    abs.ancestors()
        .find(|a| a.join(".git").exists())
        .map(Path::to_path_buf)
        .unwrap_or(abs)
}

fn relative_to(path: &Path, base: &Path) -> Option<String> {
    let p = path.canonicalize().ok()?;
    let rel = p.strip_prefix(base).ok()?;
    Some(rel.to_string_lossy().into_owned())
}

/// `dir/file` with `.` components dropped.
fn join_rel(dir: &str, file: &str) -> String {
    Path::new(dir)
        .join(file)
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_next_to_the_manifest() {
        assert_eq!(file_for("nix/ifd-batch.nix"), "nix/ifd-batch-dynamic.nix");
        assert_eq!(file_for("batch.nix"), "batch-dynamic.nix");
    }

    #[test]
    fn attr_paths_quote_what_needs_it() {
        let p = |v: &[&str]| attr_path(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(p(&["sites", "servant-server"]), "sites.servant-server");
        assert_eq!(p(&["sites", "a.b"]), "sites.\"a.b\"");
        assert_eq!(p(&["0x"]), "\"0x\"");
    }

    #[test]
    fn join_drops_dots() {
        assert_eq!(join_rel("", "default.nix"), "default.nix");
        assert_eq!(
            join_rel("examples/x", "./default.nix"),
            "examples/x/default.nix"
        );
    }
}
