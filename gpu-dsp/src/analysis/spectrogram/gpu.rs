//! The GPU spectrogram: windowing, a radix-2 Stockham FFT (one dispatch per stage over every
//! frame of a batch) and the per-bin power/dB work run in `shaders/stft.wgsl`; the CPU only
//! uploads samples and reads finished dB rows back.

use super::{hann, Spectrogram, SpectrogramConfig};
use crate::gpu::{bind_entry as entry, shaders, GpuContext};
use crate::{DspError, Result};
use std::sync::Arc;

/// Mirrors `Params` in `shaders/stft.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct Params {
    pub n: u32,
    pub ns: u32,
    pub items: u32,
    pub hop: u32,
    pub span: u32,
    pub frames: u32,
    pub channels: u32,
    pub bins: u32,
    pub scale: f32,
    pub floor_db: f32,
    pub _pad0: u32,
    pub _pad1: u32,
}

impl Params {
    /// The spectrogram's parameters for `frames` frames of `channels` channels, frame `f`
    /// at sample `f·hop` of the uploaded span.
    pub(crate) fn frames(config: SpectrogramConfig, channels: usize, frames: usize) -> Self {
        let (n, hop) = (config.fft, config.hop);
        Self {
            n: n as u32,
            ns: 1,
            items: (channels * frames) as u32,
            hop: hop as u32,
            span: ((frames.max(1) - 1) * hop + n) as u32,
            frames: frames as u32,
            channels: channels as u32,
            bins: config.bins() as u32,
            scale: config.scale(),
            floor_db: config.floor_db,
            ..Default::default()
        }
    }
}

/// Uniform slots are 256 bytes apart (the WebGPU dynamic-offset alignment).
pub(crate) const SLOT: u64 = 256;
/// Complex values per FFT work buffer (8 MiB·8 = 64 MiB), which bounds a batch.
const MAX_VALUES: usize = 1 << 23;

/// The STFT kernels of `shaders/stft.wgsl` for one FFT size: the bind group layout
/// (0 params with a dynamic offset, 1 samples, 2 window, 3 twiddles, 4–5 the FFT's ping-pong
/// buffers, 6 the output, 7 band bin ranges), the pipelines, the window and the twiddles.
/// Shared by the spectrogram and the masking band powers.
pub(crate) struct StftKernels {
    pub n: usize,
    pub layout: wgpu::BindGroupLayout,
    pub load: wgpu::ComputePipeline,
    pub stage_ab: wgpu::ComputePipeline,
    pub stage_ba: wgpu::ComputePipeline,
    pub power: wgpu::ComputePipeline,
    pub band_power: wgpu::ComputePipeline,
    pub window: wgpu::Buffer,
    pub twiddle: wgpu::Buffer,
}

impl StftKernels {
    /// Compiles the kernels for `n`-point transforms and uploads the window and twiddles.
    pub fn new(ctx: &GpuContext, n: usize) -> Self {
        let device = ctx.device();
        let storage = |binding, read_only| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("stft"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: true,
                        min_binding_size: wgpu::BufferSize::new(
                            std::mem::size_of::<Params>() as u64
                        ),
                    },
                    count: None,
                },
                storage(1, true),
                storage(2, true),
                storage(3, true),
                storage(4, false),
                storage(5, false),
                storage(6, false),
                storage(7, true),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("stft"),
            bind_group_layouts: &[&layout],
            push_constant_ranges: &[],
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("stft"),
            source: wgpu::ShaderSource::Wgsl(shaders::STFT.into()),
        });
        let pipeline = |entry| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let twiddles: Vec<[f32; 2]> = (0..n / 2)
            .map(|k| {
                let a = -std::f64::consts::TAU * k as f64 / n as f64;
                [a.cos() as f32, a.sin() as f32]
            })
            .collect();
        let init = |label, contents: &[u8]| {
            use wgpu::util::DeviceExt;
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage: wgpu::BufferUsages::STORAGE,
            })
        };
        Self {
            n,
            window: init("stft window", bytemuck::cast_slice(&hann(n))),
            twiddle: init("stft twiddles", bytemuck::cast_slice(&twiddles)),
            load: pipeline("load_frames"),
            stage_ab: pipeline("fft_stage_ab"),
            stage_ba: pipeline("fft_stage_ba"),
            power: pipeline("power"),
            band_power: pipeline("band_power"),
            layout,
        }
    }

    /// The bind group of one engine's buffers: `uniforms` (slots of [`StftKernels::slots`]),
    /// `samples`, the ping-pong `a` and `b`, the output, and the band ranges (any buffer
    /// when the band kernel is not used).
    #[allow(clippy::too_many_arguments)]
    pub fn bind(
        &self,
        device: &wgpu::Device,
        uniforms: &wgpu::Buffer,
        samples: &wgpu::Buffer,
        a: &wgpu::Buffer,
        b: &wgpu::Buffer,
        out: &wgpu::Buffer,
        ranges: Option<&wgpu::Buffer>,
    ) -> wgpu::BindGroup {
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("stft"),
            layout: &self.layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: uniforms,
                        offset: 0,
                        size: wgpu::BufferSize::new(std::mem::size_of::<Params>() as u64),
                    }),
                },
                entry(1, samples),
                entry(2, &self.window),
                entry(3, &self.twiddle),
                entry(4, a),
                entry(5, b),
                entry(6, out),
                entry(7, ranges.unwrap_or(&self.window)),
            ],
        })
    }

    /// FFT stages: log2(n).
    pub fn stages(&self) -> usize {
        self.n.trailing_zeros() as usize
    }

    /// Writes the uniform slots for one batch: slot 0 `base` (the load), slots 1..=stages the
    /// FFT stages, the last `last` with `ns` set to say which buffer holds the spectra (1: a,
    /// 2: b).
    pub fn slots(&self, base: Params, last: Params) -> Vec<u8> {
        let stages = self.stages();
        let mut slots = vec![0u8; (stages + 2) * SLOT as usize];
        let mut put = |slot: usize, p: Params| {
            let at = slot * SLOT as usize;
            slots[at..at + std::mem::size_of::<Params>()].copy_from_slice(bytemuck::bytes_of(&p));
        };
        put(0, base);
        for s in 0..stages {
            put(1 + s, Params { ns: 1 << s, ..base });
        }
        let ns = if stages.is_multiple_of(2) { 1 } else { 2 };
        put(stages + 1, Params { ns, ..last });
        slots
    }

    /// Records the load, the FFT stages and `last` (the power or band kernel) for `items`
    /// transforms and `outputs` output values into `pass`.
    pub fn record(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        last: &wgpu::ComputePipeline,
        items: usize,
        outputs: usize,
    ) {
        let (n, stages) = (self.n, self.stages());
        let mut run = |pipeline: &wgpu::ComputePipeline, slot: usize, threads: usize| {
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, bind, &[(slot as u64 * SLOT) as u32]);
            let groups = threads.div_ceil(256);
            let x = groups.min(65_535) as u32;
            let y = groups.div_ceil(65_535) as u32;
            pass.dispatch_workgroups(x, y, 1);
        };
        run(&self.load, 0, items * n);
        for s in 0..stages {
            let pipeline = if s % 2 == 0 {
                &self.stage_ab
            } else {
                &self.stage_ba
            };
            run(pipeline, 1 + s, items * n / 2);
        }
        run(last, stages + 1, outputs);
    }
}

/// A GPU STFT plan for one FFT size and channel count; reusable across files.
pub struct GpuSpectrogram {
    ctx: Arc<GpuContext>,
    config: SpectrogramConfig,
    channels: usize,
    frames_per_batch: usize,
    kernels: StftKernels,
    /// The work buffers and their staging buffer, kept between calls.
    work: std::sync::Mutex<Option<(Work, wgpu::Buffer)>>,
}

/// A spectrogram's GPU work buffers for batches of up to `frames` frames of `channels`
/// channels, and their bind group (which keeps the FFT's ping-pong buffers alive); the
/// power rows land in `power`, for a copy to a staging buffer.
pub(super) struct Work {
    pub frames: usize,
    pub uniforms: wgpu::Buffer,
    pub samples: wgpu::Buffer,
    pub power: wgpu::Buffer,
    pub bind: wgpu::BindGroup,
}

impl Work {
    pub fn new(
        device: &wgpu::Device,
        k: &StftKernels,
        (channels, frames, max_span, bins): (usize, usize, usize, usize),
    ) -> Self {
        let storage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
        let uniforms = buffer(
            device,
            "stft params",
            (k.stages() + 2) * SLOT as usize,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        let samples = buffer(device, "stft samples", channels * max_span * 4, storage);
        let work_bytes = channels * frames * k.n * 8;
        let a = buffer(device, "stft a", work_bytes, wgpu::BufferUsages::STORAGE);
        let b = buffer(device, "stft b", work_bytes, wgpu::BufferUsages::STORAGE);
        let power = buffer(
            device,
            "stft power",
            frames * bins * 4,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        );
        let bind = k.bind(device, &uniforms, &samples, &a, &b, &power, None);
        Self {
            frames,
            uniforms,
            samples,
            power,
            bind,
        }
    }
}

/// A buffer of `size` bytes (at least 16) for `usage`.
pub(super) fn buffer(
    device: &wgpu::Device,
    label: &str,
    size: usize,
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: size.max(16) as u64,
        usage,
        mapped_at_creation: false,
    })
}

/// A staging buffer for `frames` rows of `bins` values.
pub(super) fn staging_buffer(
    device: &wgpu::Device,
    label: &str,
    frames: usize,
    bins: usize,
) -> wgpu::Buffer {
    buffer(
        device,
        label,
        frames * bins * 4,
        wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
    )
}

impl GpuSpectrogram {
    /// Compiles the kernels and uploads the window and twiddle table.
    pub fn new(ctx: Arc<GpuContext>, config: SpectrogramConfig, channels: usize) -> Result<Self> {
        if channels == 0 {
            return Err(DspError::InvalidInput("no channels".into()));
        }
        let n = config.fft;
        let frames_per_batch = (MAX_VALUES / n / channels).max(1);
        Ok(Self {
            kernels: StftKernels::new(&ctx, n),
            work: std::sync::Mutex::new(None),
            ctx,
            config,
            channels,
            frames_per_batch,
        })
    }

    /// Spectrogram of planar `channels` (as many as the plan was made for).
    pub fn compute(&self, channels: &[&[f32]], sample_rate: u32) -> Result<Spectrogram> {
        if channels.len() != self.channels {
            return Err(DspError::InvalidInput(format!(
                "plan is for {} channels, got {}",
                self.channels,
                channels.len()
            )));
        }
        let c = self.config;
        let (n, hop, bins) = (c.fft, c.hop, c.bins());
        let len = channels[0].len();
        let frames = c.frames(len);
        let fb = self.frames_per_batch.min(frames);
        let max_span = (fb - 1) * hop + n;
        let device = self.ctx.device();
        let k = &self.kernels;
        // The work buffers and their bind group are kept between calls and only remade
        // when a call needs larger batches.
        let mut work = self.work.lock().unwrap_or_else(|e| e.into_inner());
        let (work, staging) = match work.take() {
            Some(w) if w.0.frames >= fb => work.insert(w),
            _ => work.insert((
                Work::new(device, k, (self.channels, fb, max_span, bins)),
                staging_buffer(device, "stft staging", fb, bins),
            )),
        };
        let Work {
            uniforms,
            samples,
            power,
            bind,
            ..
        } = &*work;
        let mut db = vec![0.0f32; frames * bins];
        let mut upload = vec![0.0f32; self.channels * max_span];
        let mut first = 0;
        while first < frames {
            let count = fb.min(frames - first);
            let span = (count - 1) * hop + n;
            let start = first * hop;
            for (ch, x) in channels.iter().enumerate() {
                let dst = &mut upload[ch * span..(ch + 1) * span];
                let avail = len.saturating_sub(start).min(span);
                if avail > 0 {
                    dst[..avail].copy_from_slice(&x[start..start + avail]);
                }
                dst[avail..].fill(0.0);
            }
            let queue = self.ctx.queue();
            queue.write_buffer(
                samples,
                0,
                bytemuck::cast_slice(&upload[..self.channels * span]),
            );
            let base = Params::frames(c, self.channels, count);
            let slots = k.slots(base, base);
            queue.write_buffer(uniforms, 0, &slots);
            let mut encoder = device.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                k.record(
                    &mut pass,
                    bind,
                    &k.power,
                    self.channels * count,
                    count * bins,
                );
            }
            encoder.copy_buffer_to_buffer(power, 0, staging, 0, (count * bins * 4) as u64);
            let submission = queue.submit(Some(encoder.finish()));
            self.ctx.map_and_copy(
                staging,
                submission,
                &mut db[first * bins..(first + count) * bins],
            )?;
            first += count;
        }
        Ok(Spectrogram {
            config: c,
            sample_rate,
            frames,
            bins,
            db,
        })
    }
}
