//! Streaming STFT with weighted overlap-add resynthesis.
//!
//! Frames of `fft` samples every `hop`, a Hann analysis window, and a synthesis
//! window `w(p) / S(p mod hop)` with `S(r) = Σ w(p')²` over the window positions congruent to
//! `r`: every output sample's synthesis weights sum to exactly 1, so identity processing
//! reconstructs the input perfectly for any hop up to half the FFT size (not only the COLA
//! ones).
//! Blocks of any size stream through; the output lags the input by `latency()` samples.

use crate::{DspError, Result};
use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// FFT size and hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StftConfig {
    pub fft: usize,
    pub hop: usize,
}

impl StftConfig {
    /// Checks the sizes: `fft` even, 16..=65536; `hop` in 1..=fft/2 (every sample must lie in
    /// at least two frames, or a tapered window cannot give it back exactly).
    pub fn new(fft: usize, hop: usize) -> Result<Self> {
        if !fft.is_multiple_of(2) || !(16..=65_536).contains(&fft) {
            return Err(DspError::InvalidInput(format!(
                "STFT size {fft} must be even, 16..65536"
            )));
        }
        if hop == 0 || hop > fft / 2 {
            return Err(DspError::InvalidInput(format!(
                "hop {hop} must be between 1 and half the STFT size ({})",
                fft / 2
            )));
        }
        Ok(Self { fft, hop })
    }

    /// Complex bins per frame.
    pub fn bins(&self) -> usize {
        self.fft / 2 + 1
    }
}

/// What one STFT frame needs: the FFT pair, the two windows and the work buffers. Shared by
/// the streaming [`Stft`] and the whole-signal `FrameStft`, so both compute the same frames.
pub(crate) struct Transform {
    fwd: Arc<dyn RealToComplex<f32>>,
    inv: Arc<dyn ComplexToReal<f32>>,
    analysis: Vec<f32>,
    synthesis: Vec<f32>,
    frame: Vec<f32>,
    scratch: Vec<Complex32>,
}

impl Transform {
    pub(crate) fn new(config: StftConfig) -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let fwd = planner.plan_fft_forward(config.fft);
        let inv = planner.plan_fft_inverse(config.fft);
        let (analysis, synthesis) = windows(config);
        let scratch = vec![Complex32::default(); fwd.get_scratch_len().max(inv.get_scratch_len())];
        Self {
            fwd,
            inv,
            analysis,
            synthesis,
            frame: vec![0.0; config.fft],
            scratch,
        }
    }

    /// Windows the frame's `samples` (FFT-size many) and transforms them into `spectrum`.
    pub(crate) fn forward(
        &mut self,
        samples: impl Iterator<Item = f32>,
        spectrum: &mut [Complex32],
    ) {
        for ((f, x), w) in self.frame.iter_mut().zip(samples).zip(&self.analysis) {
            *f = x * w;
        }
        let _ = self
            .fwd
            .process_with_scratch(&mut self.frame, spectrum, &mut self.scratch);
    }

    /// Inverse-transforms `spectrum` (consumed) and returns the frame weighted by the
    /// synthesis window, ready to overlap-add.
    pub(crate) fn inverse(&mut self, spectrum: &mut [Complex32]) -> &[f32] {
        let last = spectrum.len() - 1;
        spectrum[0].im = 0.0;
        spectrum[last].im = 0.0;
        let _ = self
            .inv
            .process_with_scratch(spectrum, &mut self.frame, &mut self.scratch);
        for (y, w) in self.frame.iter_mut().zip(&self.synthesis) {
            *y *= w;
        }
        &self.frame
    }

    /// Mean-square level of a band from its summed one-sided power: the calibration
    /// `2 / (N · Σw²)` (Parseval with the analysis window).
    pub(crate) fn power_scale(&self) -> f32 {
        let energy: f32 = self.analysis.iter().map(|w| w * w).sum();
        2.0 / (self.analysis.len() as f32 * energy)
    }
}

/// A streaming STFT processor for one channel. All memory is allocated in `new`.
pub struct Stft {
    config: StftConfig,
    transform: Transform,
    /// Input ring of `ring` samples stored twice (any window is contiguous).
    input: Vec<f32>,
    /// Output accumulator ring.
    output: Vec<f32>,
    ring: usize,
    /// Samples received.
    received: u64,
    /// Output samples for the current hop, played out as the next hop of input arrives.
    ready: Vec<f32>,
    fill: usize,
    spectrum: Vec<Complex32>,
}

/// The analysis window (Hann sampled half a sample off its zeros, sin² of (p + ½)·π/N: never
/// exactly zero, so every position keeps a usable synthesis weight) and the matching synthesis
/// window, with the 1/N of the unnormalised inverse FFT folded in.
pub(crate) fn windows(config: StftConfig) -> (Vec<f32>, Vec<f32>) {
    let n = config.fft;
    let analysis: Vec<f32> = (0..n)
        .map(|i| {
            (std::f64::consts::PI * (i as f64 + 0.5) / n as f64)
                .sin()
                .powi(2) as f32
        })
        .collect();
    let mut fold = vec![0.0f64; config.hop];
    for (p, w) in analysis.iter().enumerate() {
        fold[p % config.hop] += f64::from(*w) * f64::from(*w);
    }
    let synthesis = analysis
        .iter()
        .enumerate()
        .map(|(p, w)| {
            let s = fold[p % config.hop];
            if s > 0.0 {
                (f64::from(*w) / s / n as f64) as f32
            } else {
                0.0
            }
        })
        .collect();
    (analysis, synthesis)
}

impl Stft {
    pub fn new(config: StftConfig) -> Self {
        let ring = (2 * config.fft + config.hop).next_power_of_two();
        Self {
            config,
            transform: Transform::new(config),
            input: vec![0.0; 2 * ring],
            output: vec![0.0; ring],
            ring,
            received: 0,
            ready: vec![0.0; config.hop],
            fill: 0,
            spectrum: vec![Complex32::default(); config.bins()],
        }
    }

    /// Samples by which the output lags the input: the FFT size.
    pub fn latency(&self) -> usize {
        self.config.fft
    }

    pub fn config(&self) -> StftConfig {
        self.config
    }

    /// Forgets all past input.
    pub fn reset(&mut self) {
        self.input.fill(0.0);
        self.output.fill(0.0);
        self.ready.fill(0.0);
        self.received = 0;
        self.fill = 0;
    }

    /// Streams `input` through, calling `modify` on every frame's spectrum (`bins` values,
    /// DC to Nyquist), and writes the resynthesised signal to `output` (same length, delayed
    /// by `latency()`). Never allocates.
    pub fn process(
        &mut self,
        input: &[f32],
        output: &mut [f32],
        mut modify: impl FnMut(&mut [Complex32]),
    ) {
        self.stream(input, Some(output), &mut modify);
    }

    /// Analysis only (a sidechain): streams `input` through and calls `inspect` on every
    /// frame's spectrum, at the same frame boundaries as `process` given the same blocks.
    pub fn analyze(&mut self, input: &[f32], mut inspect: impl FnMut(&[Complex32])) {
        self.stream(input, None, &mut |spectrum: &mut [Complex32]| {
            inspect(spectrum)
        });
    }

    fn stream(
        &mut self,
        input: &[f32],
        mut output: Option<&mut [f32]>,
        modify: &mut impl FnMut(&mut [Complex32]),
    ) {
        let synthesize = output.is_some();
        let mut done = 0;
        while done < input.len() {
            let out = output.as_deref_mut().map(|o| &mut o[done..]);
            let (taken, due) = self.feed(&input[done..], out);
            done += taken;
            if due {
                modify(self.analyze_frame());
                self.finish_frame(synthesize);
            }
        }
    }

    /// Samples still needed before the next frame is due.
    pub(crate) fn until_frame(&self) -> usize {
        self.config.hop - self.fill
    }

    /// Takes input up to the next frame boundary (writing as much delayed output, if asked);
    /// returns the samples taken and whether a frame is now due (then call
    /// [`analyze_frame`](Self::analyze_frame) and [`finish_frame`](Self::finish_frame)).
    pub(crate) fn feed(&mut self, input: &[f32], output: Option<&mut [f32]>) -> (usize, bool) {
        let hop = self.config.hop;
        let mask = self.ring - 1;
        let take = (hop - self.fill).min(input.len());
        let at = (self.received as usize) & mask;
        for (j, &x) in input[..take].iter().enumerate() {
            let i = (at + j) & mask;
            let x = if x.is_finite() { x } else { 0.0 };
            self.input[i] = x;
            self.input[i + self.ring] = x;
        }
        if let Some(out) = output {
            out[..take].copy_from_slice(&self.ready[self.fill..self.fill + take]);
        }
        self.received += take as u64;
        self.fill += take;
        (take, self.fill == hop)
    }

    /// Like [`feed`](Self::feed), in place: `buf` gives its input and receives the output.
    pub(crate) fn feed_in_place(&mut self, buf: &mut [f32]) -> (usize, bool) {
        let hop = self.config.hop;
        let mask = self.ring - 1;
        let take = (hop - self.fill).min(buf.len());
        let at = (self.received as usize) & mask;
        for (j, x) in buf[..take].iter_mut().enumerate() {
            let i = (at + j) & mask;
            let v = if x.is_finite() { *x } else { 0.0 };
            self.input[i] = v;
            self.input[i + self.ring] = v;
            *x = self.ready[self.fill + j];
        }
        self.received += take as u64;
        self.fill += take;
        (take, self.fill == hop)
    }

    /// Mean-square level of a band from its summed one-sided power (see
    /// `Transform::power_scale`).
    pub(crate) fn power_scale(&self) -> f32 {
        self.transform.power_scale()
    }

    /// The due frame's spectrum (`bins` values), ready to inspect or modify.
    pub(crate) fn analyze_frame(&mut self) -> &mut [Complex32] {
        let n = self.config.fft;
        let mask = self.ring - 1;
        let start = (self.received.wrapping_sub(n as u64) as usize) & mask;
        self.transform.forward(
            self.input[start..start + n].iter().copied(),
            &mut self.spectrum,
        );
        &mut self.spectrum
    }

    /// The spectrum of the frame analysed last.
    pub(crate) fn spectrum_mut(&mut self) -> &mut [Complex32] {
        &mut self.spectrum
    }

    /// Completes the due frame: resynthesises the (modified) spectrum when `synthesize`.
    pub(crate) fn finish_frame(&mut self, synthesize: bool) {
        self.fill = 0;
        if !synthesize {
            return;
        }
        let n = self.config.fft;
        let mask = self.ring - 1;
        let frame = self.transform.inverse(&mut self.spectrum);
        // Overlap-add the frame, which covers samples [t − n, t).
        let first = self.received.wrapping_sub(n as u64) as usize;
        for (p, y) in frame.iter().enumerate() {
            self.output[first.wrapping_add(p) & mask] += y;
        }
        // Samples [t − n, t − n + hop) have received every frame that covers them.
        for (j, r) in self.ready.iter_mut().enumerate() {
            let k = first.wrapping_add(j) & mask;
            *r = self.output[k];
            self.output[k] = 0.0;
        }
    }
}
