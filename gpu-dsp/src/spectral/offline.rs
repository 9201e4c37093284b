//! Whole-signal STFT processing, frame by frame, computing exactly what the streaming
//! [`Stft`](super::Stft) computes but with the latency removed: frame `f` covers input samples
//! `[(f+1)·hop − fft, (f+1)·hop)` (zeros outside the signal) and is overlap-added back at the
//! same place. Frames can be analysed in batches, handed to a GPU, and synthesised later.

use super::stft::{windows, StftConfig};
use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// Frame-addressed analysis and synthesis for one FFT size and hop.
pub struct FrameStft {
    config: StftConfig,
    fwd: Arc<dyn RealToComplex<f32>>,
    inv: Arc<dyn ComplexToReal<f32>>,
    analysis: Vec<f32>,
    synthesis: Vec<f32>,
    frame: Vec<f32>,
    scratch: Vec<Complex32>,
}

impl FrameStft {
    pub fn new(config: StftConfig) -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let fwd = planner.plan_fft_forward(config.fft);
        let inv = planner.plan_fft_inverse(config.fft);
        let (analysis, synthesis) = windows(config);
        let scratch = vec![Complex32::default(); fwd.get_scratch_len().max(inv.get_scratch_len())];
        Self {
            config,
            fwd,
            inv,
            analysis,
            synthesis,
            frame: vec![0.0; config.fft],
            scratch,
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
        for (i, (v, w)) in self.frame.iter_mut().zip(&self.analysis).enumerate() {
            let pos = start + i as isize;
            let s = if pos >= 0 && (pos as usize) < x.len() {
                x[pos as usize]
            } else {
                0.0
            };
            *v = if s.is_finite() { s * w } else { 0.0 };
        }
        let _ = self
            .fwd
            .process_with_scratch(&mut self.frame, spectrum, &mut self.scratch);
    }

    /// Overlap-adds frame `f` (its spectrum, which is consumed) into `y`, the output aligned
    /// with the input. Call for every frame in order.
    pub fn synthesize(&mut self, spectrum: &mut [Complex32], f: usize, y: &mut [f32]) {
        let last = spectrum.len() - 1;
        spectrum[0].im = 0.0;
        spectrum[last].im = 0.0;
        let _ = self
            .inv
            .process_with_scratch(spectrum, &mut self.frame, &mut self.scratch);
        let start = self.start(f);
        for (i, (v, w)) in self.frame.iter().zip(&self.synthesis).enumerate() {
            let pos = start + i as isize;
            if pos >= 0 && (pos as usize) < y.len() {
                y[pos as usize] += v * w;
            }
        }
    }
}
