//! The site kinds, apart from the analyses they share. One file per kind:
//! its declaration ([`KindDecl`]: name, callee names, help, detector,
//! batching, target) and its detector, one plain function over a flattened
//! application (`Call`) that reads top to bottom. The `kinds!` registry
//! below lists them; adding a kind is adding a file and a line.
//!
//! A kind uses the shared analyses below it (`drv`, `multiplicity`,
//! `helper`, `overlay`, `reason`) and this module's vocabulary ([`Finding`],
//! [`Pin`], [`ReadTarget`]); never another kind, nor the whole-file decisions
//! above it (`generic::layer`, `conflicts`), which read the registry.

use super::drv::Confidence;
use super::reason::{Code, Reason};
use crate::syntax::scope;
use crate::syntax::{self, Call, Callee};
use rnix::{SyntaxKind::*, SyntaxNode};
use serde::Serialize;

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
/// Adding a kind is adding its file (in `detect/kinds/`) and a line here.
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
    ImportDrv => import_drv::ReadTarget,
    ReadDrv => read_drv::ReadTarget,
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
pub struct ReadTarget {
    pub function: String,
    pub target: String,
}

impl ReadTarget {
    /// The finding of a site whose `function` reads or imports `target`:
    /// the message and the data `import-drv` and `read-drv` both report.
    pub fn finding(
        kind: Kind,
        args: fn(ReadTarget) -> Args,
        function: &str,
        target: &SyntaxNode,
        arity: usize,
        confidence: Confidence,
    ) -> Finding {
        let shown = syntax::unparen(target).text().to_string();
        let message = format!("{function} of {shown} builds a derivation during evaluation");
        Finding::new(kind, arity, message)
            .confidence(confidence)
            .with(args(ReadTarget {
                function: function.to_string(),
                target: shown,
            }))
    }
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
