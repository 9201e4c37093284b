//! The GPU engine: every tail partition of every convolver in a bank is multiply-accumulated
//! by one WGSL dispatch per block (`shaders/convolution.wgsl`); heads and FFTs stay on the CPU.
//!
//! The tail is pipelined: the dispatch for the block that ends at input count `t` is read
//! back at the next block boundary, through a ring of two staging buffers, so the engine never
//! waits on the work it has just submitted. The partition plan gives every tail segment one
//! block of extra slack (`offset >= size - latency + block`), so the result is still in time.

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

/// A submitted job's destination: instance, segment, output channel, result offset.
#[derive(Clone, Copy)]
struct Pending {
    instance: usize,
    segment: usize,
    output: usize,
    out_base: usize,
    bins: usize,
}

/// One slot of the readback ring: a staging buffer and what its dispatch computed.
struct InFlight {
    staging: wgpu::Buffer,
    pending: Vec<Pending>,
    /// Input sample count at the boundary where the dispatch was issued.
    fired_at: u64,
    values: usize,
    submission: Option<wgpu::SubmissionIndex>,
}

/// Many convolvers processed in lockstep, their tail partitions on the GPU.
pub struct GpuConvolverBank {
    ctx: Arc<GpuContext>,
    convolvers: Vec<Convolver>,
    slots: Vec<Vec<SegmentSlots>>,
    fdl_buf: wgpu::Buffer,
    out_buf: wgpu::Buffer,
    jobs_buf: wgpu::Buffer,
    bind: wgpu::BindGroup,
    pipeline: Arc<wgpu::ComputePipeline>,
    jobs: Vec<Job>,
    ring: [InFlight; 2],
    current: usize,
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
                &planes,
                *inputs,
                config,
                GPU_FROM,
                config.block,
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
        // Sizes in complex values (8 bytes); at least one 32-byte job.
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
        let staging_usage = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
        let in_flight = |label| InFlight {
            staging: make(label, max_out, staging_usage),
            pending: Vec::with_capacity(max_jobs),
            fired_at: 0,
            values: 0,
            submission: None,
        };
        let ring = [in_flight("mac staging 0"), in_flight("mac staging 1")];
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
            bind,
            pipeline,
            jobs: Vec::with_capacity(max_jobs),
            ring,
            current: 0,
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

    /// One block boundary: CPU heads and FFTs, this block's tail dispatch, the previous
    /// block's tail results, then the next output block of every convolver.
    fn block_boundary(&mut self) -> Result<()> {
        for conv in &mut self.convolvers {
            conv.begin_block();
        }
        self.submit_tail()?;
        self.current ^= 1;
        self.collect_previous()?;
        for conv in &mut self.convolvers {
            conv.end_block();
        }
        Ok(())
    }

    /// Uploads the new input spectra of every firing tail segment and dispatches all of
    /// their multiply-accumulates at once into the current staging slot.
    fn submit_tail(&mut self) -> Result<()> {
        self.jobs.clear();
        let slot = &mut self.ring[self.current];
        slot.pending.clear();
        slot.submission = None;
        let mut out_base = 0usize;
        let queue = self.ctx.queue();
        for (ci, conv) in self.convolvers.iter().enumerate() {
            slot.fired_at = conv.block_end();
            for si in GPU_FROM..conv.segments.len() {
                if !conv.fires(si) {
                    continue;
                }
                let seg = &conv.segments[si];
                let where_ = &self.slots[ci][si - GPU_FROM];
                for (input, spectrum) in seg.newest.iter().enumerate() {
                    let at = (where_.fdl_base[input] as usize + seg.head * seg.bins) * 8;
                    queue.write_buffer(&self.fdl_buf, at as u64, bytemuck::cast_slice(spectrum));
                }
                for r in &conv.routing().routes {
                    self.jobs.push(Job {
                        fdl_base: where_.fdl_base[r.input],
                        ir_base: where_.ir_base[r.ir],
                        count: seg.seg.count as u32,
                        bins: seg.bins as u32,
                        head: seg.head as u32,
                        out_base: out_base as u32,
                        ..Default::default()
                    });
                    slot.pending.push(Pending {
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
        slot.values = out_base;
        if self.jobs.is_empty() {
            return Ok(());
        }
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
        let bytes = (out_base * 8) as u64;
        encoder.copy_buffer_to_buffer(&self.out_buf, 0, &slot.staging, 0, bytes);
        slot.submission = Some(queue.submit(Some(encoder.finish())));
        slot.staging
            .slice(..bytes)
            .map_async(wgpu::MapMode::Read, |_| {});
        self.dispatches += 1;
        Ok(())
    }

    /// Waits for the dispatch issued one block ago (normally long finished), and delivers its
    /// results to the convolvers' output rings.
    fn collect_previous(&mut self) -> Result<()> {
        let slot = &mut self.ring[self.current];
        let Some(submission) = slot.submission.take() else {
            return Ok(());
        };
        self.ctx
            .device()
            .poll(wgpu::PollType::Wait {
                submission_index: Some(submission),
                timeout: None,
            })
            .map_err(|e| DspError::Gpu(e.to_string()))?;
        let values = slot.values;
        {
            let bytes = (values * 8) as u64;
            let view = slot.staging.slice(..bytes).get_mapped_range();
            self.readback[..values * 2].copy_from_slice(bytemuck::cast_slice(&view));
        }
        slot.staging.unmap();
        for p in &slot.pending {
            let seg = &mut self.convolvers[p.instance].segments[p.segment];
            for acc in &mut seg.acc {
                acc.fill(Complex32::default());
            }
        }
        for p in &slot.pending {
            let src: &[Complex32] =
                bytemuck::cast_slice(&self.readback[p.out_base * 2..(p.out_base + p.bins) * 2]);
            let acc = &mut self.convolvers[p.instance].segments[p.segment].acc[p.output];
            for (a, s) in acc.iter_mut().zip(src) {
                *a += *s;
            }
        }
        let fired_at = slot.fired_at;
        let mut last = None;
        for p in &slot.pending {
            // Routes of one segment are contiguous: deliver each (instance, segment) once.
            if last != Some((p.instance, p.segment)) {
                self.convolvers[p.instance].deliver(p.segment, fired_at);
                last = Some((p.instance, p.segment));
            }
        }
        Ok(())
    }

    /// Forgets all past input: finishes any dispatch still in flight, clears every delay line
    /// (CPU and GPU) and the convolvers' state.
    pub fn reset(&mut self) -> Result<()> {
        self.ctx.wait_idle()?;
        for slot in &mut self.ring {
            if slot.submission.take().is_some() {
                slot.staging.unmap();
            }
            slot.pending.clear();
        }
        let zeros = vec![0u8; self.fdl_buf.size() as usize];
        self.ctx.queue().write_buffer(&self.fdl_buf, 0, &zeros);
        for conv in &mut self.convolvers {
            conv.reset();
        }
        Ok(())
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
        self.reset()?;
        let shape = RenderShape::of(&self.convolvers[0], input);
        render_offline(shape, input, chunk, progress, |i, o| {
            self.process(&[i], &mut [o])
        })
    }
}

fn to_u32(v: usize) -> Result<u32> {
    u32::try_from(v).map_err(|_| DspError::Gpu("convolution data exceeds 2^32 values".into()))
}
