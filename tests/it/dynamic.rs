//! The dynamic-derivations backend end to end, with a modern Nix (Debian
//! sid's 2.34, through `scripts/modern-nix.sh`): `rewrite --backend dynamic
//! --target … --write --verify …` on a repository whose evaluation needs
//! import-from-derivation, then
//!
//! - the generated file evaluates with `allow-import-from-derivation =
//!   false` (the original does not), building nothing;
//! - `nix build` of its attributes gives the output paths of building the
//!   original targets (a fixture whose packages really build), and
//!   `--verify` proves each producer outputs the original `.drv` (the
//!   bundled example, whose packages cannot build in the test world);
//! - values and functions are refused with a reason, nothing written;
//! - a renamed target fails its build loudly until the rewrite is re-run; a
//!   broken one fails only its own build;
//! - flake outputs work (`nix flake check` with IFD disabled, `nix build .#…`);
//! - `--backend ifd` removes the generated file again;
//! - a Nix without `dynamic-derivations` (Debian's 2.8) generates the file,
//!   and evaluating it says what to enable.

use crate::support::nix::{Modern, Nix, Run, fresh_salt};
use crate::support::tools::{copy_dir, deadnix};
use std::path::{Path, PathBuf};

const GENERATED: &str = "nix/ifd-batch-dynamic.nix";

/// A scratch git repository holding `repo` and the test world; the world's
/// salt (for `fixtures/dynamic`) is fresh, so every derivation really builds.
struct Scratch {
    _tmp: tempfile::TempDir,
    top: PathBuf,
    repo: PathBuf,
}

fn scratch(repo: &str, tag: &str) -> Scratch {
    let tmp = tempfile::tempdir().expect("tempdir");
    let top = tmp.path().to_path_buf();
    copy_dir(repo, &top);
    copy_dir("fixtures/mini-nixpkgs", &top);
    std::fs::write(top.join(".gitignore"), "/target\nresult\n").expect("gitignore");
    let salt = top.join(repo).join("salt.nix");
    if salt.exists() {
        std::fs::write(&salt, format!("\"{}\"\n", fresh_salt(tag))).expect("salt");
    }
    git(&top, &["init", "-q"]);
    // The store copy holds what git tracks, as a flake's source.
    git(&top, &["add", "-A"]);
    Scratch {
        repo: top.join(repo),
        top,
        _tmp: tmp,
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .output();
    assert!(out.is_ok_and(|o| o.status.success()), "git {args:?}");
}

/// `ifd-batch ARGS` inside the modern root (it evaluates and, for
/// `--verify`, builds with that Nix).
fn ifd_batch(m: &Modern, dir: &Path, args: &[&str]) -> (i32, String) {
    let o = m
        .command(dir, env!("CARGO_BIN_EXE_ifd-batch"))
        .args(args)
        .output()
        .expect("run ifd-batch");
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn rewrite_dynamic(m: &Modern, repo: &Path, targets: &[&str], verify: &[&str]) -> String {
    let mut args = vec!["rewrite", ".", "--backend", "dynamic", "--write"];
    for t in targets {
        args.extend(["--target", t]);
    }
    for v in verify {
        args.extend(["--verify", v]);
    }
    let (code, out) = ifd_batch(m, repo, &args);
    assert_eq!(code, 0, "{out}");
    out
}

/// `nix build --print-out-paths`: the output paths, one per installable.
fn out_paths(r: &Run) -> Vec<String> {
    r.stdout.lines().map(str::to_string).collect()
}

const NO_IFD: [&str; 3] = ["--option", "allow-import-from-derivation", "false"];

#[test]
fn fixture_evaluates_without_ifd_and_builds_the_same_outputs() {
    let Some(m) = Modern::get() else { return };
    let s = scratch("fixtures/dynamic", "e2e");
    let out = rewrite_dynamic(
        &m,
        &s.repo,
        &["default.nix:sites", "default.nix:app"],
        &["default.nix:sites", "default.nix:app"],
    );
    assert!(
        out.contains("dynamic: 7 derivations in nix/ifd-batch-dynamic.nix"),
        "{out}"
    );
    assert!(out.contains("7 of 7 derivations identical"), "{out}");
    assert!(out.contains("wrote 3 files"), "{out}");

    // The original needs import-from-derivation; the generated file does not.
    let orig = m.run(
        &s.repo,
        "nix",
        &[
            &["eval", "--raw", "-f", "default.nix", "sites.aeson.drvPath"][..],
            &NO_IFD,
        ]
        .concat(),
    );
    assert!(
        !orig.ok,
        "the original evaluated without IFD?\n{}",
        orig.stdout
    );
    assert!(
        orig.stderr.contains("allow-import-from-derivation"),
        "{}",
        orig.stderr
    );
    for attr in ["sites", "app"] {
        let r = m.run(
            &s.repo,
            "nix",
            &[&["eval", "--json", "-f", GENERATED, attr][..], &NO_IFD].concat(),
        );
        assert!(r.ok, "eval {attr} with IFD disabled:\n{}", r.stderr);
        assert!(!r.stderr.contains("building"), "{}", r.stderr);
    }

    // Building the placeholders gives the original targets' output paths.
    let attrs = ["sites.aeson", "sites.local-pkg", "sites.retry", "app"];
    let dynamic = m.run(
        &s.repo,
        "nix",
        &[
            &["build", "--no-link", "--print-out-paths", "-f", GENERATED][..],
            &attrs,
        ]
        .concat(),
    );
    assert!(dynamic.ok, "nix build (dynamic):\n{}", dynamic.stderr);
    let mut direct_args = vec!["--no-out-link", "default.nix"];
    for a in attrs {
        direct_args.extend(["-A", a]);
    }
    let direct = m.run(&s.repo, "nix-build", &direct_args);
    assert!(direct.ok, "nix-build (original):\n{}", direct.stderr);
    assert_eq!(out_paths(&dynamic), out_paths(&direct));
    assert_eq!(out_paths(&dynamic).len(), attrs.len());

    // `as = "derivations"`: a derivation whose output links to the target's.
    let wrapped = m.run(
        &s.repo,
        "nix",
        &[
            "build",
            "--no-link",
            "--print-out-paths",
            "-f",
            GENERATED,
            "--argstr",
            "as",
            "derivations",
            "app",
        ],
    );
    assert!(wrapped.ok, "{}", wrapped.stderr);
    let link = m.run(&s.repo, "readlink", &[wrapped.stdout.trim()]);
    assert_eq!(link.stdout.trim(), out_paths(&direct)[3]);

    // A second run (the backend and targets recorded) changes nothing.
    let (code, again) = ifd_batch(&m, &s.repo, &["rewrite", "."]);
    assert_eq!(code, 0, "{again}");
    assert!(again.contains("nothing to change"), "{again}");
}

#[test]
fn values_and_functions_are_refused_with_reasons() {
    let Some(m) = Modern::get() else { return };
    let s = scratch("fixtures/dynamic", "refuse");
    let (code, out) = ifd_batch(
        &m,
        &s.repo,
        &[
            "rewrite",
            ".",
            "--backend",
            "dynamic",
            "--write",
            "--target",
            "default.nix:sites",
            "--target",
            "default.nix:info",
            "--target",
            "default.nix:withSalt",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("default.nix:info.aeson-version: not a derivation (a string): its value is read at evaluation time"),
        "{out}"
    );
    assert!(
        out.contains("default.nix:info.depends: not a derivation (a list)"),
        "{out}"
    );
    assert!(
        out.contains("default.nix:withSalt: a function: nothing to build"),
        "{out}"
    );
    assert!(
        out.contains(
            "error: default.nix:info: no derivation under this target can be a dynamic derivation"
        ),
        "{out}"
    );
    assert!(out.contains("nothing written"), "{out}");
    assert!(!s.repo.join("nix").exists(), "something was written");
    // Without --target there is nothing to evaluate: a usage error.
    let (code, out) = ifd_batch(&m, &s.repo, &["rewrite", ".", "--backend", "dynamic"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("needs --target"), "{out}");
}

#[test]
fn a_renamed_target_fails_loudly_until_the_rewrite_is_rerun() {
    let Some(m) = Modern::get() else { return };
    let s = scratch("fixtures/dynamic", "stale");
    rewrite_dynamic(&m, &s.repo, &["default.nix:sites"], &[]);
    let overlay = s.repo.join("overlay.nix");
    let text = std::fs::read_to_string(&overlay).expect("overlay");
    std::fs::write(
        &overlay,
        text.replace("\"aeson\" \"2.2.1.0\"", "\"aeson\" \"2.1.2.1\""),
    )
    .expect("edit");
    let build = |m: &Modern| {
        m.run(
            &s.repo,
            "nix",
            &[
                "build",
                "--no-link",
                "--print-out-paths",
                "-f",
                GENERATED,
                "sites.aeson",
            ],
        )
    };
    let stale = build(&m);
    assert!(!stale.ok, "a stale name built?\n{}", stale.stdout);
    assert!(
        stale.stderr.contains("is now")
            && stale
                .stderr
                .contains("aeson-2.1.2.1.drv, not aeson-2.2.1.0.drv")
            && stale
                .stderr
                .contains("re-run `ifd-batch rewrite --backend dynamic --write`"),
        "{}",
        stale.stderr
    );
    // `rewrite --write` (the backend recorded) brings it up to date.
    let (code, out) = ifd_batch(&m, &s.repo, &["rewrite", ".", "--write"]);
    assert_eq!(code, 0, "{out}");
    let fresh = build(&m);
    assert!(fresh.ok, "{}", fresh.stderr);
    assert!(
        fresh.stdout.trim().ends_with("-aeson-2.1.2.1"),
        "{}",
        fresh.stdout
    );
    // `check --fix` (the pre-commit hook) updates the generated file too.
    std::fs::write(&overlay, &text).expect("edit back");
    let (code, out) = ifd_batch(&m, &s.repo, &["check", "--all", "--fix"]);
    assert_eq!(code, 0, "{out}");
    let fixed = build(&m);
    assert!(fixed.ok, "{}", fixed.stderr);
    assert!(
        fixed.stdout.trim().ends_with("-aeson-2.2.1.0"),
        "{}",
        fixed.stdout
    );
}

#[test]
fn a_broken_target_fails_only_its_own_build() {
    let Some(m) = Modern::get() else { return };
    let s = scratch("fixtures/dynamic", "broken");
    rewrite_dynamic(&m, &s.repo, &["default.nix:sites"], &[]);
    // `yaml` is gone since the rewrite: instantiating every target at once
    // fails, so each is instantiated alone; only yaml's producer fails.
    let default = s.repo.join("default.nix");
    let text = std::fs::read_to_string(&default).expect("default.nix");
    std::fs::write(&default, text.replace(" yaml local-pkg", " local-pkg")).expect("edit");
    let build = |attr: &str| {
        m.run(
            &s.repo,
            "nix",
            &[
                "build",
                "--no-link",
                "--print-out-paths",
                "-f",
                GENERATED,
                attr,
            ],
        )
    };
    let yaml = build("sites.yaml");
    assert!(!yaml.ok, "{}", yaml.stdout);
    assert!(
        yaml.stderr
            .contains("ifd-batch: evaluating fixtures/dynamic/default.nix:sites.yaml failed")
            && yaml.stderr.contains("yaml"),
        "{}",
        yaml.stderr
    );
    let aeson = build("sites.aeson");
    assert!(aeson.ok, "{}", aeson.stderr);
    assert!(
        aeson.stdout.trim().ends_with("-aeson-2.2.1.0"),
        "{}",
        aeson.stdout
    );
}

#[test]
fn example_producers_output_the_original_drvs_and_ifd_backend_removes_the_file() {
    let Some(m) = Modern::get() else { return };
    let s = scratch("examples/haskell-overlay", "example");
    let out = rewrite_dynamic(&m, &s.repo, &["default.nix:sites"], &["default.nix:sites"]);
    // The example's packages cannot be built in the test world (its Hackage
    // hashes are fake), but each producer builds, and outputs exactly the
    // original .drv: the same derivation, so the same output paths.
    assert!(out.contains("dynamic: 17 derivations"), "{out}");
    assert!(out.contains("17 of 17 derivations identical"), "{out}");
    assert!(s.repo.join(GENERATED).is_file());
    let (code, out) = ifd_batch(
        &m,
        &s.repo,
        &["rewrite", ".", "--backend", "ifd", "--write"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(!s.repo.join(GENERATED).exists(), "{out}");
    assert!(s.repo.join("nix/ifd-batch.nix").is_file(), "{out}");
}

#[test]
fn flake_outputs_check_and_build_without_ifd() {
    let Some(m) = Modern::get() else { return };
    let s = scratch("fixtures/dynamic", "flake");
    rewrite_dynamic(&m, &s.repo, &["default.nix:sites", "default.nix:app"], &[]);
    let system = m.run(
        &s.top,
        "nix",
        &[
            "eval",
            "--impure",
            "--raw",
            "--expr",
            "builtins.currentSystem",
        ],
    );
    let system = system.stdout.trim();
    std::fs::write(
        s.top.join("flake.nix"),
        format!(
            "{{\n  outputs = {{ self }}: let\n    \
               dynamic = as: import ./fixtures/dynamic/{GENERATED} {{ inherit as; }};\n  \
             in {{\n    \
               packages.{system} = (dynamic \"derivations\").sites // {{ inherit (dynamic \"derivations\") app; }};\n    \
               legacyPackages.{system} = dynamic \"outputs\";\n  \
             }};\n}}\n"
        ),
    )
    .expect("flake.nix");
    git(&s.top, &["add", "-A"]);
    let check = m.run(&s.top, "nix", &[&["flake", "check"][..], &NO_IFD].concat());
    assert!(check.ok, "nix flake check:\n{}", check.stderr);
    let built = m.run(
        &s.top,
        "nix",
        &[
            "build",
            "--no-link",
            "--print-out-paths",
            &format!(".#legacyPackages.{system}.sites.local-pkg"),
        ],
    );
    assert!(built.ok, "{}", built.stderr);
    let direct = m.run(
        &s.repo,
        "nix-build",
        &["--no-out-link", "default.nix", "-A", "sites.local-pkg"],
    );
    assert_eq!(
        built.stdout.trim(),
        direct.stdout.trim(),
        "{}",
        direct.stderr
    );
}

/// The generated file passes deadnix, as the manifest does.
#[test]
fn generated_file_passes_deadnix() {
    let Some(m) = Modern::get() else { return };
    let s = scratch("fixtures/dynamic", "deadnix");
    rewrite_dynamic(&m, &s.repo, &["default.nix:app"], &[]);
    deadnix(&[
        s.repo.join(GENERATED),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("nixlib/dynamic.nix"),
    ]);
}

/// Generating needs no dynamic derivations (`collect` runs on any Nix >=
/// 2.8); evaluating the generated file does. Without the feature (Nix 2.8
/// has no `builtins.outputOf` at all; a modern Nix with it off has none
/// either) the error says what to enable, not "attribute 'outputOf'
/// missing".
#[test]
fn without_dynamic_derivations_the_error_says_what_to_enable() {
    let Some(nix) = Nix::get() else { return };
    let s = scratch("fixtures/dynamic", "no-dyn");
    let o = nix
        .command(env!("CARGO_BIN_EXE_ifd-batch"))
        .current_dir(&s.repo)
        .args(["rewrite", ".", "--backend", "dynamic"])
        .args(["--target", "default.nix:sites", "--write"])
        .output()
        .expect("run ifd-batch");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let off = ["--option", "experimental-features", "nix-command"];
    for (extra, attr) in [
        (&["--eval", "--strict"][..], "sites.aeson"),
        (&[][..], "sites"),
        (&["--arg", "as", "\"derivations\""][..], "sites.aeson"),
    ] {
        let o = nix
            .command("nix-instantiate")
            .current_dir(&s.repo)
            .args(off)
            .args(extra)
            .args([GENERATED, "-A", attr])
            .output()
            .expect("run nix-instantiate");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{extra:?} {attr} evaluated?\n{stderr}");
        assert!(
            stderr
                .contains("ifd-batch: this file (the dynamic backend's) needs `builtins.outputOf`")
                && stderr.contains(
                    "`experimental-features = nix-command dynamic-derivations ca-derivations`"
                )
                && !stderr.contains("attribute 'outputOf' missing"),
            "{extra:?} {attr}:\n{stderr}"
        );
    }
}
