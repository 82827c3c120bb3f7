//! `--svg FILE`: the timeline drawn as one standalone SVG — no scripts, no
//! fonts or files from elsewhere (generic font families only), a `<title>`
//! tooltip on every bar. A header with each run's total and blocked
//! seconds and a legend; then one panel per run, all on one time scale (the
//! longest run's), each with an evaluation row (evaluating, blocked rounds,
//! after evaluation), one row per build lane (labelled with the derivation
//! and its site where the bar is wide enough) and a time axis.

use super::timeline::{Bar, Round, Span, Timeline};
use std::fmt::Write;

/// One run to draw, and what to call it (`before`, `after`; may be empty).
pub struct Panel<'a> {
    pub label: &'a str,
    pub timeline: &'a Timeline,
}

const WIDTH: f64 = 1200.0;
/// Room for the lane names.
const LEFT: f64 = 104.0;
const RIGHT: f64 = 28.0;
/// A row's height; build lanes are thinner (and unlabelled) past
/// `THIN_PAST` lanes.
const ROW: f64 = 22.0;
const THIN_ROW: f64 = 14.0;
const THIN_PAST: usize = 8;
const BAR: f64 = 16.0;
/// Monospace labels: their size in a bar of a full row (a thin row's is
/// 1 px less), a character's advance being 0.6 of it.
const LABEL: f64 = 10.0;

const EVALUATING: &str = "#4e79a7";
const BLOCKED: &str = "#e15759";
const BUILD: &str = "#59a14f";
const SUBSTITUTE: &str = "#b07aa1";
const AFTER: &str = "#9c9c9c";

/// Every run on one time scale, the first on top.
pub fn render(panels: &[Panel]) -> String {
    let max = panels
        .iter()
        .map(|p| p.timeline.wall)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut c = Canvas {
        body: String::new(),
        y: 0.0,
        max,
    };
    c.header(panels);
    for p in panels {
        c.panel(p);
    }
    let height = num(c.y + 12.0);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" \
         viewBox=\"0 0 {w} {height}\" font-family=\"sans-serif\">\n\
         <rect width=\"{w}\" height=\"{height}\" fill=\"#ffffff\"/>\n{}</svg>\n",
        c.body,
        w = num(WIDTH),
    )
}

/// Where a row is.
#[derive(Clone, Copy)]
struct Row {
    top: f64,
    height: f64,
}

/// The drawing so far, and where the next thing goes.
struct Canvas {
    body: String,
    y: f64,
    /// The time scale: µs at the right end of the axis.
    max: u64,
}

impl Canvas {
    fn x(&self, t: u64) -> f64 {
        LEFT + (WIDTH - LEFT - RIGHT) * t.min(self.max) as f64 / self.max as f64
    }

    /// A span's width, at least a pixel so that short builds show.
    fn width(&self, s: Span) -> f64 {
        (self.x(s.end) - self.x(s.start)).max(1.0)
    }

    fn text(&mut self, x: f64, y: f64, attrs: &str, content: &str) {
        let _ = writeln!(
            self.body,
            "<text x=\"{}\" y=\"{}\" {attrs}>{}</text>",
            num(x),
            num(y),
            esc(content)
        );
    }

    /// Title, one summary line per run, the legend.
    fn header(&mut self, panels: &[Panel]) {
        self.y = 28.0;
        let title = match panels {
            [_, _, ..] => {
                "ifd-batch profile: where evaluation waits on IFD builds, before and after"
            }
            _ => "ifd-batch profile: where evaluation waits on IFD builds",
        };
        self.text(LEFT, self.y, "font-size=\"17\" font-weight=\"bold\"", title);
        for p in panels {
            self.y += 20.0;
            let line = match p.label {
                "" => summary(p.timeline),
                l => format!("{l}: {}", summary(p.timeline)),
            };
            self.text(LEFT, self.y, "font-size=\"13\"", &line);
        }
        if let [before, after] = panels {
            self.y += 20.0;
            let attrs = "font-size=\"13\" font-weight=\"bold\"";
            self.text(
                LEFT,
                self.y,
                attrs,
                &change(before.timeline, after.timeline),
            );
        }
        self.y += 22.0;
        self.legend(panels);
        self.y += 14.0;
    }

    fn legend(&mut self, panels: &[Panel]) {
        let any = |f: fn(&Timeline) -> bool| panels.iter().any(|p| f(p.timeline));
        let mut items = vec![
            (EVALUATING, "evaluating"),
            (BLOCKED, "evaluation blocked on an IFD round"),
            (BUILD, "build (derivation · site)"),
        ];
        if any(|t| t.builds.iter().any(|b| b.substitute)) {
            items.push((SUBSTITUTE, "substitution"));
        }
        if any(|t| t.after.is_some()) {
            items.push((AFTER, "after evaluation (the result, not IFD)"));
        }
        let mut x = LEFT;
        for (colour, what) in items {
            let _ = writeln!(
                self.body,
                "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{colour}\"/>",
                num(x),
                num(self.y - 10.0)
            );
            self.text(x + 17.0, self.y, "font-size=\"12\"", what);
            x += 17.0 + 7.0 * what.chars().count() as f64 + 22.0;
        }
    }

    /// One run: its title, rows and axis.
    fn panel(&mut self, p: &Panel) {
        let t = p.timeline;
        self.y += 18.0;
        let title = match p.label {
            "" => t.command.clone(),
            l => format!("{l}: {}", t.command),
        };
        let room = ((WIDTH - LEFT - RIGHT) / 7.0) as usize;
        let attrs = "font-size=\"12\" font-weight=\"bold\"";
        self.text(LEFT, self.y, attrs, &truncate(&title, room));
        self.y += 8.0;
        let height = if t.lanes() > THIN_PAST { THIN_ROW } else { ROW };
        let lane = |n: usize| Row {
            top: self.y + ROW + height * n as f64,
            height,
        };
        let rows: Vec<Row> = (0..t.lanes()).map(lane).collect();
        let bottom = rows.last().map_or(self.y + ROW, |r| r.top + r.height);
        self.grid(&rows, bottom);
        self.evaluation_row(t);
        for (n, &row) in rows.iter().enumerate() {
            self.lane_name(row, &format!("builds {}", n + 1));
            for b in t.builds.iter().filter(|b| b.lane == n) {
                self.build(b, row);
            }
        }
        self.y = bottom;
        self.axis();
    }

    /// Row stripes and the ticks' vertical lines, under the bars.
    fn grid(&mut self, lanes: &[Row], bottom: f64) {
        let evaluation = Row {
            top: self.y,
            height: ROW,
        };
        for r in std::iter::once(&evaluation).chain(lanes.iter().skip(1).step_by(2)) {
            let _ = writeln!(
                self.body,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#f4f4f4\"/>",
                num(LEFT),
                num(r.top),
                num(WIDTH - LEFT - RIGHT),
                num(r.height)
            );
        }
        let step = tick_step(self.max);
        for t in (0..=self.max).step_by(usize::try_from(step).unwrap_or(usize::MAX)) {
            let x = num(self.x(t));
            let _ = writeln!(
                self.body,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#dddddd\"/>",
                num(self.y),
                num(bottom)
            );
        }
    }

    fn lane_name(&mut self, row: Row, name: &str) {
        let size = if row.height < ROW { 9.0 } else { 11.0 };
        let attrs = format!("font-size=\"{size}\" text-anchor=\"end\" fill=\"#444444\"");
        self.text(
            LEFT - 8.0,
            row.top + row.height / 2.0 + size * 0.35,
            &attrs,
            name,
        );
    }

    fn evaluation_row(&mut self, t: &Timeline) {
        let top = Row {
            top: self.y,
            height: ROW,
        };
        self.lane_name(top, "evaluation");
        for &s in &t.evaluation {
            let tip = format!("evaluating: {}", from_to(s));
            self.bar("evaluation", EVALUATING, s, top, &tip, None);
        }
        for r in &t.rounds {
            let label = fit(
                &[format!("round {}", r.index), r.index.to_string()],
                self.width(r.span),
                LABEL,
            );
            self.bar("blocked", BLOCKED, r.span, top, &round_tip(r), label);
        }
        if let Some(s) = t.after {
            let tip = format!("after evaluation (the result, not IFD): {}", from_to(s));
            self.bar("after", AFTER, s, top, &tip, None);
        }
    }

    fn build(&mut self, b: &Bar, row: Row) {
        let colour = if b.substitute { SUBSTITUTE } else { BUILD };
        let short = b.site.as_ref().map(|s| short_location(&s.location));
        let short = short.or_else(|| b.site_label());
        let mut labels = Vec::new();
        if let Some(site) = short {
            labels.push(format!("{} · {site}", b.name));
        }
        labels.push(b.name.clone());
        let label = fit(&labels, self.width(b.span), label_size(row));
        self.bar("build", colour, b.span, row, &build_tip(b), label);
    }

    /// A bar with its tooltip and, when given, a label inside it.
    fn bar(
        &mut self,
        class: &str,
        colour: &str,
        s: Span,
        row: Row,
        tip: &str,
        label: Option<String>,
    ) {
        let x = self.x(s.start);
        let height = if row.height >= ROW {
            BAR
        } else {
            row.height - 2.0
        };
        let y = row.top + (row.height - height) / 2.0;
        let _ = writeln!(
            self.body,
            "<g><title>{}</title><rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{colour}\" stroke=\"#ffffff\" stroke-width=\"0.6\"/>",
            esc(tip),
            num(x),
            num(y),
            num(self.width(s)),
            num(height)
        );
        if let Some(l) = label {
            let size = label_size(row);
            let attrs = format!("font-size=\"{size}\" font-family=\"monospace\" fill=\"#ffffff\"");
            self.text(x + 3.0, y + height / 2.0 + size * 0.35, &attrs, &l);
        }
        self.body.push_str("</g>\n");
    }

    /// The time axis under a panel: ticks and labels in seconds.
    fn axis(&mut self) {
        let y = self.y;
        let _ = writeln!(
            self.body,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333333\"/>",
            num(LEFT),
            num(y),
            num(WIDTH - RIGHT),
            num(y)
        );
        let step = tick_step(self.max);
        for t in (0..=self.max).step_by(usize::try_from(step).unwrap_or(usize::MAX)) {
            let x = self.x(t);
            let _ = writeln!(
                self.body,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333333\"/>",
                num(x),
                num(y),
                num(x),
                num(y + 5.0)
            );
            let attrs = "font-size=\"11\" text-anchor=\"middle\" fill=\"#333333\"";
            self.text(x, y + 17.0, attrs, &tick_label(t, step));
        }
        self.text(
            WIDTH - RIGHT,
            y + 30.0,
            "font-size=\"11\" text-anchor=\"end\" fill=\"#666666\"",
            "time since Nix started",
        );
        self.y += 36.0;
    }
}

/// `total 2.56 s · blocked 2.24 s (88%) in 17 serial IFD rounds · 34 builds`.
fn summary(t: &Timeline) -> String {
    let blocked = t.blocked();
    let share = blocked.saturating_mul(100).checked_div(t.wall).unwrap_or(0);
    let rounds = t.rounds.len();
    let builds = t.builds.len();
    format!(
        "total {} · blocked {} ({share}%) in {rounds} serial IFD round{} · {builds} build{}",
        seconds(t.wall),
        seconds(blocked),
        if rounds == 1 { "" } else { "s" },
        if builds == 1 { "" } else { "s" },
    )
}

/// `total 9.12 s → 2.05 s (4.4× as fast) · blocked 8.50 s → 1.43 s · 17 → 3 rounds`.
fn change(before: &Timeline, after: &Timeline) -> String {
    let ratio = match after.wall {
        0 => String::new(),
        a => format!(" ({:.1}× as fast)", before.wall as f64 / a as f64),
    };
    format!(
        "change: total {} → {}{ratio} · blocked {} → {} · {} → {} serial IFD rounds",
        seconds(before.wall),
        seconds(after.wall),
        seconds(before.blocked()),
        seconds(after.blocked()),
        before.rounds.len(),
        after.rounds.len()
    )
}

fn round_tip(r: &Round) -> String {
    let sites = match r.sites.as_slice() {
        [] => "no scanned site".to_string(),
        s => s.join(", "),
    };
    format!(
        "IFD round {}: evaluation blocked {}\n{} build{}; sites: {sites}",
        r.index,
        from_to(r.span),
        r.builds,
        if r.builds == 1 { "" } else { "s" }
    )
}

fn build_tip(b: &Bar) -> String {
    let what = if b.substitute {
        "substitution"
    } else {
        "build"
    };
    let round = match b.round {
        Some(n) => format!("IFD round {n}"),
        None => "after evaluation".to_string(),
    };
    let site = b
        .site_label()
        .unwrap_or_else(|| "no scanned site".to_string());
    format!(
        "{}\n{site}\n{what}, {round}: {}\n{}",
        b.name,
        from_to(b.span),
        b.drv
    )
}

/// `0.42 s, from 1.20 s to 1.62 s`.
fn from_to(s: Span) -> String {
    format!(
        "{}, from {} to {}",
        seconds(s.dur()),
        seconds(s.start),
        seconds(s.end)
    )
}

fn seconds(us: u64) -> String {
    format!("{:.2} s", us as f64 / 1e6)
}

fn label_size(row: Row) -> f64 {
    if row.height >= ROW {
        LABEL
    } else {
        LABEL - 1.0
    }
}

/// The first label that fits a bar this wide, else the last one cut short.
fn fit(labels: &[String], width: f64, size: f64) -> Option<String> {
    let room = ((width - 6.0) / (0.6 * size)).floor();
    if room < 3.0 {
        return None;
    }
    let room = room as usize;
    if let Some(l) = labels.iter().find(|l| l.chars().count() <= room) {
        return Some(l.clone());
    }
    labels.last().map(|l| truncate(l, room))
}

/// At most `room` characters, `…` marking a cut.
fn truncate(s: &str, room: usize) -> String {
    if s.chars().count() <= room {
        return s.to_string();
    }
    let mut out: String = s.chars().take(room.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `overlay.nix:20` of `examples/haskell-overlay/overlay.nix:20`.
fn short_location(location: &str) -> String {
    location.rsplit('/').next().unwrap_or(location).to_string()
}

/// About ten ticks: 1, 2 or 5 times a power of ten (µs).
fn tick_step(max: u64) -> u64 {
    let mut power: u64 = 1;
    loop {
        for m in [1, 2, 5] {
            let step = power.saturating_mul(m);
            if step.saturating_mul(10) >= max {
                return step;
            }
        }
        power = power.saturating_mul(10);
    }
}

/// A tick's time, with as many decimals as the step needs.
fn tick_label(t: u64, step: u64) -> String {
    let decimals = match step {
        s if s % 1_000_000 == 0 => 0,
        s if s % 100_000 == 0 => 1,
        s if s % 10_000 == 0 => 2,
        s if s % 1_000 == 0 => 3,
        _ => 6,
    };
    format!("{:.*} s", decimals, t as f64 / 1e6)
}

/// A coordinate: one decimal at most, never negative, NaN or `-0`.
fn num(x: f64) -> String {
    let x = if x.is_finite() && x > 0.0 { x } else { 0.0 };
    let s = format!("{x:.1}");
    match s.strip_suffix(".0") {
        Some(whole) => whole.to_string(),
        None => s,
    }
}

/// Text for XML content and attributes; control characters XML forbids
/// become spaces.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_never_negative_nan_or_negative_zero() {
        for (x, want) in [
            (-0.0, "0"),
            (-3.0, "0"),
            (f64::NAN, "0"),
            (2.0, "2"),
            (1.25, "1.2"),
        ] {
            assert_eq!(num(x), want, "{x}");
        }
    }

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(tick_step(2_560_000), 500_000);
        assert_eq!(tick_label(1_500_000, 500_000), "1.5 s");
        assert_eq!(tick_step(9_000_000), 1_000_000);
        assert_eq!(tick_label(3_000_000, 1_000_000), "3 s");
        assert_eq!(tick_step(0), 1);
    }

    #[test]
    fn labels_fit_or_are_cut() {
        let labels = [
            "cabal2nix-aeson · overlay.nix:3".to_string(),
            "cabal2nix-aeson".to_string(),
        ];
        assert_eq!(
            fit(&labels, 400.0, LABEL).as_deref(),
            Some("cabal2nix-aeson · overlay.nix:3")
        );
        assert_eq!(
            fit(&labels, 110.0, LABEL).as_deref(),
            Some("cabal2nix-aeson")
        );
        assert_eq!(fit(&labels, 60.0, LABEL).as_deref(), Some("cabal2ni…"));
        assert_eq!(fit(&labels, 20.0, LABEL), None);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot; ");
    }
}
