//! `extract --index`: the listed members looked up in the index's table and
//! each read by inflating from the nearest access point before it, so the
//! cost is about one span of decompression per member (members close
//! together share one read), not a pass over the archive.
//!
//! Same names, strip rules, refusals and exit codes as the streaming pass
//! (`stream.rs`, whose lookup it shares). Before a member's data is written,
//! the 512 bytes before it must be a tar header with a valid checksum and the
//! type the index recorded: an index that does not fit the archive is an
//! error, never a wrong file.

use super::index::{Index, IndexError};
use super::members::is_safe_name;
use super::stream::{Container, Strip, detect_top, is_tar_header, kind, lookup};
use super::zran::{self, Flush, Inflater};
use super::{Extracted, MemberList, OutDir};
use anyhow::{Context, bail};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

const BUF: usize = 64 * 1024;

/// A wanted member found in the table.
struct Hit {
    member: usize,
    flag: u8,
    offset: u64,
    size: u64,
}

/// Reads the uncompressed stream at chosen offsets, resuming at access
/// points (gzip) or seeking (plain tar).
struct Cursor<'a> {
    index: &'a Index,
    file: File,
    inbuf: Vec<u8>,
    in_pos: usize,
    in_len: usize,
    eof: bool,
    inflater: Option<Inflater>,
    /// Uncompressed offset of the next byte `read` returns.
    pos: u64,
    /// Whether `pos` is valid (a stream is under way).
    active: bool,
    /// Resumed raw deflate (no trailer check) rather than a gzip member.
    raw: bool,
    /// Past the end of the last gzip member.
    finished: bool,
    discard: Vec<u8>,
}

fn truncated() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "archive truncated (the data ends before the member)",
    )
}

impl Cursor<'_> {
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
        self.in_pos = 0;
        self.in_len = n;
        self.eof = n == 0;
        Ok(())
    }

    fn seek_file(&mut self, to: u64) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(to))?;
        self.in_pos = 0;
        self.in_len = 0;
        self.eof = false;
        Ok(())
    }

    /// Position the stream at uncompressed offset `target`.
    fn seek(&mut self, target: u64) -> anyhow::Result<()> {
        if self.index.container == Container::Tar {
            self.seek_file(target)?;
            self.pos = target;
            self.active = true;
            return Ok(());
        }
        let i = self
            .index
            .point_before(target)
            .ok_or_else(|| IndexError::Corrupt("no access point before a member".into()))?;
        let p = &self.index.points[i];
        // Going on from where the last member ended is never worse than
        // restarting at an access point that is not after it.
        if !(self.active && p.out <= self.pos && self.pos <= target) {
            let window = self.index.window(i)?;
            let (bits, input, out) = (p.bits, p.input, p.out);
            self.seek_file(input - u64::from(bits > 0))?;
            let inflater = match &mut self.inflater {
                Some(inf) => {
                    inf.reset(zran::RAW)?;
                    inf
                }
                None => self.inflater.insert(Inflater::new(zran::RAW)?),
            };
            if bits > 0 {
                let mut byte = [0u8; 1];
                self.file.read_exact(&mut byte).map_err(|_| truncated())?;
                inflater.prime(bits, byte[0])?;
            }
            inflater.set_dictionary(&window)?;
            self.pos = out;
            self.active = true;
            self.raw = true;
            self.finished = false;
        }
        let mut discard = std::mem::take(&mut self.discard);
        while self.pos < target {
            let n = usize::try_from(target - self.pos)
                .unwrap_or(usize::MAX)
                .min(discard.len());
            if self.read(&mut discard[..n])? == 0 {
                self.discard = discard;
                return Err(truncated().into());
            }
        }
        self.discard = discard;
        Ok(())
    }

    /// Skip the 8-byte trailer of a gzip member that was inflated raw.
    fn skip_trailer(&mut self) -> io::Result<()> {
        let mut left = 8;
        while left > 0 {
            self.refill()?;
            if self.eof {
                return Err(truncated());
            }
            let n = left.min(self.in_len - self.in_pos);
            self.in_pos += n;
            left -= n;
        }
        Ok(())
    }
}

impl Read for Cursor<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            self.refill()?;
            let Some(inf) = &mut self.inflater else {
                // Plain tar: the file itself.
                let n = (self.in_len - self.in_pos).min(out.len());
                out[..n].copy_from_slice(&self.inbuf[self.in_pos..self.in_pos + n]);
                self.in_pos += n;
                self.pos += n as u64;
                return Ok(n);
            };
            if self.finished {
                return Ok(0);
            }
            let step = inf.inflate(&self.inbuf[self.in_pos..self.in_len], out, Flush::None)?;
            self.in_pos += step.consumed;
            self.pos += step.produced as u64;
            if step.end {
                if self.raw {
                    self.skip_trailer()?;
                }
                self.refill()?;
                if self.in_pos < self.in_len {
                    // The next gzip member: header and trailer checked.
                    if let Some(inf) = &mut self.inflater {
                        inf.reset(zran::GZIP)?;
                    }
                    self.raw = false;
                } else {
                    self.finished = true;
                }
            } else if step.consumed == 0 && step.produced == 0 && self.eof {
                return Err(truncated());
            }
            if step.produced > 0 {
                return Ok(step.produced);
            }
        }
    }
}

/// At most `left` bytes of the cursor: one member's data.
struct Data<'c, 'a> {
    cursor: &'c mut Cursor<'a>,
    left: u64,
}

impl Read for Data<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let n = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(out.len());
        let got = self.cursor.read(&mut out[..n])?;
        self.left -= got as u64;
        Ok(got)
    }
}

/// The wanted members' table entries, in archive order, and what the table
/// says of the rest (missing members, unsafe names).
fn find(index: &Index, list: &MemberList, strip: Strip) -> anyhow::Result<(Vec<Hit>, Extracted)> {
    let mut entries = index.entries();
    let mut top: Option<Option<Vec<u8>>> = None;
    let mut found = vec![false; list.len()];
    let mut hits = Vec::new();
    let mut outcome = Extracted::default();
    while let Some(e) = entries.next_entry()? {
        let top_dir = top
            .get_or_insert_with(|| detect_top(e.name, e.flag == b'5'))
            .as_deref();
        let (pos, key) = lookup(e.name, strip, top_dir, list);
        let Some(i) = pos else {
            if !key.is_empty() && !is_safe_name(key) {
                outcome.unsafe_names += 1;
            }
            continue;
        };
        if found[i] {
            bail!("member {} appears twice in the archive", list.names()[i]);
        }
        found[i] = true;
        hits.push(Hit {
            member: i,
            flag: e.flag,
            offset: e.offset,
            size: e.size,
        });
    }
    outcome.missing = list
        .names()
        .iter()
        .zip(&found)
        .filter(|(_, f)| !**f)
        .map(|(n, _)| n.clone())
        .collect();
    Ok((hits, outcome))
}

/// Extract the listed members of the archive at `path` with its `index`.
pub fn extract_indexed(
    path: &Path,
    index: &Index,
    list: &MemberList,
    out: &mut OutDir,
    strip: Strip,
) -> anyhow::Result<Extracted> {
    let p = path.display();
    let mut file = File::open(path).with_context(|| format!("{p}"))?;
    index
        .archive
        .check(&mut file)
        .with_context(|| format!("{p}"))?;
    let (hits, mut outcome) = find(index, list, strip).context("index")?;
    let mut cursor = Cursor {
        index,
        file,
        inbuf: vec![0; BUF],
        in_pos: 0,
        in_len: 0,
        eof: false,
        inflater: None,
        pos: 0,
        active: false,
        raw: false,
        finished: false,
        discard: vec![0; BUF],
    };
    for hit in hits {
        let member = &list.names()[hit.member];
        if !matches!(hit.flag, b'0' | 0 | b'7') {
            outcome
                .refused
                .push((member.clone(), kind(hit.flag).into()));
            continue;
        }
        let mismatch = || {
            format!(
                "{p}: the index does not match the archive at member {member} (no tar header before offset {}); rebuild the index",
                hit.offset
            )
        };
        let Some(header_at) = hit.offset.checked_sub(512) else {
            bail!("{}", mismatch());
        };
        cursor
            .seek(header_at)
            .with_context(|| format!("{p}: reading member {member}"))?;
        let mut header = [0u8; 512];
        cursor
            .read_exact(&mut header)
            .with_context(|| format!("{p}: reading member {member}"))?;
        if !is_tar_header(&header) || header[156] != hit.flag {
            bail!("{}", mismatch());
        }
        let mut data = Data {
            cursor: &mut cursor,
            left: hit.size,
        };
        match out
            .write_member(member, &mut data, hit.size)
            .with_context(|| format!("{p}"))?
        {
            Ok(()) => outcome.written += 1,
            Err(r) => outcome.refused.push((member.clone(), r)),
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::super::{index, parse_members};
    use super::*;
    use std::io::Write;

    /// Members of 3000 bytes each, so that an offset moved by whole blocks
    /// lands inside another member's data.
    fn archive(dir: &Path, gzip: bool) -> std::path::PathBuf {
        let mut b = tar::Builder::new(Vec::new());
        for i in 0..40 {
            let mut h = tar::Header::new_ustar();
            let data = format!("{i:03}").repeat(1000);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, format!("top/p{i}/1/p{i}.cabal"), data.as_bytes())
                .unwrap();
        }
        let raw = b.into_inner().unwrap();
        let path = dir.join(if gzip { "a.tar.gz" } else { "a.tar" });
        let bytes = if gzip {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&raw).unwrap();
            e.finish().unwrap()
        } else {
            raw
        };
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// An index that passes every format check but whose offsets, names or
    /// types are not the archive's: an error, never a wrong file.
    #[test]
    fn an_index_that_does_not_fit_never_writes_a_wrong_file() {
        let dir = tempfile::tempdir().unwrap();
        for gzip in [false, true] {
            let a = archive(dir.path(), gzip);
            let idx = index::build(&a, 1).unwrap();
            let list = parse_members("p7/1/p7.cabal\n").unwrap();
            let shifts: [(i64, u8); 4] = [(512, 0), (-512, 0), (1024, 0), (0, b'7')];
            for (shift, flag) in shifts {
                let bad = idx.map_entries(|e| {
                    let offset = if e.name.ends_with(b"p7.cabal") {
                        e.offset.wrapping_add_signed(shift)
                    } else {
                        e.offset
                    };
                    let flag = if flag != 0 && e.name.ends_with(b"p7.cabal") {
                        flag
                    } else {
                        e.flag
                    };
                    (e.name.to_vec(), flag, offset, e.size)
                });
                // Written and read back: the format checks pass.
                let bad = Index::from_bytes(&bad.to_bytes()).unwrap();
                let out = dir.path().join(format!("out-{gzip}-{shift}-{flag}"));
                let mut o = OutDir::create(&out).unwrap();
                let err = extract_indexed(&a, &bad, &list, &mut o, Strip::Auto).unwrap_err();
                assert!(format!("{err:#}").contains("does not match"), "{err:#}");
                assert!(!out.join("p7/1/p7.cabal").exists());
            }
            // And the right index gives the right bytes.
            let out = dir.path().join(format!("good-{gzip}"));
            let mut o = OutDir::create(&out).unwrap();
            let r = extract_indexed(&a, &idx, &list, &mut o, Strip::Auto).unwrap();
            assert_eq!(r.written, 1);
            assert_eq!(
                std::fs::read_to_string(out.join("p7/1/p7.cabal")).unwrap(),
                "007".repeat(1000)
            );
        }
    }
}
