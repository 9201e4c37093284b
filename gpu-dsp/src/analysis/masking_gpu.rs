//! Masking on the GPU: every signal's Hann frames (the dialogue and every masker, all
//! channels) transformed and reduced to third-octave band powers in one queue submission per
//! pushed block (`band_power` in `shaders/stft.wgsl`), read back two blocks later; the CPU
//! only frames the samples and folds the band levels ([`MaskingFolds`]). Results come back
//! through a ring of two staging buffers, read two pushes later without waiting on the queue. The same frames,
//! scaling and folds as [`super::MaskingMatrix`], so the two give the same figures.

use super::masking::{BandMasking, MaskingFolds, MASKING_FFT};
use super::spectrogram::gpu::{Params, StftKernels, SLOT};
use crate::gpu::{GpuContext, StagingSlot};
use crate::{DspError, Result};
use std::sync::Arc;

/// One staging buffer of the readback ring and what its submission computed.
struct InFlight {
    staging: StagingSlot,
    frames: usize,
}

/// Band powers of the Hann frames of many signals pushed in step, on the GPU.
pub struct GpuBandPowers {
    ctx: Arc<GpuContext>,
    kernels: StftKernels,
    signals: usize,
    channels: usize,
    bands: usize,
    hop: usize,
    norm: f32,
    /// Per signal and channel: the samples of the frame being filled.
    buffers: Vec<Vec<f32>>,
    filled: usize,
    frames: u64,
    /// Frames staged for the next submission, `signals × channels × n` samples each.
    upload: Vec<f32>,
    staged: usize,
    max_frames: usize,
    uniforms: wgpu::Buffer,
    samples: wgpu::Buffer,
    out: wgpu::Buffer,
    bind: wgpu::BindGroup,
    ring: [InFlight; 2],
    current: usize,
    readback: Vec<f32>,
    submissions: u64,
    late: u64,
}

impl GpuBandPowers {
    /// An engine for `signals` signals of `channels` planar channels each, band bin ranges
    /// `ranges` of [`MASKING_FFT`]-point frames every half frame, blocks of up to
    /// `max_block` samples per push.
    pub fn new(
        ctx: Arc<GpuContext>,
        signals: usize,
        channels: usize,
        ranges: &[std::ops::Range<usize>],
        max_block: usize,
    ) -> Result<Self> {
        if signals == 0 || channels == 0 || ranges.is_empty() {
            return Err(DspError::InvalidInput(
                "no signals, channels or bands".into(),
            ));
        }
        let n = MASKING_FFT;
        let hop = n / 2;
        let kernels = StftKernels::new(&ctx, n);
        let max_frames = max_block / hop + 2;
        let items = max_frames * signals * channels;
        let device = ctx.device();
        let make = |label, bytes: usize, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: (bytes.max(16) as u64).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT),
                usage,
                mapped_at_creation: false,
            })
        };
        let storage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
        let limit = u64::from(ctx.info().max_storage_buffer_binding_size);
        if (items * n * 8) as u64 > limit {
            return Err(DspError::Gpu(format!(
                "{signals} signals × {channels} channels need {} bytes of FFT work space, more \
                 than the adapter's storage binding limit {limit}",
                items * n * 8
            )));
        }
        let uniforms = make(
            "bands params",
            (kernels.stages() + 2) * SLOT as usize,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        let samples = make("bands samples", items * n * 4, storage);
        let a = make("bands a", items * n * 8, wgpu::BufferUsages::STORAGE);
        let b = make("bands b", items * n * 8, wgpu::BufferUsages::STORAGE);
        let values = max_frames * signals * ranges.len();
        let out = make(
            "bands out",
            values * 4,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        );
        let bounds: Vec<[u32; 2]> = ranges
            .iter()
            .map(|r| [r.start as u32, r.end as u32])
            .collect();
        let range_buf = {
            use wgpu::util::DeviceExt;
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("band ranges"),
                contents: bytemuck::cast_slice(&bounds),
                usage: wgpu::BufferUsages::STORAGE,
            })
        };
        let bind = kernels.bind(device, &uniforms, &samples, &a, &b, &out, Some(&range_buf));
        let staging = |label| InFlight {
            staging: StagingSlot::new(make(
                label,
                values * 4,
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            )),
            frames: 0,
        };
        let window = super::spectrogram::hann(n);
        // FrameStream's scaling: band powers are mean-square powers.
        let norm = (2.0 / (n as f64 * window.iter().map(|&w| f64::from(w).powi(2)).sum::<f64>()))
            .sqrt() as f32;
        Ok(Self {
            signals,
            channels,
            bands: ranges.len(),
            hop,
            norm,
            buffers: vec![vec![0.0; n]; signals * channels],
            filled: 0,
            frames: 0,
            upload: vec![0.0; items * n],
            staged: 0,
            max_frames,
            uniforms,
            samples,
            out,
            bind,
            ring: [staging("bands staging 0"), staging("bands staging 1")],
            current: 0,
            readback: vec![0.0; values],
            submissions: 0,
            late: 0,
            kernels,
            ctx,
        })
    }

    /// Queue submissions so far (one per push that completed a frame).
    pub fn submissions(&self) -> u64 {
        self.submissions
    }

    /// Readbacks that had to wait: the GPU was more than two pushes behind.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// Frames waiting for the next submission.
    pub fn staged(&self) -> usize {
        self.staged
    }

    /// Frames completed so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Feeds one block of every signal (`blocks[s][c]`, all the same length, at most the
    /// `max_block` given to `new`); the frames it completes go to the GPU in one submission.
    /// `each` gets the band powers (`signals × bands`, signal-major) of every frame the
    /// previous push submitted, in order.
    pub fn push(&mut self, blocks: &[&[&[f32]]], mut each: impl FnMut(&[f32])) -> Result<()> {
        self.collect(&mut each)?;
        let len = blocks
            .first()
            .and_then(|s| s.first())
            .map_or(0, |c| c.len());
        for (s, block) in blocks.iter().enumerate() {
            self.frame_signal(s, block);
        }
        self.advance(len)?;
        self.submit()
    }

    /// Ends the signals: a zero-padded frame when none was complete, then every result.
    pub fn finish(mut self, mut each: impl FnMut(&[f32])) -> Result<()> {
        self.collect(&mut each)?;
        if self.frames == 0 {
            let n = MASKING_FFT;
            for buffer in &mut self.buffers {
                buffer[self.filled..].fill(0.0);
            }
            for (k, buffer) in self.buffers.iter().enumerate() {
                self.upload[k * n..(k + 1) * n].copy_from_slice(buffer);
            }
            self.staged = 1;
            self.frames = 1;
            self.submit()?;
        }
        // The ring's other slot (the last push), then this one.
        self.collect(&mut each)?;
        self.collect(&mut each)
    }

    /// Frames one block of signal `s` (its planar channels); every signal is framed with the
    /// same block length before [`GpuBandPowers::advance`]. Allocation-free.
    pub fn frame_signal(&mut self, s: usize, block: &[&[f32]]) {
        let n = MASKING_FFT;
        let len = block.first().map_or(0, |c| c.len());
        let per_frame = self.buffers.len() * n;
        let (mut filled, mut slot) = (self.filled, self.staged);
        let mut pos = 0;
        while pos < len {
            let take = (n - filled).min(len - pos);
            for c in 0..self.channels {
                let buffer = &mut self.buffers[s * self.channels + c];
                let src = block
                    .get(c)
                    .and_then(|x| x.get(pos..(pos + take).min(x.len())))
                    .unwrap_or(&[]);
                for (i, d) in buffer[filled..filled + take].iter_mut().enumerate() {
                    *d = src.get(i).copied().filter(|v| v.is_finite()).unwrap_or(0.0);
                }
            }
            filled += take;
            pos += take;
            if filled == n {
                if slot < self.max_frames {
                    for c in 0..self.channels {
                        let k = s * self.channels + c;
                        let at = slot * per_frame + k * n;
                        self.upload[at..at + n].copy_from_slice(&self.buffers[k]);
                    }
                }
                slot += 1;
                for c in 0..self.channels {
                    self.buffers[s * self.channels + c].copy_within(self.hop.., 0);
                }
                filled = n - self.hop;
            }
        }
    }

    /// Ends a block of `len` samples framed for every signal: counts its complete frames.
    pub fn advance(&mut self, len: usize) -> Result<()> {
        let n = MASKING_FFT;
        let mut filled = self.filled + len;
        let mut completed = 0;
        while filled >= n {
            completed += 1;
            filled -= self.hop;
        }
        if self.staged + completed > self.max_frames {
            return Err(DspError::InvalidInput(
                "a block longer than the engine was made for".into(),
            ));
        }
        self.filled = filled;
        self.staged += completed;
        self.frames += completed as u64;
        Ok(())
    }

    /// One submission for the staged frames: [`GpuBandPowers::record`], submit,
    /// [`GpuBandPowers::submitted`].
    fn submit(&mut self) -> Result<()> {
        let mut encoder = self
            .ctx
            .device()
            .create_command_encoder(&Default::default());
        if self.record(&mut encoder) {
            let index = self.ctx.queue().submit(Some(encoder.finish()));
            self.submitted(index);
        }
        Ok(())
    }

    /// Uploads the staged frames and records their load and window, FFT and band powers,
    /// and the copy of the results for readback, into `encoder` (so they can share a
    /// submission with other work); false when nothing is staged. Call
    /// [`GpuBandPowers::submitted`] with the submission's index.
    pub fn record(&mut self, encoder: &mut wgpu::CommandEncoder) -> bool {
        if self.staged == 0 {
            return false;
        }
        let n = MASKING_FFT;
        let frames = std::mem::take(&mut self.staged);
        let items = frames * self.buffers.len();
        let queue = self.ctx.queue();
        queue.write_buffer(
            &self.samples,
            0,
            bytemuck::cast_slice(&self.upload[..items * n]),
        );
        // Each item is one channel of one signal in one frame, loaded whole (`frames` = 1,
        // `span` = n); the band kernel averages groups of `channels` items.
        let base = Params {
            n: n as u32,
            ns: 1,
            items: items as u32,
            hop: 0,
            span: n as u32,
            frames: 1,
            channels: self.channels as u32,
            bins: self.bands as u32,
            scale: self.norm,
            ..Default::default()
        };
        queue.write_buffer(&self.uniforms, 0, &self.kernels.slots(base, base));
        let values = frames * self.signals * self.bands;
        let slot = &mut self.ring[self.current];
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            let k = &self.kernels;
            k.record(&mut pass, &self.bind, &k.band_power, items, values);
        }
        let bytes = (values * 4) as u64;
        encoder.copy_buffer_to_buffer(&self.out, 0, slot.staging.buffer(), 0, bytes);
        slot.frames = frames;
        true
    }

    /// The submission that carries what [`GpuBandPowers::record`] recorded: its results are
    /// mapped when it completes and read two pushes (engine blocks) later.
    pub fn submitted(&mut self, index: wgpu::SubmissionIndex) {
        let slot = &mut self.ring[self.current];
        let values = slot.frames * self.signals * self.bands;
        slot.staging
            .submitted(&self.ctx, index, (values * 4) as u64);
        self.submissions += 1;
    }

    /// Turns the ring and hands `each` the frames of the submission made two pushes ago
    /// (already mapped unless the GPU is further behind: that mapping is slept for, counted in
    /// [`GpuBandPowers::late`]); the next frames go to the freed slot.
    pub fn collect(&mut self, each: &mut impl FnMut(&[f32])) -> Result<()> {
        self.current ^= 1;
        let slot = &mut self.ring[self.current];
        let values = slot.frames * self.signals * self.bands;
        let readback = &mut self.readback;
        let read = slot.staging.read(&mut self.late, |view| {
            readback[..values].copy_from_slice(bytemuck::cast_slice(view));
        })?;
        if read {
            for frame in self.readback[..values].chunks_exact(self.signals * self.bands) {
                each(frame);
            }
        }
        slot.frames = 0;
        Ok(())
    }
}

/// The masking of one target by many maskers with the frames on the GPU: what
/// [`super::MaskingMatrix`] gives, target and maskers pushed in step.
pub struct GpuMasking {
    engine: GpuBandPowers,
    folds: MaskingFolds,
}

impl GpuMasking {
    /// Masking of a target by `maskers` maskers, all of `channels` planar channels at
    /// `sample_rate`, pushed in blocks of at most `max_block` samples.
    pub fn new(
        ctx: Arc<GpuContext>,
        channels: usize,
        maskers: usize,
        sample_rate: u32,
        max_block: usize,
    ) -> Result<Self> {
        let folds = MaskingFolds::new(maskers, sample_rate);
        let engine = GpuBandPowers::new(ctx, 1 + maskers, channels, folds.ranges(), max_block)?;
        Ok(Self { engine, folds })
    }

    /// Queue submissions so far: one per push that completed a frame, for every signal.
    pub fn submissions(&self) -> u64 {
        self.engine.submissions()
    }

    /// Feeds one block of the target and of every masker (all the same length).
    pub fn push(&mut self, target: &[&[f32]], maskers: &[&[&[f32]]]) -> Result<()> {
        let mut blocks: Vec<&[&[f32]]> = Vec::with_capacity(1 + maskers.len());
        blocks.push(target);
        blocks.extend_from_slice(maskers);
        let folds = &mut self.folds;
        self.engine.push(&blocks, |frame| folds.push_powers(frame))
    }

    /// Per masker, the masking per band of everything pushed.
    pub fn finish(self) -> Result<Vec<Vec<BandMasking>>> {
        let Self { engine, mut folds } = self;
        engine.finish(|frame| folds.push_powers(frame))?;
        Ok(folds.finish())
    }
}
