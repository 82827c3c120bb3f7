//! `ifd-batch index` and `extract --index`: the same files as the streaming
//! extract and GNU tar, on the generator's real layout (multi-member gzip),
//! at spans small enough that members straddle access points; a damaged,
//! foreign or stale index is an error (exit 1), never a panic or a wrong file.

use super::extract::{
    PKGS, T, TOP, dir, file, files_under, gz, index_entries, link, read, run, stderr, tar_bytes,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

// Also loaded by `world` (privately there); the test world's generator.
#[path = "../../xtask/src/synth_index.rs"]
#[allow(dead_code, clippy::duplicate_mod)]
mod synth;

/// `ifd-batch index ARCHIVE --out OUT [--span SPAN]`.
fn index(archive: &Path, out: &Path, span: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ifd-batch"));
    c.arg("index").arg(archive).arg("--out").arg(out);
    if let Some(s) = span {
        c.args(["--span", s]);
    }
    c.output().unwrap()
}

fn index_ok(archive: &Path, out: &Path, span: Option<&str>) {
    let o = index(archive, out, span);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Every file under `root` with its bytes.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(root)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(root.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

/// The generator's archive (top directory, pax global header, one gzip
/// member per 256 packages) and its file names without the top directory.
fn synth_archive(t: &T, packages: usize) -> (PathBuf, Vec<String>) {
    let spec = synth::Spec {
        packages,
        versions: 3,
        seed: 11,
        include: vec![],
    };
    let a = t.path("synth.tar.gz");
    synth::write_archive(&synth::generate(&spec), spec.seed, &a).unwrap();
    let list = Command::new("tar").arg("-tzf").arg(&a).output().unwrap();
    assert!(list.status.success());
    let names = String::from_utf8(list.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.ends_with('/'))
        .map(|l| l.split_once('/').unwrap().1.to_owned())
        .collect();
    (a, names)
}

/// Extract `names` with the index and by streaming (and, when none is
/// missing, with GNU tar); all must agree, file for file.
fn agree(t: &T, archive: &Path, idx: &Path, names: &[&str], case: &str) {
    let m = t.members(names);
    let (oi, os) = (t.path(&format!("i-{case}")), t.path(&format!("s-{case}")));
    let (mi, ms) = (t.path(&format!("mi-{case}")), t.path(&format!("ms-{case}")));
    let with_index = run(
        archive,
        &m,
        &oi,
        &[
            "--index",
            idx.to_str().unwrap(),
            "--missing",
            mi.to_str().unwrap(),
        ],
    );
    assert_eq!(
        with_index.status.code(),
        Some(0),
        "{case}: {}",
        stderr(&with_index)
    );
    let streamed = run(archive, &m, &os, &["--missing", ms.to_str().unwrap()]);
    assert_eq!(
        streamed.status.code(),
        Some(0),
        "{case}: {}",
        stderr(&streamed)
    );
    assert_eq!(read(mi.clone()), read(ms), "{case}: missing lists differ");
    let got = tree(&oi);
    assert_eq!(got, tree(&os), "{case}: index and streaming differ");
    if read(mi).is_empty() {
        let top = {
            let l = Command::new("tar")
                .arg("-tf")
                .arg(archive)
                .output()
                .unwrap();
            let s = String::from_utf8(l.stdout).unwrap();
            s.lines()
                .next()
                .unwrap()
                .split('/')
                .next()
                .unwrap()
                .to_owned()
        };
        let list: String = names.iter().map(|n| format!("{top}/{n}\n")).collect();
        let lf = t.write(&format!("tar-list-{case}"), list.as_bytes());
        let ot = t.path(&format!("t-{case}"));
        std::fs::create_dir(&ot).unwrap();
        let st = Command::new("tar")
            .arg("-xf")
            .arg(archive)
            .arg("-C")
            .arg(&ot)
            .arg("--strip-components=1")
            .arg(format!("--files-from={}", lf.display()))
            .status()
            .unwrap();
        assert!(st.success(), "{case}: GNU tar failed");
        assert_eq!(got, tree(&ot), "{case}: index and GNU tar differ");
    }
}

/// A deterministic pseudo-random pick of `k` names.
fn pick(names: &[String], k: usize, seed: u64) -> Vec<&str> {
    let mut r = synth::Rng::new(seed, 0);
    let mut v: Vec<&str> = (0..k)
        .map(|_| names[(r.next_u64() % names.len() as u64) as usize].as_str())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn same_files_as_streaming_and_gnu_tar_at_several_spans() {
    let t = T::new();
    // 600 packages: four gzip members (head, two chunks, tail), ≈ 2 MB raw.
    let (a, names) = synth_archive(&t, 600);
    let n = names.len();
    for span in ["1", "20K", "256K", "4M"] {
        let idx = t.path(&format!("index-{span}"));
        index_ok(&a, &idx, Some(span));
        let mut lists: Vec<(String, Vec<&str>)> = vec![
            ("first".into(), vec![names[0].as_str()]),
            ("last".into(), vec![names[n - 1].as_str()]),
            (
                "first-and-last".into(),
                vec![names[0].as_str(), names[n - 1].as_str()],
            ),
            (
                "every-97th".into(),
                names.iter().step_by(97).map(String::as_str).collect(),
            ),
            (
                "with-missing".into(),
                vec![
                    names[n / 2].as_str(),
                    "no-such/1.0/no-such.cabal",
                    names[n / 3].as_str(),
                    "pax_global_header",
                ],
            ),
        ];
        for seed in 0..3 {
            lists.push((format!("random-{seed}"), pick(&names, 40, seed)));
        }
        if span == "20K" {
            lists.push(("all".into(), names.iter().map(String::as_str).collect()));
        }
        for (case, list) in &lists {
            agree(&t, &a, &idx, list, &format!("{span}-{case}"));
        }
    }
}

#[test]
fn plain_tar_single_member_gzip_and_members_across_gzip_members() {
    let t = T::new();
    let raw = tar_bytes(&index_entries(PKGS));
    // gzip members cut at odd places: tar headers and data straddle them.
    let mut multi = Vec::new();
    for (a, b) in [(0, 700), (700, 3333), (3333, 3334), (3334, raw.len())] {
        multi.extend(gz(&raw[a..b]));
    }
    for (name, bytes) in [
        ("i.tar", raw.clone()),
        ("i.tar.gz", gz(&raw)),
        ("multi.tar.gz", multi),
    ] {
        let a = t.write(name, &bytes);
        let idx = t.path(&format!("{name}.idx"));
        index_ok(&a, &idx, Some("1"));
        agree(
            &t,
            &a,
            &idx,
            &[
                "aeson/2.1.2.1/aeson.cabal",
                "zlib/0.6.3.0/zlib.json",
                "text/2.0.2/text.cabal",
            ],
            name,
        );
    }
}

#[test]
fn indexing_is_deterministic() {
    let t = T::new();
    let (a, _) = synth_archive(&t, 300);
    let copy = t.path("elsewhere/copy.tar.gz");
    std::fs::create_dir(t.path("elsewhere")).unwrap();
    std::fs::copy(&a, &copy).unwrap();
    let (i1, i2, i3) = (t.path("1.idx"), t.path("2.idx"), t.path("3.idx"));
    index_ok(&a, &i1, Some("64K"));
    index_ok(&a, &i2, Some("64K"));
    index_ok(&copy, &i3, Some("64K"));
    let b1 = std::fs::read(&i1).unwrap();
    assert_eq!(b1, std::fs::read(&i2).unwrap());
    assert_eq!(
        b1,
        std::fs::read(&i3).unwrap(),
        "the index depends on the path"
    );
    assert!(b1.starts_with(b"ifd-batch index\n\x01\0\0\0"));
}

/// An index that is not this archive's, in every way we can make one.
#[test]
fn foreign_stale_and_corrupt_indexes_fail_cleanly() {
    let t = T::new();
    let raw = tar_bytes(&index_entries(PKGS));
    let good = gz(&raw);
    let a = t.write("i.tar.gz", &good);
    let idx = t.path("i.idx");
    index_ok(&a, &idx, Some("1"));
    let m = t.members(&["aeson/2.1.2.1/aeson.cabal", "absent/1/absent.json"]);
    let missing = t.path("missing");
    let expect_fail = |archive: &Path, index: &Path, msg: &str, case: &str| {
        let out = t.path(&format!("o-{case}"));
        let o = run(
            archive,
            &m,
            &out,
            &[
                "--index",
                index.to_str().unwrap(),
                "--missing",
                missing.to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{case}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg), "{case}: {}", stderr(&o));
        assert!(files_under(&out).is_empty(), "{case}: files were written");
        assert!(!missing.exists(), "{case}: a missing list was written");
    };
    // Another archive (another size), and the same size with other bytes.
    let other = t.write("other.tar.gz", &gz(&tar_bytes(&index_entries(&PKGS[1..]))));
    expect_fail(&other, &idx, "another archive", "other");
    let mut same_size = good.clone();
    let n = same_size.len();
    same_size[n - 5] ^= 1;
    let same_size = t.write("same-size.tar.gz", &same_size);
    expect_fail(&same_size, &idx, "another archive", "same-size");
    // Truncated after indexing.
    let cut = t.write("cut.tar.gz", &good[..good.len() - 100]);
    expect_fail(&cut, &idx, "another archive", "truncated-archive");
    // Not an index at all; an index file that does not exist.
    expect_fail(&a, &a, "not an ifd-batch index", "not-an-index");
    expect_fail(&a, &t.path("nope.idx"), "nope.idx", "no-index");
    // Another format version.
    let bytes = std::fs::read(&idx).unwrap();
    let mut v2 = bytes.clone();
    v2[16] = 2;
    expect_fail(&a, &t.write("v2.idx", &v2), "version 2", "version");
    // Every truncation and every flipped byte: an error, never a panic.
    let bad = t.path("bad.idx");
    for len in 0..bytes.len() {
        std::fs::write(&bad, &bytes[..len]).unwrap();
        expect_fail(&a, &bad, "index", &format!("cut-{len}"));
    }
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x5a;
        std::fs::write(&bad, &b).unwrap();
        expect_fail(&a, &bad, "index", &format!("flip-{i}"));
    }
}

#[test]
fn hostile_archives_are_refused_as_by_the_streaming_extract() {
    let t = T::new();
    let outside = t.path("outside");
    std::fs::create_dir(&outside).unwrap();
    let mut entries = vec![
        dir(&format!("{TOP}/")),
        file(&format!("{TOP}/../escape"), "x"),
        file("/tmp-absolute-escape-index", "x"),
        file(&format!("{TOP}/a/../../escape2"), "x"),
        file(&format!("{TOP}/ok/1/ok.cabal"), "ok"),
    ];
    entries.push(link(
        &format!("{TOP}/sym/1/sym.cabal"),
        b'2',
        outside.join("x").to_str().unwrap(),
    ));
    entries.push(link(
        &format!("{TOP}/hard/1/hard.cabal"),
        b'1',
        &format!("{TOP}/ok/1/ok.cabal"),
    ));
    entries.push(link(&format!("{TOP}/lnk"), b'2', outside.to_str().unwrap()));
    entries.push(file(&format!("{TOP}/lnk/1/lnk.cabal"), "through the link"));
    let a = t.write("hostile.tar.gz", &gz(&tar_bytes(&entries)));
    let idx = t.path("hostile.idx");
    index_ok(&a, &idx, Some("1"));
    // Unsafe archive names are never wanted: they are missing, and counted.
    let m = t.members(&["ok/1/ok.cabal", "escape", "escape2"]);
    let (oi, os) = (t.path("deep/oi"), t.path("deep/os"));
    let (mi, ms) = (t.path("mi"), t.path("ms"));
    let i = run(
        &a,
        &m,
        &oi,
        &[
            "--index",
            idx.to_str().unwrap(),
            "--missing",
            mi.to_str().unwrap(),
        ],
    );
    let s = run(&a, &m, &os, &["--missing", ms.to_str().unwrap()]);
    assert_eq!(i.status.code(), Some(0), "{}", stderr(&i));
    assert_eq!(s.status.code(), Some(0), "{}", stderr(&s));
    assert!(stderr(&i).contains("unsafe names"), "{}", stderr(&i));
    assert_eq!(tree(&oi), tree(&os));
    assert_eq!(files_under(&oi), ["ok/1/ok.cabal"]);
    assert_eq!(read(mi), read(ms));
    assert!(!t.path("deep/escape").exists() && !t.path("escape2").exists());
    assert!(!Path::new("/tmp-absolute-escape-index").exists());
    // Links are refused, never followed; `lnk` stays a real directory.
    let m = t.members(&["sym/1/sym.cabal", "hard/1/hard.cabal", "lnk/1/lnk.cabal"]);
    let (oi, os) = (t.path("li"), t.path("ls"));
    let i = run(&a, &m, &oi, &["--index", idx.to_str().unwrap()]);
    let s = run(&a, &m, &os, &[]);
    assert_eq!(i.status.code(), Some(1), "{}", stderr(&i));
    assert_eq!(s.status.code(), Some(1), "{}", stderr(&s));
    for (o, out) in [(&i, &oi), (&s, &os)] {
        let e = stderr(o);
        assert!(
            e.contains("refused sym/1/sym.cabal") && e.contains("symlink"),
            "{e}"
        );
        assert!(
            e.contains("refused hard/1/hard.cabal") && e.contains("hardlink"),
            "{e}"
        );
        assert_eq!(files_under(out), ["lnk/1/lnk.cabal"]);
        assert!(
            !std::fs::symlink_metadata(out.join("lnk"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
    assert!(files_under(&outside).is_empty());
    // An existing symlink on a member's path in the output is refused.
    let out = t.path("pre");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink(&outside, out.join("ok")).unwrap();
    let m = t.members(&["ok/1/ok.cabal"]);
    let i = run(&a, &m, &out, &["--index", idx.to_str().unwrap()]);
    assert_eq!(i.status.code(), Some(1), "{}", stderr(&i));
    assert!(stderr(&i).contains("symlink"), "{}", stderr(&i));
    assert!(files_under(&outside).is_empty());
}

#[test]
fn duplicates_missing_exit_3_and_a_directory_archive() {
    let t = T::new();
    let dup = tar_bytes(&[
        file("t/a/1/a.cabal", "one"),
        file("t/a/1/a.cabal", "two"),
        file("t/b/1/b.cabal", "b"),
    ]);
    let a = t.write("dup.tar", &dup);
    let idx = t.path("dup.idx");
    index_ok(&a, &idx, None);
    let m = t.members(&["a/1/a.cabal", "b/1/b.cabal"]);
    let o = run(&a, &m, &t.path("o"), &["--index", idx.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("twice"), "{}", stderr(&o));
    // Missing without --missing: exit 3 with the list.
    let m = t.members(&["b/1/b.cabal", "c/1/c.cabal"]);
    let o = run(&a, &m, &t.path("o2"), &["--index", idx.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("c/1/c.cabal"), "{}", stderr(&o));
    assert_eq!(read(t.path("o2/b/1/b.cabal")), "b");
    // --index with an unpacked directory: a usage error.
    let d = t.path("unpacked");
    std::fs::create_dir(&d).unwrap();
    let o = run(&d, &m, &t.path("o3"), &["--index", idx.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("directory"), "{}", stderr(&o));
}

#[test]
fn index_refuses_what_it_cannot_index() {
    let t = T::new();
    let raw = tar_bytes(&index_entries(PKGS));
    let good = gz(&raw);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated.tar.gz", good[..good.len() * 2 / 3].to_vec(), ""),
        ("no-marker.tar.gz", gz(&raw[..512 * 8]), "truncated"),
        ("text", b"not an archive\n".repeat(50), "not a tar archive"),
        ("empty", vec![], "empty"),
        (
            "gzipped-text.gz",
            gz(&b"not a tar stream\n".repeat(100)),
            "",
        ),
    ];
    for (name, bytes, msg) in cases {
        let a = t.write(name, &bytes);
        let out = t.path(&format!("{name}.idx"));
        let o = index(&a, &out, None);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg), "{name}: {}", stderr(&o));
        assert!(!out.exists(), "{name}: an index was written");
    }
    let a = t.write("i.tar.gz", &good);
    let o = index(&a, &t.path("x.idx"), Some("0"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 12, ..Default::default() })]
    /// Any subset of the generator's names, at any span: the same files as
    /// the streaming extract.
    #[test]
    fn any_subset_at_any_span(seed in 0u64..1_000_000, k in 1usize..30, span in 1u64..200_000) {
        let t = T::new();
        let (a, names) = synth_archive(&t, 80);
        let idx = t.path("p.idx");
        index_ok(&a, &idx, Some(&span.to_string()));
        let mut list = pick(&names, k, seed);
        if seed % 3 == 0 {
            list.push("zz-missing/1/zz-missing.cabal");
        }
        agree(&t, &a, &idx, &list, "prop");
    }
}

#[test]
fn strip_rules_are_the_streaming_extracts() {
    let t = T::new();
    let flat = tar_bytes(&[
        dir("aeson/"),
        dir("aeson/1.0/"),
        file("aeson/1.0/aeson.cabal", "A"),
        file("x/y/text/2.0/text.cabal", "T"),
    ]);
    let a = t.write("flat.tar.gz", &gz(&flat));
    let idx = t.path("flat.idx");
    index_ok(&a, &idx, Some("1"));
    let m = t.members(&[
        "aeson/1.0/aeson.cabal",
        "text/2.0/text.cabal",
        "2.0/text.cabal",
    ]);
    for strip in ["auto", "0", "1", "2", "3"] {
        let (oi, os) = (t.path(&format!("i{strip}")), t.path(&format!("s{strip}")));
        let (mi, ms) = (t.path(&format!("mi{strip}")), t.path(&format!("ms{strip}")));
        let i = run(
            &a,
            &m,
            &oi,
            &[
                "--strip",
                strip,
                "--index",
                idx.to_str().unwrap(),
                "--missing",
                mi.to_str().unwrap(),
            ],
        );
        let s = run(
            &a,
            &m,
            &os,
            &["--strip", strip, "--missing", ms.to_str().unwrap()],
        );
        assert_eq!(i.status.code(), Some(0), "{strip}: {}", stderr(&i));
        assert_eq!(s.status.code(), Some(0), "{strip}: {}", stderr(&s));
        assert_eq!(tree(&oi), tree(&os), "strip {strip}");
        assert_eq!(read(mi), read(ms), "strip {strip}");
    }
}
