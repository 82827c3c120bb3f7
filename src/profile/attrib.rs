//! Attribution: which scanned site a derivation name comes from.
//!
//! - `callHackage` / `callHackageDirect` sites (and their per-element
//!   collections): `NAME-VERSION`, matched as the whole name or its suffix
//!   after a `-` (`all-cabal-hashes-component-NAME-VERSION`,
//!   `cabal2nix-NAME-VERSION`).
//! - `callCabal2nix` sites: `cabal2nix-NAME` or `NAME`.
//! - every other site: the string literals in its arguments, each `${…}`
//!   matching anything, against the whole derivation name.
//!
//! The most specific match (most literal characters) wins.

use crate::detect::source_overrides::Override;
use crate::detect::{Args, Site};

/// Where a derivation comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteRef {
    /// `file:line`, the file as given to the scan (root joined).
    pub location: String,
    pub kind: &'static str,
    pub batchable: bool,
}

enum Pattern {
    /// `NAME-VERSION`: whole name, or suffix after `-`.
    Suffix(String),
    /// Whole name, exactly.
    Exact(String),
    /// Literal pieces; `${…}` between them matches anything.
    Glob(Vec<String>),
}

impl Pattern {
    fn score(&self, name: &str) -> Option<usize> {
        match self {
            Pattern::Suffix(k) => (name == k
                || name
                    .strip_suffix(k.as_str())
                    .is_some_and(|head| head.ends_with('-')))
            .then_some(k.len() + 1000),
            Pattern::Exact(k) => (name == k).then_some(k.len() + 1000),
            Pattern::Glob(pieces) => {
                glob(pieces, name).then(|| pieces.iter().map(String::len).sum())
            }
        }
    }
}

fn glob(pieces: &[String], name: &str) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return false;
    };
    let Some(mut tail) = name.strip_prefix(first.as_str()) else {
        return false;
    };
    if rest.is_empty() {
        return tail.is_empty();
    }
    for (i, piece) in rest.iter().enumerate() {
        if i + 1 == rest.len() {
            return tail.ends_with(piece.as_str());
        }
        match tail.find(piece.as_str()) {
            Some(at) => tail = &tail[at + piece.len()..],
            None => return false,
        }
    }
    true
}

/// The string literals of a Nix expression's source text, split at
/// interpolations: `"delay-${n}"` → `["delay-", ""]`.
fn literals(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '"' {
            i += 1;
            continue;
        }
        i += 1;
        let mut pieces = vec![String::new()];
        let mut depth = 0usize;
        while i < chars.len() {
            let c = chars[i];
            if depth > 0 {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            pieces.push(String::new());
                        }
                    }
                    _ => {}
                }
                i += 1;
                continue;
            }
            match c {
                '\\' if i + 1 < chars.len() => {
                    if let Some(p) = pieces.last_mut() {
                        p.push(chars[i + 1]);
                    }
                    i += 2;
                    continue;
                }
                '$' if chars.get(i + 1) == Some(&'{') => {
                    depth = 1;
                    i += 2;
                    continue;
                }
                '"' => {
                    i += 1;
                    break;
                }
                _ => {
                    if let Some(p) = pieces.last_mut() {
                        p.push(c);
                    }
                }
            }
            i += 1;
        }
        out.push(pieces);
    }
    out
}

/// Every site's patterns.
pub struct Index {
    entries: Vec<(Pattern, SiteRef)>,
}

impl Index {
    pub fn new(sites: &[Site], root: &std::path::Path) -> Index {
        let mut entries = Vec::new();
        for s in sites {
            let file = if root.as_os_str().is_empty() || root == std::path::Path::new(".") {
                s.file.clone()
            } else {
                format!(
                    "{}/{}",
                    root.to_string_lossy().trim_end_matches('/'),
                    s.file
                )
            };
            let site = SiteRef {
                location: format!("{file}:{}", s.line),
                kind: s.kind.as_str(),
                batchable: s.batchable,
            };
            let mut exact = Vec::new();
            let mut pin = |name: &str, version: Option<&str>, direct: bool| {
                // callHackageDirect is callCabal2nix of a fetched tarball:
                // `cabal2nix-NAME`.
                if direct {
                    entries.push((Pattern::Exact(format!("cabal2nix-{name}")), site.clone()));
                }
                if let Some(ver) = version {
                    entries.push((Pattern::Suffix(format!("{name}-{ver}")), site.clone()));
                }
            };
            match &s.args {
                Args::Hackage(p) => {
                    if let Some(n) = &p.name {
                        pin(n, p.version.as_deref(), false);
                    }
                    for e in p.elements.iter().flatten() {
                        pin(&e.name, Some(&e.version), false);
                    }
                }
                Args::HackageDirect(p) => {
                    if let Some(n) = &p.name {
                        pin(n, p.version.as_deref(), true);
                    }
                    for e in p.elements.iter().flatten() {
                        pin(&e.name, Some(&e.version), true);
                    }
                }
                Args::Cabal2nix(c) => {
                    if let Some(n) = &c.name {
                        pin(n, None, true);
                        exact.push(n.clone());
                    }
                }
                Args::SourceOverrides(o) => {
                    for (n, value) in &o.entries {
                        match value {
                            Some(Override::Version(v)) => pin(n, Some(v), false),
                            // A path: `cabal2nix-NAME`.
                            _ => pin(n, None, true),
                        }
                    }
                }
                _ => {}
            }
            entries.extend(exact.into_iter().map(|n| (Pattern::Exact(n), site.clone())));
            // Literal names in any argument (and the callee text).
            let mut texts = s.args.expressions();
            texts.push(&s.call);
            for text in texts {
                for pieces in literals(text) {
                    let fixed: usize = pieces.iter().map(String::len).sum();
                    if fixed >= 2 && !pieces.iter().any(|p| p.contains(char::is_whitespace)) {
                        entries.push((Pattern::Glob(pieces), site.clone()));
                    }
                }
            }
        }
        Index { entries }
    }

    /// The site a derivation named `name` comes from, if any.
    pub fn lookup(&self, name: &str) -> Option<&SiteRef> {
        let mut best: Option<(usize, &SiteRef)> = None;
        for (p, s) in &self.entries {
            if let Some(score) = p.score(name)
                && best.is_none_or(|(b, _)| score > b)
            {
                best = Some((score, s));
            }
        }
        best.map(|(_, s)| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_split_at_interpolations() {
        assert_eq!(
            literals(r#"pkgs.runCommand "delay-${n}" {} "x""#),
            vec![
                vec!["delay-".to_string(), String::new()],
                vec!["x".to_string()]
            ]
        );
        assert!(glob(&["delay-".into(), String::new()], "delay-3"));
        assert!(glob(&["delay-".into(), "-x".into()], "delay-3-x"));
        assert!(!glob(&["delay-".into()], "delay-3"));
        assert!(glob(&["delay-3".into()], "delay-3"));
    }

    #[test]
    fn hackage_names() {
        let p = Pattern::Suffix("servant-0.20.1".into());
        assert!(p.score("cabal2nix-servant-0.20.1").is_some());
        assert!(
            p.score("all-cabal-hashes-component-servant-0.20.1")
                .is_some()
        );
        assert!(p.score("servant-0.20.1").is_some());
        assert!(p.score("xservant-0.20.1").is_none());
    }

    #[test]
    fn attributes_scanned_sites() {
        let text = "{ pkgs, self }: {\n  a = self.callHackage \"servant\" \"0.20.1\" { };\n  b = builtins.readFile (pkgs.runCommand \"delay-${toString 2}\" { } \"sleep 1\");\n}\n";
        let Ok(found) = crate::scan::parse_and_detect(text, "f.nix") else {
            panic!("parse");
        };
        let idx = Index::new(&found.sites, std::path::Path::new("dir"));
        let at = |n: &str| idx.lookup(n).map(|s| s.location.clone());
        assert_eq!(
            at("cabal2nix-servant-0.20.1").as_deref(),
            Some("dir/f.nix:2")
        );
        assert_eq!(at("delay-2").as_deref(), Some("dir/f.nix:3"));
        assert_eq!(at("unrelated"), None);
    }
}
