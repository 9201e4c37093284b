//! Whole-signal STFT processing, frame by frame, computing exactly what the streaming
//! [`Stft`](super::Stft) computes but with the latency removed: frame `f` covers input samples
//! `[(f+1)·hop − fft, (f+1)·hop)` (zeros outside the signal) and is overlap-added back at the
//! same place. Frames can be analysed in batches, handed to a GPU, and synthesised later.

use super::stft::{StftConfig, Transform};
use realfft::num_complex::Complex32;

/// Frame-addressed analysis and synthesis for one FFT size and hop.
pub struct FrameStft {
    config: StftConfig,
    transform: Transform,
}

impl FrameStft {
    pub fn new(config: StftConfig) -> Self {
        Self {
            config,
            transform: Transform::new(config),
        }
    }

    pub fn config(&self) -> StftConfig {
        self.config
    }

    /// Frames needed to cover a signal of `len` samples completely.
    pub fn frames(&self, len: usize) -> usize {
        (len + self.config.fft).div_ceil(self.config.hop)
    }

    /// First sample (may be negative) covered by frame `f`.
    fn start(&self, f: usize) -> isize {
        ((f + 1) * self.config.hop) as isize - self.config.fft as isize
    }

    /// The spectrum of frame `f` of `x` (`bins` values). Non-finite samples count as zero.
    pub fn analyze(&mut self, x: &[f32], f: usize, spectrum: &mut [Complex32]) {
        let start = self.start(f);
        let samples = (0..self.config.fft).map(|i| {
            let pos = start + i as isize;
            match usize::try_from(pos).ok().and_then(|p| x.get(p)) {
                Some(s) if s.is_finite() => *s,
                _ => 0.0,
            }
        });
        self.transform.forward(samples, spectrum);
    }

    /// Overlap-adds frame `f` (its spectrum, which is consumed) into `y`, the output aligned
    /// with the input. Call for every frame in order.
    pub fn synthesize(&mut self, spectrum: &mut [Complex32], f: usize, y: &mut [f32]) {
        let start = self.start(f);
        let frame = self.transform.inverse(spectrum);
        for (i, v) in frame.iter().enumerate() {
            let pos = start + i as isize;
            if pos >= 0 && (pos as usize) < y.len() {
                y[pos as usize] += v;
            }
        }
    }
}
