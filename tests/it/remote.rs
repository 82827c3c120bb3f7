//! Issue 23, part 2: the batch's generators on Nix's remote builders, for
//! real. A second Nix store on this machine is the remote: OpenSSH's sshd on
//! 127.0.0.1 (random port, its own host and client keys in a temp dir),
//! whose sessions see that store at `/nix` (`fixtures/remote/builder.sh`,
//! `session.sh`). The client is the Nix on PATH (Debian's 2.8 in CI) with
//! `--builders 'ssh://ifd-remote SYSTEM - 2 1'` beside its own build slots.
//! Where each derivation was built is Nix's own record: the `actBuild`
//! events of `--log-format internal-json` name the machine; what reached the
//! remote is its store's contents.
//!
//! Needs sshd, ssh, ssh-keygen and unshare (root: one mount namespace per
//! session): `scripts/test.sh` installs openssh-server and openssh-client.
//! Missing, the tests say SKIPPED — under `CI=true` they fail.

use crate::support::nix::{self, Nix};
use crate::support::tools::{copy_dir, ifd_batch_env};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Eight packages of the world's default index.
const PICKS: [(&str, &str); 8] = [
    ("aeson", "2.1.2.1"),
    ("async", "2.2.5"),
    ("bermitor-utils", "0.0.0"),
    ("conduit", "1.3.5"),
    ("darlam-server", "0.2"),
    ("dhall", "1.42.1"),
    ("extra", "1.7.14"),
    ("filcab-lens", "0.0"),
];
const REMOTE: &str = "ssh://ifd-remote";

/// The remote builder (sshd + second store); stopped on drop.
struct Builder {
    dir: tempfile::TempDir,
    sshopts: String,
}

impl Builder {
    /// `None` (after a loud message) when it cannot be had outside CI; under
    /// `CI=true`, a panic.
    fn start() -> Option<Builder> {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/remote/builder.sh");
        let out = Command::new(&script).arg("start").arg(dir.path()).output();
        let why = match out {
            Ok(o) if o.status.success() => {
                let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
                let sshopts = stdout
                    .lines()
                    .find_map(|l| l.strip_prefix("NIX_SSHOPTS="))
                    .map(|v| v.trim_matches('\'').to_string())
                    .expect("builder.sh prints NIX_SSHOPTS");
                return Some(Builder { dir, sshopts });
            }
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
            Err(e) => e.to_string(),
        };
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "no remote builder, and CI=true: the remote-builder tests must run in CI:\n{why}"
            );
        }
        eprintln!(
            "\n*** SKIPPED: no remote builder (fixtures/remote/builder.sh start failed; \
             scripts/test.sh installs openssh-server): {why} ***\n"
        );
        None
    }

    /// The names in the remote's store (`/nix/store` there).
    fn store(&self) -> Vec<String> {
        let Ok(rd) = std::fs::read_dir(self.dir.path().join("root/store")) else {
            return Vec::new();
        };
        let mut names: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".lock") && n.len() > 33)
            .collect();
        names.sort();
        names
    }

    /// Does the remote's store hold a path named `NAME` (after the hash)?
    fn has(&self, name: &str) -> bool {
        self.store().iter().any(|n| &n[33..] == name)
    }

    fn line(jobs: u32) -> String {
        format!("{REMOTE} {} - {jobs} 1", system())
    }
}

impl Drop for Builder {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/remote/builder.sh");
        let _ = Command::new(script)
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }
}

fn system() -> String {
    format!("{}-linux", std::env::consts::ARCH)
}

/// The test settings, with `extra` lines.
fn nix_config(extra: &str) -> String {
    let base = std::env::var("NIX_CONFIG").unwrap_or_else(|_| nix::NIX_CONFIG.to_string());
    format!("{base}\n{extra}")
}

/// The world and `fixtures/remote` (the repository: PICKS as callHackage
/// sites, rewritten by `ifd-batch rewrite`), in git.
fn scratch() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir("fixtures/mini-nixpkgs", tmp.path());
    copy_dir("fixtures/remote", tmp.path());
    let repo = tmp.path().join("fixtures/remote");
    let mut overlay = String::from("self: super: {\n");
    for (n, v) in PICKS {
        overlay.push_str(&format!(
            "  {n} = self.callHackage \"{n}\" \"{v}\" {{ }};\n"
        ));
    }
    overlay.push_str("}\n");
    std::fs::write(repo.join("overlay.nix"), overlay).expect("write");
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(tmp.path())
        .output();
    assert!(git.is_ok_and(|o| o.status.success()), "git init");
    let config = nix_config("");
    let (code, out) = ifd_batch_env(
        &["rewrite", ".", "--write"],
        &repo,
        &[("NIX_CONFIG", &config), ("NIX_SSHOPTS", "")],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("8 sites edited"), "{out}");
    (tmp, repo)
}

/// Every site's drvPath, and where each derivation built during the
/// evaluation ran (drv → machine; "" is this machine).
fn evaluate(
    nix: &Nix,
    repo: &Path,
    salt: &str,
    builders: &str,
    sshopts: &str,
) -> (String, BTreeMap<String, String>) {
    let expr = format!(
        "builtins.mapAttrs (n: v: v.drvPath) (import {} {{ salt = {}; delay = 1; }}).sites",
        Nix::str(&repo.display().to_string()),
        Nix::str(salt)
    );
    let o = nix
        .command("nix-instantiate")
        .args(["--eval", "--strict", "--json", "--read-write-mode"])
        .args(["-j", "2", "--builders", builders])
        .args(["--log-format", "internal-json", "-v", "-E", &expr])
        .env("NIX_SSHOPTS", sshopts)
        .output()
        .expect("run nix-instantiate");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success(),
        "evaluation failed:\n{}",
        messages(&stderr)
    );
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        built_on(&stderr),
    )
}

/// The messages of an internal-json log (errors, build output).
fn messages(log: &str) -> String {
    let mut out = String::new();
    for line in log.lines() {
        let v = line
            .strip_prefix("@nix ")
            .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok());
        match v {
            Some(v) if v["action"] == "msg" => {
                out.push_str(v["msg"].as_str().unwrap_or_default());
                out.push('\n');
            }
            Some(_) => {}
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// `actBuild` (105) start events: fields are [drvPath, machine, round, rounds].
fn built_on(log: &str) -> BTreeMap<String, String> {
    let mut on = BTreeMap::new();
    for line in log.lines() {
        let Some(json) = line.strip_prefix("@nix ") else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(json) else {
            continue;
        };
        if v["action"] == "start" && v["type"] == 105 {
            let drv = v["fields"][0].as_str().unwrap_or_default().to_string();
            let machine = v["fields"][1].as_str().unwrap_or_default().to_string();
            on.insert(drv, machine);
        }
    }
    on
}

/// The generator of `name`-`version` among the built derivations.
fn generator<'a>(on: &'a BTreeMap<String, String>, name: &str, version: &str) -> Option<&'a str> {
    let suffix = format!("-cabal2nix-{name}-{version}.drv");
    on.keys().map(String::as_str).find(|d| d.ends_with(&suffix))
}

fn outputs(nix: &Nix, drvs: &[&str]) -> Vec<String> {
    let o = nix
        .command("nix-store")
        .args(["--query", "--outputs"])
        .args(drvs)
        .output()
        .expect("run nix-store");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The batch's generators run on this machine AND the remote, the
/// evaluation gives the drvPaths of a local-only run, and what reached the
/// remote is each of its generators' own entry (two files), never the
/// all-cabal-hashes index or the whole extraction.
#[test]
fn generators_spread_over_this_machine_and_a_remote_builder() {
    let Some(nix) = Nix::get() else { return };
    let Some(remote) = Builder::start() else {
        return;
    };
    let (_tmp, repo) = scratch();
    let salt = nix::fresh_salt("remote");

    // This machine only (2 slots): every generator built here.
    let (local, on) = evaluate(&nix, &repo, &salt, "", "");
    let mut gens = Vec::new();
    for (n, v) in PICKS {
        let g = generator(&on, n, v).unwrap_or_else(|| panic!("{n}'s generator built: {on:#?}"));
        assert_eq!(on[g], "", "{g}");
        gens.push(g.to_string());
    }
    // Delete the generators' outputs (nothing refers to them: the packages
    // read their contents), so the next run builds them again.
    let gen_refs: Vec<&str> = gens.iter().map(String::as_str).collect();
    let outs = outputs(&nix, &gen_refs);
    let del = nix
        .command("nix-store")
        .arg("--delete")
        .args(&outs)
        .output()
        .expect("run nix-store --delete");
    assert!(
        del.status.success(),
        "{}",
        String::from_utf8_lossy(&del.stderr)
    );

    // The same evaluation with a remote builder (2 slots) beside this
    // machine's 2.
    let (spread, on) = evaluate(&nix, &repo, &salt, &Builder::line(2), &remote.sshopts);
    assert_eq!(
        spread, local,
        "the same drvPaths with and without the remote"
    );
    let mut here = Vec::new();
    let mut there = Vec::new();
    for (n, v) in PICKS {
        let g = generator(&on, n, v).unwrap_or_else(|| panic!("{n}'s generator rebuilt: {on:#?}"));
        match on[g].as_str() {
            "" => here.push((n, v)),
            REMOTE => there.push((n, v)),
            m => panic!("{g} built on {m}"),
        }
    }
    assert!(
        !here.is_empty() && !there.is_empty(),
        "generators on both machines: here {here:?}, on {REMOTE} {there:?}\n{on:#?}\n\
         (nixpkgs' haskellSrc2nix says preferLocalBuild = true: Nix builds such a derivation \
         here whenever it can; nixlib's generators must say false to reach builders)"
    );
    eprintln!("built here: {here:?}\nbuilt on {REMOTE}: {there:?}");

    // What the remote holds: the generators it ran, with each one's own
    // entry (`hackage-NAME-VERSION`: the extraction's two files for it), and
    // nothing of the generators run here; not the index, not the extraction.
    let store = remote.store();
    for (n, v) in &there {
        assert!(remote.has(&format!("cabal2nix-{n}-{v}")), "{n}: {store:#?}");
        assert!(remote.has(&format!("hackage-{n}-{v}")), "{n}: {store:#?}");
    }
    for (n, v) in &here {
        assert!(
            !remote.has(&format!("cabal2nix-{n}-{v}")),
            "{n}: {store:#?}"
        );
        assert!(!remote.has(&format!("hackage-{n}-{v}")), "{n}: {store:#?}");
    }
    let extraction = on
        .iter()
        .find(|(d, _)| d.ends_with("-ifd-batch-cabal-hashes.drv"));
    assert!(
        extraction.is_none_or(|(_, m)| m.is_empty()),
        "the extraction runs here, next to the index: {on:#?}"
    );
    assert!(
        !store
            .iter()
            .any(|p| p.contains("all-cabal-hashes") || p.contains("ifd-batch-cabal-hashes")),
        "neither the index nor the whole extraction is copied to the remote: {store:#?}"
    );
}

/// `ifd-batch rewrite --backend materialized` builds its generators (the
/// IFD of its evaluation, then `nix-store --realise`) with the builders of
/// NIX_CONFIG (`builders = …`, `NIX_SSHOPTS`), which it passes on to Nix.
#[test]
fn a_materialization_run_uses_the_builders() {
    let Some(_nix) = Nix::get() else { return };
    let Some(remote) = Builder::start() else {
        return;
    };
    let (_tmp, repo) = scratch();
    std::fs::write(
        repo.join("materialize.nix"),
        format!(
            "import ./. {{ salt = {}; delay = 1; }}\n",
            Nix::str(&nix::fresh_salt("remote-mat"))
        ),
    )
    .expect("write");
    let config = nix_config(&format!("builders = {}\nmax-jobs = 1", Builder::line(2)));
    let (code, out) = ifd_batch_env(
        &[
            "rewrite",
            ".",
            "--backend",
            "materialized",
            "--target",
            "materialize.nix:sites",
            "--write",
        ],
        &repo,
        &[("NIX_CONFIG", &config), ("NIX_SSHOPTS", &remote.sshopts)],
    );
    assert_eq!(code, 0, "{out}");
    let mut there = Vec::new();
    for (n, v) in PICKS {
        let file = repo.join(format!(
            "nix/ifd-batch/ghc-9.4.8-{}/hackage/{n}/{v}.nix",
            system()
        ));
        assert!(file.is_file(), "{} written:\n{out}", file.display());
        if remote.has(&format!("cabal2nix-{n}-{v}")) {
            there.push(n);
        }
    }
    assert!(
        !there.is_empty(),
        "some generators built on {REMOTE}: {:#?}",
        remote.store()
    );
    eprintln!("materializing, built on {REMOTE}: {there:?}");
    assert!(
        !remote
            .store()
            .iter()
            .any(|p| p.contains("all-cabal-hashes")),
        "{:#?}",
        remote.store()
    );
}
