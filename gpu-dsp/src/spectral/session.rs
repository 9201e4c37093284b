//! The gain tracking of every `clean` insert of a session in the mixer's one GPU submission
//! per engine block: each block the inserts' new power spectra are staged per channel (a
//! channel may bring none, or fewer frames than another), recorded into the shared encoder,
//! and their gains read back through a ring of two staging buffers two blocks later, when
//! the engine thread collects them without waiting on the queue.

use super::gpu::GpuGainBank;
use super::tracker::NoiseModel;
use crate::gpu::{GpuContext, StagingSlot};
use crate::{DspError, Result};
use std::sync::Arc;

/// One staging buffer of the readback ring and the frames each channel had in it.
struct InFlight {
    staging: StagingSlot,
    counts: Vec<usize>,
}

/// Per-bin gains for many streaming channels, batched per engine block on the GPU.
pub struct SessionGainBank {
    bank: GpuGainBank,
    /// Frame slots per channel in a batch (the most frames one engine block completes).
    slots: usize,
    /// This block's power spectra, `[channel][slot][bin]`.
    upload: Vec<f32>,
    counts: Vec<usize>,
    ring: [InFlight; 2],
    current: usize,
    /// Gains read by the last [`SessionGainBank::collect`], `[channel][slot][bin]`.
    readback: Vec<f32>,
    read_counts: Vec<usize>,
    late: u64,
}

impl SessionGainBank {
    /// A bank for `channels` tracked channels of `bins` bins, frames every `hop` samples at
    /// `rate` Hz, fed by engine blocks of at most `block` samples.
    pub fn new(
        ctx: Arc<GpuContext>,
        channels: usize,
        bins: usize,
        hop: usize,
        rate: f32,
        block: usize,
    ) -> Result<Self> {
        let models = vec![NoiseModel::Tracked; channels];
        let slots = frames_per_block(block, hop);
        let bank = GpuGainBank::with_batch(ctx, bins, hop, rate, 0.0, &models, slots)
            .map_err(|e| DspError::Gpu(format!("the clean inserts' GPU bank: {e}")))?;
        let values = channels * slots * bins;
        let device = bank.context().device();
        let staging = |label| InFlight {
            staging: StagingSlot::new(device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: (values * 4) as u64,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })),
            counts: vec![0; channels],
        };
        let ring = [staging("clean staging 0"), staging("clean staging 1")];
        Ok(Self {
            bank,
            slots,
            upload: vec![0.0; values],
            counts: vec![0; channels],
            ring,
            current: 0,
            readback: vec![0.0; values],
            read_counts: vec![0; channels],
            late: 0,
        })
    }

    /// Channels in the bank.
    pub fn channels(&self) -> usize {
        self.bank.channels()
    }

    /// Most frames a channel may stage per block.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Readbacks that had to wait: the GPU was more than two blocks behind.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// Stages `channel`'s new frames (`power`, `[frame][bin]`, at most [`Self::slots`]
    /// frames) with each frame's largest reduction in dB for this block's submission.
    /// Allocation-free.
    pub fn stage(&mut self, channel: usize, power: &[f32], reductions_db: &[f32]) {
        let bins = self.bank.bins();
        let frames = (power.len() / bins)
            .min(self.slots)
            .min(reductions_db.len());
        let at = channel * self.slots * bins;
        self.upload[at..at + frames * bins].copy_from_slice(&power[..frames * bins]);
        self.counts[channel] = frames;
        for (slot, &reduction) in reductions_db[..frames].iter().enumerate() {
            self.bank.set_frame_reduction_db(channel, slot, reduction);
        }
    }

    /// True when some channel staged frames this block.
    pub fn has_work(&self) -> bool {
        self.counts.iter().any(|&c| c > 0)
    }

    /// Uploads the staged frames and records their tracking and the copy of the gains for
    /// readback into `encoder`; false when nothing was staged. Then call
    /// [`SessionGainBank::submitted`] with the submission's index.
    pub fn record(&mut self, encoder: &mut wgpu::CommandEncoder) -> bool {
        if !self.has_work() {
            return false;
        }
        for (c, &count) in self.counts.iter().enumerate() {
            self.bank.set_count(c, count);
        }
        self.bank.load(&self.upload, self.slots);
        self.bank.dispatch(encoder, self.slots);
        let slot = &mut self.ring[self.current];
        let bytes = self.upload.len() as u64 * 4;
        encoder.copy_buffer_to_buffer(self.bank.gains_buffer(), 0, slot.staging.buffer(), 0, bytes);
        slot.counts.copy_from_slice(&self.counts);
        self.counts.fill(0);
        true
    }

    /// The submission that carries what [`SessionGainBank::record`] recorded.
    pub fn submitted(&mut self, index: wgpu::SubmissionIndex) {
        let bytes = self.upload.len() as u64 * 4;
        let ctx = Arc::clone(self.bank.context());
        self.ring[self.current]
            .staging
            .submitted(&ctx, index, bytes);
    }

    /// Start of a block: turns the ring and reads the gains submitted two blocks ago (slept
    /// for when the GPU is further behind, counted in [`SessionGainBank::late`]), for
    /// [`SessionGainBank::gains`].
    pub fn collect(&mut self) -> Result<()> {
        self.current ^= 1;
        let slot = &mut self.ring[self.current];
        let readback = &mut self.readback;
        let read = slot.staging.read(&mut self.late, |view| {
            readback.copy_from_slice(bytemuck::cast_slice(view));
        })?;
        if read {
            self.read_counts.copy_from_slice(&slot.counts);
        } else {
            self.read_counts.fill(0);
        }
        slot.counts.fill(0);
        Ok(())
    }

    /// The gains [`SessionGainBank::collect`] read for `channel`, `[frame][bin]`, in the
    /// order its frames were staged.
    pub fn gains(&self, channel: usize) -> &[f32] {
        let bins = self.bank.bins();
        let at = channel * self.slots * bins;
        &self.readback[at..at + self.read_counts[channel] * bins]
    }
}

/// The most STFT frames `block` samples can complete with frames every `hop`.
pub fn frames_per_block(block: usize, hop: usize) -> usize {
    block.div_ceil(hop) + 1
}
