//! Reading a derivation output: `builtins.readFile`, `readDir`, `pathExists`,
//! `hashFile`, `readFileType`, `filterSource`, `builtins.path`, their global
//! aliases (`__readFile`, …), nixpkgs' `lib.readFile`, `lib.pathExists`,
//! `lib.fileContents`, `lib.importJSON`, `lib.importTOML`, `lib.pathType`, …
//! (and so `fromJSON (readFile …)`).

pub use super::ReadTarget;
use super::{Args, Batch, Finding, Kind, KindDecl, is_package_set_function};
use crate::detect::drv::drv_output;
use crate::syntax::scope::{refers_to_builtin_or_alias, refers_to_lib};
use crate::syntax::{Call, Callee, attrset_get};
use rnix::SyntaxNode;

/// Builtins and which argument is the path.
const BUILTINS: &[(&str, usize)] = &[
    ("readFile", 0),
    ("readDir", 0),
    ("pathExists", 0),
    ("readFileType", 0),
    ("hashFile", 1),
    ("filterSource", 1),
    ("path", 0),
];

/// nixpkgs `lib` functions that read their path argument, and which.
const LIB: &[(&str, usize)] = &[
    ("readFile", 0),
    ("readDir", 0),
    ("pathExists", 0),
    ("readFileType", 0),
    ("hashFile", 1),
    ("fileContents", 0),
    ("importJSON", 0),
    ("importTOML", 0),
    ("pathType", 0),
    ("pathIsDirectory", 0),
    ("pathIsRegularFile", 0),
];

/// The read a call makes: the function, the expression read, and how many
/// arguments belong to the site. The one definition the detector and
/// generic batching (`KindDecl::target`) share.
pub fn target(call: &Call, callee: &Callee) -> Option<(String, SyntaxNode, usize)> {
    let fname = callee.name().to_string();
    if let Some(&(name, i)) = BUILTINS
        .iter()
        .find(|(n, _)| refers_to_builtin_or_alias(callee, n))
    {
        let arg = call.arg(i)?;
        let target = if name == "path" {
            attrset_get(arg, "path")?
        } else {
            arg.clone()
        };
        return Some((fname, target, i + 1));
    }
    let lib = LIB.iter().find(|(n, _)| refers_to_lib(callee, n));
    let json = (matches!(fname.as_str(), "importJSON" | "importTOML")
        && is_package_set_function(callee))
    .then_some(&("importJSON", 0));
    let &(_, i) = lib.or(json)?;
    Some((fname, call.arg(i)?.clone(), i + 1))
}

/// The `read-drv` kind, declared once (the registry in `kinds/mod.rs` lists it).
pub const KIND: KindDecl = KindDecl {
    name: "read-drv",
    callees: &[
        "readFile",
        "readDir",
        "pathExists",
        "readFileType",
        "hashFile",
        "filterSource",
        "path",
        "importJSON",
        "importTOML",
        "fileContents",
        "pathType",
        "pathIsDirectory",
        "pathIsRegularFile",
        "__readFile",
        "__readDir",
        "__pathExists",
        "__readFileType",
        "__hashFile",
        "__filterSource",
        "__path",
    ],
    help: "Reading a derivation's output (readFile, readDir, pathExists, hashFile, importJSON, …) builds that derivation during evaluation, blocking it.",
    detect,
    batch: Batch::Generic,
    target: Some(|call, callee| target(call, callee).map(|(_, t, _)| t)),
};

pub fn detect(call: &Call, callee: &Callee) -> Option<Finding> {
    let (fname, target, arity) = target(call, callee)?;
    let confidence = drv_output(&target)?;
    Some(ReadTarget::finding(
        Kind::ReadDrv,
        Args::ReadDrv,
        &fname,
        &target,
        arity,
        confidence,
    ))
}
