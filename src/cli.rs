//! Command-line interface.

use crate::report;
use crate::scan::{ScanOptions, scan};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "ifd-batch",
    version,
    about = "Find import-from-derivation sites in Nix code and batch them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find every import-from-derivation site under PATHs (default: .).
    Scan(ScanArgs),
    /// Route batchable sites through one batch (dry run: prints a diff).
    Rewrite(RewriteArgs),
    /// Pre-commit check: are the given files' sites routed and the manifest current?
    Check(crate::check::CheckArgs),
    /// Extract listed members of a tar archive in one streaming pass.
    Extract(crate::extract::ExtractArgs),
    /// Run Nix and measure where evaluation blocks on builds.
    Profile(crate::profile::ProfileArgs),
}

#[derive(clap::Args)]
struct RewriteArgs {
    /// Repository root.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Apply the rewrite (default: print the diff only).
    #[arg(long)]
    write: bool,
    /// The generated manifest, relative to PATH.
    #[arg(long, default_value = "nix/ifd-batch.nix")]
    manifest: String,
    /// Evaluate FILE[:ATTRPATH] (relative to PATH) with Nix before and after,
    /// and refuse to write unless every drvPath is identical. Repeatable.
    #[arg(long, value_name = "FILE[:ATTRPATH]")]
    verify: Vec<crate::verify::Target>,
    /// Output format for the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    format: PlanFormat,
    /// Where the batched sites' generated Nix comes from: `ifd` (built
    /// during evaluation, behind the batch's barriers), `materialized`
    /// (built now and checked in next to the manifest: no IFD at
    /// evaluation), `dynamic` (dynamic derivations). Default: the backend
    /// the manifest already uses, else `ifd`.
    #[arg(long, value_enum)]
    backend: Option<Backend>,
    /// FILE:ATTRPATH (relative to PATH) to evaluate for the materialized and
    /// dynamic backends (which package sets, compilers and systems to build
    /// for). Repeatable.
    #[arg(long, value_name = "FILE[:ATTRPATH]")]
    target: Vec<crate::verify::Target>,
    /// Leave out paths matching GLOB (`.gitignore` syntax, relative to
    /// PATH), e.g. a deliberately invalid test fixture. Repeatable.
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
}

/// `rewrite --backend`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    Ifd,
    Materialized,
    Dynamic,
}

#[derive(Clone, Copy, ValueEnum)]
enum PlanFormat {
    Human,
    Json,
}

#[derive(clap::Args)]
struct ScanArgs {
    /// Files or directories to scan.
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Colour the human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Leave out paths matching GLOB (`.gitignore` syntax, relative to the
    /// scanned directory). Repeatable.
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
    Sarif,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Run the CLI; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Rewrite(args) => match crate::walk::Exclude::new(&args.path, &args.exclude) {
            Ok(exclude) => crate::walk::with_exclude(&exclude, || run_rewrite(args)),
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        },
        Command::Check(args) => crate::check::run(args),
        Command::Extract(args) => crate::extract::run(args),
        Command::Profile(args) => crate::profile::run(args),
    }
}

fn run_rewrite(args: RewriteArgs) -> i32 {
    use crate::rewrite;
    if !args.path.is_dir() {
        eprintln!("error: {} is not a directory", args.path.display());
        return 2;
    }
    let mut plan = rewrite::plan(&args.path, &args.manifest);
    let dynamic_targets = match args.backend {
        Some(Backend::Dynamic) if !args.target.is_empty() => Some(args.target.clone()),
        Some(Backend::Dynamic) | None => {
            Some(crate::dynamic::recorded(&plan)).filter(|t| !t.is_empty())
        }
        Some(_) => None,
    };
    if args.backend == Some(Backend::Dynamic) && dynamic_targets.is_none() {
        eprintln!(
            "error: --backend dynamic needs --target FILE[:ATTRPATH]: the derivations to evaluate without import-from-derivation"
        );
        return 2;
    }
    let materialize_conf = match args.backend {
        None if dynamic_targets.is_some() => None,
        None => plan.manifest.materialize.clone(),
        Some(Backend::Ifd) => None,
        Some(Backend::Materialized) => {
            let old = plan.manifest.materialize.clone();
            let targets = if args.target.is_empty() {
                old.map(|m| m.targets).unwrap_or_default()
            } else {
                args.target.iter().map(ToString::to_string).collect()
            };
            if targets.is_empty() {
                eprintln!(
                    "error: --backend materialized needs --target FILE[:ATTRPATH]: what to evaluate to find the package sets to build for"
                );
                return 2;
            }
            Some(crate::manifest::Materialize::new(&args.manifest, targets))
        }
        Some(Backend::Dynamic) => None,
    };
    if let Err(e) = crate::materialize::apply(&mut plan, materialize_conf) {
        eprintln!("error: {e}");
        return 1;
    }
    let dynamic = match crate::dynamic::apply(&mut plan, dynamic_targets.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let verified = if args.verify.is_empty() || !plan.errors.is_empty() {
        None
    } else if let Some(d) = &dynamic {
        Some(crate::dynamic::verify(&plan, d, &args.verify))
    } else {
        Some(crate::verify::verify(&plan, &args.verify))
    };
    let verify_ok = match &verified {
        None => true,
        Some(Ok(r)) => r.ok(),
        Some(Err(_)) => false,
    };
    let mut status = i32::from(!plan.errors.is_empty() || !verify_ok);
    let mut written = None;
    if args.write && status == 0 {
        match rewrite::write(&plan) {
            Ok(n) => written = Some(n),
            Err(e) => {
                eprintln!("error: {e}");
                status = 1;
            }
        }
    }
    match args.format {
        PlanFormat::Json => {
            let doc = serde_json::json!({
                "version": 1,
                "root": plan.root.to_string_lossy(),
                "manifest": plan.manifest_file,
                "changed_files": plan.changes.iter().map(|c| c.file.clone()).collect::<Vec<_>>(),
                "manifest_changed": plan.manifest_new.is_some() && plan.manifest_new != plan.manifest_old,
                "sites": plan.sites,
                "groups": plan.groups,
                "entries": plan.manifest.count(),
                "errors": plan.errors,
                "dynamic": dynamic,
                "verify": verified.as_ref().map(|v| match v {
                    Ok(r) => serde_json::json!({"ok": r.ok(), "rows": r.rows}),
                    Err(e) => serde_json::json!({"ok": false, "error": e}),
                }),
                "written": written,
            });
            let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
            s.push('\n');
            write_stdout(s.as_bytes());
        }
        PlanFormat::Human => {
            let mut out = rewrite::diff(&plan);
            let edited = plan
                .sites
                .iter()
                .filter(|s| s.action == crate::rewrite::Action::Edited)
                .count();
            let routed = plan
                .sites
                .iter()
                .filter(|s| s.action == crate::rewrite::Action::Routed)
                .count();
            let skipped: Vec<_> = plan
                .sites
                .iter()
                .filter(|s| s.action == crate::rewrite::Action::Skipped)
                .collect();
            if !plan.groups.is_empty() {
                out.push_str("batched together (generic import-from-derivation):\n");
                for g in &plan.groups {
                    out.push_str(&format!("  {g}\n"));
                }
            }
            if !skipped.is_empty() {
                out.push_str("left alone:\n");
                for s in &skipped {
                    out.push_str(&format!(
                        "  {}:{}:{}: {}: {}\n",
                        s.file,
                        s.line,
                        s.column,
                        s.kind,
                        s.reason.as_deref().unwrap_or("")
                    ));
                }
            }
            if let Some(d) = &dynamic {
                out.push_str(&d.text());
            }
            for e in &plan.errors {
                let at = match (e.line, e.column) {
                    (Some(l), Some(c)) => format!("{}:{l}:{c}", e.file),
                    _ => e.file.clone(),
                };
                out.push_str(&format!("error: {at}: {}\n", e.message));
            }
            match &verified {
                Some(Ok(r)) => out.push_str(&r.table()),
                Some(Err(e)) => out.push_str(&format!("verify failed: {e}\n")),
                None => {}
            }
            let sources = plan.changes.iter().filter(|c| !c.generated).count();
            let generated = plan.changes.len() - sources;
            out.push_str(&format!(
                "rewrite: {edited} site{} edited in {} file{}, {routed} already routed, {} left alone; {} manifest entr{} in {}{}\n",
                if edited == 1 { "" } else { "s" },
                sources,
                if sources == 1 { "" } else { "s" },
                skipped.len(),
                plan.manifest.count(),
                if plan.manifest.count() == 1 { "y" } else { "ies" },
                plan.manifest_file,
                match (generated, plan.removals.len()) {
                    (0, 0) => String::new(),
                    (g, r) => format!("; {g} generated file{} to write, {r} to remove", if g == 1 { "" } else { "s" }),
                },
            ));
            out.push_str(&match (written, args.write) {
                (Some(n), _) => format!("wrote {n} file{}\n", if n == 1 { "" } else { "s" }),
                (None, true) => "nothing written: fix the errors above first\n".to_string(),
                (None, false) if plan.is_noop() => "nothing to change\n".to_string(),
                (None, false) => "dry run: re-run with --write to apply\n".to_string(),
            });
            write_stdout(out.as_bytes());
        }
    }
    status
}

fn run_scan(args: ScanArgs) -> i32 {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };
    let exclude = match crate::walk::Exclude::new(&crate::scan::root_of(&paths), &args.exclude) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let result = crate::walk::with_exclude(&exclude, || {
        scan(
            &paths,
            &ScanOptions {
                keep_sources: matches!(args.format, Format::Human),
            },
        )
    });
    match args.format {
        Format::Human => write_stdout(&report::human::render(&result, use_color(args.color))),
        Format::Json => {
            // Streamed: a closed pipe (`| head`) just ends the output.
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let _ = report::json::write(&result, &mut out).and_then(|()| out.flush());
        }
        Format::Sarif => write_stdout(report::sarif::render(&result).as_bytes()),
    }
    i32::from(result.has_errors())
}

fn use_color(c: Color) -> bool {
    match c {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// Write to stdout; a closed pipe (`| head`) is not an error.
fn write_stdout(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}
