//! A seekable index of a tar(.gz) archive (`ifd-batch index`), so that
//! `extract --index` reads only around the wanted members instead of the
//! whole archive.
//!
//! # Design
//!
//! One pass over the archive (zlib's `examples/zran.c`, through
//! [`super::zran`]) records:
//!
//! - access points: every ~`span` bytes of uncompressed output, at a deflate
//!   block boundary, the compressed offset (byte, plus the unused bits of the
//!   previous byte) and the 32 KiB window that follows code needs; the first
//!   one is at the start of the stream. Decompression can be resumed at any
//!   of them with a raw inflate primed with those bits and that window;
//! - the member table: every tar entry as the streaming extractor sees it
//!   (read with its own tar reader, `stream.rs`: pax global headers skipped,
//!   pax `path`/`size` and GNU long names folded in): its name as in the
//!   archive, its tar type flag, the offset of its data in the uncompressed
//!   stream and its size;
//! - the archive's identity: its size, the CRC-32 of its first and last
//!   64 KiB, and its SHA-256 (computed in the same pass; recorded for
//!   people, not checked on every use, which would cost a pass).
//!
//! A plain `.tar` gets a table and no access points (its offsets are file
//! offsets). Multi-member gzip is read as one stream; a member's gzip header
//! is skipped on the way when a read crosses it.
//!
//! Measured on the realistic synthetic index (95 MiB gz, 878 MiB raw,
//! 540,365 entries; `benches/extract.sh --index-only`, 2 shared cores):
//!
//! | span | index | build | 1 member | 50 members spread |
//! |---|---|---|---|---|
//! | 1 MiB | 5.1 MiB | 1.66 s | 0.081 s | 0.119 s |
//! | 4 MiB (default) | 2.5 MiB | 1.45 s | 0.081 s | 0.185 s |
//! | 16 MiB | 1.8 MiB | 1.19 s | 0.066 s | 0.515 s |
//! | streaming, no index | – | – | 0.468 s | 0.790 s |
//!
//! One member costs about the same at every span: reading the 540,365-entry
//! table dominates (the inflate is half a span, 1–8 ms). 4 MiB keeps the
//! index at 2.6 % of the archive and 50 members at a quarter of a pass.
//!
//! The alternative, re-packing the archive into independently compressed
//! 1 MiB frames with an offset table, would read about as little per member
//! but stores a second copy of the archive (98.1 MiB, besides the fetched
//! 95.2 MiB, which its hash pins) instead of 2.5 MiB next to it.
//!
//! # File format (version 1)
//!
//! Little-endian; `varint` is unsigned LEB128.
//!
//! ```text
//! magic           16 bytes  "ifd-batch index\n"
//! version         u32       1
//! container       u8        0 tar, 1 gzip
//! span            u64       the span the index was built with
//! archive size    u64
//! head crc32      u32       of the archive's first min(64 KiB, size) bytes
//! tail crc32      u32       of its last min(64 KiB, size) bytes
//! sha256          32 bytes  of the whole archive
//! total out       u64       uncompressed size
//! points          u32       count, then per point:
//!   out u64, in u64, bits u8, window length u32, compressed length u32
//! windows                   the points' windows, raw deflate, in order
//! entries         u64       count
//! table length    u64       uncompressed, then compressed length u64,
//! table                     raw deflate of the entries, each:
//!   shared-prefix varint, suffix length varint, suffix, flag u8,
//!   offset delta varint (from the previous entry's offset), size varint
//! crc32           u32       of everything before it
//! ```
//!
//! The index is a pure function of the archive's bytes and the span (no
//! paths, no times): indexing twice gives identical files. Loading checks
//! the magic, the version, the checksum and every field's bounds; a wrong
//! index is a typed [`IndexError`], never a panic. Before a member's data is
//! used, the 512 bytes before it must be a tar header (valid checksum, the
//! recorded type), so an index that does not fit the archive cannot produce
//! a wrong file silently.

use super::stream::{Container, Tar, sniff};
use super::zran::{self, Flush, Inflater, WINDOW};
use anyhow::Context;
use sha2::Digest;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The index file format version this build writes and reads.
pub const VERSION: u32 = 1;
const MAGIC: &[u8; 16] = b"ifd-batch index\n";
/// Bytes checksummed at each end of the archive for the identity check.
const EDGE: u64 = 64 * 1024;
/// Input buffer of the indexing pass and of seeking reads.
const BUF: usize = 256 * 1024;
/// Longest member name accepted in a table (a pax path can be long, not this).
const MAX_NAME: usize = 1 << 20;

/// The default distance between access points, in uncompressed bytes:
/// chosen by `benches/extract.sh` (index size against the work per member).
pub const DEFAULT_SPAN: u64 = 4 << 20;

/// Why an index cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Not an ifd-batch index file at all.
    #[error("not an ifd-batch index (bad magic bytes)")]
    NotAnIndex,
    /// Written by another format version.
    #[error("index format version {0}, this ifd-batch reads version {VERSION}; rebuild it")]
    Version(u32),
    /// Damaged: checksum or a field out of bounds.
    #[error("corrupt index: {0}")]
    Corrupt(String),
    /// Made for another archive (or the archive changed since).
    #[error("the index was made for another archive ({0}); rebuild it")]
    OtherArchive(String),
}

fn corrupt(what: impl Into<String>) -> IndexError {
    IndexError::Corrupt(what.into())
}

/// What identifies the indexed archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveId {
    /// Size in bytes.
    pub size: u64,
    /// CRC-32 of the first min(64 KiB, size) bytes.
    pub head_crc: u32,
    /// CRC-32 of the last min(64 KiB, size) bytes.
    pub tail_crc: u32,
    /// SHA-256 of the whole archive (recorded, not checked on use).
    pub sha256: [u8; 32],
}

impl ArchiveId {
    /// Size and edge checksums of an open archive (reads 128 KiB at most).
    fn edges(file: &mut File) -> io::Result<(u64, u32, u32)> {
        let size = file.metadata()?.len();
        let n = EDGE.min(size);
        let mut buf = vec![0u8; n as usize];
        file.seek(SeekFrom::Start(0))?;
        file.read_exact(&mut buf)?;
        let head = crc32(&buf);
        file.seek(SeekFrom::Start(size - n))?;
        file.read_exact(&mut buf)?;
        let tail = crc32(&buf);
        file.seek(SeekFrom::Start(0))?;
        Ok((size, head, tail))
    }

    /// Whether `file` is the archive this identity describes (size and edge
    /// checksums); the error says what differs.
    pub fn check(&self, file: &mut File) -> anyhow::Result<()> {
        let (size, head, tail) = Self::edges(file).context("reading the archive")?;
        if size != self.size {
            return Err(IndexError::OtherArchive(format!(
                "it is {size} bytes, the indexed one {} bytes",
                self.size
            ))
            .into());
        }
        if head != self.head_crc || tail != self.tail_crc {
            return Err(IndexError::OtherArchive("same size, different content".into()).into());
        }
        Ok(())
    }

    /// The SHA-256 in hex.
    pub fn sha256_hex(&self) -> String {
        self.sha256.iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(bytes);
    c.sum()
}

/// An access point: where decompression can resume.
#[derive(Clone, Debug)]
pub struct Point {
    /// Offset in the uncompressed stream.
    pub out: u64,
    /// Offset in the compressed file of the first whole byte to read.
    pub input: u64,
    /// Unused bits of the byte before `input` that belong to the stream
    /// (0 to 7).
    pub bits: u8,
    window_len: u32,
    /// The window, raw deflate.
    window: Vec<u8>,
}

/// One member of the table, borrowed from the decoder.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    /// Name as in the archive.
    pub name: &'a [u8],
    /// Tar type flag (`b'0'` or `0` regular, `b'2'` symlink, `b'5'` directory, …).
    pub flag: u8,
    /// Offset of its data in the uncompressed stream.
    pub offset: u64,
    /// Size of its data.
    pub size: u64,
}

/// A loaded (or just built) index.
#[derive(Debug)]
pub struct Index {
    /// What the archive is.
    pub container: Container,
    /// Distance between access points it was built with.
    pub span: u64,
    /// The archive it describes.
    pub archive: ArchiveId,
    /// Uncompressed size.
    pub total_out: u64,
    /// Access points in stream order (empty for a plain tar).
    pub points: Vec<Point>,
    entries: u64,
    /// The encoded entries (uncompressed).
    table: Vec<u8>,
}

fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Encodes the member table as it is read.
#[derive(Default)]
struct TableWriter {
    buf: Vec<u8>,
    prev_name: Vec<u8>,
    prev_offset: u64,
    count: u64,
}

impl TableWriter {
    fn push(&mut self, name: &[u8], flag: u8, offset: u64, size: u64) {
        let shared = name
            .iter()
            .zip(&self.prev_name)
            .take_while(|(a, b)| a == b)
            .count();
        put_varint(&mut self.buf, shared as u64);
        put_varint(&mut self.buf, (name.len() - shared) as u64);
        self.buf.extend_from_slice(&name[shared..]);
        self.buf.push(flag);
        // The tar walk reads forward: offsets only grow.
        put_varint(&mut self.buf, offset.saturating_sub(self.prev_offset));
        put_varint(&mut self.buf, size);
        self.prev_name.clear();
        self.prev_name.extend_from_slice(name);
        self.prev_offset = offset;
        self.count += 1;
    }
}

/// Decodes the member table, checking every field.
pub struct Entries<'a> {
    rest: &'a [u8],
    name: Vec<u8>,
    offset: u64,
    left: u64,
    total_out: u64,
}

impl Entries<'_> {
    fn varint(&mut self) -> Result<u64, IndexError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self
                .rest
                .split_first()
                .ok_or_else(|| corrupt("member table truncated"))?;
            self.rest = rest;
            v |= u64::from(b & 0x7f)
                .checked_shl(shift)
                .filter(|x| x >> shift == u64::from(b & 0x7f))
                .ok_or_else(|| corrupt("number too large in the member table"))?;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt("number too large in the member table"))
    }

    /// The next entry, `None` after the last one.
    pub fn next_entry(&mut self) -> Result<Option<Entry<'_>>, IndexError> {
        if self.left == 0 {
            if !self.rest.is_empty() {
                return Err(corrupt("bytes after the last member"));
            }
            return Ok(None);
        }
        self.left -= 1;
        let shared = self.varint()?;
        let suffix = self.varint()?;
        let shared = usize::try_from(shared)
            .ok()
            .filter(|&s| s <= self.name.len())
            .ok_or_else(|| corrupt("bad name prefix in the member table"))?;
        let suffix = usize::try_from(suffix)
            .ok()
            .filter(|&s| s <= self.rest.len() && shared + s <= MAX_NAME)
            .ok_or_else(|| corrupt("bad name length in the member table"))?;
        self.name.truncate(shared);
        self.name.extend_from_slice(&self.rest[..suffix]);
        self.rest = &self.rest[suffix..];
        let (&flag, rest) = self
            .rest
            .split_first()
            .ok_or_else(|| corrupt("member table truncated"))?;
        self.rest = rest;
        let delta = self.varint()?;
        let size = self.varint()?;
        let offset = self
            .offset
            .checked_add(delta)
            .filter(|o| o.checked_add(size).is_some_and(|end| end <= self.total_out))
            .ok_or_else(|| corrupt("a member lies beyond the end of the archive"))?;
        self.offset = offset;
        Ok(Some(Entry {
            name: &self.name,
            flag,
            offset,
            size,
        }))
    }
}

/// Bounds-checked little-endian reads of the index file.
struct Cur<'a> {
    b: &'a [u8],
}

impl<'a> Cur<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], IndexError> {
        if n > self.b.len() {
            return Err(corrupt("index truncated"));
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], IndexError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, IndexError> {
        Ok(self.array::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32, IndexError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, IndexError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn len(&mut self) -> Result<usize, IndexError> {
        usize::try_from(self.u64()?).map_err(|_| corrupt("length out of range"))
    }
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    // Writing to a Vec cannot fail.
    let _ = e.write_all(bytes);
    e.finish().unwrap_or_default()
}

/// Inflate `comp` (raw deflate), which must give exactly `len` bytes.
fn inflate_exact(comp: &[u8], len: usize, what: &str) -> Result<Vec<u8>, IndexError> {
    let mut out = Vec::new();
    let mut d = flate2::read::DeflateDecoder::new(comp);
    // Grows with what inflate gives (bounded by the file), not with `len`.
    (&mut d)
        .take(len as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| corrupt(format!("{what}: {e}")))?;
    if out.len() != len {
        return Err(corrupt(format!("{what}: wrong length")));
    }
    Ok(out)
}

impl Index {
    /// The member table, in archive order.
    pub fn entries(&self) -> Entries<'_> {
        Entries {
            rest: &self.table,
            name: Vec::new(),
            offset: 0,
            left: self.entries,
            total_out: self.total_out,
        }
    }

    /// Number of members in the table.
    pub fn len(&self) -> u64 {
        self.entries
    }

    /// The window of access point `i` (at most 32 KiB).
    pub fn window(&self, i: usize) -> Result<Vec<u8>, IndexError> {
        let p = self
            .points
            .get(i)
            .ok_or_else(|| corrupt("no such access point"))?;
        inflate_exact(&p.window, p.window_len as usize, "access point window")
    }

    /// The index of the last access point at or before uncompressed offset
    /// `out`.
    pub fn point_before(&self, out: u64) -> Option<usize> {
        self.points.partition_point(|p| p.out <= out).checked_sub(1)
    }

    /// The index file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&VERSION.to_le_bytes());
        b.push(match self.container {
            Container::Tar => 0,
            Container::Gzip => 1,
        });
        b.extend_from_slice(&self.span.to_le_bytes());
        b.extend_from_slice(&self.archive.size.to_le_bytes());
        b.extend_from_slice(&self.archive.head_crc.to_le_bytes());
        b.extend_from_slice(&self.archive.tail_crc.to_le_bytes());
        b.extend_from_slice(&self.archive.sha256);
        b.extend_from_slice(&self.total_out.to_le_bytes());
        b.extend_from_slice(&(self.points.len() as u32).to_le_bytes());
        for p in &self.points {
            b.extend_from_slice(&p.out.to_le_bytes());
            b.extend_from_slice(&p.input.to_le_bytes());
            b.push(p.bits);
            b.extend_from_slice(&p.window_len.to_le_bytes());
            b.extend_from_slice(&(p.window.len() as u32).to_le_bytes());
        }
        for p in &self.points {
            b.extend_from_slice(&p.window);
        }
        b.extend_from_slice(&self.entries.to_le_bytes());
        let table = deflate(&self.table);
        b.extend_from_slice(&(self.table.len() as u64).to_le_bytes());
        b.extend_from_slice(&(table.len() as u64).to_le_bytes());
        b.extend_from_slice(&table);
        let crc = crc32(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    /// Parse and check an index file's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Index, IndexError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(IndexError::NotAnIndex);
        }
        let mut c = Cur {
            b: &bytes[MAGIC.len()..],
        };
        let version = c.u32()?;
        if version != VERSION {
            return Err(IndexError::Version(version));
        }
        let Some(body_len) = bytes.len().checked_sub(4) else {
            return Err(corrupt("index truncated"));
        };
        let (body, stored) = bytes.split_at(body_len);
        if body.len() < MAGIC.len() + 4
            || crc32(body).to_le_bytes() != [stored[0], stored[1], stored[2], stored[3]]
        {
            return Err(corrupt("checksum mismatch (damaged or truncated file)"));
        }
        c.b = &body[MAGIC.len() + 4..];
        let container = match c.u8()? {
            0 => Container::Tar,
            1 => Container::Gzip,
            other => return Err(corrupt(format!("unknown container {other}"))),
        };
        let span = c.u64()?;
        let size = c.u64()?;
        let head_crc = c.u32()?;
        let tail_crc = c.u32()?;
        let sha256 = c.array::<32>()?;
        let total_out = c.u64()?;
        let npoints = c.u32()? as usize;
        if npoints > c.b.len() / 25 {
            return Err(corrupt("too many access points for the file's size"));
        }
        let mut points: Vec<Point> = Vec::with_capacity(npoints);
        let mut clens = Vec::with_capacity(npoints);
        for _ in 0..npoints {
            let out = c.u64()?;
            let input = c.u64()?;
            let bits = c.u8()?;
            let window_len = c.u32()?;
            let clen = c.u32()? as usize;
            let ordered = points
                .last()
                .is_none_or(|q| q.out < out && q.input <= input);
            if !ordered
                || out > total_out
                || input > size
                || bits > 7
                || (bits > 0 && input == 0)
                || window_len as usize > WINDOW
                || (points.is_empty() && out != 0)
            {
                return Err(corrupt("access point out of bounds"));
            }
            points.push(Point {
                out,
                input,
                bits,
                window_len,
                window: Vec::new(),
            });
            clens.push(clen);
        }
        for (p, clen) in points.iter_mut().zip(clens) {
            p.window = c.bytes(clen)?.to_vec();
        }
        if container == Container::Gzip && points.is_empty() {
            return Err(corrupt("a gzip archive without access points"));
        }
        if container == Container::Tar && (!points.is_empty() || total_out != size) {
            return Err(corrupt("a plain tar with access points or a wrong size"));
        }
        let entries = c.u64()?;
        let table_len = c.len()?;
        let table_clen = c.len()?;
        // Each entry takes at least its header in the stream, more than its
        // encoding: a bound that keeps a crafted length from exhausting memory.
        if table_len as u64 > total_out.saturating_add(1 << 20) {
            return Err(corrupt("member table larger than the archive"));
        }
        let table = inflate_exact(c.bytes(table_clen)?, table_len, "member table")?;
        if !c.b.is_empty() {
            return Err(corrupt("bytes after the member table"));
        }
        if entries > table.len() as u64 {
            return Err(corrupt("more members than the table can hold"));
        }
        Ok(Index {
            container,
            span,
            archive: ArchiveId {
                size,
                head_crc,
                tail_crc,
                sha256,
            },
            total_out,
            points,
            entries,
            table,
        })
    }

    /// Read and check the index file at `path`.
    pub fn load(path: &Path) -> anyhow::Result<Index> {
        let p = path.display();
        let mut f = File::open(path).with_context(|| format!("{p}"))?;
        // The magic first: a large file that is no index is not read whole.
        let mut head = Vec::with_capacity(MAGIC.len());
        (&mut f)
            .take(MAGIC.len() as u64)
            .read_to_end(&mut head)
            .with_context(|| format!("reading {p}"))?;
        if head != MAGIC {
            return Err(IndexError::NotAnIndex).with_context(|| format!("index {p}"));
        }
        let mut bytes = head;
        f.read_to_end(&mut bytes)
            .with_context(|| format!("reading {p}"))?;
        Index::from_bytes(&bytes).with_context(|| format!("index {p}"))
    }

    /// Write the index to `path` (temporary file, then rename).
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
        // A data file like any other (tempfile creates it 0600).
        let perms = std::os::unix::fs::PermissionsExt::from_mode(0o644);
        tmp.write_all(&self.to_bytes())
            .and_then(|()| tmp.as_file().set_permissions(perms))
            .and_then(|()| tmp.as_file().sync_all())
            .with_context(|| format!("writing {}", path.display()))?;
        tmp.persist(path)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }
}

/// The uncompressed stream of the indexing pass: reads the archive once,
/// hashing it, and (for gzip) records access points while inflating.
struct Source {
    file: File,
    inbuf: Vec<u8>,
    in_pos: usize,
    in_len: usize,
    eof: bool,
    /// Bytes read from the file so far.
    read_total: u64,
    hasher: sha2::Sha256,
    total_out: u64,
    gzip: Option<Gzip>,
}

/// Inflate state of the indexing pass.
struct Gzip {
    inflater: Inflater,
    span: u64,
    points: Vec<Point>,
    window: Box<[u8; WINDOW]>,
    finished: bool,
}

impl Source {
    fn refill(&mut self) -> io::Result<()> {
        if self.in_pos < self.in_len || self.eof {
            return Ok(());
        }
        let n = loop {
            match self.file.read(&mut self.inbuf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        self.hasher.update(&self.inbuf[..n]);
        self.read_total += n as u64;
        self.in_pos = 0;
        self.in_len = n;
        self.eof = n == 0;
        Ok(())
    }
}

impl Read for Source {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            self.refill()?;
            let Some(gz) = &mut self.gzip else {
                let n = (self.in_len - self.in_pos).min(out.len());
                out[..n].copy_from_slice(&self.inbuf[self.in_pos..self.in_pos + n]);
                self.in_pos += n;
                self.total_out += n as u64;
                return Ok(n);
            };
            if gz.finished {
                return Ok(0);
            }
            let step =
                gz.inflater
                    .inflate(&self.inbuf[self.in_pos..self.in_len], out, Flush::Block)?;
            self.in_pos += step.consumed;
            self.total_out += step.produced as u64;
            if step.end {
                // The end of a gzip member (trailer checked): another may follow.
                self.refill()?;
                let more = self.in_pos < self.in_len;
                if let Some(gz) = &mut self.gzip {
                    if more {
                        gz.inflater.reset(zran::GZIP)?;
                    } else {
                        gz.finished = true;
                    }
                }
            } else if step.at_boundary()
                && gz
                    .points
                    .last()
                    .is_none_or(|p| self.total_out - p.out >= gz.span)
            {
                let n = gz.inflater.dictionary(&mut gz.window);
                let window = deflate(&gz.window[..n]);
                gz.points.push(Point {
                    out: self.total_out,
                    input: self.read_total - (self.in_len - self.in_pos) as u64,
                    bits: step.bits(),
                    window_len: n as u32,
                    window,
                });
            } else if step.consumed == 0 && step.produced == 0 && self.eof {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "truncated archive (the gzip stream ends early)",
                ));
            }
            if step.produced > 0 {
                return Ok(step.produced);
            }
        }
    }
}

/// A buffered reader that counts the bytes consumed through it.
struct Counted<R> {
    r: R,
    pos: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.r.read(out)?;
        self.pos.set(self.pos.get() + n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.r.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.r.consume(n);
        self.pos.set(self.pos.get() + n as u64);
    }
}

/// Index the archive at `path` in one pass, with an access point every
/// `span` uncompressed bytes (gzip only).
pub fn build(path: &Path, span: u64) -> anyhow::Result<Index> {
    let p = path.display();
    let mut file = File::open(path).with_context(|| format!("{p}"))?;
    let mut head = [0u8; 512];
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e).with_context(|| format!("reading {p}")),
        }
    }
    let container = sniff(&head[..got], &p)?;
    let (size, head_crc, tail_crc) =
        ArchiveId::edges(&mut file).with_context(|| format!("reading {p}"))?;
    let gzip = match container {
        Container::Gzip => Some(Gzip {
            inflater: Inflater::new(zran::GZIP)?,
            span: span.max(1),
            points: Vec::new(),
            window: Box::new([0u8; WINDOW]),
            finished: false,
        }),
        Container::Tar => None,
    };
    let mut src = Source {
        file,
        inbuf: vec![0; BUF],
        in_pos: 0,
        in_len: 0,
        eof: false,
        read_total: 0,
        hasher: sha2::Sha256::new(),
        total_out: 0,
        gzip,
    };
    let mut table = TableWriter::default();
    {
        // The streaming extractor's own reader, so that the table holds
        // exactly the entries it sees; the offset of an entry's data is what
        // has been consumed when its header is read.
        let pos = std::rc::Rc::new(std::cell::Cell::new(0u64));
        let mut tar = Tar {
            r: Counted {
                r: BufReader::with_capacity(BUF, &mut src),
                pos: pos.clone(),
            },
        };
        tar.walk(|name, flag, size, _| {
            table.push(name, flag, pos.get(), size);
            Ok(true)
        })
        .with_context(|| format!("{p}"))?;
        // Read to the end, so that every gzip trailer (CRC, length) is checked.
        io::copy(&mut tar.r, &mut io::sink())
            .with_context(|| format!("{p}: corrupt or truncated archive"))?;
    }
    if src.read_total != size {
        anyhow::bail!("{p}: the archive changed while it was indexed");
    }
    Ok(Index {
        container,
        span,
        archive: ArchiveId {
            size,
            head_crc,
            tail_crc,
            sha256: src.hasher.finalize().into(),
        },
        total_out: src.total_out,
        points: src.gzip.map(|g| g.points).unwrap_or_default(),
        entries: table.count,
        table: table.buf,
    })
}

#[cfg(test)]
impl Index {
    /// A copy whose member table is rewritten by `f` (tests of indexes that
    /// pass every format check yet do not fit the archive).
    pub(super) fn map_entries(&self, f: impl Fn(Entry<'_>) -> (Vec<u8>, u8, u64, u64)) -> Index {
        let mut t = TableWriter::default();
        let mut e = self.entries();
        while let Some(x) = e.next_entry().unwrap() {
            let (name, flag, offset, size) = f(x);
            t.push(&name, flag, offset, size);
        }
        Index {
            container: self.container,
            span: self.span,
            archive: self.archive.clone(),
            total_out: self.total_out,
            points: self.points.clone(),
            entries: t.count,
            table: t.buf,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read everything an extraction could read from an index.
    fn read_all(bytes: &[u8]) -> Result<(), IndexError> {
        let idx = Index::from_bytes(bytes)?;
        let mut e = idx.entries();
        while e.next_entry()?.is_some() {}
        for i in 0..idx.points.len() {
            idx.window(i)?;
        }
        Ok(())
    }

    fn with_crc(mut b: Vec<u8>) -> Vec<u8> {
        let n = b.len() - 4;
        let crc = crc32(&b[..n]);
        b[n..].copy_from_slice(&crc.to_le_bytes());
        b
    }

    fn sample_index() -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let mut b = tar::Builder::new(Vec::new());
        for i in 0..30 {
            let mut h = tar::Header::new_ustar();
            let data = format!("{i:04} some text\n").repeat(300);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, format!("top/p{i}/1/p{i}.cabal"), data.as_bytes())
                .unwrap();
        }
        let raw = b.into_inner().unwrap();
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&raw).unwrap();
        let a = dir.path().join("a.tar.gz");
        std::fs::write(&a, e.finish().unwrap()).unwrap();
        build(&a, 1).unwrap().to_bytes()
    }

    proptest::proptest! {
        /// Damage that keeps the checksum valid (a crafted file) still gives
        /// an error or a checked index, never a panic.
        #[test]
        fn crafted_indexes_never_panic(
            edits in proptest::collection::vec((0usize..1 << 16, 0u8..=255), 1..8),
            cut in 0usize..1 << 16,
        ) {
            let good = sample_index();
            let mut b = good.clone();
            for (at, v) in edits {
                let n = b.len() - 4;
                b[at % n] = v;
            }
            let _ = read_all(&with_crc(b.clone()));
            let keep = 4 + cut % (b.len() - 4);
            let _ = read_all(&with_crc(b[..keep].to_vec()));
        }
    }

    proptest::proptest! {
        /// A crafted member table (valid deflate, valid checksum): the entry
        /// decoder errors or yields entries within the archive, never panics.
        #[test]
        fn crafted_tables_never_panic(
            edits in proptest::collection::vec((0usize..1 << 12, 0u8..=255), 1..8),
            extra in 0u64..3,
        ) {
            let good = Index::from_bytes(&sample_index()).unwrap();
            let mut table = good.table.clone();
            for (at, v) in edits {
                let n = table.len();
                table[at % n] = v;
            }
            let idx = Index { table, entries: good.entries + extra - 1, ..good };
            if let Ok(back) = Index::from_bytes(&idx.to_bytes()) {
                let mut e = back.entries();
                while let Ok(Some(x)) = e.next_entry() {
                    proptest::prop_assert!(x.offset + x.size <= back.total_out);
                }
            }
        }
    }

    #[test]
    fn sample_index_reads_back() {
        assert!(read_all(&sample_index()).is_ok());
    }

    #[test]
    fn varints_and_entries_round_trip() {
        let mut t = TableWriter::default();
        t.push(b"top/", b'5', 512, 0);
        t.push(b"top/a/1/a.cabal", b'0', 1536, 300);
        t.push(b"top/a/1/a.json", b'0', 2560, u64::from(u32::MAX) + 7);
        let idx = Index {
            container: Container::Tar,
            span: 1,
            archive: ArchiveId {
                size: 1 << 40,
                head_crc: 1,
                tail_crc: 2,
                sha256: [3; 32],
            },
            total_out: 1 << 40,
            points: vec![],
            entries: t.count,
            table: t.buf,
        };
        let back = Index::from_bytes(&idx.to_bytes()).unwrap();
        let mut e = back.entries();
        let mut got = vec![];
        while let Some(x) = e.next_entry().unwrap() {
            got.push((x.name.to_vec(), x.flag, x.offset, x.size));
        }
        assert_eq!(got.len(), 3);
        assert_eq!(got[1], (b"top/a/1/a.cabal".to_vec(), b'0', 1536, 300));
        assert_eq!(got[2].3, u64::from(u32::MAX) + 7);
    }
}
