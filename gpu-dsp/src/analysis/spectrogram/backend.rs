//! The spectrogram family's one contract: both engines implement it, and
//! [`crate::conformance::check_spectrogram_backend`] holds them to the f64 DFT.

use super::{spectrogram_cpu, GpuSpectrogram, Spectrogram, SpectrogramConfig};
use crate::Result;

/// A spectrogram engine: frames of `config` over planar channels, in dBFS.
pub trait SpectrogramBackend {
    /// For messages.
    fn name(&self) -> String;
    fn compute(&mut self, channels: &[&[f32]], sample_rate: u32) -> Result<Spectrogram>;
}

/// The CPU reference as a backend.
pub struct CpuSpectrogram {
    pub config: SpectrogramConfig,
}

impl SpectrogramBackend for CpuSpectrogram {
    fn name(&self) -> String {
        "CPU spectrogram".into()
    }

    fn compute(&mut self, channels: &[&[f32]], sample_rate: u32) -> Result<Spectrogram> {
        Ok(spectrogram_cpu(channels, sample_rate, self.config))
    }
}

impl SpectrogramBackend for GpuSpectrogram {
    fn name(&self) -> String {
        "GPU spectrogram".into()
    }

    fn compute(&mut self, channels: &[&[f32]], sample_rate: u32) -> Result<Spectrogram> {
        GpuSpectrogram::compute(self, channels, sample_rate)
    }
}
