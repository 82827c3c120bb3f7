//! `ifd-batch profile`: run Nix, measure where evaluation blocks on builds
//! (import-from-derivation), attribute the builds to scanned sites, and
//! estimate what batching would save.
//!
//! Nix runs with `--log-format internal-json -v` added; its stderr is read
//! line by line and every line is stamped when read (Nix 2.8 writes no
//! timestamps). Nix's messages are passed through in its usual text form,
//! its stdout is passed through untouched (to stderr under `--format json`,
//! whose document owns stdout), and its exit code is returned.

mod attrib;
mod events;
mod model;
mod picture;
mod report;
mod svg;
mod timeline;
mod trace;

use crate::nix::{self, Nix};
use events::{Event, RES_BUILD_LOG_LINE};
use model::Profiler;
pub use picture::{CompareError, WriteError};
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use timeline::Timeline;

/// What `ifd-batch profile` runs and how it reports.
#[derive(Debug)]
pub struct ProfileOptions {
    /// Report format: a table on stderr, or one JSON document on stdout.
    pub format: ReportFormat,
    /// Write the report to this file instead.
    pub report: Option<PathBuf>,
    /// Files or directories to scan for attribution.
    pub scan: Vec<PathBuf>,
    /// No live progress line.
    pub no_progress: bool,
    /// Write the run as a Chrome trace (Trace Event Format) here.
    pub trace: Option<PathBuf>,
    /// Draw the run as an SVG timeline here.
    pub svg: Option<PathBuf>,
    /// Draw this earlier trace (of `trace`) above the run in the SVG.
    pub svg_compare: Option<PathBuf>,
    /// The Nix command to run, or FILE [NIX-INSTANTIATE ARGS...].
    pub command: Vec<String>,
}

/// The report's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Human,
    Json,
}

/// Programs whose run ends with building the top-level result: their last
/// realise is not import-from-derivation.
fn is_build_command(cmd: &[String]) -> bool {
    match cmd.first().map(|p| program_name(p)).unwrap_or("") {
        "nix-build" | "nix-shell" => true,
        "nix" => matches!(
            nix_subcommand(&cmd[1..]),
            Some("build" | "develop" | "shell" | "run" | "profile")
        ),
        _ => false,
    }
}

/// The file name of a program path.
fn program_name(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// The subcommand of a new-style `nix` command line (its first operand).
fn nix_subcommand(args: &[String]) -> Option<&str> {
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "--option" | "--arg" | "--argstr" => i += 3,
            "--log-format"
            | "--store"
            | "-I"
            | "--include"
            | "--max-jobs"
            | "-j"
            | "--cores"
            | "--experimental-features"
            | "--extra-experimental-features" => i += 2,
            _ if a.starts_with('-') => i += 1,
            _ => return Some(a),
        }
    }
    None
}

/// Where Nix's stdout goes: ours, or our stderr (under `--format json`).
fn nix_stdout(to_stderr: bool) -> Stdio {
    #[cfg(unix)]
    if to_stderr {
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
            return Stdio::from(fd);
        }
    }
    let _ = to_stderr;
    Stdio::inherit()
}

/// A command-line word naming a Nix file or directory to evaluate.
fn is_nix_path(word: &str) -> bool {
    let p = std::path::Path::new(word);
    !word.starts_with('-')
        && (word.ends_with(".nix") || (p.is_dir() && p.join("default.nix").is_file()))
}

/// The directory to scan for a Nix file or directory.
fn scan_root_of(word: &str) -> PathBuf {
    let p = PathBuf::from(word);
    if p.is_dir() {
        return p;
    }
    p.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The command to run and the scan roots: `FILE ARGS...` runs
/// `nix-instantiate --read-write-mode FILE ARGS...`; otherwise the words are
/// the command. Without `--scan`, the directories of the Nix files named on
/// the command line are scanned (else the current directory).
fn plan(args: &ProfileOptions) -> (Vec<String>, Vec<PathBuf>) {
    let first = args.command.first().cloned().unwrap_or_default();
    let cmd = if is_nix_path(&first) {
        let mut cmd = vec![
            nix::INSTANTIATE.to_string(),
            "--read-write-mode".to_string(),
        ];
        cmd.extend(args.command.iter().cloned());
        cmd
    } else {
        args.command.clone()
    };
    if !args.scan.is_empty() {
        return (cmd, args.scan.clone());
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    for w in cmd.iter().skip(1) {
        if is_nix_path(w) && std::path::Path::new(w).exists() {
            let r = scan_root_of(w);
            if !roots.contains(&r) {
                roots.push(r);
            }
        }
    }
    if roots.is_empty() {
        roots.push(PathBuf::from("."));
    }
    (cmd, roots)
}

/// How Nix ended.
#[derive(Debug, Clone, Default)]
pub struct Profiled {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// Why the profile is partial (Nix missing, killed, failed).
    pub error: Option<String>,
    pub nix_version: Option<String>,
    pub version_warning: Option<String>,
}

fn nix_version(program: &str) -> (Option<String>, Option<String>) {
    let text = match nix::version(program) {
        Ok(text) => text,
        Err(_) => {
            return (
                None,
                Some(format!(
                    "unknown Nix version (`{program} --version` failed): the profile may be incomplete"
                )),
            );
        }
    };
    match events::parse_version(text.trim()) {
        Some((2, minor, v)) if minor >= 8 => (Some(v), None),
        Some((_, _, v)) => (
            Some(v.clone()),
            Some(format!(
                "Nix {v} is not a version this profiler knows (2.8 or later): the profile may be incomplete"
            )),
        ),
        None => (
            None,
            Some(format!(
                "unknown Nix version ({:?}): the profile may be incomplete",
                text.trim()
            )),
        ),
    }
}

/// Render a Nix message the way Nix would print it.
fn passthrough(ev: &Event, colour: bool, out: &mut impl Write) {
    let line = match ev {
        Event::Plain(l) => Some(l.as_str()),
        Event::Msg { level, msg } if *level <= 3 => Some(msg.as_str()),
        Event::Start { level, text, .. } if *level <= 3 && !text.is_empty() => Some(text.as_str()),
        Event::Result {
            kind,
            text: Some(t),
            ..
        } if *kind == RES_BUILD_LOG_LINE => Some(t.as_str()),
        _ => None,
    };
    if let Some(l) = line {
        if colour {
            let _ = writeln!(out, "{l}");
        } else {
            let _ = writeln!(out, "{}", events::strip_ansi(l));
        }
    }
}

/// Why nothing was run.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("no Nix command given")]
    NoCommand,
    #[error("cannot draw {} (--svg-compare): {source}", path.display())]
    Compare { path: PathBuf, source: CompareError },
}

/// How a profile run ended.
#[derive(Debug)]
pub struct Ran {
    /// The command's status (127 when it cannot be started, 128 + N when
    /// killed by signal N).
    pub status: i32,
    /// The files (`--trace`, `--svg`) that could not be written.
    pub unwritten: Vec<WriteError>,
}

/// Run the command and profile it: its status and the files not written,
/// or why it was not run (an earlier trace to compare with is read first).
pub fn run(args: ProfileOptions) -> Result<Ran, ProfileError> {
    let (cmd, roots) = plan(&args);
    let Some(program) = cmd.first().cloned() else {
        return Err(ProfileError::NoCommand);
    };
    let before = read_before(&args)?;
    let build_command = is_build_command(&cmd);
    let progress = !args.no_progress
        && args.format == ReportFormat::Human
        && args.report.is_none()
        && std::io::stderr().is_terminal();

    let scanner = scan_in_background(roots);

    let mut outcome = Profiled::default();
    let (version, warning) = nix_version(&program);
    outcome.nix_version = version;
    outcome.version_warning = warning;

    let full = with_structured_log(&cmd);
    let t0 = Instant::now();
    let mut profiler = Profiler::new(build_command);
    let mut child = match Nix::program(&program)
        .args(&full[1..])
        .spawn_streaming(nix_stdout(
            args.format == ReportFormat::Json && args.report.is_none(),
        )) {
        Ok(c) => c,
        Err(e) => {
            let what = e.to_string();
            eprintln!("ifd-batch: error: {what}");
            outcome.error = Some(what);
            outcome.exit_code = Some(127);
            let unwritten = conclude(&args, &cmd, &profiler, scanner, &outcome, 0.0, before);
            return Ok(Ran {
                status: 127,
                unwritten,
            });
        }
    };

    let (tx, rx) = mpsc::channel::<(f64, String)>();
    let reader = child
        .stderr
        .take()
        .map(|stderr| read_lines_timed(stderr, t0, tx));
    follow(&rx, &mut profiler, progress, t0);
    if let Some(r) = reader {
        let _ = r.join();
    }
    let status = child.wait();
    let wall = t0.elapsed().as_secs_f64();
    profiler.finish(wall);
    let status = exit_code(status, &program, &mut outcome);
    let unwritten = conclude(&args, &cmd, &profiler, scanner, &outcome, wall, before);
    Ok(Ran { status, unwritten })
}

/// The earlier trace `--svg-compare` names, read before Nix runs.
fn read_before(args: &ProfileOptions) -> Result<Option<Timeline>, ProfileError> {
    let Some(path) = &args.svg_compare else {
        return Ok(None);
    };
    match picture::read_compare(path) {
        Ok(t) => Ok(Some(t)),
        Err(source) => Err(ProfileError::Compare {
            path: path.clone(),
            source,
        }),
    }
}

/// Nix programs get the structured log; anything else (a wrapper script)
/// is run as given and must pass those flags on itself.
fn with_structured_log(cmd: &[String]) -> Vec<String> {
    let mut full: Vec<String> = cmd.iter().take(1).cloned().collect();
    if cmd
        .first()
        .is_some_and(|p| program_name(p).starts_with("nix"))
    {
        full.extend(["--log-format", "internal-json", "-v"].map(String::from));
    }
    full.extend(cmd.iter().skip(1).cloned());
    full
}

/// Nix is done: the report, then the trace and the SVG asked for (the
/// files that could not be written).
fn conclude(
    args: &ProfileOptions,
    cmd: &[String],
    profiler: &Profiler,
    scanner: std::io::Result<std::thread::JoinHandle<attrib::Index>>,
    outcome: &Profiled,
    wall: f64,
    before: Option<Timeline>,
) -> Vec<WriteError> {
    let idx = scanner.ok().and_then(|h| h.join().ok());
    emit(args, cmd, profiler, idx.as_ref(), outcome, wall);
    if args.trace.is_none() && args.svg.is_none() {
        return Vec::new();
    }
    let line = report::shell_line(cmd);
    let timeline = Timeline::from_profile(line, profiler, idx.as_ref(), wall);
    picture::write(
        args.trace.as_deref(),
        args.svg.as_deref(),
        &timeline,
        before.as_ref(),
    )
}

/// Scan the roots in the background while Nix runs: the sites builds are
/// attributed to.
fn scan_in_background(
    roots: Vec<std::path::PathBuf>,
) -> std::io::Result<std::thread::JoinHandle<attrib::Index>> {
    std::thread::Builder::new()
        .stack_size(crate::scan::WORKER_STACK)
        .spawn(move || {
            let s = crate::scan::scan(
                &roots,
                &crate::scan::ScanOptions {
                    keep_sources: false,
                    exclude: Default::default(),
                },
            );
            attrib::Index::new(&s.sites, &s.root)
        })
}

/// Nix's stderr, line by line, each with the time it arrived.
fn read_lines_timed(
    stderr: std::process::ChildStderr,
    t0: Instant,
    tx: mpsc::Sender<(f64, String)>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut r = BufReader::new(stderr);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let t = t0.elapsed().as_secs_f64();
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.trim_end_matches(['\n', '\r']).to_string();
                    if tx.send((t, line)).is_err() {
                        break;
                    }
                }
            }
        }
    })
}

/// Feed the profiler every event until Nix ends, passing Nix's own
/// messages through, with a progress line on a terminal.
fn follow(
    rx: &mpsc::Receiver<(f64, String)>,
    profiler: &mut Profiler,
    progress: bool,
    t0: Instant,
) {
    let stderr = std::io::stderr();
    let colour = stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut shown = false;
    let mut last_progress = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok((t, line)) => {
                let ev = events::parse(&line);
                profiler.feed(t, &ev);
                let mut err = stderr.lock();
                if shown {
                    let _ = write!(err, "\r\x1b[K");
                    shown = false;
                }
                passthrough(&ev, colour, &mut err);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if progress && last_progress.elapsed() >= Duration::from_millis(100) {
            last_progress = Instant::now();
            let mut err = stderr.lock();
            let elapsed = t0.elapsed().as_secs_f64();
            let line = match profiler.current() {
                Some((round, build)) => format!(
                    "ifd-batch: IFD round {round}: {} · {elapsed:.1}s",
                    build
                        .map(|b| format!("building {}", b.name))
                        .unwrap_or_else(|| "checking what to build".to_string())
                ),
                None => format!(
                    "ifd-batch: evaluating · {} rounds so far · {elapsed:.1}s",
                    profiler.rounds().len()
                ),
            };
            let _ = write!(err, "\r\x1b[K{line}");
            let _ = err.flush();
            shown = true;
        }
    }
    if shown {
        let _ = write!(stderr.lock(), "\r\x1b[K");
    }
}

/// Nix's exit status as ifd-batch's (a signal: 128 + it), noted in the
/// report.
fn exit_code(
    status: std::io::Result<std::process::ExitStatus>,
    program: &str,
    outcome: &mut Profiled,
) -> i32 {
    match status {
        Ok(st) => {
            outcome.exit_code = st.code();
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                outcome.signal = st.signal();
            }
            match (st.code(), outcome.signal) {
                (Some(0), _) => 0,
                (Some(c), _) => {
                    outcome.error = Some(format!("{program} failed with exit code {c}"));
                    c
                }
                (None, Some(sig)) => {
                    outcome.error = Some(format!("{program} was killed by signal {sig}"));
                    128 + sig
                }
                (None, None) => {
                    outcome.error = Some(format!("{program} ended without an exit code"));
                    1
                }
            }
        }
        Err(e) => {
            outcome.error = Some(format!("waiting for {program}: {e}"));
            1
        }
    }
}

fn emit(
    args: &ProfileOptions,
    cmd: &[String],
    p: &Profiler,
    idx: Option<&attrib::Index>,
    outcome: &Profiled,
    wall: f64,
) {
    let rep = report::Report::build(cmd, p, idx, outcome, wall);
    let text = match args.format {
        ReportFormat::Json => match serde_json::to_string_pretty(&rep) {
            Ok(s) => s + "\n",
            Err(e) => format!("{{\"error\": \"cannot serialise the report: {e}\"}}\n"),
        },
        ReportFormat::Human => rep.human(),
    };
    match &args.report {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!(
                    "ifd-batch: error: cannot write the report to {}: {e}",
                    path.display()
                );
            }
        }
        None if args.format == ReportFormat::Json => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
        None => {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn build_commands() {
        assert!(is_build_command(&s(&["nix-build", "x.nix"])));
        assert!(is_build_command(&s(&[
            "nix", "--option", "cores", "1", "build", "-f", "x"
        ])));
        assert!(!is_build_command(&s(&["nix", "eval", "-f", "x"])));
        assert!(!is_build_command(&s(&[
            "/usr/bin/nix-instantiate",
            "x.nix"
        ])));
    }
}
