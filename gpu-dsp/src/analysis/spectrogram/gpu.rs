//! The GPU spectrogram: windowing, a radix-2 Stockham FFT (one dispatch per stage over every
//! frame of a batch) and the per-bin power/dB work run in `shaders/stft.wgsl`; the CPU only
//! uploads samples and reads finished dB rows back.

use super::{hann, Spectrogram, SpectrogramConfig};
use crate::gpu::{shaders, GpuContext};
use crate::{DspError, Result};
use std::sync::Arc;

/// Mirrors `Params` in `shaders/stft.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    ns: u32,
    items: u32,
    hop: u32,
    span: u32,
    frames: u32,
    channels: u32,
    bins: u32,
    scale: f32,
    floor_db: f32,
    _pad0: u32,
    _pad1: u32,
}

/// Uniform slots are 256 bytes apart (the WebGPU dynamic-offset alignment).
const SLOT: u64 = 256;
/// Complex values per FFT work buffer (8 MiB·8 = 64 MiB), which bounds a batch.
const MAX_VALUES: usize = 1 << 23;

/// A GPU STFT plan for one FFT size and channel count; reusable across files.
pub struct GpuSpectrogram {
    ctx: Arc<GpuContext>,
    config: SpectrogramConfig,
    channels: usize,
    frames_per_batch: usize,
    layout: wgpu::BindGroupLayout,
    load: wgpu::ComputePipeline,
    stage_ab: wgpu::ComputePipeline,
    stage_ba: wgpu::ComputePipeline,
    power: wgpu::ComputePipeline,
    window: wgpu::Buffer,
    twiddle: wgpu::Buffer,
}

impl GpuSpectrogram {
    /// Compiles the kernels and uploads the window and twiddle table.
    pub fn new(ctx: Arc<GpuContext>, config: SpectrogramConfig, channels: usize) -> Result<Self> {
        if channels == 0 {
            return Err(DspError::InvalidInput("no channels".into()));
        }
        let n = config.fft;
        let frames_per_batch = (MAX_VALUES / n / channels).max(1);
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
        Ok(Self {
            window: init("stft window", bytemuck::cast_slice(&hann(n))),
            twiddle: init("stft twiddles", bytemuck::cast_slice(&twiddles)),
            load: pipeline("load_frames"),
            stage_ab: pipeline("fft_stage_ab"),
            stage_ba: pipeline("fft_stage_ba"),
            power: pipeline("power"),
            layout,
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
        // Work buffers come from the context's pool, so repeated calls (live spectrograms)
        // reuse them instead of allocating GPU memory every time.
        let pool = self.ctx.buffers();
        let buffer =
            |_label: &str, size: usize, usage| pool.take(device, size.max(16) as u64, usage);
        let storage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
        let stages = n.trailing_zeros() as usize;
        let uniforms = buffer(
            "stft params",
            (stages + 2) * SLOT as usize,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        let samples = buffer("stft samples", self.channels * max_span * 4, storage);
        let work_bytes = self.channels * fb * n * 8;
        let a = buffer("stft a", work_bytes, wgpu::BufferUsages::STORAGE);
        let b = buffer("stft b", work_bytes, wgpu::BufferUsages::STORAGE);
        let power = buffer(
            "stft power",
            fb * bins * 4,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        );
        let staging = buffer(
            "stft staging",
            fb * bins * 4,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );
        let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("stft"),
            layout: &self.layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &uniforms,
                        offset: 0,
                        size: wgpu::BufferSize::new(std::mem::size_of::<Params>() as u64),
                    }),
                },
                entry(1, &samples),
                entry(2, &self.window),
                entry(3, &self.twiddle),
                entry(4, &a),
                entry(5, &b),
                entry(6, &power),
            ],
        });
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
                &samples,
                0,
                bytemuck::cast_slice(&upload[..self.channels * span]),
            );
            let base = Params {
                n: n as u32,
                ns: 1,
                items: (self.channels * count) as u32,
                hop: hop as u32,
                span: span as u32,
                frames: count as u32,
                channels: self.channels as u32,
                bins: bins as u32,
                scale: c.scale(),
                floor_db: c.floor_db,
                ..Default::default()
            };
            let mut slots = vec![0u8; (stages + 2) * SLOT as usize];
            let mut put = |slot: usize, p: Params| {
                let at = slot * SLOT as usize;
                slots[at..at + std::mem::size_of::<Params>()]
                    .copy_from_slice(bytemuck::bytes_of(&p));
            };
            put(0, base);
            for s in 0..stages {
                put(1 + s, Params { ns: 1 << s, ..base });
            }
            // The power kernel reads `a` when the stage count is even (ns = 1 flags it).
            put(
                stages + 1,
                Params {
                    ns: if stages.is_multiple_of(2) { 1 } else { 2 },
                    ..base
                },
            );
            queue.write_buffer(&uniforms, 0, &slots);
            let mut encoder = device.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                let items = self.channels * count;
                let mut run = |pipeline: &wgpu::ComputePipeline, slot: usize, threads: usize| {
                    pass.set_pipeline(pipeline);
                    pass.set_bind_group(0, &bind, &[(slot as u64 * SLOT) as u32]);
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
                run(&self.power, stages + 1, count * bins);
            }
            encoder.copy_buffer_to_buffer(&power, 0, &staging, 0, (count * bins * 4) as u64);
            queue.submit(Some(encoder.finish()));
            self.ctx
                .map_and_copy(&staging, &mut db[first * bins..(first + count) * bins])?;
            first += count;
        }
        drop(bind);
        for b in [uniforms, samples, a, b, power, staging] {
            pool.give(b);
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

fn entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: buffer.as_entire_binding(),
    }
}
