//! The noise suppressor's per-bin work on the GPU for many channels at once
//! (`shaders/denoise.wgsl`): the CPU computes the FFTs (realfft is faster than a GPU FFT on
//! the software adapters we test on, and the spectra are needed on the CPU for resynthesis
//! anyway), uploads a batch of power spectra for every channel, and reads the gains back.

use super::tracker::{gain_floor, initial_state, subwindow_frames, warmup_frames, NoiseModel};
use crate::gpu::{bind_entry as entry, shaders, GpuContext};
use crate::{DspError, Result};
use std::sync::Arc;

/// Mirrors `Params` in `shaders/denoise.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    channels: u32,
    bins: u32,
    frames: u32,
    subwindow: u32,
    warmup: u32,
    bin_hz: f32,
    pad: [u32; 2],
}

/// Mirrors `Lane` in `shaders/denoise.wgsl`: one channel's part of a batch.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Lane {
    count: u32,
    base: u32,
    pad: [u32; 2],
}

/// Values per batch buffer (16 MiB of f32), which bounds the frames per batch.
const MAX_VALUES: usize = 1 << 22;

/// Gain tracking for `channels` channels on the GPU; the state stays on the GPU between
/// batches, so consecutive calls continue the same signals.
pub struct GpuGainBank {
    ctx: Arc<GpuContext>,
    channels: usize,
    bins: usize,
    frames_per_batch: usize,
    /// Per channel: frames since the start of its signal.
    lanes: Vec<Lane>,
    /// Per channel: the gain floor of its frames in [`GpuGainBank::process`].
    floors: Vec<f32>,
    /// `[channel][frame]` floors of a batch, uploaded with it.
    frame_floors: Vec<f32>,
    subwindow: u32,
    warmup: u32,
    bin_hz: f32,
    track: Arc<wgpu::ComputePipeline>,
    smooth: Arc<wgpu::ComputePipeline>,
    uniforms: wgpu::Buffer,
    lane_buffer: wgpu::Buffer,
    floor_buffer: wgpu::Buffer,
    power: wgpu::Buffer,
    gains: wgpu::Buffer,
    staging: wgpu::Buffer,
    /// Built once (they keep the state, raw-gain and profile buffers alive): the buffers
    /// never change.
    track_bind: wgpu::BindGroup,
    smooth_bind: wgpu::BindGroup,
}

impl GpuGainBank {
    /// A bank for one noise model per channel, `bins` bins, frames every `hop` samples at
    /// `rate` Hz and the given largest reduction.
    pub fn new(
        ctx: Arc<GpuContext>,
        bins: usize,
        hop: usize,
        rate: f32,
        reduction_db: f32,
        models: &[NoiseModel],
    ) -> Result<Self> {
        // As many frames as a batch holds (`with_batch` refuses what does not fit one).
        let frames_per_batch = (MAX_VALUES / (models.len() * bins).max(1)).clamp(1, 4096);
        Self::with_batch(ctx, bins, hop, rate, reduction_db, models, frames_per_batch)
    }

    /// [`GpuGainBank::new`] with room for `frames_per_batch` frames per channel per batch.
    pub(super) fn with_batch(
        ctx: Arc<GpuContext>,
        bins: usize,
        hop: usize,
        rate: f32,
        reduction_db: f32,
        models: &[NoiseModel],
        frames_per_batch: usize,
    ) -> Result<Self> {
        let channels = models.len();
        if channels == 0 || bins == 0 || channels * bins * frames_per_batch > MAX_VALUES {
            return Err(DspError::InvalidInput(format!(
                "{channels} channels x {bins} bins x {frames_per_batch} frames is more than one \
                 batch holds"
            )));
        }
        let mut profile = Vec::with_capacity(channels * bins);
        for m in models {
            match m {
                NoiseModel::Tracked => profile.extend(std::iter::repeat_n(-1.0f32, bins)),
                NoiseModel::Profile(p) if p.len() == bins => profile.extend_from_slice(p),
                NoiseModel::Profile(p) => {
                    return Err(DspError::InvalidInput(format!(
                        "noise profile has {} bins, expected {bins}",
                        p.len()
                    )))
                }
            }
        }
        let device = ctx.device();
        let batch_bytes = (channels * frames_per_batch * bins * 4) as u64;
        let buffer = |label, size: u64, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: size.max(16),
                usage,
                mapped_at_creation: false,
            })
        };
        let storage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
        let init = |label, contents: &[u8], usage| {
            use wgpu::util::DeviceExt;
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage,
            })
        };
        let state: Vec<f32> = (0..channels * bins).flat_map(|_| initial_state()).collect();
        let pipelines = ctx.pipelines();
        let track = pipelines.get(device, "denoise", shaders::DENOISE, "track_noise");
        let smooth = pipelines.get(device, "denoise", shaders::DENOISE, "smooth_gains");
        let uniforms = buffer(
            "denoise params",
            std::mem::size_of::<Params>() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        let lane_buffer = buffer(
            "denoise lanes",
            (channels * std::mem::size_of::<Lane>()) as u64,
            storage,
        );
        let floor_buffer = buffer(
            "denoise floors",
            (channels * frames_per_batch * 4) as u64,
            storage,
        );
        let power = buffer("denoise power", batch_bytes, storage);
        let state = init("denoise state", bytemuck::cast_slice(&state), storage);
        let raw = buffer("denoise raw", batch_bytes, wgpu::BufferUsages::STORAGE);
        let profile = init(
            "denoise profile",
            bytemuck::cast_slice(&profile),
            wgpu::BufferUsages::STORAGE,
        );
        let gains = buffer(
            "denoise gains",
            batch_bytes,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        );
        let track_bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("denoise track"),
            layout: &track.get_bind_group_layout(0),
            entries: &[
                entry(0, &uniforms),
                entry(1, &power),
                entry(2, &state),
                entry(3, &raw),
                entry(4, &profile),
                entry(6, &lane_buffer),
                entry(7, &floor_buffer),
            ],
        });
        let smooth_bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("denoise smooth"),
            layout: &smooth.get_bind_group_layout(0),
            entries: &[
                entry(0, &uniforms),
                entry(3, &raw),
                entry(5, &gains),
                entry(6, &lane_buffer),
                entry(7, &floor_buffer),
            ],
        });
        let bank = Self {
            staging: buffer(
                "denoise staging",
                batch_bytes,
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            ),
            track,
            smooth,
            uniforms,
            lane_buffer,
            floor_buffer,
            power,
            gains,
            track_bind,
            smooth_bind,
            channels,
            bins,
            frames_per_batch,
            lanes: vec![Lane::default(); channels],
            floors: vec![gain_floor(reduction_db); channels],
            frame_floors: vec![0.0; channels * frames_per_batch],
            subwindow: subwindow_frames(hop, rate) as u32,
            warmup: warmup_frames(bins, hop) as u32,
            bin_hz: rate / (2 * (bins - 1)) as f32,
            ctx,
        };
        Ok(bank)
    }

    /// Largest number of frames one [`process`](Self::process) call takes.
    pub fn frames_per_batch(&self) -> usize {
        self.frames_per_batch
    }

    /// The final gains of the last batch, `[channel][slot][bin]`.
    pub(super) fn gains_buffer(&self) -> &wgpu::Buffer {
        &self.gains
    }

    /// The bank's adapter.
    pub(super) fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    /// Channels in the bank.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Bins per frame.
    pub fn bins(&self) -> usize {
        self.bins
    }

    /// The gain floor of `channel` in the next [`GpuGainBank::process`] calls, from a
    /// largest reduction in dB.
    pub fn set_reduction_db(&mut self, channel: usize, reduction_db: f32) {
        if let Some(floor) = self.floors.get_mut(channel) {
            *floor = gain_floor(reduction_db);
        }
    }

    /// Sets the largest reduction (dB) of `channel`'s frame `slot` in the next batch.
    pub(super) fn set_frame_reduction_db(
        &mut self,
        channel: usize,
        slot: usize,
        reduction_db: f32,
    ) {
        let at = channel * self.frames_per_batch + slot;
        self.frame_floors[at] = gain_floor(reduction_db);
    }

    /// Gains for the next `frames` frames of every channel: `power` and `gains` are laid out
    /// `[channel][frame][bin]`.
    pub fn process(&mut self, power: &[f32], frames: usize, gains: &mut [f32]) -> Result<()> {
        let values = self.channels * frames * self.bins;
        if frames == 0
            || frames > self.frames_per_batch
            || power.len() != values
            || gains.len() < values
        {
            return Err(DspError::InvalidInput(format!(
                "batch of {frames} frames ({} values) does not fit the bank",
                power.len()
            )));
        }
        for (c, lane) in self.lanes.iter_mut().enumerate() {
            lane.count = frames as u32;
            let floors = &mut self.frame_floors[c * frames..(c + 1) * frames];
            floors.fill(self.floors[c]);
        }
        self.load(power, frames);
        let mut encoder = self
            .ctx
            .device()
            .create_command_encoder(&Default::default());
        self.dispatch(&mut encoder, frames);
        encoder.copy_buffer_to_buffer(&self.gains, 0, &self.staging, 0, (values * 4) as u64);
        let submission = self.ctx.queue().submit(Some(encoder.finish()));
        self.ctx
            .map_and_copy(&self.staging, submission, &mut gains[..values])
    }

    /// Uploads a batch of `slots` frame slots per channel (`power` laid out
    /// `[channel][slot][bin]`, the floors as set laid out `[channel][slot]`), channel `c`
    /// bringing [`Self::set_count`]'s frames, and moves every channel's frame count on by
    /// them.
    pub(super) fn load(&mut self, power: &[f32], slots: usize) {
        let params = Params {
            channels: self.channels as u32,
            bins: self.bins as u32,
            frames: slots as u32,
            subwindow: self.subwindow,
            warmup: self.warmup,
            bin_hz: self.bin_hz,
            pad: [0; 2],
        };
        let queue = self.ctx.queue();
        queue.write_buffer(&self.uniforms, 0, bytemuck::bytes_of(&params));
        queue.write_buffer(&self.lane_buffer, 0, bytemuck::cast_slice(&self.lanes));
        let floors = &self.frame_floors[..self.channels * slots];
        queue.write_buffer(&self.floor_buffer, 0, bytemuck::cast_slice(floors));
        queue.write_buffer(&self.power, 0, bytemuck::cast_slice(power));
        for lane in &mut self.lanes {
            lane.base = lane.base.wrapping_add(lane.count);
        }
    }

    /// How many frames `channel` brings to the next batch.
    pub(super) fn set_count(&mut self, channel: usize, frames: usize) {
        self.lanes[channel].count = frames as u32;
    }

    /// Records the tracking and smoothing of the loaded batch (`slots` frame slots per
    /// channel) into `encoder`.
    pub(super) fn dispatch(&self, encoder: &mut wgpu::CommandEncoder, slots: usize) {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&self.track);
        pass.set_bind_group(0, &self.track_bind, &[]);
        pass.dispatch_workgroups((self.channels * self.bins).div_ceil(64) as u32, 1, 1);
        pass.set_pipeline(&self.smooth);
        pass.set_bind_group(0, &self.smooth_bind, &[]);
        let groups = (self.channels * slots * self.bins).div_ceil(64);
        let x = groups.min(65_535);
        pass.dispatch_workgroups(x as u32, groups.div_ceil(x) as u32, 1);
    }
}
