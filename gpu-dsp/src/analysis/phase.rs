//! Stereo phase and image: broadband and per-band correlation, goniometer points, width.

use super::bands::{bin_range, octaves, Band};
use super::frames::for_each_frame;

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
pub fn band_correlation(left: &[f32], right: &[f32], sample_rate: u32) -> Vec<BandCorrelation> {
    const FFT: usize = 4096;
    let bands = octaves(sample_rate);
    let ranges: Vec<_> = bands
        .iter()
        .map(|b| bin_range(b, FFT, sample_rate))
        .collect();
    let mut sums = vec![(0.0f64, 0.0f64, 0.0f64); bands.len()];
    for_each_frame(&[left, right], FFT, FFT / 2, |s| {
        for (acc, r) in sums.iter_mut().zip(&ranges) {
            for (l, rr) in s[0][r.clone()].iter().zip(&s[1][r.clone()]) {
                acc.0 += f64::from(l.re * rr.re + l.im * rr.im);
                acc.1 += f64::from(l.norm_sqr());
                acc.2 += f64::from(rr.norm_sqr());
            }
        }
    });
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
