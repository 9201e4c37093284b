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
pub(crate) const DD_ALPHA: f32 = 0.95;
/// Seconds per minimum-search sub-window; the minimum is taken over the current one and the
/// three before it (1.5 s in all), so it can rise again within 1.5 s of a drop in the noise.
const SUBWINDOW_SECONDS: f32 = 0.375;
/// Frame power below this is digital silence: it teaches the tracker nothing.
pub(crate) const SILENT_POWER: f32 = 1e-10;
/// Per-bin state slots (the GPU stores them interleaved in this order): smoothed power, the
/// current sub-window's minimum, the three previous sub-windows' minima, noise, speech
/// presence, previous clean power, and whether tracking has started.
pub(crate) const STATE_SLOTS: usize = 9;

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
    /// `STATE_SLOTS` values per bin.
    state: Vec<f32>,
    raw: Vec<f32>,
    frame: u64,
    bin_hz: f32,
    subwindow: u64,
    /// Leading frames that overlap the time before the signal (they would teach the minimum
    /// search a false low).
    warmup: u64,
}

impl GainTracker {
    /// A tracker for `bins` bins (an FFT of `2·(bins − 1)`) with frames every `hop` samples at
    /// `rate` Hz; `reduction_db` is the largest attenuation.
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
            bin_hz: rate / (2 * (bins - 1)) as f32,
            subwindow: subwindow_frames(hop, rate),
            warmup: warmup_frames(bins, hop),
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
        self.state.chunks_exact(STATE_SLOTS).map(|s| s[5])
    }

    /// Computes this frame's gains from its power spectrum. Never allocates.
    pub fn frame(&mut self, power: &[f32], gains: &mut [f32]) {
        let frame = Frame {
            counts: self.frame >= self.warmup,
            rotate: (self.frame + 1).is_multiple_of(self.subwindow),
            floor: self.floor,
        };
        let states = self.state.chunks_exact_mut(STATE_SLOTS);
        match &self.profile {
            None => {
                for ((s, &p), g) in states.zip(power).zip(self.raw.iter_mut()) {
                    *g = bin_gain(s, p, frame, None);
                }
            }
            Some(profile) => {
                for (((s, &p), g), &n) in states.zip(power).zip(self.raw.iter_mut()).zip(profile) {
                    *g = bin_gain(s, p, frame, Some(n));
                }
            }
        }
        self.frame += 1;
        smooth_across_frequency(&self.raw, gains, self.floor);
        for (k, g) in gains.iter_mut().enumerate() {
            *g = g.min(low_cut_ceiling(k, self.bin_hz)).max(self.floor);
        }
    }
}

/// The linear gain floor for a reduction in dB.
pub(crate) fn gain_floor(reduction_db: f32) -> f32 {
    10f32.powf(-reduction_db.abs() / 20.0)
}

/// Below this frequency speech has no energy; what is there is rumble (wind, handling,
/// traffic), removed down to the floor.
pub(crate) const LOW_CUT_HZ: f32 = 80.0;

/// The largest gain of bin `k`: `(f/80 Hz)²` below 80 Hz, a zero-phase low cut.
pub(crate) fn low_cut_ceiling(k: usize, bin_hz: f32) -> f32 {
    let r = k as f32 * bin_hz / LOW_CUT_HZ;
    (r * r).min(1.0)
}

/// Frames per minimum-search sub-window.
pub(crate) fn subwindow_frames(hop: usize, rate: f32) -> u64 {
    ((SUBWINDOW_SECONDS * rate) / hop as f32).ceil().max(2.0) as u64
}

/// Leading frames that reach back before the signal starts.
pub(crate) fn warmup_frames(bins: usize, hop: usize) -> u64 {
    (2 * (bins - 1)).div_ceil(hop).saturating_sub(1) as u64
}

/// A bin's state before the first frame.
pub(crate) fn initial_state() -> [f32; STATE_SLOTS] {
    [
        0.0,
        f32::MAX,
        f32::MAX,
        f32::MAX,
        f32::MAX,
        0.0,
        0.0,
        0.0,
        0.0,
    ]
}

/// What a frame means to every bin.
#[derive(Clone, Copy)]
struct Frame {
    /// The frame lies wholly inside the signal, so it may teach the tracker.
    counts: bool,
    /// A minimum-search sub-window ends with this frame.
    rotate: bool,
    floor: f32,
}

/// One bin, one frame: updates the state and returns the unsmoothed gain.
#[inline]
fn bin_gain(s: &mut [f32], p: f32, frame: Frame, profile: Option<f32>) -> f32 {
    let noise = match profile {
        Some(n) => {
            s[5] = n;
            n
        }
        None => {
            if frame.counts && p >= SILENT_POWER {
                if s[8] == 0.0 {
                    // The first frame of signal: start from it.
                    s[0] = p;
                    s[5] = p;
                    s[8] = 1.0;
                }
                let smoothed = SMOOTH * s[0] + (1.0 - SMOOTH) * p;
                s[0] = smoothed;
                s[1] = s[1].min(smoothed);
                let minimum = s[1].min(s[2]).min(s[3]).min(s[4]);
                let present = if smoothed > PRESENCE_RATIO * minimum {
                    1.0
                } else {
                    0.0
                };
                s[6] = PRESENCE_SMOOTH * s[6] + (1.0 - PRESENCE_SMOOTH) * present;
                let rate = NOISE_SMOOTH + (1.0 - NOISE_SMOOTH) * s[6];
                s[5] = rate * s[5] + (1.0 - rate) * p;
            }
            if frame.rotate {
                s[4] = s[3];
                s[3] = s[2];
                s[2] = s[1];
                s[1] = f32::MAX;
            }
            s[5]
        }
    };
    let n = noise.max(1e-20);
    let post = p / n;
    let prior = DD_ALPHA * s[7] / n + (1.0 - DD_ALPHA) * (post - 1.0).max(0.0);
    let g = (prior / (1.0 + prior)).max(frame.floor);
    s[7] = g * g * p;
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
