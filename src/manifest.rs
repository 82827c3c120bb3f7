//! The batch manifest: its typed model ([`Manifest`], per-file
//! [`FileEntries`]), read from and rendered to `nix/ifd-batch.nix`.
//!
//! The manifest is the one generated file of a rewritten repository
//! (default `nix/ifd-batch.nix`). It holds the vendored nixlib and, per
//! source file, the entries its call sites need, in nixlib's words:
//! `hackage`, `hackageDirect`, `cabal2nix`. Rendering is deterministic
//! (sorted, stable), so a second rewrite changes nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The nixlib source vendored into every manifest (`nixlib/` in one
/// expression: [`crate::nixlib`]).
use crate::nixlib::NIXLIB;

/// The materialized backend's settings, kept in the manifest so that
/// `ifd-batch check --fix` can regenerate what `rewrite` generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Materialize {
    /// The directory of generated files, relative to the manifest's
    /// directory (`ifd-batch` for `nix/ifd-batch.nix`).
    pub dir: String,
    /// `FILE[:ATTRPATH]`s to evaluate (relative to the repository root).
    pub targets: Vec<String>,
}

impl Materialize {
    /// The default directory next to `manifest_file`: its name without `.nix`.
    pub fn new(manifest_file: &str, targets: Vec<String>) -> Materialize {
        let base = std::path::Path::new(manifest_file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "ifd-batch".into());
        Materialize { dir: base, targets }
    }

    /// The directory relative to the repository root.
    pub fn root_dir(&self, manifest_file: &str) -> String {
        match std::path::Path::new(manifest_file).parent() {
            Some(p) if !p.as_os_str().is_empty() => format!("{}/{}", p.display(), self.dir),
            _ => self.dir.clone(),
        }
    }
}

/// Where an entry was found: `file:line`.
pub type Origin = String;

/// A value of a `cabal2nix` entry: in the manifest (a source as Nix text
/// relative to the manifest, literal options; `""`: none), or given by the
/// calling file's batch binding (`import … "FILE" self { NAME = SRC;
/// "options:NAME" = OPTS; }`), when it is not a literal: the manifest says
/// `callerSource = true;` / `callerOptions = true;`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Given {
    Text(String),
    Caller,
}

impl Given {
    /// The text, or `<caller>` (for messages and the key's hash).
    pub fn as_str(&self) -> &str {
        match self {
            Given::Text(t) => t,
            Given::Caller => "<caller>",
        }
    }
}

/// A `callHackageDirect` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Direct {
    pub version: String,
    pub sha256: String,
    pub origins: Vec<Origin>,
}

/// A `callCabal2nix` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cabal2nix {
    pub src: Given,
    pub options: Given,
    pub origins: Vec<Origin>,
}

/// Entries for the package-set scopes of one source file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileEntries {
    /// name → version → origins.
    pub hackage: BTreeMap<String, BTreeMap<String, Vec<Origin>>>,
    /// name → its entry.
    pub hackage_direct: BTreeMap<String, Direct>,
    /// key (the name, or `NAME~HASH`: [`entry_name`]) → its entry.
    pub cabal2nix: BTreeMap<String, Cabal2nix>,
}

impl FileEntries {
    pub fn is_empty(&self) -> bool {
        self.hackage.is_empty() && self.hackage_direct.is_empty() && self.cabal2nix.is_empty()
    }

    /// The entries without their origins, one line each
    /// (`hackage aeson 2.1.2.1`), for staleness checks.
    pub fn semantic(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .hackage
            .iter()
            .flat_map(|(n, vs)| vs.keys().map(move |ver| format!("hackage {n} {ver}")))
            .collect();
        v.extend(
            self.hackage_direct
                .iter()
                .map(|(n, d)| format!("hackageDirect {n} {} {}", d.version, d.sha256)),
        );
        v.extend(self.cabal2nix.iter().map(|(key, e)| {
            format!(
                "cabal2nix {} {}{}",
                entry_name(key),
                e.src.as_str(),
                match e.options.as_str() {
                    "" => String::new(),
                    o => format!(" {o}"),
                }
            )
        }));
        // Sorted: the same entries under other keys (`NAME~HASH` once a
        // second source appears) are the same semantics.
        v.sort();
        v
    }

    /// Renumber the origins in `file` (`file:LINE`) with `f`.
    pub fn map_origin_lines(&mut self, file: &str, f: impl Fn(usize) -> usize) {
        let prefix = format!("{file}:");
        // Renumbered, then sorted as `push_origin` keeps them.
        let remap = |origins: &mut Vec<Origin>| {
            for o in origins.iter_mut() {
                if let Some(line) = o
                    .strip_prefix(&prefix)
                    .and_then(|l| l.parse::<usize>().ok())
                {
                    *o = format!("{prefix}{}", f(line));
                }
            }
            origins.sort();
            origins.dedup();
        };
        for versions in self.hackage.values_mut() {
            versions.values_mut().for_each(remap);
        }
        for d in self.hackage_direct.values_mut() {
            remap(&mut d.origins);
        }
        for e in self.cabal2nix.values_mut() {
            remap(&mut e.origins);
        }
    }

    pub fn count(&self) -> usize {
        self.hackage.values().map(BTreeMap::len).sum::<usize>()
            + self.hackage_direct.len()
            + self.cabal2nix.len()
    }

    pub fn add_hackage(&mut self, name: &str, version: &str, origin: Origin) {
        push_origin(
            self.hackage
                .entry(name.to_string())
                .or_default()
                .entry(version.to_string())
                .or_default(),
            origin,
        );
    }

    /// Add a cabal2nix entry. Another source or other options for the same
    /// name make an entry of their own (key `NAME~HASH`, see
    /// [`Manifest::normalised`]): one generator per distinct name, source
    /// and options.
    pub fn add_cabal2nix(&mut self, name: &str, src: Given, options: Given, origin: Origin) {
        let key = match self.cabal2nix.get(name) {
            Some(e) if (&e.src, &e.options) != (&src, &options) => {
                variant_key(name, &src, &options)
            }
            _ => name.to_string(),
        };
        let e = self.cabal2nix.entry(key).or_insert_with(|| Cabal2nix {
            src,
            options,
            origins: Vec::new(),
        });
        push_origin(&mut e.origins, origin);
    }

    /// Add a callHackageDirect entry; another version or hash for the same
    /// name is a conflict.
    pub fn add_hackage_direct(
        &mut self,
        name: &str,
        version: &str,
        sha256: &str,
        origin: Origin,
    ) -> Result<(), DirectConflict> {
        let e = self
            .hackage_direct
            .entry(name.to_string())
            .or_insert_with(|| Direct {
                version: version.to_string(),
                sha256: sha256.to_string(),
                origins: Vec::new(),
            });
        if (e.version.as_str(), e.sha256.as_str()) != (version, sha256) {
            return Err(DirectConflict {
                name: name.to_string(),
                version: e.version.clone(),
            });
        }
        push_origin(&mut e.origins, origin);
        Ok(())
    }
}

/// The package name of a cabal2nix entry's key (`app` for `app~1a2b3c4d`;
/// Hackage names never hold `~`).
pub fn entry_name(key: &str) -> &str {
    key.split_once('~').map_or(key, |(n, _)| n)
}

/// The key of one of several cabal2nix entries of a name: `NAME~HASH`, the
/// hash (FNV-1a, 32 bits) of its source and options, so it is stable
/// whatever other entries come and go.
fn variant_key(name: &str, src: &Given, options: &Given) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in src
        .as_str()
        .bytes()
        .chain([0])
        .chain(options.as_str().bytes())
    {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{name}~{h:08x}")
}

/// Why a manifest on disk could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ManifestError {
    #[error("the manifest does not parse: {0}")]
    DoesNotParse(String),
    #[error("the manifest is not `let … in …`")]
    NotLetIn,
    #[error("the manifest has no `manifests` binding")]
    NoManifests,
    #[error("unexpected manifest shape: {0}")]
    Shape(String),
}

/// A callHackageDirect entry whose name is already in the batch with
/// another version or hash.
#[derive(Debug, thiserror::Error)]
#[error("`{name}` is already in the batch as callHackageDirect {version}")]
pub struct DirectConflict {
    pub name: String,
    pub version: String,
}

fn bad(what: &str) -> ManifestError {
    ManifestError::Shape(what.to_string())
}

/// The value of `name = …;` in the manifest's top `let`.
fn let_binding(let_in: &rnix::SyntaxNode, name: &str) -> Option<rnix::SyntaxNode> {
    let_in
        .children()
        .filter(|c| c.kind() == rnix::SyntaxKind::NODE_ATTRPATH_VALUE)
        .find(|c| {
            c.first_child()
                .and_then(|p| p.first_child())
                .and_then(|a| crate::syntax::attr_name(&a))
                .as_deref()
                == Some(name)
        })
        .and_then(|c| c.children().nth(1))
}

/// `materialize = { dir = ./ifd-batch; targets = [ … ]; };`
fn parse_materialize(m: &rnix::SyntaxNode) -> Result<Materialize, ManifestError> {
    use crate::syntax::{attrset_get, string_literal};
    let dir = attrset_get(m, "dir")
        .map(|d| d.text().to_string())
        .and_then(|d| d.strip_prefix("./").map(str::to_string))
        .ok_or_else(|| bad("materialize.dir"))?;
    let targets = attrset_get(m, "targets")
        .map(|l| l.children().filter_map(|x| string_literal(&x)).collect())
        .unwrap_or_default();
    Ok(Materialize { dir, targets })
}

/// One file's entries: its sections, with the origins as data (per
/// version) or, else, the trailing comments.
fn parse_file_entries(file: &str, value: &rnix::SyntaxNode) -> Result<FileEntries, ManifestError> {
    use crate::syntax::{attr_name, attrset_entries, attrset_get, string_literal, unparen};
    let mut e = FileEntries::default();
    let mut data_origins: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(o) = attrset_get(value, "origins") {
        for (k, v) in attrset_entries(&o).into_iter().flatten() {
            if let Some(text) = v.and_then(|v| string_literal(&v)) {
                data_origins.insert(k, text.split(", ").map(str::to_string).collect());
            }
        }
    }
    for (section, body) in attrset_entries(value).ok_or_else(|| bad(file))? {
        if section == "origins" {
            continue;
        }
        let body = body.ok_or_else(|| bad(&section))?;
        for entry in body
            .children()
            .filter(|c| c.kind() == rnix::SyntaxKind::NODE_ATTRPATH_VALUE)
        {
            let name = entry
                .first_child()
                .and_then(|p| p.first_child())
                .and_then(|a| attr_name(&a))
                .ok_or_else(|| bad("entry name"))?;
            let v = entry
                .children()
                .nth(1)
                .map(|v| unparen(&v))
                .ok_or_else(|| bad(&name))?;
            let origins = trailing_origins(&entry);
            match section.as_str() {
                "hackage" => parse_hackage(&mut e, &name, &v, &origins, &data_origins),
                "hackageDirect" => {
                    let d = parse_direct(&v, origins).ok_or_else(|| bad(&name))?;
                    e.hackage_direct.insert(name, d);
                }
                "cabal2nix" => {
                    let c = parse_cabal2nix(&v, origins).ok_or_else(|| bad(&name))?;
                    e.cabal2nix.insert(name, c);
                }
                other => return Err(bad(other)),
            }
        }
    }
    Ok(e)
}

/// `NAME = "1.0";` or `NAME = [ "1.0" "2.0" ];`
fn parse_hackage(
    e: &mut FileEntries,
    name: &str,
    v: &rnix::SyntaxNode,
    origins: &[Origin],
    data_origins: &BTreeMap<String, Vec<String>>,
) {
    use crate::syntax::string_literal;
    let versions: Vec<String> = if v.kind() == rnix::SyntaxKind::NODE_LIST {
        v.children().filter_map(|x| string_literal(&x)).collect()
    } else {
        string_literal(v).into_iter().collect()
    };
    for ver in versions {
        let origins = data_origins
            .get(&format!("hackage/{name}/{ver}"))
            .map_or(origins, Vec::as_slice);
        for o in origins
            .iter()
            .cloned()
            .chain(origins.is_empty().then(String::new))
        {
            e.add_hackage(name, &ver, o);
        }
    }
}

/// `NAME = { ver = "…"; sha256 = "…"; };`
fn parse_direct(v: &rnix::SyntaxNode, origins: Vec<Origin>) -> Option<Direct> {
    use crate::syntax::{attrset_get, string_literal};
    let get = |k: &str| attrset_get(v, k).and_then(|x| string_literal(&x));
    Some(Direct {
        version: get("ver")?,
        sha256: get("sha256")?,
        origins,
    })
}

/// `KEY = { [name = "…";] src = …; | callerSource = true; [options = "…"; | callerOptions = true;] };`
fn parse_cabal2nix(v: &rnix::SyntaxNode, origins: Vec<Origin>) -> Option<Cabal2nix> {
    use crate::syntax::{attrset_get, string_literal};
    let flag = |k: &str| attrset_get(v, k).is_some_and(|x| x.text() == "true");
    let src = attrset_get(v, "src")
        .map(|x| Given::Text(x.text().to_string()))
        .or_else(|| flag("callerSource").then_some(Given::Caller))?;
    let options = attrset_get(v, "options")
        .and_then(|x| string_literal(&x))
        .map(Given::Text)
        .or_else(|| flag("callerOptions").then_some(Given::Caller))
        .unwrap_or(Given::Text(String::new()));
    Some(Cabal2nix {
        src,
        options,
        origins,
    })
}

/// `# a.nix:3, b.nix:7` after an entry on the same line.
fn trailing_origins(entry: &rnix::SyntaxNode) -> Vec<Origin> {
    let mut next = entry.next_sibling_or_token();
    while let Some(el) = next {
        match el.kind() {
            rnix::SyntaxKind::TOKEN_WHITESPACE if !el.to_string().contains('\n') => {}
            rnix::SyntaxKind::TOKEN_COMMENT => {
                let text = el.to_string();
                return text
                    .trim_start_matches('#')
                    .split(',')
                    .map(|o| o.trim().to_string())
                    .filter(|o| !o.is_empty())
                    .collect();
            }
            _ => break,
        }
        next = el.next_sibling_or_token();
    }
    Vec::new()
}

fn push_origin(origins: &mut Vec<Origin>, origin: Origin) {
    if !origin.is_empty() && !origins.contains(&origin) {
        origins.push(origin);
        origins.sort();
    }
}

/// The whole manifest: source file (relative to the repository root) → entries.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub files: BTreeMap<String, FileEntries>,
    /// Set when the repository uses the materialized backend.
    pub materialize: Option<Materialize>,
    /// The extraction's tool, when forced (`rewrite --extractor`); `None`:
    /// nixlib's choice (`ifd-batch extract` when the package set provides
    /// `ifd-batch`, else GNU tar).
    pub extractor: Option<Extractor>,
}

/// The tool the batch's extraction runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extractor {
    /// GNU tar: one pass over the whole archive.
    Tar,
    /// `ifd-batch extract`, through the seekable index.
    IfdBatch,
}

impl Extractor {
    /// As nixlib's `extractor` argument spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Extractor::Tar => "tar",
            Extractor::IfdBatch => "ifd-batch",
        }
    }

    fn parse(s: &str) -> Option<Extractor> {
        match s {
            "tar" => Some(Extractor::Tar),
            "ifd-batch" => Some(Extractor::IfdBatch),
            _ => None,
        }
    }
}

impl Manifest {
    pub fn count(&self) -> usize {
        self.files.values().map(FileEntries::count).sum()
    }

    /// The manifest with its cabal2nix keys made unique across files: a
    /// name with one source and options in the whole manifest is keyed by
    /// the name; a name with several, each by `NAME~HASH` (nixlib's `union`
    /// merges the files' entries by key, and its lookup matches the source
    /// and options). Idempotent.
    pub fn normalised(&self) -> Manifest {
        let mut variants: BTreeMap<&str, std::collections::BTreeSet<(&Given, &Given)>> =
            BTreeMap::new();
        for e in self.files.values() {
            for (key, c) in &e.cabal2nix {
                variants
                    .entry(entry_name(key))
                    .or_default()
                    .insert((&c.src, &c.options));
            }
        }
        let mut out = self.clone();
        for e in out.files.values_mut() {
            e.cabal2nix = std::mem::take(&mut e.cabal2nix)
                .into_iter()
                .map(|(key, c)| {
                    let name = entry_name(&key);
                    let key = if variants.get(name).is_some_and(|v| v.len() > 1) {
                        variant_key(name, &c.src, &c.options)
                    } else {
                        name.to_string()
                    };
                    (key, c)
                })
                .collect();
        }
        out
    }

    /// Read a manifest written by [`Manifest::render`] (entries and their
    /// origin comments; the vendored nixlib is ignored).
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        use crate::syntax::{attrset_entries, unparen};
        use rnix::SyntaxKind::*;
        let parse = crate::syntax::parse(text);
        if let Some(e) = parse.errors().first() {
            return Err(ManifestError::DoesNotParse(e.to_string()));
        }
        let root = parse.syntax();
        let let_in = root
            .children()
            .next()
            .map(|n| unparen(&n))
            .filter(|n| n.kind() == NODE_LET_IN)
            .ok_or(ManifestError::NotLetIn)?;
        let manifests = let_binding(&let_in, "manifests").ok_or(ManifestError::NoManifests)?;
        let mut out = Manifest {
            materialize: let_binding(&let_in, "materialize")
                .map(|m| parse_materialize(&m))
                .transpose()?,
            extractor: let_binding(&let_in, "extractor")
                .map(|x| {
                    crate::syntax::string_literal(&x)
                        .and_then(|x| Extractor::parse(&x))
                        .ok_or_else(|| bad("extractor"))
                })
                .transpose()?,
            ..Manifest::default()
        };
        for (file, value) in attrset_entries(&manifests).ok_or_else(|| bad("manifests"))? {
            let value = value.ok_or_else(|| bad("inherit in manifests"))?;
            out.files
                .insert(file.clone(), parse_file_entries(&file, &value)?);
        }
        Ok(out)
    }

    /// Render the manifest file (normalised: [`Manifest::normalised`]).
    pub fn render(&self) -> String {
        let normalised = self.normalised();
        let this = &normalised;
        let mut t = String::new();
        let _ = writeln!(
            t,
            "# Generated by `ifd-batch rewrite` (ifd-batch {}). Do not edit by hand:\n\
             # re-run `ifd-batch rewrite --write` after changing the call sites.\n\
             #\n\
             # Usage, in an overlay `self: super: …` of a Haskell package set:\n\
             #   let ifdBatch = import ./ifd-batch.nix \"<this file's path>\" self; in …\n\
             # then `ifdBatch.callHackage`, `ifdBatch.callCabal2nix`, … build every entry\n\
             # below in one batch: one import-from-derivation barrier instead of one per package.",
            env!("CARGO_PKG_VERSION")
        );
        t.push_str("let\n  # nixlib, vendored: no flake input or network needed.\n  nixlib =\n");
        for line in NIXLIB.lines() {
            if line.is_empty() {
                t.push('\n');
            } else {
                let _ = writeln!(t, "    {line}");
            }
        }
        t.push_str(if this.files.is_empty() {
            "  ;\n\n  manifests = { };\n"
        } else {
            "  ;\n\n  manifests = {\n"
        });
        for (file, e) in &this.files {
            let _ = writeln!(t, "    {} = {{", nix_string(file));
            render_entries(&mut t, e, "      ");
            t.push_str("    };\n");
        }
        if !this.files.is_empty() {
            t.push_str("  };\n");
        }
        let materialized = match &this.materialize {
            Some(m) => {
                let targets: Vec<String> = m.targets.iter().map(|t| nix_string(t)).collect();
                let _ = writeln!(
                    t,
                    "\n  # The materialized backend: generated expressions checked in under\n  \
                     # `dir`, made by evaluating `targets` (`ifd-batch check --fix` redoes it).\n  \
                     materialize = {{\n    dir = ./{};\n    targets = [ {} ];\n  }};",
                    m.dir,
                    targets.join(" ")
                );
                "  materialized = materialize.dir;\n"
            }
            None => "",
        };
        let extractor = match this.extractor {
            Some(x) => {
                let _ = writeln!(
                    t,
                    "\n  # The extraction's tool (`ifd-batch rewrite --extractor`).\n  \
                     extractor = {};",
                    nix_string(x.as_str())
                );
                "  inherit extractor;\n"
            }
            None => "",
        };
        t.push_str(
            "in\n\
             # The first argument names the calling file (for readers and `ifd-batch\n\
             # check`); every caller gets the union of all files' entries, so a package\n\
             # set needs one batch however many files its overlays span.\n\
             # `.group` is nixlib's generic batch (`ifdBatchGroup` bindings).\n\
             {\n  \
               __functor = _: _file: hself:\n    \
                 nixlib.batch {\n      \
                   inherit hself;\n      \
                   manifest = nixlib.union manifests;\n",
        );
        for line in materialized.lines().chain(extractor.lines()) {
            t.push_str("    ");
            t.push_str(line);
            t.push('\n');
        }
        t.push_str("    };\n  inherit (nixlib) group;\n}\n");
        t
    }
}

fn render_entries(t: &mut String, e: &FileEntries, ind: &str) {
    render_sections(t, e, ind);
    // Each entry's origins as data: nixlib names them when an entry fails.
    let mut origins: Vec<(String, String)> = Vec::new();
    for (name, versions) in &e.hackage {
        for (v, o) in versions {
            origins.push((format!("hackage/{name}/{v}"), o.join(", ")));
        }
    }
    for (name, d) in &e.hackage_direct {
        origins.push((format!("direct/{name}"), d.origins.join(", ")));
    }
    for (name, c) in &e.cabal2nix {
        origins.push((format!("cabal2nix/{name}"), c.origins.join(", ")));
    }
    origins.retain(|(_, o)| !o.is_empty());
    if !origins.is_empty() {
        let _ = writeln!(t, "{ind}origins = {{");
        for (k, o) in origins {
            let _ = writeln!(t, "{ind}  {} = {};", nix_string(&k), nix_string(&o));
        }
        let _ = writeln!(t, "{ind}}};");
    }
}

fn render_sections(t: &mut String, e: &FileEntries, ind: &str) {
    if !e.hackage.is_empty() {
        let _ = writeln!(t, "{ind}hackage = {{");
        for (name, versions) in &e.hackage {
            let origins: std::collections::BTreeSet<&str> =
                versions.values().flatten().map(String::as_str).collect();
            let origins: Vec<&str> = origins.into_iter().collect();
            let value = if versions.len() == 1 {
                nix_string(versions.keys().next().map(String::as_str).unwrap_or(""))
            } else {
                let vs: Vec<String> = versions.keys().map(|v| nix_string(v)).collect();
                format!("[ {} ]", vs.join(" "))
            };
            let _ = writeln!(
                t,
                "{ind}  {} = {value}; # {}",
                nix_attr(name),
                origins.join(", ")
            );
        }
        let _ = writeln!(t, "{ind}}};");
    }
    if !e.hackage_direct.is_empty() {
        let _ = writeln!(t, "{ind}hackageDirect = {{");
        for (name, d) in &e.hackage_direct {
            let _ = writeln!(
                t,
                "{ind}  {} = {{ ver = {}; sha256 = {}; }}; # {}",
                nix_attr(name),
                nix_string(&d.version),
                nix_string(&d.sha256),
                d.origins.join(", ")
            );
        }
        let _ = writeln!(t, "{ind}}};");
    }
    if !e.cabal2nix.is_empty() {
        let _ = writeln!(t, "{ind}cabal2nix = {{");
        for (name, c) in &e.cabal2nix {
            let origins = &c.origins;
            let opts = match &c.options {
                Given::Text(o) if o.is_empty() => String::new(),
                Given::Text(o) => format!(" options = {};", nix_string(o)),
                Given::Caller => " callerOptions = true;".to_string(),
            };
            let src = match &c.src {
                Given::Text(src) => format!("src = {src};"),
                Given::Caller => "callerSource = true;".to_string(),
            };
            let src = match name.split_once('~') {
                Some((n, _)) => format!("name = {}; {src}", nix_string(n)),
                None => src,
            };
            let _ = writeln!(
                t,
                "{ind}  {} = {{ {src}{opts} }}; # {}",
                nix_attr(name),
                origins.join(", ")
            );
        }
        let _ = writeln!(t, "{ind}}};");
    }
}

/// A Nix string literal.
pub fn nix_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An attribute name: bare when it is a plain identifier, quoted otherwise.
pub fn nix_attr(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or",
    ];
    let mut chars = name.chars();
    let ident = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '-'))
        && !KEYWORDS.contains(&name);
    if ident {
        name.to_string()
    } else {
        nix_string(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_back_what_render_wrote() {
        let mut m = Manifest::default();
        let mut e = FileEntries::default();
        e.add_hackage("aeson", "2.1.2.1", "a.nix:3".into());
        e.add_hackage("aeson", "2.2.1.0", "a.nix:9".into());
        e.add_hackage("3d", "1", "a.nix:4".into());
        let _ = e.add_hackage_direct("x", "1.0", "abc", "a.nix:5".into());
        e.add_cabal2nix(
            "app",
            Given::Text("../app".into()),
            Given::Text("--no-hpack".into()),
            "a.nix:6".into(),
        );
        m.files.insert("a.nix".into(), e);
        let back = Manifest::parse(&m.render()).expect("parses");
        // Origins of several versions of one package are rendered together.
        assert_eq!(back.render(), m.render());
        assert_eq!(back.files["a.nix"].semantic(), m.files["a.nix"].semantic());
    }

    #[test]
    fn strings_and_attrs_are_quoted_only_when_needed() {
        assert_eq!(nix_attr("optparse-applicative"), "optparse-applicative");
        assert_eq!(nix_attr("3d-graphics"), "\"3d-graphics\"");
        assert_eq!(nix_attr("in"), "\"in\"");
        assert_eq!(nix_string("a\"b${c}$d\\"), "\"a\\\"b\\${c}$d\\\\\"");
    }
}
