//! True-peak limiter: lookahead gain computed from a 4× oversampled peak estimate, so
//! inter-sample peaks are caught as well as sample peaks.
//!
//! For every input sample the needed gain is `ceiling / peak` (at most 1), where `peak` is
//! the largest of two neighbouring samples and the three interpolated values between them
//! (which lie `TAPS/2` samples back in the interpolator's window). A sliding minimum over
//! `lookahead + 1` needs, then a moving average over `lookahead`, gives a smooth gain that is
//! fully down when that stretch leaves the delay line (`lookahead + TAPS/2` samples); the
//! release is exponential.

use crate::analysis::truepeak::TAPS;
use crate::analysis::truepeak_interpolator;

/// Lookahead in milliseconds.
const LOOKAHEAD_MS: f32 = 2.0;

/// Samples whose needed gains are computed in one vectorised pass.
const RUN: usize = 256;

/// Streaming true-peak limiter over all channels (linked).
pub struct TruePeakLimiter {
    ceiling: f32,
    release: f32,
    /// The settings as given (the coefficients above do not give them back exactly).
    settings: (f32, f32),
    lookahead: usize,
    interp: Vec<[f32; TAPS]>,
    /// Per channel: the last `TAPS − 1` inputs (for interpolation), then the run being
    /// limited (non-finite samples read as 0).
    window: Vec<Vec<f32>>,
    /// The run's needed gains, and one interpolation branch's output.
    needs: Vec<f32>,
    branch: Vec<f32>,
    /// Per channel: delay line of `lookahead + TAPS/2` samples.
    delay: Vec<Vec<f32>>,
    delay_len: usize,
    pos: usize,
    /// Sliding minimum of needed gains: ring of (index, gain) as a monotonic deque.
    deque: Vec<(u64, f32)>,
    head: usize,
    len: usize,
    /// Moving average of the min-held gain (`avg_slot` is the oldest entry).
    avg_ring: Vec<f32>,
    avg_slot: usize,
    avg_sum: f64,
    held: f32,
    n: u64,
    rate: f32,
    /// The gain applied to the latest sample (for meters).
    gain: f32,
}

impl TruePeakLimiter {
    /// A limiter with `ceiling_db` (dBTP) for `channels` at `rate`, releasing over
    /// `release_ms`.
    pub fn new(ceiling_db: f32, release_ms: f32, channels: usize, rate: f32) -> Self {
        let lookahead = ((LOOKAHEAD_MS * 0.001 * rate) as usize).max(1);
        Self {
            settings: (ceiling_db, release_ms),
            ceiling: 10f32.powf(ceiling_db / 20.0),
            release: (-1.0 / (release_ms.max(1.0) * 0.001 * rate)).exp(),
            lookahead,
            interp: truepeak_interpolator(4),
            window: vec![vec![0.0; TAPS - 1 + RUN]; channels],
            needs: vec![1.0; RUN],
            branch: vec![0.0; RUN],
            delay: vec![vec![0.0; lookahead + TAPS / 2]; channels],
            delay_len: lookahead + TAPS / 2,
            pos: 0,
            deque: vec![(0, 1.0); lookahead + 3],
            head: 0,
            len: 0,
            avg_ring: vec![1.0; lookahead],
            avg_slot: 0,
            avg_sum: lookahead as f64,
            held: 1.0,
            n: 0,
            rate,
            gain: 1.0,
        }
    }

    /// Changes the ceiling (dBTP) and release time, from the next sample.
    pub fn set_params(&mut self, ceiling_db: f32, release_ms: f32) {
        self.settings = (ceiling_db, release_ms);
        self.ceiling = 10f32.powf(ceiling_db / 20.0);
        self.release = (-1.0 / (release_ms.max(1.0) * 0.001 * self.rate)).exp();
    }

    /// The ceiling (dBTP) and release time (ms).
    pub fn params(&self) -> (f32, f32) {
        self.settings
    }

    /// The gain reduction applied to the latest sample (dB, ≤ 0), for meters.
    pub fn reduction_db(&self) -> f32 {
        20.0 * self.gain.max(1e-10).log10()
    }

    /// Delay in samples.
    pub fn latency(&self) -> usize {
        self.delay_len
    }

    /// Limits planar channels in place (output delayed by `latency()`).
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let frames = channels.first().map_or(0, |c| c.len());
        let mut from = 0;
        while from < frames {
            let m = RUN.min(frames - from);
            self.needed_gains(channels, from, m);
            for j in 0..m {
                let gain = self.gain_for(self.needs[j]);
                // Delay and apply.
                for (c, d) in channels.iter_mut().zip(self.delay.iter_mut()) {
                    let delayed = d[self.pos];
                    d[self.pos] = c[from + j];
                    c[from + j] = delayed * gain;
                }
                self.pos += 1;
                if self.pos == self.delay_len {
                    self.pos = 0;
                }
            }
            from += m;
        }
    }

    /// The needed gain of each of the `m` samples from `from`: `ceiling / peak` (at most 1)
    /// with `peak` the largest true-peak estimate over the channels — the sample, the one
    /// before, and the interpolated values in the window ending at the sample — computed
    /// for the whole run at once.
    fn needed_gains(&mut self, channels: &[&mut [f32]], from: usize, m: usize) {
        let needs = &mut self.needs[..m];
        needs.fill(0.0);
        for (c, window) in channels.iter().zip(self.window.iter_mut()) {
            for (w, &x) in window[TAPS - 1..TAPS - 1 + m]
                .iter_mut()
                .zip(&c[from..from + m])
            {
                *w = if x.is_finite() { x } else { 0.0 };
            }
            for (j, peak) in needs.iter_mut().enumerate() {
                let around = window[j + TAPS / 2]
                    .abs()
                    .max(window[j + TAPS / 2 - 1].abs());
                *peak = peak.max(around);
            }
            for taps in &self.interp {
                let y = &mut self.branch[..m];
                y.fill(0.0);
                for (t, &tap) in taps.iter().enumerate() {
                    for (v, &x) in y.iter_mut().zip(&window[t..t + m]) {
                        *v += tap * x;
                    }
                }
                for (peak, v) in needs.iter_mut().zip(y.iter()) {
                    *peak = peak.max(v.abs());
                }
            }
            window.copy_within(m..m + TAPS - 1, 0);
        }
        let ceiling = self.ceiling;
        for need in needs.iter_mut() {
            let peak = *need;
            *need = if peak > ceiling { ceiling / peak } else { 1.0 };
        }
    }

    /// The gain for the next sample, whose needed gain is `need`.
    fn gain_for(&mut self, need: f32) -> f32 {
        let cap = self.deque.len();
        let wrap = |i: usize| if i >= cap { i - cap } else { i };
        // Sliding minimum over the lookahead window (monotonic deque).
        while self.len > 0 && self.deque[wrap(self.head + self.len - 1)].1 >= need {
            self.len -= 1;
        }
        self.deque[wrap(self.head + self.len)] = (self.n, need);
        self.len += 1;
        // The window holds lookahead + 2 needs: one more than the ramp, so the gain for a
        // stretch between two samples is still held when the later one leaves the delay.
        while self.deque[self.head].0 + (self.lookahead as u64) + 1 < self.n {
            self.head = wrap(self.head + 1);
            self.len -= 1;
        }
        let window_min = self.deque[self.head].1;
        // Release: the held gain rises exponentially, falls at once.
        self.held = if window_min < self.held {
            window_min
        } else {
            window_min + self.release * (self.held - window_min)
        };
        // Moving average over the window: a ramp that is fully down in time.
        let slot = self.avg_slot;
        self.avg_sum += f64::from(self.held) - f64::from(self.avg_ring[slot]);
        self.avg_ring[slot] = self.held;
        self.avg_slot = if slot + 1 == self.lookahead {
            0
        } else {
            slot + 1
        };
        self.gain = (self.avg_sum / self.lookahead as f64) as f32;
        self.n += 1;
        self.gain
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::noise;

    /// The limiter one sample at a time, as the module doc defines it (the form the runs
    /// replaced): the true-peak estimate of each new sample's window, the sliding minimum,
    /// release and moving average.
    fn per_sample(ceiling_db: f32, x: &[Vec<f32>], rate: f32) -> Vec<Vec<f32>> {
        let mut l = TruePeakLimiter::new(ceiling_db, 50.0, x.len(), rate);
        let mut history = vec![[0.0f32; TAPS]; x.len()];
        let mut out = x.to_vec();
        for i in 0..x[0].len() {
            let mut peak = 0.0f32;
            for (c, h) in x.iter().zip(history.iter_mut()) {
                h.copy_within(1.., 0);
                h[TAPS - 1] = if c[i].is_finite() { c[i] } else { 0.0 };
                peak = peak.max(h[TAPS / 2].abs()).max(h[TAPS / 2 - 1].abs());
                for taps in &l.interp {
                    let y: f32 = taps.iter().zip(h.iter()).map(|(t, x)| t * x).sum();
                    peak = peak.max(y.abs());
                }
            }
            let need = if peak > l.ceiling {
                l.ceiling / peak
            } else {
                1.0
            };
            let gain = l.gain_for(need);
            for (o, d) in out.iter_mut().zip(l.delay.iter_mut()) {
                let delayed = d[l.pos];
                d[l.pos] = o[i];
                o[i] = delayed * gain;
            }
            l.pos = (l.pos + 1) % l.delay_len;
        }
        out
    }

    #[test]
    fn runs_limit_exactly_as_sample_by_sample() {
        // Stereo noise with loud bursts, a NaN, processed in ragged blocks: every output
        // sample equals the per-sample definition bit for bit.
        let n = 5000;
        let mut x: Vec<Vec<f32>> = (0..2)
            .map(|c| {
                noise(40 + c, n)
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v * if (i / 700) % 2 == 0 { 1.8 } else { 0.2 })
                    .collect()
            })
            .collect();
        x[1][1234] = f32::NAN;
        let want = per_sample(-1.0, &x, 48_000.0);
        let mut got = x.clone();
        let mut l = TruePeakLimiter::new(-1.0, 50.0, 2, 48_000.0);
        let mut at = 0;
        for len in [1, 255, 256, 257, 1000, 3231] {
            let (a, b) = got.split_at_mut(1);
            l.process(&mut [&mut a[0][at..at + len], &mut b[0][at..at + len]]);
            at += len;
        }
        assert_eq!(at, n);
        for (g, w) in got.iter().zip(&want) {
            for (i, (a, b)) in g.iter().zip(w).enumerate() {
                assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                    "{i}: {a} vs {b}"
                );
            }
        }
        assert!(
            got[0].iter().any(|v| v.abs() > 0.5),
            "the material must reach the limiter"
        );
    }
}
