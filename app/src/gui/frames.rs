//! `open --measure-frames N`: once the session and its waveforms are in, the timeline pans
//! and zooms by a step on every frame the window draws, for N frames; the time between
//! frames (the whole window redrawn, the timeline's lanes and waveforms drawn afresh each
//! time, as they are while a user pans) is reported and the window exits.

use super::timeline::View;
use std::time::{Duration, Instant};

/// Frames measured, and when each was drawn.
#[derive(Clone, Debug)]
pub struct FrameProbe {
    pub wanted: usize,
    pub times: Vec<Instant>,
}

impl FrameProbe {
    pub fn new(wanted: usize) -> Self {
        Self {
            wanted,
            times: Vec::with_capacity(wanted + 1),
        }
    }

    /// Whether every frame has been measured.
    pub fn done(&self) -> bool {
        self.times.len() > self.wanted
    }

    /// The view for frame `k`: zoom in 1.25× a frame for 12 frames around the middle of
    /// the session, then out for 12, scrolling 4 % of the span each frame.
    pub fn view_at(k: usize, view: View, length: f64, rate: u32) -> View {
        let factor = if (k / 12).is_multiple_of(2) {
            1.25
        } else {
            0.8
        };
        let zoomed = view.zoomed(factor, length / 2.0, length, rate);
        let span = zoomed.span.unwrap_or(length * 1.05);
        let step = if (k / 24).is_multiple_of(2) {
            0.04
        } else {
            -0.04
        };
        zoomed.scrolled(step * span, length)
    }

    /// "N frames, median … ms, 95th percentile … ms (… frames per second)".
    pub fn report(&self) -> String {
        let mut gaps: Vec<Duration> = self.times.windows(2).map(|w| w[1] - w[0]).collect();
        if gaps.is_empty() {
            return "no frames were drawn".into();
        }
        gaps.sort();
        let at = |q: f64| gaps[((gaps.len() - 1) as f64 * q).round() as usize];
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        format!(
            "{} frames, median {:.1} ms, 95th percentile {:.1} ms ({:.0} frames per second at the median)",
            gaps.len(),
            ms(at(0.5)),
            ms(at(0.95)),
            1.0 / at(0.5).as_secs_f64().max(1e-9)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_alternate_zoom_and_scroll_and_report_their_spacing() {
        let length = 300.0;
        let mut view = View::default();
        let mut spans = Vec::new();
        for k in 0..48 {
            view = FrameProbe::view_at(k, view, length, 48_000);
            spans.push(view.span.unwrap_or(length * 1.05));
        }
        assert!(spans[11] < spans[0] / 10.0, "zoomed in: {spans:?}");
        assert!(spans[23] > spans[11] * 10.0, "and out again");
        let mut probe = FrameProbe::new(3);
        let t0 = Instant::now();
        for ms in [0, 20, 40, 70] {
            probe.times.push(t0 + Duration::from_millis(ms));
        }
        assert!(probe.done());
        let r = probe.report();
        assert!(
            r.starts_with("3 frames, median 20.0 ms, 95th percentile 30.0 ms (50 frames"),
            "{r}"
        );
    }
}
