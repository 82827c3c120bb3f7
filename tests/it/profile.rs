//! `ifd-batch profile` with real Nix in the test world (fixtures/profile):
//! N serial IFD rounds of at least the builder's sleep, attributed to the
//! right `file:line`; one round after batching with nixlib; the JSON report
//! field by field; IFD disabled; bad input (no Nix, killed, bad log lines).

use crate::support::nix::{NIX_CONFIG, Nix, fresh_salt};
use serde_json::Value;
use std::process::{Command, Output};

pub(crate) const FIXTURE: &str = "fixtures/profile";
/// Every IFD builder in the fixture sleeps this long (seconds).
pub(crate) const DELAY: f64 = 1.0;

pub(crate) fn profile(args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ifd-batch"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("NIX_CONFIG").is_none() {
        c.env("NIX_CONFIG", NIX_CONFIG);
    }
    c.arg("profile").args(args).output().expect("run ifd-batch")
}

pub(crate) fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "report is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// `default.nix:LINE` of the first line of the fixture containing `needle`.
pub(crate) fn site(needle: &str) -> String {
    let text = std::fs::read_to_string(format!(
        "{}/{FIXTURE}/default.nix",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture");
    let line = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in the fixture"));
    format!("{FIXTURE}/default.nix:{}", line + 1)
}

/// Profile `nix-instantiate` of the fixture's ATTR, as JSON.
fn run_fixture(attr: &str, extra: &[&str], eval: bool) -> Value {
    let salt = fresh_salt("profile");
    let mut args = vec![
        "--format",
        "json",
        "--",
        "nix-instantiate",
        "--read-write-mode",
    ];
    if eval {
        args.extend(["--eval", "--strict"]);
    }
    args.extend([FIXTURE, "-A", attr, "--argstr", "salt", &salt]);
    args.extend(extra);
    let o = profile(&args);
    assert!(
        o.status.success(),
        "profile failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    json(&o)
}

fn rounds(v: &Value) -> &Vec<Value> {
    v["rounds"].as_array().expect("rounds")
}

#[test]
fn serial_call_hackage_sites_are_one_round_each_attributed() {
    let Some(_nix) = Nix::get() else { return };
    let v = run_fixture("hackage", &[], false);
    assert_eq!(v["round_count"], 3, "{v:#}");
    let rs = rounds(&v);
    assert_eq!(rs.len(), 3);
    // Evaluation order is the attribute order: servant, wai, warp.
    let expected = [
        site("self.callHackage \"servant\""),
        site("self.callHackage \"wai\""),
        site("self.callHackage \"warp\""),
    ];
    for (r, want) in rs.iter().zip(&expected) {
        assert!(r["seconds"].as_f64().expect("seconds") >= DELAY, "{r:#}");
        assert_eq!(r["sites"], serde_json::json!([want]), "{r:#}");
        assert_eq!(r["batchable"], true);
    }
    // Rounds are serial: each starts after the previous one ended.
    for w in rs.windows(2) {
        let end =
            w[0]["start_seconds"].as_f64().unwrap_or(0.0) + w[0]["seconds"].as_f64().unwrap_or(0.0);
        assert!(w[1]["start_seconds"].as_f64().unwrap_or(0.0) >= end - 0.002);
    }
    // The slow cabal2nix builds, attributed by NAME-VERSION.
    let builds = v["builds"].as_array().expect("builds");
    for (name, want) in [
        ("cabal2nix-servant-0.20.1", &expected[0]),
        // (The per-package all-cabal-hashes components are not salted:
        // built once per index, as in nixpkgs, so maybe not in this run.)
        ("cabal2nix-wai-3.2.3", &expected[1]),
        ("cabal2nix-warp-3.3.30", &expected[2]),
    ] {
        let b = builds
            .iter()
            .find(|b| b["name"] == name)
            .unwrap_or_else(|| panic!("no build {name}: {v:#}"));
        assert_eq!(b["site"]["location"], want.as_str());
        assert_eq!(b["site"]["kind"], "hackage");
    }
    // Sorted, longest first; the longest is a slow cabal2nix.
    let secs: Vec<f64> = builds
        .iter()
        .filter_map(|b| b["seconds"].as_f64())
        .collect();
    assert!(secs.windows(2).all(|w| w[0] >= w[1]));
    assert!(secs[0] >= DELAY);
    assert!(v["blocked_seconds"].as_f64().unwrap_or(0.0) >= 3.0 * DELAY);
    // The estimate: three batchable rounds folded into one.
    let p = &v["prediction"];
    assert_eq!(p["estimate"], true);
    assert_eq!(p["batchable_rounds"], 3);
    let wall = v["wall_seconds"].as_f64().unwrap_or(0.0);
    let batched = p["batched_wall_seconds"].as_f64().unwrap_or(0.0);
    assert!(batched < wall - 1.5 * DELAY && batched >= DELAY, "{p:#}");
}

#[test]
fn batched_with_nixlib_is_two_short_rounds() {
    let Some(_nix) = Nix::get() else { return };
    let v = run_fixture("hackage", &["--argstr", "style", "batch", "-j", "8"], false);
    // The extraction (one tar pass), then every generator at once.
    assert_eq!(v["round_count"], 2, "{v:#}");
    let r = &rounds(&v)
        .iter()
        .find(|r| r["sites"].as_array().map(Vec::len) == Some(3))
        .expect("the generators' round")
        .clone();
    assert!(r["seconds"].as_f64().unwrap_or(0.0) >= DELAY);
    // One round, not three: the generators ran in parallel.
    assert!(r["seconds"].as_f64().unwrap_or(9.0) < 2.5 * DELAY, "{r:#}");
    assert_eq!(r["sites"].as_array().map(Vec::len), Some(3), "{r:#}");
    let names: Vec<&str> = v["builds"]
        .as_array()
        .expect("builds")
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    assert!(names.contains(&"ifd-batch-cabal-hashes"), "{names:?}");
    assert!(v["prediction"].is_null());
}

#[test]
fn generic_read_file_sites_attributed_by_name() {
    let Some(_nix) = Nix::get() else { return };
    let v = run_fixture("generic", &[], true);
    assert_eq!(v["round_count"], 3, "{v:#}");
    for (r, name) in rounds(&v).iter().zip(["delay-a", "delay-b", "delay-c"]) {
        assert!(r["seconds"].as_f64().unwrap_or(0.0) >= DELAY);
        assert_eq!(r["builds"], serde_json::json!([name]));
        let want = site(&format!("\"{name}\""));
        assert_eq!(r["sites"], serde_json::json!([want]));
    }
    let b = &v["builds"][0];
    assert_eq!(b["site"]["kind"], "read-drv");
    assert_eq!(b["site"]["batchable"], false);

    // The hand-made batch: one derivation read three times, one round.
    let v = run_fixture("generic", &["--argstr", "style", "batch"], true);
    assert_eq!(v["round_count"], 1, "{v:#}");
    assert_eq!(v["cached_ifd"], 2);
}

#[test]
fn json_schema_field_by_field() {
    let Some(_nix) = Nix::get() else { return };
    let v = run_fixture("generic", &[], true);
    let obj = v.as_object().expect("object");
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "version",
            "command",
            "nix_version",
            "exit_code",
            "signal",
            "error",
            "warnings",
            "wall_seconds",
            "evaluation_seconds",
            "blocked_seconds",
            "round_count",
            "cached_ifd",
            "post_eval_builds",
            "rounds",
            "builds",
            "sites",
            "prediction",
            "ifd_disabled",
            "log",
        ]
    );
    assert_eq!(v["version"], 1);
    assert_eq!(v["command"][0], "nix-instantiate");
    assert!(
        v["nix_version"]
            .as_str()
            .is_some_and(|s| s.starts_with("2."))
    );
    assert_eq!(v["exit_code"], 0);
    assert!(v["signal"].is_null());
    assert!(v["error"].is_null());
    assert_eq!(v["warnings"], serde_json::json!([]));
    let wall = v["wall_seconds"].as_f64().expect("wall");
    let eval = v["evaluation_seconds"].as_f64().expect("eval");
    let blocked = v["blocked_seconds"].as_f64().expect("blocked");
    assert!(
        (eval + blocked - wall).abs() < 0.01,
        "{eval} + {blocked} != {wall}"
    );
    assert_eq!(v["post_eval_builds"], 0);
    let r = &v["rounds"][0];
    let rk: Vec<&str> = r
        .as_object()
        .expect("round")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        rk,
        [
            "index",
            "start_seconds",
            "seconds",
            "builds",
            "sites",
            "batchable"
        ]
    );
    assert_eq!(r["index"], 1);
    let b = &v["builds"][0];
    let bk: Vec<&str> = b
        .as_object()
        .expect("build")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        bk,
        [
            "drv",
            "name",
            "kind",
            "round",
            "start_seconds",
            "seconds",
            "site"
        ]
    );
    assert!(
        b["drv"]
            .as_str()
            .is_some_and(|d| d.starts_with("/nix/store/") && d.ends_with(".drv"))
    );
    assert_eq!(b["kind"], "build");
    let sk: Vec<&str> = b["site"]
        .as_object()
        .expect("site")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(sk, ["location", "kind", "batchable"]);
    let s = &v["sites"][0];
    let ck: Vec<&str> = s
        .as_object()
        .expect("cost")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(ck, ["location", "kind", "batchable", "rounds", "seconds"]);
    assert_eq!(s["rounds"], 1);
    assert!(
        v["prediction"].is_null(),
        "read-drv sites are not batchable"
    );
    assert!(v["ifd_disabled"].is_null());
    assert_eq!(v["log"]["unknown_lines"], 0);
    assert!(v["log"]["events"].as_u64().unwrap_or(0) > 10);
}

#[test]
fn build_commands_do_not_count_the_final_build() {
    let Some(_nix) = Nix::get() else { return };
    for cmd in [
        &["nix-build", "--no-out-link", FIXTURE, "-A", "top"][..],
        &["nix", "build", "--no-link", "-f", FIXTURE, "top"][..],
    ] {
        let salt = fresh_salt("profile-build");
        let mut args = vec!["--format", "json", "--"];
        args.extend(cmd);
        args.extend(["--argstr", "salt", &salt]);
        let o = profile(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v = json(&o);
        assert_eq!(v["round_count"], 1, "{cmd:?}: {v:#}");
        assert_eq!(v["rounds"][0]["builds"], serde_json::json!(["delay-top"]));
        assert_eq!(v["post_eval_builds"], 1, "{cmd:?}: {v:#}");
        // The final build (sleeps too) is in the wall time, not blocked time.
        assert!(v["wall_seconds"].as_f64().unwrap_or(0.0) >= 2.0 * DELAY);
        assert!(v["blocked_seconds"].as_f64().unwrap_or(9.0) < 2.0 * DELAY);
    }
}

#[test]
fn nix_eval_has_no_final_build() {
    let Some(_nix) = Nix::get() else { return };
    let salt = fresh_salt("profile-eval");
    let o = profile(&[
        "--format",
        "json",
        "--",
        "nix",
        "eval",
        "-f",
        FIXTURE,
        "top.drvPath",
        "--argstr",
        "salt",
        &salt,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    assert_eq!(v["round_count"], 1, "{v:#}");
    assert_eq!(v["post_eval_builds"], 0);
    assert_eq!(
        v["rounds"][0]["sites"],
        serde_json::json!([site("\"delay-top\"")])
    );
    // Nix's stdout (the drvPath) went to stderr: stdout is the report.
    assert!(String::from_utf8_lossy(&o.stderr).contains("-top.drv"));
}

#[test]
fn ifd_disabled_reports_the_first_blocked_site() {
    let Some(_nix) = Nix::get() else { return };
    let salt = fresh_salt("profile-noifd");
    let o = profile(&[
        "--format",
        "json",
        "--",
        "nix-instantiate",
        "--eval",
        "--read-write-mode",
        "--option",
        "allow-import-from-derivation",
        "false",
        FIXTURE,
        "-A",
        "generic",
        "--argstr",
        "salt",
        &salt,
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "Nix's exit code is passed through"
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("allow-import-from-derivation"), "{stderr}");
    let v = json(&o);
    assert_eq!(v["exit_code"], 1);
    assert_eq!(v["round_count"], 0);
    assert_eq!(v["ifd_disabled"]["name"], "delay-a");
    assert_eq!(v["ifd_disabled"]["site"]["location"], site("\"delay-a\""));
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("exit code 1"))
    );
}

#[test]
fn file_convenience_form_runs_nix_instantiate() {
    let Some(_nix) = Nix::get() else { return };
    let salt = fresh_salt("profile-file");
    let o = profile(&[
        "--no-progress",
        FIXTURE,
        "-A",
        "generic.x",
        "--argstr",
        "salt",
        &salt,
    ]);
    // `generic.x` does not exist: an evaluation error, after the IFD rounds
    // are... not reached; Nix's error and exit code come through.
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("ifd-batch profile: nix-instantiate --read-write-mode fixtures/profile"),
        "{stderr}"
    );
    assert!(stderr.contains("partial profile"), "{stderr}");

    let o = profile(&[
        "--no-progress",
        FIXTURE,
        "-A",
        "top",
        "--argstr",
        "salt",
        &salt,
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("-top.drv"));
    assert!(stderr.contains("in 1 serial IFD round"), "{stderr}");
    assert!(
        stderr.contains(&format!("delay-top → {} (read-drv)", site("\"delay-top\""))),
        "{stderr}"
    );
}

// Bad input: no Nix needed.

#[test]
fn missing_nix_is_a_clear_error_with_exit_127() {
    let o = profile(&[
        "--format",
        "json",
        "--",
        "nix-instantiate-does-not-exist",
        "x.nix",
    ]);
    assert_eq!(o.status.code(), Some(127));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("not found (is Nix installed"), "{stderr}");
    let v = json(&o);
    assert_eq!(v["exit_code"], 127);
    assert_eq!(v["round_count"], 0);
    assert!(v["error"].as_str().is_some_and(|e| e.contains("not found")));
}

/// Our options come before the command: an unknown one is a usage error
/// (exit 2, clap's message), never taken for the command to run.
#[test]
fn unknown_option_is_a_usage_error_not_the_command() {
    let o = profile(&["--unknown-flag", "--", "nix-instantiate", "x.nix"]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("unexpected argument '--unknown-flag'") && stderr.contains("Usage:"),
        "{stderr}"
    );
    assert!(!stderr.contains("cannot run"), "{stderr}");
    assert!(o.stdout.is_empty(), "no report: {:?}", o.stdout);
    // After `--`, or after the FILE of the short form, hyphens are the
    // command's.
    let o = profile(&[
        "--format",
        "json",
        "--",
        "sh",
        "-c",
        "exit 4",
        "--unknown-flag",
    ]);
    assert_eq!(o.status.code(), Some(4));
    let v = json(&o);
    assert_eq!(v["command"][3], "--unknown-flag");
}

/// An evaluation with no IFD: nothing blocked, and no figure prints as
/// `-0.00` (an empty sum of `f64`s is negative zero).
#[test]
fn no_figure_is_negative_zero() {
    let o = profile(&["--no-progress", "--", "sh", "-c", "exit 0"]);
    assert_eq!(o.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("blocked on builds"), "{stderr}");
    assert!(!stderr.contains("-0.0"), "{stderr}");
    let o = profile(&["--format", "json", "--", "sh", "-c", "exit 0"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(!stdout.contains("-0.0"), "{stdout}");
    assert_eq!(json(&o)["blocked_seconds"], 0.0);
}

#[test]
fn bad_log_lines_are_counted_and_the_exit_code_kept() {
    let script = r#"echo '@nix {broken' >&2; echo '@nix {"action":"teleport"}' >&2; echo '@nix {"action":"msg","level":3,"msg":"hello from nix"}' >&2; echo plain >&2; exit 3"#;
    let o = profile(&["--format", "json", "--", "sh", "-c", script]);
    assert_eq!(o.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("hello from nix") && stderr.contains("plain"),
        "{stderr}"
    );
    let v = json(&o);
    assert_eq!(v["exit_code"], 3);
    assert_eq!(v["log"]["unknown_lines"], 2);
    assert_eq!(v["log"]["plain_lines"], 1);
    assert_eq!(v["log"]["events"], 1);
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains("2 log lines not understood"),
        "{warnings}"
    );
    assert!(
        warnings.contains("Nix"),
        "unknown version warned: {warnings}"
    );
}

#[test]
fn killed_nix_gives_a_partial_profile() {
    let script = r#"echo '@nix {"action":"start","id":1,"level":0,"text":"","type":102}' >&2; echo '@nix {"action":"start","fields":["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-slow.drv","",1,1],"id":2,"level":3,"text":"building","type":105}' >&2; kill -9 $$"#;
    let o = profile(&["--format", "json", "--", "sh", "-c", script]);
    assert_eq!(o.status.code(), Some(137));
    let v = json(&o);
    assert_eq!(v["signal"], 9);
    assert!(v["exit_code"].is_null());
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("killed by signal 9"))
    );
    assert_eq!(v["round_count"], 1);
    assert_eq!(v["builds"][0]["name"], "slow");
}

#[test]
fn progress_line_only_on_a_terminal() {
    let Some(_nix) = Nix::get() else { return };
    let salt = fresh_salt("profile-tty");
    let args = [
        "--",
        "nix-instantiate",
        "--eval",
        "--read-write-mode",
        FIXTURE,
        "-A",
        "generic",
        "--argstr",
        "salt",
        &salt,
    ];
    // Piped: no progress line.
    let o = profile(&args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(!stderr.contains("ifd-batch: IFD round"), "{stderr}");
    // On a terminal (util-linux `script` gives one): the current build.
    let has_script = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        eprintln!("*** `script` not found: terminal progress line not tested ***");
        return;
    }
    let salt = fresh_salt("profile-tty2");
    let line = format!(
        "{} profile -- nix-instantiate --eval --read-write-mode {FIXTURE} -A generic --argstr salt {salt}",
        env!("CARGO_BIN_EXE_ifd-batch")
    );
    let mut c = Command::new("script");
    c.args(["-qec", &line, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("NIX_CONFIG").is_none() {
        c.env("NIX_CONFIG", NIX_CONFIG);
    }
    let o = c.output().expect("script");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("ifd-batch: IFD round 1: building delay-a"),
        "{out}"
    );
    assert!(
        out.contains("ifd-batch: IFD round 3: building delay-c"),
        "{out}"
    );
}
