//! Broadband noise suppression for one channel: the [`GainTracker`] on an STFT, streaming
//! (for inserts and playback) or over a whole signal (for `mixstation clean`); both compute
//! the same function.

use super::offline::FrameStft;
use super::stft::{Stft, StftConfig};
use super::tracker::{GainTracker, NoiseModel};
use realfft::num_complex::Complex32;

/// Denoiser settings.
#[derive(Clone, Debug, PartialEq)]
pub struct DenoiseConfig {
    pub stft: StftConfig,
    /// Largest attenuation in dB (the gain floor), so speech is never gated to silence.
    pub reduction_db: f32,
    /// Tracked noise, or a profile learned from a noise-only region.
    pub noise: NoiseModel,
}

impl DenoiseConfig {
    /// The defaults for dialogue at `rate` Hz: about 21 ms frames (under 47 Hz per bin) with
    /// 75 % overlap, noise tracked, 18 dB reduction.
    pub fn dialogue(rate: f32) -> Self {
        let fft = if rate > 128_000.0 {
            4096
        } else if rate > 64_000.0 {
            2048
        } else {
            1024
        };
        Self {
            stft: StftConfig { fft, hop: fft / 4 },
            reduction_db: 18.0,
            noise: NoiseModel::Tracked,
        }
    }
}

/// Streaming noise suppressor for one channel. All memory is allocated in `new`.
pub struct Denoiser {
    stft: Stft,
    tracker: GainTracker,
    power: Vec<f32>,
    gains: Vec<f32>,
}

impl Denoiser {
    /// A denoiser at `rate` Hz.
    pub fn new(config: DenoiseConfig, rate: f32) -> Self {
        let bins = config.stft.bins();
        Self {
            tracker: GainTracker::new(
                bins,
                config.stft.hop,
                rate,
                config.reduction_db,
                config.noise,
            ),
            stft: Stft::new(config.stft),
            power: vec![0.0; bins],
            gains: vec![1.0; bins],
        }
    }

    /// Delay in samples (the STFT size).
    pub fn latency(&self) -> usize {
        self.stft.latency()
    }

    /// Changes the largest attenuation (from the next frame).
    pub fn set_reduction_db(&mut self, reduction_db: f32) {
        self.tracker.set_reduction_db(reduction_db);
    }

    /// The latest frame's gain per bin (for meters and the "what was removed" view).
    pub fn gains(&self) -> &[f32] {
        &self.gains
    }

    /// The current noise estimate (power per bin).
    pub fn noise(&self) -> Vec<f32> {
        self.tracker.noise().collect()
    }

    /// Forgets all past input.
    pub fn reset(&mut self) {
        self.stft.reset();
        self.tracker.reset();
    }

    /// Denoises `input` into `output` (same length, delayed by `latency()`). Never allocates.
    pub fn process(&mut self, input: &[f32], output: &mut [f32]) {
        let Self {
            stft,
            tracker,
            power,
            gains,
        } = self;
        stft.process(input, output, |spectrum| {
            apply_frame(tracker, spectrum, power, gains)
        });
    }
}

/// Power, gains, and the gains applied: one frame of the suppressor.
fn apply_frame(
    tracker: &mut GainTracker,
    spectrum: &mut [Complex32],
    power: &mut [f32],
    gains: &mut [f32],
) {
    for (p, v) in power.iter_mut().zip(spectrum.iter()) {
        *p = v.norm_sqr();
    }
    tracker.frame(power, gains);
    for (v, g) in spectrum.iter_mut().zip(gains.iter()) {
        *v *= *g;
    }
}

/// Denoises a whole channel, aligned with the input (no latency), on the CPU.
pub fn denoise_offline(x: &[f32], config: &DenoiseConfig, rate: f32) -> Vec<f32> {
    let bins = config.stft.bins();
    let mut stft = FrameStft::new(config.stft);
    let mut tracker = GainTracker::new(
        bins,
        config.stft.hop,
        rate,
        config.reduction_db,
        config.noise.clone(),
    );
    let mut spectrum = vec![Complex32::default(); bins];
    let (mut power, mut gains) = (vec![0.0; bins], vec![0.0; bins]);
    let mut y = vec![0.0; x.len()];
    for f in 0..stft.frames(x.len()) {
        stft.analyze(x, f, &mut spectrum);
        apply_frame(&mut tracker, &mut spectrum, &mut power, &mut gains);
        stft.synthesize(&mut spectrum, f, &mut y);
    }
    y
}
