//! One conformance check per kernel family. Every backend of a family — the CPU reference
//! and the GPU engine, and any added later — must pass the same function against an f64
//! definition, on the same deterministic random inputs (as RustFFT checks every FFT
//! algorithm against a naive DFT). The tests run each check on every backend.
//!
//! - [`check_spectrogram_backend`]: STFT power frames against an f64 DFT.
//! - [`check_convolution_backend`]: partitioned convolution (head and tail multiply-accumulate)
//!   against direct f64 convolution, streamed in ragged blocks.
//! - [`check_gain_tracking_backend`]: the noise suppressor's per-bin gain tracking against its
//!   definition in f64, fed in ragged batches.

mod convolution;
mod gain_tracking;
mod spectrogram;

pub use crate::analysis::spectrogram::{CpuSpectrogram, SpectrogramBackend};
pub use crate::conv::ConvolutionBackend;
pub use crate::spectral::{CpuGainBank, GainTrackingBackend};
pub use convolution::check_convolution_backend;
pub use gain_tracking::check_gain_tracking_backend;
pub use spectrogram::{check_spectrogram_backend, dft_power};

/// Deterministic uniform noise in [-1, 1) (xorshift; no dependency, the same everywhere).
pub(crate) fn noise(seed: u32, n: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s as f32 / u32::MAX as f32) * 2.0 - 1.0
        })
        .collect()
}
