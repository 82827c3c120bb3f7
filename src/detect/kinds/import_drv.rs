//! `import` / `scopedImport` / `callPackage` of a derivation output.

pub use super::ReadTarget;
use super::{Args, Batch, Finding, Kind, KindDecl};
use crate::detect::drv::Confidence;
use crate::detect::drv::drv_output;
use crate::syntax::scope::refers_to_builtin;
use crate::syntax::{Call, Callee, leading_interpolation};
use rnix::SyntaxNode;

/// The import a call makes: the function, the expression imported, and how
/// many arguments belong to the site. The one definition the detector and
/// generic batching (`KindDecl::target`) share.
pub fn target(call: &Call, callee: &Callee) -> Option<(&'static str, SyntaxNode, usize)> {
    if refers_to_builtin(callee, "import") {
        Some(("import", call.arg(0)?.clone(), 1))
    } else if refers_to_builtin(callee, "scopedImport") {
        Some(("scopedImport", call.arg(1)?.clone(), 2))
    } else if callee.name() == "callPackage" {
        Some(("callPackage", call.arg(0)?.clone(), 1))
    } else {
        None
    }
}

/// The `import-drv` kind, declared once (the registry in `kinds/mod.rs` lists it).
pub const KIND: KindDecl = KindDecl {
    name: "import-drv",
    callees: &["import", "scopedImport", "callPackage"],
    help: "import / scopedImport / callPackage of a derivation's output builds that derivation during evaluation, blocking it.",
    detect,
    batch: Batch::Generic,
    target: Some(|call, callee| target(call, callee).map(|(_, t, _)| t)),
};

pub fn detect(call: &Call, callee: &Callee) -> Option<Finding> {
    let (fname, target, arity) = target(call, callee)?;
    let confidence = drv_output(&target)?;
    // `callPackage x { }` with x merely unknown is everyday code; only a
    // definite derivation or an interpolated store path is worth reporting.
    if fname == "callPackage"
        && confidence == Confidence::Possible
        && leading_interpolation(&target).is_none()
    {
        return None;
    }
    Some(ReadTarget::finding(
        Kind::ImportDrv,
        Args::ImportDrv,
        fname,
        &target,
        arity,
        confidence,
    ))
}
