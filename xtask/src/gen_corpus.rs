//! Deterministic generator of a large, realistic Nix corpus for the scan
//! benchmark (`benches/scan.sh`).
//!
//! ```text
//! cargo xtask gen-corpus --out DIR --files N [--seed S]
//! ```
//!
//! Writes exactly N `.nix` files under DIR in a nixpkgs-like tree: package
//! expressions (`stdenv.mkDerivation`, `buildPythonPackage`, `buildGoModule`,
//! `buildRustPackage`), NixOS modules with long option sets, library files,
//! `callPackage` lists, Haskell overlays (`callHackage`, `callCabal2nix`,
//! `lib.mapAttrs (n: v: self.callHackage n v { }) pins`, `dontCheck`), a few
//! import-from-derivation files (`import "${drv}/default.nix"`,
//! `builtins.readFile (runCommand ...)`, `builtins.fetchTarball`), flakes,
//! and one multi-megabyte `hackage-packages`-like file per 4,000 files.
//!
//! The output is a pure function of (N, seed): every file has its own
//! splitmix64 stream seeded from (seed, index), so files are generated in
//! parallel and the bytes never depend on scheduling. Every file parses
//! without errors with rnix. Prints file count and total bytes.

use rayon::prelude::*;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One line into a `String` (formatting into a `String` cannot fail).
macro_rules! ln {
    ($s:expr) => {
        $s.push('\n')
    };
    ($s:expr, $($t:tt)*) => {{
        let _ = writeln!($s, $($t)*);
    }};
}

// ---------------------------------------------------------------- randomness

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, good enough here.
struct Rng(u64);

impl Rng {
    fn for_file(seed: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ index.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 11) % n as u64) as usize
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
    /// `k` distinct-ish picks (duplicates removed, order kept).
    fn some<'a>(&mut self, xs: &[&'a str], k: usize) -> Vec<&'a str> {
        let mut out: Vec<&str> = Vec::with_capacity(k);
        for _ in 0..k {
            let x = self.pick(xs);
            if !out.contains(&x) {
                out.push(x);
            }
        }
        out
    }
    fn some_n<'a>(&mut self, xs: &[&'a str], lo: usize, hi: usize) -> Vec<&'a str> {
        let k = self.range(lo, hi);
        self.some(xs, k)
    }
    fn sentence_n(&mut self, lo: usize, hi: usize) -> String {
        let k = self.range(lo, hi);
        self.sentence(k)
    }
    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[self.below(alphabet.len())] as char)
            .collect()
    }
    fn sri(&mut self) -> String {
        let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        format!("sha256-{}=", self.chars(b64, 43))
    }
    fn base32(&mut self) -> String {
        self.chars(b"0123456789abcdfghijklmnpqrsvwxyz", 52)
    }
    fn rev(&mut self) -> String {
        self.chars(b"0123456789abcdef", 40)
    }
    fn version(&mut self) -> String {
        match self.below(4) {
            0 => format!("{}.{}", self.below(5), self.below(30)),
            1 => format!("{}.{}.{}", self.below(4), self.below(20), self.below(15)),
            2 => format!(
                "{}.{}.{}.{}",
                self.below(3),
                self.below(10),
                self.below(9),
                self.below(6)
            ),
            _ => format!(
                "20{}-{:02}-{:02}",
                self.range(18, 25),
                self.range(1, 12),
                self.range(1, 28)
            ),
        }
    }
    fn ident(&mut self) -> String {
        let p = self.pick(PREFIX);
        let s = self.pick(SUFFIX);
        if s.is_empty() || self.chance(50) {
            format!("{p}{s}")
        } else {
            format!("{p}-{s}")
        }
    }
    /// A sentence of `n` words.
    fn sentence(&mut self, n: usize) -> String {
        let mut s = String::new();
        for i in 0..n {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(self.pick(WORDS));
        }
        let mut c = s.chars();
        match c.next() {
            Some(f) => f.to_uppercase().chain(c).collect(),
            None => s,
        }
    }
}

// ---------------------------------------------------------------- word pools

const PREFIX: &[&str] = &[
    "lib", "py", "go", "rust", "node", "xml", "json", "yaml", "http", "ssl", "zlib", "gtk", "qt",
    "sdl", "gl", "cairo", "pango", "glib", "dbus", "udev", "sys", "net", "crypto", "audio",
    "video", "image", "font", "text", "term", "git", "mail", "db", "sql", "cache", "log", "time",
    "math", "fs", "cloud", "wave", "pixel", "spark", "tiny", "fast", "open", "free", "gnu", "kde",
    "x", "wl", "vk", "mesa", "proto", "grpc", "zstd", "lz", "archive", "pdf", "svg", "midi",
];
const SUFFIX: &[&str] = &[
    "", "util", "utils", "kit", "pp", "core", "tools", "d", "ctl", "fmt", "parse", "ify", "lite",
    "plus", "x", "mm", "io", "sync", "gen", "view", "server", "client", "bench", "fuzz", "rs",
];
const WORDS: &[&str] = &[
    "fast",
    "small",
    "library",
    "for",
    "parsing",
    "and",
    "generating",
    "data",
    "a",
    "the",
    "command-line",
    "tool",
    "to",
    "manage",
    "files",
    "over",
    "network",
    "with",
    "support",
    "of",
    "modern",
    "portable",
    "implementation",
    "protocol",
    "simple",
    "lightweight",
    "server",
    "client",
    "bindings",
    "framework",
    "terminal",
    "editor",
    "graphical",
    "interface",
    "secure",
    "reliable",
    "compression",
    "format",
    "images",
    "audio",
    "streams",
    "in",
    "written",
    "Rust",
    "C",
    "Python",
    "Go",
    "Haskell",
    "configuration",
    "declarative",
    "system",
    "service",
    "daemon",
];
const OWNERS: &[&str] = &[
    "NixOS",
    "nix-community",
    "tweag",
    "serokell",
    "haskell",
    "rust-lang",
    "golang",
    "python",
    "gnome",
    "KDE",
    "mozilla",
    "google",
    "facebook",
    "microsoft",
    "cachix",
    "numtide",
    "hercules-ci",
    "input-output-hk",
    "obsidiansystems",
    "ocaml",
    "llvm",
    "kernel",
    "systemd",
    "freedesktop",
];
const DEPS: &[&str] = &[
    "zlib",
    "openssl",
    "curl",
    "libxml2",
    "libxslt",
    "sqlite",
    "glib",
    "gtk3",
    "gtk4",
    "qt5.qtbase",
    "libpng",
    "libjpeg",
    "libtiff",
    "freetype",
    "fontconfig",
    "harfbuzz",
    "cairo",
    "pango",
    "expat",
    "pcre2",
    "libffi",
    "ncurses",
    "readline",
    "bzip2",
    "xz",
    "zstd",
    "lz4",
    "libuv",
    "libevent",
    "boost",
    "icu",
    "gmp",
    "mpfr",
    "libsodium",
    "libgcrypt",
    "gnutls",
    "nss",
    "dbus",
    "systemd",
    "alsa-lib",
    "libpulseaudio",
    "pipewire",
    "wayland",
    "libX11",
    "libXext",
    "libxkbcommon",
    "mesa",
    "libGL",
    "vulkan-loader",
    "SDL2",
    "ffmpeg",
    "libarchive",
    "protobuf",
    "grpc",
    "abseil-cpp",
    "gtest",
    "python3",
    "perl",
    "lua",
    "tcl",
    "libyaml",
    "jansson",
    "json_c",
    "nlohmann_json",
];
const NATIVE: &[&str] = &[
    "cmake",
    "pkg-config",
    "meson",
    "ninja",
    "autoreconfHook",
    "makeWrapper",
    "installShellFiles",
    "wrapGAppsHook3",
    "gettext",
    "bison",
    "flex",
    "python3",
    "perl",
    "which",
    "git",
    "doxygen",
    "scdoc",
    "asciidoctor",
    "help2man",
    "wayland-scanner",
    "gobject-introspection",
    "unzip",
];
const LICENSES: &[&str] = &[
    "mit",
    "asl20",
    "bsd2",
    "bsd3",
    "gpl2Only",
    "gpl2Plus",
    "gpl3Only",
    "gpl3Plus",
    "lgpl21Plus",
    "lgpl3Plus",
    "mpl20",
    "isc",
    "zlib",
    "unlicense",
    "agpl3Plus",
    "cc0",
    "publicDomain",
];
const MAINTAINERS: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "zoe",
];
const PLATFORMS: &[&str] = &["unix", "linux", "darwin", "all", "x86_64", "aarch64"];
const HACKAGE: &[&str] = &[
    "aeson",
    "text",
    "bytestring",
    "containers",
    "lens",
    "mtl",
    "transformers",
    "servant",
    "warp",
    "wai",
    "http-client",
    "conduit",
    "vector",
    "unordered-containers",
    "hashable",
    "QuickCheck",
    "hspec",
    "tasty",
    "optparse-applicative",
    "megaparsec",
    "attoparsec",
    "pandoc",
    "shake",
    "criterion",
    "async",
    "stm",
    "random",
    "time",
    "directory",
    "filepath",
    "process",
    "network",
    "tls",
    "crypton",
    "memory",
    "base64-bytestring",
    "scientific",
    "uuid",
    "yaml",
    "generic-lens",
    "polysemy",
    "effectful",
    "relude",
    "rio",
    "dhall",
    "hnix",
    "ghcide",
    "ormolu",
    "fourmolu",
    "lucid",
    "blaze-html",
    "persistent",
    "esqueleto",
    "postgresql-simple",
    "req",
    "wreq",
    "streaming",
    "pipes",
    "hedgehog",
    "doctest",
    "prettyprinter",
    "microlens",
    "safe-exceptions",
];
const HS_BASE: &[&str] = &[
    "base",
    "bytestring",
    "containers",
    "text",
    "mtl",
    "transformers",
    "deepseq",
    "filepath",
    "directory",
    "process",
    "time",
    "array",
    "ghc-prim",
    "template-haskell",
    "stm",
    "parsec",
];
const OPTION_TYPES: &[&str] = &[
    "types.bool",
    "types.str",
    "types.int",
    "types.port",
    "types.path",
    "(types.listOf types.str)",
    "(types.attrsOf types.str)",
    "(types.nullOr types.str)",
    "types.lines",
    "(types.enum [ \"debug\" \"info\" \"warn\" \"error\" ])",
    "types.package",
    "(types.submodule { freeformType = settingsFormat.type; })",
];
const PKG_DIRS: &[&str] = &[
    "pkgs/development/libraries",
    "pkgs/development/tools",
    "pkgs/development/python-modules",
    "pkgs/tools/misc",
    "pkgs/tools/networking",
    "pkgs/tools/security",
    "pkgs/tools/text",
    "pkgs/tools/archivers",
    "pkgs/applications/editors",
    "pkgs/applications/networking",
    "pkgs/applications/graphics",
    "pkgs/applications/audio",
    "pkgs/servers",
    "pkgs/os-specific/linux",
];
const MODULE_DIRS: &[&str] = &[
    "nixos/modules/services/web-servers",
    "nixos/modules/services/networking",
    "nixos/modules/services/databases",
    "nixos/modules/services/monitoring",
    "nixos/modules/services/misc",
    "nixos/modules/services/security",
    "nixos/modules/programs",
    "nixos/modules/hardware",
    "nixos/modules/system/boot",
];

// ---------------------------------------------------------------- file kinds

/// Which kind of file index `i` is, and where it goes.
fn plan(i: usize, total: usize, r: &mut Rng) -> (PathBuf, Kind) {
    // One multi-megabyte hackage-packages file per 4,000 files, spread out.
    let huge_every = 4000;
    if total >= huge_every && i % huge_every == huge_every / 2 {
        let k = i / huge_every;
        return (
            PathBuf::from(format!(
                "pkgs/development/haskell-modules/hackage-packages-{k}.nix"
            )),
            Kind::Hackage,
        );
    }
    let name = r.ident();
    let roll = r.below(1000);
    let (path, kind) = match roll {
        0..=299 => {
            let two: String = name.chars().take(2).collect();
            (
                format!("pkgs/by-name/{two}/{name}-{i}/package.nix"),
                Kind::Package,
            )
        }
        300..=579 => {
            let dir = r.pick(PKG_DIRS);
            (format!("{dir}/{name}-{i}/default.nix"), Kind::Package)
        }
        580..=759 => {
            let dir = r.pick(MODULE_DIRS);
            (format!("{dir}/{name}-{i}.nix"), Kind::Module)
        }
        760..=839 => (format!("lib/{}/{name}-{i}.nix", i % 37), Kind::Lib),
        840..=889 => (
            format!("pkgs/development/haskell-modules/overlays/{name}-{i}.nix"),
            Kind::HaskellOverlay,
        ),
        890..=919 => (
            format!("pkgs/top-level/{name}-packages-{i}.nix"),
            Kind::CallPackageList,
        ),
        920..=959 => (format!("projects/{name}-{i}/nix/default.nix"), Kind::Ifd),
        960..=979 => (format!("projects/{name}-{i}/flake.nix"), Kind::Flake),
        _ => (format!("pkgs/test/{name}-{i}/default.nix"), Kind::Test),
    };
    (PathBuf::from(path), kind)
}

#[derive(Clone, Copy)]
enum Kind {
    Package,
    Module,
    Lib,
    HaskellOverlay,
    CallPackageList,
    Ifd,
    Flake,
    Test,
    Hackage,
}

fn generate(kind: Kind, r: &mut Rng) -> String {
    let mut s = String::with_capacity(8 << 10);
    match kind {
        Kind::Package => package(&mut s, r),
        Kind::Module => module(&mut s, r),
        Kind::Lib => lib_file(&mut s, r),
        Kind::HaskellOverlay => haskell_overlay(&mut s, r),
        Kind::CallPackageList => callpackage_list(&mut s, r),
        Kind::Ifd => ifd_project(&mut s, r),
        Kind::Flake => flake(&mut s, r),
        Kind::Test => test_file(&mut s, r),
        Kind::Hackage => hackage_packages(&mut s, r),
    }
    s
}

/// `name`, or `name_2`, `name_3`… if already taken in this attribute set.
fn fresh(seen: &mut HashSet<String>, name: String) -> String {
    let mut candidate = name.clone();
    let mut k = 1;
    while !seen.insert(candidate.clone()) {
        k += 1;
        candidate = format!("{name}_{k}");
    }
    candidate
}

fn list(items: &[&str]) -> String {
    if items.is_empty() {
        "[ ]".to_string()
    } else {
        format!("[ {} ]", items.join(" "))
    }
}

fn shell_lines(s: &mut String, r: &mut Rng, indent: &str, lo: usize, hi: usize) {
    for _ in 0..r.range(lo, hi) {
        let line = match r.below(8) {
            0 => format!(
                "substituteInPlace {} \\\n{indent}  --replace-fail \"/usr/local\" \"$out\"",
                r.pick(&[
                    "Makefile",
                    "CMakeLists.txt",
                    "meson.build",
                    "setup.py",
                    "src/config.h"
                ])
            ),
            1 => format!("install -Dm644 {0}.1 -t $out/share/man/man1", r.ident()),
            2 => format!(
                "wrapProgram $out/bin/{} \\\n{indent}  --prefix PATH : $out/libexec/{}",
                r.ident(),
                r.ident()
            ),
            3 => "# upstream hardcodes the build date; keep the build reproducible".to_string(),
            4 => format!(
                "export HOME=$(mktemp -d)\n{indent}patchShebangs {}",
                r.pick(&["scripts", "tools", "bin", "."])
            ),
            5 => format!(
                "rm -rf {}/tests/{}",
                r.pick(&["src", "lib", "."]),
                r.ident()
            ),
            6 => format!(
                "ln -s $out/lib/lib{0}.so.$version $out/lib/lib{0}.so",
                r.ident()
            ),
            _ => format!("echo \"{}\" > VERSION", r.sentence(3)),
        };
        ln!(s, "{indent}{line}");
    }
}

fn package(s: &mut String, r: &mut Rng) {
    let pname = r.ident();
    let version = r.version();
    let owner = r.pick(OWNERS);
    let builder = r.below(10);
    let natives = r.some_n(NATIVE, 1, 5);
    let deps = r.some_n(DEPS, 0, 9);
    let final_attrs = builder < 4 && r.chance(50);

    if r.chance(30) {
        ln!(s, "# Packaged from the upstream {pname} repository.");
        ln!(s, "# Bump with: nix-update {pname}");
    }
    // Argument set, one per line as nixfmt writes it.
    ln!(s, "{{");
    ln!(s, "  lib,");
    ln!(s, "  stdenv,");
    match builder {
        0..=5 => {}
        6..=7 => ln!(
            s,
            "  buildPythonPackage,\n  pythonOlder,\n  pytestCheckHook,"
        ),
        8 => ln!(s, "  buildGoModule,"),
        _ => ln!(s, "  rustPlatform,"),
    }
    ln!(s, "  fetchFromGitHub,");
    let has_patches = r.chance(25);
    if has_patches {
        ln!(s, "  fetchpatch,");
    }
    let mut formals: Vec<&str> = Vec::new();
    for d in natives.iter().chain(deps.iter()) {
        let arg = d.split('.').next().unwrap_or(d);
        if !formals.contains(&arg) {
            formals.push(arg);
            ln!(s, "  {arg},");
        }
    }
    ln!(s, "  nix-update-script,");
    let has_cmake = builder < 6 && r.chance(50);
    if has_cmake || r.chance(20) {
        ln!(s, "  withDocs ? true,");
    }
    ln!(s, "}}:\n");

    let head = match builder {
        0..=5 if final_attrs => "stdenv.mkDerivation (finalAttrs: {",
        0..=5 => "stdenv.mkDerivation rec {",
        6..=7 => "buildPythonPackage rec {",
        8 => "buildGoModule rec {",
        _ => "rustPlatform.buildRustPackage rec {",
    };
    let v = if final_attrs {
        "finalAttrs.version"
    } else {
        "version"
    };
    ln!(s, "{head}");
    ln!(s, "  pname = \"{pname}\";");
    ln!(s, "  version = \"{version}\";");
    if (6..=7).contains(&builder) {
        ln!(s, "  pyproject = true;\n");
        ln!(s, "  disabled = pythonOlder \"3.{}\";", r.range(8, 11));
    }
    ln!(s);
    ln!(s, "  src = fetchFromGitHub {{");
    ln!(s, "    owner = \"{owner}\";");
    ln!(s, "    repo = \"{pname}\";");
    if r.chance(70) {
        ln!(s, "    rev = \"v${{{v}}}\";");
    } else {
        ln!(s, "    rev = \"{}\";", r.rev());
    }
    ln!(s, "    hash = \"{}\";", r.sri());
    ln!(s, "  }};\n");
    if builder == 8 {
        ln!(s, "  vendorHash = \"{}\";\n", r.sri());
        ln!(
            s,
            "  ldflags = [ \"-s\" \"-w\" \"-X main.version=${{version}}\" ];\n"
        );
    }
    if builder == 9 {
        ln!(s, "  cargoHash = \"{}\";\n", r.sri());
    }
    if has_patches {
        ln!(s, "  patches = [");
        ln!(s, "    ./fix-{}.patch", r.ident());
        ln!(s, "    (fetchpatch {{");
        ln!(s, "      name = \"{}.patch\";", r.ident());
        ln!(
            s,
            "      url = \"https://github.com/{owner}/{pname}/commit/{}.patch\";",
            r.rev()
        );
        ln!(s, "      hash = \"{}\";", r.sri());
        ln!(s, "    }})");
        ln!(s, "  ];\n");
    }
    if r.chance(40) {
        ln!(s, "  postPatch = ''");
        shell_lines(s, r, "    ", 2, 8);
        ln!(s, "  '';\n");
    }
    ln!(s, "  nativeBuildInputs = {};\n", list(&natives));
    if !deps.is_empty() {
        let (a, b) = deps.split_at(deps.len() / 2 + 1);
        if b.is_empty() {
            ln!(s, "  buildInputs = {};\n", list(a));
        } else {
            ln!(s, "  buildInputs = {}", list(a));
            ln!(
                s,
                "    ++ lib.optionals stdenv.hostPlatform.isLinux {};\n",
                list(b)
            );
        }
    }
    if has_cmake {
        ln!(s, "  cmakeFlags = [");
        for _ in 0..r.range(1, 6) {
            let flag = r.ident().to_uppercase().replace('-', "_");
            match r.below(3) {
                0 => ln!(s, "    \"-DENABLE_{flag}=ON\""),
                1 => ln!(s, "    (lib.cmakeBool \"WITH_{flag}\" withDocs)"),
                _ => ln!(
                    s,
                    "    (lib.cmakeFeature \"{flag}_DIR\" \"${{placeholder \"out\"}}/share\")"
                ),
            }
        }
        ln!(s, "  ];\n");
    }
    for phase in ["preConfigure", "postInstall", "postFixup"] {
        if r.chance(35) {
            ln!(s, "  {phase} = ''");
            shell_lines(s, r, "    ", 2, 10);
            ln!(s, "  '';\n");
        }
    }
    if (6..=7).contains(&builder) {
        ln!(s, "  nativeCheckInputs = [ pytestCheckHook ];");
        ln!(
            s,
            "  pythonImportsCheck = [ \"{}\" ];\n",
            pname.replace('-', "_")
        );
        if r.chance(50) {
            ln!(s, "  disabledTests = [");
            for _ in 0..r.range(1, 5) {
                ln!(s, "    # {}", r.sentence(5));
                ln!(s, "    \"test_{}\"", r.ident().replace('-', "_"));
            }
            ln!(s, "  ];\n");
        }
    } else {
        ln!(
            s,
            "  doCheck = {};\n",
            if r.chance(60) { "true" } else { "false" }
        );
    }
    if r.chance(30) {
        ln!(s, "  env.NIX_CFLAGS_COMPILE = toString [");
        ln!(s, "    \"-Wno-error=deprecated-declarations\"");
        ln!(s, "    \"-Wno-error=format-security\"");
        ln!(s, "  ];\n");
    }
    ln!(s, "  passthru.updateScript = nix-update-script {{ }};\n");
    let with_lib = r.chance(60);
    if with_lib {
        ln!(s, "  meta = with lib; {{");
    } else {
        ln!(s, "  meta = {{");
    }
    let p = if with_lib { "" } else { "lib." };
    ln!(s, "    description = \"{}\";", r.sentence_n(3, 9));
    if r.chance(40) {
        ln!(s, "    longDescription = ''");
        for _ in 0..r.range(2, 6) {
            ln!(s, "      {}.", r.sentence_n(6, 14));
        }
        ln!(s, "    '';");
    }
    ln!(s, "    homepage = \"https://github.com/{owner}/{pname}\";");
    ln!(
        s,
        "    changelog = \"https://github.com/{owner}/{pname}/releases/tag/v${{{v}}}\";"
    );
    ln!(s, "    license = {p}licenses.{};", r.pick(LICENSES));
    let ms = r.some_n(MAINTAINERS, 1, 3);
    ln!(s, "    maintainers = with {p}maintainers; {};", list(&ms));
    ln!(s, "    platforms = {p}platforms.{};", r.pick(PLATFORMS));
    ln!(s, "    mainProgram = \"{pname}\";");
    ln!(s, "  }};");
    ln!(s, "{}", if final_attrs { "})" } else { "}" });
}

fn module(s: &mut String, r: &mut Rng) {
    let name = r.ident();
    let area = r.pick(&["services", "programs", "hardware", "services"]);
    ln!(s, "{{\n  config,\n  lib,\n  pkgs,\n  ...\n}}:\n");
    ln!(s, "let");
    ln!(s, "  cfg = config.{area}.{name};");
    ln!(
        s,
        "  inherit (lib) mkEnableOption mkOption mkIf types literalExpression;"
    );
    ln!(
        s,
        "  settingsFormat = pkgs.formats.{} {{ }};",
        r.pick(&["toml", "json", "yaml", "ini"])
    );
    ln!(
        s,
        "  configFile = settingsFormat.generate \"{name}.conf\" cfg.settings;"
    );
    ln!(s, "in");
    ln!(s, "{{");
    ln!(
        s,
        "  meta.maintainers = with lib.maintainers; {};\n",
        list(&r.some(MAINTAINERS, 2))
    );
    ln!(s, "  options.{area}.{name} = {{");
    ln!(
        s,
        "    enable = mkEnableOption \"the {name} {}\";\n",
        r.pick(&["service", "daemon", "program"])
    );
    ln!(
        s,
        "    package = lib.mkPackageOption pkgs \"{name}\" {{ }};\n"
    );
    ln!(s, "    settings = mkOption {{");
    ln!(s, "      type = settingsFormat.type;");
    ln!(s, "      default = {{ }};");
    ln!(
        s,
        "      description = \"Configuration for {name}, see upstream documentation.\";"
    );
    ln!(s, "    }};\n");
    let nopts = r.range(3, 40);
    let mut seen = HashSet::new();
    for _ in 0..nopts {
        let opt = fresh(&mut seen, r.ident().replace('-', "_"));
        let ty = r.pick(OPTION_TYPES);
        let default = match ty {
            "types.bool" => {
                if r.chance(50) {
                    "true".to_string()
                } else {
                    "false".to_string()
                }
            }
            "types.int" => r.below(10000).to_string(),
            "types.port" => r.range(1024, 65000).to_string(),
            "types.path" => format!("\"/var/lib/{name}\""),
            "(types.listOf types.str)" => "[ ]".to_string(),
            "(types.nullOr types.str)" => "null".to_string(),
            "types.package" => format!("pkgs.{}", r.ident()),
            _ if ty.starts_with("(types.enum") => "\"info\"".to_string(),
            _ if ty.starts_with("(types.attrsOf") || ty.starts_with("(types.sub") => {
                "{ }".to_string()
            }
            _ => format!("\"{}\"", r.ident()),
        };
        ln!(s, "    {opt} = mkOption {{");
        ln!(s, "      type = {ty};");
        ln!(s, "      default = {default};");
        if r.chance(40) {
            ln!(s, "      example = literalExpression ''");
            ln!(s, "        {{");
            ln!(
                s,
                "          {} = \"{}\";",
                r.ident().replace('-', "_"),
                r.sentence(2)
            );
            ln!(s, "        }}");
            ln!(s, "      '';");
        }
        ln!(s, "      description = ''");
        for _ in 0..r.range(1, 4) {
            ln!(s, "        {}.", r.sentence_n(5, 12));
        }
        ln!(s, "      '';");
        ln!(s, "    }};\n");
    }
    ln!(s, "  }};\n");
    ln!(s, "  config = mkIf cfg.enable {{");
    ln!(s, "    environment.systemPackages = [ cfg.package ];\n");
    ln!(s, "    systemd.services.{name} = {{");
    ln!(s, "      description = \"{}\";", r.sentence(4));
    ln!(s, "      wantedBy = [ \"multi-user.target\" ];");
    ln!(s, "      after = [ \"network-online.target\" ];");
    ln!(s, "      wants = [ \"network-online.target\" ];");
    ln!(s, "      serviceConfig = {{");
    ln!(
        s,
        "        ExecStart = \"${{lib.getExe cfg.package}} --config ${{configFile}}\";"
    );
    ln!(s, "        DynamicUser = true;");
    ln!(s, "        StateDirectory = \"{name}\";");
    ln!(s, "        Restart = \"on-failure\";");
    for k in r.some(
        &[
            "ProtectSystem = \"strict\";",
            "ProtectHome = true;",
            "PrivateTmp = true;",
            "NoNewPrivileges = true;",
            "RestrictNamespaces = true;",
            "LockPersonality = true;",
            "MemoryDenyWriteExecute = true;",
            "SystemCallArchitectures = \"native\";",
        ],
        5,
    ) {
        ln!(s, "        {k}");
    }
    ln!(s, "      }};");
    ln!(s, "    }};\n");
    if r.chance(50) {
        ln!(
            s,
            "    networking.firewall.allowedTCPPorts = lib.optional (cfg ? port) {};",
            r.range(1024, 65000)
        );
    }
    ln!(s, "    assertions = [");
    ln!(s, "      {{");
    ln!(
        s,
        "        assertion = cfg.settings != {{ }} || !cfg.enable;"
    );
    ln!(
        s,
        "        message = \"{area}.{name}.settings must not be empty\";"
    );
    ln!(s, "      }}");
    ln!(s, "    ];");
    ln!(s, "  }};");
    ln!(s, "}}");
}

fn lib_file(s: &mut String, r: &mut Rng) {
    ln!(
        s,
        "/* Library functions for {}.",
        r.sentence(3).to_lowercase()
    );
    ln!(s, "   {}.\n*/", r.sentence(10));
    ln!(s, "{{ lib }}:\n");
    ln!(s, "let");
    ln!(
        s,
        "  inherit (builtins) head tail length elemAt filter foldl' isAttrs isList;"
    );
    ln!(
        s,
        "  inherit (lib) concatMapStringsSep optionalString mapAttrs' nameValuePair;"
    );
    ln!(s, "in");
    ln!(s, "rec {{");
    let mut seen = HashSet::new();
    for _ in 0..r.range(4, 30) {
        let f = fresh(&mut seen, r.ident().replace('-', "_"));
        ln!(s, "  /**");
        ln!(s, "    {}.\n", r.sentence_n(5, 12));
        ln!(s, "    # Example\n");
        ln!(
            s,
            "    ```nix\n    {f} [ 1 2 3 ]\n    => [ 2 3 4 ]\n    ```"
        );
        ln!(s, "  */");
        match r.below(7) {
            0 => ln!(
                s,
                "  {f} = xs: if xs == [ ] then [ ] else [ (head xs + 1) ] ++ {f} (tail xs);"
            ),
            1 => ln!(
                s,
                "  {f} = f: set: lib.listToAttrs (map (n: nameValuePair n (f n set.${{n}})) (builtins.attrNames set));"
            ),
            2 => {
                ln!(s, "  {f} =");
                ln!(
                    s,
                    "    {{ name, value ? null, prefix ? \"{}\", ... }}@args:",
                    r.ident()
                );
                ln!(s, "    let");
                ln!(s, "      full = \"${{prefix}}-${{name}}\";");
                ln!(s, "      rest = removeAttrs args [ \"name\" \"value\" ];");
                ln!(s, "    in");
                ln!(s, "    assert lib.isString name;");
                ln!(
                    s,
                    "    rest // {{ inherit full; value = if value == null then full else value; }};"
                );
            }
            3 => ln!(
                s,
                "  {f} = sep: concatMapStringsSep sep (x: optionalString (x != \"\") \"<${{x}}>\");"
            ),
            4 => {
                ln!(s, "  {f} = attrs:");
                ln!(
                    s,
                    "    mapAttrs' (n: v: nameValuePair \"{}_${{n}}\" (if isAttrs v then {f} v else v)) attrs;",
                    r.ident().replace('-', "_")
                );
            }
            5 => ln!(
                s,
                "  {f} = n: foldl' (acc: x: acc * x + {}) 1 (lib.range 1 n);",
                r.below(9)
            ),
            _ => {
                ln!(s, "  {f} = x:");
                ln!(s, "    if isList x then length x");
                ln!(
                    s,
                    "    else if isAttrs x then length (builtins.attrNames x)"
                );
                ln!(
                    s,
                    "    else if x ? {} then elemAt (filter (y: y != null) [ x ]) 0",
                    r.ident().replace('-', "_")
                );
                ln!(
                    s,
                    "    else throw \"{f}: unsupported value ${{builtins.typeOf x}}\";"
                );
            }
        }
        ln!(s);
    }
    ln!(s, "}}");
}

fn haskell_overlay(s: &mut String, r: &mut Rng) {
    ln!(s, "# Haskell package overrides for {}.", r.ident());
    ln!(s, "# {}.", r.sentence(8));
    ln!(s, "{{ pkgs, haskell, lib }}:\n");
    ln!(s, "self: super:");
    ln!(s, "let");
    ln!(
        s,
        "  inherit (haskell.lib) dontCheck doJailbreak markUnbroken;"
    );
    let mapped = r.chance(50);
    if mapped {
        ln!(s, "  pins = {{");
        for h in r.some_n(HACKAGE, 2, 10) {
            ln!(s, "    \"{h}\" = \"{}\";", r.version());
        }
        ln!(s, "  }};");
    }
    ln!(s, "in");
    if mapped {
        ln!(s, "lib.mapAttrs (n: v: self.callHackage n v {{ }}) pins");
        ln!(s, "// {{");
    } else {
        ln!(s, "{{");
    }
    for h in r.some_n(HACKAGE, 4, 25) {
        let ver = r.version();
        match r.below(8) {
            0 => ln!(s, "  {h} = self.callHackage \"{h}\" \"{ver}\" {{ }};"),
            1 => ln!(
                s,
                "  {h} = haskell.lib.dontCheck (self.callHackage \"{h}\" \"{ver}\" {{ }});"
            ),
            2 => ln!(s, "  {h} = self.callCabal2nix \"{h}\" ./{h} {{ }};"),
            3 => {
                ln!(
                    s,
                    "  {h} = self.callCabal2nix \"{h}\" (pkgs.fetchFromGitHub {{"
                );
                ln!(s, "    owner = \"{}\";", r.pick(OWNERS));
                ln!(s, "    repo = \"{h}\";");
                ln!(s, "    rev = \"{}\";", r.rev());
                ln!(s, "    hash = \"{}\";", r.sri());
                ln!(s, "  }}) {{ }};");
            }
            4 => {
                ln!(s, "  {h} = self.callHackageDirect {{");
                ln!(s, "    pkg = \"{h}\";");
                ln!(s, "    ver = \"{ver}\";");
                ln!(s, "    sha256 = \"{}\";", r.base32());
                ln!(s, "  }} {{ }};");
            }
            5 => ln!(s, "  {h} = doJailbreak super.{h};"),
            6 => ln!(s, "  {h} = markUnbroken (dontCheck super.{h});"),
            _ => ln!(
                s,
                "  {h} = super.{h}.override {{ {} = self.{}; }};",
                r.pick(HS_BASE),
                r.pick(HACKAGE)
            ),
        }
    }
    ln!(s, "}}");
}

fn callpackage_list(s: &mut String, r: &mut Rng) {
    ln!(s, "{{ lib, config, stdenv, pkgs, darwin }}:\n");
    ln!(s, "self: super:\n");
    ln!(s, "with self;\n");
    ln!(s, "{{");
    let mut seen = HashSet::new();
    for _ in 0..r.range(30, 300) {
        let n = fresh(&mut seen, r.ident());
        let dir = r.pick(PKG_DIRS).trim_start_matches("pkgs/");
        match r.below(6) {
            0 => ln!(
                s,
                "  {n} = callPackage ../{dir}/{n} {{ inherit (darwin.apple_sdk.frameworks) Security; }};"
            ),
            1 => ln!(
                s,
                "  \"{n}-v{}\" = {n}.override {{ with{} = false; }};",
                r.below(9),
                r.pick(PREFIX)
            ),
            2 => ln!(
                s,
                "  # {}\n  {n} = callPackage ../{dir}/{n} {{ }};",
                r.sentence(6)
            ),
            3 => ln!(
                s,
                "  {n}Full = {n}.overrideAttrs (old: {{ configureFlags = (old.configureFlags or [ ]) ++ [ \"--enable-all\" ]; }});"
            ),
            _ => ln!(s, "  {n} = callPackage ../{dir}/{n} {{ }};"),
        }
    }
    ln!(s, "}}");
}

fn ifd_project(s: &mut String, r: &mut Rng) {
    let name = r.ident();
    ln!(
        s,
        "# Build helpers for {name}. Some of this evaluates derivation outputs."
    );
    ln!(s, "{{ pkgs ? import <nixpkgs> {{ }}, lib ? pkgs.lib }}:\n");
    ln!(s, "let");
    ln!(s, "  rev = \"{}\";", r.rev());
    let kinds = r.some(
        &["gen", "read", "tarball", "tarball-attrs", "hs", "plain"],
        3,
    );
    for k in &kinds {
        match *k {
            "gen" => {
                ln!(
                    s,
                    "  generated = pkgs.runCommand \"{name}-generated\" {{ nativeBuildInputs = [ pkgs.jq ]; }} ''"
                );
                ln!(s, "    mkdir -p $out");
                ln!(
                    s,
                    "    echo '{{ version = \"{}\"; }}' > $out/default.nix",
                    r.version()
                );
                ln!(s, "  '';");
                ln!(s, "  info = import \"${{generated}}/default.nix\";");
            }
            "read" => {
                ln!(
                    s,
                    "  versionString = builtins.readFile (pkgs.runCommand \"version\" {{ }} ''"
                );
                ln!(s, "    echo -n {} > $out", r.version());
                ln!(s, "  '');");
            }
            "tarball" => ln!(
                s,
                "  upstream = builtins.fetchTarball \"https://github.com/{}/{name}/archive/${{rev}}.tar.gz\";",
                r.pick(OWNERS)
            ),
            "tarball-attrs" => {
                ln!(s, "  nixpkgsPinned = builtins.fetchTarball {{");
                ln!(
                    s,
                    "    url = \"https://github.com/NixOS/nixpkgs/archive/${{rev}}.tar.gz\";"
                );
                ln!(s, "    sha256 = \"{}\";", r.base32());
                ln!(s, "  }};");
            }
            "hs" => ln!(
                s,
                "  hsPkg = pkgs.haskellPackages.callCabal2nix \"{name}\" ./. {{ }};"
            ),
            _ => ln!(s, "  description = \"{}\";", r.sentence(6)),
        }
    }
    ln!(s, "  shellTools = with pkgs; {};", list(&r.some(NATIVE, 4)));
    ln!(s, "in");
    ln!(s, "{{");
    ln!(s, "  package = pkgs.stdenv.mkDerivation {{");
    ln!(s, "    pname = \"{name}\";");
    ln!(s, "    version = \"{}\";", r.version());
    ln!(s, "    src = lib.cleanSource ./..;");
    ln!(s, "    nativeBuildInputs = shellTools;");
    ln!(s, "  }};");
    ln!(s, "  shell = pkgs.mkShell {{ packages = shellTools; }};");
    ln!(s, "}}");
}

fn flake(s: &mut String, r: &mut Rng) {
    let name = r.ident();
    ln!(s, "{{");
    ln!(s, "  description = \"{}\";\n", r.sentence(5));
    ln!(s, "  inputs = {{");
    ln!(
        s,
        "    nixpkgs.url = \"github:NixOS/nixpkgs/nixos-unstable\";"
    );
    ln!(s, "    flake-utils.url = \"github:numtide/flake-utils\";");
    ln!(s, "  }};\n");
    ln!(s, "  outputs = {{ self, nixpkgs, flake-utils }}:");
    ln!(s, "    flake-utils.lib.eachDefaultSystem (system:");
    ln!(s, "      let");
    ln!(s, "        pkgs = nixpkgs.legacyPackages.${{system}};");
    ln!(s, "        hs = pkgs.haskellPackages.override {{");
    ln!(s, "          overrides = hself: hsuper: {{");
    ln!(
        s,
        "            {name} = hself.callCabal2nix \"{name}\" ./. {{ }};"
    );
    ln!(s, "          }};");
    ln!(s, "        }};");
    ln!(s, "      in");
    ln!(s, "      {{");
    ln!(s, "        packages.default = hs.{name};");
    ln!(s, "        devShells.default = hs.shellFor {{");
    ln!(s, "          packages = p: [ p.{name} ];");
    ln!(
        s,
        "          nativeBuildInputs = with pkgs; [ cabal-install ghcid haskell-language-server ];"
    );
    ln!(s, "        }};");
    ln!(s, "      }});");
    ln!(s, "}}");
}

fn test_file(s: &mut String, r: &mut Rng) {
    let name = r.ident();
    ln!(
        s,
        "import ../make-test-python.nix ({{ pkgs, lib, ... }}: {{"
    );
    ln!(s, "  name = \"{name}\";");
    ln!(
        s,
        "  meta.maintainers = with lib.maintainers; {};\n",
        list(&r.some(MAINTAINERS, 2))
    );
    ln!(s, "  nodes.machine = {{ config, pkgs, ... }}: {{");
    ln!(s, "    services.{name}.enable = true;");
    ln!(s, "    environment.systemPackages = [ pkgs.curl ];");
    ln!(s, "  }};\n");
    ln!(s, "  testScript = ''");
    ln!(s, "    machine.wait_for_unit(\"{name}.service\")");
    for _ in 0..r.range(2, 12) {
        ln!(
            s,
            "    machine.succeed(\"curl -sf http://localhost:{}/{}\")",
            r.range(1024, 65000),
            r.ident()
        );
    }
    ln!(s, "  '';");
    ln!(s, "}})");
}

/// A hackage-packages.nix-like file: thousands of generated entries, 3–6 MB.
fn hackage_packages(s: &mut String, r: &mut Rng) {
    let target = r.range(3 << 20, 6 << 20);
    ln!(
        s,
        "/* hackage-packages.nix is an auto-generated file -- DO NOT EDIT! */\n"
    );
    ln!(s, "{{ pkgs, lib, callPackage }}:\n");
    ln!(s, "self: {{\n");
    let mut n = 0usize;
    let mut seen = HashSet::new();
    while s.len() < target {
        n += 1;
        let base = r.pick(HACKAGE);
        let pname = fresh(&mut seen, format!("{base}-{}", r.ident()));
        let ver = r.version();
        let deps = r.some_n(HS_BASE, 1, 8);
        let tdeps = r.some(&["hspec", "tasty", "QuickCheck", "HUnit", "tasty-hunit"], 2);
        let mut args: Vec<&str> = vec!["mkDerivation"];
        args.extend(deps.iter());
        args.extend(tdeps.iter());
        args.push("lib");
        ln!(s, "  \"{pname}\" = callPackage");
        ln!(s, "    ({{ {} }}:", args.join(", "));
        ln!(s, "     mkDerivation {{");
        ln!(s, "       pname = \"{pname}\";");
        ln!(s, "       version = \"{ver}\";");
        ln!(s, "       sha256 = \"{}\";", r.base32());
        if r.chance(30) {
            ln!(s, "       revision = \"{}\";", r.range(1, 4));
            ln!(s, "       editedCabalFile = \"{}\";", r.base32());
        }
        ln!(s, "       libraryHaskellDepends = {};", list(&deps));
        ln!(s, "       testHaskellDepends = {};", list(&tdeps));
        ln!(s, "       description = \"{}\";", r.sentence_n(3, 8));
        ln!(s, "       license = lib.licenses.{};", r.pick(LICENSES));
        if r.chance(20) {
            ln!(s, "       hydraPlatforms = lib.platforms.none;");
            ln!(s, "       broken = true;");
        }
        ln!(s, "     }}) {{}};\n");
    }
    ln!(s, "  # {n} packages");
    ln!(s, "}}");
}

// ---------------------------------------------------------------- main

/// `cargo xtask gen-corpus ARGS`.
pub fn main(mut args: impl Iterator<Item = String>) -> anyhow::Result<()> {
    let mut out: Option<PathBuf> = None;
    let mut files: usize = 25_000;
    let mut seed: u64 = 0x1FD_BA7C;
    while let Some(a) = args.next() {
        let mut val = || {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{a} needs a value"))
        };
        match a.as_str() {
            "--out" => out = Some(PathBuf::from(val()?)),
            "--files" => files = val()?.parse()?,
            "--seed" => seed = val()?.parse()?,
            "-h" | "--help" => {
                println!("usage: cargo xtask gen-corpus --out DIR [--files N] [--seed S]");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other:?} (see --help)"),
        }
    }
    let out = out.ok_or_else(|| anyhow::anyhow!("--out DIR is required"))?;
    if out.exists() {
        anyhow::bail!("{} already exists; remove it first", out.display());
    }
    let bytes: usize = (0..files)
        .into_par_iter()
        .map(|i| -> anyhow::Result<usize> {
            let mut r = Rng::for_file(seed, i as u64);
            let (rel, kind) = plan(i, files, &mut r);
            let text = generate(kind, &mut r);
            write(&out.join(rel), &text)?;
            Ok(text.len())
        })
        .try_reduce(|| 0, |a, b| Ok(a + b))?;
    println!(
        "gen-corpus: {} files, {} bytes ({:.1} MB), seed {seed}, in {}",
        files,
        bytes,
        bytes as f64 / 1e6,
        out.display()
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)?;
    Ok(())
}
