//! The GPU spectrogram for live streams: each push's complete frames go to the GPU in one
//! submission, and their dB rows come back through a ring of two staging buffers two pushes
//! later, so the thread that pushes (the window's engine thread) never waits on the queue.

use super::gpu::{staging_buffer, Params, StftKernels, Work};
use super::SpectrogramConfig;
use crate::gpu::{GpuContext, StagingSlot};
use crate::{DspError, Result};
use std::sync::Arc;

/// One staging buffer of the readback ring and the frames its submission computed.
struct InFlight {
    staging: StagingSlot,
    frames: usize,
}

/// Spectrogram frames of a stream, computed on the GPU and read back two pushes later.
pub struct GpuSpectrogramStream {
    ctx: Arc<GpuContext>,
    config: SpectrogramConfig,
    channels: usize,
    kernels: StftKernels,
    /// Most frames one submission takes.
    max_frames: usize,
    work: Work,
    ring: [InFlight; 2],
    current: usize,
    /// The samples of a submission, `[channel][span]`.
    upload: Vec<f32>,
    readback: Vec<f32>,
    late: u64,
}

impl GpuSpectrogramStream {
    /// A stream of `channels` planar channels taking at most `max_frames` frames per
    /// submission.
    pub fn new(
        ctx: Arc<GpuContext>,
        config: SpectrogramConfig,
        channels: usize,
        max_frames: usize,
    ) -> Result<Self> {
        if channels == 0 || max_frames == 0 {
            return Err(DspError::InvalidInput("no channels or frames".into()));
        }
        let (n, bins) = (config.fft, config.bins());
        let kernels = StftKernels::new(&ctx, n);
        let device = ctx.device();
        let max_span = (max_frames - 1) * config.hop + n;
        let work = Work::new(device, &kernels, (channels, max_frames, max_span, bins));
        let staging = |label| InFlight {
            staging: StagingSlot::new(staging_buffer(device, label, max_frames, bins)),
            frames: 0,
        };
        Ok(Self {
            ring: [
                staging("live stft staging 0"),
                staging("live stft staging 1"),
            ],
            current: 0,
            upload: vec![0.0; channels * max_span],
            readback: vec![0.0; max_frames * bins],
            late: 0,
            kernels,
            max_frames,
            work,
            ctx,
            config,
            channels,
        })
    }

    /// Most frames one [`GpuSpectrogramStream::submit`] takes.
    pub fn max_frames(&self) -> usize {
        self.max_frames
    }

    /// Readbacks that had to wait: the GPU was more than two pushes behind.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// Turns the ring: hands `each` the dB rows (`bins` values) of the frames submitted two
    /// calls ago, in order (already mapped unless the GPU is further behind: then slept for,
    /// counted in [`GpuSpectrogramStream::late`]). Call once before every submit.
    pub fn collect(&mut self, each: &mut impl FnMut(&[f32])) -> Result<()> {
        self.current ^= 1;
        let slot = &mut self.ring[self.current];
        let values = slot.frames * self.config.bins();
        let readback = &mut self.readback;
        let read = slot.staging.read(&mut self.late, |view| {
            readback[..values].copy_from_slice(bytemuck::cast_slice(view));
        })?;
        if read {
            for row in self.readback[..values].chunks_exact(self.config.bins()) {
                each(row);
            }
        }
        slot.frames = 0;
        Ok(())
    }

    /// Submits `frames` frames (at most [`GpuSpectrogramStream::max_frames`]) of the planar
    /// `channels`, frame `f` starting at sample `f·hop`; their rows come back from the
    /// [`GpuSpectrogramStream::collect`] two calls later. Never waits.
    pub fn submit(&mut self, channels: &[&[f32]], frames: usize) -> Result<()> {
        let c = self.config;
        let (n, hop, bins) = (c.fft, c.hop, c.bins());
        if frames == 0 {
            return Ok(());
        }
        let span = (frames - 1) * hop + n;
        if frames > self.max_frames
            || channels.len() != self.channels
            || channels.iter().any(|x| x.len() < span)
        {
            return Err(DspError::InvalidInput(format!(
                "{frames} frames of {} channels do not fit the live spectrogram",
                channels.len()
            )));
        }
        for (dst, x) in self.upload.chunks_exact_mut(span).zip(channels) {
            dst.copy_from_slice(&x[..span]);
        }
        let queue = self.ctx.queue();
        let upload = &self.upload[..self.channels * span];
        queue.write_buffer(&self.work.samples, 0, bytemuck::cast_slice(upload));
        let base = Params::frames(c, self.channels, frames);
        let k = &self.kernels;
        queue.write_buffer(&self.work.uniforms, 0, &k.slots(base, base));
        let mut encoder = self
            .ctx
            .device()
            .create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            let items = self.channels * frames;
            k.record(&mut pass, &self.work.bind, &k.power, items, frames * bins);
        }
        let bytes = (frames * bins * 4) as u64;
        let slot = &mut self.ring[self.current];
        encoder.copy_buffer_to_buffer(&self.work.power, 0, slot.staging.buffer(), 0, bytes);
        let index = queue.submit(Some(encoder.finish()));
        slot.staging.submitted(&self.ctx, index, bytes);
        slot.frames = frames;
        Ok(())
    }
}
