//! What the test modules share.

pub mod nix;
pub mod sarif_schema;
