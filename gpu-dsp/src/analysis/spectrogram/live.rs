//! Spectrograms of live streams: samples arrive in blocks of any size, frames come out as
//! soon as they are complete, identical to the frames of the whole signal.

use super::{spectrogram_cpu, GpuSpectrogramStream, Spectrogram, SpectrogramConfig};
use crate::Result;

/// Which engine computes the frames.
pub enum LiveEngine {
    Cpu,
    /// On the GPU: each push's frames come out two pushes later (never waited for).
    Gpu(Box<GpuSpectrogramStream>),
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

    /// Frames completed so far (on the GPU, some may still be on their way back).
    pub fn frames(&self) -> usize {
        self.frames_out
    }

    /// Adds a block of planar samples and hands `each` the frames ready (`bins` dB values
    /// each, in order): on the CPU the frames this block completed, on the GPU those
    /// submitted two pushes ago. The GPU takes at most its batch of frames per push (one
    /// submission; the ring is never waited on), so a larger backlog waits for the next
    /// pushes.
    pub fn push(&mut self, block: &[&[f32]], mut each: impl FnMut(&[f32])) -> Result<()> {
        for (p, x) in self.pending.iter_mut().zip(block) {
            p.extend_from_slice(x);
        }
        self.step(&mut each)
    }

    /// Frames complete in the pending samples.
    fn complete(&self) -> usize {
        let (n, hop) = (self.config.fft, self.config.hop);
        let have = self.pending.first().map_or(0, Vec::len);
        if have < n {
            0
        } else {
            (have - n) / hop + 1
        }
    }

    /// Transforms what is complete (on the GPU: one submission of at most its batch, after
    /// turning the ring) and drops the samples no later frame needs.
    fn step(&mut self, each: &mut impl FnMut(&[f32])) -> Result<()> {
        let (n, hop) = (self.config.fft, self.config.hop);
        let complete = self.complete();
        let taken = match &mut self.engine {
            LiveEngine::Cpu if complete > 0 => {
                let span = (complete - 1) * hop + n;
                let planes: Vec<&[f32]> = self.pending.iter().map(|p| &p[..span]).collect();
                let s: Spectrogram = spectrogram_cpu(&planes, self.sample_rate, self.config);
                s.db[..complete * s.bins]
                    .chunks_exact(s.bins)
                    .for_each(each);
                complete
            }
            LiveEngine::Cpu => 0,
            LiveEngine::Gpu(g) => {
                g.collect(each)?;
                let count = g.max_frames().min(complete);
                let planes: [&[f32]; 8] =
                    std::array::from_fn(|c| self.pending.get(c).map_or(&[][..], |p| &p[..]));
                g.submit(&planes[..self.pending.len().min(8)], count)?;
                count
            }
        };
        for p in &mut self.pending {
            p.drain(..taken * hop);
        }
        self.frames_out += taken;
        Ok(())
    }

    /// At the end of the stream: transforms the backlog and hands `each` every frame still
    /// on its way back from the GPU (waiting for them: nothing is rendered after this).
    pub fn finish(&mut self, mut each: impl FnMut(&[f32])) -> Result<()> {
        while matches!(self.engine, LiveEngine::Gpu(_)) && self.complete() > 0 {
            self.step(&mut each)?;
        }
        if let LiveEngine::Gpu(g) = &mut self.engine {
            g.collect(&mut each)?;
            g.collect(&mut each)?;
        }
        Ok(())
    }
}
