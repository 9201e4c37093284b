//! Stereo phase and image: broadband and per-band correlation, goniometer points, width.

use std::ops::Range;

use realfft::num_complex::Complex32;

use super::bands::{bin_range, octaves, Band};
use super::frames::FrameStream;

/// Accumulates the broadband correlation coefficient of two channels.
#[derive(Clone, Copy, Debug, Default)]
pub struct CorrelationMeter {
    lr: f64,
    ll: f64,
    rr: f64,
}

impl CorrelationMeter {
    /// Feeds a block of left/right samples.
    pub fn process(&mut self, left: &[f32], right: &[f32]) {
        for (&l, &r) in left.iter().zip(right) {
            if !(l.is_finite() && r.is_finite()) {
                continue;
            }
            let (l, r) = (f64::from(l), f64::from(r));
            self.lr += l * r;
            self.ll += l * l;
            self.rr += r * r;
        }
    }

    /// Σlr / √(Σl²·Σr²): +1 mono-compatible, 0 uncorrelated, −1 out of phase; `None` when
    /// either channel is silent.
    pub fn correlation(&self) -> Option<f64> {
        let d = (self.ll * self.rr).sqrt();
        (d > 0.0).then(|| self.lr / d)
    }

    /// Stereo width: side energy over total, 0 for mono, 0.5 for one-sided or uncorrelated
    /// equal channels, 1 for anti-phase; `None` in silence.
    pub fn width(&self) -> Option<f64> {
        // M = (l + r)/√2, S = (l − r)/√2: E_S = (ll + rr − 2lr)/2, E_M + E_S = ll + rr.
        let total = self.ll + self.rr;
        (total > 0.0).then(|| ((total - 2.0 * self.lr) / 2.0 / total).clamp(0.0, 1.0))
    }
}

/// Correlation of one octave band.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandCorrelation {
    pub band: Band,
    /// `None` when either channel has no energy in the band.
    pub correlation: Option<f64>,
}

/// Per-octave-band correlation: Re Σ L·R̄ / √(Σ|L|²·Σ|R|²) over the band's bins and all frames
/// (the frequency-domain form of the correlation coefficient of the band-filtered signals).
/// A [`BandCorrelationMeter`] fed the whole signal.
pub fn band_correlation(left: &[f32], right: &[f32], sample_rate: u32) -> Vec<BandCorrelation> {
    let mut meter = BandCorrelationMeter::new(sample_rate);
    meter.push(left, right);
    meter.finish()
}

/// FFT size of the band correlation (hop half of it).
const BAND_CORRELATION_FFT: usize = 4096;

/// Per-octave-band correlation of a left/right pair pushed block by block, in memory
/// independent of its length; [`BandCorrelationMeter::finish`] gives what
/// [`band_correlation`] gives for the whole signal.
pub struct BandCorrelationMeter {
    bands: Vec<Band>,
    ranges: Vec<Range<usize>>,
    /// Its own framer, or `None` when its owner feeds it frames ([`Self::on_frames`]).
    frames: Option<FrameStream>,
    /// Σ Re L·R̄, Σ|L|², Σ|R|² per band.
    sums: Vec<(f64, f64, f64)>,
}

impl BandCorrelationMeter {
    /// A meter for octave bands at `sample_rate`.
    pub fn new(sample_rate: u32) -> Self {
        let mut m = Self::on_frames(sample_rate, BAND_CORRELATION_FFT);
        m.frames = Some(FrameStream::new(
            2,
            BAND_CORRELATION_FFT,
            BAND_CORRELATION_FFT / 2,
        ));
        m
    }

    /// A meter fed by its owner with the spectra of `fft`-point frames (left, right) through
    /// [`Self::add_frame`], so two analyses share one set of FFTs.
    pub fn on_frames(sample_rate: u32, fft: usize) -> Self {
        let bands = octaves(sample_rate);
        let ranges = bands
            .iter()
            .map(|b| bin_range(b, fft, sample_rate))
            .collect();
        Self {
            sums: vec![(0.0, 0.0, 0.0); bands.len()],
            bands,
            ranges,
            frames: None,
        }
    }

    /// Adds one frame's spectra (left, right).
    pub fn add_frame(&mut self, spectra: &[Vec<Complex32>]) {
        if spectra.len() >= 2 {
            accumulate(&mut self.sums, &self.ranges, spectra);
        }
    }

    /// Feeds a block of left/right samples (the block's length is the left one's; missing
    /// right samples read as 0).
    pub fn push(&mut self, left: &[f32], right: &[f32]) {
        let (sums, ranges) = (&mut self.sums, &self.ranges);
        if let Some(frames) = self.frames.as_mut() {
            frames.push(&[left, right], |s| accumulate(sums, ranges, s));
        }
    }

    /// The correlation per octave band of everything pushed.
    pub fn finish(self) -> Vec<BandCorrelation> {
        let Self {
            bands,
            ranges,
            frames,
            mut sums,
        } = self;
        if let Some(frames) = frames {
            frames.finish(|s| accumulate(&mut sums, &ranges, s));
        }
        bands
            .into_iter()
            .zip(sums)
            .map(|(band, (lr, ll, rr))| {
                let d = (ll * rr).sqrt();
                BandCorrelation {
                    band,
                    correlation: (d > 1e-20).then(|| lr / d),
                }
            })
            .collect()
    }
}

fn accumulate(sums: &mut [(f64, f64, f64)], ranges: &[Range<usize>], s: &[Vec<Complex32>]) {
    for (acc, r) in sums.iter_mut().zip(ranges) {
        for (l, rr) in s[0][r.clone()].iter().zip(&s[1][r.clone()]) {
            acc.0 += f64::from(l.re * rr.re + l.im * rr.im);
            acc.1 += f64::from(l.norm_sqr());
            acc.2 += f64::from(rr.norm_sqr());
        }
    }
}

/// Goniometer (vectorscope) points: (side, mid) per sample with M = (L+R)/√2 and
/// S = (L−R)/√2, decimated to at most `max_points` evenly spaced samples.
pub fn goniometer_points(left: &[f32], right: &[f32], max_points: usize) -> Vec<(f32, f32)> {
    let n = left.len().min(right.len());
    let step = n.div_ceil(max_points.max(1)).max(1);
    (0..n)
        .step_by(step)
        .map(|i| {
            let (l, r) = (left[i], right[i]);
            (
                (l - r) * std::f32::consts::FRAC_1_SQRT_2,
                (l + r) * std::f32::consts::FRAC_1_SQRT_2,
            )
        })
        .collect()
}
