//! The semantic differential fuzzer (`xtask/src/fuzz_semantic.rs`), a
//! bounded run: a fixed range of seeds, each one generated repository
//! rewritten with `rewrite --write` and evaluated with real Nix before and
//! after (every drvPath and value identical, or the site left alone; scan,
//! check and rewrite agree per site; a second rewrite is a no-op; written
//! files reparse and add no deadnix finding). `cargo xtask fuzz-semantic`
//! runs more seeds and shrinks a failing one.

#[path = "../../xtask/src/fuzz_semantic.rs"]
#[allow(dead_code)]
mod generator;

use crate::support::nix::Nix;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The bounded run's seeds.
const SEEDS: std::ops::Range<u64> = 0..200;

/// Failure classes and the seeds that fail them, found by the fuzzer and
/// not fixed yet (`cargo xtask fuzz-semantic --cases 200` prints this list
/// in `bench-work/semantic-failures/SUMMARY.txt` and writes shrunk
/// repositories next to it). Emptied as the bugs are fixed; any other
/// failure fails the test.
const KNOWN_FAILING: &[(&str, &[u64])] = &[];

#[test]
fn generated_repositories_keep_their_drv_paths_and_values() {
    if Nix::get().is_none() {
        return;
    }
    bounded_run(SEEDS, None);
}

/// The same, with `ifd-batch` in the package set: every batch extracts
/// through the seekable index (fewer seeds: the extraction is what changes).
#[test]
fn generated_repositories_through_the_seekable_index() {
    let Some(nix) = Nix::get() else { return };
    let tool = crate::support::tools::tool_dir();
    let added = nix
        .command("nix-store")
        .arg("--add")
        .arg(&tool)
        .output()
        .expect("nix-store --add");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let store_path = String::from_utf8_lossy(&added.stdout).trim().to_string();
    // The world does hand the batch this ifd-batch.
    let picked = nix
        .command("nix-instantiate")
        .env("IFD_BATCH_WORLD_TOOL", &store_path)
        .args(["--eval", "-E"])
        .arg(
            "let b = (import ./nixlib).batch { hself = (import ./fixtures/mini-nixpkgs { }).haskellPackages; \
             manifest = { }; }; in if b.extractor == \"tar\" then \"tar\" else \"ifd-batch\"",
        )
        .output()
        .expect("nix-instantiate");
    assert_eq!(
        String::from_utf8_lossy(&picked.stdout).trim(),
        "\"ifd-batch\""
    );
    bounded_run(0..60, Some(store_path));
}

/// Generate, rewrite and compare `seeds`; fail on any failure not in
/// [`KNOWN_FAILING`].
fn bounded_run(seeds: std::ops::Range<u64>, world_tool: Option<String>) {
    let mut tools = generator::Tools::new(
        PathBuf::from(env!("CARGO_BIN_EXE_ifd-batch")),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    );
    if tools.deadnix.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true")
                || std::env::var("IFD_BATCH_NIX").as_deref() == Ok("modern"),
            "deadnix not found, and CI=true (scripts/test.sh installs it)"
        );
        eprintln!("*** deadnix not found: the deadnix check is skipped ***");
    }
    let work = tempfile::tempdir().expect("tempdir");
    tools.snapshot_world(work.path()).expect("copy the world");
    tools.world_tool = world_tool;
    let salt = generator::fresh_salt();
    let results = generator::run_seeds(
        &tools,
        seeds.start,
        seeds.end - seeds.start,
        work.path(),
        &salt,
        2,
    );
    eprintln!("{}", generator::summary(&results));
    let known: BTreeSet<(u64, &str)> = KNOWN_FAILING
        .iter()
        .flat_map(|(class, seeds)| seeds.iter().map(move |s| (*s, *class)))
        .collect();
    let mut unexpected = Vec::new();
    let mut fixed: BTreeSet<(u64, &str)> = known.clone();
    for (seed, r) in &results {
        for f in &r.failures {
            fixed.remove(&(*seed, f.class));
            if !known.contains(&(*seed, f.class)) {
                unexpected.push(format!("seed {seed}: {}: {}", f.class, f.detail));
            }
        }
    }
    if !fixed.is_empty() {
        eprintln!("KNOWN_FAILING entries that pass now (remove them): {fixed:?}");
    }
    // The generator writes what the world evaluates: nearly every attribute
    // evaluates before the rewrite, and the rewrite has sites to batch.
    let attrs: usize = results.iter().map(|(_, r)| r.attrs).sum();
    let ok: usize = results.iter().map(|(_, r)| r.attrs_ok).sum();
    let edited: usize = results.iter().map(|(_, r)| r.edited).sum();
    assert!(
        ok * 100 >= attrs * 95,
        "only {ok} of {attrs} attributes evaluate before the rewrite"
    );
    assert!(edited > results.len(), "{edited} sites edited");
    assert!(
        unexpected.is_empty(),
        "{} failure(s) (shrink one with `cargo xtask fuzz-semantic --seed SEED --cases 1`):\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}

/// A seed is one repository, and every generated file parses.
#[test]
fn the_generator_is_deterministic_and_writes_nix_that_parses() {
    for seed in 0..300 {
        let files = generator::generate(seed).render();
        assert_eq!(files, generator::generate(seed).render(), "seed {seed}");
        for (rel, text) in &files {
            if rel.ends_with(".nix") {
                let errors = rnix::Root::parse(text).errors().to_vec();
                assert!(errors.is_empty(), "seed {seed}: {rel}: {errors:?}\n{text}");
            }
        }
    }
}
