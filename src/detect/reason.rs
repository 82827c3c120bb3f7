//! Why a site is left alone: a stable code (JSON `reason_code`) and a
//! message for people (`reason`).

use serde::Serialize;

/// The stable codes. Never rename one: tools match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// A package name, version, hash, option or override entry is not a
    /// literal (nor a name bound to one, nor a helper's literal argument).
    NotLiteral,
    /// The call does not give every argument the batch needs.
    PartialApplication,
    /// A form ifd-batch does not batch (`developPackage`, `haskellSrc2nix`,
    /// builtin fetchers).
    NotSupported,
    /// Not inside an overlay (`self: super: …`) whose set it calls.
    NotInOverlay,
    /// Called through another set than the enclosing overlay's.
    OtherSet,
    /// A `callCabal2nix` source that would not mean the same at the
    /// overlay's batch binding.
    SourceNotMovable,
    /// A generic site with no `let … in` to bind its group in.
    NoScope,
    /// A generic site whose derivation cannot join its scope's group.
    NotShareable,
    /// Another site already put the same package in the batch differently.
    Conflict,
    /// A path the manifest cannot refer to (interpolated, absolute).
    UnsupportedPath,
    /// A shape the rewrite did not expect; a bug to report.
    Internal,
}

/// A code and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: Code,
    pub message: String,
}

impl Reason {
    pub fn new(code: Code, message: impl Into<String>) -> Reason {
        Reason {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
