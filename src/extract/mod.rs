//! `ifd-batch extract` and `ifd-batch index`: the listed members of an
//! all-cabal-hashes archive, through its seekable index (`index.rs` makes
//! it, `seek.rs` reads around each member, `zran.rs` holds the inflate
//! state control), or in one streaming pass (`stream.rs`) that stops as
//! soon as the last member has been written.
//!
//! - Input: `.tar.gz` (single- or multi-member gzip), plain `.tar`, or an
//!   unpacked directory (the listed files are copied). The format is read from
//!   the file's first bytes, not its name.
//! - Members are exact relative names (`aeson/2.1.2.1/aeson.cabal`), given
//!   without the archive's top directory; `--strip auto` (the default) detects
//!   that directory from the first entry (a leading `pax_global_header`, as in
//!   GitHub archives, is skipped); `--strip N` drops N components.
//! - Safety: nothing is ever written outside `--out`. Listed names that are
//!   absolute or contain `.`/`..`/empty components are refused up front; link
//!   and other non-regular members are refused, never followed; an existing
//!   symlink anywhere on a member's path under `--out` is refused. Errors of
//!   any kind (corrupt or truncated input, write failures, refused members)
//!   give a non-zero exit.
//!
//! - Speed: inflate is flate2's `zlib-rs` backend (about twice miniz_oxide's
//!   speed on the synthetic index); the tar walk parses headers in place in
//!   the inflate buffer and skips unwanted data without copying. With more
//!   than one CPU, inflate runs on its own thread, so a pass over the whole
//!   archive costs about what decompression alone costs
//!   (`IFD_BATCH_EXTRACT_THREADS=1`: one thread).
//! - Early stop means the gzip trailer (CRC) is not read when every member
//!   was found before the end; corruption is then caught by inflate and the
//!   tar header checksums only. When members are missing, the stream is read
//!   to its end and the trailer checked before anything is reported missing.
//!
//! - With `--index FILE` (made by `ifd-batch index`, see [`index`]), the
//!   members are looked up in the index's table and each is read by
//!   inflating from the nearest access point before it (`seek.rs`): same
//!   names, strip rules, safety and exit codes, no pass over the archive.
//!   Missing members are those not in the table.
//!
//! Exit codes: 0 all members written (or missing ones listed with
//! `--missing`), 1 error, 2 bad usage or member list, 3 members not found.

pub mod index;
mod members;
mod output;
mod pipe;
mod seek;
mod stream;
mod zran;

use std::io::Write;
use std::path::Path;

pub use index::{DEFAULT_SPAN, Index};
pub use members::{MemberList, parse_members};
pub use output::OutDir;
pub use stream::{Strip, decompress_only, extract_archive};

/// What one extraction found.
#[derive(Debug, Default)]
pub struct Extracted {
    /// Listed members written under the output directory.
    pub written: usize,
    /// Listed members not in the archive, in list order.
    pub missing: Vec<String>,
    /// Listed members present but refused (links, non-regular files,
    /// symlink collisions), with the reason.
    pub refused: Vec<(String, String)>,
    /// Unsafe archive names seen while streaming (never written).
    pub unsafe_names: usize,
    /// Whether the pass stopped before the end of the archive.
    pub stopped_early: bool,
}

pub(crate) fn read_member_list(path: &Path) -> anyhow::Result<MemberList> {
    use anyhow::Context;
    let text = if path == Path::new("-") {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut s)
            .context("reading the member list from standard input")?;
        s
    } else {
        std::fs::read(path).with_context(|| format!("{}", path.display()))?
    };
    let text = String::from_utf8(text)
        .map_err(|_| anyhow::anyhow!("{}: member list is not UTF-8", path.display()))?;
    parse_members(&text).with_context(|| format!("member list {}", path.display()))
}

/// Write member names, one a line (`--missing`, `--refused`).
pub(crate) fn write_names(path: &Path, names: &[String]) -> std::io::Result<()> {
    let mut text = String::new();
    for m in names {
        text.push_str(m);
        text.push('\n');
    }
    let mut f = std::fs::File::create(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// Extract the listed members of `archive` (a tar stream or a directory) into
/// `out`.
pub fn extract(
    archive: &Path,
    list: &MemberList,
    out: &Path,
    strip: Strip,
) -> anyhow::Result<Extracted> {
    use anyhow::Context;
    let meta = std::fs::metadata(archive).with_context(|| format!("{}", archive.display()))?;
    let mut dir = OutDir::create(out)?;
    if meta.is_dir() {
        output::copy_from_dir(archive, list, &mut dir)
    } else {
        extract_archive(archive, list, &mut dir, strip)
    }
}

/// Extract the listed members of the tar archive `archive` into `out`,
/// reading only around them with the index at `index` (see [`index`]).
pub fn extract_with_index(
    archive: &Path,
    index: &Path,
    list: &MemberList,
    out: &Path,
    strip: Strip,
) -> anyhow::Result<Extracted> {
    use anyhow::Context;
    let meta = std::fs::metadata(archive).with_context(|| format!("{}", archive.display()))?;
    if meta.is_dir() {
        anyhow::bail!(
            "{} is a directory: --index applies to a tar archive (a directory is read directly, without it)",
            archive.display()
        );
    }
    let index = Index::load(index)?;
    let mut dir = OutDir::create(out)?;
    seek::extract_indexed(archive, &index, list, &mut dir, strip)
}

/// Index the tar archive `archive` (one pass) and write the index to `out`;
/// returns the index.
pub fn index_archive(archive: &Path, out: &Path, span: u64) -> anyhow::Result<Index> {
    let index = index::build(archive, span)?;
    index.write(out)?;
    Ok(index)
}
