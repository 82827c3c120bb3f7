//! `haskell.lib.packageSourceOverrides { name = "version" | ./path; … }`.

use crate::detect::multiplicity::resolve_literal;
use crate::detect::reason::{Code};
use super::{Args, Batch, Finding, Kind, KindDecl};
use crate::syntax::{Call, Callee, attrset_entries, is_path, string_literal, unparen};
use serde::Serialize;

/// The `source-overrides` kind, declared once (the registry in `kinds/mod.rs` lists it).
pub const KIND: KindDecl = KindDecl {
    name: "source-overrides",
    callees: &["packageSourceOverrides"],
    help: "haskell.lib.packageSourceOverrides runs callHackage or callCabal2nix for every entry: one evaluation-time build per entry. Route the entries through an ifd-batch batch.",
    detect,
    batch: Batch::Haskell,
    target: None,
};

/// Each entry's version string or path literal (`null`: neither), in source
/// order, and how many.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entries {
    #[serde(serialize_with = "as_map")]
    pub entries: Vec<(String, Option<Override>)>,
    pub count: usize,
}

/// One entry of the overrides (serialised as its text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Override {
    /// `name = "1.2";`: callHackage.
    Version(String),
    /// `name = ./path;`: callCabal2nix (the literal's text).
    Path(String),
}

fn as_map<S: serde::Serializer>(
    entries: &[(String, Option<Override>)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(entries.iter().map(|(k, v)| (k, v)))
}

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
        return Some(f.not_batchable(
            Code::NotLiteral,
            "the overrides are not a literal attribute set",
        ));
    };
    let mut list = Vec::new();
    let mut literal = true;
    for (name, value) in entries {
        let value = value.map(|v| unparen(&v));
        let shown = match &value {
            Some(v) if is_path(v) => Some(Override::Path(v.text().to_string())),
            Some(v) => string_literal(v).map(Override::Version),
            None => None,
        };
        literal &= shown.is_some();
        list.push((name, shown));
    }
    f = f.with(Args::SourceOverrides(Entries {
        entries: list,
        count,
    }));
    Some(if literal {
        f
    } else {
        f.not_batchable(
            Code::NotLiteral,
            "some entries are neither version strings nor path literals",
        )
    })
}
