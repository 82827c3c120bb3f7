//! ifd-batch: find import-from-derivation sites in Nix code and route them
//! through one batch. See ARCHITECTURE.md for the pipeline
//! walk → parse → detect → plan → edit/emit → report.
pub mod check;
pub mod cli;
pub mod detect;
pub mod dynamic;
pub mod edit;
pub mod extract;
pub mod manifest;
pub mod materialize;
pub mod profile;
pub mod report;
pub mod rewrite;
pub mod scan;
pub mod source;
pub mod syntax;
pub mod verify;
pub mod walk;
