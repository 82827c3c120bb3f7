//! Plan: from batchable sites to a batch manifest.
//!
//! The manifest is the one generated file of a rewritten repository
//! (default `nix/ifd-batch.nix`). It holds the vendored nixlib and, per
//! source file, the entries its call sites need, in nixlib's words:
//! `hackage`, `hackageDirect`, `cabal2nix`. Rendering is deterministic
//! (sorted, stable), so a second rewrite changes nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The nixlib source vendored into every manifest.
pub const NIXLIB: &str = include_str!("../nixlib/default.nix");

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

/// The `src` of a cabal2nix entry whose source is not a path literal: the
/// calling file's batch binding gives it (`import … "FILE" self { NAME =
/// SRC; }`); the manifest says `callerSource = true;`.
pub const CALLER_SOURCE: &str = "<caller>";

/// A `cabal2nix` entry's options when they are not a literal: given, like
/// a caller source, by the calling file's binding (`"options:NAME" = OPTS;`);
/// the manifest says `callerOptions = true;`.
pub const CALLER_OPTIONS: &str = "<caller>";

/// Where an entry was found: `file:line`.
pub type Origin = String;

/// Entries for the package-set scopes of one source file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileEntries {
    /// name → version → origins.
    pub hackage: BTreeMap<String, BTreeMap<String, Vec<Origin>>>,
    /// name → (version, sha256, origins).
    pub hackage_direct: BTreeMap<String, (String, String, Vec<Origin>)>,
    /// name → (src as Nix text relative to the manifest, or
    /// [`CALLER_SOURCE`], options, origins).
    pub cabal2nix: BTreeMap<String, (String, String, Vec<Origin>)>,
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
                .map(|(n, (ver, sha, _))| format!("hackageDirect {n} {ver} {sha}")),
        );
        v.extend(self.cabal2nix.iter().map(|(key, (src, opts, _))| {
            format!(
                "cabal2nix {} {src}{}",
                entry_name(key),
                if opts.is_empty() {
                    String::new()
                } else {
                    format!(" {opts}")
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
        for (_, _, origins) in self.hackage_direct.values_mut() {
            remap(origins);
        }
        for (_, _, origins) in self.cabal2nix.values_mut() {
            remap(origins);
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
    pub fn add_cabal2nix(
        &mut self,
        name: &str,
        src: &str,
        options: &str,
        origin: Origin,
    ) -> Result<(), String> {
        let key = match self.cabal2nix.get(name) {
            Some((s, o, _)) if (s.as_str(), o.as_str()) != (src, options) => {
                variant_key(name, src, options)
            }
            _ => name.to_string(),
        };
        add_unique(
            &mut self.cabal2nix,
            &key,
            (src, options),
            origin,
            |(s, _)| format!("`{name}` is already in the batch with another source ({s})"),
        )
    }

    /// Add a callHackageDirect entry; another version or hash for the same
    /// name is a conflict.
    pub fn add_hackage_direct(
        &mut self,
        name: &str,
        version: &str,
        sha256: &str,
        origin: Origin,
    ) -> Result<(), String> {
        add_unique(
            &mut self.hackage_direct,
            name,
            (version, sha256),
            origin,
            |(v, _)| format!("`{name}` is already in the batch as callHackageDirect {v}"),
        )
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
fn variant_key(name: &str, src: &str, options: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in src.bytes().chain([0]).chain(options.bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{name}~{h:08x}")
}

/// Insert `name → value` unless present; the same value adds the origin, a
/// different one is a conflict described by `conflict(existing)`.
fn add_unique(
    map: &mut BTreeMap<String, (String, String, Vec<Origin>)>,
    name: &str,
    (a, b): (&str, &str),
    origin: Origin,
    conflict: impl FnOnce((&str, &str)) -> String,
) -> Result<(), String> {
    match map.get_mut(name) {
        Some((x, y, origins)) if x == a && y == b => {
            push_origin(origins, origin);
            Ok(())
        }
        Some((x, y, _)) => Err(conflict((x, y))),
        None => {
            map.insert(
                name.to_string(),
                (a.to_string(), b.to_string(), vec![origin]),
            );
            Ok(())
        }
    }
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
        let mut variants: BTreeMap<&str, std::collections::BTreeSet<(&str, &str)>> =
            BTreeMap::new();
        for e in self.files.values() {
            for (key, (src, opts, _)) in &e.cabal2nix {
                variants
                    .entry(entry_name(key))
                    .or_default()
                    .insert((src.as_str(), opts.as_str()));
            }
        }
        let mut out = self.clone();
        for e in out.files.values_mut() {
            e.cabal2nix = std::mem::take(&mut e.cabal2nix)
                .into_iter()
                .map(|(key, (src, opts, origins))| {
                    let name = entry_name(&key);
                    let key = if variants.get(name).is_some_and(|v| v.len() > 1) {
                        variant_key(name, &src, &opts)
                    } else {
                        name.to_string()
                    };
                    (key, (src, opts, origins))
                })
                .collect();
        }
        out
    }

    /// Read a manifest written by [`Manifest::render`] (entries and their
    /// origin comments; the vendored nixlib is ignored).
    pub fn parse(text: &str) -> Result<Manifest, String> {
        use crate::syntax::{attr_name, attrset_entries, string_literal, unparen};
        use rnix::SyntaxKind::*;
        let parse = rnix::Root::parse(text);
        if let Some(e) = parse.errors().first() {
            return Err(format!("the manifest does not parse: {e}"));
        }
        let root = parse.syntax();
        let let_in = root
            .children()
            .next()
            .map(|n| unparen(&n))
            .filter(|n| n.kind() == NODE_LET_IN)
            .ok_or("the manifest is not `let … in …`")?;
        let manifests = let_in
            .children()
            .filter(|c| c.kind() == NODE_ATTRPATH_VALUE)
            .find(|c| {
                c.first_child()
                    .and_then(|p| p.first_child())
                    .and_then(|a| attr_name(&a))
                    .as_deref()
                    == Some("manifests")
            })
            .and_then(|c| c.children().nth(1))
            .ok_or("the manifest has no `manifests` binding")?;
        let bad = |what: &str| format!("unexpected manifest shape: {what}");
        let mut out = Manifest::default();
        let binding = |name: &str| {
            let_in
                .children()
                .filter(|c| c.kind() == NODE_ATTRPATH_VALUE)
                .find(|c| {
                    c.first_child()
                        .and_then(|p| p.first_child())
                        .and_then(|a| attr_name(&a))
                        .as_deref()
                        == Some(name)
                })
                .and_then(|c| c.children().nth(1))
        };
        if let Some(m) = binding("materialize") {
            let dir = crate::syntax::attrset_get(&m, "dir")
                .map(|d| d.text().to_string())
                .and_then(|d| d.strip_prefix("./").map(str::to_string))
                .ok_or_else(|| bad("materialize.dir"))?;
            let targets = crate::syntax::attrset_get(&m, "targets")
                .map(|l| l.children().filter_map(|x| string_literal(&x)).collect())
                .unwrap_or_default();
            out.materialize = Some(Materialize { dir, targets });
        }
        for (file, value) in attrset_entries(&manifests).ok_or_else(|| bad("manifests"))? {
            let value = value.ok_or_else(|| bad("inherit in manifests"))?;
            let mut e = FileEntries::default();
            // The origins as data (per version), else the trailing comments.
            let mut data_origins: BTreeMap<String, Vec<String>> = BTreeMap::new();
            if let Some(o) = crate::syntax::attrset_get(&value, "origins") {
                for (k, v) in attrset_entries(&o).into_iter().flatten() {
                    if let Some(text) = v.and_then(|v| string_literal(&v)) {
                        data_origins.insert(k, text.split(", ").map(str::to_string).collect());
                    }
                }
            }
            for (section, body) in attrset_entries(&value).ok_or_else(|| bad(&file))? {
                if section == "origins" {
                    continue;
                }
                let body = body.ok_or_else(|| bad(&section))?;
                for entry in body.children().filter(|c| c.kind() == NODE_ATTRPATH_VALUE) {
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
                        "hackage" => {
                            let versions: Vec<String> = if v.kind() == NODE_LIST {
                                v.children().filter_map(|x| string_literal(&x)).collect()
                            } else {
                                string_literal(&v).into_iter().collect()
                            };
                            for ver in versions {
                                let origins = data_origins
                                    .get(&format!("hackage/{name}/{ver}"))
                                    .unwrap_or(&origins);
                                for o in origins
                                    .iter()
                                    .cloned()
                                    .chain(origins.is_empty().then(String::new))
                                {
                                    e.add_hackage(&name, &ver, o);
                                }
                            }
                        }
                        "hackageDirect" => {
                            let get = |k: &str| {
                                crate::syntax::attrset_get(&v, k).and_then(|x| string_literal(&x))
                            };
                            let (Some(ver), Some(sha)) = (get("ver"), get("sha256")) else {
                                return Err(bad(&name));
                            };
                            e.hackage_direct.insert(name, (ver, sha, origins));
                        }
                        "cabal2nix" => {
                            let caller = crate::syntax::attrset_get(&v, "callerSource")
                                .is_some_and(|x| x.text() == "true");
                            let src = crate::syntax::attrset_get(&v, "src")
                                .map(|x| x.text().to_string())
                                .or_else(|| caller.then(|| CALLER_SOURCE.to_string()))
                                .ok_or_else(|| bad(&name))?;
                            let caller_options = crate::syntax::attrset_get(&v, "callerOptions")
                                .is_some_and(|x| x.text() == "true");
                            let options = crate::syntax::attrset_get(&v, "options")
                                .and_then(|x| string_literal(&x))
                                .or_else(|| caller_options.then(|| CALLER_OPTIONS.to_string()))
                                .unwrap_or_default();
                            e.cabal2nix.insert(name, (src, options, origins));
                        }
                        other => return Err(bad(other)),
                    }
                }
            }
            out.files.insert(file, e);
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
        for line in materialized.lines() {
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
    for (name, (_, _, o)) in &e.hackage_direct {
        origins.push((format!("direct/{name}"), o.join(", ")));
    }
    for (name, (_, _, o)) in &e.cabal2nix {
        origins.push((format!("cabal2nix/{name}"), o.join(", ")));
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
        for (name, (ver, sha, origins)) in &e.hackage_direct {
            let _ = writeln!(
                t,
                "{ind}  {} = {{ ver = {}; sha256 = {}; }}; # {}",
                nix_attr(name),
                nix_string(ver),
                nix_string(sha),
                origins.join(", ")
            );
        }
        let _ = writeln!(t, "{ind}}};");
    }
    if !e.cabal2nix.is_empty() {
        let _ = writeln!(t, "{ind}cabal2nix = {{");
        for (name, (src, options, origins)) in &e.cabal2nix {
            let opts = if options.is_empty() {
                String::new()
            } else if options == CALLER_OPTIONS {
                " callerOptions = true;".to_string()
            } else {
                format!(" options = {};", nix_string(options))
            };
            let src = if src == CALLER_SOURCE {
                "callerSource = true;".to_string()
            } else {
                format!("src = {src};")
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
        let _ = e.add_cabal2nix("app", "../app", "--no-hpack", "a.nix:6".into());
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
