//! Development tools: the generators behind the benchmarks and the test
//! world, and the scan benchmark's parse-only limit. Not part of ifd-batch.
//!
//! ```text
//! cargo xtask synth-index --out FILE.tar.gz [...]   a synthetic all-cabal-hashes index
//! cargo xtask gen-corpus --out DIR --files N [...]  a nixpkgs-like Nix corpus
//! cargo xtask parse-only PATH...                    walk, read and rnix-parse, nothing else
//! cargo xtask fuzz-semantic --cases N [--seed S]    generated repositories, rewritten and
//!                                                   compared with real Nix
//! ```
//!
//! `cargo xtask` is an alias (`.cargo/config.toml`) for
//! `cargo run --quiet --release -p xtask --`.

mod fuzz_semantic;
mod gen_corpus;
mod parse_only;
mod synth_index;

const USAGE: &str = "usage: cargo xtask synth-index ARGS | gen-corpus ARGS | parse-only PATH... | fuzz-semantic ARGS";

fn main() -> anyhow::Result<()> {
    let task = std::env::args_os().nth(1);
    match task.as_ref().and_then(|t| t.to_str()) {
        Some("synth-index") => synth_index::main(std::env::args().skip(2)),
        Some("gen-corpus") => gen_corpus::main(std::env::args().skip(2))?,
        Some("fuzz-semantic") => {
            fuzz_semantic::main(std::env::args().skip(2)).map_err(anyhow::Error::msg)?
        }
        Some("parse-only") => parse_only::main(std::env::args_os().skip(2)),
        Some("-h" | "--help") => println!("{USAGE}"),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2)
        }
    }
    Ok(())
}
