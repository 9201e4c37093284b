//! Broadband noise suppression on the STFT (issue #4 groundwork, CPU reference): a noise
//! tracker in the MCRA family (minimum-controlled recursive averaging: the noise estimate
//! follows the spectrum only where speech is unlikely), decision-directed Wiener gains with a
//! floor, and smoothing across frequency against musical noise.

use super::stft::{Stft, StftConfig};
use realfft::num_complex::Complex32;

/// Denoiser settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DenoiseConfig {
    pub stft: StftConfig,
    /// Largest attenuation in dB (the gain floor), so speech is never gated to silence.
    pub reduction_db: f32,
}

/// Streaming noise suppressor for one channel. All memory is allocated in `new`.
pub struct Denoiser {
    stft: Stft,
    state: GainState,
}

/// Per-bin tracking state, separate from the STFT so the frame callback can borrow it.
struct GainState {
    floor: f32,
    /// Recursively smoothed power, its running minimum and the minimum's window.
    smoothed: Vec<f32>,
    minimum: Vec<f32>,
    window_min: Vec<f32>,
    noise: Vec<f32>,
    presence: Vec<f32>,
    prev_clean: Vec<f32>,
    gains: Vec<f32>,
    frame: u64,
    /// Frames per minimum-search window.
    min_window: u64,
}

const SMOOTH: f32 = 0.8;
const NOISE_SMOOTH: f32 = 0.95;
const PRESENCE_SMOOTH: f32 = 0.2;
const PRESENCE_RATIO: f32 = 5.0;
const DD_ALPHA: f32 = 0.98;

impl Denoiser {
    /// A denoiser at `rate` Hz.
    pub fn new(config: DenoiseConfig, rate: f32) -> Self {
        let bins = config.stft.bins();
        // Minimum search over about 1.5 s of frames.
        let min_window = ((1.5 * rate) / config.stft.hop as f32).ceil().max(4.0) as u64;
        Self {
            stft: Stft::new(config.stft),
            state: GainState {
                floor: 10f32.powf(-config.reduction_db.abs() / 20.0),
                smoothed: vec![0.0; bins],
                minimum: vec![f32::MAX; bins],
                window_min: vec![f32::MAX; bins],
                noise: vec![0.0; bins],
                presence: vec![0.0; bins],
                prev_clean: vec![0.0; bins],
                gains: vec![1.0; bins],
                frame: 0,
                min_window,
            },
        }
    }

    /// Delay in samples (the STFT size).
    pub fn latency(&self) -> usize {
        self.stft.latency()
    }

    /// The current gain per bin (for meters and the "what was removed" view).
    pub fn gains(&self) -> &[f32] {
        &self.state.gains
    }

    /// The current noise estimate (power per bin).
    pub fn noise(&self) -> &[f32] {
        &self.state.noise
    }

    /// Denoises `input` into `output` (same length, delayed by `latency()`). Never allocates.
    pub fn process(&mut self, input: &[f32], output: &mut [f32]) {
        let state = &mut self.state;
        self.stft
            .process(input, output, |spectrum| state.frame(spectrum));
    }
}

impl GainState {
    fn frame(&mut self, x: &mut [Complex32]) {
        let first = self.frame == 0;
        for (k, v) in x.iter().enumerate() {
            let p = v.norm_sqr();
            self.smoothed[k] = if first {
                p
            } else {
                SMOOTH * self.smoothed[k] + (1.0 - SMOOTH) * p
            };
            let s = self.smoothed[k];
            // Minimum statistics: a running minimum restarted every window, using the
            // previous window's minimum so the estimate never drops to zero on a restart.
            self.window_min[k] = self.window_min[k].min(s);
            self.minimum[k] = self.minimum[k].min(s);
            // Speech is likely where the smoothed power stands well above its minimum.
            let present = if s > PRESENCE_RATIO * self.minimum[k] {
                1.0
            } else {
                0.0
            };
            self.presence[k] =
                PRESENCE_SMOOTH * self.presence[k] + (1.0 - PRESENCE_SMOOTH) * present;
            let rate = NOISE_SMOOTH + (1.0 - NOISE_SMOOTH) * self.presence[k];
            self.noise[k] = if first {
                p
            } else {
                rate * self.noise[k] + (1.0 - rate) * p
            };
        }
        self.frame += 1;
        if self.frame.is_multiple_of(self.min_window) {
            std::mem::swap(&mut self.minimum, &mut self.window_min);
            self.window_min.iter_mut().for_each(|m| *m = f32::MAX);
        }
        // Decision-directed a-priori SNR and Wiener gains with the floor.
        for (k, v) in x.iter().enumerate() {
            let p = v.norm_sqr();
            let n = self.noise[k].max(1e-20);
            let post = p / n;
            let prior =
                DD_ALPHA * self.prev_clean[k] / n + (1.0 - DD_ALPHA) * (post - 1.0).max(0.0);
            self.gains[k] = (prior / (1.0 + prior)).max(self.floor);
        }
        // Smooth the gains across frequency (3 bins) against isolated "musical" peaks.
        let bins = self.gains.len();
        let mut left = self.gains[0];
        for k in 0..bins {
            let here = self.gains[k];
            let right = if k + 1 < bins {
                self.gains[k + 1]
            } else {
                here
            };
            self.gains[k] = (0.25 * left + 0.5 * here + 0.25 * right).max(self.floor);
            left = here;
        }
        for (k, v) in x.iter_mut().enumerate() {
            *v *= self.gains[k];
            self.prev_clean[k] = v.norm_sqr();
        }
    }
}
