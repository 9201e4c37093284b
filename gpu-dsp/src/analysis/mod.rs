//! Meters and analysis: BS.1770-4 / EBU R128 loudness, true peak, phase correlation,
//! spectrograms (CPU and GPU).
//!
//! All CPU reference implementations; the mix engine's render report, the command line and
//! the GUI use the same code.

mod kweight;
mod loudness;
mod phase;
pub mod spectrogram;
mod truepeak;

pub use kweight::{Biquad, KWeighting};
pub use loudness::{channel_weights, LoudnessMeter, LoudnessSummary};
pub use phase::CorrelationMeter;
pub use truepeak::TruePeakMeter;

/// Loudness in LUFS of a mean-square energy `z` (BS.1770: −0.691 + 10·log10 z);
/// `None` for silence.
pub fn lufs(z: f64) -> Option<f64> {
    (z > 0.0).then(|| -0.691 + 10.0 * z.log10())
}

/// Linear amplitude to dB; `None` for zero.
pub fn db(amplitude: f64) -> Option<f64> {
    (amplitude > 0.0).then(|| 20.0 * amplitude.log10())
}
