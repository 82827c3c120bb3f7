//! The list of wanted members: validated, exact relative names.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A multiply-rotate hasher (FxHash's scheme) for the member index: every
/// archive entry is looked up once, SipHash was 4 % of a pass. Only the
/// trusted member list is inserted, so hostile archive names cannot degrade
/// the table.
#[derive(Default)]
pub struct Fx(u64);

impl Fx {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Index = HashMap<Vec<u8>, usize, BuildHasherDefault<Fx>>;

/// Wanted members in list order, with an index by name.
#[derive(Debug)]
pub struct MemberList {
    names: Vec<String>,
    index: Index,
    /// Which name lengths (mod 256) occur: most archive names are rejected
    /// by their length alone, without hashing (an indexed extract looks up
    /// every name of the table).
    lengths: [u64; 4],
}

impl MemberList {
    /// Names in list order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Position of `name` in the list.
    pub fn position(&self, name: &[u8]) -> Option<usize> {
        let l = name.len() % 256;
        if self.lengths[l / 64] & (1 << (l % 64)) == 0 {
            return None;
        }
        self.index.get(name).copied()
    }
}

/// Whether `name` is a safe relative member name: no leading `/`, no empty,
/// `.` or `..` component, no NUL.
pub fn is_safe_name(name: &[u8]) -> bool {
    !name.is_empty()
        && !name.contains(&0)
        && name
            .split(|&b| b == b'/')
            .all(|c| !c.is_empty() && c != b"." && c != b"..")
}

/// Parse a member list: one name a line, blank lines ignored. Refuses an
/// empty list, unsafe names and duplicates (all of them reported at once).
pub fn parse_members(text: &str) -> anyhow::Result<MemberList> {
    let mut names = Vec::new();
    let mut index = Index::default();
    let mut problems = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        let name = line.strip_suffix('\r').unwrap_or(line);
        if name.is_empty() {
            continue;
        }
        if !is_safe_name(name.as_bytes()) {
            problems.push(format!(
                "line {}: unsafe member name `{name}` (absolute, or with an empty, `.` or `..` component)",
                lineno + 1
            ));
            continue;
        }
        if index.contains_key(name.as_bytes()) {
            problems.push(format!("line {}: duplicate member `{name}`", lineno + 1));
            continue;
        }
        index.insert(name.as_bytes().to_vec(), names.len());
        names.push(name.to_owned());
    }
    if !problems.is_empty() {
        anyhow::bail!("{}", problems.join("\n"));
    }
    if names.is_empty() {
        anyhow::bail!("the member list is empty (nothing to extract)");
    }
    let mut lengths = [0u64; 4];
    for n in &names {
        let l = n.len() % 256;
        lengths[l / 64] |= 1 << (l % 64);
    }
    Ok(MemberList {
        names,
        index,
        lengths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_names() {
        assert!(is_safe_name(b"aeson/2.1.2.1/aeson.cabal"));
        for bad in [
            &b""[..],
            b"/etc/passwd",
            b"../x",
            b"a/../../x",
            b"a//b",
            b"./a",
            b"a/",
            b"a\0b",
        ] {
            assert!(!is_safe_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn list_errors() {
        assert!(parse_members("\n\n").is_err());
        assert!(parse_members("a/b\na/b\n").is_err());
        assert!(parse_members("a/../b\n").is_err());
        let l = parse_members("a/1/a.cabal\r\n\nb/2/b.json\n").unwrap();
        assert_eq!(l.names(), ["a/1/a.cabal", "b/2/b.json"]);
        assert_eq!(l.position(b"b/2/b.json"), Some(1));
    }
}
