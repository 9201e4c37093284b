//! True peak (BS.1770-4 Annex 2): the peak of the signal oversampled 4× (2× from 96 kHz,
//! none from 192 kHz) with a windowed-sinc polyphase interpolator.

/// Taps per polyphase branch (BS.1770-4's own example filter has 12).
pub const TAPS: usize = 16;

/// Input samples interpolated per pass (scratch size; no allocation while processing).
const CHUNK: usize = 1024;

/// Streaming true-peak meter for one channel.
pub struct TruePeakMeter {
    factor: usize,
    /// `factor` branches of `TAPS` taps, in convolution order (newest sample last).
    branches: Vec<[f32; TAPS]>,
    /// The last `TAPS - 1` samples followed by the chunk being measured.
    buf: Vec<f32>,
    /// One branch's output for a chunk.
    out: Vec<f32>,
    peak: f64,
    sample_peak: f64,
}

impl TruePeakMeter {
    /// A meter for `sample_rate` Hz.
    pub fn new(sample_rate: u32) -> Self {
        let factor = match sample_rate {
            0..=95_999 => 4,
            96_000..=191_999 => 2,
            _ => 1,
        };
        Self {
            factor,
            branches: truepeak_interpolator(factor),
            buf: vec![0.0; TAPS - 1 + CHUNK],
            out: vec![0.0; CHUNK],
            peak: 0.0,
            sample_peak: 0.0,
        }
    }

    /// Oversampling factor in use.
    pub fn factor(&self) -> usize {
        self.factor
    }

    /// Feeds samples; non-finite samples count as silence. Never allocates.
    pub fn process(&mut self, x: &[f32]) {
        for chunk in x.chunks(CHUNK) {
            let n = chunk.len();
            for (b, &s) in self.buf[TAPS - 1..TAPS - 1 + n].iter_mut().zip(chunk) {
                *b = if s.is_finite() { s } else { 0.0 };
            }
            let sample_peak = abs_max(&self.buf[TAPS - 1..TAPS - 1 + n]);
            self.sample_peak = self.sample_peak.max(f64::from(sample_peak));
            let peak = interpolated_peak(
                &self.branches,
                &self.buf[..TAPS - 1 + n],
                &mut self.out[..n],
            );
            self.peak = self.peak.max(f64::from(peak.max(sample_peak)));
            self.buf.copy_within(n..n + TAPS - 1, 0);
        }
    }

    /// Largest absolute input sample so far (linear).
    pub fn sample_peak(&self) -> f64 {
        self.sample_peak
    }

    /// Largest absolute interpolated value so far (linear).
    pub fn peak(&self) -> f64 {
        self.peak
    }
}

/// Peak of every branch's interpolation of `buf` (history + chunk) into `out`.
fn interpolated_peak(branches: &[[f32; TAPS]], buf: &[f32], out: &mut [f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { interpolated_peak_avx2(branches, buf, out) };
    }
    interpolated_peak_portable(branches, buf, out)
}

/// The same loops compiled for AVX2/FMA (8 lanes instead of SSE's 4).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn interpolated_peak_avx2(branches: &[[f32; TAPS]], buf: &[f32], out: &mut [f32]) -> f32 {
    interpolated_peak_portable(branches, buf, out)
}

#[inline(always)]
fn interpolated_peak_portable(branches: &[[f32; TAPS]], buf: &[f32], out: &mut [f32]) -> f32 {
    let n = out.len();
    let mut peak = 0.0f32;
    for taps in branches {
        out.fill(0.0);
        // Tap-major loops: the inner loop runs over output samples and vectorises.
        for (k, &t) in taps.iter().enumerate() {
            for (o, &v) in out.iter_mut().zip(&buf[k..k + n]) {
                *o += t * v;
            }
        }
        peak = peak.max(abs_max(out));
    }
    peak
}

/// Largest |v| (8 independent lanes, so the loop vectorises).
#[inline(always)]
pub(crate) fn abs_max(x: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for (l, v) in lanes.iter_mut().zip(c) {
            *l = l.max(v.abs());
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(0.0f32, |m, v| m.max(v.abs()));
    lanes.iter().fold(tail, |m, &l| m.max(l))
}

/// The interpolating branches (1..factor) of the true-peak oversampler, `TAPS` taps each:
/// the dot product with the last `TAPS` samples (oldest first) gives the value `p/factor`
/// of the way between samples `TAPS/2` and `TAPS/2 - 1` back. Branch 0 is the identity and
/// is left out.
pub fn truepeak_interpolator(factor: usize) -> Vec<[f32; TAPS]> {
    // Kaiser-windowed sinc, cutoff at the original Nyquist; length factor·TAPS + 1 with the
    // centre on a multiple of `factor`, so branch 0 is exactly the input samples.
    let len = factor * TAPS + 1;
    let centre = (factor * TAPS / 2) as f64;
    let beta = 8.0;
    let h: Vec<f64> = (0..len)
        .map(|n| {
            let x = (n as f64 - centre) / factor as f64;
            let sinc = if x == 0.0 {
                1.0
            } else if x.fract() == 0.0 {
                // Exact zeros at the other input samples, so branch 0 is the identity.
                0.0
            } else {
                (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
            };
            let r = (n as f64 - centre) / centre;
            sinc * bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / bessel_i0(beta)
        })
        .collect();
    (1..factor)
        .map(|p| {
            let mut taps = [0.0f32; TAPS];
            for (k, t) in taps.iter_mut().enumerate() {
                *t = h.get(p + k * factor).copied().unwrap_or(0.0) as f32;
            }
            taps.reverse();
            taps
        })
        .collect()
}

/// Modified Bessel function of the first kind, order 0 (power series).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let q = x * x / 4.0;
    for k in 1..50 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < sum * 1e-16 {
            break;
        }
    }
    sum
}
