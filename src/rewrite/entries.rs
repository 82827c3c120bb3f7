//! A batchable Haskell site's manifest entries, from its typed data.

use super::paths::rebase_path;
use crate::detect::cabal2nix::SrcKind;
use crate::detect::source_overrides::Override;
use crate::detect::{Args, Code, Reason, Site};
use crate::manifest::{FileEntries, Given};

pub(super) fn add_entries(
    entries: &mut FileEntries,
    site: &Site,
    file: &str,
    manifest_file: &str,
    origin: String,
) -> Result<(), Reason> {
    let internal = |m: &str| Reason::new(Code::Internal, m);
    let conflict = |m: crate::manifest::DirectConflict| Reason::new(Code::Conflict, m.to_string());
    match &site.args {
        Args::Hackage(p) => match (&p.name, &p.version, &p.elements) {
            (Some(n), Some(v), _) => entries.add_hackage(n, v, origin),
            (_, _, Some(elements)) => {
                for e in elements {
                    entries.add_hackage(&e.name, &e.version, origin.clone());
                }
            }
            _ => return Err(internal("name and version unknown")),
        },
        Args::HackageDirect(p) => match (&p.name, &p.version, &p.sha256, &p.elements) {
            (Some(n), Some(v), Some(h), _) => entries
                .add_hackage_direct(n, v, h, origin)
                .map_err(conflict)?,
            (_, _, _, Some(elements)) => {
                for e in elements {
                    let h = e
                        .sha256
                        .as_deref()
                        .ok_or_else(|| internal("sha256 unknown"))?;
                    entries
                        .add_hackage_direct(&e.name, &e.version, h, origin.clone())
                        .map_err(conflict)?;
                }
            }
            _ => return Err(internal("pkg, ver and sha256 unknown")),
        },
        Args::Cabal2nix(c) => {
            let name = c.name.as_deref().ok_or_else(|| internal("name unknown"))?;
            // A path goes into the manifest; any other source is given by the
            // file's batch binding (`CALLER_SOURCE`).
            let src = match (c.src_kind, &c.src) {
                (Some(SrcKind::Path), Some(src)) => {
                    Given::Text(rebase_path(src, file, manifest_file)?)
                }
                (_, Some(_)) => Given::Caller,
                (_, None) => return Err(internal("source unknown")),
            };
            let options = match (&c.options, &c.options_expr) {
                (Some(o), _) => Given::Text(o.clone()),
                (None, Some(_)) => Given::Caller,
                (None, None) => Given::Text(String::new()),
            };
            entries.add_cabal2nix(name, src, options, origin);
        }
        Args::SourceOverrides(o) => {
            for (name, value) in &o.entries {
                match value {
                    Some(Override::Version(version)) => {
                        entries.add_hackage(name, version, origin.clone())
                    }
                    Some(Override::Path(path)) => {
                        let src = rebase_path(path, file, manifest_file)?;
                        entries.add_cabal2nix(
                            name,
                            Given::Text(src),
                            Given::Text(String::new()),
                            origin.clone(),
                        );
                    }
                    None => {
                        return Err(Reason::new(
                            Code::NotLiteral,
                            format!("override `{name}` is neither a version nor a path"),
                        ));
                    }
                }
            }
        }
        _ => return Err(internal("not a batchable kind")),
    }
    Ok(())
}
