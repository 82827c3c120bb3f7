//! The integration tests: one binary, one module per area, shared helpers in
//! `support/` (golden files, running Nix, the SARIF schema).
//!
//! ```text
//! cargo test --test it                      all of them
//! cargo test --test it -- world:: profile:: the modules named (filters match
//!                                           test paths, `module::test_name`)
//! ```
//!
//! Golden files (`fixtures/scan/*.expected.*`, `tests/cases/*/out/`): a
//! mismatch prints a unified diff; `IFD_BATCH_BLESS=1` rewrites them.

mod support;

mod cli_scan;
mod detect;
mod dynamic;
mod extract;
mod extract_index;
mod extract_nixlib;
mod fileset;
mod flake;
mod fuzz;
mod materialize_systems;
mod precommit;
mod profile;
mod profile_trace;
mod remote;
mod rewrite_cases;
mod rewrite_nix;
mod sarif;
mod semantic;
mod world;
