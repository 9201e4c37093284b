//! A noise profile learned from a noise-only region: the mean power per STFT bin.

use super::offline::FrameStft;
use super::stft::StftConfig;
use crate::{DspError, Result};
use realfft::num_complex::Complex32;

/// The mean power per bin of the frames that lie wholly inside `start..end` seconds of `x`
/// (at `rate` Hz). Errors if the region is outside the signal, shorter than one frame, or
/// digital silence (it then holds no noise to learn).
pub fn learn_profile(
    x: &[f32],
    rate: f32,
    config: StftConfig,
    start: f64,
    end: f64,
) -> Result<Vec<f32>> {
    let seconds = x.len() as f64 / f64::from(rate);
    if !(start.is_finite() && end.is_finite()) || start < 0.0 || end <= start {
        return Err(DspError::InvalidInput(format!(
            "noise region {start}:{end} must be START:END seconds with 0 <= START < END"
        )));
    }
    if end > seconds + 1e-9 {
        return Err(DspError::InvalidInput(format!(
            "noise region {start}:{end} ends after the signal ({seconds:.3} s)"
        )));
    }
    let first = (start * f64::from(rate)).ceil() as usize;
    let last = ((end * f64::from(rate)).floor() as usize).min(x.len());
    let (fft, hop) = (config.fft, config.hop);
    if last < first + fft {
        return Err(DspError::InvalidInput(format!(
            "noise region {start}:{end} is shorter than one analysis frame ({:.3} s)",
            fft as f64 / f64::from(rate)
        )));
    }
    if x[first..last].iter().all(|v| *v == 0.0 || !v.is_finite()) {
        return Err(DspError::InvalidInput(format!(
            "noise region {start}:{end} is digital silence: there is no noise to learn"
        )));
    }
    let mut stft = FrameStft::new(config);
    let mut spectrum = vec![Complex32::default(); config.bins()];
    let mut sum = vec![0.0f64; config.bins()];
    // Frame f starts at (f + 1)·hop − fft.
    let mut f = (first + fft).div_ceil(hop).saturating_sub(1);
    let mut count = 0usize;
    while (f + 1) * hop <= last {
        stft.analyze(x, f, &mut spectrum);
        for (s, v) in sum.iter_mut().zip(&spectrum) {
            *s += f64::from(v.norm_sqr());
        }
        count += 1;
        f += 1;
    }
    Ok(sum
        .iter()
        .map(|s| (s / count.max(1) as f64) as f32)
        .collect())
}
