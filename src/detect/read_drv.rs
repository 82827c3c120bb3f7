//! Reading a derivation output: `builtins.readFile`, `readDir`, `pathExists`,
//! `hashFile`, `readFileType`, `filterSource`, `builtins.path`,
//! `lib.importJSON`, `lib.importTOML` (and so `fromJSON (readFile …)`).

use super::drv::drv_output;
use super::scope::refers_to_builtin;
use super::syntax::{Call, Callee, attrset_get, unparen};
use super::{Finding, Kind, is_package_set_function};

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

pub fn detect(call: &Call, callee: &Callee) -> Option<Finding> {
    let fname = callee.name();
    let target = if let Some(&(_, i)) = BUILTINS.iter().find(|(n, _)| refers_to_builtin(callee, n))
    {
        let arg = call.arg(i)?;
        if fname == "path" {
            attrset_get(arg, "path")?
        } else {
            arg.clone()
        }
    } else if matches!(fname, "importJSON" | "importTOML") && is_package_set_function(callee) {
        call.arg(0)?.clone()
    } else {
        return None;
    };
    let confidence = drv_output(&target)?;
    let arity = BUILTINS
        .iter()
        .find(|(n, _)| *n == fname)
        .map_or(1, |(_, i)| i + 1);
    let shown = unparen(&target).text().to_string();
    let message = format!("{fname} of {shown} builds a derivation during evaluation");
    Some(
        Finding::new(Kind::ReadDrv, arity, message)
            .confidence(confidence)
            .arg("function", fname)
            .arg("target", shown)
            .batchable_if(super::generic::batchability(&call.node, &target).map(drop)),
    )
}
