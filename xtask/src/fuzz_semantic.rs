//! A semantic differential fuzzer for `ifd-batch rewrite`.
//!
//! ```text
//! cargo xtask fuzz-semantic --cases N [--seed S] [--bin PATH] [--out DIR] [--jobs J]
//!     [--no-shrink] [--shrink-per-class N] [--print] [--render DIR]
//! ```
//!
//! A seed is one repository, generated from a grammar of the shapes real
//! repositories write (weighted productions, combined): Haskell overlays
//! (`self: super:`, `hself: hsuper:`, …) reached through
//! `.override { overrides }`, `.override (old: …)`, `.extend`,
//! `lib.composeExtensions`, `lib.fold lib.composeExtensions`; nixpkgs
//! overlays (`final: prev:`) with a Haskell overlay nested inside (on
//! `haskellPackages` or `haskell.packages.ghc964`); callee forms (`self.f`,
//! `super.f`, bare `f` under `with self;`, `inherit (self) f;`,
//! `f = self.f;`, an alias under another name, a helper
//! `h = n: v: self.callHackage n v { }`, a callPackage-style file
//! `{ callCabal2nix, … }:`, the outer set `final.haskellPackages.f`, an
//! explicitly named set `pkgs.haskellPackages.f`); sources (path literals,
//! `./.` / `../.` with a filter, `lib.cleanSource`, `lib.cleanSourceWith`,
//! `"${root}/x"`, `path + "/x"`, a `sources` set, `fetchFromGitHub`);
//! options strings; `mapAttrs` / `genAttrs` over literal sets and lists;
//! `packageSourceOverrides`; the same package name in several files with
//! different sources; and generic import-from-derivation in a `let` (import,
//! readFile, fromJSON, importJSON, readDir, chained derivations that need an
//! earlier IFD's value, `if` branches, helpers the scanner calls
//! `possible`, `mapAttrs` over derivations).
//!
//! The oracle, per repository, with real Nix in the test world
//! (`fixtures/semantic/`): every attribute evaluates to the same drvPath or
//! value before and after `rewrite --write` (one that failed before is left
//! out; one that fails only after is a failure); `scan`'s verdict per site
//! (batchable or not) is `rewrite`'s (edited or routed) and `check --all`'s
//! (reported); no site is skipped as `internal`; a second `rewrite --write`
//! changes nothing and `check --all` then passes; every written file
//! reparses (`nix-instantiate --parse`) and has no more `deadnix` findings
//! than before. A failing repository is shrunk (units, files, items,
//! bindings dropped while the same check still fails).
//!
//! The integration tests (`tests/it/semantic.rs`) include this file as a
//! module, so it depends on nothing but `std`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

// ---------------------------------------------------------------------------
// Randomness: splitmix64, one stream per seed.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5eed_0f1f_ba7c_4a11)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
    /// One of `xs`, by weight.
    pub fn weighted<T: Copy>(&mut self, xs: &[(u32, T)]) -> T {
        let total: u64 = xs.iter().map(|(w, _)| u64::from(*w)).sum();
        let mut r = self.next() % total.max(1);
        for &(w, x) in xs {
            if r < u64::from(w) {
                return x;
            }
            r -= u64::from(w);
        }
        xs[xs.len() - 1].1
    }
}

// ---------------------------------------------------------------------------
// What the world has.

/// Index entries (all in `fixtures/mini-nixpkgs/data`, every dependency a
/// core package).
const HACKAGE: &[(&str, &str)] = &[
    ("aeson", "2.1.2.1"),
    ("aeson", "2.2.1.0"),
    ("text", "2.1"),
    ("lens", "5.2.3"),
    ("extra", "1.7.14"),
    ("split", "0.2.5"),
    ("megaparsec", "9.6.1"),
    ("zo-conduit", "2.0.1"),
    ("async", "2.2.5"),
    ("relude", "1.2.1.0"),
    ("servant", "0.20.1"),
    ("yaml", "0.11.11.2"),
];
/// callHackageDirect: the one tarball in `sources/hackage`.
const DIRECT: (&str, &str, &str) = (
    "retry",
    "0.9.3.1",
    "1aziga83nrk31mfwpbwnkx02dfvw0sgljdw75lh9rzwzi6ldw31s",
);
/// fetchFromGitHub: the one repository in `sources/github`.
const GITHUB_SHA256: &str = "0292kp17v9dprl1i0nnh9pxxl683bsycgr3w4awkbxf8z8bxz9y2";
/// Local packages: `pkgs/NAME/` and, with another version, `pkgs/alt/NAME/`.
const LOCAL: &[&str] = &["alpha", "beta", "gamma", "delta"];
/// The package at the repository's root (`./.`, `../.` from `nix/`).
const TOP: &str = "toplevel";
const OPTIONS: &[&str] = &[
    "--no-check",
    "--jailbreak",
    "--no-haddock",
    "--no-check --jailbreak",
    "-fdev",
];

// ---------------------------------------------------------------------------
// The model: a repository is a list of units; each unit is droppable, and
// so is each of its files, items and bindings (the shrinker's moves).

#[derive(Clone, Debug)]
pub struct Case {
    pub seed: u64,
    pub units: Vec<Unit>,
}

#[derive(Clone, Debug)]
pub enum Unit {
    /// Haskell overlay files applied to a package set in `default.nix`.
    Haskell(HaskellUnit),
    /// nixpkgs overlay files (`final: prev:`), each with a Haskell overlay
    /// nested inside.
    Nixpkgs(NixpkgsUnit),
    /// Generic import-from-derivation in one `let`.
    Generic(GenericUnit),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Wrap {
    Override,
    OverrideOld,
    Extend,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Compose {
    Extensions,
    Many,
    Fold,
}

#[derive(Clone, Debug)]
pub struct HaskellUnit {
    pub id: usize,
    pub wrap: Wrap,
    pub compose: Compose,
    pub ghc964: bool,
    pub files: Vec<HsFile>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Nest {
    Override,
    OverrideOld,
    Extend,
    Fold,
}

#[derive(Clone, Debug)]
pub struct NixpkgsUnit {
    pub id: usize,
    pub files: Vec<NpFile>,
}

#[derive(Clone, Debug)]
pub struct NpFile {
    pub path: String,
    pub names: (&'static str, &'static str),
    pub nest: Nest,
    pub ghc964: bool,
    pub inner: HsBody,
    /// Packages at the nixpkgs level, through `final.haskellPackages.f`.
    pub top: Vec<Item>,
}

#[derive(Clone, Debug)]
pub struct HsFile {
    pub path: String,
    pub body: HsBody,
}

#[derive(Clone, Debug)]
pub enum HsBody {
    Overlay {
        names: (&'static str, &'static str),
        items: Vec<Item>,
    },
    /// `haskell.lib.packageSourceOverrides { NAME = path or version; }`
    Pso(Vec<(String, PsoVal)>),
}

#[derive(Clone, Debug)]
pub enum PsoVal {
    Path(String),
    Version(&'static str),
}

#[derive(Clone, Debug)]
pub struct Item {
    pub attr: String,
    pub call: Call,
    pub via: Via,
}

#[derive(Clone, Debug)]
pub enum Call {
    Hackage(&'static str, &'static str),
    Direct,
    Cabal2nix {
        name: String,
        src: Src,
        opts: Option<&'static str>,
    },
    /// `lib.mapAttrs (n: v: S.callHackage n v { }) { NAME = "VER"; … }`
    MapHackage(Vec<(&'static str, &'static str)>),
    /// `lib.genAttrs [ … ] (n: S.callCabal2nix n (PATH + "/${n}") { })`
    GenCabal(Vec<&'static str>),
}

#[derive(Clone, Debug)]
pub enum Src {
    /// A path literal to `dir` (repository-relative).
    Path(String),
    Clean(String),
    CleanWith(String),
    /// `"${root}/SUB"`, `root` the store copy of `pkgs/`.
    RootStr(String),
    /// `PATH-TO-pkgs + "/SUB"`.
    Concat(String),
    /// `sources.KEY` (a niv-style set in `default.nix`).
    Sources(String),
    GitHub,
    /// The repository's root (`./.`, `../.`), filtered to its `.cabal`.
    Top,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Via {
    SelfDot,
    SuperDot,
    Bare,
    Inherit,
    LetAlias,
    Renamed,
    Helper,
    CallPackage,
    /// `pkgs.haskellPackages.f` (Haskell files) or `F.haskellPackages.f`
    /// bound in the nixpkgs overlay's `let` (nested overlays).
    OuterSet,
}

#[derive(Clone, Debug)]
pub struct GenericUnit {
    pub id: usize,
    pub path: String,
    /// Imports the world itself, through a parameter of this name
    /// (`nixpkgs` or another), or takes `pkgs` when `None`.
    pub import_world: Option<&'static str>,
    pub binds: Vec<GBind>,
}

#[derive(Clone, Debug)]
pub struct GBind {
    pub name: String,
    pub expr: GExpr,
}

#[derive(Clone, Debug)]
pub enum GExpr {
    /// A derivation: a file holding the Nix string `"sN"`.
    Text(u32),
    /// A derivation: a directory with `default.nix` = `{ x = N; }`.
    Dir(u32),
    /// A derivation: `{ "k": N }` (writeText).
    Json(u32),
    /// A derivation built from an earlier IFD's value.
    Chain(String),
    Import(String),
    ReadFile(String),
    ReadSub(String),
    FromJson(String),
    ImportJson(String),
    ReadDir(String),
    /// `if C then SITE else "no"`.
    If(bool, Box<GExpr>),
    /// Through a local helper `rd = f: builtins.readFile f;`.
    Helper(String),
    MapRead(Vec<String>),
}

impl GExpr {
    fn deps(&self) -> Vec<&str> {
        match self {
            GExpr::Text(_) | GExpr::Dir(_) | GExpr::Json(_) => vec![],
            GExpr::Chain(d)
            | GExpr::Import(d)
            | GExpr::ReadFile(d)
            | GExpr::ReadSub(d)
            | GExpr::FromJson(d)
            | GExpr::ImportJson(d)
            | GExpr::ReadDir(d)
            | GExpr::Helper(d) => vec![d.as_str()],
            GExpr::If(_, e) => e.deps(),
            GExpr::MapRead(ds) => ds.iter().map(String::as_str).collect(),
        }
    }
    fn is_drv(&self) -> bool {
        matches!(
            self,
            GExpr::Text(_) | GExpr::Dir(_) | GExpr::Json(_) | GExpr::Chain(_)
        )
    }
}

// ---------------------------------------------------------------------------
// Generation.

/// The one repository of `seed`.
pub fn generate(seed: u64) -> Case {
    let mut r = Rng::new(seed);
    let n = r.weighted(&[(3, 1), (4, 2), (2, 3)]);
    let mut units = Vec::new();
    for id in 0..n {
        let kind = r.weighted(&[(4, 0), (4, 1), (3, 2)]);
        units.push(match kind {
            0 => Unit::Haskell(gen_haskell_unit(&mut r, id)),
            1 => Unit::Nixpkgs(gen_nixpkgs_unit(&mut r, id)),
            _ => Unit::Generic(gen_generic_unit(&mut r, id)),
        });
    }
    Case { seed, units }
}

fn gen_dir(r: &mut Rng, id: usize, stem: &str) -> String {
    match r.weighted(&[(3, 0), (3, 1), (2, 2)]) {
        0 => format!("{stem}{id}.nix"),
        1 => format!("nix/{stem}{id}.nix"),
        _ => format!("overlays/{stem}{id}.nix"),
    }
}

const HS_NAMES: &[(&str, &str)] = &[
    ("self", "super"),
    ("hself", "hsuper"),
    ("hfinal", "hprev"),
    ("new", "old"),
    ("final", "prev"),
];
const NP_NAMES: &[(&str, &str)] = &[("final", "prev"), ("self", "super"), ("pkgsNew", "pkgsOld")];

fn gen_haskell_unit(r: &mut Rng, id: usize) -> HaskellUnit {
    let nfiles = r.weighted(&[(3, 1), (1, 2)]);
    let files = (0..nfiles)
        .map(|k| {
            let path = gen_dir(r, id, &format!("hs{k}-"));
            let body = if r.chance(12) {
                gen_pso(r, &path)
            } else {
                HsBody::Overlay {
                    names: r.pick(HS_NAMES),
                    items: gen_items(r, false, true),
                }
            };
            HsFile { path, body }
        })
        .collect();
    HaskellUnit {
        id,
        wrap: r.pick(&[Wrap::Override, Wrap::OverrideOld, Wrap::Extend]),
        compose: r.pick(&[Compose::Extensions, Compose::Many, Compose::Fold]),
        ghc964: r.chance(15),
        files,
    }
}

fn gen_pso(r: &mut Rng, _path: &str) -> HsBody {
    let n = 1 + r.below(3);
    let mut entries: Vec<(String, PsoVal)> = Vec::new();
    for _ in 0..n {
        if r.chance(50) {
            let (name, ver) = r.pick(HACKAGE);
            entries.push((name.to_string(), PsoVal::Version(ver)));
        } else {
            let name = r.pick(LOCAL);
            let dir = local_dir(r, name);
            entries.push((name.to_string(), PsoVal::Path(dir)));
        }
    }
    let mut seen = BTreeSet::new();
    entries.retain(|(n, _)| seen.insert(n.clone()));
    HsBody::Pso(entries)
}

fn local_dir(r: &mut Rng, name: &str) -> String {
    if r.chance(30) {
        format!("pkgs/alt/{name}")
    } else {
        format!("pkgs/{name}")
    }
}

fn gen_nixpkgs_unit(r: &mut Rng, id: usize) -> NixpkgsUnit {
    let nfiles = r.weighted(&[(3, 1), (1, 2)]);
    let mut last: Option<Nest> = None;
    let files = (0..nfiles)
        .map(|_| {
            let k = usize::from(last.is_some());
            let path = gen_dir(r, id, &format!("np{k}-"));
            // A set made by `.extend` has no `.override`; a plain
            // `.override { overrides }` would drop an earlier file's.
            let nest = match last {
                None => r.pick(&[Nest::Override, Nest::OverrideOld, Nest::Extend, Nest::Fold]),
                Some(Nest::Extend) => Nest::Extend,
                Some(_) => r.pick(&[Nest::OverrideOld, Nest::Extend, Nest::Fold]),
            };
            last = Some(nest);
            let names = r.pick(NP_NAMES);
            let inner = if r.chance(12) {
                gen_pso(r, &path)
            } else {
                // Inner names that shadow the outer ones would hide
                // `prev.lib` from the inner overlay.
                let free: Vec<(&str, &str)> = HS_NAMES
                    .iter()
                    .copied()
                    .filter(|(a, b)| ![a, b].iter().any(|x| **x == names.0 || **x == names.1))
                    .collect();
                HsBody::Overlay {
                    names: r.pick(&free),
                    items: gen_items(r, true, false),
                }
            };
            let ntop = r.weighted(&[(3, 0), (2, 1), (1, 2)]);
            let mut top: Vec<Item> = (0..ntop)
                .map(|_| {
                    let mut it = gen_item(r, false);
                    it.via = Via::OuterSet;
                    if matches!(it.call, Call::MapHackage(_) | Call::GenCabal(_)) {
                        it.call = Call::Hackage("split", "0.2.5");
                    }
                    it.attr = format!("top-{}", it.attr);
                    it
                })
                .collect();
            dedup_items(&mut top);
            NpFile {
                path,
                names,
                nest,
                ghc964: r.chance(15),
                inner,
                top,
            }
        })
        .collect();
    NixpkgsUnit { id, files }
}

fn gen_items(r: &mut Rng, nested: bool, has_pkgs: bool) -> Vec<Item> {
    let n = 1 + r.below(4);
    let mut items: Vec<Item> = (0..n).map(|_| gen_item(r, true)).collect();
    for it in &mut items {
        it.via = gen_via(r, &it.call, nested, has_pkgs);
    }
    dedup_items(&mut items);
    items
}

/// Attribute names are unique in one set: later duplicates are renamed.
fn dedup_items(items: &mut [Item]) {
    let mut seen = BTreeSet::new();
    for (k, it) in items.iter_mut().enumerate() {
        if !seen.insert(it.attr.clone()) {
            it.attr = format!("{}{k}", it.attr);
            seen.insert(it.attr.clone());
        }
    }
}

fn gen_item(r: &mut Rng, maps: bool) -> Item {
    let kind = r.weighted(&[
        (4, 0),
        (1, 1),
        (5, 2),
        (if maps { 1 } else { 0 }, 3),
        (if maps { 1 } else { 0 }, 4),
    ]);
    let call = match kind {
        0 => {
            let (n, v) = r.pick(HACKAGE);
            Call::Hackage(n, v)
        }
        1 => Call::Direct,
        2 => {
            let name = r.pick(LOCAL);
            let dir = local_dir(r, name);
            let sub = dir.trim_start_matches("pkgs/").to_string();
            let src = match r.weighted(&[
                (5, 0),
                (2, 1),
                (1, 2),
                (2, 3),
                (1, 4),
                (2, 5),
                (1, 6),
                (1, 7),
            ]) {
                0 => Src::Path(dir),
                1 => Src::Clean(dir),
                2 => Src::CleanWith(dir),
                3 => Src::RootStr(sub),
                4 => Src::Concat(sub),
                5 => Src::Sources(sub),
                6 => Src::GitHub,
                _ => Src::Top,
            };
            let name = match src {
                Src::GitHub => "fast-json".to_string(),
                Src::Top => TOP.to_string(),
                _ => name.to_string(),
            };
            let opts = r.chance(25).then(|| r.pick(OPTIONS));
            Call::Cabal2nix { name, src, opts }
        }
        3 => {
            let mut pairs: Vec<(&str, &str)> =
                (0..1 + r.below(3)).map(|_| r.pick(HACKAGE)).collect();
            let mut seen = BTreeSet::new();
            pairs.retain(|(n, _)| seen.insert(*n));
            Call::MapHackage(pairs)
        }
        _ => {
            let mut names: Vec<&str> = (0..1 + r.below(3)).map(|_| r.pick(LOCAL)).collect();
            names.sort();
            names.dedup();
            Call::GenCabal(names)
        }
    };
    let attr = match &call {
        Call::Hackage(n, _) if r.chance(20) => format!("{n}_alt"),
        Call::Hackage(n, _) => n.to_string(),
        Call::Direct => DIRECT.0.to_string(),
        Call::Cabal2nix { name, .. } => name.clone(),
        Call::MapHackage(_) => "mapped".into(),
        Call::GenCabal(_) => "generated".into(),
    };
    Item {
        attr,
        call,
        via: Via::SelfDot,
    }
}

fn gen_via(r: &mut Rng, call: &Call, nested: bool, has_pkgs: bool) -> Via {
    let helper = matches!(call, Call::Hackage(..) | Call::Direct);
    let single = !matches!(call, Call::MapHackage(_) | Call::GenCabal(_));
    // A callPackage-style file has no `root` or `sources`.
    let cp = single
        && !matches!(
            call,
            Call::Cabal2nix {
                src: Src::RootStr(_) | Src::Sources(_),
                ..
            }
        );
    r.weighted(&[
        (6, Via::SelfDot),
        (2, Via::SuperDot),
        (2, Via::Bare),
        (2, Via::Inherit),
        (1, Via::LetAlias),
        (if single { 2 } else { 0 }, Via::Renamed),
        (if helper { 2 } else { 0 }, Via::Helper),
        (if cp { 2 } else { 0 }, Via::CallPackage),
        (
            if single && (nested || has_pkgs) { 1 } else { 0 },
            Via::OuterSet,
        ),
    ])
}

fn gen_generic_unit(r: &mut Rng, id: usize) -> GenericUnit {
    let mut binds: Vec<GBind> = Vec::new();
    let ndrv = 1 + r.below(3);
    let mut drvs: Vec<(String, u8)> = Vec::new(); // name, shape: 0 text, 1 dir, 2 json
    for k in 0..ndrv {
        let shape = r.below(3) as u8;
        let name = format!("d{k}");
        let n = r.below(90) as u32 + 1;
        binds.push(GBind {
            name: name.clone(),
            expr: match shape {
                0 => GExpr::Text(n),
                1 => GExpr::Dir(n),
                _ => GExpr::Json(n),
            },
        });
        drvs.push((name, shape));
    }
    let nval = 1 + r.below(4);
    let mut ints: Vec<String> = Vec::new();
    let mut v = 0;
    let site = |r: &mut Rng, drvs: &[(String, u8)], ints: &mut Vec<String>, v: &mut usize| {
        let (d, shape) = drvs[r.below(drvs.len())].clone();
        let name = format!("v{v}");
        *v += 1;
        let expr = match shape {
            0 => r.pick(&[0u8, 1, 2]),
            1 => r.pick(&[3u8, 4, 5, 6]),
            2 => r.pick(&[7u8, 8, 1, 2]),
            _ => 1,
        };
        let expr = match expr {
            0 => GExpr::Import(d),
            1 => GExpr::ReadFile(d),
            2 => GExpr::Helper(d),
            3 => GExpr::Import(d),
            4 => GExpr::ReadSub(d),
            5 => GExpr::ReadDir(d),
            6 => GExpr::ReadSub(d),
            7 => {
                ints.push(name.clone());
                GExpr::FromJson(d)
            }
            _ => GExpr::ImportJson(d),
        };
        let expr = if r.chance(12) {
            GExpr::If(r.chance(50), Box::new(expr))
        } else {
            expr
        };
        GBind { name, expr }
    };
    for _ in 0..nval {
        binds.push(site(r, &drvs, &mut ints, &mut v));
    }
    // Chained: a derivation from an IFD's value, then a site reading it.
    if !ints.is_empty() && r.chance(40) {
        let from = ints[r.below(ints.len())].clone();
        let name = format!("d{}", drvs.len());
        binds.push(GBind {
            name: name.clone(),
            expr: GExpr::Chain(from),
        });
        drvs.push((name.clone(), 3));
        binds.push(GBind {
            name: format!("v{v}"),
            expr: GExpr::ReadFile(name),
        });
        v += 1;
    }
    let files: Vec<String> = drvs
        .iter()
        .filter(|(_, s)| *s == 0 || *s == 2)
        .map(|(n, _)| n.clone())
        .collect();
    if files.len() >= 2 && r.chance(25) {
        binds.push(GBind {
            name: format!("v{v}"),
            expr: GExpr::MapRead(files[..2].to_vec()),
        });
    }
    GenericUnit {
        id,
        path: gen_dir(r, id, "gen"),
        import_world: r
            .chance(50)
            .then(|| r.weighted(&[(3, "nixpkgs"), (1, "world")])),
        binds,
    }
}

// ---------------------------------------------------------------------------
// Rendering.

/// A repository: relative path → text.
pub type Files = BTreeMap<String, String>;

/// A relative path literal from the directory of `from` to `to` (both
/// repository-relative; `to` "" is the root).
fn rel(from: &str, to: &str) -> String {
    let depth = from.matches('/').count();
    let up = if depth == 0 {
        "./".to_string()
    } else {
        "../".repeat(depth)
    };
    if to.is_empty() {
        if depth == 0 {
            "./.".into()
        } else {
            format!("{}.", up)
        }
    } else {
        format!("{up}{to}")
    }
}

/// What a file's code can name: how to reach `lib` and `pkgs`, and which
/// free names it needs from its arguments.
struct Ctx {
    file: String,
    lib: String,
    pkgs: String,
    /// `root` and `sources` are available.
    repo_args: bool,
    needs: BTreeSet<&'static str>,
}

impl Ctx {
    fn lib(&mut self) -> String {
        if self.lib == "lib" {
            self.needs.insert("lib");
        }
        self.lib.clone()
    }
    fn pkgs(&mut self) -> String {
        if self.pkgs == "pkgs" {
            self.needs.insert("pkgs");
        }
        self.pkgs.clone()
    }
}

fn src_text(ctx: &mut Ctx, src: &Src) -> String {
    match src {
        Src::Path(d) => rel(&ctx.file, d),
        Src::Clean(d) => format!("({}.cleanSource {})", ctx.lib(), rel(&ctx.file, d)),
        Src::CleanWith(d) => format!(
            "({}.cleanSourceWith {{ src = {}; filter = path: _type: baseNameOf path != \"junk\"; }})",
            ctx.lib(),
            rel(&ctx.file, d)
        ),
        Src::RootStr(sub) if ctx.repo_args => {
            ctx.needs.insert("root");
            format!("\"${{root}}/{sub}\"")
        }
        Src::Sources(sub) if ctx.repo_args => {
            ctx.needs.insert("sources");
            format!("sources.{}", source_key(sub))
        }
        Src::RootStr(sub) | Src::Sources(sub) | Src::Concat(sub) => {
            format!("({} + \"/{sub}\")", rel(&ctx.file, "pkgs"))
        }
        Src::GitHub => format!(
            "({}.fetchFromGitHub {{ owner = \"acme\"; repo = \"fast-json\"; rev = \"v0.3.1\"; sha256 = \"{GITHUB_SHA256}\"; }})",
            ctx.pkgs()
        ),
        Src::Top => {
            let lib = ctx.lib();
            format!(
                "({lib}.cleanSourceWith {{ src = {}; filter = path: _type: {lib}.hasSuffix \".cabal\" path; }})",
                rel(&ctx.file, "")
            )
        }
    }
}

fn source_key(sub: &str) -> String {
    sub.replace('/', "-")
}

fn fn_name(call: &Call) -> &'static str {
    match call {
        Call::Hackage(..) | Call::MapHackage(_) => "callHackage",
        Call::Direct => "callHackageDirect",
        Call::Cabal2nix { opts: Some(_), .. } => "callCabal2nixWithOptions",
        Call::Cabal2nix { .. } | Call::GenCabal(_) => "callCabal2nix",
    }
}

fn renamed(f: &str) -> &'static str {
    match f {
        "callHackage" => "hk",
        "callHackageDirect" => "hd",
        "callCabal2nixWithOptions" => "c2nOpts",
        _ => "c2n",
    }
}

/// `CALLEE ARGS` of a single call.
fn call_text(ctx: &mut Ctx, callee: &str, call: &Call) -> String {
    match call {
        Call::Hackage(n, v) => format!("{callee} \"{n}\" \"{v}\" {{ }}"),
        Call::Direct => format!(
            "{callee} {{ pkg = \"{}\"; ver = \"{}\"; sha256 = \"{}\"; }} {{ }}",
            DIRECT.0, DIRECT.1, DIRECT.2
        ),
        Call::Cabal2nix { name, src, opts } => {
            let s = src_text(ctx, src);
            match opts {
                Some(o) => format!("{callee} \"{name}\" {s} \"{o}\" {{ }}"),
                None => format!("{callee} \"{name}\" {s} {{ }}"),
            }
        }
        Call::MapHackage(pairs) => {
            let set: String = pairs
                .iter()
                .map(|(n, v)| format!(" {n} = \"{v}\";"))
                .collect();
            format!(
                "{}.mapAttrs (n: v: {callee} n v {{ }}) {{{set} }}",
                ctx.lib()
            )
        }
        Call::GenCabal(names) => {
            let list: String = names.iter().map(|n| format!(" \"{n}\"")).collect();
            let base = rel(&ctx.file, "pkgs");
            format!(
                "{}.genAttrs [{list} ] (n: {callee} n ({base} + \"/${{n}}\") {{ }})",
                ctx.lib()
            )
        }
    }
}

/// A Haskell overlay `S: P: …` (the text after the header), its let
/// bindings, and the extra files (callPackage-style) it needs.
fn render_overlay(
    ctx: &mut Ctx,
    names: (&str, &str),
    items: &[Item],
    outer: &mut BTreeMap<String, String>,
    outer_set: &str,
    files: &mut Files,
    indent: &str,
) -> String {
    let (s, p) = names;
    let mut lets: BTreeMap<String, String> = BTreeMap::new();
    let mut attrs = String::new();
    let mut maps = String::new();
    let mut with = false;
    for it in items {
        let f = fn_name(&it.call);
        let value = match it.via {
            Via::SelfDot => call_text(ctx, &format!("{s}.{f}"), &it.call),
            Via::SuperDot => call_text(ctx, &format!("{p}.{f}"), &it.call),
            Via::Bare => {
                with = true;
                call_text(ctx, f, &it.call)
            }
            Via::Inherit => {
                lets.insert(f.to_string(), format!("inherit ({s}) {f};"));
                call_text(ctx, f, &it.call)
            }
            Via::LetAlias => {
                lets.insert(f.to_string(), format!("{f} = {s}.{f};"));
                call_text(ctx, f, &it.call)
            }
            Via::Renamed => {
                let a = renamed(f);
                lets.insert(a.to_string(), format!("{a} = {s}.{f};"));
                call_text(ctx, a, &it.call)
            }
            Via::Helper => match &it.call {
                Call::Hackage(n, v) => {
                    lets.insert(
                        "hackage".into(),
                        format!("hackage = pkg: ver: {s}.callHackage pkg ver {{ }};"),
                    );
                    format!("hackage \"{n}\" \"{v}\"")
                }
                _ => {
                    lets.insert(
                        "direct".into(),
                        format!(
                            "direct = pkg: ver: sha256: {s}.callHackageDirect {{ inherit pkg ver sha256; }} {{ }};"
                        ),
                    );
                    format!("direct \"{}\" \"{}\" \"{}\"", DIRECT.0, DIRECT.1, DIRECT.2)
                }
            },
            Via::CallPackage => {
                let path = format!("hs/{}-{}.nix", file_stem(&ctx.file), it.attr);
                let mut sub = Ctx {
                    file: path.clone(),
                    lib: "lib".into(),
                    pkgs: "pkgs".into(),
                    repo_args: false,
                    needs: BTreeSet::new(),
                };
                let body = call_text(&mut sub, f, &it.call);
                let mut formals: Vec<&str> = sub.needs.iter().copied().collect();
                formals.push(f);
                if matches!(
                    it.call,
                    Call::Cabal2nix {
                        src: Src::GitHub,
                        ..
                    }
                ) {
                    // fetchFromGitHub comes from the set's scope (pkgs).
                    formals.retain(|x| *x != "pkgs");
                    formals.push("fetchFromGitHub");
                }
                formals.sort();
                let body = body.replace("(pkgs.fetchFromGitHub", "(fetchFromGitHub");
                let text = format!("{{ {}, ... }}:\n{body}\n", formals.join(", "));
                files.insert(path.clone(), text);
                format!("{s}.callPackage {} {{ }}", rel(&ctx.file, &path))
            }
            Via::OuterSet => {
                if outer_set == "pkgs.haskellPackages" {
                    let callee = format!("{}.haskellPackages.{f}", ctx.pkgs());
                    call_text(ctx, &callee, &it.call)
                } else {
                    let a = renamed(f);
                    outer.insert(a.to_string(), format!("{a} = {outer_set}.{f};"));
                    call_text(ctx, a, &it.call)
                }
            }
        };
        match it.call {
            Call::MapHackage(_) | Call::GenCabal(_) => {
                let _ = write!(maps, "\n{indent}// {value}");
            }
            _ => {
                let _ = writeln!(attrs, "{indent}  {} = {value};", it.attr);
            }
        }
    }
    let mut out = format!("{s}: {p}:\n");
    if !lets.is_empty() {
        let _ = writeln!(out, "{indent}let");
        for l in lets.values() {
            let _ = writeln!(out, "{indent}  {l}");
        }
        let _ = writeln!(out, "{indent}in");
    }
    let _ = write!(
        out,
        "{indent}{}{{\n{attrs}{indent}}}{maps}",
        if with {
            format!("with {s}; ")
        } else {
            String::new()
        }
    );
    out
}

fn file_stem(path: &str) -> String {
    path.rsplit('/')
        .next()
        .unwrap_or(path)
        .trim_end_matches(".nix")
        .to_string()
}

fn pso_text(ctx: &Ctx, haskell_lib: &str, entries: &[(String, PsoVal)], indent: &str) -> String {
    let mut out = format!("{haskell_lib}.packageSourceOverrides {{\n");
    for (n, v) in entries {
        let v = match v {
            PsoVal::Path(d) => rel(&ctx.file, d),
            PsoVal::Version(ver) => format!("\"{ver}\""),
        };
        let _ = writeln!(out, "{indent}  {n} = {v};");
    }
    let _ = write!(out, "{indent}}}");
    out
}

fn header(needs: &BTreeSet<&str>) -> String {
    if needs.is_empty() {
        String::new()
    } else {
        let v: Vec<&str> = needs.iter().copied().collect();
        format!("{{ {} }}:\n", v.join(", "))
    }
}

fn inherit_args(needs: &BTreeSet<&str>) -> String {
    if needs.is_empty() {
        String::new()
    } else {
        let v: Vec<&str> = needs.iter().copied().collect();
        format!(" {{ inherit {}; }}", v.join(" "))
    }
}

/// What `default.nix` binds and exports for one unit.
struct Out {
    lets: Vec<String>,
    attrs: Vec<(String, String)>,
}

impl Case {
    /// The repository's files.
    pub fn render(&self) -> Files {
        let mut files = Files::new();
        let mut lets = Vec::new();
        let mut attrs = Vec::new();
        let mut needs: BTreeSet<&'static str> = BTreeSet::new();
        for u in &self.units {
            let o = match u {
                Unit::Haskell(h) => render_haskell(h, &mut files, &mut needs),
                Unit::Nixpkgs(n) => render_nixpkgs(n, &mut files, &mut needs),
                Unit::Generic(g) => render_generic(g, &mut files),
            };
            lets.extend(o.lets);
            attrs.extend(o.attrs);
        }
        // Local packages, and the one at the root.
        for name in LOCAL {
            files.insert(format!("pkgs/{name}/{name}.cabal"), cabal(name, "0.1.0"));
            files.insert(
                format!("pkgs/alt/{name}/{name}.cabal"),
                cabal(name, "0.2.0"),
            );
        }
        files.insert("pkgs/alpha/junk".into(), "left out by the filter\n".into());
        files.insert(format!("{TOP}.cabal"), cabal(TOP, "1.0.0"));
        let mut d = String::from(
            "# Generated by xtask/src/fuzz_semantic.rs; evaluate with fixtures/semantic/eval.nix.\n{ nixpkgs, salt }:\nlet\n  pkgs = import nixpkgs { inherit salt; };\n",
        );
        if needs.contains("lib") {
            d.push_str("  inherit (pkgs) lib;\n");
        }
        if needs.contains("root") {
            d.push_str("  root = builtins.path { path = ./pkgs; name = \"source\"; };\n");
        }
        if needs.contains("sources") {
            d.push_str("  sources = {\n");
            for name in LOCAL {
                let _ = writeln!(d, "    {name} = ./pkgs/{name};");
                let _ = writeln!(d, "    alt-{name} = ./pkgs/alt/{name};");
            }
            d.push_str("  };\n");
        }
        for l in &lets {
            let _ = writeln!(d, "  {l}");
        }
        d.push_str("in\n{\n");
        for (k, v) in &attrs {
            let _ = writeln!(d, "  {k} = {v};");
        }
        d.push_str("}\n");
        files.insert("default.nix".into(), d);
        files
    }

    /// Smaller cases, biggest cuts first: each drops one unit, file, item
    /// or binding.
    pub fn smaller(&self) -> Vec<Case> {
        let mut out = Vec::new();
        let with = |units: Vec<Unit>| Case {
            seed: self.seed,
            units,
        };
        for i in 0..self.units.len() {
            let mut u = self.units.clone();
            u.remove(i);
            out.push(with(u));
        }
        for i in 0..self.units.len() {
            match &self.units[i] {
                Unit::Haskell(h) => {
                    for f in 0..h.files.len() {
                        if h.files.len() > 1 {
                            let mut h2 = h.clone();
                            h2.files.remove(f);
                            let mut u = self.units.clone();
                            u[i] = Unit::Haskell(h2);
                            out.push(with(u));
                        }
                        let n = match &h.files[f].body {
                            HsBody::Overlay { items, .. } => items.len(),
                            HsBody::Pso(e) => e.len(),
                        };
                        for k in 0..n {
                            if n < 2 {
                                break;
                            }
                            let mut h2 = h.clone();
                            match &mut h2.files[f].body {
                                HsBody::Overlay { items, .. } => {
                                    items.remove(k);
                                }
                                HsBody::Pso(e) => {
                                    e.remove(k);
                                }
                            }
                            let mut u = self.units.clone();
                            u[i] = Unit::Haskell(h2);
                            out.push(with(u));
                        }
                    }
                }
                Unit::Nixpkgs(np) => {
                    for f in 0..np.files.len() {
                        if np.files.len() > 1 {
                            let mut n2 = np.clone();
                            n2.files.remove(f);
                            let mut u = self.units.clone();
                            u[i] = Unit::Nixpkgs(n2);
                            out.push(with(u));
                        }
                        for k in 0..np.files[f].top.len() {
                            let mut n2 = np.clone();
                            n2.files[f].top.remove(k);
                            let mut u = self.units.clone();
                            u[i] = Unit::Nixpkgs(n2);
                            out.push(with(u));
                        }
                        let n = match &np.files[f].inner {
                            HsBody::Overlay { items, .. } => items.len(),
                            HsBody::Pso(e) => e.len(),
                        };
                        for k in 0..n {
                            let mut n2 = np.clone();
                            match &mut n2.files[f].inner {
                                HsBody::Overlay { items, .. } => {
                                    items.remove(k);
                                }
                                HsBody::Pso(e) => {
                                    if e.len() < 2 {
                                        continue;
                                    }
                                    e.remove(k);
                                }
                            }
                            let mut u = self.units.clone();
                            u[i] = Unit::Nixpkgs(n2);
                            out.push(with(u));
                        }
                    }
                }
                Unit::Generic(g) => {
                    for k in 0..g.binds.len() {
                        let mut g2 = g.clone();
                        let gone = g2.binds.remove(k).name;
                        // And whatever needed it.
                        let mut dropped = BTreeSet::from([gone]);
                        loop {
                            let before = g2.binds.len();
                            g2.binds.retain(|b| {
                                let keep = b.expr.deps().iter().all(|d| !dropped.contains(*d));
                                if !keep {
                                    dropped.insert(b.name.clone());
                                }
                                keep
                            });
                            if g2.binds.len() == before {
                                break;
                            }
                        }
                        if g2.binds.iter().any(|b| !b.expr.is_drv()) {
                            let mut u = self.units.clone();
                            u[i] = Unit::Generic(g2);
                            out.push(with(u));
                        }
                    }
                }
            }
        }
        out
    }
}

fn cabal(name: &str, version: &str) -> String {
    format!(
        "cabal-version: 2.4\nname: {name}\nversion: {version}\nsynopsis: generated by the semantic fuzzer\nlicense: MIT\nbuild-type: Simple\n\nlibrary\n  exposed-modules: M\n  build-depends: base, text, containers\n  default-language: Haskell2010\n"
    )
}

fn compose(c: Compose, lib: &str, fs: &[String]) -> String {
    if fs.len() == 1 {
        return fs[0].clone();
    }
    match c {
        Compose::Extensions => fs.iter().skip(1).fold(fs[0].clone(), |acc, f| {
            format!("({lib}.composeExtensions {acc} {f})")
        }),
        Compose::Many => format!("({lib}.composeManyExtensions [ {} ])", fs.join(" ")),
        Compose::Fold => format!(
            "({lib}.fold {lib}.composeExtensions (_: _: {{ }}) [ {} ])",
            fs.join(" ")
        ),
    }
}

fn render_haskell(h: &HaskellUnit, files: &mut Files, needs: &mut BTreeSet<&'static str>) -> Out {
    let mut fs = Vec::new();
    let mut attrs = Vec::new();
    for f in &h.files {
        let mut ctx = Ctx {
            file: f.path.clone(),
            lib: "lib".into(),
            pkgs: "pkgs".into(),
            repo_args: true,
            needs: BTreeSet::new(),
        };
        let body = match &f.body {
            HsBody::Overlay { names, items } => {
                for it in items {
                    attrs.extend(item_attrs(it));
                }
                let mut outer = BTreeMap::new();
                render_overlay(
                    &mut ctx,
                    *names,
                    items,
                    &mut outer,
                    "pkgs.haskellPackages",
                    files,
                    "",
                )
            }
            HsBody::Pso(e) => {
                attrs.extend(e.iter().map(|(n, _)| n.clone()));
                let t = pso_text(&ctx, "pkgs.haskell.lib", e, "");
                ctx.needs.insert("pkgs");
                t
            }
        };
        files.insert(f.path.clone(), format!("{}{body}\n", header(&ctx.needs)));
        needs.extend(ctx.needs.iter().filter(|n| **n != "pkgs"));
        fs.push(format!("(import ./{}{})", f.path, inherit_args(&ctx.needs)));
    }
    needs.insert("lib");
    let set = if h.ghc964 {
        "pkgs.haskell.packages.ghc964"
    } else {
        "pkgs.haskellPackages"
    };
    let overlay = compose(h.compose, "lib", &fs);
    let hp = match h.wrap {
        Wrap::Override => format!("{set}.override {{ overrides = {overlay}; }}"),
        Wrap::OverrideOld => format!(
            "{set}.override (old: {{ overrides = lib.composeExtensions (old.overrides or (_: _: {{ }})) {overlay}; }})"
        ),
        Wrap::Extend => format!("{set}.extend {overlay}"),
    };
    let v = format!("hp{}", h.id);
    Out {
        lets: vec![format!("{v} = {hp};")],
        attrs: export(h.id, &v, &attrs),
    }
}

fn item_attrs(it: &Item) -> Vec<String> {
    match &it.call {
        Call::MapHackage(p) => p.iter().map(|(n, _)| n.to_string()).collect(),
        Call::GenCabal(ns) => ns.iter().map(|n| n.to_string()).collect(),
        _ => vec![it.attr.clone()],
    }
}

fn export(id: usize, var: &str, attrs: &[String]) -> Vec<(String, String)> {
    let set: BTreeSet<&String> = attrs.iter().collect();
    set.into_iter()
        .map(|a| (format!("u{id}-{a}"), format!("{var}.{a}")))
        .collect()
}

fn render_nixpkgs(n: &NixpkgsUnit, files: &mut Files, needs: &mut BTreeSet<&'static str>) -> Out {
    let mut overlays = Vec::new();
    let mut inner_attrs: BTreeMap<bool, Vec<String>> = BTreeMap::new();
    let mut top_attrs = Vec::new();
    for f in &n.files {
        let (fin, prev) = f.names;
        let mut ctx = Ctx {
            file: f.path.clone(),
            lib: format!("{prev}.lib"),
            pkgs: fin.to_string(),
            repo_args: true,
            needs: BTreeSet::new(),
        };
        let set = if f.ghc964 {
            "haskell.packages.ghc964"
        } else {
            "haskellPackages"
        };
        let mut outer = BTreeMap::new();
        let h = match &f.inner {
            HsBody::Overlay { names, items } => {
                for it in items {
                    inner_attrs
                        .entry(f.ghc964)
                        .or_default()
                        .extend(item_attrs(it));
                }
                format!(
                    "({})",
                    render_overlay(
                        &mut ctx,
                        *names,
                        items,
                        &mut outer,
                        &format!("{fin}.{set}"),
                        files,
                        "      ",
                    )
                )
            }
            HsBody::Pso(e) => {
                inner_attrs
                    .entry(f.ghc964)
                    .or_default()
                    .extend(e.iter().map(|(n, _)| n.clone()));
                format!(
                    "({})",
                    pso_text(&ctx, &format!("{prev}.haskell.lib"), e, "      ")
                )
            }
        };
        let lib = format!("{prev}.lib");
        let base = format!("{prev}.{set}");
        let nested = match f.nest {
            Nest::Override => format!("{base}.override {{\n      overrides = {h};\n    }}"),
            Nest::OverrideOld => format!(
                "{base}.override (old: {{\n      overrides = {lib}.composeExtensions (old.overrides or (_: _: {{ }})) {h};\n    }})"
            ),
            Nest::Extend => format!("{base}.extend {h}"),
            Nest::Fold => format!(
                "{base}.override (old: {{\n      overrides = {lib}.fold {lib}.composeExtensions (old.overrides or (_: _: {{ }})) [ {h} ];\n    }})"
            ),
        };
        let mut body = String::new();
        if f.ghc964 {
            let _ = write!(
                body,
                "  haskell = {prev}.haskell // {{\n    packages = {prev}.haskell.packages // {{\n      ghc964 = {nested};\n    }};\n  }};\n"
            );
        } else {
            let _ = writeln!(body, "  haskellPackages = {nested};");
        }
        for it in &f.top {
            let v = call_text(
                &mut ctx,
                &format!("{fin}.haskellPackages.{}", fn_name(&it.call)),
                &it.call,
            );
            let _ = writeln!(body, "  {} = {v};", it.attr);
            top_attrs.push(it.attr.clone());
        }
        let mut text = header(&ctx.needs);
        let _ = writeln!(text, "{fin}: {prev}:");
        if !outer.is_empty() {
            text.push_str("let\n");
            for l in outer.values() {
                let _ = writeln!(text, "  {l}");
            }
            text.push_str("in\n");
        }
        let _ = write!(text, "{{\n{body}}}\n");
        files.insert(f.path.clone(), text);
        needs.extend(ctx.needs.iter());
        overlays.push(format!("(import ./{}{})", f.path, inherit_args(&ctx.needs)));
    }
    let v = format!("p{}", n.id);
    let mut attrs = Vec::new();
    for (ghc964, names) in &inner_attrs {
        let set = if *ghc964 {
            format!("{v}.haskell.packages.ghc964")
        } else {
            format!("{v}.haskellPackages")
        };
        let tag = if *ghc964 { "ghc964-" } else { "" };
        let uniq: BTreeSet<&String> = names.iter().collect();
        for a in uniq {
            attrs.push((format!("u{}-{tag}{a}", n.id), format!("{set}.{a}")));
        }
    }
    let uniq: BTreeSet<&String> = top_attrs.iter().collect();
    for a in uniq {
        attrs.push((format!("u{}-{a}", n.id), format!("{v}.{a}")));
    }
    Out {
        lets: vec![format!(
            "{v} = pkgs.appendOverlays [ {} ];",
            overlays.join(" ")
        )],
        attrs,
    }
}

fn render_generic(g: &GenericUnit, files: &mut Files) -> Out {
    let id = g.id;
    let mut body = String::new();
    let mut uses_lib = false;
    let mut helper = false;
    let mut values = Vec::new();
    let site = |e: &GExpr, uses_lib: &mut bool, helper: &mut bool| -> String {
        fn go(e: &GExpr, uses_lib: &mut bool, helper: &mut bool) -> String {
            match e {
                GExpr::Import(d) => format!("import {d}"),
                GExpr::ReadFile(d) => format!("builtins.readFile {d}"),
                GExpr::ReadSub(d) => format!("builtins.readFile \"${{{d}}}/default.nix\""),
                GExpr::FromJson(d) => format!("(builtins.fromJSON (builtins.readFile {d})).k"),
                GExpr::ImportJson(d) => {
                    *uses_lib = true;
                    format!("lib.importJSON {d}")
                }
                GExpr::ReadDir(d) => format!("builtins.attrNames (builtins.readDir {d})"),
                GExpr::If(c, e) => {
                    format!("if {c} then {} else \"no\"", go(e, uses_lib, helper))
                }
                GExpr::Helper(d) => {
                    *helper = true;
                    format!("rd {d}")
                }
                GExpr::MapRead(ds) => {
                    *uses_lib = true;
                    format!(
                        "lib.mapAttrs (_: d: builtins.readFile d) {{ inherit {}; }}",
                        ds.join(" ")
                    )
                }
                _ => String::new(),
            }
        }
        go(e, uses_lib, helper)
    };
    for b in &g.binds {
        let text = match &b.expr {
            GExpr::Text(n) => {
                format!(
                    "runCommand \"g{id}-{}\" {{ }} ''echo '\"s{n}\"' > $out''",
                    b.name
                )
            }
            GExpr::Dir(n) => format!(
                "runCommand \"g{id}-{}\" {{ }} ''mkdir $out; echo '{{ x = {n}; }}' > $out/default.nix''",
                b.name
            ),
            GExpr::Json(n) => format!(
                "pkgs.writeText \"g{id}-{}.json\" ''{{ \"k\": {n} }}''",
                b.name
            ),
            GExpr::Chain(v) => format!(
                "runCommand \"g{id}-{}\" {{ }} \"echo ${{toString {v}}} > $out\"",
                b.name
            ),
            e => {
                values.push(b.name.clone());
                site(e, &mut uses_lib, &mut helper)
            }
        };
        let _ = writeln!(body, "  {} = {text};", b.name);
    }
    let mut text = String::new();
    if let Some(w) = g.import_world {
        let _ = write!(
            text,
            "{{ {w}, salt }}:\nlet\n  pkgs = import {w} {{ inherit salt; }};\n"
        );
    } else {
        text.push_str("{ pkgs }:\nlet\n");
    }
    let _ = writeln!(
        text,
        "  inherit (pkgs) {}runCommand;",
        if uses_lib { "lib " } else { "" }
    );
    if helper {
        text.push_str("  rd = f: builtins.readFile f;\n");
    }
    text.push_str(&body);
    let _ = write!(text, "in\n{{\n  inherit {};\n}}\n", values.join(" "));
    files.insert(g.path.clone(), text);
    let v = format!("g{id}");
    let args = match g.import_world {
        Some("nixpkgs") => "{ inherit nixpkgs salt; }".to_string(),
        Some(w) => format!("{{ {w} = nixpkgs; inherit salt; }}"),
        None => "{ inherit pkgs; }".to_string(),
    };
    Out {
        lets: vec![format!("{v} = import ./{} {args};", g.path)],
        attrs: values
            .iter()
            .map(|n| (format!("u{id}-{n}"), format!("{v}.{n}")))
            .collect(),
    }
}

// ---------------------------------------------------------------------------
// A tiny JSON reader (xtask has no serde_json; the tests share this file).

#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn parse(s: &str) -> Option<Json> {
        let mut p = JsonParser {
            b: s.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        (p.i == p.b.len()).then_some(v)
    }
    pub fn get(&self, k: &str) -> &Json {
        match self {
            Json::Obj(kv) => kv
                .iter()
                .find(|(x, _)| x == k)
                .map_or(&Json::Null, |(_, v)| v),
            _ => &Json::Null,
        }
    }
    pub fn str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            _ => &[],
        }
    }
    pub fn num(&self) -> Option<u64> {
        match self {
            Json::Num(n) => n.parse().ok(),
            _ => None,
        }
    }
}

struct JsonParser<'a> {
    b: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }
    fn value(&mut self) -> Option<Json> {
        self.ws();
        match *self.b.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut kv = Vec::new();
                if self.eat(b'}').is_some() {
                    return Some(Json::Obj(kv));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.eat(b':')?;
                    kv.push((k, self.value()?));
                    if self.eat(b',').is_none() {
                        self.eat(b'}')?;
                        return Some(Json::Obj(kv));
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                if self.eat(b']').is_some() {
                    return Some(Json::Arr(a));
                }
                loop {
                    a.push(self.value()?);
                    if self.eat(b',').is_none() {
                        self.eat(b']')?;
                        return Some(Json::Arr(a));
                    }
                }
            }
            b'"' => self.string().map(Json::Str),
            b't' => self.word("true", Json::Bool(true)),
            b'f' => self.word("false", Json::Bool(false)),
            b'n' => self.word("null", Json::Null),
            _ => {
                let start = self.i;
                while self.i < self.b.len()
                    && matches!(
                        self.b[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                (self.i > start)
                    .then(|| Json::Num(String::from_utf8_lossy(&self.b[start..self.i]).into()))
            }
        }
    }
    fn word(&mut self, w: &str, v: Json) -> Option<Json> {
        self.b[self.i..].starts_with(w.as_bytes()).then(|| {
            self.i += w.len();
            v
        })
    }
    fn string(&mut self) -> Option<String> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.b.get(self.i)?;
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = std::str::from_utf8(self.b.get(self.i..self.i + 4)?).ok()?;
                            self.i += 4;
                            let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)
                                .unwrap_or('\u{fffd}');
                            let mut buf = [0; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The oracle.

/// Where the tools are.
#[derive(Clone)]
pub struct Tools {
    /// The ifd-batch binary.
    pub ifd_batch: PathBuf,
    /// The checkout (for `fixtures/semantic/eval.nix` and the world).
    pub project: PathBuf,
    /// `NIX_CONFIG` for every Nix command.
    pub nix_config: String,
    /// Run deadnix (found on PATH or in ~/.cargo/bin).
    pub deadnix: Option<PathBuf>,
    /// The test world's `pkgs.ifd-batch` (a store path with
    /// `bin/ifd-batch`): the batch then extracts through the seekable
    /// index (`IFD_BATCH_WORLD_TOOL`, read by fixtures/mini-nixpkgs).
    pub world_tool: Option<String>,
}

pub const NIX_CONFIG: &str =
    "substituters =\nsandbox = false\nbuild-users-group =\nexperimental-features = nix-command";

impl Tools {
    pub fn new(ifd_batch: PathBuf, project: PathBuf) -> Tools {
        let nix_config = std::env::var("NIX_CONFIG").unwrap_or_else(|_| NIX_CONFIG.to_string());
        let mut candidates = vec![PathBuf::from("deadnix")];
        if let Some(home) = std::env::var_os("HOME") {
            candidates.push(Path::new(&home).join(".cargo/bin/deadnix"));
        }
        let deadnix = candidates.into_iter().find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
        Tools {
            ifd_batch,
            project,
            nix_config,
            deadnix,
            world_tool: None,
        }
    }
}

/// One failed check.
#[derive(Clone, Debug)]
pub struct Failure {
    /// A stable class: `eval-broken`, `value-changed`, `verdict`,
    /// `internal`, `rewrite-error`, `not-idempotent`, `check-after`,
    /// `reparse`, `deadnix`.
    pub class: &'static str,
    pub detail: String,
}

/// What one repository did.
#[derive(Debug, Default)]
pub struct Report {
    pub attrs: usize,
    /// Attributes that evaluated before the rewrite (the others are left out).
    pub attrs_ok: usize,
    pub sites: usize,
    pub edited: usize,
    pub skipped: BTreeMap<String, usize>,
    pub failures: Vec<Failure>,
    /// Attributes that failed before the rewrite (the generator's fault, or
    /// the world's): name and error.
    pub broken_before: Vec<(String, String)>,
}

struct Proc {
    ok: bool,
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(mut c: Command) -> Proc {
    match c.output() {
        Ok(o) => Proc {
            ok: o.status.success(),
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        },
        Err(e) => Proc {
            ok: false,
            code: -1,
            stdout: String::new(),
            stderr: format!("cannot run {:?}: {e}", c.get_program()),
        },
    }
}

/// The last `error:` of a Nix failure, shortened.
fn nix_error(stderr: &str) -> String {
    let from = stderr.rfind("error:").unwrap_or(0);
    let text: String = stderr[from..]
        .lines()
        .take(6)
        .collect::<Vec<_>>()
        .join(" | ");
    text.chars().take(400).collect()
}

fn write_files(dir: &Path, files: &Files) -> std::io::Result<()> {
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap_or(dir))?;
        std::fs::write(p, text)?;
    }
    Ok(())
}

/// Every file under `dir`, relative path → text.
pub fn read_tree(dir: &Path) -> Files {
    let mut out = Files::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, t);
            }
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let (src, dest) = (e.path(), to.join(e.file_name()));
        if e.file_type()?.is_dir() {
            copy_dir(&src, &dest)?;
        } else {
            std::fs::copy(&src, &dest)?;
        }
    }
    Ok(())
}

impl Tools {
    /// Evaluate in a copy of the world under `work`: a world edited while
    /// the run goes on must not change drvPaths between before and after.
    pub fn snapshot_world(&mut self, work: &Path) -> std::io::Result<()> {
        for d in ["fixtures/mini-nixpkgs", "fixtures/semantic"] {
            copy_dir(&self.project.join(d), &work.join(d))?;
        }
        self.project = work.to_path_buf();
        Ok(())
    }

    fn ifd_batch(&self, dir: &Path, args: &[&str]) -> Proc {
        let mut c = Command::new(&self.ifd_batch);
        c.args(args)
            .current_dir(dir)
            .env("NIX_CONFIG", &self.nix_config);
        if let Some(t) = &self.world_tool {
            c.env("IFD_BATCH_WORLD_TOOL", t);
        }
        run(c)
    }

    /// drvPaths / values of `names` (all when `None`) in the repository at
    /// `dir`: Ok(JSON object) or Err(error text).
    fn eval(&self, dir: &Path, salt: &str, names: Option<&[String]>) -> Result<Json, String> {
        let only = match names {
            None => "null".to_string(),
            Some(ns) => format!(
                "[ {} ]",
                ns.iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        };
        let expr = format!(
            "import {}/fixtures/semantic/eval.nix {{ repo = {}; salt = \"{salt}\"; only = {only}; }}",
            self.project.display(),
            dir.display()
        );
        let mut c = Command::new("nix-instantiate");
        c.args([
            "--eval",
            "--strict",
            "--json",
            "--read-write-mode",
            "-E",
            &expr,
        ])
        .current_dir(dir)
        .env("NIX_CONFIG", &self.nix_config);
        if let Some(t) = &self.world_tool {
            c.env("IFD_BATCH_WORLD_TOOL", t);
        }
        let p = run(c);
        if !p.ok {
            return Err(nix_error(&p.stderr));
        }
        Json::parse(p.stdout.trim()).ok_or_else(|| format!("not JSON: {}", p.stdout))
    }

    /// Every attribute: Ok(value as JSON text) or Err(error). One call when
    /// everything evaluates, one per attribute otherwise.
    fn eval_all(
        &self,
        dir: &Path,
        salt: &str,
        names: &[String],
    ) -> BTreeMap<String, Result<String, String>> {
        let mut out = BTreeMap::new();
        if let Ok(Json::Obj(kv)) = self.eval(dir, salt, Some(names)) {
            for (k, v) in kv {
                out.insert(k, Ok(format!("{v:?}")));
            }
            return out;
        }
        for n in names {
            let r = match self.eval(dir, salt, Some(std::slice::from_ref(n))) {
                Ok(v) => Ok(format!("{:?}", v.get(n))),
                Err(e) => Err(e),
            };
            out.insert(n.clone(), r);
        }
        out
    }

    /// deadnix's findings in `file` (messages, without positions).
    fn deadnix(&self, file: &Path) -> Option<Vec<String>> {
        let d = self.deadnix.as_ref()?;
        let mut c = Command::new(d);
        c.args(["--output-format", "json"]).arg(file);
        let p = run(c);
        let mut out: Vec<String> = p
            .stdout
            .lines()
            .filter_map(Json::parse)
            .flat_map(|j| {
                j.get("results")
                    .arr()
                    .iter()
                    .map(|r| r.get("message").str().unwrap_or("").to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        out.sort();
        Some(out)
    }
}

/// The site key every command agrees on.
type SiteKey = (String, u64, u64);

fn sites_of(doc: &Json) -> Vec<(SiteKey, &Json)> {
    doc.get("sites")
        .arr()
        .iter()
        .map(|s| {
            (
                (
                    s.get("file").str().unwrap_or("").to_string(),
                    s.get("line").num().unwrap_or(0),
                    s.get("column").num().unwrap_or(0),
                ),
                s,
            )
        })
        .collect()
}

/// Check one repository (written to `dir`, which must not exist yet).
pub fn check_case(tools: &Tools, case: &Case, dir: &Path, salt: &str) -> Report {
    let mut rep = Report::default();
    let fail = |rep: &mut Report, class: &'static str, detail: String| {
        rep.failures.push(Failure { class, detail });
    };
    let files = case.render();
    if let Err(e) = write_files(dir, &files) {
        fail(&mut rep, "rewrite-error", format!("writing the case: {e}"));
        return rep;
    }
    // The attribute names, from default.nix's export lines.
    let names: Vec<String> = files["default.nix"]
        .split("in\n{\n")
        .nth(1)
        .unwrap_or("")
        .lines()
        .filter_map(|l| l.trim().split(" = ").next())
        .filter(|n| !n.is_empty() && *n != "}")
        .map(String::from)
        .collect();
    rep.attrs = names.len();
    let before = tools.eval_all(dir, salt, &names);
    rep.attrs_ok = before.values().filter(|r| r.is_ok()).count();
    rep.broken_before = before
        .iter()
        .filter_map(|(n, r)| r.as_ref().err().map(|e| (n.clone(), e.clone())))
        .collect();

    // Verdicts: scan, check, rewrite.
    let scan = tools.ifd_batch(dir, &["scan", ".", "--format", "json"]);
    let scan_doc = Json::parse(&scan.stdout).unwrap_or(Json::Null);
    let check = tools.ifd_batch(dir, &["check", "--all", "--root", "."]);
    let plan = tools.ifd_batch(dir, &["rewrite", ".", "--format", "json"]);
    let plan_doc = Json::parse(&plan.stdout);
    let mut deadnix_before = BTreeMap::new();
    for (rel, text) in &files {
        let _ = text;
        if rel.ends_with(".nix")
            && let Some(found) = tools.deadnix(&dir.join(rel))
        {
            deadnix_before.insert(rel.clone(), found);
        }
    }
    let write = tools.ifd_batch(dir, &["rewrite", ".", "--write", "--format", "json"]);
    let Some(doc) = Json::parse(&write.stdout) else {
        fail(
            &mut rep,
            "rewrite-error",
            format!("exit {}: {}{}", write.code, write.stdout, write.stderr),
        );
        return rep;
    };
    if !write.ok {
        fail(
            &mut rep,
            "rewrite-error",
            format!(
                "rewrite --write exited {}: {}",
                write.code,
                write.stderr.trim()
            ),
        );
    }
    let same_plan = plan_doc.as_ref().is_some_and(|p| {
        ["sites", "changed_files", "manifest_changed"]
            .iter()
            .all(|k| p.get(k) == doc.get(k))
    });
    if !same_plan {
        fail(
            &mut rep,
            "verdict",
            "rewrite's dry run and --write planned differently".into(),
        );
    }
    let rewritten = sites_of(&doc);
    rep.sites = rewritten.len();
    let mut edited = BTreeSet::new();
    let mut batched = BTreeSet::new();
    for (k, s) in &rewritten {
        let action = s.get("action").str().unwrap_or("");
        if action == "edited" {
            edited.insert(k.clone());
        }
        if action == "edited" || action == "routed" {
            batched.insert(k.clone());
        } else {
            let code = s.get("reason_code").str().unwrap_or("?").to_string();
            if code == "internal" {
                fail(
                    &mut rep,
                    "internal",
                    format!(
                        "{}:{}:{}: {}",
                        k.0,
                        k.1,
                        k.2,
                        s.get("reason").str().unwrap_or("")
                    ),
                );
            }
            *rep.skipped.entry(code).or_default() += 1;
        }
    }
    rep.edited = edited.len();
    let scanned = sites_of(&scan_doc);
    let scan_keys: BTreeSet<SiteKey> = scanned.iter().map(|(k, _)| k.clone()).collect();
    let rewrite_keys: BTreeSet<SiteKey> = rewritten.iter().map(|(k, _)| k.clone()).collect();
    if scan_keys != rewrite_keys {
        fail(
            &mut rep,
            "verdict",
            format!(
                "scan and rewrite see different sites: scan only {:?}, rewrite only {:?}",
                scan_keys.difference(&rewrite_keys).collect::<Vec<_>>(),
                rewrite_keys.difference(&scan_keys).collect::<Vec<_>>()
            ),
        );
    }
    for (k, s) in &scanned {
        let says = s.get("batchable") == &Json::Bool(true);
        if rewrite_keys.contains(k) && says != batched.contains(k) {
            let r = rewritten.iter().find(|(x, _)| x == k).map(|(_, s)| *s);
            fail(
                &mut rep,
                "verdict",
                format!(
                    "{}:{}:{} ({}): scan says batchable={says}, rewrite says {} ({})",
                    k.0,
                    k.1,
                    k.2,
                    s.get("call").str().unwrap_or(""),
                    r.map_or("?", |r| r.get("action").str().unwrap_or("?")),
                    r.map_or("", |r| r.get("reason").str().unwrap_or("")),
                ),
            );
        }
    }
    let manifest = "nix/ifd-batch.nix";
    let reported: BTreeSet<SiteKey> = check
        .stdout
        .lines()
        .filter_map(|l| {
            let mut p = l.splitn(4, ':');
            let (f, line, col) = (p.next()?, p.next()?, p.next()?);
            if f == manifest {
                return None;
            }
            Some((f.to_string(), line.parse().ok()?, col.parse().ok()?))
        })
        .collect();
    if reported != edited {
        fail(
            &mut rep,
            "verdict",
            format!(
                "check --all reports other sites than rewrite edits: check only {:?}, rewrite only {:?}",
                reported.difference(&edited).collect::<Vec<_>>(),
                edited.difference(&reported).collect::<Vec<_>>()
            ),
        );
    }
    if check.ok != edited.is_empty() {
        fail(
            &mut rep,
            "verdict",
            format!(
                "check --all exited {} with {} site(s) to edit",
                check.code,
                edited.len()
            ),
        );
    }

    // Written files reparse and are no worse for deadnix.
    let after_tree = read_tree(dir);
    for (rel, text) in &after_tree {
        if !rel.ends_with(".nix") || files.get(rel) == Some(text) {
            continue;
        }
        let mut c = Command::new("nix-instantiate");
        c.arg("--parse")
            .arg(dir.join(rel))
            .env("NIX_CONFIG", &tools.nix_config);
        let p = run(c);
        if !p.ok {
            fail(
                &mut rep,
                "reparse",
                format!("{rel}: {}", nix_error(&p.stderr)),
            );
        }
        if let Some(mut found) = tools.deadnix(&dir.join(rel)) {
            for was in deadnix_before.get(rel).into_iter().flatten() {
                if let Some(i) = found.iter().position(|f| f == was) {
                    found.remove(i);
                }
            }
            if !found.is_empty() {
                fail(
                    &mut rep,
                    "deadnix",
                    format!("{rel}: new after the rewrite: {}", found.join("; ")),
                );
            }
        }
    }

    // Idempotence, and nothing left for check.
    let again = tools.ifd_batch(dir, &["rewrite", ".", "--write", "--format", "json"]);
    let again_doc = Json::parse(&again.stdout).unwrap_or(Json::Null);
    if !again.ok
        || !again_doc.get("changed_files").arr().is_empty()
        || again_doc.get("manifest_changed") == &Json::Bool(true)
        || read_tree(dir) != after_tree
    {
        fail(
            &mut rep,
            "not-idempotent",
            format!(
                "second rewrite --write changed {:?} (manifest changed: {:?}) {}",
                again_doc.get("changed_files"),
                again_doc.get("manifest_changed"),
                again.stderr.trim()
            ),
        );
    }
    let check_after = tools.ifd_batch(dir, &["check", "--all", "--root", "."]);
    if !check_after.ok {
        fail(
            &mut rep,
            "check-after",
            format!(
                "check --all after the rewrite exited {}: {}{}",
                check_after.code,
                check_after.stdout.trim(),
                check_after.stderr.trim()
            ),
        );
    }

    // The semantics.
    let ok_names: Vec<String> = before
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(n, _)| n.clone())
        .collect();
    if !ok_names.is_empty() {
        let after = tools.eval_all(dir, salt, &ok_names);
        for n in &ok_names {
            let b = before[n].as_ref().ok();
            match after.get(n) {
                Some(Ok(a)) if Some(a) == b => {}
                Some(Ok(a)) => fail(
                    &mut rep,
                    "value-changed",
                    format!("{n}: before {}, after {a}", b.map_or("", |s| s)),
                ),
                Some(Err(e)) => fail(&mut rep, "eval-broken", format!("{n}: {e}")),
                None => fail(&mut rep, "eval-broken", format!("{n}: missing after")),
            }
        }
    }
    rep
}

/// Shrink a failing case: drop units, files, items and bindings while a
/// failure of the same class remains. At most `budget` checks.
pub fn shrink(
    tools: &Tools,
    case: &Case,
    class: &str,
    work: &Path,
    salt: &str,
    budget: usize,
) -> Case {
    let mut best = case.clone();
    let mut tries = 0;
    'outer: loop {
        for cand in best.smaller() {
            if tries >= budget {
                break 'outer;
            }
            tries += 1;
            let dir = work.join(format!("shrink-{}-{tries}", case.seed));
            let rep = check_case(tools, &cand, &dir, salt);
            let _ = std::fs::remove_dir_all(&dir);
            if rep.failures.iter().any(|f| f.class == class) {
                best = cand;
                continue 'outer;
            }
        }
        break;
    }
    best
}

/// Write a (shrunk) failing repository with a note of its failures.
pub fn write_failure(dir: &Path, case: &Case, failures: &[Failure]) -> std::io::Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    write_files(dir, &case.render())?;
    let mut note = format!(
        "Seed {} of xtask/src/fuzz_semantic.rs, shrunk.\n\nReproduce from the checkout:\n  cargo xtask fuzz-semantic --seed {} --cases 1\n\nEvaluate (before/after a rewrite):\n  nix-instantiate --eval --strict --json --read-write-mode -E 'import ./fixtures/semantic/eval.nix {{ repo = ./{}; }}'\n\nFailures:\n",
        case.seed,
        case.seed,
        dir.display()
    );
    for f in failures {
        let _ = writeln!(note, "- {}: {}", f.class, f.detail);
    }
    std::fs::write(dir.join("FAILURE.txt"), note)
}

/// Run seeds `from..from+n`, `jobs` at a time; returns (seed, report) in
/// seed order.
pub fn run_seeds(
    tools: &Tools,
    from: u64,
    n: u64,
    work: &Path,
    salt: &str,
    jobs: usize,
) -> Vec<(u64, Report)> {
    let next = std::sync::atomic::AtomicU64::new(from);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if seed >= from + n {
                        break;
                    }
                    let case = generate(seed);
                    let dir = work.join(format!("case-{seed}"));
                    let _ = std::fs::remove_dir_all(&dir);
                    let rep = check_case(tools, &case, &dir, salt);
                    if rep.failures.is_empty() {
                        let _ = std::fs::remove_dir_all(&dir);
                    }
                    results.lock().expect("results").push((seed, rep));
                }
            });
        }
    });
    let mut r = results.into_inner().expect("results");
    r.sort_by_key(|(s, _)| *s);
    r
}

/// A salt no earlier run used.
pub fn fresh_salt() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("semantic-{}-{t}", std::process::id())
}

/// Failure classes, worst first: a seed is shrunk for its worst one.
pub const CLASSES: &[&str] = &[
    "eval-broken",
    "value-changed",
    "internal",
    "rewrite-error",
    "reparse",
    "not-idempotent",
    "check-after",
    "verdict",
    "deadnix",
];

/// The worst class among `failures`.
pub fn worst(failures: &[Failure]) -> Option<&'static str> {
    CLASSES
        .iter()
        .copied()
        .find(|c| failures.iter().any(|f| f.class == *c))
}

/// The failing seeds per class, as `tests/it/semantic.rs`'s
/// `KNOWN_FAILING`.
pub fn known_failing(results: &[(u64, Report)]) -> String {
    let mut out = String::from("const KNOWN_FAILING: &[(&str, &[u64])] = &[\n");
    for c in CLASSES {
        let seeds: Vec<String> = results
            .iter()
            .filter(|(_, r)| r.failures.iter().any(|f| f.class == *c))
            .map(|(s, _)| s.to_string())
            .collect();
        if !seeds.is_empty() {
            let _ = writeln!(out, "    (\"{c}\", &[{}]),", seeds.join(", "));
        }
    }
    out.push_str("];\n");
    out
}

/// One line per failing seed and the totals.
pub fn summary(results: &[(u64, Report)]) -> String {
    let mut out = String::new();
    let (mut attrs, mut ok, mut sites, mut edited) = (0, 0, 0, 0);
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    for (seed, r) in results {
        attrs += r.attrs;
        ok += r.attrs_ok;
        sites += r.sites;
        edited += r.edited;
        for (k, v) in &r.skipped {
            *skipped.entry(k.clone()).or_default() += v;
        }
        for f in &r.failures {
            let _ = writeln!(out, "seed {seed}: {}: {}", f.class, f.detail);
        }
    }
    let failing = results
        .iter()
        .filter(|(_, r)| !r.failures.is_empty())
        .count();
    let _ = writeln!(
        out,
        "{} cases, {failing} failing; {attrs} attributes ({ok} evaluated before the rewrite), {sites} sites, {edited} edited, skipped {skipped:?}",
        results.len()
    );
    out
}

/// `cargo xtask fuzz-semantic --cases N [--seed S] [--bin PATH] [--out DIR] [--jobs J] [--no-shrink]`
pub fn main(mut args: impl Iterator<Item = String>) -> Result<(), String> {
    let mut cases = 20u64;
    let mut seed = 0u64;
    let mut bin: Option<PathBuf> = None;
    let mut out = PathBuf::from("bench-work/semantic-failures");
    let mut jobs = 2usize;
    let mut do_shrink = true;
    let mut per_class = 3usize;
    let mut print = false;
    let mut render: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--cases" => cases = val()?.parse().map_err(|e| format!("--cases: {e}"))?,
            "--seed" => seed = val()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--bin" => bin = Some(PathBuf::from(val()?)),
            "--out" => out = PathBuf::from(val()?),
            "--jobs" => jobs = val()?.parse().map_err(|e| format!("--jobs: {e}"))?,
            "--no-shrink" => do_shrink = false,
            "--shrink-per-class" => {
                per_class = val()?
                    .parse()
                    .map_err(|e| format!("--shrink-per-class: {e}"))?
            }
            "--print" => print = true,
            "--render" => render = Some(PathBuf::from(val()?)),
            _ => {
                return Err(
                    "usage: cargo xtask fuzz-semantic [--cases N] [--seed S] [--bin PATH] [--out DIR] [--jobs J] [--no-shrink] [--shrink-per-class N] [--print] [--render DIR]"
                        .into(),
                );
            }
        }
    }
    let project = std::env::current_dir().map_err(|e| e.to_string())?;
    if let Some(dir) = render {
        write_files(&dir, &generate(seed).render()).map_err(|e| e.to_string())?;
        return Ok(());
    }
    if print {
        for s in seed..seed + cases {
            for (rel, text) in generate(s).render() {
                if rel.ends_with(".nix") {
                    println!("=== seed {s}: {rel}\n{text}");
                }
            }
        }
        return Ok(());
    }
    let bin = match bin {
        Some(b) => b,
        None => {
            let st = Command::new("cargo")
                .args(["build", "--quiet", "--release", "-p", "ifd-batch"])
                .status()
                .map_err(|e| e.to_string())?;
            if !st.success() {
                return Err("cargo build of ifd-batch failed".into());
            }
            project.join("target/release/ifd-batch")
        }
    };
    let bin = bin
        .canonicalize()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let mut tools = Tools::new(bin, project.clone());
    if tools.deadnix.is_none() {
        eprintln!("note: deadnix not found; the deadnix check is skipped");
    }
    let work = std::env::temp_dir().join(format!("ifd-batch-semantic-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    tools.snapshot_world(&work).map_err(|e| e.to_string())?;
    let salt = fresh_salt();
    let t = std::time::Instant::now();
    let results = run_seeds(&tools, seed, cases, &work, &salt, jobs);
    eprintln!("{}", summary(&results));
    if std::env::var_os("FUZZ_SEMANTIC_VERBOSE").is_some() {
        for (s, r) in &results {
            for (n, e) in &r.broken_before {
                eprintln!("seed {s}: {n} fails before the rewrite: {e}");
            }
        }
    }
    eprintln!("checked in {:.1?}", t.elapsed());
    let mut failing = 0;
    let mut shrunk: BTreeMap<&str, usize> = BTreeMap::new();
    for (s, r) in &results {
        let Some(class) = worst(&r.failures) else {
            continue;
        };
        failing += 1;
        let n = shrunk.entry(class).or_default();
        if *n >= per_class {
            continue;
        }
        *n += 1;
        let case = generate(*s);
        let small = if do_shrink {
            shrink(&tools, &case, class, &work, &salt, 80)
        } else {
            case
        };
        let dir = work.join(format!("final-{s}"));
        let rep = check_case(&tools, &small, &dir, &salt);
        let _ = std::fs::remove_dir_all(&dir);
        let failures = if rep.failures.is_empty() {
            &r.failures
        } else {
            &rep.failures
        };
        let dest = out.join(s.to_string());
        write_failure(&dest, &small, failures).map_err(|e| e.to_string())?;
        eprintln!("seed {s}: {class}: shrunk to {}", dest.display());
    }
    if failing > 0 {
        std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
        let text = format!("{}\n{}", summary(&results), known_failing(&results));
        std::fs::write(out.join("SUMMARY.txt"), text).map_err(|e| e.to_string())?;
        eprintln!("every failure: {}", out.join("SUMMARY.txt").display());
    }
    let _ = std::fs::remove_dir_all(&work);
    if failing > 0 {
        return Err(format!("{failing} failing seed(s)"));
    }
    Ok(())
}
