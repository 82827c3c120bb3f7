//! A batchable Haskell site's manifest entries, from its typed data.

use super::paths::rebase_path;
use crate::detect::cabal2nix::SrcKind;
use crate::detect::source_overrides::Override;
use crate::detect::{Args, Site};
use crate::manifest::FileEntries;

pub(super) fn add_entries(
    entries: &mut FileEntries,
    site: &Site,
    file: &str,
    manifest_file: &str,
    origin: String,
) -> Result<(), String> {
    match &site.args {
        Args::Hackage(p) => match (&p.name, &p.version, &p.elements) {
            (Some(n), Some(v), _) => entries.add_hackage(n, v, origin),
            (_, _, Some(elements)) => {
                for e in elements {
                    entries.add_hackage(&e.name, &e.version, origin.clone());
                }
            }
            _ => return Err("name and version unknown".into()),
        },
        Args::HackageDirect(p) => match (&p.name, &p.version, &p.sha256, &p.elements) {
            (Some(n), Some(v), Some(h), _) => entries.add_hackage_direct(n, v, h, origin)?,
            (_, _, _, Some(elements)) => {
                for e in elements {
                    let h = e.sha256.as_deref().ok_or("pkg, ver and sha256 unknown")?;
                    entries.add_hackage_direct(&e.name, &e.version, h, origin.clone())?;
                }
            }
            _ => return Err("pkg, ver and sha256 unknown".into()),
        },
        Args::Cabal2nix(c) => {
            let name = c.name.as_deref().ok_or("name unknown")?;
            // A path goes into the manifest; any other source is given by the
            // file's batch binding (`CALLER_SOURCE`).
            let src = match (c.src_kind, &c.src) {
                (Some(SrcKind::Path), Some(src)) => rebase_path(src, file, manifest_file)?,
                (_, Some(_)) => crate::manifest::CALLER_SOURCE.to_string(),
                (_, None) => return Err("source unknown".into()),
            };
            let options = c.options.as_deref().unwrap_or_default();
            entries.add_cabal2nix(name, &src, options, origin)?;
        }
        Args::SourceOverrides(o) => {
            for (name, value) in &o.entries {
                match value {
                    Some(Override::Version(version)) => {
                        entries.add_hackage(name, version, origin.clone())
                    }
                    Some(Override::Path(path)) => {
                        let src = rebase_path(path, file, manifest_file)?;
                        entries.add_cabal2nix(name, &src, "", origin.clone())?;
                    }
                    None => {
                        return Err(format!("override `{name}` is neither a version nor a path"));
                    }
                }
            }
        }
        _ => return Err("not a batchable kind".into()),
    }
    Ok(())
}
