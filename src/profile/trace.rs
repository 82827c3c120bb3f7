//! `--trace FILE`: the timeline in Chrome's Trace Event Format (the JSON
//! Object Format), which Perfetto, speedscope and chrome://tracing open; and
//! back again, for `--svg-compare`.
//!
//! One process (pid 1) named after the command. Lane 1, `evaluation`, holds
//! the evaluation spans (cat `evaluation`), the blocked rounds (`blocked`)
//! and, for build commands, the time after evaluation (`after-evaluation`);
//! lanes 2…, `builds N`, hold the builds (`build`, `substitute`) with their
//! derivation, round and site in `args`, never two overlapping on one lane.
//! Only complete events (`"ph":"X"`, whole microseconds) and metadata
//! events (`"ph":"M"`) name lanes; `otherData` carries the run's totals.

use super::timeline::{Bar, BuildSite, Round, Span, Timeline};
use serde::{Deserialize, Serialize};

/// `otherData.tool`: what `read` accepts.
const TOOL: &str = "ifd-batch profile";
const PID: u32 = 1;
const EVAL_TID: u32 = 1;

#[derive(Serialize, Deserialize)]
struct TraceFile {
    #[serde(rename = "traceEvents")]
    events: Vec<TraceEvent>,
    #[serde(rename = "displayTimeUnit")]
    display_time_unit: String,
    #[serde(rename = "otherData")]
    other: OtherData,
}

/// The run's totals (µs), for readers that want them without summing.
#[derive(Serialize, Deserialize)]
struct OtherData {
    tool: String,
    version: u32,
    command: String,
    wall_us: u64,
    blocked_us: u64,
    rounds: usize,
    builds: usize,
}

#[derive(Serialize, Deserialize)]
struct TraceEvent {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cat: Option<String>,
    ph: String,
    ts: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dur: Option<u64>,
    pid: u32,
    tid: u32,
    #[serde(default)]
    args: Args,
}

/// Every event's `args`: the fields its kind has.
#[derive(Serialize, Deserialize, Default)]
struct Args {
    /// Metadata: the process's or lane's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sort_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    round: Option<usize>,
    /// A round: how many builds it waited for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    builds: Option<usize>,
    /// A round: the sites of its builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sites: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    drv: Option<String>,
    /// A build: its site, `file:line`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    batchable: Option<bool>,
}

/// Why a file is not a trace `read` can draw.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not a Chrome trace in JSON object form: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not written by `ifd-batch profile --trace` (otherData.tool is {0:?})")]
    Foreign(String),
}

fn complete(name: String, cat: &str, tid: u32, span: Span, args: Args) -> TraceEvent {
    TraceEvent {
        name,
        cat: Some(cat.to_string()),
        ph: "X".to_string(),
        ts: span.start,
        dur: Some(span.dur()),
        pid: PID,
        tid,
        args,
    }
}

fn metadata(what: &str, tid: u32, args: Args) -> TraceEvent {
    TraceEvent {
        name: what.to_string(),
        cat: None,
        ph: "M".to_string(),
        ts: 0,
        dur: None,
        pid: PID,
        tid,
        args,
    }
}

/// Name and order a lane.
fn lane(tid: u32, name: String) -> [TraceEvent; 2] {
    let named = Args {
        name: Some(name),
        ..Args::default()
    };
    let sorted = Args {
        sort_index: Some(tid),
        ..Args::default()
    };
    [
        metadata("thread_name", tid, named),
        metadata("thread_sort_index", tid, sorted),
    ]
}

/// The lanes' and the process's names.
fn metadata_events(t: &Timeline) -> Vec<TraceEvent> {
    let process = Args {
        name: Some(format!("{TOOL}: {}", t.command)),
        ..Args::default()
    };
    let mut out = vec![metadata("process_name", 0, process)];
    out.extend(lane(EVAL_TID, "evaluation".to_string()));
    for l in 0..t.lanes() {
        out.extend(lane(build_tid(l), format!("builds {}", l + 1)));
    }
    out
}

fn build_tid(lane: usize) -> u32 {
    u32::try_from(lane).map_or(u32::MAX, |l| l.saturating_add(EVAL_TID + 1))
}

fn round_event(r: &Round) -> TraceEvent {
    let args = Args {
        round: Some(r.index),
        builds: Some(r.builds),
        sites: Some(r.sites.clone()),
        ..Args::default()
    };
    let name = format!("IFD round {}", r.index);
    complete(name, "blocked", EVAL_TID, r.span, args)
}

fn build_event(b: &Bar) -> TraceEvent {
    let args = Args {
        round: b.round,
        drv: Some(b.drv.clone()),
        site: b.site.as_ref().map(|s| s.location.clone()),
        kind: b.site.as_ref().map(|s| s.kind.clone()),
        batchable: b.site.as_ref().map(|s| s.batchable),
        ..Args::default()
    };
    let cat = if b.substitute { "substitute" } else { "build" };
    complete(b.name.clone(), cat, build_tid(b.lane), b.span, args)
}

/// The timeline as a trace document: one event a line.
pub fn write(t: &Timeline) -> String {
    let mut events = metadata_events(t);
    for &s in &t.evaluation {
        events.push(complete(
            "evaluating".into(),
            "evaluation",
            EVAL_TID,
            s,
            Args::default(),
        ));
    }
    events.extend(t.rounds.iter().map(round_event));
    if let Some(s) = t.after {
        let name = "after evaluation".to_string();
        events.push(complete(
            name,
            "after-evaluation",
            EVAL_TID,
            s,
            Args::default(),
        ));
    }
    events.extend(t.builds.iter().map(build_event));
    // Metadata first, then by time (what viewers read fastest).
    events.sort_by_key(|e| (e.ph != "M", e.ts, e.tid));
    let other = OtherData {
        tool: TOOL.to_string(),
        version: 1,
        command: t.command.clone(),
        wall_us: t.wall,
        blocked_us: t.blocked(),
        rounds: t.rounds.len(),
        builds: t.builds.len(),
    };
    let lines: Vec<String> = events
        .iter()
        .filter_map(|e| serde_json::to_string(e).ok())
        .collect();
    format!(
        "{{\"traceEvents\":[\n{}\n],\n\"displayTimeUnit\":\"ms\",\n\"otherData\":{}}}\n",
        lines.join(",\n"),
        serde_json::to_string(&other).unwrap_or_else(|_| "{}".to_string())
    )
}

/// A trace `write` wrote, as a timeline again.
pub fn read(text: &str) -> Result<Timeline, ReadError> {
    let file: TraceFile = serde_json::from_str(text)?;
    if file.other.tool != TOOL {
        return Err(ReadError::Foreign(file.other.tool));
    }
    let mut t = Timeline {
        command: file.other.command,
        wall: file.other.wall_us,
        evaluation: Vec::new(),
        rounds: Vec::new(),
        after: None,
        builds: Vec::new(),
    };
    for e in file.events.into_iter().filter(|e| e.ph == "X") {
        add_event(&mut t, e);
    }
    Ok(t)
}

/// One complete event back into its place; unknown categories are left out.
fn add_event(t: &mut Timeline, e: TraceEvent) {
    let span = Span::new(e.ts, e.ts.saturating_add(e.dur.unwrap_or(0)));
    t.wall = t.wall.max(span.end);
    let a = e.args;
    match e.cat.as_deref() {
        Some("evaluation") => t.evaluation.push(span),
        Some("after-evaluation") => t.after = Some(span),
        Some("blocked") => t.rounds.push(Round {
            index: a.round.unwrap_or(t.rounds.len() + 1),
            span,
            builds: a.builds.unwrap_or(0),
            sites: a.sites.unwrap_or_default(),
        }),
        Some(cat @ ("build" | "substitute")) => t.builds.push(Bar {
            span,
            name: e.name,
            drv: a.drv.unwrap_or_default(),
            lane: e.tid.saturating_sub(EVAL_TID + 1) as usize,
            round: a.round,
            substitute: cat == "substitute",
            site: a.site.map(|location| BuildSite {
                location,
                kind: a.kind.unwrap_or_default(),
                batchable: a.batchable.unwrap_or(false),
            }),
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Timeline {
        let bar = |name: &str, start, end, lane| Bar {
            span: Span::new(start, end),
            name: name.to_string(),
            drv: format!("/nix/store/x-{name}.drv"),
            lane,
            round: Some(1),
            substitute: false,
            site: Some(BuildSite {
                location: "overlay.nix:3".into(),
                kind: "hackage".into(),
                batchable: true,
            }),
        };
        Timeline {
            command: "nix-instantiate 'a b.nix'".into(),
            wall: 3_000,
            evaluation: vec![Span::new(0, 1_000), Span::new(2_000, 3_000)],
            rounds: vec![Round {
                index: 1,
                span: Span::new(1_000, 2_000),
                builds: 2,
                sites: vec!["overlay.nix:3".into()],
            }],
            after: None,
            builds: vec![bar("a", 1_100, 1_900, 0), bar("b", 1_200, 1_500, 1)],
        }
    }

    #[test]
    fn a_written_trace_reads_back_the_same() {
        let t = sample();
        let back = read(&write(&t));
        assert_eq!(back.ok(), Some(t));
    }

    #[test]
    fn other_json_is_refused() {
        assert!(matches!(read("[]"), Err(ReadError::Json(_))));
        let foreign = r#"{"traceEvents":[],"displayTimeUnit":"ms","otherData":{"tool":"x","version":1,"command":"","wall_us":0,"blocked_us":0,"rounds":0,"builds":0}}"#;
        assert!(matches!(read(foreign), Err(ReadError::Foreign(_))));
    }
}
