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
