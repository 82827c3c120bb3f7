//! Issue 23: every platform materialized on one machine. A repository
//! whose targets use four systems and two compilers (Hackage, direct and
//! local entries, whose `.cabal` files depend on `os(darwin)` /
//! `arch(aarch64)`) is materialized on this Linux machine WITHOUT extra
//! platforms; the oracle is what each platform's own generator writes
//! (Nix builds other systems' generators here only when given
//! `extra-platforms`, which the world's shell stand-ins make faithful).
//! Then, without extra platforms and with IFD disabled, every system's
//! attributes evaluate from the materialized files to the oracle's drvPaths.

use crate::support::nix::{self, Nix};
use crate::support::tools::{copy_dir, ifd_batch};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const SYSTEMS: [&str; 4] = [
    "x86_64-linux",
    "aarch64-linux",
    "x86_64-darwin",
    "aarch64-darwin",
];
const COMPILERS: [(&str, &str); 2] = [("ghc948", "ghc-9.4.8"), ("ghc964", "ghc-9.6.4")];
/// package → materialized key.
const ENTRIES: [(&str, &str); 4] = [
    ("prettyprinter", "hackage/prettyprinter/1.7.1"),
    ("servant", "hackage/servant/0.20.1"),
    ("sysinfo", "direct/sysinfo"),
    ("plat-local", "cabal2nix/plat-local"),
];
const OTHERS: &str = "aarch64-darwin x86_64-darwin aarch64-linux";
const NO_IFD: &[&str] = &["--option", "allow-import-from-derivation", "false"];

/// (`SALT` becomes a fresh salt: every derivation is new, so the other
/// systems' generators really cannot be built here.)
const DEFAULT_NIX: &str = r#"# Four systems, two compilers: every package of the overlay.
{ world ? ../fixtures/mini-nixpkgs, salt ? "SALT" }:
let
  systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
  set = system: compiler:
    (import world { inherit system salt; }).haskell.packages.${compiler}.override {
      overrides = import ./overlay.nix;
    };
  names = [ "prettyprinter" "servant" "sysinfo" "plat-local" ];
  each = f: builtins.listToAttrs (map (system: {
    name = system;
    value = builtins.listToAttrs (builtins.concatMap (c:
      map (n: { name = "${n}-${c}"; value = f (set system c).${n}; }) names) [ "ghc948" "ghc964" ]);
  }) systems);
in
{
  packages = each (p: p);
  # What each package's own generator (its platform's cabal2nix) wrote.
  generated = each (p: "${p.cabal2nixDeriver}/default.nix");
}
"#;

const OVERLAY_NIX: &str = r#"self: super: {
  prettyprinter = self.callHackage "prettyprinter" "1.7.1" { };
  servant = self.callHackage "servant" "0.20.1" { };
  sysinfo = self.callHackageDirect {
    pkg = "sysinfo";
    ver = "0.2.0";
    sha256 = "1jz5xci47fxx94ig6qm65y599y8s2jk6xwkchafhkljb0vsvmpfh";
  } { };
  plat-local = self.callCabal2nix "plat-local" ./plat-local { };
}
"#;

const LOCAL_CABAL: &str = "cabal-version: 2.4
name:          plat-local
version:       0.1.0
synopsis:      A local package whose dependencies depend on the platform
license:       MIT
build-type:    Simple

library
  exposed-modules: Plat
  build-depends:   base, text
  if os(darwin) && arch(aarch64)
    build-depends: process
  else
    if os(linux)
      build-depends: directory
  if arch(aarch64)
    build-depends: primitive
  default-language: Haskell2010
";

/// The repository (`platforms/`, materialized) and an untouched copy
/// (`oracle/`, evaluated with IFD), next to the world they import, in git.
fn scratch() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir("fixtures/mini-nixpkgs", tmp.path());
    let default_nix = DEFAULT_NIX.replace("SALT", &nix::fresh_salt("systems"));
    for name in ["platforms", "oracle"] {
        let repo = tmp.path().join(name);
        std::fs::create_dir_all(repo.join("plat-local")).expect("mkdir");
        std::fs::write(repo.join("default.nix"), &default_nix).expect("write");
        std::fs::write(repo.join("overlay.nix"), OVERLAY_NIX).expect("write");
        std::fs::write(repo.join("plat-local/plat-local.cabal"), LOCAL_CABAL).expect("write");
    }
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(tmp.path())
        .output();
    assert!(git.is_ok_and(|o| o.status.success()), "git init");
    tmp
}

/// `(import ./. { }).ATTR` in `dir` as JSON (system → name → value).
fn eval(nix: &Nix, dir: &Path, attr: &str, extra: &[&str]) -> Result<Value, String> {
    let expr = format!(
        "builtins.mapAttrs (s: builtins.mapAttrs (n: v: if builtins.isString v then v else v.drvPath)) (import {} {{ }}).{attr}",
        Nix::str(&dir.display().to_string())
    );
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let run = nix.eval(&expr, &args);
    if run.ok {
        serde_json::from_str(&run.stdout).map_err(|e| e.to_string())
    } else {
        Err(run.stderr)
    }
}

/// A generator's output without its `src = …;` line (nixpkgs' callCabal2nix
/// replaces it; the materialized file says `src = null;`).
fn body(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.starts_with("  src = "))
        .collect()
}

#[test]
fn every_platform_materialized_here_evaluates_like_its_own_generator() {
    let Some(nix) = Nix::get() else { return };
    let tmp = scratch();
    let repo = tmp.path().join("platforms");
    let orig = tmp.path().join("oracle");

    // This machine cannot evaluate another system's attributes with IFD...
    let err =
        eval(&nix, &orig, "packages", &[]).expect_err("IFD for aarch64-linux needs a builder");
    assert!(
        err.contains("aarch64-linux") || err.contains("darwin"),
        "{err}"
    );
    // ...unless Nix may build their generators here: the oracle.
    let oracle = ["--option", "extra-platforms", OTHERS];
    let want = eval(&nix, &orig, "packages", &oracle).expect("the oracle's evaluation");
    let generated = eval(&nix, &orig, "generated", &oracle).expect("the oracle's generators");
    for s in SYSTEMS {
        assert_eq!(want[s].as_object().map(|o| o.len()), Some(8), "{want}");
    }
    // The platforms really differ.
    let pp = |s: &str| {
        want[s]["prettyprinter-ghc948"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let distinct: std::collections::BTreeSet<String> = SYSTEMS.iter().map(|s| pp(s)).collect();
    assert_eq!(distinct.len(), 4, "{want}");

    // Materialize every platform here, with no extra platforms.
    let (code, out) = ifd_batch(
        &[
            "rewrite",
            ".",
            "--backend",
            "materialized",
            "--target",
            "default.nix:packages",
            "--write",
        ],
        &repo,
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("32 generated files to write"), "{out}");

    // Byte-identical to what each platform's own generator wrote.
    let dir = repo.join("nix/ifd-batch");
    for s in SYSTEMS {
        for (set, compiler) in COMPILERS {
            for (name, key) in ENTRIES {
                let file = dir.join(format!("{compiler}-{s}/{key}.nix"));
                let text = std::fs::read_to_string(&file)
                    .unwrap_or_else(|e| panic!("{}: {e}\n{out}", file.display()));
                let header = text.lines().nth(2).unwrap_or("");
                assert!(
                    header.starts_with(&format!("# ifd-batch: {key} platform={compiler}-{s} ")),
                    "{header}"
                );
                let mine: String = text.lines().skip(3).collect::<Vec<_>>().join("\n");
                let theirs_file = generated[s][format!("{name}-{set}")]
                    .as_str()
                    .expect("a generator's output");
                let theirs = std::fs::read_to_string(theirs_file).expect("the oracle's output");
                assert_eq!(
                    body(&mine),
                    body(&theirs),
                    "{key} for {compiler}-{s} differs from its own generator's output"
                );
                assert!(theirs.contains(&format!("system {s}")), "{theirs}");
            }
        }
    }

    // No extra platforms, no IFD: every system's drvPaths are the oracle's.
    let got = eval(&nix, &repo, "packages", NO_IFD).expect("evaluation from the files");
    assert_eq!(got, want);

    // Idempotent; `check` agrees, and --rebuild regenerates all 32 here.
    let (code, again) = ifd_batch(&["rewrite", "."], &repo);
    assert_eq!(code, 0, "{again}");
    assert!(again.contains("nothing to change"), "{again}");
    let (code, out) = ifd_batch(&["check"], &repo);
    assert_eq!(code, 0, "{out}");
    let (code, out) = ifd_batch(&["check", "--rebuild"], &repo);
    assert_eq!(code, 0, "{out}");

    // Missing, extra and stale, per platform.
    let darwin = dir.join("ghc-9.6.4-aarch64-darwin");
    std::fs::remove_file(darwin.join("direct/sysinfo.nix")).expect("rm");
    let gone = dir.join("ghc-9.4.8-x86_64-darwin/hackage/gone");
    std::fs::create_dir_all(&gone).expect("mkdir");
    std::fs::write(gone.join("1.0.nix"), "{ }").expect("write");
    // (A comment: the generated expression is the same, the source is not.)
    for r in [&repo, &orig] {
        let cabal = r.join("plat-local/plat-local.cabal");
        std::fs::write(&cabal, format!("{LOCAL_CABAL}-- edited\n")).expect("write");
    }
    let (code, out) = ifd_batch(&["check", "plat-local/plat-local.cabal"], &repo);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("missing: direct/sysinfo is not materialized for ghc-9.6.4-aarch64-darwin"),
        "{out}"
    );
    assert!(
        out.contains("extra: hackage/gone/1.0 is no longer in the manifest"),
        "{out}"
    );
    let stale = out
        .lines()
        .filter(|l| l.contains("stale: cabal2nix/plat-local"))
        .count();
    assert_eq!(stale, 8, "one stale file per platform:\n{out}");
    // nixlib says so too, for another system, in a plain evaluation.
    let err = eval(&nix, &repo, "packages", NO_IFD).expect_err("stale");
    assert!(
        err.contains("is stale") && err.contains("check --fix"),
        "{err}"
    );
    // --fix regenerates every platform here.
    let (code, out) = ifd_batch(&["check", "--fix", "plat-local/plat-local.cabal"], &repo);
    assert_eq!(code, 0, "{out}");
    assert!(darwin.join("direct/sysinfo.nix").is_file(), "{out}");
    assert!(!gone.join("1.0.nix").exists(), "{out}");
    let got = eval(&nix, &repo, "packages", NO_IFD).expect("evaluation after --fix");
    let want = eval(&nix, &orig, "packages", &oracle).expect("the oracle, edited");
    assert_eq!(got, want);

    // `--system`: one system's platforms only (here the 4 files of the
    // platform removed; its other compiler's are current); the others' files stay.
    std::fs::remove_dir_all(&darwin).expect("rm");
    let before: BTreeMap<String, String> = platform_files(&dir);
    let (code, out) = ifd_batch(
        &[
            "rewrite",
            ".",
            "--backend",
            "materialized",
            "--target",
            "default.nix:packages",
            "--system",
            "aarch64-darwin",
            "--write",
        ],
        &repo,
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("4 generated files to write, 0 to remove"),
        "{out}"
    );
    let after = platform_files(&dir);
    assert_eq!(after.len(), before.len() + 4);
    assert!(before.iter().all(|(f, t)| after.get(f) == Some(t)));
    let (code, out) = ifd_batch(
        &[
            "rewrite",
            ".",
            "--backend",
            "materialized",
            "--target",
            "default.nix:packages",
            "--system",
            "riscv64-linux",
        ],
        &repo,
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("no target evaluates a package set for it"),
        "{out}"
    );
}

/// Every materialized file under `dir` (relative path → text).
fn platform_files(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.insert(
                    rel.display().to_string(),
                    std::fs::read_to_string(&p).unwrap_or_default(),
                );
            }
        }
    }
    out
}
