//! `ifd-batch check`: the pre-commit hook. Checks only the files it is
//! given (the staged ones) and the manifest; `--fix` rewrites them.

use crate::manifest::Manifest;
use crate::rewrite::{self, Plan};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Arguments of `ifd-batch check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Files to check (relative to --root), e.g. the staged ones.
    pub files: Vec<PathBuf>,
    /// Check the whole repository instead of FILES.
    #[arg(long)]
    pub all: bool,
    /// Route the sites through the batch and update the manifest.
    #[arg(long)]
    pub fix: bool,
    /// Repository root.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// The generated manifest, relative to --root.
    #[arg(long, default_value = "nix/ifd-batch.nix")]
    pub manifest: String,
    /// Materialized backend: rebuild every generated expression with Nix
    /// and compare with the checked-in files (as haskell.nix's
    /// checkMaterialization does), for CI.
    #[arg(long)]
    pub rebuild: bool,
    /// Leave out paths matching GLOB (`.gitignore` syntax, relative to
    /// --root), staged files too. Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

/// One problem, as `file:line:col: kind: message`.
pub struct Finding {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub kind: String,
    pub message: String,
}

/// What is wrong with the checked files and the manifest.
pub fn findings(plan: &Plan, checked: Option<&[String]>) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in plan
        .sites
        .iter()
        .filter(|s| s.action == crate::rewrite::Action::Edited)
    {
        out.push(Finding {
            file: s.file.clone(),
            line: s.line,
            column: s.column,
            kind: s.kind.to_string(),
            message: format!("`{}` is not routed through the batch", s.call),
        });
    }
    for e in &plan.errors {
        out.push(Finding {
            file: e.file.clone(),
            line: e.line.unwrap_or(1),
            column: e.column.unwrap_or(1),
            kind: "error".into(),
            message: e.message.clone(),
        });
    }
    let old = plan
        .manifest_old
        .as_deref()
        .map(Manifest::parse)
        .and_then(Result::ok)
        .unwrap_or_default();
    let files: Vec<&String> = plan.manifest.files.keys().chain(old.files.keys()).collect();
    for file in files {
        if checked.is_some_and(|c| !c.contains(file)) {
            continue;
        }
        let new_entries = plan
            .manifest
            .files
            .get(file)
            .map(|e| e.semantic())
            .unwrap_or_default();
        let old_entries = old
            .files
            .get(file)
            .map(|e| e.semantic())
            .unwrap_or_default();
        if new_entries == old_entries {
            continue;
        }
        let (new_d, old_d) = (new_entries, old_entries);
        let missing: Vec<&String> = new_d.iter().filter(|x| !old_d.contains(x)).collect();
        let extra: Vec<&String> = old_d.iter().filter(|x| !new_d.contains(x)).collect();
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("missing {}", join(&missing)));
        }
        if !extra.is_empty() {
            parts.push(format!("extra {}", join(&extra)));
        }
        if parts.is_empty() {
            parts.push("changed entries".into());
        }
        out.push(Finding {
            file: plan.manifest_file.clone(),
            line: 1,
            column: 1,
            kind: "manifest".into(),
            message: format!("stale for {file}: {}", parts.join("; ")),
        });
    }
    for s in crate::materialize::stale(&plan.root, &plan.manifest_file, &plan.manifest) {
        out.push(Finding {
            file: s.file,
            line: 1,
            column: 1,
            kind: "materialized".into(),
            message: s.message,
        });
    }
    out.dedup_by(|a, b| a.file == b.file && a.line == b.line && a.message == b.message);
    out
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// `check --rebuild`: regenerate every materialized expression and compare.
fn rebuild(args: &CheckArgs) -> i32 {
    let mut plan = rewrite::plan(&args.root, &args.manifest);
    let Some(conf) = plan.manifest.materialize.clone() else {
        eprintln!(
            "ifd-batch: {} does not use the materialized backend",
            args.manifest
        );
        return 0;
    };
    let before = plan.changes.len();
    if let Err(e) = crate::materialize::apply(&mut plan, Some(conf)) {
        eprintln!("error: {e}");
        return 1;
    }
    let differing: Vec<String> = plan.changes[before..]
        .iter()
        .map(|c| c.file.clone())
        .chain(plan.removals.iter().cloned())
        .collect();
    if differing.is_empty() {
        eprintln!("ifd-batch: every materialized expression is what its generator builds now");
        return 0;
    }
    let mut text = String::new();
    for f in &differing {
        text.push_str(&format!(
            "{f}:1:1: materialized: differs from what its generator builds now\n"
        ));
    }
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    1
}

/// Run `ifd-batch check`; returns the exit code.
pub fn run(args: CheckArgs) -> i32 {
    match crate::walk::Exclude::new(&args.root, &args.exclude) {
        Ok(exclude) => crate::walk::with_exclude(&exclude, || run_excluding(args)),
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn run_excluding(args: CheckArgs) -> i32 {
    if !args.root.is_dir() {
        eprintln!("error: {} is not a directory", args.root.display());
        return 2;
    }
    // The manifest is passed along with the staged files; it is checked
    // through its entries, not scanned.
    let manifest_path = args.root.join(&args.manifest);
    // Other staged files (.cabal, package.yaml) only make the materialized
    // files be checked.
    let others = args
        .files
        .iter()
        .any(|f| f.extension().is_none_or(|x| x != "nix"));
    let files: Vec<PathBuf> = args
        .files
        .iter()
        .filter(|f| f.extension().is_some_and(|x| x == "nix"))
        .filter(|f| {
            args.root.join(f) != manifest_path
                && !matches!((args.root.join(f).canonicalize(), manifest_path.canonicalize()), (Ok(a), Ok(b)) if a == b)
        })
        .cloned()
        .collect();
    if files.is_empty() && !args.all && !others && !args.rebuild {
        return 0;
    }
    if args.rebuild {
        return rebuild(&args);
    }
    let mut plan = if args.all {
        rewrite::plan(&args.root, &args.manifest)
    } else {
        rewrite::plan_files(&args.root, Some(&files), &args.manifest)
    };
    let checked: Option<Vec<String>> = (!args.all).then(|| {
        files
            .iter()
            .map(|f| crate::scan::relative_name(&args.root, &args.root.join(f)))
            .collect()
    });
    let found = findings(&plan, checked.as_deref());
    if found.is_empty() {
        return 0;
    }
    if args.fix && plan.errors.is_empty() {
        if found.iter().any(|f| f.kind == "materialized") {
            let conf = plan.manifest.materialize.clone();
            if let Err(e) = crate::materialize::apply(&mut plan, conf) {
                eprintln!("error: {e}");
                return 1;
            }
        }
        // A repository on the dynamic backend: its generated file follows
        // the sites it was made from.
        let recorded = crate::dynamic::recorded(&plan);
        if !recorded.is_empty() {
            if let Err(e) = crate::dynamic::apply(&mut plan, Some(&recorded)) {
                eprintln!("error: {e}");
                return 1;
            }
            if let Some(e) = plan.errors.first() {
                eprintln!("error: {}: {}", e.file, e.message);
                return 1;
            }
        }
        return match rewrite::write(&plan) {
            Ok(n) => {
                eprintln!(
                    "ifd-batch: routed {} site(s) through the batch; updated {n} file(s)",
                    plan.sites
                        .iter()
                        .filter(|s| s.action == crate::rewrite::Action::Edited)
                        .count()
                );
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                1
            }
        };
    }
    let mut text = String::new();
    for f in &found {
        text.push_str(&format!(
            "{}:{}:{}: {}: {}\n",
            f.file, f.line, f.column, f.kind, f.message
        ));
    }
    if std::io::stdout().is_terminal() {
        text.push_str(&format!(
            "\n{} problem{}: run `ifd-batch check --fix {}` to route the sites through one batch and update {}\n",
            found.len(),
            if found.len() == 1 { "" } else { "s" },
            if args.all { "--all".to_string() } else { files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" ") },
            args.manifest
        ));
    }
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    1
}
