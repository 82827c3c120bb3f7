//! "Is this a derivation output?" — the small binding analysis behind the
//! `import-drv` and `read-drv` kinds.

use super::Confidence;
use super::scope::{Binding, resolve};
use super::syntax::{Call, Callee, leading_interpolation, unparen};
use rnix::{SyntaxKind::*, SyntaxNode};

/// Functions whose result is a derivation (by last attribute name).
pub const PRODUCERS: &[&str] = &[
    "runCommand",
    "runCommandLocal",
    "runCommandNoCC",
    "runCommandNoCCLocal",
    "runCommandCC",
    "runCommandWith",
    "writeText",
    "writeTextFile",
    "writeTextDir",
    "writeScript",
    "writeScriptBin",
    "writeShellScript",
    "writeShellScriptBin",
    "writeShellApplication",
    "writeJSON",
    "mkDerivation",
    "derivation",
    "fetchFromGitHub",
    "fetchFromGitLab",
    "fetchFromGitea",
    "fetchFromBitbucket",
    "fetchFromSourcehut",
    "fetchurl",
    "fetchzip",
    "fetchgit",
    "fetchpatch",
    "fetchsvn",
    "fetchhg",
    "fetchCrate",
    "symlinkJoin",
    "linkFarm",
    "linkFarmFromDrvs",
    "applyPatches",
    "srcOnly",
    "substituteAll",
    "replaceVars",
    "buildEnv",
    "haskellSrc2nix",
    "hackage2nix",
];

/// Names that look like values but are plain paths, never derivations.
const PLAIN_PATH_ATTRS: &[&str] = &["path"];

const MAX_DEPTH: u32 = 8;

/// Is `expr` (the thing imported / read) a derivation output?
/// `None`: no (a path, a plain string, unknown call). `Possible`: can't tell
/// (a lambda parameter, an attribute of something). `Definite`: yes.
pub fn drv_output(expr: &SyntaxNode) -> Option<Confidence> {
    output(expr, 0)
}

fn output(expr: &SyntaxNode, depth: u32) -> Option<Confidence> {
    if depth > MAX_DEPTH {
        return Some(Confidence::Possible);
    }
    let expr = unparen(expr);
    // A site already routed through a generic batch: `ifdBatchGroup.ready X`.
    if let Some(inner) = super::generic::unwrap_ready(&expr) {
        return output(&inner, depth + 1);
    }
    match expr.kind() {
        NODE_STRING => {
            // "${drv}/x": the string's context carries the derivation.
            let inner = leading_interpolation(&expr)?;
            output(&inner, depth + 1)
        }
        NODE_BIN_OP => {
            // drv + "/x"
            let is_add = expr.children_with_tokens().any(|c| c.kind() == TOKEN_ADD);
            if !is_add {
                return None;
            }
            output(&expr.first_child()?, depth + 1)
        }
        NODE_SELECT => {
            let callee = Callee::of(&expr)?;
            match callee.name() {
                "outPath" => {
                    let base = expr.first_child()?;
                    Some(output(&base, depth + 1).unwrap_or(Confidence::Possible))
                }
                name if PLAIN_PATH_ATTRS.contains(&name) => None,
                _ => Some(Confidence::Possible),
            }
        }
        NODE_APPLY => {
            let call = Call::flatten(&expr)?;
            let callee = Callee::of(&call.head)?;
            // builtins.fetchurl returns a plain store path (a builtin fetch,
            // reported on its own), not a derivation.
            if callee.is_builtins() && callee.name() != "derivation" {
                return None;
            }
            PRODUCERS
                .contains(&callee.name())
                .then_some(Confidence::Definite)
        }
        NODE_IDENT => match resolve(&expr) {
            Binding::Value(v) => output(&v, depth + 1),
            Binding::Inherit(_) | Binding::Param | Binding::With => Some(Confidence::Possible),
            Binding::Global => None,
        },
        _ => None,
    }
}
