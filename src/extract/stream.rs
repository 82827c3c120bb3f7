//! The one streaming pass over a tar archive (gzip-compressed or plain).
//!
//! Its own tar reader rather than the `tar` crate, here and in the index
//! pass (`index.rs`): the streaming pass with the crate's `Archive::entries`
//! took 1.48 s instead of 0.93 s on one thread (spread50 on the realistic
//! index, +59 %), and the index pass 1.92 s instead of 1.45 s, because the
//! crate skips unwanted data by copying it out through a zeroed buffer where
//! this reader only advances in the inflate buffer.

use super::members::is_safe_name;
use super::{Extracted, MemberList, OutDir};
use anyhow::{Context, bail};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

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
pub enum Container {
    /// gzip (single- or multi-member) around a tar stream.
    Gzip,
    /// Plain tar.
    Tar,
}

/// Whether `block` is a tar header with a valid checksum.
pub(super) fn is_tar_header(block: &[u8]) -> bool {
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

/// The container of an archive whose first bytes are `head`, or why it is
/// none we read (`p` names the file in the message).
pub(super) fn sniff(head: &[u8], p: &dyn std::fmt::Display) -> anyhow::Result<Container> {
    if head.is_empty() {
        bail!("{p}: empty file, not an archive");
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return Ok(Container::Gzip);
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
    Ok(Container::Tar)
}

/// Open `path` as a tar stream, decompressing if needed.
///
/// With `threaded` (and more than one CPU), gzip is inflated on its own
/// thread while the caller reads.
pub fn open(path: &Path, threaded: bool) -> anyhow::Result<(Container, Box<dyn BufRead>)> {
    let file = File::open(path).with_context(|| format!("{}", path.display()))?;
    let mut inner = BufReader::with_capacity(BUF, file);
    let head = inner
        .fill_buf()
        .with_context(|| format!("reading {}", path.display()))?;
    match sniff(head, &path.display())? {
        Container::Gzip => {
            let gz = flate2::bufread::MultiGzDecoder::new(inner);
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
            if threaded && cpus > 1 {
                let piped = super::pipe::Piped::new(gz).context("starting the inflate thread")?;
                return Ok((Container::Gzip, Box::new(piped)));
            }
            Ok((Container::Gzip, Box::new(BufReader::with_capacity(BUF, gz))))
        }
        Container::Tar => Ok((Container::Tar, Box::new(inner))),
    }
}

/// Decompress the whole archive and discard it; returns the number of
/// decompressed bytes. The lower bound of any one-pass extraction.
pub fn decompress_only(path: &Path) -> anyhow::Result<u64> {
    let (_, mut r) = open(path, false)?;
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
pub(super) fn lookup<'a>(
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
pub(super) fn detect_top(path: &[u8], is_dir: bool) -> Option<Vec<u8>> {
    let trimmed = path.strip_suffix(b"/").unwrap_or(path);
    let (first, nested) = match trimmed.iter().position(|&b| b == b'/') {
        Some(i) => (&trimmed[..i], true),
        None => (trimmed, false),
    };
    let plain = !first.is_empty() && first != b".." && !first.contains(&0);
    (plain && (nested || is_dir)).then(|| first.to_vec())
}

pub(super) fn kind(t: u8) -> &'static str {
    match t {
        b'2' => "a symlink member (links are not followed)",
        b'1' => "a hardlink member (links are not followed)",
        b'5' => "a directory in the archive, not a file",
        b'3' | b'4' => "a device node in the archive",
        b'6' => "a FIFO in the archive",
        _ => "not a regular file in the archive",
    }
}

fn corrupt(msg: impl Into<String>) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("corrupt archive: {}", msg.into()),
    )
}

/// A tar stream read in place from a buffered reader: headers are parsed
/// from the buffer, unwanted data is skipped with `consume` (no copy).
pub(super) struct Tar<R> {
    pub(super) r: R,
}

/// How a tar stream ended.
pub(super) enum End {
    /// The end-of-archive marker (a zero block).
    Marker,
    /// The caller stopped the pass.
    Stopped,
}

/// One entry's data, limited to its size.
struct Data<'a, R> {
    r: &'a mut R,
    left: u64,
}

impl<R: BufRead> Read for Data<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || out.is_empty() {
            return Ok(0);
        }
        let buf = self.r.fill_buf()?;
        if buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "archive truncated inside a member",
            ));
        }
        let n = buf
            .len()
            .min(out.len())
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        out[..n].copy_from_slice(&buf[..n]);
        self.r.consume(n);
        self.left -= n as u64;
        Ok(n)
    }
}

fn octal(field: &[u8]) -> io::Result<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        // GNU base-256.
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            v = v
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(b)))
                .ok_or_else(|| corrupt("size field overflows"))?;
        }
        return Ok(v);
    }
    let mut v: u64 = 0;
    let mut seen = false;
    for &b in field {
        match b {
            b'0'..=b'7' => {
                v = v
                    .checked_mul(8)
                    .and_then(|v| v.checked_add(u64::from(b - b'0')))
                    .ok_or_else(|| corrupt("numeric field overflows"))?;
                seen = true;
            }
            b' ' if !seen => {}
            0 | b' ' => break,
            _ => return Err(corrupt("invalid numeric field in a tar header")),
        }
    }
    Ok(v)
}

fn cstr(field: &[u8]) -> &[u8] {
    let n = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..n]
}

/// Parse pax extended-header records, keeping `path` and `size`.
fn pax(records: &[u8], path: &mut Option<Vec<u8>>, size: &mut Option<u64>) -> io::Result<()> {
    let mut rest = records;
    while !rest.is_empty() {
        let sp = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| corrupt("malformed pax record"))?;
        let len: usize = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|&l| l > sp + 1 && l <= rest.len())
            .ok_or_else(|| corrupt("malformed pax record length"))?;
        let rec = &rest[sp + 1..len];
        let rec = rec.strip_suffix(b"\n").unwrap_or(rec);
        if let Some(eq) = rec.iter().position(|&b| b == b'=') {
            let (k, v) = (&rec[..eq], &rec[eq + 1..]);
            match k {
                b"path" => *path = Some(v.to_vec()),
                b"size" => {
                    *size = Some(
                        std::str::from_utf8(v)
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .ok_or_else(|| corrupt("malformed pax size"))?,
                    )
                }
                _ => {}
            }
        }
        rest = &rest[len..];
    }
    Ok(())
}

impl<R: BufRead> Tar<R> {
    /// Read one 512-byte block; `false` at a clean end of input.
    fn block(&mut self, out: &mut [u8; 512]) -> io::Result<bool> {
        let buf = self.r.fill_buf()?;
        if buf.len() >= 512 {
            out.copy_from_slice(&buf[..512]);
            self.r.consume(512);
            return Ok(true);
        }
        if buf.is_empty() {
            return Ok(false);
        }
        let mut got = 0;
        while got < 512 {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "archive truncated inside a header",
                ));
            }
            let n = buf.len().min(512 - got);
            out[got..got + n].copy_from_slice(&buf[..n]);
            self.r.consume(n);
            got += n;
        }
        Ok(true)
    }

    fn skip(&mut self, mut n: u64) -> io::Result<()> {
        while n > 0 {
            let avail = self.r.fill_buf()?.len();
            if avail == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "archive truncated inside a member",
                ));
            }
            let k = avail.min(usize::try_from(n).unwrap_or(usize::MAX));
            self.r.consume(k);
            n -= k as u64;
        }
        Ok(())
    }

    fn read_data(&mut self, size: u64) -> io::Result<Vec<u8>> {
        if size > 1 << 20 {
            return Err(corrupt("extended header larger than 1 MiB"));
        }
        let mut v = Vec::with_capacity(size as usize);
        Data {
            r: &mut self.r,
            left: size,
        }
        .read_to_end(&mut v)?;
        self.skip(pad(size))?;
        Ok(v)
    }

    /// Walk the entries; `f(name, typeflag, size, data)` may read the data
    /// (any unread rest is skipped) and returns whether to go on.
    pub(super) fn walk(
        &mut self,
        mut f: impl FnMut(&[u8], u8, u64, &mut dyn Read) -> anyhow::Result<bool>,
    ) -> anyhow::Result<End> {
        let mut hdr = [0u8; 512];
        let mut long_name: Option<Vec<u8>> = None;
        let mut pax_path: Option<Vec<u8>> = None;
        let mut pax_size: Option<u64> = None;
        let mut name_buf: Vec<u8> = Vec::with_capacity(256);
        loop {
            // Parsed in place from the inflate buffer when a whole block is
            // there (nearly always); copied only when it straddles two fills.
            let buf = self.r.fill_buf()?;
            let parsed = if buf.len() >= 512 {
                let p = header(&buf[..512], &mut name_buf)?;
                self.r.consume(512);
                p
            } else {
                if !self.block(&mut hdr)? {
                    bail!("truncated archive (ends without the end-of-archive marker)");
                }
                header(&hdr, &mut name_buf)?
            };
            let Some((flag, mut size)) = parsed else {
                return Ok(End::Marker);
            };
            match flag {
                b'x' => {
                    let recs = self.read_data(size)?;
                    pax(&recs, &mut pax_path, &mut pax_size)?;
                    continue;
                }
                b'L' => {
                    let n = self.read_data(size)?;
                    long_name = Some(cstr(&n).to_vec());
                    continue;
                }
                b'g' | b'K' => {
                    self.skip(size + pad(size))?;
                    continue;
                }
                _ => {}
            }
            if let Some(s) = pax_size.take() {
                size = s;
            }
            if let Some(n) = pax_path.take().or(long_name.take()) {
                name_buf.clear();
                name_buf.extend_from_slice(&n);
                long_name = None;
            }
            let mut data = Data {
                r: &mut self.r,
                left: size,
            };
            let go_on = f(&name_buf, flag, size, &mut data)?;
            let left = data.left;
            if !go_on {
                return Ok(End::Stopped);
            }
            self.skip(left + pad(size))?;
        }
    }
}

/// Check one header block: `None` for a zero block (end of archive), else
/// the type flag and size, with the ustar name (prefix included) in `name`.
fn header(hdr: &[u8], name: &mut Vec<u8>) -> anyhow::Result<Option<(u8, u64)>> {
    if hdr.iter().all(|&b| b == 0) {
        return Ok(None);
    }
    let stored = octal(&hdr[148..156])?;
    // Whole-block sum (vectorises), then the checksum field counted as eight
    // spaces.
    let unsigned: u64 = u64::from(hdr.iter().map(|&b| u32::from(b)).sum::<u32>())
        - hdr[148..156].iter().map(|&b| u64::from(b)).sum::<u64>()
        + 256;
    if stored != unsigned {
        let signed: i64 = hdr[..148]
            .iter()
            .chain(&hdr[156..])
            .map(|&b| i64::from(b as i8))
            .sum::<i64>()
            + 256;
        if i64::try_from(stored).ok() != Some(signed) {
            bail!("corrupt archive: header checksum mismatch");
        }
    }
    let flag = hdr[156];
    let size = octal(&hdr[124..136])?;
    name.clear();
    let prefix = cstr(&hdr[345..500]);
    if &hdr[257..262] == b"ustar" && !prefix.is_empty() {
        name.extend_from_slice(prefix);
        name.push(b'/');
    }
    name.extend_from_slice(cstr(&hdr[..100]));
    Ok(Some((flag, size)))
}

pub(super) fn pad(size: u64) -> u64 {
    (512 - size % 512) % 512
}

/// One pass over the tar archive at `path`, writing the listed members into
/// `out` and stopping after the last one.
pub fn extract_archive(
    path: &Path,
    list: &MemberList,
    out: &mut OutDir,
    strip: Strip,
) -> anyhow::Result<Extracted> {
    let threaded = std::env::var_os("IFD_BATCH_EXTRACT_THREADS").is_none_or(|v| v != "1");
    let (_, reader) = open(path, threaded)?;
    let p = path.display();
    let mut tar = Tar { r: reader };
    let mut found = vec![false; list.len()];
    let mut remaining = list.len();
    let mut outcome = Extracted::default();
    let mut top: Option<Option<Vec<u8>>> = None;
    let end = tar
        .walk(|name, flag, size, data| {
            let is_dir = flag == b'5';
            let top_dir = top
                .get_or_insert_with(|| detect_top(name, is_dir))
                .as_deref();
            let (pos, key) = lookup(name, strip, top_dir, list);
            let Some(i) = pos else {
                if !key.is_empty() && !is_safe_name(key) {
                    outcome.unsafe_names += 1;
                }
                return Ok(true);
            };
            let member = &list.names()[i];
            if found[i] {
                bail!("member {member} appears twice in the archive");
            }
            found[i] = true;
            remaining -= 1;
            if matches!(flag, b'0' | 0 | b'7') {
                match out.write_member(member, data, size)? {
                    Ok(()) => outcome.written += 1,
                    Err(r) => outcome.refused.push((member.clone(), r)),
                }
            } else {
                outcome.refused.push((member.clone(), kind(flag).into()));
            }
            Ok(remaining > 0)
        })
        .with_context(|| format!("{p}"))?;
    if let End::Stopped = end {
        outcome.stopped_early = true;
        return Ok(outcome);
    }
    // The end-of-archive marker with members still missing: read to the end
    // of the stream so that the gzip trailer (CRC, length) is checked too.
    let mut rest = tar.r;
    let mut buf = vec![0u8; BUF];
    loop {
        match rest.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(e).with_context(|| format!("{p}: corrupt or truncated archive"));
            }
        }
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
