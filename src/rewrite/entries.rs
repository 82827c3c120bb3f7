//! A batchable Haskell site's manifest entries.

use super::paths::rebase_path;
use crate::detect::syntax::{Call, string_literal, unparen};
use crate::detect::{Kind, Site};
use crate::manifest::FileEntries;

pub(super) fn add_entries(
    entries: &mut FileEntries,
    site: &Site,
    call: &Call,
    file: &str,
    manifest_file: &str,
    origin: String,
) -> Result<(), String> {
    let s = |k: &str| {
        site.args
            .get(k)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    match site.kind {
        Kind::Hackage => match (s("name"), s("version")) {
            (Some(n), Some(v)) => entries.add_hackage(&n, &v, origin),
            _ => {
                let elements = site
                    .args
                    .get("elements")
                    .and_then(|e| e.as_array())
                    .ok_or("name and version unknown")?;
                for e in elements {
                    let (Some(n), Some(v)) = (e["name"].as_str(), e["version"].as_str()) else {
                        return Err("name and version unknown".into());
                    };
                    entries.add_hackage(n, v, origin.clone());
                }
            }
        },
        Kind::HackageDirect => match (s("name"), s("version"), s("sha256")) {
            (Some(n), Some(v), Some(h)) => entries.add_hackage_direct(&n, &v, &h, origin)?,
            _ => {
                let elements = site
                    .args
                    .get("elements")
                    .and_then(|e| e.as_array())
                    .ok_or("pkg, ver and sha256 unknown")?;
                for e in elements {
                    let (Some(n), Some(v), Some(h)) = (
                        e["name"].as_str(),
                        e["version"].as_str(),
                        e["sha256"].as_str(),
                    ) else {
                        return Err("pkg, ver and sha256 unknown".into());
                    };
                    entries.add_hackage_direct(n, v, h, origin.clone())?;
                }
            }
        },
        Kind::Cabal2nix => {
            let name = s("name").ok_or("name unknown")?;
            // A path goes into the manifest; any other source is given by the
            // file's batch binding (`CALLER_SOURCE`).
            let src = match (s("src_kind").as_deref(), s("src")) {
                (Some("path"), Some(src)) => rebase_path(&src, file, manifest_file)?,
                (_, Some(_)) => crate::manifest::CALLER_SOURCE.to_string(),
                (_, None) => return Err("source unknown".into()),
            };
            entries.add_cabal2nix(&name, &src, &s("options").unwrap_or_default(), origin)?;
        }
        Kind::SourceOverrides => {
            let arg = call.arg(0).ok_or("no overrides")?;
            let set = crate::detect::multiplicity::resolve_literal(arg);
            for (name, value) in
                crate::detect::syntax::attrset_entries(&set).ok_or("overrides not literal")?
            {
                let value = value.map(|v| unparen(&v)).ok_or("inherited entry")?;
                if let Some(version) = string_literal(&value) {
                    entries.add_hackage(&name, &version, origin.clone());
                } else if crate::detect::syntax::is_path(&value) {
                    let src = rebase_path(&value.text().to_string(), file, manifest_file)?;
                    entries.add_cabal2nix(&name, &src, "", origin.clone())?;
                } else {
                    return Err(format!("override `{name}` is neither a version nor a path"));
                }
            }
        }
        _ => return Err("not a batchable kind".into()),
    }
    Ok(())
}
