//! `import` / `scopedImport` / `callPackage` of a derivation output.

use super::drv::drv_output;
use super::scope::refers_to_builtin;
use super::syntax::{Call, Callee, leading_interpolation, unparen};
use super::{Confidence, Finding, Kind};

pub fn detect(call: &Call, callee: &Callee) -> Option<Finding> {
    let (fname, target) = if refers_to_builtin(callee, "import") {
        ("import", call.arg(0)?)
    } else if refers_to_builtin(callee, "scopedImport") {
        ("scopedImport", call.arg(1)?)
    } else if callee.name() == "callPackage" {
        ("callPackage", call.arg(0)?)
    } else {
        return None;
    };
    let confidence = drv_output(target)?;
    // `callPackage x { }` with x merely unknown is everyday code; only a
    // definite derivation or an interpolated store path is worth reporting.
    if fname == "callPackage"
        && confidence == Confidence::Possible
        && leading_interpolation(target).is_none()
    {
        return None;
    }
    let arity = if fname == "scopedImport" { 2 } else { 1 };
    let shown = unparen(target).text().to_string();
    let message = format!("{fname} of {shown} builds a derivation during evaluation");
    Some(
        Finding::new(Kind::ImportDrv, arity, message)
            .confidence(confidence)
            .arg("function", fname)
            .arg("target", shown)
            .batchable_if(super::generic::batchability(&call.node, target).map(drop)),
    )
}
