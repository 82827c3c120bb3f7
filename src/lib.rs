//! ifd-batch: find import-from-derivation sites in Nix code and route them
//! through one batch. See ARCHITECTURE.md for the pipeline
//! walk → parse → detect → plan → edit/emit → report.
//!
//! The library's surface is small: [`scan()`] and [`parse_and_detect`] give
//! [`Site`]s (typed: [`Kind`], [`Args`], [`Reason`]); [`report`] renders a
//! scan; [`rewrite::plan`] plans a rewrite, [`rewrite::write`] applies it;
//! [`cli::main`] is the command line. Everything else is internal.

mod check;
pub mod cli;
pub mod detect;
mod dynamic;
mod edit;
mod extract;
mod fileset;
mod manifest;
mod materialize;
mod nix;
mod nixlib;
mod plan;
mod profile;
pub mod report;
pub mod rewrite;
pub mod scan;
mod source;
mod syntax;
mod verify;
mod walk;

pub use detect::{Args, Code, Confidence, Kind, Multiplicity, Reason, Site};
pub use rewrite::{Backend, Plan};
pub use scan::{Scan, ScanOptions, parse_and_detect, scan};
pub use walk::Exclude;
