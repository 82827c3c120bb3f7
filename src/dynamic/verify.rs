//! `rewrite --backend dynamic --verify FILE[:ATTRPATH]`: with a modern Nix,
//! evaluate the generated file with import-from-derivation disabled, build
//! its producers (on the rewritten copy), and compare the `.drv` each one
//! outputs with the target's drvPath on the original tree. The same `.drv`
//! is the same derivation: `nix build` of the placeholder gives the output
//! paths building the original target gives, without building the targets
//! here.

use super::Eligibility;
use crate::manifest::nix_string;
use crate::nix::{self, Nix, NixError};
use crate::plan::Plan;
use crate::verify::{AttrTarget, Comparison, EvalError, Row, evaluate_env};
use std::collections::BTreeMap;
use std::path::Path;

/// Why `--verify` with the dynamic backend could not compare.
#[derive(Debug, thiserror::Error)]
pub enum DynamicVerifyError {
    #[error("the dynamic backend generated nothing to verify")]
    NothingGenerated,
    #[error(
        "--verify with the dynamic backend needs the `nix` command (Nix >= {}.{}): {source}",
        MIN_NIX.0,
        MIN_NIX.1
    )]
    NoNix { source: NixError },
    #[error(
        "--verify with the dynamic backend needs Nix >= {}.{} (dynamic derivations); found {found} (scripts/modern-nix.sh runs one beside it)",
        MIN_NIX.0,
        MIN_NIX.1
    )]
    OldNix { found: String },
    /// Evaluating the producers, or building them.
    #[error(transparent)]
    Nix(#[from] NixError),
    /// Evaluating a target on the original tree.
    #[error(transparent)]
    Eval(#[from] EvalError),
}

/// What the backend needs from Nix (evaluating needs the first three,
/// building the producers all four and the system feature).
const FEATURES: &str = "nix-command dynamic-derivations ca-derivations recursive-nix";

/// The oldest Nix that builds dynamic derivations end to end.
const MIN_NIX: (u32, u32) = (2, 30);

/// Build the producers and compare what they output with the targets'
/// drvPaths on the original tree.
pub fn compare(
    plan: &Plan,
    outcome: &Eligibility,
    targets: &[AttrTarget],
) -> Result<Comparison, DynamicVerifyError> {
    let copy = outcome
        .copy
        .as_ref()
        .ok_or(DynamicVerifyError::NothingGenerated)?;
    require_nix()?;
    let file = copy.root.join(&outcome.file);
    let producers = producer_drvs(&file, outcome)?;
    let built = build(&producers)?;
    // (target file, dot-joined attribute path as the collector joins them,
    // what its producer output)
    let after: Vec<(&str, String, String)> = outcome
        .eligible
        .iter()
        .zip(&producers)
        .map(|(leaf, drv)| {
            let file = leaf
                .target
                .split_once(':')
                .map_or(leaf.target.as_str(), |(f, _)| f);
            let out = match built.get(drv) {
                Some(Ok(p)) => p.clone(),
                // Nix's last lines say why (our producers' messages among them).
                Some(Err(e)) => format!("<its producer failed: {}>", e.last_lines(6)),
                None => format!("<its producer {drv} was not built>"),
            };
            (file, leaf.path.join("."), out)
        })
        .collect();
    let mut rows = Vec::new();
    for t in targets {
        let (before, _) = evaluate_env(&copy.collect, &plan.root.join(&t.file), &t.attr, &[])?;
        for (n, b) in before {
            let attr = match (t.attr.is_empty(), n.is_empty()) {
                (true, _) => n.clone(),
                (false, true) => t.attr.clone(),
                (false, false) => format!("{}.{n}", t.attr),
            };
            let a = after
                .iter()
                .find(|(f, p, _)| Path::new(f) == Path::new(&t.file) && *p == attr)
                .map(|(_, _, o)| o.clone());
            // Values are not dynamic derivations (`rewrite` lists them).
            if a.is_none() && !b.ends_with(".drv") {
                continue;
            }
            rows.push(Row {
                target: t.file.clone(),
                attr,
                before: Some(b),
                after: a,
            });
        }
    }
    Ok(Comparison { rows })
}

/// A `nix` command with the backend's features on.
fn nix(args: &[&str]) -> Nix {
    Nix::cmd()
        .args(["--extra-experimental-features", FEATURES])
        .args(["--extra-system-features", "recursive-nix"])
        .args(args)
}

/// `nix --version` must be new enough: say which one was found otherwise.
fn require_nix() -> Result<(), DynamicVerifyError> {
    let text = nix::version(nix::NIX).map_err(|source| DynamicVerifyError::NoNix { source })?;
    let version = text.split_whitespace().last().unwrap_or("");
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if found < MIN_NIX {
        return Err(DynamicVerifyError::OldNix { found: text });
    }
    Ok(())
}

/// The producers' drvPaths, evaluated with import-from-derivation disabled:
/// this is the promise of the backend, so a failure here fails `--verify`.
fn producer_drvs(file: &Path, outcome: &Eligibility) -> Result<Vec<String>, NixError> {
    let paths: Vec<String> = outcome
        .eligible
        .iter()
        .map(|l| {
            let names: Vec<String> = l.path.iter().map(|n| nix_string(n)).collect();
            format!("[ {} ]", names.join(" "))
        })
        .collect();
    let expr = format!(
        "let p = import {} {{ as = \"producers\"; }}; in \
         map (path: (builtins.foldl' (a: n: a.${{n}}) p path).drvPath) [ {} ]",
        nix_string(&file.to_string_lossy()),
        paths.join(" ")
    );
    let what = format!(
        "evaluating {} with allow-import-from-derivation = false",
        file.display()
    );
    let (drvs, _) = nix(&[
        "eval",
        "--impure",
        "--json",
        "--option",
        "allow-import-from-derivation",
        "false",
        "--expr",
        &expr,
    ])
    .json(&what)?;
    Ok(drvs)
}

/// Build the producers (in parallel; the others go on when one fails):
/// producer drvPath → the `.drv` it output, or why it failed.
type Built = BTreeMap<String, Result<String, NixError>>;

fn build(drvs: &[String]) -> Result<Built, NixError> {
    let mut built = BTreeMap::new();
    if drvs.is_empty() {
        return Ok(built);
    }
    let installables: Vec<String> = drvs.iter().map(|d| format!("{d}^out")).collect();
    let mut args = vec!["build", "--no-link", "--keep-going", "--json"];
    args.extend(installables.iter().map(String::as_str));
    match nix(&args).json::<Vec<serde_json::Value>>("building the producers") {
        Ok((v, _)) => {
            for r in v {
                if let (Some(d), Some(o)) = (r["drvPath"].as_str(), r["outputs"]["out"].as_str()) {
                    built.insert(d.to_string(), Ok(o.to_string()));
                }
            }
            return Ok(built);
        }
        Err(NixError::Failed { .. }) => {}
        Err(e) => return Err(e),
    }
    // Some failed: ask each (those built answer at once).
    for (d, i) in drvs.iter().zip(&installables) {
        let result = match nix(&["build", "--no-link", "--print-out-paths", i])
            .run(&format!("building {i}"))
        {
            Ok(one) => Ok(String::from_utf8_lossy(&one.stdout).trim().to_string()),
            Err(e @ NixError::Failed { .. }) => Err(e),
            Err(e) => return Err(e),
        };
        built.insert(d.clone(), result);
    }
    Ok(built)
}
