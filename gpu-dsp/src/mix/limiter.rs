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

/// Streaming true-peak limiter over all channels (linked).
pub struct TruePeakLimiter {
    ceiling: f32,
    release: f32,
    lookahead: usize,
    interp: Vec<[f32; TAPS]>,
    /// Per channel: the last `TAPS` input samples (for interpolation), newest last.
    history: Vec<[f32; TAPS]>,
    /// Per channel: delay line of `lookahead + TAPS/2` samples.
    delay: Vec<Vec<f32>>,
    delay_len: usize,
    pos: usize,
    /// Sliding minimum of needed gains: ring of (index, gain) as a monotonic deque.
    deque: Vec<(u64, f32)>,
    head: usize,
    len: usize,
    /// Moving average of the min-held gain.
    avg_ring: Vec<f32>,
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
            ceiling: 10f32.powf(ceiling_db / 20.0),
            release: (-1.0 / (release_ms.max(1.0) * 0.001 * rate)).exp(),
            lookahead,
            interp: truepeak_interpolator(4),
            history: vec![[0.0; TAPS]; channels],
            delay: vec![vec![0.0; lookahead + TAPS / 2]; channels],
            delay_len: lookahead + TAPS / 2,
            pos: 0,
            deque: vec![(0, 1.0); lookahead + 3],
            head: 0,
            len: 0,
            avg_ring: vec![1.0; lookahead],
            avg_sum: lookahead as f64,
            held: 1.0,
            n: 0,
            rate,
            gain: 1.0,
        }
    }

    /// Changes the ceiling (dBTP) and release time, from the next sample.
    pub fn set_params(&mut self, ceiling_db: f32, release_ms: f32) {
        self.ceiling = 10f32.powf(ceiling_db / 20.0);
        self.release = (-1.0 / (release_ms.max(1.0) * 0.001 * self.rate)).exp();
    }

    /// The ceiling (dBTP) and release time (ms).
    pub fn params(&self) -> (f32, f32) {
        (
            20.0 * self.ceiling.log10(),
            -1.0 / (self.release.ln() * 0.001 * self.rate),
        )
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
        let cap = self.deque.len();
        for i in 0..frames {
            // 1. Needed gain from the true-peak estimate of the newest sample.
            let mut peak = 0.0f32;
            for (c, h) in channels.iter().zip(self.history.iter_mut()) {
                h.copy_within(1.., 0);
                h[TAPS - 1] = if c[i].is_finite() { c[i] } else { 0.0 };
                peak = peak.max(h[TAPS / 2].abs()).max(h[TAPS / 2 - 1].abs());
                for taps in &self.interp {
                    let y: f32 = taps.iter().zip(h.iter()).map(|(t, x)| t * x).sum();
                    peak = peak.max(y.abs());
                }
            }
            let need = if peak > self.ceiling {
                self.ceiling / peak
            } else {
                1.0
            };
            // 2. Sliding minimum over the lookahead window (monotonic deque).
            while self.len > 0 && self.deque[(self.head + self.len - 1) % cap].1 >= need {
                self.len -= 1;
            }
            self.deque[(self.head + self.len) % cap] = (self.n, need);
            self.len += 1;
            // The window holds lookahead + 2 needs: one more than the ramp, so the gain for a
            // stretch between two samples is still held when the later one leaves the delay.
            while self.deque[self.head].0 + (self.lookahead as u64) + 1 < self.n {
                self.head = (self.head + 1) % cap;
                self.len -= 1;
            }
            let window_min = self.deque[self.head].1;
            // 3. Release: the held gain rises exponentially, falls at once.
            self.held = if window_min < self.held {
                window_min
            } else {
                window_min + self.release * (self.held - window_min)
            };
            // 4. Moving average over the window: a ramp that is fully down in time.
            let slot = (self.n as usize) % self.lookahead;
            self.avg_sum += f64::from(self.held) - f64::from(self.avg_ring[slot]);
            self.avg_ring[slot] = self.held;
            let gain = (self.avg_sum / self.lookahead as f64) as f32;
            self.gain = gain;
            // 5. Delay and apply.
            for (c, d) in channels.iter_mut().zip(self.delay.iter_mut()) {
                let delayed = d[self.pos];
                d[self.pos] = c[i];
                c[i] = delayed * gain;
            }
            self.pos = (self.pos + 1) % self.delay_len;
            self.n += 1;
        }
    }
}
