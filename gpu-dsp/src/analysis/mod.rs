//! Meters and analysis: BS.1770-4 / EBU R128 loudness and true peak, spectrograms (CPU and
//! GPU), long-term spectra and masking, phase correlation and image, the surround field.
//!
//! The whole-signal analyses also come as meters fed block by block (`LongTermSpectrumMeter`,
//! `BandCorrelationMeter`, `EnergyVectorMeter`, `MaskingMeter`, over `FrameStream`) that give
//! the same numbers in memory independent of the signal's length.
//!
//! All CPU reference implementations; the mix engine's render report, the command line and
//! the GUI use the same code.

pub mod bands;
mod frames;
mod kweight;
mod loudness;
mod masking;
mod masking_gpu;
mod phase;
pub mod spectrogram;
mod spectrum;
pub mod surround;
pub(crate) mod truepeak;

pub use frames::{for_each_frame, FrameStream};
pub use kweight::{Biquad, KWeighting};
pub use loudness::{channel_weights, LoudnessMeter, LoudnessSummary};
pub use masking::{
    covered_share, masking, BandMasking, MaskingFolds, MaskingMatrix, MaskingMeter, MASKING_FFT,
};
pub use masking_gpu::{GpuBandPowers, GpuMasking};
pub use phase::{
    band_correlation, goniometer_points, BandCorrelation, BandCorrelationMeter, CorrelationMeter,
};
pub use spectrum::{level_db, BandLevel, LongTermSpectrum, LongTermSpectrumMeter};
pub use surround::EnergyVectorMeter;
pub use truepeak::{truepeak_interpolator, TruePeakMeter};

/// Loudness in LUFS of a mean-square energy `z` (BS.1770: −0.691 + 10·log10 z);
/// `None` for silence.
pub fn lufs(z: f64) -> Option<f64> {
    (z > 0.0).then(|| -0.691 + 10.0 * z.log10())
}

/// Linear amplitude to dB; `None` for zero.
pub fn db(amplitude: f64) -> Option<f64> {
    (amplitude > 0.0).then(|| 20.0 * amplitude.log10())
}
