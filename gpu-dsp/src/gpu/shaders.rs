//! The WGSL sources in `shaders/`, one file per kernel family.

/// Scale-and-accumulate kernels (`y = a·x + b·y`), used by the adapter self-test and mixing.
pub const MIX: &str = include_str!("../../../shaders/mix.wgsl");
/// Complex multiply-accumulate over frequency-domain delay lines (partitioned convolution).
pub const CONVOLUTION: &str = include_str!("../../../shaders/convolution.wgsl");
/// Short-time Fourier transform: window/load, Stockham FFT stages, power in dBFS.
pub const STFT: &str = include_str!("../../../shaders/stft.wgsl");
/// Noise suppression gains: per-bin noise tracking and Wiener gains, smoothing across
/// frequency.
pub const DENOISE: &str = include_str!("../../../shaders/denoise.wgsl");
