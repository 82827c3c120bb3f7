//! `ifd-batch check`: the pre-commit hook's edge.

use super::{Exit, fail, note, write_stdout};
use crate::check::{ProblemKind, problems};
use crate::rewrite;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Arguments of `ifd-batch check`.
#[derive(clap::Args, Debug)]
pub(crate) struct CheckArgs {
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

/// Run `ifd-batch check`; returns the exit code.
pub(crate) fn run(args: CheckArgs) -> Exit {
    let exclude = match crate::walk::Exclude::new(&args.root, &args.exclude) {
        Ok(exclude) => exclude,
        Err(e) => return fail(Exit::Usage, e),
    };
    if !args.root.is_dir() {
        return fail(
            Exit::Usage,
            format!("{} is not a directory", args.root.display()),
        );
    }
    let (files, others) = staged_nix_files(&args);
    if files.is_empty() && !args.all && !others && !args.rebuild {
        return Exit::Success;
    }
    if args.rebuild {
        return rebuild(&args, &exclude);
    }
    let plan = if args.all {
        rewrite::plan(&args.root, &args.manifest, &exclude)
    } else {
        rewrite::plan_files(&args.root, Some(&files), &args.manifest, &exclude)
    };
    let checked: Option<Vec<String>> = (!args.all).then(|| {
        files
            .iter()
            .map(|f| crate::scan::relative_name(&args.root, &args.root.join(f)))
            .collect()
    });
    let found = problems(&plan, checked.as_deref());
    if found.is_empty() {
        return Exit::Success;
    }
    if args.fix && plan.errors.is_empty() {
        let materialized = found.iter().any(|f| f.kind == ProblemKind::Materialized);
        return fix(plan, materialized);
    }
    let mut text = String::new();
    for f in &found {
        text.push_str(&format!("{f}\n"));
    }
    if std::io::stdout().is_terminal() {
        text.push_str(&hint(&args, &files, found.len()));
    }
    write_stdout(text.as_bytes());
    Exit::Failure
}

/// The staged `.nix` files to check (the manifest, passed along with them,
/// is checked through its entries, not scanned), and whether other files
/// (`.cabal`, `package.yaml`: they only make the materialized files be
/// checked) were staged too.
fn staged_nix_files(args: &CheckArgs) -> (Vec<PathBuf>, bool) {
    let manifest_path = args.root.join(&args.manifest);
    let others = args
        .files
        .iter()
        .any(|f| f.extension().is_none_or(|x| x != "nix"));
    let files = args
        .files
        .iter()
        .filter(|f| f.extension().is_some_and(|x| x == "nix"))
        .filter(|f| {
            args.root.join(f) != manifest_path
                && !matches!((args.root.join(f).canonicalize(), manifest_path.canonicalize()), (Ok(a), Ok(b)) if a == b)
        })
        .cloned()
        .collect();
    (files, others)
}

/// `check --fix`: the repository's backend follows the sites (through the
/// one Backend trait): materialized files are rebuilt when stale (a build,
/// `materialized`), a dynamic repository's generated file always; then the
/// plan is written.
fn fix(mut plan: rewrite::Plan, materialized: bool) -> Exit {
    let backend = match rewrite::backend::choose(None, &[], &[], &plan) {
        Ok(b) => b,
        Err(e) => return fail(Exit::Failure, e),
    };
    if materialized || !crate::dynamic::recorded(&plan).is_empty() {
        match backend.changes(&plan) {
            Ok(applied) => plan = plan.with(applied.changes),
            Err(e) => return fail(Exit::Failure, e),
        }
        if let Some(e) = plan.errors.first() {
            return fail(Exit::Failure, e.to_string());
        }
    }
    match rewrite::write(&plan) {
        Ok(n) => {
            let routed = plan
                .sites
                .iter()
                .filter(|s| s.action == rewrite::Action::Edited)
                .count();
            note(format!(
                "routed {routed} site(s) through the batch; updated {n} file(s)"
            ));
            Exit::Success
        }
        Err(e) => fail(Exit::Failure, e),
    }
}

/// On a terminal: how to fix what was found.
fn hint(args: &CheckArgs, files: &[PathBuf], found: usize) -> String {
    let what = if args.all {
        "--all".to_string()
    } else {
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "\n{found} problem{}: run `ifd-batch check --fix {what}` to route the sites through one batch and update {}\n",
        if found == 1 { "" } else { "s" },
        args.manifest
    )
}

/// `check --rebuild`: regenerate every materialized expression and compare.
fn rebuild(args: &CheckArgs, exclude: &crate::walk::Exclude) -> Exit {
    let plan = rewrite::plan(&args.root, &args.manifest, exclude);
    let Some(conf) = plan.manifest.materialize.clone() else {
        note(format!(
            "{} does not use the materialized backend",
            args.manifest
        ));
        return Exit::Success;
    };
    let backend = rewrite::backend::Materialized {
        conf,
        systems: Vec::new(),
    };
    let applied = match rewrite::Backend::changes(&backend, &plan) {
        Ok(applied) => applied.changes,
        Err(e) => return fail(Exit::Failure, e),
    };
    let differing: Vec<String> = applied
        .generated
        .iter()
        .map(|c| c.file.clone())
        .chain(applied.removals.iter().cloned())
        .collect();
    if differing.is_empty() {
        note("every materialized expression is what its generator builds now");
        return Exit::Success;
    }
    let mut text = String::new();
    for f in &differing {
        text.push_str(&format!(
            "{f}:1:1: materialized: differs from what its generator builds now\n"
        ));
    }
    write_stdout(text.as_bytes());
    Exit::Failure
}
