//! Writing automation: one parameter's moves during a pass (play → stop), in the modes
//! mixers know from Pro Tools and Nuendo, merged into its envelope and thinned when the pass
//! ends. Times are timeline seconds of what was *heard* when the control moved (the caller
//! compensates the render-ahead and the output latency), so playing the result back puts
//! each move on the samples the mixer was listening to.

use std::fmt;

/// How a track's or bus's automation behaves during playback.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AutomationMode {
    /// Envelopes ignored: the controls alone set the parameters.
    Off,
    /// Envelopes play; the controls follow them.
    #[default]
    Read,
    /// Writes while a control is held, then glides back to the envelope.
    Touch,
    /// Writes from the first touch until playback stops.
    Latch,
    /// Overwrites every armed parameter from play to stop.
    Write,
    /// Writes a relative offset on top of the envelope while a control is held.
    Trim,
}

impl AutomationMode {
    /// Every mode, in the order a strip's selector lists them.
    pub const ALL: [AutomationMode; 6] = [
        AutomationMode::Off,
        AutomationMode::Read,
        AutomationMode::Touch,
        AutomationMode::Latch,
        AutomationMode::Write,
        AutomationMode::Trim,
    ];

    /// The session's spelling (`automation_mode = "touch"`).
    pub fn name(self) -> &'static str {
        match self {
            AutomationMode::Off => "off",
            AutomationMode::Read => "read",
            AutomationMode::Touch => "touch",
            AutomationMode::Latch => "latch",
            AutomationMode::Write => "write",
            AutomationMode::Trim => "trim",
        }
    }

    /// The mode spelled `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    /// True for the modes that record moves.
    pub fn writes(self) -> bool {
        matches!(
            self,
            AutomationMode::Touch
                | AutomationMode::Latch
                | AutomationMode::Write
                | AutomationMode::Trim
        )
    }
}

impl fmt::Display for AutomationMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The value at `t` of an envelope of (seconds, value) points: linear between points, held
/// outside them; `fallback` (the static setting) when there are none.
pub fn envelope_at(points: &[(f64, f64)], t: f64, fallback: f64) -> f64 {
    let i = points.partition_point(|p| p.0 <= t);
    match i {
        _ if points.is_empty() => fallback,
        0 => points[0].1,
        i if i == points.len() => points[i - 1].1,
        i => {
            let ((t0, v0), (t1, v1)) = (points[i - 1], points[i]);
            v0 + (v1 - v0) * (t - t0) / (t1 - t0)
        }
    }
}

/// Keeps the points where the envelope departs from the straight line between the kept
/// neighbours by more than `tolerance` (Ramer–Douglas–Peucker in the value axis); the first
/// and last points always stay. The thinned envelope is within `tolerance` of the original
/// everywhere.
pub fn thin(points: &[(f64, f64)], tolerance: f64) -> Vec<(f64, f64)> {
    if points.len() < 3 {
        return points.to_vec();
    }
    let mut keep = vec![false; points.len()];
    keep[0] = true;
    keep[points.len() - 1] = true;
    let mut stack = vec![(0, points.len() - 1)];
    while let Some((a, b)) = stack.pop() {
        let ((ta, va), (tb, vb)) = (points[a], points[b]);
        let mut worst = (0.0, a);
        for (k, &(t, v)) in points.iter().enumerate().take(b).skip(a + 1) {
            let line = va + (vb - va) * (t - ta) / (tb - ta);
            let off = (v - line).abs();
            if off > worst.0 {
                worst = (off, k);
            }
        }
        if worst.0 > tolerance {
            keep[worst.1] = true;
            stack.push((a, worst.1));
            stack.push((worst.1, b));
        }
    }
    points
        .iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(*p))
        .collect()
}

/// The smallest step between two written points (and the ramp at a punch-in or punch-out
/// that would otherwise be a jump): 1 ms.
const STEP: f64 = 0.001;

/// One stretch of writing.
#[derive(Clone, Debug)]
struct Span {
    start: f64,
    /// Written (time, value): absolute values, or offsets in [`AutomationMode::Trim`].
    points: Vec<(f64, f64)>,
    /// When writing stopped (`None` while it goes on).
    end: Option<f64>,
    /// Seconds over which the envelope is rejoined after `end` (0: at once).
    glide: f64,
}

/// The return to the envelope after a written stretch: the difference at its end, fading
/// linearly to nothing over `length` seconds.
#[derive(Clone, Copy, Debug)]
struct Glide {
    end: f64,
    length: f64,
    difference: f64,
}

impl Glide {
    /// What is left of the difference at `t`.
    fn left(&self, t: f64) -> f64 {
        if t <= self.end {
            return self.difference;
        }
        self.difference * (1.0 - ((t - self.end) / self.length).min(1.0))
    }
}

/// One parameter's pass: fed the heard time of every touch, move and release, it gives the
/// envelope to keep when playback stops.
#[derive(Clone, Debug)]
pub struct PassRecorder {
    mode: AutomationMode,
    /// The envelope before the pass (seconds, value), and the static value without one.
    base: Vec<(f64, f64)>,
    fallback: f64,
    /// Seconds a `touch` (or `trim`) takes to rejoin the envelope after a release.
    glide: f64,
    spans: Vec<Span>,
    /// The control's value at the touch ([`AutomationMode::Trim`]: offsets are from it).
    anchor: f64,
    /// Preallocated room, taken by the next stretch that opens.
    spare: Vec<(f64, f64)>,
    /// Thin in the logarithm of the value (a frequency or a time: equal ratios are equal
    /// steps).
    log: bool,
}

impl PassRecorder {
    /// A pass in `mode` over the envelope `base` (`fallback` when it has no points), gliding
    /// back over `glide` seconds after a touch ends.
    pub fn new(mode: AutomationMode, base: &[(f64, f64)], fallback: f64, glide: f64) -> Self {
        Self {
            mode,
            base: base.to_vec(),
            fallback,
            glide: glide.max(0.0),
            spans: Vec::new(),
            anchor: 0.0,
            spare: Vec::new(),
            log: false,
        }
    }

    /// The same recorder, thinning in the logarithm of the (positive) value: its tolerance
    /// is then in natural-log units (0.001 is 0.1 %).
    pub fn thinned_in_log(mut self) -> Self {
        self.log = true;
        self
    }

    /// Room for `moves` written points before the recorder allocates (it runs on an engine
    /// thread).
    pub fn reserve(&mut self, moves: usize) {
        self.spans.reserve(64);
        self.spare = Vec::with_capacity(moves);
    }

    /// The mode of the pass.
    pub fn mode(&self) -> AutomationMode {
        self.mode
    }

    /// What the mix should hear at `t` for the control at `control`: the control, or in
    /// [`AutomationMode::Trim`] the envelope moved by the control's offset from the touch.
    pub fn live_value(&self, t: f64, control: f64) -> f64 {
        if self.mode == AutomationMode::Trim {
            self.base_at(t) + control - self.anchor
        } else {
            control
        }
    }

    /// The value being written now (the last written point, a trim's offset added to the
    /// envelope there), or `None` when nothing is written.
    pub fn current(&self) -> Option<f64> {
        let span = self.spans.last().filter(|s| s.end.is_none())?;
        let &(t, v) = span.points.last()?;
        Some(if self.mode == AutomationMode::Trim {
            self.base_at(t) + v
        } else {
            v
        })
    }

    /// What the control makes the mix play at `t`: while writing, the last written value (a
    /// trim's offset on the envelope at `t`); then the glide back; `None` when the envelope
    /// plays.
    pub fn playing_value(&self, t: f64) -> Option<f64> {
        if !self.writing() {
            return self.gliding_value(t);
        }
        let &(_, last) = self.spans.last()?.points.last()?;
        Some(if self.mode == AutomationMode::Trim {
            self.base_at(t) + last
        } else {
            last
        })
    }

    /// After a release, while the control glides back to the envelope: what the mix hears
    /// at `t` (exactly what the kept lane will hold there); `None` when not gliding.
    pub fn gliding_value(&self, t: f64) -> Option<f64> {
        let span = self.spans.last()?;
        let end = span.end?;
        if span.glide <= 0.0 || t < end || t >= end + span.glide {
            return None;
        }
        let &(_, last) = span.points.last()?;
        let written = if self.mode == AutomationMode::Trim {
            self.base_at(end) + last
        } else {
            last
        };
        let glide = Glide {
            end,
            length: span.glide,
            difference: written - self.base_at(end),
        };
        Some(self.base_at(t) + glide.left(t))
    }

    /// The envelope before the pass at `t`.
    pub fn base_at(&self, t: f64) -> f64 {
        envelope_at(&self.base, t, self.fallback)
    }

    /// True while moves are being written (the control, not the envelope, sets the value).
    pub fn writing(&self) -> bool {
        self.spans.last().is_some_and(|s| s.end.is_none())
    }

    /// Playback starts at `t` with the control at `value`: `write` begins writing.
    pub fn start(&mut self, t: f64, value: f64) {
        if self.mode == AutomationMode::Write {
            self.open(t, value);
        }
    }

    /// The control is grabbed at `t` (at `value`).
    pub fn touch(&mut self, t: f64, value: f64) {
        match self.mode {
            AutomationMode::Touch | AutomationMode::Latch if !self.writing() => self.open(t, value),
            AutomationMode::Trim if !self.writing() => {
                self.anchor = value;
                self.open(t, 0.0);
            }
            _ => self.moved(t, value),
        }
    }

    /// The control moves to `value` at `t` (a move without a touch — a client that sends no
    /// touch messages — touches it).
    pub fn moved(&mut self, t: f64, value: f64) {
        if !self.writing() {
            if self.mode.writes() && self.mode != AutomationMode::Write {
                self.touch(t, value);
            }
            return;
        }
        let v = if self.mode == AutomationMode::Trim {
            value - self.anchor
        } else {
            value
        };
        if let Some(span) = self.spans.last_mut() {
            let last = span.points.last().map_or(span.start, |p| p.0);
            span.points.push((t.max(last + 1e-6), v));
        }
    }

    /// The control is let go at `t`: `touch` and `trim` stop writing and glide back.
    pub fn release(&mut self, t: f64) {
        if matches!(self.mode, AutomationMode::Touch | AutomationMode::Trim) {
            self.close(t, self.glide);
        }
    }

    /// Playback stops at `t`: whatever is still writing ends there.
    pub fn stop(&mut self, t: f64) {
        let glide = if self.mode == AutomationMode::Touch || self.mode == AutomationMode::Trim {
            self.glide
        } else {
            0.0
        };
        self.close(t, glide);
    }

    fn open(&mut self, t: f64, value: f64) {
        let mut points = std::mem::take(&mut self.spare);
        points.clear();
        points.push((t, value));
        self.spans.push(Span {
            start: t,
            points,
            end: None,
            glide: 0.0,
        });
    }

    fn close(&mut self, t: f64, glide: f64) {
        if let Some(span) = self.spans.last_mut().filter(|s| s.end.is_none()) {
            let last = span.points.last().map_or(span.start, |p| p.0);
            span.end = Some(t.max(last));
            span.glide = glide;
        }
    }

    /// The envelope to keep (the pass merged into the envelope before it, each written
    /// stretch thinned to `tolerance`), or `None` when nothing was written.
    pub fn finish(mut self, tolerance: f64) -> Option<Vec<(f64, f64)>> {
        if self.spans.is_empty() {
            return None;
        }
        if let Some(last) = self.spans.last().and_then(|s| s.points.last()).map(|p| p.0) {
            self.close(last, 0.0);
        }
        let mut out: Vec<(f64, f64)> = Vec::new();
        let spans = std::mem::take(&mut self.spans);
        let mut resume = f64::NEG_INFINITY;
        // The glide a stretch was still on when the next one began.
        let mut carry: Option<Glide> = None;
        for (k, span) in spans.iter().enumerate() {
            let next = spans.get(k + 1).map_or(f64::INFINITY, |s| s.start);
            let (region, glide) = self.region(span, next, carry);
            carry = Some(glide);
            let (first, last) = (region[0].0, region[region.len() - 1].0);
            out.extend(
                self.base
                    .iter()
                    .filter(|p| p.0 > resume && p.0 < first)
                    .copied(),
            );
            let thinned = if self.log {
                let logs: Vec<(f64, f64)> = region
                    .iter()
                    .map(|&(t, v)| (t, v.max(f64::MIN_POSITIVE).ln()))
                    .collect();
                thin(&logs, tolerance)
                    .into_iter()
                    .map(|(t, l)| (t, l.exp()))
                    .collect()
            } else {
                thin(&region, tolerance)
            };
            for p in thinned {
                if out.last().is_none_or(|q| p.0 > q.0) {
                    out.push(p);
                }
            }
            resume = last;
        }
        out.extend(self.base.iter().filter(|p| p.0 > resume).copied());
        Some(out)
    }

    /// A written stretch as envelope points: from what played at its start (the envelope,
    /// or the glide of the stretch before, `carry`), through the written values (a trim's
    /// offsets added to the envelope), back to the envelope after its glide; cut short where
    /// the next stretch (starting at `next`) begins. Also returns its glide.
    fn region(&self, span: &Span, next: f64, carry: Option<Glide>) -> (Vec<(f64, f64)>, Glide) {
        let trim = self.mode == AutomationMode::Trim;
        let end = span.end.unwrap_or(span.start);
        let offset_at = |t: f64| envelope_at(&span.points, t, 0.0);
        let written_at = |t: f64| {
            if trim {
                self.base_at(t) + offset_at(t)
            } else {
                offset_at(t)
            }
        };
        let before = |t: f64| self.base_at(t) + carry.map_or(0.0, |g| g.left(t));
        let mut times: Vec<f64> = vec![span.start];
        // Written values begin one step in when they differ from what played (a punch-in).
        let punch = (written_at(span.start) - before(span.start)).abs() > 1e-9;
        let from = if punch { span.start + STEP } else { span.start };
        times.extend(span.points.iter().map(|p| p.0.max(from)));
        if trim {
            times.extend(self.base_times(span.start, end));
        }
        times.push(end);
        // Back to the envelope: the difference fades over the glide (at once: one step).
        let glide = if span.glide > 0.0 { span.glide } else { STEP };
        let back = (end + glide).min(next - STEP).max(end);
        times.extend(self.base_times(end, back));
        times.push(back);
        times.sort_by(f64::total_cmp);
        times.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
        let fade = Glide {
            end,
            length: glide,
            difference: written_at(end) - self.base_at(end),
        };
        let points = times
            .into_iter()
            .map(|t| {
                let v = if t <= span.start && punch {
                    before(t)
                } else if t <= end {
                    written_at(t)
                } else {
                    self.base_at(t) + fade.left(t)
                };
                (t, v)
            })
            .collect();
        (points, fade)
    }

    /// The envelope's point times strictly between `a` and `b`.
    fn base_times(&self, a: f64, b: f64) -> impl Iterator<Item = f64> + '_ {
        self.base
            .iter()
            .map(|p| p.0)
            .filter(move |&t| t > a && t < b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frequency ride thinned in the logarithm keeps low frequencies as closely as high
    /// ones: a wobble between 60 and 90 Hz over a 10 Hz–40 kHz range stays within 2 %
    /// (0.1 % of the range's logarithm is 0.8 %, plus the straight lines between the kept
    /// points), where 0.1 % of the linear range (40 Hz) flattens it.
    #[test]
    fn a_frequency_ride_is_thinned_in_ratios() {
        let ride = |t: f64| 75.0 + 15.0 * (std::f64::consts::TAU * 2.0 * t).sin();
        let kept = |log: bool| {
            let mut r = PassRecorder::new(AutomationMode::Latch, &[], 1000.0, 0.0);
            if log {
                r = r.thinned_in_log();
            }
            r.start(0.0, 1000.0);
            r.touch(0.0, ride(0.0));
            for k in 1..=1000 {
                let t = k as f64 * 0.001;
                r.moved(t, ride(t));
            }
            r.stop(1.0);
            let tolerance = if log {
                0.001 * (40_000f64 / 10.0).ln()
            } else {
                0.001 * (40_000.0 - 10.0)
            };
            r.finish(tolerance).unwrap()
        };
        let worst = |kept: &[(f64, f64)]| {
            (0..=990)
                .map(|k| 0.002 + k as f64 * 0.001)
                .map(|t| (envelope_at(kept, t, f64::NAN) / ride(t) - 1.0).abs())
                .fold(0.0, f64::max)
        };
        let (log, linear) = (kept(true), kept(false));
        assert!(log.len() < 200, "{} points", log.len());
        assert!(worst(&log) < 0.02, "{}", worst(&log));
        assert!(worst(&linear) > 0.1, "{}", worst(&linear));
    }

    /// A touch let go at 2 s over a −20→0 dB ramp glides back over 0.5 s: the live value
    /// equals the lane the pass keeps at every instant of the glide, and is `None` after.
    #[test]
    fn the_live_glide_after_a_release_is_the_kept_lane() {
        let base = [(0.0, -20.0), (4.0, 0.0)];
        for mode in [AutomationMode::Touch, AutomationMode::Trim] {
            let mut r = PassRecorder::new(mode, &base, 0.0, 0.5);
            r.start(0.0, -20.0);
            r.touch(1.0, -6.0);
            r.moved(1.5, -3.0);
            r.moved(2.0, -1.0);
            r.release(2.0);
            assert!(!r.writing());
            let live: Vec<(f64, f64)> = (0..=50)
                .map(|k| 2.0 + 0.01 * f64::from(k))
                .map(|t| (t, r.gliding_value(t).unwrap_or(f64::NAN)))
                .collect();
            assert_eq!(r.gliding_value(2.5), None);
            assert_eq!(r.gliding_value(1.9), None, "not before the release");
            let kept = r.clone().finish(0.0).unwrap();
            for &(t, v) in live.iter().take(50) {
                let want = envelope_at(&kept, t, f64::NAN);
                assert!(
                    (v - want).abs() < 1e-9,
                    "{mode}: at {t} live {v} kept {want}"
                );
            }
            // It starts where the hand left it and ends on the envelope.
            let at_release = if mode == AutomationMode::Trim {
                -10.0 + 5.0
            } else {
                -1.0
            };
            assert!(
                (live[0].1 - at_release).abs() < 1e-9,
                "{mode}: {}",
                live[0].1
            );
            // 0.49 s into the 0.5 s glide, 2 % of the difference is left.
            let left = (at_release - envelope_at(&base, 2.0, 0.0)) * 0.02;
            let at = live[49].1 - envelope_at(&base, 2.49, 0.0);
            assert!((at - left).abs() < 1e-9, "{mode}: {at} vs {left}");
        }
    }

    /// The largest |a(t) − b(t)| over a fine grid of `from..to`.
    fn worst(a: &[(f64, f64)], b: impl Fn(f64) -> f64, from: f64, to: f64) -> f64 {
        (0..=2000)
            .map(|k| from + (to - from) * k as f64 / 2000.0)
            .map(|t| (envelope_at(a, t, f64::NAN) - b(t)).abs())
            .map(|d| if d.is_nan() { f64::INFINITY } else { d })
            .fold(0.0, f64::max)
    }

    fn strictly_increasing(points: &[(f64, f64)]) -> bool {
        points.windows(2).all(|w| w[1].0 > w[0].0)
    }

    /// A ramp from −10 dB at 0 s to 0 dB at 10 s.
    const RAMP: [(f64, f64); 2] = [(0.0, -10.0), (10.0, 0.0)];

    fn ramp(t: f64) -> f64 {
        envelope_at(&RAMP, t, 0.0)
    }

    #[test]
    fn thinning_keeps_the_shape_within_tolerance_with_few_points() {
        // A ten-minute ride sampled 60 times a second: 36,000 moves.
        let ride: Vec<(f64, f64)> = (0..36_000)
            .map(|k| {
                let t = k as f64 / 60.0;
                (t, 6.0 * (0.05 * t).sin() + 2.0 * (0.31 * t).sin())
            })
            .collect();
        let kept = thin(&ride, 0.05);
        assert!(kept.len() < ride.len() / 20, "{} points kept", kept.len());
        let err = ride
            .iter()
            .map(|&(t, v)| (envelope_at(&kept, t, 0.0) - v).abs())
            .fold(0.0, f64::max);
        assert!(err <= 0.05 + 1e-12, "thinned envelope off by {err}");
        // A straight line is two points; a step keeps its corner.
        let line: Vec<(f64, f64)> = (0..100).map(|k| (k as f64, 0.5 * k as f64)).collect();
        assert_eq!(thin(&line, 0.01).len(), 2);
        let step = [(0.0, 0.0), (1.0, 0.0), (1.001, 6.0), (2.0, 6.0)];
        assert_eq!(thin(&step, 0.05).len(), 4);
    }

    #[test]
    fn write_overwrites_from_play_to_stop() {
        let mut pass = PassRecorder::new(AutomationMode::Write, &RAMP, 0.0, 0.5);
        pass.start(2.0, ramp(2.0));
        assert!(pass.writing());
        pass.moved(3.0, -3.0);
        pass.moved(4.0, -12.0);
        pass.stop(6.0);
        let env = pass.finish(0.01).unwrap();
        assert!(strictly_increasing(&env));
        let want = |t: f64| match t {
            t if t < 2.0 => ramp(t),
            t if t <= 3.0 => ramp(2.0) + (-3.0 - ramp(2.0)) * (t - 2.0),
            t if t <= 4.0 => -3.0 - 9.0 * (t - 3.0),
            t if t <= 6.0 => -12.0,
            t if t >= 6.0 + STEP => ramp(t),
            _ => f64::NAN,
        };
        assert!(worst(&env, want, 0.0, 6.0) < 1e-9);
        assert!(worst(&env, want, 6.0 + STEP, 12.0) < 1e-9);
    }

    #[test]
    fn touch_writes_while_held_then_glides_back() {
        let mut pass = PassRecorder::new(AutomationMode::Touch, &RAMP, 0.0, 0.5);
        pass.start(0.0, ramp(0.0));
        assert!(!pass.writing(), "touch waits for a touch");
        pass.touch(2.0, ramp(2.0));
        pass.moved(2.5, -2.0);
        pass.release(3.0);
        assert!(!pass.writing());
        pass.stop(8.0);
        let env = pass.finish(0.01).unwrap();
        assert!(strictly_increasing(&env));
        // Held at −2 dB to the release, then the −2 − ramp(3) difference fades over 0.5 s.
        let want = |t: f64| match t {
            t if t < 2.0 => ramp(t),
            t if t <= 2.5 => ramp(2.0) + (-2.0 - ramp(2.0)) * (t - 2.0) / 0.5,
            t if t <= 3.0 => -2.0,
            t if t <= 3.5 => ramp(t) + (-2.0 - ramp(3.0)) * (1.0 - (t - 3.0) / 0.5),
            t => ramp(t),
        };
        assert!(worst(&env, want, 0.0, 10.0) < 1e-9);
        assert!(
            (envelope_at(&env, 3.25, 0.0) - (ramp(3.25) + 0.5 * (-2.0 - ramp(3.0)))).abs() < 1e-9
        );
    }

    #[test]
    fn latch_writes_from_the_first_touch_until_stop() {
        let mut pass = PassRecorder::new(AutomationMode::Latch, &RAMP, 0.0, 0.5);
        pass.start(0.0, ramp(0.0));
        pass.touch(2.0, ramp(2.0));
        pass.moved(2.5, -1.0);
        pass.release(3.0);
        assert!(pass.writing(), "a latch keeps writing after the release");
        pass.stop(6.0);
        let env = pass.finish(0.01).unwrap();
        let want = |t: f64| match t {
            t if t < 2.0 => ramp(t),
            t if t <= 2.5 => ramp(2.0) + (-1.0 - ramp(2.0)) * (t - 2.0) / 0.5,
            t if t <= 6.0 => -1.0,
            t if t >= 6.0 + STEP => ramp(t),
            _ => f64::NAN,
        };
        assert!(worst(&env, want, 0.0, 6.0) < 1e-9);
        assert!(worst(&env, want, 6.0 + STEP, 10.0) < 1e-9);
    }

    #[test]
    fn trim_adds_its_offset_to_the_envelope_underneath() {
        // A fader at 0 pushed to +3 over a second, held, released: the ramp underneath keeps
        // moving and the written envelope follows it 3 dB up, then glides back.
        let mut pass = PassRecorder::new(AutomationMode::Trim, &RAMP, 0.0, 1.0);
        pass.start(0.0, 0.0);
        pass.touch(2.0, 0.0);
        pass.moved(3.0, 3.0);
        pass.release(4.0);
        pass.stop(9.0);
        let env = pass.finish(0.01).unwrap();
        let want = |t: f64| match t {
            t if t < 2.0 => ramp(t),
            t if t <= 3.0 => ramp(t) + 3.0 * (t - 2.0),
            t if t <= 4.0 => ramp(t) + 3.0,
            t if t <= 5.0 => ramp(t) + 3.0 * (1.0 - (t - 4.0)),
            t => ramp(t),
        };
        assert!(worst(&env, want, 0.0, 10.0) < 1e-9);
    }

    #[test]
    fn read_and_off_write_nothing_and_a_retouch_cuts_the_glide() {
        for mode in [AutomationMode::Read, AutomationMode::Off] {
            let mut pass = PassRecorder::new(mode, &RAMP, 0.0, 0.5);
            pass.start(0.0, -10.0);
            pass.touch(1.0, -10.0);
            pass.moved(2.0, 0.0);
            pass.stop(3.0);
            assert_eq!(pass.finish(0.01), None, "{mode}");
            assert!(!mode.writes());
        }
        // Without an envelope the static value is the base; two touches, the second inside
        // the first one's glide.
        let mut pass = PassRecorder::new(AutomationMode::Touch, &[], -6.0, 1.0);
        pass.touch(1.0, -6.0);
        pass.moved(1.5, 0.0);
        pass.release(2.0);
        pass.touch(2.4, -2.4);
        pass.moved(2.6, -12.0);
        pass.release(3.0);
        let env = pass.finish(0.01).unwrap();
        assert!(strictly_increasing(&env));
        assert!((envelope_at(&env, 0.5, 0.0) + 6.0).abs() < 1e-9);
        assert!((envelope_at(&env, 2.0, 0.0) - 0.0).abs() < 1e-9);
        assert!((envelope_at(&env, 2.6, 0.0) + 12.0).abs() < 1e-9);
        // The second touch takes over from the glide where it was: no dip to the base.
        assert!((envelope_at(&env, 2.4, 0.0) + 2.4).abs() < 1e-9);
        for k in 0..=20 {
            let t = 2.39 + 0.001 * k as f64;
            let v = envelope_at(&env, t, 0.0);
            assert!((-2.9..=-2.3).contains(&v), "{t}: {v}");
        }
        assert!((envelope_at(&env, 5.0, 0.0) + 6.0).abs() < 1e-9);
        assert_eq!(AutomationMode::parse("latch"), Some(AutomationMode::Latch));
        // What a control writes now: a latch let go still writes its last value; a trim
        // writes its offset over the envelope.
        let mut latch = PassRecorder::new(AutomationMode::Latch, &RAMP, 0.0, 0.5);
        assert_eq!(latch.current(), None);
        latch.touch(2.0, ramp(2.0));
        latch.moved(2.5, -3.0);
        latch.release(3.0);
        assert_eq!(latch.current(), Some(-3.0));
        let mut trim = PassRecorder::new(AutomationMode::Trim, &RAMP, 0.0, 0.5);
        trim.touch(2.0, 0.0);
        trim.moved(5.0, 2.0);
        assert!((trim.current().unwrap() - (ramp(5.0) + 2.0)).abs() < 1e-12);
        assert_eq!(AutomationMode::parse("punch"), None);
    }
}
