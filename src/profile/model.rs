//! The profile: builds and IFD rounds, from timestamped events.
//!
//! A round is one top-level `realise` activity (102) during evaluation that
//! started at least one build (105) or substitution (108): evaluation is
//! blocked from the realise's start to its stop, and everything a batch
//! builds in parallel is inside one realise. Builds seen outside any realise
//! (not expected from Nix 2.8) form rounds of their own, grouped while they
//! overlap. For build commands (`nix-build`, `nix build`, …) evaluation ends
//! at "these N derivations will be built" / "will be fetched", or else the
//! last realise is the final build: neither is IFD.

use super::events::{ACT_BUILD, ACT_REALISE, ACT_SUBSTITUTE, Event, drv_name, ifd_disabled};
use std::collections::HashMap;

/// One build or substitution.
#[derive(Debug, Clone)]
pub struct Build {
    pub path: String,
    pub name: String,
    pub substitute: bool,
    pub start: f64,
    /// `None` while running (or when Nix died first).
    pub end: Option<f64>,
    /// Index into `Profiler::realises`.
    pub realise: Option<usize>,
}

/// One realise (candidate IFD round).
#[derive(Debug, Clone)]
pub struct Realise {
    pub start: f64,
    pub end: Option<f64>,
    pub builds: Vec<usize>,
    /// Started after evaluation ended: the final build, not IFD.
    pub post_eval: bool,
}

#[derive(Debug, Default)]
pub struct Profiler {
    pub builds: Vec<Build>,
    pub realises: Vec<Realise>,
    /// When evaluation ended, if Nix said so.
    pub eval_end: Option<f64>,
    pub events: usize,
    pub unknown: usize,
    pub plain: usize,
    /// The derivation Nix refused to build (IFD disabled).
    pub ifd_disabled: Option<String>,
    /// Error messages (level 0) Nix printed.
    pub errors: Vec<String>,
    open_realise: Option<(u64, usize)>,
    open_builds: HashMap<u64, usize>,
    /// Builds outside a realise: the synthetic realise they are grouped in.
    loose: Option<usize>,
    build_command: bool,
}

impl Profiler {
    pub fn new(build_command: bool) -> Profiler {
        Profiler {
            build_command,
            ..Profiler::default()
        }
    }

    pub fn feed(&mut self, t: f64, ev: &Event) {
        match ev {
            Event::Plain(_) => self.plain += 1,
            Event::Unknown(_) => self.unknown += 1,
            _ => self.events += 1,
        }
        match ev {
            Event::Start { id, kind, path, .. } => match *kind {
                ACT_REALISE if self.open_realise.is_none() => {
                    self.realises.push(Realise {
                        start: t,
                        end: None,
                        builds: Vec::new(),
                        post_eval: self.eval_end.is_some(),
                    });
                    self.open_realise = Some((*id, self.realises.len() - 1));
                }
                ACT_BUILD | ACT_SUBSTITUTE => {
                    let path = path.clone().unwrap_or_default();
                    let realise = match self.open_realise {
                        Some((_, r)) => r,
                        None => match self.loose {
                            Some(r) => r,
                            None => {
                                self.realises.push(Realise {
                                    start: t,
                                    end: None,
                                    builds: Vec::new(),
                                    post_eval: self.eval_end.is_some(),
                                });
                                self.loose = Some(self.realises.len() - 1);
                                self.realises.len() - 1
                            }
                        },
                    };
                    self.builds.push(Build {
                        name: drv_name(&path),
                        path,
                        substitute: *kind == ACT_SUBSTITUTE,
                        start: t,
                        end: None,
                        realise: Some(realise),
                    });
                    let b = self.builds.len() - 1;
                    self.realises[realise].builds.push(b);
                    self.open_builds.insert(*id, b);
                }
                _ => {}
            },
            Event::Stop { id } => {
                if let Some(b) = self.open_builds.remove(id) {
                    self.builds[b].end = Some(t);
                    if let Some(r) = self.loose
                        && self.builds[b].realise == Some(r)
                        && !self
                            .open_builds
                            .values()
                            .any(|&o| self.builds[o].realise == Some(r))
                    {
                        self.realises[r].end = Some(t);
                        self.loose = None;
                    }
                }
                if let Some((rid, r)) = self.open_realise
                    && rid == *id
                {
                    self.realises[r].end = Some(t);
                    self.open_realise = None;
                }
            }
            Event::Msg { level, msg } => {
                if self.build_command
                    && self.eval_end.is_none()
                    && (msg.contains(" will be built:") || msg.contains(" will be fetched"))
                {
                    self.eval_end = Some(t);
                }
                if *level == 0 {
                    if self.ifd_disabled.is_none() {
                        self.ifd_disabled = ifd_disabled(msg);
                    }
                    self.errors.push(msg.clone());
                }
            }
            _ => {}
        }
    }

    /// Nix has exited at `t`: close what is open, mark the final build.
    pub fn finish(&mut self, t: f64) {
        for (_, b) in self.open_builds.drain() {
            if self.builds[b].end.is_none() {
                self.builds[b].end = Some(t);
            }
        }
        for r in &mut self.realises {
            if r.end.is_none() {
                r.end = Some(t);
            }
        }
        self.open_realise = None;
        self.loose = None;
        if self.build_command
            && self.eval_end.is_none()
            && let Some(last) = self.realises.last_mut()
        {
            last.post_eval = true;
            self.eval_end = Some(last.start);
        }
    }

    /// Rounds: realises during evaluation that built or substituted.
    pub fn rounds(&self) -> Vec<usize> {
        (0..self.realises.len())
            .filter(|&r| !self.realises[r].post_eval && !self.realises[r].builds.is_empty())
            .collect()
    }

    /// Realises during evaluation that found everything already built.
    pub fn cached(&self) -> usize {
        self.realises
            .iter()
            .filter(|r| !r.post_eval && r.builds.is_empty())
            .count()
    }

    /// The round currently blocking evaluation, and its running build.
    pub fn current(&self) -> Option<(usize, Option<&Build>)> {
        let (_, r) = self.open_realise?;
        if self.realises[r].post_eval {
            return None;
        }
        let running = self.realises[r]
            .builds
            .iter()
            .rev()
            .map(|&b| &self.builds[b])
            .find(|b| b.end.is_none());
        let before = self.rounds().iter().filter(|&&x| x < r).count();
        Some((before + 1, running))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(id: u64, kind: u64, path: Option<&str>) -> Event {
        Event::Start {
            id,
            kind,
            level: 3,
            text: String::new(),
            path: path.map(str::to_string),
        }
    }

    #[test]
    fn realises_with_builds_are_rounds() {
        let mut p = Profiler::new(false);
        p.feed(0.0, &start(1, ACT_REALISE, None));
        p.feed(
            0.1,
            &start(
                2,
                ACT_BUILD,
                Some("/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv"),
            ),
        );
        p.feed(1.1, &Event::Stop { id: 2 });
        p.feed(1.2, &Event::Stop { id: 1 });
        p.feed(1.3, &start(3, ACT_REALISE, None));
        p.feed(1.4, &Event::Stop { id: 3 });
        p.feed(2.0, &start(4, ACT_REALISE, None));
        p.feed(
            2.1,
            &start(
                5,
                ACT_BUILD,
                Some("/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-y.drv"),
            ),
        );
        p.feed(
            2.1,
            &start(
                6,
                ACT_BUILD,
                Some("/nix/store/cccccccccccccccccccccccccccccccc-z.drv"),
            ),
        );
        p.finish(3.0);
        assert_eq!(p.rounds(), vec![0, 2]);
        assert_eq!(p.cached(), 1);
        assert_eq!(p.builds[0].name, "x");
        assert_eq!(p.realises[2].end, Some(3.0));
    }

    #[test]
    fn the_last_realise_of_a_build_command_is_not_ifd() {
        let mut p = Profiler::new(true);
        p.feed(0.0, &start(1, ACT_REALISE, None));
        p.feed(
            0.1,
            &start(
                2,
                ACT_BUILD,
                Some("/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv"),
            ),
        );
        p.feed(1.1, &Event::Stop { id: 2 });
        p.feed(1.2, &Event::Stop { id: 1 });
        p.feed(1.3, &start(3, ACT_REALISE, None));
        p.feed(
            1.4,
            &start(
                4,
                ACT_BUILD,
                Some("/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-top.drv"),
            ),
        );
        p.finish(2.0);
        assert_eq!(p.rounds(), vec![0]);
        assert_eq!(p.eval_end, Some(1.3));
    }

    #[test]
    fn will_be_built_ends_evaluation() {
        let mut p = Profiler::new(true);
        p.feed(
            0.5,
            &Event::Msg {
                level: 3,
                msg: "these 2 derivations will be built:".into(),
            },
        );
        p.feed(0.6, &start(1, ACT_REALISE, None));
        p.feed(
            0.7,
            &start(
                2,
                ACT_BUILD,
                Some("/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv"),
            ),
        );
        p.finish(1.0);
        assert!(p.rounds().is_empty());
        assert_eq!(p.eval_end, Some(0.5));
    }
}
