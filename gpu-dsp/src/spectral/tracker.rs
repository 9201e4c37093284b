//! The per-bin work of the noise suppressor, on power spectra: a noise tracker in the MCRA
//! family (minimum-controlled recursive averaging: the estimate follows the spectrum only where
//! speech is unlikely) or a fixed learned profile, decision-directed Wiener gains with a floor,
//! and smoothing across frequency against musical noise.
//!
//! Every bin is independent until the final smoothing, which is what lets
//! `shaders/denoise.wgsl` run one GPU thread per channel and bin; the constants here are
//! mirrored there and the two are tested against each other.

/// Recursive smoothing of the power before the minimum search.
pub(crate) const SMOOTH: f32 = 0.8;
/// Noise update rate where speech is absent (closer to 1 = slower).
pub(crate) const NOISE_SMOOTH: f32 = 0.95;
/// Smoothing of the speech-presence probability.
pub(crate) const PRESENCE_SMOOTH: f32 = 0.2;
/// Smoothed power above this multiple of the minimum counts as speech.
pub(crate) const PRESENCE_RATIO: f32 = 5.0;
/// Decision-directed weight of the previous frame's clean estimate.
pub(crate) const DD_ALPHA: f32 = 0.98;
/// Seconds per minimum-search window.
const MIN_WINDOW_SECONDS: f32 = 1.5;
/// Per-bin state slots (the GPU stores them interleaved in this order).
pub(crate) const STATE_SLOTS: usize = 6;

/// Where the noise estimate comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum NoiseModel {
    /// Tracked continuously (adapts to changing noise).
    Tracked,
    /// A fixed profile: mean power per bin, learned from a noise-only region.
    Profile(Vec<f32>),
}

/// Gain computation for one channel. All memory is allocated in `new`.
pub struct GainTracker {
    floor: f32,
    profile: Option<Vec<f32>>,
    /// `STATE_SLOTS` values per bin: smoothed power, minimum, the running window minimum,
    /// noise, speech presence, previous clean power.
    state: Vec<f32>,
    raw: Vec<f32>,
    frame: u64,
    min_window: u64,
}

impl GainTracker {
    /// A tracker for `bins` bins with frames every `hop` samples at `rate` Hz; `reduction_db`
    /// is the largest attenuation.
    pub fn new(bins: usize, hop: usize, rate: f32, reduction_db: f32, model: NoiseModel) -> Self {
        let profile = match model {
            NoiseModel::Tracked => None,
            NoiseModel::Profile(p) => {
                assert_eq!(p.len(), bins, "noise profile has the wrong number of bins");
                Some(p)
            }
        };
        let mut tracker = Self {
            floor: gain_floor(reduction_db),
            profile,
            state: vec![0.0; bins * STATE_SLOTS],
            raw: vec![0.0; bins],
            frame: 0,
            min_window: min_window_frames(hop, rate),
        };
        tracker.reset();
        tracker
    }

    /// Forgets the past (the profile, if any, stays).
    pub fn reset(&mut self) {
        for s in self.state.chunks_exact_mut(STATE_SLOTS) {
            s.copy_from_slice(&initial_state());
        }
        self.frame = 0;
    }

    /// The gain floor (linear).
    pub fn floor(&self) -> f32 {
        self.floor
    }

    /// The current noise estimate, power per bin.
    pub fn noise(&self) -> impl Iterator<Item = f32> + '_ {
        self.state.chunks_exact(STATE_SLOTS).map(|s| s[3])
    }

    /// Computes this frame's gains from its power spectrum. Never allocates.
    pub fn frame(&mut self, power: &[f32], gains: &mut [f32]) {
        let first = self.frame == 0;
        let swap = (self.frame + 1).is_multiple_of(self.min_window);
        for (k, &p) in power.iter().enumerate() {
            let s = &mut self.state[k * STATE_SLOTS..(k + 1) * STATE_SLOTS];
            let profile = self.profile.as_ref().map(|v| v[k]);
            self.raw[k] = bin_gain(s, p, first, swap, profile, self.floor);
        }
        self.frame += 1;
        smooth_across_frequency(&self.raw, gains, self.floor);
    }
}

/// The linear gain floor for a reduction in dB.
pub(crate) fn gain_floor(reduction_db: f32) -> f32 {
    10f32.powf(-reduction_db.abs() / 20.0)
}

/// Frames per minimum-search window.
pub(crate) fn min_window_frames(hop: usize, rate: f32) -> u64 {
    ((MIN_WINDOW_SECONDS * rate) / hop as f32).ceil().max(4.0) as u64
}

/// A bin's state before the first frame.
pub(crate) fn initial_state() -> [f32; STATE_SLOTS] {
    [0.0, f32::MAX, f32::MAX, 0.0, 0.0, 0.0]
}

/// One bin, one frame: updates the state and returns the unsmoothed gain.
#[inline]
fn bin_gain(
    s: &mut [f32],
    p: f32,
    first: bool,
    swap: bool,
    profile: Option<f32>,
    floor: f32,
) -> f32 {
    let noise = match profile {
        Some(n) => {
            s[3] = n;
            n
        }
        None => {
            let smoothed = if first {
                p
            } else {
                SMOOTH * s[0] + (1.0 - SMOOTH) * p
            };
            s[0] = smoothed;
            s[2] = s[2].min(smoothed);
            s[1] = s[1].min(smoothed);
            let present = if smoothed > PRESENCE_RATIO * s[1] {
                1.0
            } else {
                0.0
            };
            s[4] = PRESENCE_SMOOTH * s[4] + (1.0 - PRESENCE_SMOOTH) * present;
            let rate = NOISE_SMOOTH + (1.0 - NOISE_SMOOTH) * s[4];
            s[3] = if first {
                p
            } else {
                rate * s[3] + (1.0 - rate) * p
            };
            if swap {
                s[1] = s[2];
                s[2] = f32::MAX;
            }
            s[3]
        }
    };
    let n = noise.max(1e-20);
    let post = p / n;
    let prior = DD_ALPHA * s[5] / n + (1.0 - DD_ALPHA) * (post - 1.0).max(0.0);
    let g = (prior / (1.0 + prior)).max(floor);
    s[5] = g * g * p;
    g
}

/// `out[k] = max(¼·g[k−1] + ½·g[k] + ¼·g[k+1], floor)`, edges repeated.
pub(crate) fn smooth_across_frequency(raw: &[f32], out: &mut [f32], floor: f32) {
    let bins = raw.len();
    for k in 0..bins {
        let left = raw[k.saturating_sub(1)];
        let right = raw[(k + 1).min(bins - 1)];
        out[k] = (0.25 * left + 0.5 * raw[k] + 0.25 * right).max(floor);
    }
}
