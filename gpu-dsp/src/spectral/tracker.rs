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
    /// The per-bin state, one array per slot (so the bin loop vectorises).
    state: BinStates,
    raw: Vec<f32>,
    frame: u64,
    bin_hz: f32,
    subwindow: u64,
    /// Leading frames that overlap the time before the signal (they would teach the minimum
    /// search a false low).
    warmup: u64,
    /// AVX2 is available (the bin loop runs eight bins per instruction).
    wide: bool,
}

/// The [`STATE_SLOTS`] per-bin values as separate arrays (the GPU keeps them interleaved).
struct BinStates {
    smoothed: Vec<f32>,
    /// The current sub-window's minimum, then the three previous sub-windows' minima.
    minima: [Vec<f32>; 4],
    noise: Vec<f32>,
    presence: Vec<f32>,
    clean: Vec<f32>,
    /// 1 once tracking has started in the bin.
    started: Vec<f32>,
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
        #[cfg(target_arch = "x86_64")]
        let wide = std::is_x86_feature_detected!("avx2");
        #[cfg(not(target_arch = "x86_64"))]
        let wide = false;
        let zeros = || vec![0.0f32; bins];
        let mut tracker = Self {
            floor: gain_floor(reduction_db),
            profile,
            state: BinStates {
                smoothed: zeros(),
                minima: std::array::from_fn(|_| zeros()),
                noise: zeros(),
                presence: zeros(),
                clean: zeros(),
                started: zeros(),
            },
            raw: zeros(),
            frame: 0,
            bin_hz: rate / (2 * (bins - 1)) as f32,
            subwindow: subwindow_frames(hop, rate),
            warmup: warmup_frames(bins, hop),
            wide,
        };
        tracker.reset();
        tracker
    }

    /// Forgets the past (the profile, if any, stays).
    pub fn reset(&mut self) {
        let [smoothed, m0, m1, m2, m3, noise, presence, clean, started] = initial_state();
        let s = &mut self.state;
        s.smoothed.fill(smoothed);
        for (m, v) in s.minima.iter_mut().zip([m0, m1, m2, m3]) {
            m.fill(v);
        }
        s.noise.fill(noise);
        s.presence.fill(presence);
        s.clean.fill(clean);
        s.started.fill(started);
        self.frame = 0;
    }

    /// Changes the largest attenuation (from the next frame).
    pub fn set_reduction_db(&mut self, reduction_db: f32) {
        self.floor = gain_floor(reduction_db);
    }

    /// The gain floor (linear).
    pub fn floor(&self) -> f32 {
        self.floor
    }

    /// The current noise estimate, power per bin.
    pub fn noise(&self) -> impl Iterator<Item = f32> + '_ {
        self.state.noise.iter().copied()
    }

    /// Computes this frame's gains from its power spectrum. Never allocates.
    pub fn frame(&mut self, power: &[f32], gains: &mut [f32]) {
        let frame = Frame {
            counts: self.frame >= self.warmup,
            rotate: (self.frame + 1).is_multiple_of(self.subwindow),
            floor: self.floor,
        };
        let (state, raw, profile) = (&mut self.state, &mut self.raw, self.profile.as_deref());
        #[cfg(target_arch = "x86_64")]
        if self.wide {
            // SAFETY: AVX2 was detected at construction.
            unsafe { bins_avx2(state, power, raw, frame, profile) };
        } else {
            bins(state, power, raw, frame, profile);
        }
        #[cfg(not(target_arch = "x86_64"))]
        bins(state, power, raw, frame, profile);
        if frame.rotate && profile.is_none() {
            // The current minimum becomes the newest previous one; a fresh search begins.
            state.minima.rotate_right(1);
            state.minima[0].fill(f32::MAX);
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

/// [`bins`] compiled for AVX2 (eight bins per instruction).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn bins_avx2(
    s: &mut BinStates,
    power: &[f32],
    raw: &mut [f32],
    frame: Frame,
    profile: Option<&[f32]>,
) {
    bins(s, power, raw, frame, profile);
}

/// Every bin, one frame: updates the state and writes the unsmoothed gains (the minimum
/// search's sub-window rotation is the caller's). Branch-free per bin, so it vectorises.
#[inline(always)]
fn bins(s: &mut BinStates, power: &[f32], raw: &mut [f32], frame: Frame, profile: Option<&[f32]>) {
    let n = raw.len();
    let power = &power[..n];
    let noise = &mut s.noise[..n];
    let clean = &mut s.clean[..n];
    match profile {
        Some(profile) => {
            let profile = &profile[..n];
            for i in 0..n {
                noise[i] = profile[i];
                raw[i] = wiener(power[i], profile[i], &mut clean[i], frame.floor);
            }
        }
        None => {
            let smoothed = &mut s.smoothed[..n];
            let presence = &mut s.presence[..n];
            let started = &mut s.started[..n];
            let [m0, m1, m2, m3] = &mut s.minima;
            let (m0, m1, m2, m3) = (&mut m0[..n], &m1[..n], &m2[..n], &m3[..n]);
            for i in 0..n {
                let p = power[i];
                // Only frames inside the signal that are not digital silence teach it; the
                // first such frame starts the bin from itself.
                let learn = frame.counts && p >= SILENT_POWER;
                let first = learn && started[i] == 0.0;
                let s0 = if first { p } else { smoothed[i] };
                let n0 = if first { p } else { noise[i] };
                let sm = SMOOTH * s0 + (1.0 - SMOOTH) * p;
                let now = m0[i].min(sm);
                let minimum = now.min(m1[i]).min(m2[i]).min(m3[i]);
                let present = if sm > PRESENCE_RATIO * minimum {
                    1.0
                } else {
                    0.0
                };
                let pres = PRESENCE_SMOOTH * presence[i] + (1.0 - PRESENCE_SMOOTH) * present;
                let rate = NOISE_SMOOTH + (1.0 - NOISE_SMOOTH) * pres;
                let nz = rate * n0 + (1.0 - rate) * p;
                smoothed[i] = if learn { sm } else { smoothed[i] };
                m0[i] = if learn { now } else { m0[i] };
                presence[i] = if learn { pres } else { presence[i] };
                noise[i] = if learn { nz } else { noise[i] };
                started[i] = if learn { 1.0 } else { started[i] };
                raw[i] = wiener(p, noise[i], &mut clean[i], frame.floor);
            }
        }
    }
}

/// Decision-directed Wiener gain of a bin with power `p` over `noise`; `clean` carries the
/// previous frame's clean power estimate.
#[inline(always)]
fn wiener(p: f32, noise: f32, clean: &mut f32, floor: f32) -> f32 {
    let n = noise.max(1e-20);
    let post = p / n;
    let prior = DD_ALPHA * *clean / n + (1.0 - DD_ALPHA) * (post - 1.0).max(0.0);
    let g = (prior / (1.0 + prior)).max(floor);
    *clean = g * g * p;
    g
}

/// `out[k] = max(¼·g[k−1] + ½·g[k] + ¼·g[k+1], floor)`, edges repeated.
pub(crate) fn smooth_across_frequency(raw: &[f32], out: &mut [f32], floor: f32) {
    let bins = raw.len();
    let at = |k: usize| {
        let left = raw[k.saturating_sub(1)];
        let right = raw[(k + 1).min(bins - 1)];
        (0.25 * left + 0.5 * raw[k] + 0.25 * right).max(floor)
    };
    if bins < 3 {
        for (k, o) in out.iter_mut().enumerate().take(bins) {
            *o = at(k);
        }
        return;
    }
    out[0] = at(0);
    out[bins - 1] = at(bins - 1);
    for (o, w) in out[1..bins - 1].iter_mut().zip(raw.windows(3)) {
        *o = (0.25 * w[0] + 0.5 * w[1] + 0.25 * w[2]).max(floor);
    }
}
