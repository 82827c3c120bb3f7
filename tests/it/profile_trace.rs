//! `ifd-batch profile --trace FILE` and `--svg FILE` (`--svg-compare`): the
//! trace checked against a JSON Schema of the Trace Event Format subset it
//! writes (`profile_trace.schema.json`) and against the timeline's
//! invariants; the SVG parsed as XML (standalone, one bar per build, no NaN,
//! negative or `-0` number); real Nix runs of the fixture, serial and
//! batched; a scripted log (no Nix) for lanes; bad paths.

use crate::profile::{DELAY, FIXTURE, json, profile, site};
use crate::support::nix::{Nix, fresh_salt};
use crate::support::sarif_schema::errors;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The trace in `path`: valid against the schema, its invariants hold.
fn check_trace(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("the trace is written");
    let v: Value = serde_json::from_str(&text).expect("the trace is JSON");
    let schema: Value =
        serde_json::from_str(include_str!("profile_trace.schema.json")).expect("schema JSON");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema)
        .expect("the schema compiles");
    let errs = errors(&validator, &v);
    assert!(errs.is_empty(), "{}\n{text}", errs.join("\n"));
    lanes_do_not_overlap(&v);
    spans_lie_within_the_run(&v);
    v
}

fn complete(v: &Value) -> Vec<&Value> {
    let events = v["traceEvents"].as_array().expect("traceEvents");
    events.iter().filter(|e| e["ph"] == "X").collect()
}

fn of_cat<'a>(v: &'a Value, cats: &[&str]) -> Vec<&'a Value> {
    let cat = |e: &&Value| cats.iter().any(|c| e["cat"] == *c);
    complete(v).into_iter().filter(cat).collect()
}

fn start(e: &Value) -> u64 {
    e["ts"].as_u64().expect("ts")
}

fn end(e: &Value) -> u64 {
    start(e) + e["dur"].as_u64().expect("dur")
}

/// Spans of one lane follow one another; every lane has a name.
fn lanes_do_not_overlap(v: &Value) {
    let mut lanes: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
    for e in complete(v) {
        let tid = e["tid"].as_u64().expect("tid");
        lanes.entry(tid).or_default().push((start(e), end(e)));
    }
    let events = v["traceEvents"].as_array().expect("traceEvents");
    for (tid, spans) in &mut lanes {
        spans.sort();
        for w in spans.windows(2) {
            assert!(
                w[1].0 >= w[0].1,
                "lane {tid}: {:?} overlaps {:?}",
                w[0],
                w[1]
            );
        }
        let named = events
            .iter()
            .any(|e| e["ph"] == "M" && e["name"] == "thread_name" && e["tid"] == *tid);
        assert!(named, "lane {tid} has no thread_name");
    }
}

/// Every span within the run; evaluation and its blocked rounds tile the
/// time up to the end of evaluation, the rest is after evaluation; the
/// totals are the spans'.
fn spans_lie_within_the_run(v: &Value) {
    let other = &v["otherData"];
    let wall = other["wall_us"].as_u64().expect("wall_us");
    for e in complete(v) {
        assert!(end(e) <= wall, "{e} ends after the run ({wall} µs)");
    }
    let after = of_cat(v, &["after-evaluation"]);
    let eval_end = after.first().map_or(wall, |a| start(a));
    let mut eval = of_cat(v, &["evaluation", "blocked"]);
    eval.sort_by_key(|e| start(e));
    let mut at = 0;
    for e in &eval {
        assert_eq!(start(e), at, "evaluation has a gap or an overlap at {e}");
        at = end(e);
    }
    if !eval.is_empty() {
        assert_eq!(at, eval_end, "evaluation ends where it ends");
    }
    let blocked = of_cat(v, &["blocked"]);
    let sum: u64 = blocked.iter().map(|e| end(e) - start(e)).sum();
    assert_eq!(other["blocked_us"], sum);
    assert_eq!(other["rounds"], blocked.len());
    assert_eq!(other["builds"], of_cat(v, &["build", "substitute"]).len());
}

const NUMERIC: [&str; 8] = ["x", "y", "width", "height", "x1", "y1", "x2", "y2"];

/// The SVG in `path` is XML, standalone, every number sane, every bar with
/// a tooltip: how many build bars it draws.
fn check_svg(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).expect("the SVG is written");
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("not XML: {e}"));
    let svg = doc.root_element();
    assert_eq!(svg.tag_name().name(), "svg");
    assert_eq!(
        svg.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    assert!(!text.contains("NaN"), "{text}");
    let mut bars = 0;
    for n in doc.descendants().filter(|n| n.is_element()) {
        let tag = n.tag_name().name();
        assert!(
            !["script", "image", "use", "foreignObject", "style"].contains(&tag),
            "<{tag}>"
        );
        for a in n.attributes() {
            assert!(
                !a.name().contains("href") && !a.value().contains("url("),
                "{a:?}"
            );
            let numbers: Vec<&str> = match a.name() {
                "viewBox" => a.value().split_whitespace().collect(),
                name if NUMERIC.contains(&name) => vec![a.value()],
                _ => continue,
            };
            for x in numbers {
                let f: f64 = x
                    .parse()
                    .unwrap_or_else(|_| panic!("{a:?} is not a number"));
                assert!(f.is_finite() && f >= 0.0 && !x.starts_with('-'), "{a:?}");
            }
        }
        if tag == "rect" && n.attribute("class").is_some() {
            let title = n.parent_element().and_then(|g| g.first_element_child());
            let tip = title
                .filter(|t| t.has_tag_name("title"))
                .and_then(|t| t.text());
            assert!(
                tip.is_some_and(|t| !t.is_empty()),
                "a bar without a tooltip"
            );
            bars += usize::from(n.attribute("class") == Some("build"));
        }
    }
    let header: String = svg.descendants().filter_map(|n| n.text()).collect();
    assert!(
        header.contains("total") && header.contains("blocked"),
        "{header}"
    );
    bars
}

/// `nix-instantiate` of the fixture's callHackage sites, with our options
/// before it and Nix's after: the output, stderr checked for success.
fn run_hackage(ours: &[&str], nix: &[&str]) -> std::process::Output {
    let mut args = ours.to_vec();
    args.extend(["--", "nix-instantiate", "--read-write-mode", FIXTURE]);
    args.extend(["-A", "hackage"].iter().chain(nix));
    let o = profile(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

/// The fixture's three callHackage sites, serial (three rounds, JSON
/// report), then batched (two rounds, human report) drawn beside the
/// serial run's trace.
#[test]
fn serial_and_batched_runs_as_trace_and_svg() {
    let Some(_nix) = Nix::get() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (t1, s1, t2, s2) = (file("1.json"), file("1.svg"), file("2.json"), file("2.svg"));
    let salt = fresh_salt("profile-trace");
    let ours = ["--format", "json", "--trace", &t1, "--svg", &s1];
    let report = json(&run_hackage(&ours, &["--argstr", "salt", &salt]));
    let before = check_trace(Path::new(&t1));
    let builds = of_cat(&before, &["build"]).len();
    assert_eq!(Some(builds), report["builds"].as_array().map(Vec::len));
    serial_rounds_and_sites(&before);
    assert_eq!(check_svg(Path::new(&s1)), builds);

    let salt = fresh_salt("profile-trace-batch");
    let ours = [
        "--no-progress",
        "--trace",
        &t2,
        "--svg",
        &s2,
        "--svg-compare",
        &t1,
    ];
    let batched = [
        "--argstr", "salt", &salt, "--argstr", "style", "batch", "-j", "8",
    ];
    let o = run_hackage(&ours, &batched);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("in 2 serial IFD rounds"), "{stderr}");
    let after = check_trace(Path::new(&t2));
    // The generators ran at once, so on three lanes.
    let generators = of_cat(&after, &["build"]).into_iter().filter(|b| {
        b["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("cabal2nix-"))
    });
    let lanes: BTreeSet<u64> = generators.filter_map(|b| b["tid"].as_u64()).collect();
    assert_eq!(lanes.len(), 3, "{after:#}");
    let both = builds + of_cat(&after, &["build"]).len();
    assert_eq!(check_svg(Path::new(&s2)), both);
    let svg = std::fs::read_to_string(&s2).unwrap_or_default();
    assert!(svg.contains("before: nix-instantiate") && svg.contains("after: nix-instantiate"));
}

/// The serial run: three rounds of at least the builders' sleep, builds
/// attributed to their site in `args`.
fn serial_rounds_and_sites(trace: &Value) {
    assert_eq!(trace["otherData"]["rounds"], 3);
    for r in of_cat(trace, &["blocked"]) {
        assert!(end(r) - start(r) >= (DELAY * 1e6) as u64, "{r}");
    }
    let builds = of_cat(trace, &["build"]);
    let servant = builds
        .iter()
        .find(|b| b["name"] == "cabal2nix-servant-0.20.1");
    let args = &servant.expect("the servant generator")["args"];
    assert_eq!(args["site"], site("self.callHackage \"servant\""));
    assert_eq!(
        (&args["kind"], &args["batchable"], &args["round"]),
        (&"hackage".into(), &true.into(), &1.into())
    );
}

/// A scripted log (no Nix): builds `one` and `two` overlap, `three` starts
/// after `one` stopped and takes its lane.
#[test]
fn overlapping_builds_get_lanes_of_their_own() {
    let script = r#"e() { echo "@nix $1" >&2; }
b() { e "{\"action\":\"start\",\"fields\":[\"/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-$2.drv\",\"\",1,1],\"id\":$1,\"level\":3,\"text\":\"building\",\"type\":105}"; }
s() { e "{\"action\":\"stop\",\"id\":$1}"; }
e '{"action":"start","id":1,"level":0,"text":"","type":102}'
b 2 one; sleep 0.2; b 3 two; sleep 0.2; s 2; sleep 0.05; b 4 three; sleep 0.2; s 3; s 4; s 1; sleep 0.1"#;
    let dir = tempfile::tempdir().expect("tempdir");
    let (trace, svg) = (dir.path().join("t.json"), dir.path().join("t.svg"));
    let (t, s) = (trace.to_string_lossy(), svg.to_string_lossy());
    let o = profile(&[
        "--format", "json", "--trace", &t, "--svg", &s, "--", "sh", "-c", script,
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(json(&o)["round_count"], 1);
    let v = check_trace(&trace);
    let lane = |name: &str| {
        let b = of_cat(&v, &["build"])
            .into_iter()
            .find(|b| b["name"] == name);
        b.and_then(|b| b["tid"].as_u64())
            .unwrap_or_else(|| panic!("no build {name}: {v:#}"))
    };
    assert_eq!((lane("one"), lane("two"), lane("three")), (2, 3, 2));
    assert_eq!(check_svg(&svg), 3);
}

/// A file that cannot be written: the error says which, the report is
/// still printed, and the exit is 1 — or Nix's own failure.
#[test]
fn unwritable_trace_or_svg_is_an_error_and_the_report_stays() {
    let missing = "/nonexistent-ifd-batch-dir/t.json";
    for (flag, what, nix, want) in [
        ("--trace", "trace", 0, 1),
        ("--svg", "SVG", 0, 1),
        ("--trace", "trace", 3, 3),
    ] {
        let code = format!("exit {nix}");
        let o = profile(&["--format", "json", flag, missing, "--", "sh", "-c", &code]);
        assert_eq!(o.status.code(), Some(want), "{flag} with {code}");
        let stderr = String::from_utf8_lossy(&o.stderr);
        let msg = format!("ifd-batch: error: cannot write the {what} to {missing}: ");
        assert!(stderr.contains(&msg), "{stderr}");
        assert_eq!(json(&o)["exit_code"], nix, "the report is printed");
    }
}

/// `--svg-compare` needs `--svg` (usage, exit 2), and a trace it can read,
/// checked before Nix runs (exit 1, nothing run).
#[test]
fn svg_compare_needs_svg_and_a_readable_trace() {
    let o = profile(&["--svg-compare", "x.json", "--", "sh", "-c", "exit 0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--svg <FILE>"));

    let dir = tempfile::tempdir().expect("tempdir");
    let ran = dir.path().join("ran");
    let touch = format!("touch {}", ran.display());
    let svg = dir.path().join("out.svg").to_string_lossy().into_owned();
    let foreign = dir.path().join("foreign.json");
    std::fs::write(&foreign, r#"{"traceEvents":[]}"#).expect("write");
    for (trace, says) in [
        (dir.path().join("missing.json"), "No such file"),
        (foreign, "not a Chrome trace"),
    ] {
        let t = trace.to_string_lossy();
        let o = profile(&["--svg", &svg, "--svg-compare", &t, "--", "sh", "-c", &touch]);
        assert_eq!(o.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains(&format!(
                "ifd-batch: error: cannot draw {t} (--svg-compare): {says}"
            )),
            "{stderr}"
        );
        assert!(!ran.exists() && !Path::new(&svg).exists());
    }
}

/// A command that cannot start (exit 127) still leaves its trace and SVG:
/// an empty run, valid all the same.
#[test]
fn a_command_that_cannot_start_leaves_an_empty_trace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (trace, svg) = (dir.path().join("t.json"), dir.path().join("t.svg"));
    let (t, s) = (trace.to_string_lossy(), svg.to_string_lossy());
    let missing = "nix-instantiate-does-not-exist";
    let o = profile(&["--trace", &t, "--svg", &s, "--", missing, "x.nix"]);
    assert_eq!(o.status.code(), Some(127));
    let v = check_trace(&trace);
    assert!(complete(&v).is_empty(), "{v:#}");
    assert_eq!(check_svg(&svg), 0);
}

/// Our options still take their values: a missing one is a usage error.
#[test]
fn a_picture_option_without_its_file_is_a_usage_error() {
    for flag in ["--trace", "--svg", "--svg-compare"] {
        let o = profile(&[flag, "--", "sh", "-c", "exit 0"]);
        assert_eq!(o.status.code(), Some(2), "{flag}");
        assert!(o.stdout.is_empty());
    }
}
