//! The run as a timeline: spans in whole microseconds on lanes. What
//! `--trace` writes, what `--svg` draws, and what `--svg-compare` reads back
//! from an earlier trace.
//!
//! The picture's invariants hold by construction: every span lies within
//! the run, the evaluation lane's spans (evaluating, blocked rounds) follow
//! one another without overlap and end where evaluation ends, and builds
//! sharing a lane never overlap (lanes are assigned greedily by start time,
//! which needs the fewest lanes).

use super::attrib::Index;
use super::model::Profiler;

/// A span, in microseconds since Nix started; `start <= end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: u64,
    pub end: u64,
}

impl Span {
    /// `start..end`, an empty span at `start` if `end` comes first.
    pub fn new(start: u64, end: u64) -> Span {
        Span {
            start,
            end: end.max(start),
        }
    }

    pub fn dur(self) -> u64 {
        self.end - self.start
    }
}

/// The scanned site a build is attributed to.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildSite {
    /// `file:line`.
    pub location: String,
    /// The site's kind (`hackage`, `read-drv`, …).
    pub kind: String,
    pub batchable: bool,
}

/// One serial IFD round: evaluation waited for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    /// 1-based, in evaluation order.
    pub index: usize,
    pub span: Span,
    /// How many builds it waited for.
    pub builds: usize,
    /// The sites its builds are attributed to.
    pub sites: Vec<String>,
}

/// One build or substitution.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub span: Span,
    pub name: String,
    pub drv: String,
    /// 0-based build lane.
    pub lane: usize,
    /// The round it belongs to; `None` for the result itself (built after
    /// evaluation).
    pub round: Option<usize>,
    pub substitute: bool,
    pub site: Option<BuildSite>,
}

impl Bar {
    /// Where it comes from, for people: its site, else the batch's own
    /// derivations by name.
    pub fn site_label(&self) -> Option<String> {
        match &self.site {
            Some(s) => Some(format!("{} ({})", s.location, s.kind)),
            None if self.name.starts_with("ifd-batch-") => Some("the nixlib batch".to_string()),
            None => None,
        }
    }
}

/// One run of Nix, laid out.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// The command line, as a shell would read it.
    pub command: String,
    /// The run's wall time (µs).
    pub wall: u64,
    /// Evaluation running (not blocked), in order.
    pub evaluation: Vec<Span>,
    /// Evaluation blocked on builds, in order.
    pub rounds: Vec<Round>,
    /// After evaluation (a build command building its result).
    pub after: Option<Span>,
    pub builds: Vec<Bar>,
}

/// Seconds as whole microseconds; negative or NaN is 0.
fn us(t: f64) -> u64 {
    if t.is_finite() && t > 0.0 {
        (t * 1e6).round() as u64
    } else {
        0
    }
}

impl Timeline {
    /// The profiler's run, its builds attributed through `idx`.
    pub fn from_profile(command: String, p: &Profiler, idx: Option<&Index>, wall: f64) -> Timeline {
        let wall_us = us(wall);
        let eval_end = us(p.eval_end.unwrap_or(wall)).min(wall_us);
        let rounds = rounds(p, idx, eval_end, wall);
        let evaluation = gaps(&rounds, eval_end);
        let mut builds = bars(p, idx, wall_us, wall);
        assign_lanes(&mut builds);
        Timeline {
            command,
            wall: wall_us,
            evaluation,
            rounds,
            after: (eval_end < wall_us).then(|| Span::new(eval_end, wall_us)),
            builds,
        }
    }

    /// How many build lanes.
    pub fn lanes(&self) -> usize {
        self.builds.iter().map(|b| b.lane + 1).max().unwrap_or(0)
    }

    /// Time evaluation was blocked (µs).
    pub fn blocked(&self) -> u64 {
        self.rounds.iter().map(|r| r.span.dur()).sum()
    }
}

/// The rounds, clamped into evaluation and made to follow one another.
fn rounds(p: &Profiler, idx: Option<&Index>, eval_end: u64, wall: f64) -> Vec<Round> {
    let mut floor = 0;
    let mut out = Vec::new();
    for (n, &r) in p.rounds().iter().enumerate() {
        let re = &p.realises[r];
        let start = us(re.start).clamp(floor, eval_end);
        let span = Span::new(start, us(re.end.unwrap_or(wall)).min(eval_end));
        floor = span.end;
        let mut sites: Vec<String> = Vec::new();
        for &b in &re.builds {
            if let Some(s) = idx.and_then(|i| i.lookup(&p.builds[b].name))
                && !sites.contains(&s.location)
            {
                sites.push(s.location.clone());
            }
        }
        out.push(Round {
            index: n + 1,
            span,
            builds: re.builds.len(),
            sites,
        });
    }
    out
}

/// Evaluation between the rounds, up to its end.
fn gaps(rounds: &[Round], eval_end: u64) -> Vec<Span> {
    let mut out = Vec::new();
    let mut at = 0;
    for r in rounds {
        if r.span.start > at {
            out.push(Span::new(at, r.span.start));
        }
        at = r.span.end;
    }
    if eval_end > at {
        out.push(Span::new(at, eval_end));
    }
    out
}

/// Every build and substitution, round ones and the result's, in the run.
fn bars(p: &Profiler, idx: Option<&Index>, wall_us: u64, wall: f64) -> Vec<Bar> {
    let rounds = p.rounds();
    let mut out = Vec::new();
    for (r, re) in p.realises.iter().enumerate() {
        let round = rounds.iter().position(|&x| x == r).map(|n| n + 1);
        if round.is_none() && !re.post_eval {
            continue;
        }
        for &b in &re.builds {
            let bu = &p.builds[b];
            let start = us(bu.start).min(wall_us);
            out.push(Bar {
                span: Span::new(start, us(bu.end.unwrap_or(wall)).min(wall_us)),
                name: bu.name.clone(),
                drv: bu.path.clone(),
                lane: 0,
                round,
                substitute: bu.substitute,
                // The result itself is no site's doing.
                site: idx
                    .filter(|_| round.is_some())
                    .and_then(|i| i.lookup(&bu.name))
                    .map(|s| BuildSite {
                        location: s.location.clone(),
                        kind: s.kind.to_string(),
                        batchable: s.batchable,
                    }),
            });
        }
    }
    out
}

/// Lanes such that builds on one lane never overlap: by start time, each
/// build takes the first lane free before it starts. Not even touching:
/// viewers (speedscope) pair an end and a start at one instant by name,
/// and two builds may share a name.
pub fn assign_lanes(builds: &mut [Bar]) {
    builds.sort_by_key(|b| (b.span.start, b.span.end));
    let mut free_at: Vec<u64> = Vec::new();
    for b in builds.iter_mut() {
        b.lane = match free_at.iter().position(|&end| end < b.span.start) {
            Some(lane) => lane,
            None => {
                free_at.push(0);
                free_at.len() - 1
            }
        };
        free_at[b.lane] = b.span.end;
    }
}

#[cfg(test)]
mod tests {
    use super::super::events::{ACT_BUILD, ACT_REALISE, Event};
    use super::*;

    fn start(id: u64, kind: u64, name: &str) -> Event {
        Event::Start {
            id,
            kind,
            level: 3,
            text: String::new(),
            path: (!name.is_empty())
                .then(|| format!("/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-{name}.drv")),
        }
    }

    /// One round of three builds, two at once, then evaluation goes on.
    fn parallel() -> Timeline {
        let mut p = Profiler::new(false);
        p.feed(0.5, &start(1, ACT_REALISE, ""));
        p.feed(0.6, &start(2, ACT_BUILD, "a"));
        p.feed(0.7, &start(3, ACT_BUILD, "b"));
        p.feed(1.0, &Event::Stop { id: 2 });
        p.feed(1.1, &start(4, ACT_BUILD, "c"));
        p.feed(1.5, &Event::Stop { id: 3 });
        p.feed(1.6, &Event::Stop { id: 4 });
        p.feed(1.7, &Event::Stop { id: 1 });
        p.finish(2.0);
        Timeline::from_profile("nix-instantiate x.nix".into(), &p, None, 2.0)
    }

    #[test]
    fn overlapping_builds_get_lanes_of_their_own() {
        let t = parallel();
        let lanes: Vec<(&str, usize)> = t.builds.iter().map(|b| (&*b.name, b.lane)).collect();
        // `c` starts after `a` stopped: it reuses `a`'s lane.
        assert_eq!(lanes, [("a", 0), ("b", 1), ("c", 0)]);
        assert_eq!(t.lanes(), 2);
    }

    #[test]
    fn evaluation_is_the_run_less_its_rounds() {
        let t = parallel();
        assert_eq!(t.wall, 2_000_000);
        assert_eq!(t.rounds[0].span, Span::new(500_000, 1_700_000));
        assert_eq!(
            t.evaluation,
            [Span::new(0, 500_000), Span::new(1_700_000, 2_000_000)]
        );
        assert_eq!(t.blocked(), 1_200_000);
        assert_eq!(t.after, None);
    }

    #[test]
    fn times_out_of_the_run_are_clamped_into_it() {
        assert_eq!(us(f64::NAN), 0);
        assert_eq!(us(-1.0), 0);
        let mut p = Profiler::new(false);
        p.feed(0.1, &start(1, ACT_REALISE, ""));
        p.feed(0.2, &start(2, ACT_BUILD, "late"));
        p.finish(0.3);
        // A wall time shorter than the events (not expected, but no span
        // may leave the run).
        let t = Timeline::from_profile(String::new(), &p, None, 0.15);
        assert!(t.builds.iter().all(|b| b.span.end <= t.wall));
        assert!(t.rounds.iter().all(|r| r.span.end <= t.wall));
    }
}
