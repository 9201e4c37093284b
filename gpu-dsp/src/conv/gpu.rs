//! The GPU engine: every tail partition of every convolver in a bank is multiply-accumulated
//! by one WGSL dispatch per block (`shaders/convolution.wgsl`); heads and FFTs stay on the CPU.

use super::convolver::{render_offline, Convolver, ConvolverConfig, RenderShape};
use crate::gpu::{shaders, GpuContext};
use crate::{DspError, Result};
use num_complex::Complex32;
use std::sync::Arc;

/// Mirrors `Job` in `shaders/convolution.wgsl` field for field.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Job {
    fdl_base: u32,
    ir_base: u32,
    count: u32,
    bins: u32,
    head: u32,
    out_base: u32,
    _pad0: u32,
    _pad1: u32,
}

/// Where one GPU-resident segment keeps its data, in complex values.
struct SegmentSlots {
    fdl_base: Vec<u32>,
    ir_base: Vec<u32>,
}

/// A pending job's destination: instance, segment, output channel, result offset.
#[derive(Clone, Copy)]
struct Pending {
    instance: usize,
    segment: usize,
    output: usize,
    out_base: usize,
    bins: usize,
}

/// Many convolvers processed in lockstep, their tail partitions on the GPU.
pub struct GpuConvolverBank {
    ctx: Arc<GpuContext>,
    convolvers: Vec<Convolver>,
    slots: Vec<Vec<SegmentSlots>>,
    fdl_buf: wgpu::Buffer,
    out_buf: wgpu::Buffer,
    jobs_buf: wgpu::Buffer,
    staging: wgpu::Buffer,
    bind: wgpu::BindGroup,
    pipeline: Arc<wgpu::ComputePipeline>,
    jobs: Vec<Job>,
    pending: Vec<Pending>,
    readback: Vec<f32>,
    block: usize,
    dispatches: u64,
}

/// The first segment index that runs on the GPU: the head segment stays on the CPU.
const GPU_FROM: usize = 1;

impl GpuConvolverBank {
    /// Builds one convolver per `(ir, input channels)` pair and uploads every tail IR.
    pub fn new(
        ctx: Arc<GpuContext>,
        irs: &[(Vec<Vec<f32>>, usize)],
        config: ConvolverConfig,
    ) -> Result<Self> {
        let mut convolvers = Vec::with_capacity(irs.len());
        for (ir, inputs) in irs {
            let planes: Vec<&[f32]> = ir.iter().map(|c| c.as_slice()).collect();
            convolvers.push(Convolver::with_external_tail(
                &planes, *inputs, config, GPU_FROM,
            )?);
        }
        let mut ir_data: Vec<Complex32> = Vec::new();
        let mut fdl_len = 0usize;
        let mut max_jobs = 0usize;
        let mut max_out = 0usize;
        let mut slots = Vec::with_capacity(convolvers.len());
        for conv in &convolvers {
            let mut per_seg = Vec::new();
            for seg in conv.segments.iter().skip(GPU_FROM) {
                let span = seg.seg.count * seg.bins;
                let mut fdl_base = Vec::new();
                for _ in 0..conv.routing().inputs {
                    fdl_base.push(to_u32(fdl_len)?);
                    fdl_len += span;
                }
                let mut ir_base = Vec::new();
                for spectra in &seg.ir {
                    ir_base.push(to_u32(ir_data.len())?);
                    ir_data.extend_from_slice(spectra);
                }
                max_jobs += conv.routing().routes.len();
                max_out += conv.routing().routes.len() * seg.bins;
                per_seg.push(SegmentSlots { fdl_base, ir_base });
            }
            slots.push(per_seg);
        }
        let limit = u64::from(ctx.info().max_storage_buffer_binding_size);
        for (what, bytes) in [
            ("delay lines", fdl_len * 8),
            ("IR spectra", ir_data.len() * 8),
        ] {
            if bytes as u64 > limit {
                return Err(DspError::Gpu(format!(
                    "{what} need {bytes} bytes, more than the adapter's storage binding limit {limit}"
                )));
            }
        }
        let device = ctx.device();
        let storage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
        let make = |label, size: usize, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: (size.max(4) as u64 * 8).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT),
                usage,
                mapped_at_creation: false,
            })
        };
        let fdl_buf = make("fdl", fdl_len, storage);
        let ir_buf = make("ir spectra", ir_data.len(), storage);
        ctx.queue()
            .write_buffer(&ir_buf, 0, bytemuck::cast_slice(&ir_data));
        let out_buf = make(
            "mac out",
            max_out,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        );
        let jobs_buf = make("jobs", max_jobs * 4, storage);
        let staging = make(
            "mac staging",
            max_out,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );
        let pipeline = ctx
            .pipelines()
            .get(device, "convolution", shaders::CONVOLUTION, "mac");
        let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("convolution"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: jobs_buf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: fdl_buf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: ir_buf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: out_buf.as_entire_binding(),
                },
            ],
        });
        Ok(Self {
            ctx,
            convolvers,
            slots,
            fdl_buf,
            out_buf,
            jobs_buf,
            staging,
            bind,
            pipeline,
            jobs: Vec::with_capacity(max_jobs),
            pending: Vec::with_capacity(max_jobs),
            readback: vec![0.0; max_out * 2],
            block: config.block,
            dispatches: 0,
        })
    }

    /// The convolvers of the bank (for latency, routing and plans).
    pub fn convolvers(&self) -> &[Convolver] {
        &self.convolvers
    }

    /// GPU dispatches issued so far (one per block in which any tail partition fired).
    pub fn dispatches(&self) -> u64 {
        self.dispatches
    }

    /// Processes the same number of samples for every convolver: `inputs[i]` and
    /// `outputs[i]` are the planar channels of convolver `i`.
    pub fn process(
        &mut self,
        inputs: &[&[&[f32]]],
        outputs: &mut [&mut [&mut [f32]]],
    ) -> Result<()> {
        assert_eq!(
            inputs.len(),
            self.convolvers.len(),
            "one input per convolver"
        );
        assert_eq!(
            outputs.len(),
            self.convolvers.len(),
            "one output per convolver"
        );
        let n = inputs
            .first()
            .and_then(|c| c.first())
            .map_or(0, |c| c.len());
        let mut done = 0;
        while done < n {
            let fill = self.convolvers.first().map_or(0, |c| c.fill_level());
            let take = (self.block - fill).min(n - done);
            for ((conv, input), output) in self
                .convolvers
                .iter_mut()
                .zip(inputs)
                .zip(outputs.iter_mut())
            {
                conv.feed(input, output, done, take);
            }
            done += take;
            if fill + take == self.block {
                self.block_boundary()?;
            }
        }
        Ok(())
    }

    fn block_boundary(&mut self) -> Result<()> {
        self.jobs.clear();
        self.pending.clear();
        let mut out_base = 0usize;
        let queue = self.ctx.queue();
        for (ci, conv) in self.convolvers.iter_mut().enumerate() {
            conv.begin_block();
            for si in GPU_FROM..conv.segments.len() {
                if !conv.fires(si) {
                    continue;
                }
                let seg = &conv.segments[si];
                let slot = &self.slots[ci][si - GPU_FROM];
                for (input, spectrum) in seg.newest.iter().enumerate() {
                    let at = (slot.fdl_base[input] as usize + seg.head * seg.bins) * 8;
                    queue.write_buffer(&self.fdl_buf, at as u64, bytemuck::cast_slice(spectrum));
                }
                for r in &conv.routing().routes {
                    self.jobs.push(Job {
                        fdl_base: slot.fdl_base[r.input],
                        ir_base: slot.ir_base[r.ir],
                        count: seg.seg.count as u32,
                        bins: seg.bins as u32,
                        head: seg.head as u32,
                        out_base: out_base as u32,
                        ..Default::default()
                    });
                    self.pending.push(Pending {
                        instance: ci,
                        segment: si,
                        output: r.output,
                        out_base,
                        bins: seg.bins,
                    });
                    out_base += seg.bins;
                }
            }
        }
        if !self.jobs.is_empty() {
            self.dispatch(out_base)?;
            for conv in &mut self.convolvers {
                for si in GPU_FROM..conv.segments.len() {
                    if conv.fires(si) {
                        for acc in &mut conv.segments[si].acc {
                            acc.fill(Complex32::default());
                        }
                    }
                }
            }
            for p in &self.pending {
                let src: &[Complex32] =
                    bytemuck::cast_slice(&self.readback[p.out_base * 2..(p.out_base + p.bins) * 2]);
                let acc = &mut self.convolvers[p.instance].segments[p.segment].acc[p.output];
                for (a, s) in acc.iter_mut().zip(src) {
                    *a += *s;
                }
            }
        }
        for conv in &mut self.convolvers {
            conv.end_block();
        }
        Ok(())
    }

    /// One dispatch for all jobs, then a readback of `values` complex results.
    fn dispatch(&mut self, values: usize) -> Result<()> {
        let queue = self.ctx.queue();
        queue.write_buffer(&self.jobs_buf, 0, bytemuck::cast_slice(&self.jobs));
        let max_bins = self.jobs.iter().map(|j| j.bins).max().unwrap_or(1);
        let mut encoder = self
            .ctx
            .device()
            .create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind, &[]);
            pass.dispatch_workgroups(max_bins.div_ceil(64), self.jobs.len() as u32, 1);
        }
        let bytes = (values * 8) as u64;
        encoder.copy_buffer_to_buffer(&self.out_buf, 0, &self.staging, 0, bytes);
        queue.submit(Some(encoder.finish()));
        self.dispatches += 1;
        self.ctx
            .map_and_copy(&self.staging, &mut self.readback[..values * 2])
    }

    /// Offline convenience for a bank of one: the whole `x ∗ h`, latency removed.
    pub fn render(
        &mut self,
        input: &[&[f32]],
        chunk: usize,
        progress: impl FnMut(f64),
    ) -> Result<Vec<Vec<f32>>> {
        if self.convolvers.len() != 1 {
            return Err(DspError::InvalidInput(
                "render needs a bank of exactly one convolver".into(),
            ));
        }
        let shape = RenderShape::of(&self.convolvers[0], input);
        render_offline(shape, input, chunk, progress, |i, o| {
            self.process(&[i], &mut [o])
        })
    }
}

fn to_u32(v: usize) -> Result<u32> {
    u32::try_from(v).map_err(|_| DspError::Gpu("convolution data exceeds 2^32 values".into()))
}
