//! `ifd-batch extract`: correct on real-layout archives, safe on hostile ones.
//! Archives are made here, by hand, with the `tar` and `flate2` crates.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) const TOP: &str = "all-cabal-hashes-0123456789abcdef0123456789abcdef01234567";

/// A raw tar entry: name bytes written as-is (hostile names included).
pub(crate) struct E {
    name: Vec<u8>,
    flag: u8,
    data: Vec<u8>,
    link: Vec<u8>,
}

pub(crate) fn file(name: &str, data: &str) -> E {
    E {
        name: name.as_bytes().to_vec(),
        flag: b'0',
        data: data.as_bytes().to_vec(),
        link: vec![],
    }
}

pub(crate) fn dir(name: &str) -> E {
    E {
        name: name.as_bytes().to_vec(),
        flag: b'5',
        data: vec![],
        link: vec![],
    }
}

pub(crate) fn link(name: &str, flag: u8, target: &str) -> E {
    E {
        name: name.as_bytes().to_vec(),
        flag,
        data: vec![],
        link: target.as_bytes().to_vec(),
    }
}

pub(crate) fn tar_bytes(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_ustar();
        {
            let old = h.as_old_mut();
            old.name = [0; 100];
            old.name[..e.name.len()].copy_from_slice(&e.name);
            old.linkname = [0; 100];
            old.linkname[..e.link.len()].copy_from_slice(&e.link);
        }
        h.set_size(e.data.len() as u64);
        h.set_mode(if e.flag == b'5' { 0o755 } else { 0o644 });
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::new(e.flag));
        h.set_cksum();
        b.append(&h, e.data.as_slice()).unwrap();
    }
    b.into_inner().unwrap()
}

pub(crate) fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A GitHub-style archive: pax global header, top directory, then
/// `<name>/<version>/<name>.{cabal,json}` with directories first.
pub(crate) fn index_entries(packages: &[(&str, &str)]) -> Vec<E> {
    let mut v = vec![E {
        name: b"pax_global_header".to_vec(),
        flag: b'g',
        data: b"52 comment=0123456789abcdef0123456789abcdef01234567\n".to_vec(),
        link: vec![],
    }];
    v.push(dir(&format!("{TOP}/")));
    for (n, ver) in packages {
        v.push(dir(&format!("{TOP}/{n}/")));
        v.push(dir(&format!("{TOP}/{n}/{ver}/")));
        v.push(file(
            &format!("{TOP}/{n}/{ver}/{n}.cabal"),
            &format!("name: {n}\nversion: {ver}\n"),
        ));
        v.push(file(
            &format!("{TOP}/{n}/{ver}/{n}.json"),
            &format!("{{\"package-hashes\":{{\"SHA256\":\"{n}-{ver}\"}}}}\n"),
        ));
    }
    v
}

pub(crate) const PKGS: &[(&str, &str)] = &[
    ("aeson", "2.1.2.1"),
    ("base-orphans", "0.9.1"),
    ("lens", "5.2.3"),
    ("text", "2.0.2"),
    ("zlib", "0.6.3.0"),
];

pub(crate) struct T {
    dir: tempfile::TempDir,
}

impl T {
    pub(crate) fn new() -> T {
        T {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    pub(crate) fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    pub(crate) fn write(&self, p: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(p);
        std::fs::write(&path, bytes).unwrap();
        path
    }
    pub(crate) fn members(&self, names: &[&str]) -> PathBuf {
        let mut s = names.join("\n");
        s.push('\n');
        self.write("members", s.as_bytes())
    }
}

pub(crate) fn run(archive: &Path, members: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ifd-batch"))
        .arg("extract")
        .arg(archive)
        .arg("--members")
        .arg(members)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn files_under(root: &Path) -> Vec<String> {
    let mut v = Vec::new();
    fn go(root: &Path, d: &Path, v: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                go(root, &e.path(), v);
            } else {
                v.push(
                    e.path()
                        .strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    if root.exists() {
        go(root, root, &mut v);
    }
    v.sort();
    v
}

pub(crate) fn read(p: PathBuf) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn extracts_exactly_the_listed_members_of_a_github_archive() {
    let t = T::new();
    let a = t.write("index.tar.gz", &gz(&tar_bytes(&index_entries(PKGS))));
    let m = t.members(&[
        "zlib/0.6.3.0/zlib.json",
        "aeson/2.1.2.1/aeson.cabal",
        "lens/5.2.3/lens.json",
    ]);
    let out = t.path("out");
    let o = run(&a, &m, &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        files_under(&out),
        [
            "aeson/2.1.2.1/aeson.cabal",
            "lens/5.2.3/lens.json",
            "zlib/0.6.3.0/zlib.json"
        ]
    );
    assert_eq!(
        read(out.join("aeson/2.1.2.1/aeson.cabal")),
        "name: aeson\nversion: 2.1.2.1\n"
    );
    assert!(read(out.join("zlib/0.6.3.0/zlib.json")).contains("zlib-0.6.3.0"));
}

#[test]
fn plain_tar_multi_member_gzip_and_member_list_on_stdin() {
    let t = T::new();
    let raw = tar_bytes(&index_entries(PKGS));
    // A multi-member gzip stream (as the synthetic index generator writes).
    let (a, b) = raw.split_at(raw.len() / 2);
    let mut multi = gz(a);
    multi.extend(gz(b));
    for (name, bytes) in [("i.tar", raw.clone()), ("i.tar.gz", multi)] {
        let arc = t.write(name, &bytes);
        let out = t.path(&format!("out-{name}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_ifd-batch"))
            .args(["extract", "--members", "-", "--out"])
            .arg(&out)
            .arg(&arc)
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"zlib/0.6.3.0/zlib.cabal\ntext/2.0.2/text.json\n")
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        assert_eq!(
            files_under(&out),
            ["text/2.0.2/text.json", "zlib/0.6.3.0/zlib.cabal"]
        );
    }
}

#[test]
fn strip_auto_without_top_directory_and_strip_n() {
    let t = T::new();
    // No top directory, first entry a package directory.
    let flat = tar_bytes(&[
        dir("aeson/"),
        dir("aeson/1.0/"),
        file("aeson/1.0/aeson.cabal", "A"),
        file("text/2.0/text.cabal", "T"),
    ]);
    let a = t.write("flat.tar", &flat);
    let m = t.members(&["aeson/1.0/aeson.cabal", "text/2.0/text.cabal"]);
    let o = run(&a, &m, &t.path("o1"), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(read(t.path("o1/text/2.0/text.cabal")), "T");
    let o = run(&a, &m, &t.path("o2"), &["--strip", "0"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Two levels of top directories, stripped explicitly.
    let deep = tar_bytes(&[file("x/y/aeson/1.0/aeson.cabal", "A2")]);
    let a = t.write("deep.tar", &deep);
    let m = t.members(&["aeson/1.0/aeson.cabal"]);
    let o = run(&a, &m, &t.path("o3"), &["--strip", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(read(t.path("o3/aeson/1.0/aeson.cabal")), "A2");
    let o = run(&a, &m, &t.path("o4"), &["--strip", "nope"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn stops_reading_once_every_member_is_written() {
    let t = T::new();
    let mut raw = tar_bytes(&index_entries(PKGS));
    // Everything after the first packages is garbage: a pass that read on
    // would fail on it.
    let keep = 512 * 12;
    for b in &mut raw[keep..] {
        *b = 0x5a;
    }
    let a = t.write("i.tar.gz", &gz(&raw));
    let m = t.members(&["aeson/2.1.2.1/aeson.json", "aeson/2.1.2.1/aeson.cabal"]);
    let o = run(&a, &m, &t.path("o"), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(files_under(&t.path("o")).len(), 2);
    // A member further on is not reachable: clear error, non-zero.
    let m = t.members(&["zlib/0.6.3.0/zlib.json"]);
    let o = run(&a, &m, &t.path("o2"), &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("corrupt"), "{}", stderr(&o));
}

#[test]
fn missing_members_exit_3_or_go_to_the_missing_file() {
    let t = T::new();
    let a = t.write("i.tar.gz", &gz(&tar_bytes(&index_entries(PKGS))));
    let m = t.members(&[
        "aeson/2.1.2.1/aeson.cabal",
        "nope/1/nope.cabal",
        "lens/0/lens.json",
    ]);
    let o = run(&a, &m, &t.path("o"), &[]);
    assert_eq!(o.status.code(), Some(3));
    let e = stderr(&o);
    assert!(
        e.contains("nope/1/nope.cabal") && e.contains("lens/0/lens.json"),
        "{e}"
    );
    let missing = t.path("missing");
    let o = run(
        &a,
        &m,
        &t.path("o2"),
        &["--missing", missing.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        read(missing.clone()),
        "nope/1/nope.cabal\nlens/0/lens.json\n"
    );
    assert_eq!(files_under(&t.path("o2")), ["aeson/2.1.2.1/aeson.cabal"]);
    // Nothing missing: the file is written, empty.
    let m = t.members(&["aeson/2.1.2.1/aeson.cabal"]);
    let o = run(
        &a,
        &m,
        &t.path("o3"),
        &["--missing", missing.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(read(missing), "");
}

#[test]
fn unpacked_directory_gives_the_same_result() {
    let t = T::new();
    let a = t.write("i.tar.gz", &gz(&tar_bytes(&index_entries(PKGS))));
    let unpacked = t.path("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let st = Command::new("tar")
        .arg("-xzf")
        .arg(&a)
        .arg("-C")
        .arg(&unpacked)
        .arg("--strip-components=1")
        .status()
        .unwrap();
    assert!(st.success());
    let names = [
        "text/2.0.2/text.cabal",
        "base-orphans/0.9.1/base-orphans.json",
        "no/1/no.json",
    ];
    let m = t.members(&names);
    let (mf, md) = (t.path("mf"), t.path("md"));
    let o1 = run(
        &a,
        &m,
        &t.path("from-archive"),
        &["--missing", mf.to_str().unwrap()],
    );
    let o2 = run(
        &unpacked,
        &m,
        &t.path("from-dir"),
        &["--missing", md.to_str().unwrap()],
    );
    assert_eq!(o1.status.code(), Some(0), "{}", stderr(&o1));
    assert_eq!(o2.status.code(), Some(0), "{}", stderr(&o2));
    assert_eq!(read(mf), read(md));
    let (fa, fd) = (
        files_under(&t.path("from-archive")),
        files_under(&t.path("from-dir")),
    );
    assert_eq!(fa, fd);
    for f in fa {
        assert_eq!(
            read(t.path("from-archive").join(&f)),
            read(t.path("from-dir").join(&f))
        );
    }
}

#[test]
fn refuses_unsafe_names_in_the_member_list() {
    let t = T::new();
    let a = t.write("i.tar.gz", &gz(&tar_bytes(&index_entries(PKGS))));
    for bad in ["../escape", "/etc/passwd", "a/../../b", "a//b", "./a/b"] {
        let m = t.members(&[bad]);
        let o = run(&a, &m, &t.path("o"), &[]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(stderr(&o).contains("unsafe member name"), "{}", stderr(&o));
    }
}

#[test]
fn hostile_entry_names_are_never_written_outside() {
    let t = T::new();
    let raw = tar_bytes(&[
        dir(&format!("{TOP}/")),
        file(&format!("{TOP}/../escape"), "x"),
        file("/tmp-absolute-escape", "x"),
        file(&format!("{TOP}/a/../../escape2"), "x"),
        file(&format!("{TOP}/ok/1/ok.cabal"), "ok"),
    ]);
    let a = t.write("i.tar.gz", &gz(&raw));
    let m = t.members(&["ok/1/ok.cabal", "escape", "escape2"]);
    let out = t.path("deep/out");
    let o = run(
        &a,
        &m,
        &out,
        &["--missing", t.path("missing").to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("unsafe names"), "{}", stderr(&o));
    assert_eq!(files_under(&out), ["ok/1/ok.cabal"]);
    assert!(!t.path("deep/escape").exists() && !t.path("escape2").exists());
    assert!(!Path::new("/tmp-absolute-escape").exists());
    assert_eq!(read(t.path("missing")), "escape\nescape2\n");
}

#[test]
fn link_members_are_refused_not_followed() {
    let t = T::new();
    let outside = t.path("outside");
    std::fs::create_dir(&outside).unwrap();
    for flag in [b'2', b'1'] {
        let raw = tar_bytes(&[
            dir(&format!("{TOP}/")),
            link(
                &format!("{TOP}/evil/1/evil.cabal"),
                flag,
                outside.join("x").to_str().unwrap(),
            ),
            link(&format!("{TOP}/lnk"), flag, outside.to_str().unwrap()),
            file(&format!("{TOP}/lnk/1/lnk.cabal"), "through the link"),
        ]);
        let a = t.write("i.tar.gz", &gz(&raw));
        let m = t.members(&["evil/1/evil.cabal", "lnk/1/lnk.cabal"]);
        let out = t.path(&format!("out-{}", flag as char));
        let o = run(&a, &m, &out, &[]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains("refused evil/1/evil.cabal") && e.contains("link"),
            "{e}"
        );
        // The link entry itself was never created: `lnk` is a real directory.
        assert_eq!(files_under(&out), ["lnk/1/lnk.cabal"]);
        assert!(
            !std::fs::symlink_metadata(out.join("lnk"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(files_under(&outside).is_empty());
    }
}

#[test]
fn existing_symlinks_in_the_output_are_refused() {
    let t = T::new();
    let outside = t.path("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("victim"), "untouched").unwrap();
    let a = t.write("i.tar.gz", &gz(&tar_bytes(&index_entries(PKGS))));
    let out = t.path("out");
    std::fs::create_dir_all(out.join("lens/5.2.3")).unwrap();
    std::os::unix::fs::symlink(&outside, out.join("aeson")).unwrap();
    std::os::unix::fs::symlink(outside.join("victim"), out.join("lens/5.2.3/lens.json")).unwrap();
    let m = t.members(&[
        "aeson/2.1.2.1/aeson.cabal",
        "lens/5.2.3/lens.json",
        "text/2.0.2/text.json",
    ]);
    let o = run(&a, &m, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("refused aeson/2.1.2.1/aeson.cabal") && e.contains("symlink"),
        "{e}"
    );
    assert!(e.contains("refused lens/5.2.3/lens.json"), "{e}");
    assert_eq!(files_under(&outside), ["victim"]);
    assert_eq!(read(outside.join("victim")), "untouched");
    assert!(out.join("text/2.0.2/text.json").is_file());
}

#[test]
fn corrupt_truncated_and_non_archives_fail_clearly() {
    let t = T::new();
    let raw = tar_bytes(&index_entries(PKGS));
    let good = gz(&raw);
    let m = t.members(&["zlib/0.6.3.0/zlib.json", "absent/1/absent.json"]);
    let missing = t.path("missing");
    let mut cases: Vec<(&str, Vec<u8>, &str)> = Vec::new();
    let mut corrupt = good.clone();
    let mid = corrupt.len() / 2;
    for b in &mut corrupt[mid..mid + 16] {
        *b ^= 0xff;
    }
    cases.push(("corrupt.tar.gz", corrupt, "corrupt"));
    cases.push(("truncated.tar.gz", good[..good.len() * 2 / 3].to_vec(), ""));
    // Cut at an entry boundary: every header intact, no end marker.
    cases.push(("cut.tar", raw[..512 * 8].to_vec(), "truncated"));
    cases.push(("cut.tar.gz", gz(&raw[..512 * 8]), "truncated"));
    // Bad trailer: CRC of the gzip stream.
    let mut bad_crc = good.clone();
    let n = bad_crc.len();
    bad_crc[n - 8] ^= 0xff;
    cases.push(("crc.tar.gz", bad_crc, "corrupt"));
    cases.push((
        "text.tar.gz",
        b"hello, this is not an archive\n".repeat(40),
        "not a tar archive",
    ));
    cases.push((
        "gzipped-text.tar.gz",
        gz(&b"not a tar stream\n".repeat(100)),
        "",
    ));
    cases.push(("empty.tar.gz", vec![], "empty"));
    cases.push((
        "zstd.tar.zst",
        vec![0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0],
        "zstd",
    ));
    for (name, bytes, msg) in cases {
        let a = t.write(name, &bytes);
        let o = run(
            &a,
            &m,
            &t.path(&format!("o-{name}")),
            &["--missing", missing.to_str().unwrap()],
        );
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg), "{name}: {}", stderr(&o));
        assert!(!missing.exists(), "{name}: a missing list was written");
    }
    let o = run(&t.path("does-not-exist"), &m, &t.path("o"), &[]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn empty_and_duplicate_member_lists_and_duplicate_archive_members() {
    let t = T::new();
    let a = t.write("i.tar.gz", &gz(&tar_bytes(&index_entries(PKGS))));
    let m = t.write("members", b"\n\n");
    let o = run(&a, &m, &t.path("o"), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("empty"), "{}", stderr(&o));
    let m = t.members(&["aeson/2.1.2.1/aeson.cabal", "aeson/2.1.2.1/aeson.cabal"]);
    let o = run(&a, &m, &t.path("o"), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("duplicate"), "{}", stderr(&o));
    let dup = tar_bytes(&[
        file("t/a/1/a.cabal", "one"),
        file("t/a/1/a.cabal", "two"),
        file("t/b/1/b.cabal", "b"),
    ]);
    let a = t.write("dup.tar", &dup);
    let m = t.members(&["a/1/a.cabal", "b/1/b.cabal"]);
    let o = run(&a, &m, &t.path("o2"), &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("twice"), "{}", stderr(&o));
}

#[test]
fn write_failures_fail_the_run() {
    let t = T::new();
    let a = t.write("i.tar.gz", &gz(&tar_bytes(&index_entries(PKGS))));
    let m = t.members(&["aeson/2.1.2.1/aeson.cabal", "gone/1/gone.cabal"]);
    // The missing list cannot be written.
    let o = run(&a, &m, &t.path("o"), &["--missing", "/dev/full"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // The output is a file, not a directory.
    let f = t.write("plain-file", b"");
    let o = run(&a, &m, &f, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn full_disk_fails_the_run() {
    let t = T::new();
    let big = "x".repeat(300 * 1024);
    let raw = tar_bytes(&[
        file("t/big/1/big.cabal", &big),
        file("t/small/1/small.cabal", "s"),
    ]);
    let a = t.write("i.tar.gz", &gz(&raw));
    let m = t.members(&["small/1/small.cabal", "big/1/big.cabal"]);
    let out = t.path("tiny");
    std::fs::create_dir(&out).unwrap();
    // A 64 KiB tmpfs: needs root (or CAP_SYS_ADMIN).
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&out)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !mounted {
        eprintln!(
            "full_disk_fails_the_run: cannot mount a tmpfs here; covered by write_failures_fail_the_run only"
        );
        return;
    }
    let o = run(&a, &m, &out.join("o"), &[]);
    let _ = Command::new("umount").arg(&out).status();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("No space left"), "{}", stderr(&o));
}

#[test]
fn long_names_gnu_and_pax() {
    let t = T::new();
    let long = format!("{}/{}/1.0/{}.cabal", TOP, "p".repeat(90), "p".repeat(90));
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(4);
    h.set_mode(0o644);
    // GNU long name ('L' entry).
    b.append_data(&mut h, &long, &b"GNU!"[..]).unwrap();
    // pax 'x' entry with a path record, then a ustar header with a dummy name.
    let pax_name = format!("{}/{}/2.0/{}.json", TOP, "q".repeat(90), "q".repeat(90));
    b.append_pax_extensions([("path", pax_name.as_bytes())])
        .unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_path("dummy").unwrap();
    h.set_size(4);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, &b"PAX!"[..]).unwrap();
    let raw = b.into_inner().unwrap();
    let a = t.write("long.tar.gz", &gz(&raw));
    let want1 = long.split_once('/').unwrap().1.to_owned();
    let want2 = pax_name.split_once('/').unwrap().1.to_owned();
    let m = t.members(&[&want1, &want2]);
    let o = run(&a, &m, &t.path("o"), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(read(t.path("o").join(&want1)), "GNU!");
    assert_eq!(read(t.path("o").join(&want2)), "PAX!");
}
