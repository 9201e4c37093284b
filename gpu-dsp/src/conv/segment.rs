//! One uniformly partitioned overlap-save segment: partitioned IR spectra, the
//! frequency-domain delay line of input spectra, and the FFTs between them.

use super::partition::Segment;
use super::routing::Route;
use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// Spectral state of one segment. Everything is allocated in [`SegmentState::new`].
pub(crate) struct SegmentState {
    pub seg: Segment,
    /// Complex bins per spectrum: `size + 1`.
    pub bins: usize,
    fft: Arc<dyn RealToComplex<f32>>,
    ifft: Arc<dyn ComplexToReal<f32>>,
    /// Per IR channel: `count` partition spectra, scaled by 1/(2·size) for the inverse FFT;
    /// shared by every instance made with [`SegmentState::fresh`].
    pub ir: Arc<[Vec<Complex32>]>,
    /// Per input channel: `count` slots of input spectra (empty when the MAC runs elsewhere).
    fdl: Vec<Vec<Complex32>>,
    /// Per input channel: the newest input spectrum, when the delay line lives elsewhere
    /// (on the GPU).
    pub newest: Vec<Vec<Complex32>>,
    /// Slot of the newest spectrum in the delay line.
    pub head: usize,
    /// Per output channel: the accumulated output spectrum of the current block.
    pub acc: Vec<Vec<Complex32>>,
    time: Vec<f32>,
    scratch: Vec<Complex32>,
}

impl SegmentState {
    /// Builds the segment for `ir` (one slice per IR channel). With `keep_fdl` false the
    /// delay line lives elsewhere (on the GPU) and only the newest spectra are kept.
    pub fn new(
        seg: Segment,
        ir: &[&[f32]],
        inputs: usize,
        outputs: usize,
        keep_fdl: bool,
        planner: &mut RealFftPlanner<f32>,
    ) -> Self {
        let n = 2 * seg.size;
        let bins = seg.size + 1;
        let fft = planner.plan_fft_forward(n);
        let ifft = planner.plan_fft_inverse(n);
        let scratch_len = fft.get_scratch_len().max(ifft.get_scratch_len());
        let mut scratch = vec![Complex32::default(); scratch_len];
        let mut time = vec![0.0f32; n];
        let scale = 1.0 / n as f32;
        let ir_spectra: Arc<[Vec<Complex32>]> = ir
            .iter()
            .map(|taps| {
                let mut spectra = vec![Complex32::default(); seg.count * bins];
                for (p, out) in spectra.chunks_exact_mut(bins).enumerate() {
                    time.fill(0.0);
                    let start = (seg.offset + p * seg.size).min(taps.len());
                    let end = (start + seg.size).min(taps.len());
                    for (t, &h) in time.iter_mut().zip(&taps[start..end]) {
                        *t = h * scale;
                    }
                    // realfft only fails on wrong buffer lengths, which are fixed here.
                    let _ = fft.process_with_scratch(&mut time, out, &mut scratch);
                }
                spectra
            })
            .collect();
        let fdl_len = if keep_fdl { seg.count * bins } else { 0 };
        Self {
            seg,
            bins,
            fft,
            ifft,
            ir: ir_spectra,
            fdl: vec![vec![Complex32::default(); fdl_len]; inputs],
            newest: vec![vec![Complex32::default(); if keep_fdl { 0 } else { bins }]; inputs],
            head: 0,
            acc: vec![vec![Complex32::default(); bins]; outputs],
            time,
            scratch,
        }
    }

    /// A new instance of the segment with no past input, sharing its IR spectra and FFTs.
    pub fn fresh(&self) -> Self {
        let zeros = |v: &Vec<Complex32>| vec![Complex32::default(); v.len()];
        Self {
            seg: self.seg,
            bins: self.bins,
            fft: Arc::clone(&self.fft),
            ifft: Arc::clone(&self.ifft),
            ir: Arc::clone(&self.ir),
            fdl: self.fdl.iter().map(zeros).collect(),
            newest: self.newest.iter().map(zeros).collect(),
            head: 0,
            acc: self.acc.iter().map(zeros).collect(),
            time: vec![0.0; self.time.len()],
            scratch: zeros(&self.scratch),
        }
    }

    /// Clears the delay line and accumulators.
    pub fn reset(&mut self) {
        for v in self
            .fdl
            .iter_mut()
            .chain(&mut self.newest)
            .chain(&mut self.acc)
        {
            v.fill(Complex32::default());
        }
        self.head = 0;
    }

    /// Advances the delay line by one slot; call once per firing before [`Self::analyze`].
    pub fn advance(&mut self) {
        self.head = (self.head + 1) % self.seg.count;
    }

    /// Transforms the last `2·size` input samples of channel `input`, given as the two
    /// contiguous pieces `a` then `b` of a ring, into the newest delay-line slot.
    pub fn analyze(&mut self, input: usize, a: &[f32], b: &[f32]) {
        self.time[..a.len()].copy_from_slice(a);
        self.time[a.len()..].copy_from_slice(b);
        // Straight into the delay line's slot when the multiply-accumulate runs here.
        let out = if self.fdl[input].is_empty() {
            &mut self.newest[input][..]
        } else {
            let slot = self.head * self.bins;
            &mut self.fdl[input][slot..slot + self.bins]
        };
        let _ = self
            .fft
            .process_with_scratch(&mut self.time, out, &mut self.scratch);
    }

    /// Multiply-accumulates every route over every partition into `acc` (the CPU MAC).
    pub fn mac(&mut self, routes: &[Route]) {
        for a in &mut self.acc {
            a.fill(Complex32::default());
        }
        let bins = self.bins;
        let count = self.seg.count;
        for r in routes {
            let fdl = &self.fdl[r.input];
            let ir = &self.ir[r.ir];
            let acc = &mut self.acc[r.output];
            for p in 0..count {
                let slot = (self.head + count - p) % count;
                let x = &fdl[slot * bins..(slot + 1) * bins];
                let h = &ir[p * bins..(p + 1) * bins];
                complex_mac(acc, x, h);
            }
        }
    }

    /// Inverse-transforms the accumulated spectrum of `output` and returns the new output
    /// block (the last `size` samples: overlap-save discards the first half).
    pub fn synthesize(&mut self, output: usize) -> &[f32] {
        let acc = &mut self.acc[output];
        // Real signals: DC and Nyquist are real; clear rounding residue for realfft.
        acc[0].im = 0.0;
        acc[self.bins - 1].im = 0.0;
        let _ = self
            .ifft
            .process_with_scratch(acc, &mut self.time, &mut self.scratch);
        &self.time[self.seg.size..]
    }
}

/// `acc += x · h`, element-wise complex (AVX2 when the CPU has it).
#[inline]
pub(crate) fn complex_mac(acc: &mut [Complex32], x: &[Complex32], h: &[Complex32]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present.
        unsafe { complex_mac_avx2(acc, x, h) };
        return;
    }
    complex_mac_scalar(acc, x, h);
}

/// [`complex_mac_scalar`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn complex_mac_avx2(acc: &mut [Complex32], x: &[Complex32], h: &[Complex32]) {
    complex_mac_scalar(acc, x, h);
}

#[inline(always)]
fn complex_mac_scalar(acc: &mut [Complex32], x: &[Complex32], h: &[Complex32]) {
    for ((a, x), h) in acc.iter_mut().zip(x).zip(h) {
        a.re += x.re * h.re - x.im * h.im;
        a.im += x.re * h.im + x.im * h.re;
    }
}
