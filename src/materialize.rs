//! The materialized backend: the batch's generated expressions, built once
//! with real Nix and checked in next to the manifest
//! (`nix/ifd-batch/<compiler>-<system>/<key>.nix`), so that evaluation does
//! no import-from-derivation for the batched sites.
//!
//! Every platform (compiler × system) the targets evaluate is written on
//! this machine: nixlib builds another system's generators here, with that
//! platform's arguments (see its `buildSet`), so the files are those the
//! platform's own generator writes and no builder of that system is needed.
//! `--system` limits a run to some systems (`changes`' `systems`).
//!
//! Each file starts with a header saying what it was generated from
//! (`# ifd-batch: <key> platform=<p> index=<all-cabal-hashes store name>` or
//! `source=<sha256 of the source's .cabal/package.yaml files>`). nixlib
//! compares it at evaluation time (and refuses a stale file loudly);
//! [`stale`] compares what can be compared without Nix, for `ifd-batch
//! check`.

use crate::manifest::{Manifest, Materialize};
use crate::nix::{self, NixError};
use crate::plan::{Changes, FileChange, Plan};
use crate::verify::{AttrTarget, BadTarget, CopyError, EvalError, evaluate_env, rewritten_copy};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Why materializing wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum MaterializeError {
    #[error(transparent)]
    Copy(#[from] CopyError),
    #[error(transparent)]
    AttrTarget(#[from] BadTarget),
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// Building the generators.
    #[error(transparent)]
    Nix(#[from] NixError),
    #[error("unexpected trace from nixlib: {0}")]
    BadTrace(serde_json::Error),
    #[error(
        "--system {}: no target evaluates a package set for it (the targets evaluate {})",
        unknown.join(", "),
        evaluated.join(", ")
    )]
    UnknownSystems {
        unknown: Vec<String>,
        evaluated: Vec<String>,
    },
    #[error(
        "no batch was evaluated through the targets ({}): nothing to materialize",
        targets.join(", ")
    )]
    NoBatch { targets: Vec<String> },
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Entries whose generator failed, and why.
    #[error("cannot materialize (nothing written):\n  {}", .0.join("\n  "))]
    Failed(Vec<String>),
    #[error("not in the all-cabal-hashes index (nothing written): {}", .0.join(", "))]
    NotInIndex(Vec<String>),
}

/// One generated expression to check in.
#[derive(Debug, Clone)]
struct Entry {
    drv: String,
    what: String,
    fingerprint: String,
}

/// This backend's changes to `plan` (which it does not change): `Some`
/// materializes (records itself in the manifest, builds, returns the
/// files), `None` removes what an earlier materialization left. `systems`:
/// only those systems' platforms (`rewrite --system`; empty: every system
/// the targets evaluate).
pub fn changes(
    plan: &Plan,
    conf: Option<&Materialize>,
    systems: &[String],
) -> Result<Changes, MaterializeError> {
    let old = plan
        .manifest_on_disk
        .as_ref()
        .and_then(|m| m.materialize.clone());
    let mut manifest = plan.manifest.clone();
    manifest.materialize = conf.cloned();
    let mut out = Changes {
        manifest: Some(manifest),
        ..Changes::default()
    };
    let mut existing = BTreeSet::new();
    for c in old.iter().chain(conf) {
        list_files(&plan.root, &c.root_dir(&plan.manifest_file), &mut existing);
    }
    let Some(conf) = conf else {
        out.removals = existing.into_iter().collect();
        return Ok(out);
    };
    if !plan.errors.is_empty() || plan.manifest.count() == 0 {
        return Ok(out);
    }
    // Evaluated with the manifest that records the backend.
    let staged = plan.clone().with(Changes {
        manifest: out.manifest.clone(),
        ..Changes::default()
    });
    let (generated, kept) = generate(&staged, conf, systems)?;
    for (rel, text) in &generated {
        let path = plan.root.join(rel);
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        if old != *text {
            out.generated.push(FileChange {
                file: rel.clone(),
                path,
                old,
                new: text.clone(),
                generated: true,
            });
        }
    }
    // (A platform left out by `--system` keeps its files.)
    let dir = conf.root_dir(&plan.manifest_file);
    out.removals = existing
        .into_iter()
        .filter(|f| !generated.contains_key(f))
        .filter(|f| !kept.iter().any(|p| f.starts_with(&format!("{dir}/{p}/"))))
        .collect();
    Ok(out)
}

/// Every `.nix` file under `dir` (relative to `root`), relative to `root`.
fn list_files(root: &Path, dir: &str, out: &mut BTreeSet<String>) {
    let mut stack = vec![root.join(dir)];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "nix")
                && let Ok(rel) = p.strip_prefix(root)
            {
                out.insert(rel.to_string_lossy().into_owned());
            }
        }
    }
}

/// Evaluate the targets on a rewritten copy (nixlib traces each batch's
/// generators: those of another system are built here), build every
/// generator, and render the files; also the platforms `--system` left out.
fn generate(
    plan: &Plan,
    conf: &Materialize,
    only: &[String],
) -> Result<(BTreeMap<String, String>, BTreeSet<String>), MaterializeError> {
    let copy = rewritten_copy(plan)?;
    let mut traced = Traced::default();
    for t in &conf.targets {
        let t: AttrTarget = t.parse()?;
        let (_, stderr) = evaluate_env(
            &copy.collect,
            &copy.root.join(&t.file),
            &t.attr,
            &[("IFD_BATCH_MATERIALIZE", "1")],
        )?;
        traced.read(&stderr, only)?;
    }
    let Traced {
        wanted,
        missing,
        systems,
        kept,
    } = traced;
    let unknown: Vec<String> = only
        .iter()
        .filter(|s| !systems.contains(*s))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(MaterializeError::UnknownSystems {
            unknown,
            evaluated: systems.into_iter().collect(),
        });
    }
    if wanted.is_empty() {
        return Err(MaterializeError::NoBatch {
            targets: conf.targets.clone(),
        });
    }
    let files = build_files(&wanted, &conf.root_dir(&plan.manifest_file))?;
    if !missing.is_empty() {
        return Err(MaterializeError::NotInIndex(missing.into_iter().collect()));
    }
    Ok((files, kept))
}

/// What the targets' evaluation traced (`ifd-batch-materialize` lines).
#[derive(Default)]
struct Traced {
    /// platform → key → entry
    wanted: BTreeMap<String, BTreeMap<String, Entry>>,
    missing: BTreeSet<String>,
    systems: BTreeSet<String>,
    /// Platforms of systems not asked for (`--system`): their files stay.
    kept: BTreeSet<String>,
}

impl Traced {
    /// Read one evaluation's trace lines; `only`: the systems asked for
    /// (empty: every one).
    fn read(&mut self, stderr: &str, only: &[String]) -> Result<(), MaterializeError> {
        for line in stderr.lines() {
            let Some(json) = line
                .strip_prefix("trace: ifd-batch-materialize ")
                .map(str::trim)
            else {
                continue;
            };
            let v: serde_json::Value =
                serde_json::from_str(json).map_err(MaterializeError::BadTrace)?;
            let platform = v["platform"].as_str().unwrap_or_default().to_string();
            let system = v["system"].as_str().unwrap_or_default().to_string();
            self.systems.insert(system.clone());
            if !only.is_empty() && !only.contains(&system) {
                self.kept.insert(platform);
                continue;
            }
            let set = self.wanted.entry(platform).or_default();
            for (key, e) in v["entries"].as_object().into_iter().flatten() {
                set.insert(
                    key.clone(),
                    Entry {
                        drv: e["drv"].as_str().unwrap_or_default().to_string(),
                        what: e["what"].as_str().unwrap_or_default().to_string(),
                        fingerprint: e["fingerprint"].as_str().unwrap_or("-").to_string(),
                    },
                );
            }
            for m in v["missing"].as_array().into_iter().flatten() {
                self.missing.extend(m.as_str().map(str::to_string));
            }
        }
        Ok(())
    }
}

/// Build every wanted generator (one realise) and render the files, by
/// path under `dir`; a generator that failed is an error naming it.
fn build_files(
    wanted: &BTreeMap<String, BTreeMap<String, Entry>>,
    dir: &str,
) -> Result<BTreeMap<String, String>, MaterializeError> {
    let drvs: Vec<&str> = wanted
        .values()
        .flat_map(|s| s.values().map(|e| e.drv.as_str()))
        .collect();
    let outs = nix::realise(&drvs)?;
    let mut files = BTreeMap::new();
    let mut failures = Vec::new();
    for (platform, entries) in wanted {
        for (key, e) in entries {
            let Some(out) = outs.get(&e.drv) else {
                failures.push(format!("{}: its generator could not be built", e.what));
                continue;
            };
            let out = Path::new(out);
            if let Ok(log) = std::fs::read_to_string(out.join("FAILED")) {
                failures.push(format!("{}: cabal2nix failed:\n{log}", e.what));
                continue;
            }
            let body = std::fs::read_to_string(out.join("default.nix")).map_err(|source| {
                MaterializeError::Read {
                    path: out.to_path_buf(),
                    source,
                }
            })?;
            files.insert(
                format!("{dir}/{platform}/{key}.nix"),
                render(key, platform, e, &body),
            );
        }
    }
    if !failures.is_empty() {
        return Err(MaterializeError::Failed(failures));
    }
    Ok(files)
}

/// The checked-in file: a header nixlib and `check` read, then the
/// generator's output as it is.
fn render(key: &str, platform: &str, e: &Entry, body: &str) -> String {
    format!(
        "# Generated by `ifd-batch rewrite --backend materialized` (ifd-batch {}) from the\n\
         # {}: do not edit; `ifd-batch check --fix` regenerates it.\n\
         # ifd-batch: {key} platform={platform} {}\n{body}",
        env!("CARGO_PKG_VERSION"),
        e.what,
        e.fingerprint
    )
}

/// A problem `check` reports without running Nix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    pub file: String,
    pub message: String,
}

/// Materialized files that are missing, extra, or generated from a local
/// source whose `.cabal`/`package.yaml` changed since.
pub fn stale(root: &Path, manifest_file: &str, manifest: &Manifest) -> Vec<Stale> {
    let Some(conf) = &manifest.materialize else {
        return Vec::new();
    };
    let dir = conf.root_dir(manifest_file);
    let keys = materialized_keys(root, manifest_file, manifest);
    let platforms = platforms(&root.join(&dir));
    if platforms.is_empty() {
        return vec![Stale {
            file: dir.clone(),
            message: "nothing materialized yet: run `ifd-batch check --fix`".into(),
        }];
    }
    let mut present = BTreeSet::new();
    list_files(root, &dir, &mut present);
    let mut out = Vec::new();
    for p in &platforms {
        for (key, local) in &keys {
            let file = format!("{dir}/{p}/{key}.nix");
            if let Some(message) = stale_file(&root.join(&file), key, p, local.as_deref()) {
                out.push(Stale { file, message });
            }
        }
        for f in &present {
            let Some(key) = f
                .strip_prefix(&format!("{dir}/{p}/"))
                .and_then(|k| k.strip_suffix(".nix"))
            else {
                continue;
            };
            if !keys.contains_key(key) {
                out.push(Stale {
                    file: f.clone(),
                    message: format!("extra: {key} is no longer in the manifest"),
                });
            }
        }
    }
    out
}

/// The keys nixlib materializes (normalised: `NAME~HASH` for a name with
/// several sources), each with its local source directory (cabal2nix
/// entries given as paths).
fn materialized_keys(
    root: &Path,
    manifest_file: &str,
    manifest: &Manifest,
) -> BTreeMap<String, Option<PathBuf>> {
    let manifest_dir = Path::new(manifest_file)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut keys = BTreeMap::new();
    for e in manifest.normalised().files.values() {
        for (n, vs) in &e.hackage {
            for v in vs.keys() {
                keys.insert(format!("hackage/{n}/{v}"), None);
            }
        }
        for n in e.hackage_direct.keys() {
            keys.insert(format!("direct/{n}"), None);
        }
        for (n, c) in &e.cabal2nix {
            let src = c.src.as_str();
            let local = (src.starts_with("./") || src.starts_with("../"))
                .then(|| root.join(&manifest_dir).join(src));
            keys.insert(format!("cabal2nix/{n}"), local);
        }
    }
    keys
}

/// The platform directories materialized under `dir`, sorted.
fn platforms(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// What is wrong with the materialized file of `key` for `platform`
/// (`None`: it is current). `local`: the entry's source directory.
fn stale_file(path: &Path, key: &str, platform: &str, local: Option<&Path>) -> Option<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Some(format!("missing: {key} is not materialized for {platform}"));
    };
    // nixlib refuses a file whose header names another entry or platform;
    // say so before evaluation does.
    let header = format!("# ifd-batch: {key} platform={platform} ");
    let line = text.lines().nth(2).filter(|l| l.starts_with(&header));
    let Some(line) = line else {
        return Some(format!(
            "stale: {key}'s header does not say it was generated for {platform} (moved or edited by hand)"
        ));
    };
    let src = local?;
    let recorded = line.split(" source=").nth(1).unwrap_or("");
    (source_fingerprint(src).as_deref() != Some(recorded))
        .then(|| format!("stale: {key}'s .cabal/package.yaml changed since it was generated"))
}

/// As nixlib's `sourceFingerprint`: sha256 of `name\ncontent\n` for every
/// `*.cabal` and `package.yaml` of the directory, in byte order of names.
pub fn source_fingerprint(dir: &Path) -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".cabal") || n == "package.yaml")
        .collect();
    names.sort();
    let mut h = Sha256::new();
    for n in names {
        let content = std::fs::read(dir.join(&n)).ok()?;
        h.update(n.as_bytes());
        h.update(b"\n");
        h.update(&content);
        h.update(b"\n");
    }
    Some(
        h.finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    )
}
