//! Detection: from one parsed file to a list of IFD sites.
//!
//! Each site kind lives in its own module as one plain function over a
//! flattened application ([`Call`]); [`DETECTORS`] lists them. Adding a kind
//! is adding a file and a line. Detectors share the scope helper
//! ([`scope`]), the derivation analysis ([`drv`]) and the hotspot analysis
//! ([`multiplicity`]).

pub mod builtin_fetch;
pub mod cabal2nix;
pub mod drv;
pub mod generic;
pub mod hackage;
pub mod hackage_direct;
pub mod helper;
pub mod import_drv;
pub mod multiplicity;
pub mod overlay;
pub mod read_drv;
pub mod scope;
pub mod source_overrides;
pub mod syntax;

use crate::source::LineIndex;
use rnix::{SyntaxKind::*, SyntaxNode};
use serde::Serialize;
use serde_json::{Map, Value};
use syntax::{Call, Callee};

/// The stable kinds of IFD site. The string forms are part of the JSON and
/// SARIF output and of `# ifd-batch` tooling; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Hackage,
    HackageDirect,
    Cabal2nix,
    SourceOverrides,
    ImportDrv,
    ReadDrv,
    BuiltinFetch,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Hackage,
        Kind::HackageDirect,
        Kind::Cabal2nix,
        Kind::SourceOverrides,
        Kind::ImportDrv,
        Kind::ReadDrv,
        Kind::BuiltinFetch,
    ];

    /// A Haskell kind: batched by nixlib's `batch`, bound in an overlay.
    pub fn is_haskell(self) -> bool {
        matches!(
            self,
            Kind::Hackage | Kind::HackageDirect | Kind::Cabal2nix | Kind::SourceOverrides
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Hackage => "hackage",
            Kind::HackageDirect => "hackage-direct",
            Kind::Cabal2nix => "cabal2nix",
            Kind::SourceOverrides => "source-overrides",
            Kind::ImportDrv => "import-drv",
            Kind::ReadDrv => "read-drv",
            Kind::BuiltinFetch => "builtin-fetch",
        }
    }

    /// One sentence for rule help (SARIF) and `--explain`-like output.
    pub fn help(self) -> &'static str {
        match self {
            Kind::Hackage => {
                "callHackage extracts the package's .cabal file from all-cabal-hashes (a full pass over the tarball) and runs cabal2nix, during evaluation, once per package, serially. Route it through an ifd-batch batch so all packages are generated in one build."
            }
            Kind::HackageDirect => {
                "callHackageDirect fetches the package tarball from Hackage and runs cabal2nix on it during evaluation. Route it through an ifd-batch batch."
            }
            Kind::Cabal2nix => {
                "callCabal2nix / haskellSrc2nix / developPackage run cabal2nix on a source during evaluation (import from derivation), one build per call, serially. Route it through an ifd-batch batch."
            }
            Kind::SourceOverrides => {
                "haskell.lib.packageSourceOverrides runs callHackage or callCabal2nix for every entry: one evaluation-time build per entry. Route the entries through an ifd-batch batch."
            }
            Kind::ImportDrv => {
                "import / scopedImport / callPackage of a derivation's output builds that derivation during evaluation, blocking it."
            }
            Kind::ReadDrv => {
                "Reading a derivation's output (readFile, readDir, pathExists, hashFile, importJSON, …) builds that derivation during evaluation, blocking it."
            }
            Kind::BuiltinFetch => {
                "Builtin fetchers download during evaluation, blocking it; without a pinned hash or rev they are also impure. Prefer a fixed-output fetcher (pkgs.fetchurl, fetchFromGitHub) or pin the hash."
            }
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Definite,
    Possible,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Multiplicity {
    Once,
    PerElement,
}

/// What a detector says about one call.
pub struct Finding {
    pub kind: Kind,
    pub confidence: Confidence,
    /// How many arguments of the call belong to the site (the site's range
    /// ends after them).
    pub arity: usize,
    /// `Err(reason)` when the site cannot be batched.
    pub batchable: Result<(), String>,
    /// Kind-specific arguments (`name`, `version`, …).
    pub args: Map<String, Value>,
    /// One line: why this blocks evaluation.
    pub message: String,
    /// Serial rounds this one site costs when evaluated once (e.g. one per
    /// entry of `packageSourceOverrides`).
    pub rounds: usize,
}

impl Finding {
    pub fn new(kind: Kind, arity: usize, message: String) -> Finding {
        Finding {
            kind,
            confidence: Confidence::Definite,
            arity,
            batchable: Ok(()),
            args: Map::new(),
            message,
            rounds: 1,
        }
    }

    pub fn arg(mut self, key: &str, value: impl Into<Value>) -> Finding {
        self.args.insert(key.to_string(), value.into());
        self
    }

    pub fn not_batchable(mut self, reason: impl Into<String>) -> Finding {
        self.batchable = Err(reason.into());
        self
    }

    /// Batchable, or not with the reason given.
    pub fn batchable_if(mut self, b: Result<(), String>) -> Finding {
        self.batchable = b;
        self
    }

    pub fn confidence(mut self, c: Confidence) -> Finding {
        self.confidence = c;
        self
    }
}

/// Every callee name some detector looks at: a cheap filter before a call is
/// flattened and its callee analysed. A new detector adds its names here.
pub const CALLEE_NAMES: &[&str] = &[
    // hackage, hackage-direct, cabal2nix, source-overrides
    "callHackage",
    "callHackageDirect",
    "callCabal2nix",
    "callCabal2nixWithOptions",
    "haskellSrc2nix",
    "developPackage",
    "packageSourceOverrides",
    // import-drv
    "import",
    "scopedImport",
    "callPackage",
    // read-drv
    "readFile",
    "readDir",
    "pathExists",
    "readFileType",
    "hashFile",
    "filterSource",
    "path",
    "importJSON",
    "importTOML",
    "fileContents",
    "pathType",
    "pathIsDirectory",
    "pathIsRegularFile",
    "__readFile",
    "__readDir",
    "__pathExists",
    "__readFileType",
    "__hashFile",
    "__filterSource",
    "__path",
    // builtin-fetch
    "fetchTarball",
    "fetchurl",
    "fetchGit",
    "fetchTree",
    "fetchMercurial",
];

/// A detector: one function per kind, over a flattened call and its callee.
pub type Detector = fn(&Call, &Callee) -> Option<Finding>;

/// Every detector, in reporting order. A call matches at most one.
pub const DETECTORS: &[Detector] = &[
    hackage::detect,
    hackage_direct::detect,
    cabal2nix::detect,
    source_overrides::detect,
    import_drv::detect,
    read_drv::detect,
    builtin_fetch::detect,
];

/// One IFD site, as owned data (safe to send across threads).
#[derive(Debug, Clone, Serialize)]
pub struct Site {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// Byte range in the file, `[start, end)`.
    pub byte_range: [usize; 2],
    pub kind: Kind,
    pub confidence: Confidence,
    pub batchable: bool,
    pub reason: Option<String>,
    pub multiplicity: Multiplicity,
    /// For per-element sites whose collection is a literal: its size.
    pub elements: Option<usize>,
    /// Source text of the callee, e.g. `self.callHackage`.
    pub call: String,
    pub args: Map<String, Value>,
    pub message: String,
    /// Serial IFD rounds this site costs in one full evaluation.
    pub rounds: usize,
    /// False when `rounds` is a lower bound (a per-element site over a
    /// collection of unknown size).
    pub rounds_exact: bool,
}

/// What one file yields.
#[derive(Debug, Default)]
pub struct FileSites {
    pub sites: Vec<Site>,
    pub suppressed: usize,
}

/// The marker comment that suppresses the site on the next line.
pub const ALLOW_MARKER: &str = "ifd-batch: allow";

/// Run every detector over a parsed file.
pub fn detect(root: &SyntaxNode, text: &str, file: &str) -> FileSites {
    // Most files have no site: build the line index only when one is found.
    let index = std::cell::OnceCell::new();
    let mut out = FileSites::default();
    for node in candidate_calls(root) {
        let index = index.get_or_init(|| LineIndex::new(text));
        let Some(call) = Call::flatten(&node) else {
            continue;
        };
        let Some(callee) = Callee::of(&call.head) else {
            continue;
        };
        let Some(mut finding) = DETECTORS.iter().find_map(|d| d(&call, &callee)) else {
            continue;
        };
        // Haskell sites are batched in the overlay whose set they call into.
        if finding.kind.is_haskell() && finding.batchable.is_ok() {
            finding.batchable = overlay::batchable(&call, &callee).map(|_| ());
        }
        let start = usize::from(call.head.text_range().start());
        let last = call
            .args
            .get(finding.arity.saturating_sub(1))
            .filter(|_| finding.arity > 0)
            .unwrap_or(&call.head);
        let end = usize::from(last.text_range().end());
        let (line, column) = index.line_col(start);
        if line >= 2
            && index.line_text(line - 2).trim_start().starts_with('#')
            && index.line_text(line - 2).contains(ALLOW_MARKER)
        {
            out.suppressed += 1;
            continue;
        }
        let (end_line, end_column) = index.line_col(end);
        let per = multiplicity::per_element(&call.node);
        let (multiplicity, elements) = match &per {
            Some(p) => (Multiplicity::PerElement, p.elements),
            None => (Multiplicity::Once, None),
        };
        let rounds = finding.rounds * elements.unwrap_or(1);
        out.sites.push(Site {
            file: file.to_string(),
            line,
            column,
            end_line,
            end_column,
            byte_range: [start, end],
            kind: finding.kind,
            confidence: finding.confidence,
            batchable: finding.batchable.is_ok(),
            reason: finding.batchable.err(),
            multiplicity,
            elements,
            call: call.head.text().to_string(),
            args: finding.args,
            message: finding.message,
            rounds,
            rounds_exact: per.is_none() || elements.is_some(),
        });
    }
    out
}

/// A string argument that is a literal, or a name bound (let / rec) to one.
pub fn literal_arg(node: &SyntaxNode) -> Option<String> {
    syntax::string_literal(&multiplicity::resolve_literal(node))
}

/// Is the bare identifier `callee` a reference to the package-set function
/// of the same name? True under `with`, or when bound with
/// `inherit (set) name;` or `name = set.name;`. A let- or lambda-bound
/// function of the same name shadows it.
pub fn is_package_set_function(callee: &Callee) -> bool {
    let Some(ident) = &callee.ident else {
        return true; // `self.callHackage`, `pkgs.haskellPackages.callHackage`, …
    };
    match scope::resolve(ident) {
        scope::Binding::With => true,
        scope::Binding::Inherit(Some(_)) => true,
        scope::Binding::Value(v) => {
            let v = syntax::unparen(&v);
            v.kind() == NODE_SELECT && Callee::of(&v).is_some_and(|c| c.name() == callee.name())
        }
        _ => false,
    }
}

/// The outermost applications whose callee has one of [`CALLEE_NAMES`], in
/// source order. Walks rowan's green tree (no cursor node is allocated per
/// visited node, unlike `descendants()`), and makes a syntax node only for
/// the few matches.
fn candidate_calls(root: &SyntaxNode) -> Vec<SyntaxNode> {
    let green = root.green();
    let mut ranges = Vec::new();
    // (node, its start offset, is it the function part of an application?)
    let mut stack = vec![(green, root.text_range().start(), false)];
    while let Some((node, start, is_head)) = stack.pop() {
        let is_apply = green_kind(node) == NODE_APPLY;
        if is_apply && !is_head && green_head_name(node).is_some_and(|n| CALLEE_NAMES.contains(&n))
        {
            ranges.push(rowan::TextRange::at(start, node.text_len()));
        }
        let mut offset = start;
        let mut first = true;
        let mut children = Vec::new();
        for child in node.children() {
            if let rowan::NodeOrToken::Node(n) = child {
                children.push((n, offset, is_apply && first));
                first = false;
            }
            offset += child.text_len();
        }
        // Reversed, so that nodes pop in source order.
        stack.extend(children.into_iter().rev());
    }
    ranges
        .into_iter()
        .filter_map(|r| match root.covering_element(r) {
            rowan::NodeOrToken::Node(n) if n.kind() == NODE_APPLY => Some(n),
            _ => None,
        })
        .collect()
}

fn green_child_nodes(node: &rowan::GreenNodeData) -> impl Iterator<Item = &rowan::GreenNodeData> {
    node.children().filter_map(|c| c.into_node())
}

fn green_kind(node: &rowan::GreenNodeData) -> rnix::SyntaxKind {
    <rnix::NixLanguage as rowan::Language>::kind_from_raw(node.kind())
}

/// The last name of an application chain's head (`callHackage` for
/// `self.callHackage "a" "1" { }`), read on the green tree.
fn green_head_name(mut node: &rowan::GreenNodeData) -> Option<&str> {
    while matches!(green_kind(node), NODE_APPLY | NODE_PAREN) {
        node = node.children().find_map(|c| c.into_node())?;
    }
    let ident = match green_kind(node) {
        NODE_IDENT => node,
        NODE_SELECT => {
            let attrpath = green_child_nodes(node).find(|c| green_kind(c) == NODE_ATTRPATH)?;
            let last = green_child_nodes(attrpath).last()?;
            (green_kind(last) == NODE_IDENT).then_some(last)?
        }
        _ => return None,
    };
    ident
        .children()
        .find_map(|c| c.into_token())
        .map(|t| t.text())
}
