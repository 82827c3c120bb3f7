//! What the test modules share.

pub mod golden;
pub mod nix;
pub mod sarif_schema;
pub mod tools;
