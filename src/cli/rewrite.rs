//! `ifd-batch rewrite`: the arguments, the backend chosen, the plan shown.

use super::{Exit, fail, plural, write_stdout};
use clap::ValueEnum;
use std::path::PathBuf;

#[derive(clap::Args)]
pub(crate) struct RewriteArgs {
    /// Repository root.
    #[arg(default_value = ".")]
    pub(crate) path: PathBuf,
    /// Apply the rewrite (default: print the diff only).
    #[arg(long)]
    write: bool,
    /// The generated manifest, relative to PATH.
    #[arg(long, default_value = "nix/ifd-batch.nix")]
    manifest: String,
    /// Evaluate FILE[:ATTRPATH] (relative to PATH) with Nix before and after,
    /// and refuse to write unless every drvPath is identical. Repeatable.
    #[arg(long, value_name = "FILE[:ATTRPATH]")]
    verify: Vec<crate::verify::AttrTarget>,
    /// Output format for the plan.
    #[arg(long, value_enum, default_value_t = RewriteFormatArg::Human)]
    format: RewriteFormatArg,
    /// Where the batched sites' generated Nix comes from: `ifd` (built
    /// during evaluation, behind the batch's barriers), `materialized`
    /// (built now and checked in next to the manifest: no IFD at
    /// evaluation), `dynamic` (dynamic derivations). Default: the backend
    /// the manifest already uses, else `ifd`.
    #[arg(long, value_enum)]
    backend: Option<BackendArg>,
    /// FILE:ATTRPATH (relative to PATH) to evaluate for the materialized and
    /// dynamic backends (which package sets, compilers and systems to build
    /// for). Repeatable.
    #[arg(long, value_name = "FILE[:ATTRPATH]")]
    target: Vec<crate::verify::AttrTarget>,
    /// Materialized backend: write the platforms of SYSTEM only (e.g.
    /// `aarch64-darwin`), leaving the others' files as they are. Default:
    /// every system the targets evaluate, each built on this machine.
    /// Repeatable.
    #[arg(long, value_name = "SYSTEM")]
    system: Vec<String>,
    /// The tool the batch's extraction runs: `ifd-batch` (`ifd-batch
    /// extract` through a seekable index of all-cabal-hashes: an edit reads
    /// only the members it needs), `tar` (GNU tar: one pass over the whole
    /// archive), or `auto` (`ifd-batch` when the package set provides
    /// `ifd-batch`, e.g. with this project's flake overlay, else `tar`).
    /// Default: the manifest's setting, else `auto`.
    #[arg(long, value_enum)]
    extractor: Option<ExtractorArg>,
    /// Leave out paths matching GLOB (`.gitignore` syntax, relative to
    /// PATH), e.g. a deliberately invalid test fixture. Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub(crate) exclude: Vec<String>,
}

/// `rewrite --backend`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BackendArg {
    Ifd,
    Materialized,
    Dynamic,
}

/// `rewrite --extractor`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExtractorArg {
    Auto,
    Tar,
    IfdBatch,
}

#[derive(Clone, Copy, ValueEnum)]
enum RewriteFormatArg {
    Human,
    Json,
}

pub(crate) fn run(args: RewriteArgs) -> Exit {
    use crate::manifest::Extractor;
    use crate::rewrite::{self, Request, backend::Kind};
    if !args.path.is_dir() {
        return fail(
            Exit::Usage,
            format!("{} is not a directory", args.path.display()),
        );
    }
    let exclude = match crate::walk::Exclude::new(&args.path, &args.exclude) {
        Ok(exclude) => exclude,
        Err(e) => return fail(Exit::Usage, e),
    };
    let request = Request {
        root: &args.path,
        manifest_file: &args.manifest,
        exclude: &exclude,
        backend: args.backend.map(|b| match b {
            BackendArg::Ifd => Kind::Ifd,
            BackendArg::Materialized => Kind::Materialized,
            BackendArg::Dynamic => Kind::Dynamic,
        }),
        targets: &args.target,
        systems: &args.system,
        extractor: args.extractor.map(|x| match x {
            ExtractorArg::Auto => None,
            ExtractorArg::Tar => Some(Extractor::Tar),
            ExtractorArg::IfdBatch => Some(Extractor::IfdBatch),
        }),
        verify: &args.verify,
        write: args.write,
    };
    let done = match rewrite::run(&request) {
        Ok(done) => done,
        Err(e) if e.is_usage() => return fail(Exit::Usage, e),
        Err(e) => return fail(Exit::Failure, e),
    };
    if let Some(Err(e)) = &done.written {
        fail(Exit::Failure, e);
    }
    let status = if done.ok() {
        Exit::Success
    } else {
        Exit::Failure
    };
    let run = Run {
        done: &done,
        write: args.write,
    };
    let out = match args.format {
        RewriteFormatArg::Json => run.json(),
        RewriteFormatArg::Human => run.human(),
    };
    write_stdout(out.as_bytes());
    status
}

/// What one rewrite did, for its report.
struct Run<'a> {
    done: &'a crate::rewrite::Rewritten,
    write: bool,
}

impl Run<'_> {
    fn count(&self, action: crate::rewrite::Action) -> usize {
        self.done
            .plan
            .sites
            .iter()
            .filter(|s| s.action == action)
            .count()
    }

    fn json(&self) -> String {
        let plan = &self.done.plan;
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
            "dynamic": self.done.dynamic,
            "verify": self.done.verified.as_ref().map(|v| match v {
                Ok(r) => serde_json::json!({"ok": r.ok(), "rows": r.rows}),
                Err(e) => serde_json::json!({"ok": false, "error": e.to_string()}),
            }),
            "written": self.written(),
        });
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
        s.push('\n');
        s
    }

    fn human(&self) -> String {
        use crate::rewrite::Action;
        let plan = &self.done.plan;
        let mut out = crate::rewrite::diff(plan);
        if !plan.groups.is_empty() {
            out.push_str("batched together (generic import-from-derivation):\n");
            for g in &plan.groups {
                out.push_str(&format!("  {g}\n"));
            }
        }
        let skipped: Vec<_> = plan
            .sites
            .iter()
            .filter(|s| s.action == Action::Skipped)
            .collect();
        if !skipped.is_empty() {
            out.push_str("left alone:\n");
            for s in &skipped {
                let why = s.reason.as_deref().unwrap_or("");
                out.push_str(&format!(
                    "  {}:{}:{}: {}: {why}\n",
                    s.file, s.line, s.column, s.kind
                ));
            }
        }
        if let Some(d) = &self.done.dynamic {
            out.push_str(&d.text());
        }
        for e in &plan.errors {
            out.push_str(&format!("error: {e}\n"));
        }
        match &self.done.verified {
            Some(Ok(r)) => out.push_str(&r.table()),
            Some(Err(e)) => out.push_str(&format!("verify failed: {e}\n")),
            None => {}
        }
        out.push_str(&self.summary(skipped.len()));
        out.push_str(&match (self.written(), self.write) {
            (Some(n), _) => format!("wrote {}\n", plural(n, "file", "files")),
            (None, true) => "nothing written: fix the errors above first\n".to_string(),
            (None, false) if plan.is_noop() => "nothing to change\n".to_string(),
            (None, false) => "dry run: re-run with --write to apply\n".to_string(),
        });
        out
    }

    /// How many files were written (`None`: nothing was).
    fn written(&self) -> Option<usize> {
        self.done
            .written
            .as_ref()
            .and_then(|w| w.as_ref().ok().copied())
    }

    /// `rewrite: 3 sites edited in 1 file, …`
    fn summary(&self, skipped: usize) -> String {
        use crate::rewrite::Action;
        let plan = &self.done.plan;
        let sources = plan.changes.iter().filter(|c| !c.generated).count();
        let generated = plan.changes.len() - sources;
        let extra = match (generated, plan.removals.len()) {
            (0, 0) => String::new(),
            (g, r) => format!(
                "; {} to write, {r} to remove",
                plural(g, "generated file", "generated files")
            ),
        };
        format!(
            "rewrite: {} edited in {}, {} already routed, {skipped} left alone; {} in {}{extra}\n",
            plural(self.count(Action::Edited), "site", "sites"),
            plural(sources, "file", "files"),
            self.count(Action::Routed),
            plural(plan.manifest.count(), "manifest entry", "manifest entries"),
            plan.manifest_file,
        )
    }
}
