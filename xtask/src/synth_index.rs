//! Deterministic generator of synthetic all-cabal-hashes indexes.
//!
//! ```text
//! cargo xtask synth-index --out FILE.tar.gz \
//!     [--packages N] [--versions AVG] [--seed S] [--include NAME=VERSION ...] [--dir]
//! cargo xtask synth-index --out FILE.tar.gz --realistic
//! ```
//!
//! The archive has the layout of the GitHub archive nixpkgs fetches for
//! `all-cabal-hashes`: one top directory `all-cabal-hashes-<rev>/`, then
//! `<name>/<version>/<name>.cabal` and `<name>/<version>/<name>.json`, members
//! sorted by path (directories before their contents), the JSON in the real
//! shape (`package-hashes`, `package-locations`, `package-size`). With `--dir`
//! the same index is written unpacked (no top directory), the other form
//! nixpkgs accepts.
//!
//! - `--packages N`: distinct package names (default 20); each has 1 to
//!   2·AVG−1 versions (`--versions AVG`, default 10). `--realistic` means
//!   `--packages 17500 --versions 10`: ≈ 175,000 package versions,
//!   ≈ 350,000 files, ≈ 100 MB gzipped.
//! - `--include NAME=VERSION` (repeatable) adds that exact entry.
//! - Every `build-depends` names a package of the test world's core set
//!   (`CORE` below, mirrored in `fixtures/mini-nixpkgs/haskell/core.nix`), so
//!   any generated entry evaluates there.
//!
//! Output is a pure function of the arguments: per-package splitmix64 streams,
//! fixed mtime/owner/mode, gzip members compressed in parallel and
//! concatenated (a valid multi-member gzip stream that `gzip`, GNU tar and
//! flate2 read). The tar stream is byte-for-byte reproducible; the gzip bytes
//! also depend on flate2's deflate backend (miniz_oxide or zlib-rs).
//!
//! The test world (`tests/it/world.rs`) includes this file as a module, so it
//! depends on nothing of the rest of `xtask`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Package names of the test world's core set: every generated dependency is
/// one of them. Keep in sync with `fixtures/mini-nixpkgs/haskell/core.nix`.
pub const CORE: &[&str] = &[
    "base",
    "bytestring",
    "containers",
    "text",
    "mtl",
    "transformers",
    "deepseq",
    "filepath",
    "directory",
    "time",
    "process",
    "array",
    "stm",
    "hashable",
    "unordered-containers",
    "vector",
    "primitive",
    "scientific",
    "attoparsec",
    "aeson",
    "QuickCheck",
    "hspec",
    "tasty",
    "tasty-hunit",
    "random",
    "network",
    "async",
    "exceptions",
    "lens",
    "optparse-applicative",
];

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ne", "ra", "tu", "ve", "zo", "qua", "bri", "ste", "gon", "fil", "dar",
    "hex", "lam", "mon", "pipe", "con", "du", "it", "sy", "ber", "nix", "cab", "hs", "yam", "tor",
    "sel", "wai", "warp", "servo", "pan", "doc",
];
const SUFFIXES: &[&str] = &[
    "",
    "",
    "",
    "-core",
    "-types",
    "-lens",
    "-extra",
    "-th",
    "-conduit",
    "-aeson",
    "-utils",
    "-client",
    "-server",
    "-instances",
];
const WORDS: &[&str] = &[
    "a",
    "the",
    "of",
    "for",
    "and",
    "to",
    "with",
    "library",
    "fast",
    "pure",
    "haskell",
    "type",
    "class",
    "instances",
    "parser",
    "streaming",
    "efficient",
    "binding",
    "bindings",
    "simple",
    "generic",
    "programming",
    "data",
    "structure",
    "structures",
    "monad",
    "transformer",
    "lazy",
    "strict",
    "functions",
    "utilities",
    "support",
    "implementation",
    "interface",
    "compatible",
    "safe",
    "unsafe",
    "encoding",
    "decoding",
    "serialization",
    "JSON",
    "YAML",
    "HTTP",
    "client",
    "server",
    "web",
    "framework",
    "testing",
    "property",
    "based",
    "combinators",
    "lenses",
    "optics",
    "records",
    "template",
    "deriving",
    "GHC",
    "extensions",
    "compiler",
    "runtime",
    "concurrency",
    "parallel",
    "arrays",
    "vectors",
    "maps",
    "sets",
    "graphs",
    "algorithms",
    "numeric",
    "precision",
    "arbitrary",
    "random",
    "generation",
    "cryptographic",
    "hashing",
    "compression",
    "network",
    "sockets",
    "database",
    "PostgreSQL",
    "SQLite",
    "queries",
    "schema",
    "migrations",
    "logging",
    "configuration",
    "command-line",
    "options",
    "terminal",
    "colours",
    "pretty",
    "printing",
    "documents",
    "markdown",
    "HTML",
    "XML",
    "templates",
    "text",
    "unicode",
    "locale",
    "time",
    "zones",
    "calendar",
    "files",
    "directories",
    "paths",
    "processes",
    "signals",
    "this",
    "package",
    "provides",
    "an",
    "is",
    "it",
    "can",
    "be",
    "used",
    "in",
    "or",
    "as",
    "from",
    "which",
    "that",
    "also",
    "see",
    "module",
    "modules",
    "documentation",
    "examples",
    "tutorial",
    "version",
    "older",
    "newer",
    "deprecated",
    "experimental",
    "stable",
    "API",
    "minimal",
];
const CATEGORIES: &[&str] = &[
    "Data",
    "Control",
    "Network",
    "Web",
    "Text",
    "Testing",
    "Development",
    "System",
    "Database",
    "Parsing",
    "Math",
    "Concurrency",
    "Cryptography",
    "Graphics",
    "Language",
    "Codec",
];
const LICENSES: &[&str] = &[
    "BSD-3-Clause",
    "BSD-3-Clause",
    "BSD-3-Clause",
    "MIT",
    "MIT",
    "Apache-2.0",
    "ISC",
    "MPL-2.0",
];
const MODULE_PARTS: &[&str] = &[
    "Internal",
    "Types",
    "Class",
    "Parser",
    "Pretty",
    "Encode",
    "Decode",
    "Unsafe",
    "Strict",
    "Lazy",
    "Monad",
    "Util",
    "Instances",
    "TH",
    "Core",
    "Compat",
];

/// splitmix64 (Steele, Lea, Flood 2014).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        r.next_u64();
        r
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 11) % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
    fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            let _ = write!(s, "{:016x}", self.next_u64());
        }
        s.truncate(n);
        s
    }
    fn sentence(&mut self, n: usize) -> String {
        let mut s = String::new();
        for i in 0..n {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(self.pick(WORDS));
        }
        s
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Spec {
    pub packages: usize,
    pub versions: usize,
    pub seed: u64,
    /// Exact `(name, version)` entries added to the index.
    pub include: Vec<(String, String)>,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            packages: 20,
            versions: 10,
            seed: 1,
            include: Vec::new(),
        }
    }
}

/// The versions of one package: `version -> (cabal, json)`.
pub type Versions = BTreeMap<String, (String, String)>;

/// The index: `name -> version -> (cabal, json)`, ordered by name/version.
pub type Index = BTreeMap<String, Versions>;

fn capitalise(s: &str) -> String {
    let mut out = String::new();
    for part in s.split('-') {
        let mut c = part.chars();
        if let Some(f) = c.next() {
            out.extend(f.to_uppercase());
            out.push_str(c.as_str());
        }
    }
    out
}

/// A `.cabal` file of 1–3 KB whose dependencies are all in `CORE`.
pub fn cabal_file(r: &mut Rng, name: &str, version: &str) -> String {
    let mut s = String::new();
    let author = format!("{}{}", r.pick(SYLLABLES), r.pick(SYLLABLES));
    let cv = ["1.12", "2.2", "2.4", "3.0"][r.below(4)];
    let _ = writeln!(s, "cabal-version:      {cv}");
    let _ = writeln!(s, "name:               {name}");
    let _ = writeln!(s, "version:            {version}");
    let n = 4 + r.below(8);
    let _ = writeln!(s, "synopsis:           {}", r.sentence(n));
    s.push_str("description:\n");
    for p in 0..1 + r.below(3) {
        if p > 0 {
            s.push_str("    .\n");
        }
        for _ in 0..2 + r.below(5) {
            let n = 8 + r.below(6);
            let _ = writeln!(s, "    {}", r.sentence(n));
        }
    }
    let _ = writeln!(
        s,
        "homepage:           https://github.com/{author}/{name}#readme"
    );
    let _ = writeln!(
        s,
        "bug-reports:        https://github.com/{author}/{name}/issues"
    );
    let _ = writeln!(s, "license:            {}", r.pick(LICENSES));
    s.push_str("license-file:       LICENSE\n");
    let _ = writeln!(s, "author:             {}", capitalise(&author));
    let _ = writeln!(s, "maintainer:         {author}@example.org");
    let _ = writeln!(
        s,
        "copyright:          {} {}",
        2008 + r.below(17),
        capitalise(&author)
    );
    let _ = writeln!(s, "category:           {}", r.pick(CATEGORIES));
    s.push_str("build-type:         Simple\n");
    s.push_str("extra-source-files:\n    README.md\n    ChangeLog.md\n\n");
    let _ = writeln!(
        s,
        "source-repository head\n  type: git\n  location: https://github.com/{author}/{name}\n"
    );
    let top = capitalise(name);
    s.push_str("library\n  exposed-modules:\n");
    let _ = writeln!(s, "      {top}");
    for _ in 0..1 + r.below(6) {
        let _ = writeln!(s, "      {top}.{}", r.pick(MODULE_PARTS));
    }
    s.push_str("  hs-source-dirs:\n      src\n  ghc-options: -Wall\n  build-depends:\n");
    // A core package depends only on core packages listed before it, so
    // overriding several core packages never makes a dependency cycle.
    let core_pos = CORE.iter().position(|c| *c == name);
    let pool = match core_pos {
        Some(i) => &CORE[1..i.max(1)],
        None => &CORE[1..],
    };
    if core_pos != Some(0) {
        let _ = writeln!(s, "      base >=4.{} && <5", 9 + r.below(10));
    }
    let mut deps: Vec<&str> = Vec::new();
    for _ in 0..r.below(7) {
        if pool.is_empty() {
            break;
        }
        let d = r.pick(pool);
        if d != name && !deps.contains(&d) {
            deps.push(d);
        }
    }
    for d in &deps {
        let _ = writeln!(s, "    , {d} >={}.{}", r.below(3), r.below(12));
    }
    s.push_str("  default-language: Haskell2010\n");
    if r.below(3) > 0 && core_pos.is_none() {
        let _ = writeln!(
            s,
            "\ntest-suite {name}-test\n  type: exitcode-stdio-1.0\n  main-is: Spec.hs\n  hs-source-dirs:\n      test\n  build-depends:\n      base\n    , {name}\n    , {}\n  default-language: Haskell2010",
            ["hspec", "QuickCheck", "tasty", "tasty-hunit"][r.below(4)]
        );
    }
    s
}

/// An `--include`d package that is not a core one depends on its platform,
/// as real packages do: `if os(darwin)` / `if arch(aarch64)` … `else` blocks
/// in its library's `build-depends` (dependencies from `CORE`), so cabal2nix
/// writes a different expression for each system. The other entries keep
/// their bytes.
fn with_platform_conditionals(cabal: String, name: &str) -> String {
    if CORE.contains(&name) {
        return cabal;
    }
    cabal.replacen(
        "  default-language: Haskell2010\n",
        "  default-language: Haskell2010\n  if os(darwin)\n    build-depends: process\n  if arch(aarch64)\n    build-depends:\n        primitive\n      , stm\n  else\n    build-depends: array\n",
        1,
    )
}

/// The `<name>.json` member in the real shape.
pub fn json_file(r: &mut Rng, name: &str, version: &str) -> String {
    format!(
        "{{\"package-hashes\":{{\"MD5\":\"{}\",\"SHA1\":\"{}\",\"SHA256\":\"{}\",\"SHA512\":\"{}\"}},\"package-locations\":[\"https://hackage.haskell.org/package/{name}-{version}/{name}-{version}.tar.gz\",\"https://s3.amazonaws.com/hackage.fpcomplete.com/package/{name}-{version}.tar.gz\"],\"package-size\":{}}}",
        r.hex(32),
        r.hex(40),
        r.hex(64),
        r.hex(128),
        2000 + r.below(400_000)
    )
}

fn version(r: &mut Rng, i: usize) -> String {
    match r.below(3) {
        0 => format!("{}.{}", i / 7, i % 7),
        1 => format!("{}.{}.{}", r.below(3), i / 5, i % 5),
        _ => format!("{}.{}.{}.{}", r.below(2), r.below(5), i / 4, i % 4),
    }
}

/// Generates the index described by `spec`.
pub fn generate(spec: &Spec) -> Index {
    use rayon::prelude::*;
    let generated: Vec<(String, usize, Versions)> = (0..spec.packages)
        .into_par_iter()
        .map(|p| {
            let mut r = Rng::new(spec.seed, p as u64);
            let mut name = String::new();
            for _ in 0..1 + r.below(3) {
                name.push_str(r.pick(SYLLABLES));
            }
            name.push_str(r.pick(SUFFIXES));
            let nv = 1 + r.below(2 * spec.versions.max(1) - 1);
            let mut versions = BTreeMap::new();
            for i in 0..nv {
                let v = version(&mut r, i);
                let c = cabal_file(&mut r, &name, &v);
                let j = json_file(&mut r, &name, &v);
                versions.insert(v, (c, j));
            }
            (name, p, versions)
        })
        .collect();
    let mut index = Index::new();
    for (name, p, versions) in generated {
        if index.contains_key(&name) {
            // Regenerate under a unique name (the .cabal names the package).
            let twin = format!("{name}{p}x");
            let mut r = Rng::new(spec.seed, p as u64 ^ 0x7417);
            let vs = versions
                .keys()
                .map(|v| {
                    let c = cabal_file(&mut r, &twin, v);
                    let j = json_file(&mut r, &twin, v);
                    (v.clone(), (c, j))
                })
                .collect();
            index.insert(twin, vs);
        } else {
            index.insert(name, versions);
        }
    }
    for (k, (name, v)) in spec.include.iter().enumerate() {
        let mut r = Rng::new(spec.seed ^ 0x5EED, 1_000_000_007 + k as u64);
        let c = with_platform_conditionals(cabal_file(&mut r, name, v), name);
        let j = json_file(&mut r, name, v);
        index
            .entry(name.clone())
            .or_default()
            .insert(v.clone(), (c, j));
    }
    index
}

/// The archive's top directory: `all-cabal-hashes-<40 hex>`.
pub fn top_dir(seed: u64) -> String {
    format!("all-cabal-hashes-{}", Rng::new(seed, 0xA11).hex(40))
}

const MTIME: u64 = 1_700_000_000;

fn header(path: &str, size: u64, dir: bool) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_path(path).expect("member path");
    h.set_size(size);
    h.set_mode(if dir { 0o755 } else { 0o644 });
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(MTIME);
    h.set_entry_type(if dir {
        tar::EntryType::Directory
    } else {
        tar::EntryType::Regular
    });
    h.set_cksum();
    h
}

fn push_member(out: &mut Vec<u8>, path: &str, data: Option<&[u8]>) {
    let len = data.map_or(0, |d| d.len());
    // GNU long names for paths over 100 bytes, as GNU tar writes them.
    if path.len() > 99 {
        let mut name = path.as_bytes().to_vec();
        name.push(0);
        let mut h = tar::Header::new_gnu();
        h.set_path("././@LongLink").expect("long link");
        h.set_entry_type(tar::EntryType::GNULongName);
        h.set_size(name.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(&name);
        pad(out, name.len());
        let short: String = path.chars().take(99).collect();
        let mut h = header(&short, len as u64, data.is_none());
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
    } else {
        out.extend_from_slice(header(path, len as u64, data.is_none()).as_bytes());
    }
    if let Some(d) = data {
        out.extend_from_slice(d);
        pad(out, d.len());
    }
}

/// The pax global header `git archive` (and so every GitHub archive) starts
/// with: `comment=<commit>`, no member of its own.
fn push_global_header(out: &mut Vec<u8>, top: &str) {
    let commit = top.rsplit('-').next().unwrap_or(top);
    let record = format!("52 comment={commit}\n");
    let mut h = tar::Header::new_ustar();
    h.set_path("pax_global_header").expect("pax name");
    h.set_entry_type(tar::EntryType::XGlobalHeader);
    h.set_size(record.len() as u64);
    h.set_mode(0o666);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(MTIME);
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(record.as_bytes());
    pad(out, record.len());
}

fn pad(out: &mut Vec<u8>, len: usize) {
    let rem = len % 512;
    if rem != 0 {
        out.resize(out.len() + 512 - rem, 0);
    }
}

/// The uncompressed tar stream of one package (its directories and files).
fn package_tar(top: &str, name: &str, versions: &Versions) -> Vec<u8> {
    let mut out = Vec::new();
    push_member(&mut out, &format!("{top}/{name}/"), None);
    // Git (and so a GitHub archive) orders a tree by name, a directory's name
    // counting as `name/`: `0.1.0/` comes before `0.1/`.
    let mut vs: Vec<(&String, &(String, String))> = versions.iter().collect();
    vs.sort_by_key(|(v, _)| format!("{v}/"));
    for (v, (cabal, json)) in vs {
        push_member(&mut out, &format!("{top}/{name}/{v}/"), None);
        push_member(
            &mut out,
            &format!("{top}/{name}/{v}/{name}.cabal"),
            Some(cabal.as_bytes()),
        );
        push_member(
            &mut out,
            &format!("{top}/{name}/{v}/{name}.json"),
            Some(json.as_bytes()),
        );
    }
    out
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// Statistics of a written index.
#[derive(Debug, Default)]
pub struct Stats {
    pub names: usize,
    pub versions: usize,
    pub members: usize,
    pub raw_bytes: u64,
    pub written_bytes: u64,
}

/// Writes `index` as a `.tar.gz` archive with top directory `top_dir(seed)`.
pub fn write_archive(index: &Index, seed: u64, out: &Path) -> std::io::Result<Stats> {
    use rayon::prelude::*;
    let top = top_dir(seed);
    let mut names: Vec<(&String, &Versions)> = index.iter().collect();
    names.sort_by_key(|(n, _)| format!("{n}/"));
    // Chunks of packages, each tarred and gzipped on its own thread.
    let chunks: Vec<_> = names.chunks(256).collect();
    let parts: Vec<(Vec<u8>, u64)> = chunks
        .par_iter()
        .map(|chunk| {
            let mut raw = Vec::new();
            for (n, vs) in chunk.iter() {
                raw.extend(package_tar(&top, n, vs));
            }
            (gz(&raw), raw.len() as u64)
        })
        .collect();
    let mut head = Vec::new();
    push_global_header(&mut head, &top);
    push_member(&mut head, &format!("{top}/"), None);
    let tail = vec![0u8; 1024];
    let mut f = std::io::BufWriter::new(std::fs::File::create(out)?);
    let mut stats = Stats {
        names: index.len(),
        ..Stats::default()
    };
    let g = gz(&head);
    f.write_all(&g)?;
    stats.raw_bytes += head.len() as u64;
    for (p, raw) in &parts {
        f.write_all(p)?;
        stats.raw_bytes += raw;
    }
    f.write_all(&gz(&tail))?;
    stats.raw_bytes += tail.len() as u64;
    f.flush()?;
    stats.versions = index.values().map(|v| v.len()).sum();
    stats.members = 1 + index.len() + 3 * stats.versions;
    stats.written_bytes = std::fs::metadata(out)?.len();
    Ok(stats)
}

/// Writes `index` unpacked: `out/<name>/<version>/<name>.{cabal,json}`.
pub fn write_dir(index: &Index, out: &Path) -> std::io::Result<Stats> {
    let mut stats = Stats {
        names: index.len(),
        ..Stats::default()
    };
    for (n, vs) in index {
        for (v, (c, j)) in vs {
            let d = out.join(n).join(v);
            std::fs::create_dir_all(&d)?;
            std::fs::write(d.join(format!("{n}.cabal")), c)?;
            std::fs::write(d.join(format!("{n}.json")), j)?;
            stats.versions += 1;
            stats.members += 2;
            stats.raw_bytes += (c.len() + j.len()) as u64;
        }
    }
    stats.written_bytes = stats.raw_bytes;
    Ok(stats)
}

fn usage() -> ! {
    eprintln!(
        "usage: cargo xtask synth-index --out FILE.tar.gz|DIR [--packages N] [--versions AVG] [--seed S] \
         [--include NAME=VERSION ...] [--dir] [--realistic]"
    );
    std::process::exit(2)
}

/// `cargo xtask synth-index ARGS`.
pub fn main(mut args: impl Iterator<Item = String>) {
    let mut spec = Spec::default();
    let mut out: Option<PathBuf> = None;
    let mut dir = false;
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--out" => out = Some(PathBuf::from(val())),
            "--packages" => spec.packages = val().parse().unwrap_or_else(|_| usage()),
            "--versions" => spec.versions = val().parse().unwrap_or_else(|_| usage()),
            "--seed" => spec.seed = val().parse().unwrap_or_else(|_| usage()),
            "--include" => {
                let v = val();
                let (n, ver) = v.split_once('=').unwrap_or_else(|| usage());
                spec.include.push((n.to_string(), ver.to_string()));
            }
            "--dir" => dir = true,
            "--realistic" => {
                spec.packages = 17_500;
                spec.versions = 10;
            }
            _ => usage(),
        }
    }
    let out = out.unwrap_or_else(|| usage());
    let t = std::time::Instant::now();
    let index = generate(&spec);
    let stats = if dir {
        write_dir(&index, &out)
    } else {
        write_archive(&index, spec.seed, &out)
    }
    .unwrap_or_else(|e| {
        eprintln!("synth-index: {}: {e}", out.display());
        std::process::exit(1)
    });
    eprintln!(
        "synth-index: {}: {} names, {} versions, {} members, {:.1} MB raw, {:.1} MB written, {:.2} s",
        out.display(),
        stats.names,
        stats.versions,
        stats.members,
        stats.raw_bytes as f64 / 1e6,
        stats.written_bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
}
