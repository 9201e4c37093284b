//! Spectrograms of live streams: samples arrive in blocks of any size, frames come out as
//! soon as they are complete, identical to the frames of the whole signal.

use super::{spectrogram_cpu, GpuSpectrogram, Spectrogram, SpectrogramConfig};
use crate::Result;

/// Which engine computes the frames.
pub enum LiveEngine {
    Cpu,
    Gpu(Box<GpuSpectrogram>),
}

/// Buffers a stream and turns every complete window into a frame.
pub struct LiveSpectrogram {
    config: SpectrogramConfig,
    sample_rate: u32,
    engine: LiveEngine,
    /// Per channel: samples not yet consumed by a frame (the next frame starts at index 0).
    pending: Vec<Vec<f32>>,
    frames_out: usize,
}

impl LiveSpectrogram {
    /// A live spectrogram of `channels` channels.
    pub fn new(
        config: SpectrogramConfig,
        sample_rate: u32,
        channels: usize,
        engine: LiveEngine,
    ) -> Self {
        Self {
            config,
            sample_rate,
            engine,
            pending: vec![Vec::with_capacity(config.fft * 4); channels],
            frames_out: 0,
        }
    }

    /// Frames emitted so far.
    pub fn frames(&self) -> usize {
        self.frames_out
    }

    /// Adds a block of planar samples; returns the frames it completed (possibly none),
    /// `bins` dB values each, in order.
    pub fn push(&mut self, block: &[&[f32]]) -> Result<Vec<f32>> {
        for (p, x) in self.pending.iter_mut().zip(block) {
            p.extend_from_slice(x);
        }
        let (n, hop) = (self.config.fft, self.config.hop);
        let have = self.pending.first().map_or(0, Vec::len);
        if have < n {
            return Ok(Vec::new());
        }
        // Complete frames only: starts 0, hop, … while start + n ≤ have.
        let complete = (have - n) / hop + 1;
        let span = (complete - 1) * hop + n;
        let planes: Vec<&[f32]> = self.pending.iter().map(|p| &p[..span]).collect();
        let s: Spectrogram = match &self.engine {
            LiveEngine::Cpu => spectrogram_cpu(&planes, self.sample_rate, self.config),
            LiveEngine::Gpu(g) => g.compute(&planes, self.sample_rate)?,
        };
        let db = s.db[..complete * s.bins].to_vec();
        for p in &mut self.pending {
            p.drain(..complete * hop);
        }
        self.frames_out += complete;
        Ok(db)
    }
}
