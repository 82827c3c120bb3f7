//! Writing members under the output directory, never outside it.

use super::{Extracted, MemberList};
use anyhow::Context;
use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Why a member was not written although it exists (reported, exit 1).
pub type Refusal = String;

/// The output directory, with the subdirectories already made or checked.
pub struct OutDir {
    root: PathBuf,
    /// Relative directories known to be real directories (not symlinks).
    dirs: HashSet<String>,
    buf: Vec<u8>,
}

impl OutDir {
    /// Create (if needed) and open the output directory.
    pub fn create(root: &Path) -> anyhow::Result<OutDir> {
        fs::create_dir_all(root)
            .with_context(|| format!("creating output directory {}", root.display()))?;
        Ok(OutDir {
            root: root.to_owned(),
            dirs: HashSet::new(),
            buf: vec![0; 64 * 1024],
        })
    }

    /// Make the parent directories of the safe relative `name`, refusing
    /// any existing symlink or non-directory on the way.
    fn make_parents(&mut self, name: &str) -> anyhow::Result<Result<(), Refusal>> {
        for (pos, _) in name.match_indices('/') {
            let rel = &name[..pos];
            if self.dirs.contains(rel) {
                continue;
            }
            let path = self.root.join(rel);
            match fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Ok(Err(format!("`{rel}` is an existing symlink in the output")));
                }
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Ok(Err(format!(
                        "`{rel}` exists in the output and is not a directory"
                    )));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&path) {
                    Ok(()) => {}
                    Err(e) => {
                        return Err(e).with_context(|| format!("creating {}", path.display()));
                    }
                },
                Err(e) => return Err(e).with_context(|| format!("{}", path.display())),
            }
            self.dirs.insert(rel.to_owned());
        }
        Ok(Ok(()))
    }

    /// Create the file for `name`, replacing an existing regular file (as tar
    /// does) but never following or replacing a symlink.
    fn create_file(&mut self, name: &str) -> anyhow::Result<Result<File, Refusal>> {
        if let Err(r) = self.make_parents(name)? {
            return Ok(Err(r));
        }
        let path = self.root.join(name);
        let open = || OpenOptions::new().write(true).create_new(true).open(&path);
        match open() {
            Ok(f) => Ok(Ok(f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let m =
                    fs::symlink_metadata(&path).with_context(|| format!("{}", path.display()))?;
                if m.file_type().is_symlink() {
                    return Ok(Err("an existing symlink in the output has its name".into()));
                }
                if !m.is_file() {
                    return Ok(Err("exists in the output and is not a regular file".into()));
                }
                fs::remove_file(&path).with_context(|| format!("replacing {}", path.display()))?;
                open()
                    .map(Ok)
                    .with_context(|| format!("creating {}", path.display()))
            }
            Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }

    /// Write member `name` (a safe relative name) with exactly `size` bytes
    /// read from `data`.
    pub fn write_member(
        &mut self,
        name: &str,
        data: &mut dyn Read,
        size: u64,
    ) -> anyhow::Result<Result<(), Refusal>> {
        let mut file = match self.create_file(name)? {
            Ok(f) => f,
            Err(r) => return Ok(Err(r)),
        };
        let mut written = 0u64;
        loop {
            let n = match data.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).with_context(|| format!("reading member {name}")),
            };
            file.write_all(&self.buf[..n])
                .with_context(|| format!("writing {}", self.root.join(name).display()))?;
            written += n as u64;
        }
        if written != size {
            anyhow::bail!("member {name}: archive truncated ({written} of {size} bytes)");
        }
        Ok(Ok(()))
    }
}

/// Copy the listed members from an unpacked index directory.
pub fn copy_from_dir(src: &Path, list: &MemberList, out: &mut OutDir) -> anyhow::Result<Extracted> {
    let mut outcome = Extracted::default();
    // Relative source directories checked to be real directories.
    let mut real_dirs: HashSet<String> = HashSet::new();
    'members: for name in list.names() {
        for (pos, _) in name.match_indices('/') {
            let rel = &name[..pos];
            if real_dirs.contains(rel) {
                continue;
            }
            match fs::symlink_metadata(src.join(rel)) {
                Ok(m) if m.file_type().is_symlink() => {
                    outcome
                        .refused
                        .push((name.clone(), format!("`{rel}` is a symlink in the index")));
                    continue 'members;
                }
                Ok(m) if m.is_dir() => {
                    real_dirs.insert(rel.to_owned());
                }
                Ok(_) => {
                    outcome.missing.push(name.clone());
                    continue 'members;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    outcome.missing.push(name.clone());
                    continue 'members;
                }
                Err(e) => return Err(e).with_context(|| format!("{}", src.join(rel).display())),
            }
        }
        let path = src.join(name);
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                outcome.missing.push(name.clone());
                continue;
            }
            Err(e) => return Err(e).with_context(|| format!("{}", path.display())),
        };
        if meta.file_type().is_symlink() {
            outcome.refused.push((
                name.clone(),
                "a symlink in the index (links are not followed)".into(),
            ));
            continue;
        }
        if !meta.is_file() {
            outcome
                .refused
                .push((name.clone(), "not a regular file in the index".into()));
            continue;
        }
        let mut f = File::open(&path).with_context(|| format!("{}", path.display()))?;
        match out.write_member(name, &mut f, meta.len())? {
            Ok(()) => outcome.written += 1,
            Err(r) => outcome.refused.push((name.clone(), r)),
        }
    }
    Ok(outcome)
}
