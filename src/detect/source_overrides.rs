//! `haskell.lib.packageSourceOverrides { name = "version" | ./path; … }`.

use super::multiplicity::resolve_literal;
use super::syntax::{Call, Callee, attrset_entries, is_path, string_literal, unparen};
use super::{Batch, KindDecl, Finding, Kind};
use serde_json::{Map, Value};

/// The `source-overrides` kind, declared once (the registry in `detect/mod.rs` lists it).
pub const KIND: KindDecl = KindDecl {
    name: "source-overrides",
    callees: &["packageSourceOverrides"],
    help: "haskell.lib.packageSourceOverrides runs callHackage or callCabal2nix for every entry: one evaluation-time build per entry. Route the entries through an ifd-batch batch.",
    detect,
    batch: Batch::Haskell,
};

pub fn detect(call: &Call, callee: &Callee) -> Option<Finding> {
    if callee.name() != "packageSourceOverrides" {
        return None;
    }
    let entries = call
        .arg(0)
        .map(resolve_literal)
        .and_then(|s| attrset_entries(&s));
    let count = entries.as_ref().map_or(1, |e| e.len().max(1));
    let message = format!(
        "packageSourceOverrides runs callHackage/callCabal2nix for each of its {} entries during evaluation",
        entries
            .as_ref()
            .map_or("?".to_string(), |e| e.len().to_string())
    );
    let mut f = Finding::new(Kind::SourceOverrides, 1, message);
    f.rounds = count;
    let Some(entries) = entries else {
        return Some(f.not_batchable("the overrides are not a literal attribute set"));
    };
    let mut map = Map::new();
    let mut literal = true;
    for (name, value) in entries {
        let value = value.map(|v| unparen(&v));
        let shown = match &value {
            Some(v) if is_path(v) => Value::String(v.text().to_string()),
            Some(v) => match string_literal(v) {
                Some(s) => Value::String(s),
                None => {
                    literal = false;
                    Value::Null
                }
            },
            None => {
                literal = false;
                Value::Null
            }
        };
        map.insert(name, shown);
    }
    f = f.arg("entries", Value::Object(map)).arg("count", count);
    Some(if literal {
        f
    } else {
        f.not_batchable("some entries are neither version strings nor path literals")
    })
}
