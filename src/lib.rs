//! ifd-batch: find import-from-derivation sites in Nix code and route them
//! through one batch. See ARCHITECTURE.md for the pipeline.
pub mod cli;
