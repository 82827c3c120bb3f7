//! The one streaming pass over a tar archive (gzip-compressed or plain).

use super::members::is_safe_name;
use super::{MemberList, OutDir, Outcome};
use anyhow::{Context, bail};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use tar::EntryType;

/// Buffer size on both sides of the decompressor: large reads of the
/// compressed file, and tar's 512-byte header reads served from memory
/// instead of one inflate call each.
const BUF: usize = 256 * 1024;

/// How many leading path components to drop from archive names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strip {
    /// Detect the archive's top directory from its first entry.
    Auto,
    /// Drop exactly this many components.
    Components(usize),
}

/// Container format, read from the file's first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// gzip (single- or multi-member) around a tar stream.
    Gzip,
    /// Plain tar.
    Tar,
}

/// Whether `block` is a tar header with a valid checksum.
fn is_tar_header(block: &[u8]) -> bool {
    if block.len() < 512 {
        return false;
    }
    let field = &block[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    let Ok(text) = std::str::from_utf8(&digits) else {
        return false;
    };
    let Ok(stored) = u32::from_str_radix(text, 8) else {
        return false;
    };
    let sum: u32 = block[..148]
        .iter()
        .chain(&block[156..512])
        .map(|b| u32::from(*b))
        .sum::<u32>()
        + 8 * u32::from(b' ');
    !digits.is_empty() && sum == stored
}

/// Open `path` as a tar stream, decompressing if needed.
pub fn open(path: &Path) -> anyhow::Result<(Format, Box<dyn Read>)> {
    let file = File::open(path).with_context(|| format!("{}", path.display()))?;
    let mut inner = BufReader::with_capacity(BUF, file);
    let head = inner
        .fill_buf()
        .with_context(|| format!("reading {}", path.display()))?;
    let p = path.display();
    if head.is_empty() {
        bail!("{p}: empty file, not an archive");
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::bufread::MultiGzDecoder::new(inner);
        return Ok((Format::Gzip, Box::new(BufReader::with_capacity(BUF, gz))));
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        bail!("{p}: zstd-compressed archives are not supported (use .tar.gz, .tar or a directory)");
    }
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        bail!("{p}: xz-compressed archives are not supported (use .tar.gz, .tar or a directory)");
    }
    if head.starts_with(b"BZh") {
        bail!(
            "{p}: bzip2-compressed archives are not supported (use .tar.gz, .tar or a directory)"
        );
    }
    if !is_tar_header(head) {
        bail!("{p}: not a tar archive (nor gzip-compressed)");
    }
    Ok((Format::Tar, Box::new(inner)))
}

/// Decompress the whole archive and discard it; returns the number of
/// decompressed bytes. The lower bound of any one-pass extraction.
pub fn decompress_only(path: &Path) -> anyhow::Result<u64> {
    let (_, mut r) = open(path)?;
    let mut buf = vec![0u8; BUF];
    let mut total = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }
}

/// The name an archive path has in the member list's terms, if any.
fn lookup<'a>(
    path: &'a [u8],
    strip: Strip,
    top: Option<&[u8]>,
    list: &MemberList,
) -> (Option<usize>, &'a [u8]) {
    let path = path.strip_suffix(b"/").unwrap_or(path);
    match strip {
        Strip::Auto => {
            if let Some(top) = top
                && let Some(rest) = path.strip_prefix(top)
                && let Some(rest) = rest.strip_prefix(b"/")
            {
                if let Some(i) = list.position(rest) {
                    return (Some(i), rest);
                }
                // Under the top directory: that is the name to report.
                return (list.position(path), rest);
            }
            (list.position(path), path)
        }
        Strip::Components(n) => {
            let mut rest = path;
            for _ in 0..n {
                match rest.iter().position(|&b| b == b'/') {
                    Some(i) => rest = &rest[i + 1..],
                    None => return (None, b""),
                }
            }
            (list.position(rest), rest)
        }
    }
}

/// The archive's top directory as `--strip auto` sees it: the first
/// component of the first entry, if that entry is a directory or lies in one
/// (and the component is a plain name).
fn detect_top(path: &[u8], is_dir: bool) -> Option<Vec<u8>> {
    let trimmed = path.strip_suffix(b"/").unwrap_or(path);
    let (first, nested) = match trimmed.iter().position(|&b| b == b'/') {
        Some(i) => (&trimmed[..i], true),
        None => (trimmed, false),
    };
    let plain = !first.is_empty() && first != b".." && !first.contains(&0);
    (plain && (nested || is_dir)).then(|| first.to_vec())
}

fn kind(t: EntryType) -> &'static str {
    match t {
        EntryType::Symlink => "a symlink member (links are not followed)",
        EntryType::Link => "a hardlink member (links are not followed)",
        EntryType::Directory => "a directory in the archive, not a file",
        EntryType::Char | EntryType::Block => "a device node in the archive",
        EntryType::Fifo => "a FIFO in the archive",
        _ => "not a regular file in the archive",
    }
}

/// One pass over the tar archive at `path`, writing the listed members into
/// `out` and stopping after the last one.
pub fn extract_archive(
    path: &Path,
    list: &MemberList,
    out: &mut OutDir,
    strip: Strip,
) -> anyhow::Result<Outcome> {
    let (_, reader) = open(path)?;
    let p = path.display();
    let mut archive = tar::Archive::new(reader);
    let mut found = vec![false; list.len()];
    let mut remaining = list.len();
    let mut outcome = Outcome::default();
    let mut top: Option<Option<Vec<u8>>> = None;
    {
        let entries = archive.entries().with_context(|| format!("reading {p}"))?;
        for entry in entries {
            let mut entry = entry.with_context(|| format!("{p}: corrupt or truncated archive"))?;
            let ty = entry.header().entry_type();
            if ty.is_pax_global_extensions() {
                continue;
            }
            let path_bytes = entry.path_bytes();
            let top_dir = top
                .get_or_insert_with(|| detect_top(&path_bytes, ty.is_dir()))
                .as_deref();
            let (pos, name) = lookup(&path_bytes, strip, top_dir, list);
            let Some(i) = pos else {
                if !name.is_empty() && !is_safe_name(name) {
                    outcome.unsafe_names += 1;
                }
                continue;
            };
            drop(path_bytes);
            let member = &list.names()[i];
            if found[i] {
                bail!("{p}: member {member} appears twice in the archive");
            }
            found[i] = true;
            remaining -= 1;
            if matches!(ty, EntryType::Regular | EntryType::Continuous) {
                let size = entry.size();
                match out.write_member(member, &mut entry, size)? {
                    Ok(()) => outcome.written += 1,
                    Err(r) => outcome.refused.push((member.clone(), r)),
                }
            } else {
                outcome.refused.push((member.clone(), kind(ty).into()));
            }
            if remaining == 0 {
                outcome.stopped_early = true;
                return Ok(outcome);
            }
        }
    }
    // The end of the archive with members still missing: make sure it is the
    // real end (an end-of-archive marker follows, the gzip trailer checks
    // out), not a truncated file that happens to stop between entries.
    let mut rest = archive.into_inner();
    let mut buf = vec![0u8; BUF];
    let mut trailing = 0u64;
    loop {
        match rest.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => trailing += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(e).with_context(|| format!("{p}: corrupt or truncated archive"));
            }
        }
    }
    if trailing == 0 {
        bail!("{p}: truncated archive (ends without the end-of-archive marker)");
    }
    outcome.missing = list
        .names()
        .iter()
        .zip(&found)
        .filter(|(_, f)| !**f)
        .map(|(n, _)| n.clone())
        .collect();
    Ok(outcome)
}
