//! flake.nix, evaluated with real Nix against a stub `nixpkgs` input (the
//! test world plus the attributes the flake touches): it parses, and its
//! outputs have the expected shape.

use crate::support::nix::Nix;

#[test]
fn flake_parses() {
    let Some(nix) = Nix::get() else { return };
    let out = nix
        .command("nix-instantiate")
        .args(["--parse", "flake.nix"])
        .output()
        .expect("run nix-instantiate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn flake_outputs_against_a_stub_nixpkgs() {
    let Some(nix) = Nix::get() else { return };
    let expr = r#"
      let
        flake = import ./flake.nix;
        nixpkgs = import ./fixtures/flake-stub { };
        outputs = flake.outputs { self = outputs; inherit nixpkgs; };
        sys = "x86_64-linux";
        nixlib = import ./nixlib;
        hook = outputs.gitHooks.${sys}.ifd-batch;
      in {
        top = builtins.attrNames outputs;
        systems = builtins.attrNames outputs.packages;
        packages = builtins.attrNames outputs.packages.${sys};
        drv = outputs.packages.${sys}.default.drvPath;
        sameDrv = outputs.packages.${sys}.default.drvPath == outputs.packages.${sys}.ifd-batch.drvPath;
        app = outputs.apps.${sys}.default;
        checks = builtins.attrNames outputs.checks.${sys};
        checkDrvs = map (n: outputs.checks.${sys}.${n}.drvPath) (builtins.attrNames outputs.checks.${sys});
        shell = outputs.devShells.${sys}.default.drvPath;
        overlay = builtins.isFunction outputs.overlays.default;
        overlayPackage = ((outputs.overlays.default nixpkgs.legacyPackages.${sys} { }).ifd-batch).drvPath;
        libIsNixlib = outputs.lib.version == nixlib.version
          && builtins.attrNames outputs.lib == builtins.attrNames nixlib;
        hook = removeAttrs hook [ "package" ];
        hookPackage = hook.package.drvPath == outputs.packages.${sys}.default.drvPath;
      }
    "#;
    let run = nix
        .eval_json(expr)
        .expect_ok("evaluating the flake outputs");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let names = |k: &str| -> Vec<String> {
        v[k].as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect()
    };
    for out in [
        "apps",
        "checks",
        "devShells",
        "gitHooks",
        "lib",
        "overlays",
        "packages",
    ] {
        assert!(
            names("top").contains(&out.to_string()),
            "missing output {out}: {v}"
        );
    }
    assert_eq!(
        names("systems"),
        [
            "aarch64-darwin",
            "aarch64-linux",
            "x86_64-darwin",
            "x86_64-linux"
        ]
    );
    assert_eq!(names("packages"), ["default", "ifd-batch"]);
    assert!(v["drv"].as_str().unwrap_or("").ends_with(".drv"));
    assert_eq!(v["sameDrv"], true);
    assert_eq!(v["app"]["type"], "app");
    assert!(
        v["app"]["program"]
            .as_str()
            .unwrap_or("")
            .ends_with("/bin/ifd-batch")
    );
    assert_eq!(names("checks"), ["clippy", "dogfood", "package"]);
    assert_eq!(v["checkDrvs"].as_array().map(Vec::len), Some(3));
    assert!(v["shell"].as_str().unwrap_or("").ends_with(".drv"));
    assert_eq!(v["overlay"], true);
    assert!(v["overlayPackage"].as_str().unwrap_or("").ends_with(".drv"));
    assert_eq!(v["libIsNixlib"], true);
    assert_eq!(v["hook"]["name"], "ifd-batch");
    assert_eq!(v["hook"]["files"], "\\.nix$");
    assert!(
        v["hook"]["entry"]
            .as_str()
            .unwrap_or("")
            .ends_with("/bin/ifd-batch check")
    );
    assert_eq!(v["hookPackage"], true);
}

/// Issue 23: the example flake serves four systems (two compilers each).
/// Before, `nix flake check --all-systems` with IFD disabled fails at the
/// first generator; after `rewrite --backend materialized` on this Linux
/// machine (Nix 2.8, no extra platforms: other systems' generators are run
/// here with their platform's arguments), Nix 2.34 checks every system with
/// no builder for the others, and evaluates every system's packages to the
/// drvPaths of the oracle (IFD with `extra-platforms`: each system's own
/// generator).
#[test]
fn example_flake_checks_every_system_without_ifd_after_materializing() {
    use crate::support::nix::{Modern, NIX_CONFIG};
    use crate::support::tools::copy_dir;
    use std::process::Command;
    let Some(nix) = Nix::get() else { return };
    let Some(modern) = Modern::get() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir("examples/haskell-overlay", tmp.path());
    copy_dir("fixtures/mini-nixpkgs", tmp.path());
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .args(args)
            .current_dir(tmp.path())
            .output()
            .expect("git");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    let example = tmp.path().join("examples/haskell-overlay");
    let url = format!(
        "git+file://{}?dir=examples/haskell-overlay",
        tmp.path().display()
    );
    let no_ifd = ["--option", "allow-import-from-derivation", "false"];
    let flake_check = || {
        let mut args = vec!["flake", "check", "--all-systems"];
        args.extend(no_ifd);
        args.push(&url);
        modern.run(tmp.path(), "nix", &args)
    };
    let before = flake_check();
    assert!(
        !before.ok && before.stderr.contains("allow-import-from-derivation"),
        "{}",
        before.stderr
    );

    // The oracle: every system's drvPaths, each system's generators built
    // here because Nix is told it may.
    let drv_paths = "builtins.mapAttrs (s: builtins.mapAttrs (n: d: d.drvPath))";
    let oracle = nix.eval(
        &format!(
            "{drv_paths} (import {} {{ }}).packages",
            Nix::str(&example.join("outputs.nix").display().to_string())
        ),
        &[
            "--json",
            "--option",
            "extra-platforms",
            "aarch64-darwin x86_64-darwin aarch64-linux",
        ],
    );
    assert!(oracle.ok, "{}", oracle.stderr);
    let want: serde_json::Value = serde_json::from_str(&oracle.stdout).expect("json");
    assert_eq!(want.as_object().map(|o| o.len()), Some(4), "{want}");

    let out = Command::new(env!("CARGO_BIN_EXE_ifd-batch"))
        .args(["rewrite", ".", "--backend", "materialized"])
        .args(["--target", "outputs.nix:packages", "--write"])
        .current_dir(&example)
        .env(
            "NIX_CONFIG",
            std::env::var("NIX_CONFIG").unwrap_or_else(|_| NIX_CONFIG.to_string()),
        )
        .output()
        .expect("run ifd-batch");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    // 17 entries × 2 compilers × 4 systems.
    assert!(text.contains("136 generated files to write"), "{text}");
    git(&["add", "-A"]);

    let after = flake_check();
    assert!(after.ok, "{}", after.stderr);
    assert!(
        after.stderr.contains("all checks passed"),
        "{}",
        after.stderr
    );
    let mut args = vec!["eval", "--json"];
    args.extend(no_ifd);
    let attr = format!("{url}#packages");
    args.extend([attr.as_str(), "--apply", drv_paths]);
    let eval = modern.run(tmp.path(), "nix", &args);
    assert!(eval.ok, "{}", eval.stderr);
    let got: serde_json::Value = serde_json::from_str(&eval.stdout).expect("json");
    assert_eq!(got, want);
}
