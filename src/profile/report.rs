//! The profile report: JSON document and human table.

use super::Profiled;
use super::attrib::{Index, SiteRef};
use super::model::Profiler;
use serde::Serialize;
use std::fmt::Write;

/// Seconds rounded to the millisecond, as every figure of the report is.
/// Each is a duration or a time since the start, so never below zero: a
/// negative, a negative zero (an empty `f64` sum is `-0.0`, printed
/// `-0.00`) or a NaN becomes `0.0`.
fn ms(x: f64) -> f64 {
    let r = (x * 1000.0).round() / 1000.0;
    if r > 0.0 { r } else { 0.0 }
}

#[derive(Serialize, Clone)]
pub struct SiteOut {
    pub location: String,
    pub kind: &'static str,
    pub batchable: bool,
}

impl From<&SiteRef> for SiteOut {
    fn from(s: &SiteRef) -> SiteOut {
        SiteOut {
            location: s.location.clone(),
            kind: s.kind,
            batchable: s.batchable,
        }
    }
}

#[derive(Serialize)]
pub struct RoundOut {
    /// 1-based, in evaluation order.
    pub index: usize,
    pub start_seconds: f64,
    pub seconds: f64,
    pub builds: Vec<String>,
    pub sites: Vec<String>,
    pub batchable: bool,
}

#[derive(Serialize)]
pub struct BuildOut {
    pub drv: String,
    pub name: String,
    /// `build` or `substitute`.
    pub kind: &'static str,
    pub round: usize,
    pub start_seconds: f64,
    pub seconds: f64,
    pub site: Option<SiteOut>,
}

#[derive(Serialize)]
pub struct SiteCost {
    pub location: String,
    pub kind: &'static str,
    pub batchable: bool,
    pub rounds: usize,
    pub seconds: f64,
}

#[derive(Serialize)]
pub struct Prediction {
    pub estimate: bool,
    pub batchable_rounds: usize,
    pub batched_wall_seconds: f64,
    pub saved_seconds: f64,
    pub method: &'static str,
}

#[derive(Serialize)]
pub struct Blocked {
    pub drv: String,
    pub name: String,
    pub site: Option<SiteOut>,
}

#[derive(Serialize)]
pub struct LogStats {
    pub events: usize,
    pub unknown_lines: usize,
    pub plain_lines: usize,
}

#[derive(Serialize)]
pub struct Report {
    pub version: u32,
    pub command: Vec<String>,
    pub nix_version: Option<String>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub error: Option<String>,
    pub warnings: Vec<String>,
    pub wall_seconds: f64,
    pub evaluation_seconds: f64,
    pub blocked_seconds: f64,
    pub round_count: usize,
    pub cached_ifd: usize,
    pub post_eval_builds: usize,
    pub rounds: Vec<RoundOut>,
    pub builds: Vec<BuildOut>,
    pub sites: Vec<SiteCost>,
    pub prediction: Option<Prediction>,
    pub ifd_disabled: Option<Blocked>,
    pub log: LogStats,
}

/// A command line as a shell would read it: words with spaces or quotes
/// in single quotes.
pub fn shell_line(command: &[String]) -> String {
    let words: Vec<String> = command
        .iter()
        .map(|w| {
            if w.is_empty() || w.contains(char::is_whitespace) || w.contains('"') {
                format!("'{}'", w.replace('\'', "'\\''"))
            } else {
                w.clone()
            }
        })
        .collect();
    words.join(" ")
}

const METHOD: &str = "wall time - batchable rounds + the longest batchable round: evaluation time plus one round made of the longest members, assuming the batch builds them in parallel (-j)";

/// The serial IFD rounds and every build in them, attributed to sites.
fn rounds_and_builds<'a>(
    p: &Profiler,
    round_ids: &[usize],
    site_of: &dyn Fn(&str) -> Option<&'a super::attrib::SiteRef>,
    wall: f64,
) -> (Vec<RoundOut>, Vec<BuildOut>) {
    let mut rounds = Vec::new();
    let mut builds = Vec::new();
    for (n, &r) in round_ids.iter().enumerate() {
        let re = &p.realises[r];
        let end = re.end.unwrap_or(wall);
        let mut sites: Vec<String> = Vec::new();
        let mut any_batchable = false;
        let mut any_fixed = false;
        let mut names = Vec::new();
        for &b in &re.builds {
            let bu = &p.builds[b];
            let site = site_of(&bu.name);
            if let Some(s) = site {
                if !sites.contains(&s.location) {
                    sites.push(s.location.clone());
                }
                any_batchable |= s.batchable;
                any_fixed |= !s.batchable;
            }
            names.push(bu.name.clone());
            builds.push(BuildOut {
                drv: bu.path.clone(),
                name: bu.name.clone(),
                kind: if bu.substitute { "substitute" } else { "build" },
                round: n + 1,
                start_seconds: ms(bu.start),
                seconds: ms(bu.end.unwrap_or(wall) - bu.start),
                site: site.map(SiteOut::from),
            });
        }
        rounds.push(RoundOut {
            index: n + 1,
            start_seconds: ms(re.start),
            seconds: ms(end - re.start),
            builds: names,
            sites,
            batchable: any_batchable && !any_fixed,
        });
    }
    (rounds, builds)
}

/// Cost per site, most first: a round counts for each site it built for.
fn site_costs(rounds: &[RoundOut], builds: &[BuildOut]) -> Vec<SiteCost> {
    let mut sites: Vec<SiteCost> = Vec::new();
    for r in rounds {
        for loc in &r.sites {
            let meta = builds
                .iter()
                .filter(|b| b.round == r.index)
                .find_map(|b| b.site.as_ref().filter(|s| &s.location == loc));
            let Some(meta) = meta else { continue };
            match sites.iter_mut().find(|s| &s.location == loc) {
                Some(s) => {
                    s.rounds += 1;
                    s.seconds = ms(s.seconds + r.seconds);
                }
                None => sites.push(SiteCost {
                    location: loc.clone(),
                    kind: meta.kind,
                    batchable: meta.batchable,
                    rounds: 1,
                    seconds: ms(r.seconds),
                }),
            }
        }
    }
    sites.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    sites
}

/// The wall time with the batchable rounds batched (an estimate; [`METHOD`]).
fn predict(rounds: &[RoundOut], wall: f64) -> Option<Prediction> {
    let batchable: Vec<f64> = rounds
        .iter()
        .filter(|r| r.batchable)
        .map(|r| r.seconds)
        .collect();
    (batchable.len() > 1).then(|| {
        let sum: f64 = batchable.iter().sum();
        let longest = batchable.iter().copied().fold(0.0, f64::max);
        Prediction {
            estimate: true,
            batchable_rounds: batchable.len(),
            batched_wall_seconds: ms(wall - sum + longest),
            saved_seconds: ms(sum - longest),
            method: METHOD,
        }
    })
}

/// What the report should warn about.
fn warnings(p: &Profiler, scanned: bool, outcome: &Profiled) -> Vec<String> {
    let mut warnings = Vec::new();
    warnings.extend(outcome.version_warning.clone());
    if !scanned {
        warnings.push("the scan for attribution failed: no sites attributed".to_string());
    }
    if p.unknown > 0 {
        warnings.push(format!("{} log lines not understood (ignored)", p.unknown));
    }
    if p.events == 0 && outcome.error.is_none() {
        warnings.push(
            "Nix wrote no structured log events: is --log-format internal-json supported?"
                .to_string(),
        );
    }
    warnings
}

impl Report {
    pub fn build(
        cmd: &[String],
        p: &Profiler,
        idx: Option<&Index>,
        outcome: &Profiled,
        wall: f64,
    ) -> Report {
        let site_of = |name: &str| idx.and_then(|i| i.lookup(name));
        let round_ids = p.rounds();
        let (rounds, mut builds) = rounds_and_builds(p, &round_ids, &site_of, wall);
        builds.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        let blocked: f64 = round_ids
            .iter()
            .map(|&r| p.realises[r].end.unwrap_or(wall) - p.realises[r].start)
            .sum();
        let eval_phase = p.eval_end.unwrap_or(wall);
        let sites = site_costs(&rounds, &builds);
        let prediction = predict(&rounds, wall);
        let ifd_disabled = p.ifd_disabled.as_ref().map(|drv| {
            let name = super::events::drv_name(drv);
            Blocked {
                drv: drv.clone(),
                site: site_of(&name).map(SiteOut::from),
                name,
            }
        });
        Report {
            version: 1,
            command: cmd.to_vec(),
            nix_version: outcome.nix_version.clone(),
            exit_code: outcome.exit_code,
            signal: outcome.signal,
            error: outcome.error.clone(),
            warnings: warnings(p, idx.is_some(), outcome),
            wall_seconds: ms(wall),
            evaluation_seconds: ms((eval_phase - blocked).max(0.0)),
            blocked_seconds: ms(blocked),
            round_count: rounds.len(),
            cached_ifd: p.cached(),
            post_eval_builds: p
                .realises
                .iter()
                .filter(|r| r.post_eval)
                .map(|r| r.builds.len())
                .sum(),
            rounds,
            builds,
            sites,
            prediction,
            ifd_disabled,
            log: LogStats {
                events: p.events,
                unknown_lines: p.unknown,
                plain_lines: p.plain,
            },
        }
    }

    pub fn human(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "\nifd-batch profile: {}", shell_line(&self.command));
        if let Some(e) = &self.error {
            let _ = writeln!(o, "  note: {e} (partial profile)");
        }
        for w in &self.warnings {
            let _ = writeln!(o, "  warning: {w}");
        }
        self.human_summary(&mut o);
        self.human_rounds(&mut o);
        self.human_sites(&mut o);
        self.human_estimate(&mut o);
        if self.log.unknown_lines > 0 {
            let _ = writeln!(
                o,
                "  ({} log lines not understood, ignored)",
                self.log.unknown_lines
            );
        }
        o
    }

    /// Wall, evaluation and blocked time, and what else happened.
    fn human_summary(&self, o: &mut String) {
        let _ = writeln!(o, "  wall time           {:>8.2} s", self.wall_seconds);
        let _ = writeln!(
            o,
            "  evaluating          {:>8.2} s",
            self.evaluation_seconds
        );
        let _ = writeln!(
            o,
            "  blocked on builds   {:>8.2} s in {} serial IFD round{}",
            self.blocked_seconds,
            self.round_count,
            if self.round_count == 1 { "" } else { "s" }
        );
        if self.cached_ifd > 0 {
            let _ = writeln!(
                o,
                "  IFD already built   {:>8} (imports that blocked on nothing)",
                self.cached_ifd
            );
        }
        if self.post_eval_builds > 0 {
            let _ = writeln!(
                o,
                "  after evaluation    {:>8} build{} (the result itself, not IFD)",
                self.post_eval_builds,
                if self.post_eval_builds == 1 { "" } else { "s" }
            );
        }
        if let Some(b) = &self.ifd_disabled {
            let at = b
                .site
                .as_ref()
                .map(|s| s.location.as_str())
                .unwrap_or("(no scanned site matches)");
            let _ = writeln!(
                o,
                "  IFD disabled: evaluation stopped at the first IFD, {} at {at}",
                b.name
            );
        }
    }

    /// The rounds, then the blocking builds, longest first.
    fn human_rounds(&self, o: &mut String) {
        if !self.rounds.is_empty() {
            let _ = writeln!(o, "\n  round    start     time  builds  sites");
            for r in &self.rounds {
                let _ = writeln!(
                    o,
                    "  {:>5} {:>7.2}s {:>7.2}s  {:>6}  {}",
                    r.index,
                    r.start_seconds,
                    r.seconds,
                    r.builds.len(),
                    match r.sites.len() {
                        0 => "-".to_string(),
                        1..=3 => r.sites.join(", "),
                        n => format!("{}, … {} more", r.sites[..2].join(", "), n - 2),
                    }
                );
            }
            let _ = writeln!(o, "\n  blocking builds, longest first:");
            let _ = writeln!(o, "      time  round  derivation → site");
            const SHOWN: usize = 25;
            for b in self.builds.iter().take(SHOWN) {
                let site = b
                    .site
                    .as_ref()
                    .map(|s| format!("{} ({})", s.location, s.kind))
                    .unwrap_or_else(|| {
                        if b.name.starts_with("ifd-batch-") {
                            "(the nixlib batch)".to_string()
                        } else {
                            "-".to_string()
                        }
                    });
                let _ = writeln!(
                    o,
                    "  {:>7.2}s  {:>5}  {} → {site}",
                    b.seconds, b.round, b.name
                );
            }
            if self.builds.len() > SHOWN {
                let _ = writeln!(o, "  … {} more (--format json)", self.builds.len() - SHOWN);
            }
        }
    }

    /// The sites, costliest first.
    fn human_sites(&self, o: &mut String) {
        if !self.sites.is_empty() {
            let _ = writeln!(o, "\n  sites, costliest first:");
            for s in &self.sites {
                let _ = writeln!(
                    o,
                    "  {:>7.2}s  {:>3} round{}  {} ({}{})",
                    s.seconds,
                    s.rounds,
                    if s.rounds == 1 { " " } else { "s" },
                    s.location,
                    s.kind,
                    if s.batchable { ", batchable" } else { "" }
                );
            }
        }
    }

    /// What batching would save.
    fn human_estimate(&self, o: &mut String) {
        match &self.prediction {
            Some(p) => {
                let _ = writeln!(
                    o,
                    "\n  estimate: with its {} batchable rounds batched, about {:.2} s instead of {:.2} s (saves {:.2} s)\n  ({})",
                    p.batchable_rounds,
                    p.batched_wall_seconds,
                    self.wall_seconds,
                    p.saved_seconds,
                    p.method
                );
            }
            None if self.round_count > 0 => {
                let _ = writeln!(
                    o,
                    "\n  estimate: nothing to gain from batching (fewer than two batchable rounds)"
                );
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_never_negative_zero() {
        for x in [-0.0, -0.0004, -1.0, f64::NAN, 0.0] {
            let r = ms(x);
            assert!(r == 0.0 && r.is_sign_positive(), "ms({x}) = {r}");
        }
        assert_eq!(ms(1.23456), 1.235);
    }

    /// Nothing ran (Nix missing, an empty log): every sum is empty, and an
    /// empty `f64` sum is `-0.0`.
    #[test]
    fn an_empty_profile_prints_no_negative_zero() {
        let p = Profiler::new(false);
        let r = Report::build(
            &["nix-instantiate".into()],
            &p,
            None,
            &Profiled::default(),
            0.0,
        );
        let text = r.human();
        assert!(!text.contains("-0"), "{text}");
        assert!(text.contains("blocked on builds       0.00 s"), "{text}");
        let json = serde_json::to_string(&r).unwrap_or_default();
        assert!(!json.contains("-0"), "{json}");
    }
}
