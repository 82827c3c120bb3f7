//! Detection: from one parsed file to a list of IFD sites.
//!
//! Each site kind lives in its own module: its declaration ([`KindDecl`]:
//! name, callee names, help, detector, batching) and its detector, one plain
//! function over a flattened application (`Call`). The `kinds!` registry
//! lists them. Adding a kind is adding a file and a line. Detectors share the scope helper
//! (`syntax::scope`), the derivation analysis (`drv`) and the hotspot analysis
//! (`multiplicity`).

pub(crate) mod conflicts;
pub(crate) mod drv;
pub(crate) mod generic;
pub(crate) mod helper;
pub(crate) mod multiplicity;
pub(crate) mod overlay;
pub(crate) mod reason;
pub(crate) mod routed;

use crate::source::LineIndex;
use crate::syntax::scope;
use crate::syntax::{self, Call, Callee};
pub use builtin_fetch::Fetch;
pub use cabal2nix::{Source, SrcKind};
pub use hackage::Pins;
pub use hackage_direct::DirectPins;
pub use reason::{Code, Reason};
use rnix::{SyntaxKind::*, SyntaxNode};
use serde::Serialize;
pub use source_overrides::{Entries, Override};

/// Everything about one kind of site, declared once, in the kind's own
/// file (`pub const KIND: KindDecl`); `kinds!` lists the kinds.
pub struct KindDecl {
    /// The stable name: part of the JSON and SARIF output (the rule id) and
    /// of `# ifd-batch` tooling; never rename one.
    pub name: &'static str,
    /// Every callee name the detector looks at: the cheap filter before a
    /// call is flattened and its callee analysed.
    pub callees: &'static [&'static str],
    /// One paragraph for rule help (SARIF).
    pub help: &'static str,
    /// The detector: one plain function over a flattened call.
    pub detect: Detector,
    /// How `rewrite` batches its sites.
    pub batch: Batch,
    /// For a generic kind: the argument that holds the derivation output
    /// (the one definition its detector, generic batching and `rewrite`
    /// use).
    pub target: Option<TargetFn>,
}

/// Where a generic site's derivation output is: one function per kind.
pub type TargetFn = fn(&Call, &Callee) -> Option<SyntaxNode>;

/// How `rewrite` batches a kind's sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batch {
    /// nixlib's `batch`, bound in the overlay whose package set it calls.
    Haskell,
    /// nixlib's generic batch, per `let` scope (`rewrite::generic`).
    Generic,
    /// Reported only.
    No,
}

/// The registry: each kind's variant and the module declaring it, in
/// reporting order (a call matches the first detector that claims it).
/// Adding a kind is adding its file and a line here.
macro_rules! kinds {
    ($($variant:ident => $module:ident :: $args:ident),* $(,)?) => {
        $(pub(crate) mod $module;)*

        /// The kinds of IFD site.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind {
            $($variant),*
        }

        /// A site's kind-specific data, each kind's type declared in its
        /// file; serialised as the site's `args` object.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(untagged)]
        pub enum Args {
            /// Nothing known (`{}`).
            Empty(Empty),
            $($variant($module::$args)),*
        }

        impl Kind {
            pub const ALL: &[Kind] = &[$(Kind::$variant),*];

            /// The kind's declaration.
            pub fn decl(self) -> &'static KindDecl {
                match self {
                    $(Kind::$variant => &$module::KIND),*
                }
            }
        }
    };
}

kinds! {
    Hackage => hackage::Pins,
    HackageDirect => hackage_direct::DirectPins,
    Cabal2nix => cabal2nix::Source,
    SourceOverrides => source_overrides::Entries,
    ImportDrv => import_drv::Target,
    ReadDrv => read_drv::Target,
    BuiltinFetch => builtin_fetch::Fetch,
}

/// No data: serialised as `{}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Empty {}

impl Default for Args {
    fn default() -> Args {
        Args::Empty(Empty {})
    }
}

impl Args {
    /// The Nix expressions among the data, as written at the site (the
    /// derivation read or imported, a cabal2nix source, computed options):
    /// where attribution looks for literal names. The other fields are
    /// values (names, versions, hashes, URLs), not Nix text.
    pub fn expressions(&self) -> Vec<&str> {
        match self {
            Args::ImportDrv(t) | Args::ReadDrv(t) => vec![t.target.as_str()],
            Args::Cabal2nix(c) => c
                .src
                .iter()
                .chain(&c.options_expr)
                .map(String::as_str)
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The function and the derivation output it reads or imports (the text of
/// the target expression): the data of `import-drv` and `read-drv` sites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub function: String,
    pub target: String,
}

/// A package pinned by name and version (and, for callHackageDirect, hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pin {
    pub name: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl Kind {
    /// A Haskell kind: batched by nixlib's `batch`, bound in an overlay.
    pub fn is_haskell(self) -> bool {
        self.decl().batch == Batch::Haskell
    }

    pub fn as_str(self) -> &'static str {
        self.decl().name
    }

    /// One paragraph for rule help (SARIF) and `--explain`-like output.
    pub fn help(self) -> &'static str {
        self.decl().help
    }

    /// Does some detector look at calls of `name`?
    pub fn is_callee_name(name: &str) -> bool {
        Kind::ALL.iter().any(|k| k.decl().callees.contains(&name))
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
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
    pub batchable: Result<(), Reason>,
    /// Kind-specific data (`name`, `version`, …).
    pub args: Args,
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
            args: Args::default(),
            message,
            rounds: 1,
        }
    }

    pub fn with(mut self, args: Args) -> Finding {
        self.args = args;
        self
    }

    pub fn not_batchable(mut self, code: Code, message: impl Into<String>) -> Finding {
        self.batchable = Err(Reason::new(code, message));
        self
    }

    /// Batchable, or not with the reason given.
    pub fn batchable_if(mut self, b: Result<(), Reason>) -> Finding {
        self.batchable = b;
        self
    }

    pub fn confidence(mut self, c: Confidence) -> Finding {
        self.confidence = c;
        self
    }
}

/// A detector: one function per kind, over a flattened call and its callee.
pub type Detector = fn(&Call, &Callee) -> Option<Finding>;

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
    /// Why it is not batchable.
    pub reason: Option<String>,
    /// The reason's stable code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<Code>,
    pub multiplicity: Multiplicity,
    /// For per-element sites whose collection is a literal: its size.
    pub elements: Option<usize>,
    /// Source text of the callee, e.g. `self.callHackage`.
    pub call: String,
    pub args: Args,
    pub message: String,
    /// Serial IFD rounds this site costs in one full evaluation.
    pub rounds: usize,
    /// False when `rounds` is a lower bound (a per-element site over a
    /// collection of unknown size).
    pub rounds_exact: bool,
    /// A grouped generic site: the group binding it goes through
    /// (`ifdBatchGroup`, `ifdBatchGroup'2`: one per layer of its scope),
    /// decided over the whole file by [`generic::layer`].
    #[serde(skip)]
    pub group: Option<String>,
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
    detect_calls(root, text, file).0
}

/// [`detect`], and each site's call (`calls[i]` is `sites[i]`'s) for the
/// stages that act on the tree while it is alive (`rewrite`).
pub fn detect_calls(root: &SyntaxNode, text: &str, file: &str) -> (FileSites, Vec<Call>) {
    // Most files have no site: build the line index only when one is found.
    let index = std::cell::OnceCell::new();
    let mut out = FileSites::default();
    let mut calls = Vec::new();
    for node in candidate_calls(root, &alias_names(root, text)) {
        let index = index.get_or_init(|| LineIndex::new(text));
        let Some(call) = Call::flatten(&node) else {
            continue;
        };
        let Some(callee) = Callee::resolved(&call.head) else {
            continue;
        };
        let Some(mut finding) = Kind::ALL
            .iter()
            .find_map(|k| (k.decl().detect)(&call, &callee))
        else {
            continue;
        };
        // Haskell sites are batched in the overlay whose set they call
        // into; generic ones where their derivation can share a barrier.
        if finding.batchable.is_ok() {
            let decl = finding.kind.decl();
            finding.batchable = match decl.batch {
                Batch::Haskell => overlay::batchable(&call, &callee).map(drop),
                Batch::Generic => match decl.target.and_then(|t| t(&call, &callee)) {
                    Some(target) => generic::batchability(&call.node, &target).map(drop),
                    None => Ok(()),
                },
                Batch::No => Ok(()),
            };
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
            reason_code: finding.batchable.as_ref().err().map(|r| r.code),
            reason: finding.batchable.err().map(|r| r.message),
            multiplicity,
            elements,
            call: call.head.text().to_string(),
            args: finding.args,
            message: finding.message,
            rounds,
            rounds_exact: per.is_none() || elements.is_some(),
            group: None,
        });
        calls.push(call);
    }
    generic::layer(&mut out.sites, &calls);
    conflicts::mark(&mut out.sites, &calls);
    (out, calls)
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
        // `{ callCabal2nix, lib, ... }: callCabal2nix "x" ./. { }`: a
        // callPackage-style file; the package set supplies the function.
        scope::Binding::Param => {
            matches!(scope::lambda_binder(ident, callee.name()), Some((_, true)))
        }
        scope::Binding::Inherit(Some(_)) => true,
        scope::Binding::Value(v) => {
            let v = syntax::unparen(&v);
            v.kind() == NODE_SELECT && Callee::of(&v).is_some_and(|c| c.name() == callee.name())
        }
        _ => false,
    }
}

/// Names bound in the file (`let` / `rec`) to a name or select that ends
/// in a callee some detector looks at: `c2n = final.haskellPackages.callCabal2nix;`.
/// Their calls are candidates too; `Callee::resolved` follows them. Files
/// that mention no callee name skip the walk.
fn alias_names(root: &SyntaxNode, text: &str) -> Vec<String> {
    let mentions = Kind::ALL
        .iter()
        .flat_map(|k| k.decl().callees)
        .any(|c| text.contains(c));
    if !mentions {
        return Vec::new();
    }
    // (name, the last name of what it is bound to)
    let mut bound: Vec<(String, String)> = Vec::new();
    for binding in root
        .descendants()
        .filter(|n| n.kind() == NODE_ATTRPATH_VALUE)
    {
        let mut kids = binding.children();
        let (Some(path), Some(value)) = (kids.next(), kids.next()) else {
            continue;
        };
        let value = syntax::unparen(&value);
        if !matches!(value.kind(), NODE_IDENT | NODE_SELECT) {
            continue;
        }
        let (Some(attr), 1) = (path.first_child(), path.children().count()) else {
            continue;
        };
        let Some(name) = syntax::ident_text(&attr) else {
            continue;
        };
        if let Some(c) = Callee::of(&value)
            && !Kind::is_callee_name(&name)
        {
            bound.push((name, c.name().to_string()));
        }
    }
    // Aliases of aliases (`c = self.callHackage; d = c;`), to a fixpoint.
    let mut out: Vec<String> = Vec::new();
    loop {
        let before = out.len();
        for (name, to) in &bound {
            if !out.contains(name) && (Kind::is_callee_name(to) || out.contains(to)) {
                out.push(name.clone());
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

/// The outermost applications whose callee a detector looks at, in
/// source order. Walks rowan's green tree (no cursor node is allocated per
/// visited node, unlike `descendants()`), and makes a syntax node only for
/// the few matches.
fn candidate_calls(root: &SyntaxNode, aliases: &[String]) -> Vec<SyntaxNode> {
    let wanted = |name: &str| Kind::is_callee_name(name) || aliases.iter().any(|a| a == name);
    let green = root.green();
    let mut ranges = Vec::new();
    // (node, its start offset, is it the function part of an application?)
    let mut stack = vec![(green, root.text_range().start(), false)];
    while let Some((node, start, is_head)) = stack.pop() {
        let is_apply = green_kind(node) == NODE_APPLY;
        if is_apply && !is_head && green_head_name(node).is_some_and(wanted) {
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
