//! STFT spectrograms: the CPU reference ([`spectrogram_cpu`]) and the GPU engine
//! ([`GpuSpectrogram`], `shaders/stft.wgsl`) compute the same frames.
//!
//! Frame `f` covers samples `[f·hop, f·hop + fft)` (zero-padded past the end), Hann window,
//! power averaged over channels, in dBFS: a full-scale sine reads 0 dB in its bin.

mod backend;
mod cpu;
pub(crate) mod gpu;
mod gpu_stream;
mod live;

pub use backend::{CpuSpectrogram, SpectrogramBackend};
pub use cpu::spectrogram_cpu;
pub use gpu::GpuSpectrogram;
pub use gpu_stream::GpuSpectrogramStream;
pub use live::{LiveEngine, LiveSpectrogram};

use crate::{DspError, Result};

/// FFT size, hop and the lowest dB value reported.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpectrogramConfig {
    pub fft: usize,
    pub hop: usize,
    pub floor_db: f32,
}

impl SpectrogramConfig {
    /// Checks the sizes: `fft` a power of two in 16..=65536, `hop` in 1..=fft.
    pub fn new(fft: usize, hop: usize) -> Result<Self> {
        if !fft.is_power_of_two() || !(16..=65_536).contains(&fft) {
            return Err(DspError::InvalidInput(format!(
                "FFT size {fft} must be a power of two from 16 to 65536"
            )));
        }
        if hop == 0 || hop > fft {
            return Err(DspError::InvalidInput(format!(
                "hop {hop} must be between 1 and the FFT size {fft}"
            )));
        }
        Ok(Self {
            fft,
            hop,
            floor_db: -200.0,
        })
    }

    /// Frames for a signal of `len` samples (at least one).
    pub fn frames(&self, len: usize) -> usize {
        if len <= self.fft {
            1
        } else {
            (len - self.fft).div_ceil(self.hop) + 1
        }
    }

    /// Bins per frame: `fft / 2 + 1`.
    pub fn bins(&self) -> usize {
        self.fft / 2 + 1
    }

    /// Amplitude scale that makes a full-scale sine read 0 dBFS.
    pub fn scale(&self) -> f32 {
        2.0 / hann(self.fft).iter().map(|&w| f64::from(w)).sum::<f64>() as f32
    }
}

/// Frames × bins of dBFS values.
#[derive(Clone, Debug, PartialEq)]
pub struct Spectrogram {
    pub config: SpectrogramConfig,
    pub sample_rate: u32,
    pub frames: usize,
    pub bins: usize,
    /// Row-major: `db[frame * bins + bin]`.
    pub db: Vec<f32>,
}

impl Spectrogram {
    /// Centre frequency of `bin` in Hz.
    pub fn bin_hz(&self, bin: usize) -> f64 {
        bin as f64 * f64::from(self.sample_rate) / self.config.fft as f64
    }

    /// Time of the centre of `frame` in seconds.
    pub fn frame_time(&self, frame: usize) -> f64 {
        (frame * self.config.hop) as f64 / f64::from(self.sample_rate)
            + self.config.fft as f64 / 2.0 / f64::from(self.sample_rate)
    }

    /// One frame's dB values.
    pub fn frame(&self, frame: usize) -> &[f32] {
        &self.db[frame * self.bins..(frame + 1) * self.bins]
    }
}

/// Periodic Hann window of length `n`.
pub fn hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos()) as f32)
        .collect()
}

/// dB of a power value with the floor applied (`10·log10 p` through the fast log2: a long
/// file has tens of millions of bins).
#[inline]
pub(crate) fn power_to_db(power: f32, floor_db: f32) -> f32 {
    (10.0 * std::f32::consts::LOG10_2 * crate::approx::fast_log2(power)).max(floor_db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_db_matches_log10() {
        let mut p = 1e-25f32;
        while p < 1e6 {
            let want = (10.0 * f64::from(p).log10()) as f32;
            let got = power_to_db(p, -300.0);
            assert!((got - want).abs() < 1e-4, "{p}: {got} vs {want}");
            p *= 1.0137;
        }
        assert_eq!(power_to_db(0.0, -200.0), -200.0);
        assert_eq!(power_to_db(f32::NAN, -200.0), -200.0);
    }
}
