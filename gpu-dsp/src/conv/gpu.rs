//! The GPU engine: the multiply-accumulate of every tail partition of every convolver placed
//! in a [`GpuTail`] runs as one WGSL dispatch in one queue submission per block
//! (`shaders/convolution.wgsl`); heads and FFTs stay on the CPU.
//!
//! The protocol, per engine block (at most one block boundary per convolver in between):
//! 1. [`GpuTail::collect`] turns a ring of two staging buffers and reads the submission made
//!    two blocks ago, already mapped by the context's poll thread (the engine never polls or
//!    waits on the queue; with the GPU more than two blocks behind it sleeps until that
//!    slot's mapping arrives), and [`GpuTail::deliver`] hands each convolver its results;
//! 2. the convolvers run on the CPU wherever their owners run them (several threads);
//! 3. [`GpuTail::stage`] takes the new input spectra of every convolver that crossed a
//!    boundary and [`GpuTail::submit`] dispatches all of their tails at once.
//!
//! The partition plan gives every tail segment two blocks of extra slack
//! (`offset >= size - latency + 2·block`), so results read back two blocks later are still in
//! time.
//! [`TailArena`] plans the buffers (one [`TailRegion`] per convolver); [`TailBuffers::place`]
//! puts a convolver's IR in a region (also off the engine thread, for IR swaps).

use super::convolver::{render_offline, Convolver, ConvolverConfig, RenderShape};
use crate::gpu::{bind_entry, shaders, GpuContext, StagingSlot};
use crate::{DspError, Result};
use num_complex::Complex32;
use std::sync::atomic::{AtomicU32, Ordering};
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

/// The first segment index that runs on the GPU: the head segment stays on the CPU.
pub(crate) const GPU_FROM: usize = 1;

/// Where one placed convolver keeps its tail on the GPU, in complex values.
pub(crate) struct TailLayout {
    /// Unique per placement: results in flight are matched to their convolver by it, and a
    /// region re-placed since is detected.
    id: u32,
    region: usize,
    /// Per GPU segment, per input channel: slot 0 of its delay line.
    fdl_base: Vec<Vec<u32>>,
    /// Per GPU segment, per IR channel: partition 0 of its spectra.
    ir_base: Vec<Vec<u32>>,
}

/// What a convolver's GPU tail occupies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Footprint {
    /// Complex values of delay lines.
    fdl: usize,
    /// Complex values of IR spectra.
    ir: usize,
    /// Jobs in one block at most (every segment firing at once).
    jobs: usize,
    /// Complex result values in one block at most.
    values: usize,
}

impl Footprint {
    fn of(conv: &Convolver) -> Self {
        let routes = conv.routing().routes.len();
        let mut f = Self::default();
        for seg in conv.segments.iter().skip(conv.external_from) {
            let span = seg.seg.count * seg.bins;
            f.fdl += span * conv.routing().inputs;
            f.ir += span * seg.ir.len();
            f.jobs += routes;
            f.values += routes * seg.bins;
        }
        f
    }

    fn fits(&self, room: &Self) -> bool {
        self.fdl <= room.fdl
            && self.ir <= room.ir
            && self.jobs <= room.jobs
            && self.values <= room.values
    }
}

/// Room reserved in a [`TailArena`] for one convolver's tail (and later any that fits).
#[derive(Clone, Copy, Debug)]
pub struct TailRegion {
    index: usize,
    fdl_at: usize,
    ir_at: usize,
    room: Footprint,
}

/// Plans the buffers of a [`GpuTail`]: one region per convolver it will hold.
#[derive(Default)]
pub struct TailArena {
    total: Footprint,
    regions: usize,
}

impl TailArena {
    /// Reserves room for `conv`'s GPU tail.
    pub fn reserve(&mut self, conv: &Convolver) -> TailRegion {
        let room = Footprint::of(conv);
        let region = TailRegion {
            index: self.regions,
            fdl_at: self.total.fdl,
            ir_at: self.total.ir,
            room,
        };
        self.regions += 1;
        self.total.fdl += room.fdl;
        self.total.ir += room.ir;
        self.total.jobs += room.jobs;
        self.total.values += room.values;
        region
    }

    /// Regions reserved so far.
    pub fn regions(&self) -> usize {
        self.regions
    }
}

/// The GPU-resident delay lines and IR spectra, shared with whoever places convolvers.
pub struct TailBuffers {
    ctx: Arc<GpuContext>,
    fdl: wgpu::Buffer,
    ir: wgpu::Buffer,
    /// Per region: the id of the placement that owns it.
    owners: Vec<AtomicU32>,
    next_id: AtomicU32,
}

impl TailBuffers {
    /// Puts `conv`'s tail in `region`: uploads its IR spectra, clears its delay lines. Any
    /// convolver placed there before is detached (its results are no longer delivered).
    /// Allocates; call off the audio thread.
    pub fn place(&self, conv: &mut Convolver, region: TailRegion) -> Result<()> {
        let need = Footprint::of(conv);
        if !need.fits(&region.room) {
            return Err(DspError::InvalidInput(format!(
                "the impulse response needs {} GPU spectra values where {} were reserved \
                 (a GPU reverb takes IRs up to the length of its first)",
                need.ir, region.room.ir
            )));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let queue = self.ctx.queue();
        let (mut fdl_at, mut ir_at) = (region.fdl_at, region.ir_at);
        let mut layout = TailLayout {
            id,
            region: region.index,
            fdl_base: Vec::new(),
            ir_base: Vec::new(),
        };
        for seg in conv.segments.iter().skip(conv.external_from) {
            let span = seg.seg.count * seg.bins;
            let mut fdl_base = Vec::new();
            for _ in 0..conv.routing().inputs {
                fdl_base.push(to_u32(fdl_at)?);
                fdl_at += span;
            }
            let mut ir_base = Vec::new();
            for spectra in seg.ir.iter() {
                ir_base.push(to_u32(ir_at)?);
                queue.write_buffer(&self.ir, ir_at as u64 * 8, bytemuck::cast_slice(spectra));
                ir_at += span;
            }
            layout.fdl_base.push(fdl_base);
            layout.ir_base.push(ir_base);
        }
        let zeros = vec![0u8; need.fdl * 8];
        queue.write_buffer(&self.fdl, region.fdl_at as u64 * 8, &zeros);
        self.owners[region.index].store(id, Ordering::Release);
        conv.tail = Some(layout);
        conv.tail_fired = None;
        Ok(())
    }

    fn owns(&self, layout: &TailLayout) -> bool {
        self.owners[layout.region].load(Ordering::Acquire) == layout.id
    }

    /// True when `layout` is the current placement in `region`.
    pub(crate) fn holds(&self, layout: &TailLayout, region: TailRegion) -> bool {
        layout.region == region.index && self.owns(layout)
    }
}

/// A job in flight: which convolver, segment and output its result belongs to.
#[derive(Clone, Copy)]
struct Pending {
    id: u32,
    segment: usize,
    output: usize,
    out_base: usize,
    bins: usize,
    fired_at: u64,
}

/// One slot of the readback ring: a staging buffer and what its dispatch computed.
struct InFlight {
    staging: StagingSlot,
    pending: Vec<Pending>,
    values: usize,
    /// Its dispatch wrote timestamps after the results.
    timed: bool,
}

/// Counters of a [`GpuTail`] since it was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TailStats {
    /// Regions the tail holds (one per convolver; a GPU reverb reserves two, for IR swaps).
    pub regions: usize,
    /// Queue submissions (one per block in which any tail segment fired).
    pub submissions: u64,
    /// Compute dispatches (one per submission).
    pub dispatches: u64,
    /// Multiply-accumulate jobs (one per firing segment and channel route).
    pub jobs: u64,
    /// Bytes written to the GPU (input spectra and job lists).
    pub upload_bytes: u64,
    /// Bytes read back (accumulated spectra).
    pub readback_bytes: u64,
    /// Complex multiply-adds the dispatches did.
    pub macs: u64,
    /// GPU time of the timed dispatches, from timestamp queries ([`GpuTail::time_dispatches`]).
    pub gpu_ns: u64,
    /// Dispatches whose GPU time is in `gpu_ns`.
    pub timed: u64,
    /// Readbacks that had to wait: the GPU was more than two blocks behind.
    pub late: u64,
}

/// Timestamp queries around each dispatch.
struct Timing {
    queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    /// Nanoseconds per timestamp tick.
    period: f64,
}

/// Bytes after the results in each staging buffer: two resolved timestamps.
const TIMESTAMP_BYTES: u64 = 16;

/// The GPU side of many convolvers: their tails in shared buffers, one submission per block.
pub struct GpuTail {
    buffers: Arc<TailBuffers>,
    out_buf: wgpu::Buffer,
    jobs_buf: wgpu::Buffer,
    bind: wgpu::BindGroup,
    pipeline: Arc<wgpu::ComputePipeline>,
    jobs: Vec<Job>,
    ring: [InFlight; 2],
    /// The slot the next submission goes to.
    current: usize,
    /// The results [`GpuTail::collect`] read, for [`GpuTail::deliver`].
    ready: Vec<Pending>,
    readback: Vec<Complex32>,
    capacity: Footprint,
    stats: TailStats,
    timing: Option<Timing>,
}

impl GpuTail {
    /// Allocates the buffers `arena` planned.
    pub fn new(ctx: Arc<GpuContext>, arena: &TailArena) -> Result<Self> {
        let total = arena.total;
        let limit = u64::from(ctx.info().max_storage_buffer_binding_size);
        for (what, bytes) in [
            ("delay lines", total.fdl * 8),
            ("IR spectra", total.ir * 8),
            ("results", total.values * 8),
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
        let fdl = make("fdl", total.fdl, storage);
        let ir = make("ir spectra", total.ir, storage);
        let out_buf = make(
            "mac out",
            total.values,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        );
        let jobs_buf = make("jobs", total.jobs * 4, storage);
        let staging_usage = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
        let in_flight = |label| InFlight {
            // The results, then room for two timestamps.
            staging: StagingSlot::new(make(label, total.values + 2, staging_usage)),
            pending: Vec::with_capacity(total.jobs),
            values: 0,
            timed: false,
        };
        let ring = [in_flight("mac staging 0"), in_flight("mac staging 1")];
        let pipeline = ctx
            .pipelines()
            .get(device, "convolution", shaders::CONVOLUTION, "mac");
        let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("convolution"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                bind_entry(0, &jobs_buf),
                bind_entry(1, &fdl),
                bind_entry(2, &ir),
                bind_entry(3, &out_buf),
            ],
        });
        Ok(Self {
            buffers: Arc::new(TailBuffers {
                ctx,
                fdl,
                ir,
                owners: (0..arena.regions)
                    .map(|_| AtomicU32::new(u32::MAX))
                    .collect(),
                next_id: AtomicU32::new(0),
            }),
            out_buf,
            jobs_buf,
            bind,
            pipeline,
            jobs: Vec::with_capacity(total.jobs),
            ring,
            current: 0,
            ready: Vec::with_capacity(total.jobs),
            readback: vec![Complex32::default(); total.values],
            capacity: total,
            stats: TailStats {
                regions: arena.regions,
                ..Default::default()
            },
            timing: None,
        })
    }

    /// Measures every dispatch's GPU time with timestamp queries from now on (into
    /// [`TailStats::gpu_ns`]); false when the adapter has none.
    pub fn time_dispatches(&mut self) -> bool {
        let ctx = &self.buffers.ctx;
        if !ctx.has_timestamps() {
            return false;
        }
        let device = ctx.device();
        self.timing = Some(Timing {
            queries: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("tail timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            }),
            resolve: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("tail timestamps"),
                size: TIMESTAMP_BYTES,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            }),
            period: f64::from(ctx.queue().get_timestamp_period()),
        });
        true
    }

    /// The buffers, for placing convolvers.
    pub fn buffers(&self) -> &Arc<TailBuffers> {
        &self.buffers
    }

    /// Counters since the tail was made.
    pub fn stats(&self) -> TailStats {
        self.stats
    }

    /// Start of a block: turns the ring and reads the results of the submission made two
    /// blocks ago (long finished on any GPU keeping up; the mapping of one running further
    /// behind is slept for, counted in [`TailStats::late`]) for [`GpuTail::deliver`]. This block's
    /// jobs then go to the freed slot.
    pub fn collect(&mut self) -> Result<()> {
        self.ready.clear();
        self.current ^= 1;
        let slot = &mut self.ring[self.current];
        let values = slot.values;
        let timed = self
            .timing
            .as_ref()
            .filter(|_| slot.timed)
            .map(|t| t.period);
        let (readback, stats) = (&mut self.readback, &mut self.stats);
        slot.staging.read(&mut stats.late, |view| {
            readback[..values].copy_from_slice(bytemuck::cast_slice(&view[..values * 8]));
            if let Some(period) = timed {
                let ticks: &[u64] = bytemuck::cast_slice(&view[values * 8..values * 8 + 16]);
                let ns = ticks[1].saturating_sub(ticks[0]) as f64 * period;
                stats.gpu_ns += ns as u64;
                stats.timed += 1;
            }
        })?;
        std::mem::swap(&mut self.ready, &mut slot.pending);
        slot.pending.clear();
        slot.values = 0;
        Ok(())
    }

    /// Hands `conv` the results [`GpuTail::collect`] read for it (none when it is not placed
    /// here or fired nothing).
    pub fn deliver(&mut self, conv: &mut Convolver) {
        let Some(layout) = &conv.tail else {
            return;
        };
        let id = layout.id;
        let mut at = 0;
        while at < self.ready.len() {
            let first = self.ready[at];
            // One segment's routes are contiguous.
            let mut end = at;
            while end < self.ready.len()
                && self.ready[end].id == first.id
                && self.ready[end].segment == first.segment
            {
                end += 1;
            }
            if first.id == id {
                let seg = &mut conv.segments[first.segment];
                for acc in &mut seg.acc {
                    acc.fill(Complex32::default());
                }
                for p in &self.ready[at..end] {
                    let src = &self.readback[p.out_base..p.out_base + p.bins];
                    for (a, s) in seg.acc[p.output].iter_mut().zip(src) {
                        *a += *s;
                    }
                }
                conv.deliver(first.segment, first.fired_at);
            }
            at = end;
        }
    }

    /// Takes the new input spectra of `conv`'s firing tail segments (if it crossed a block
    /// boundary since it was last staged) into this block's submission.
    pub fn stage(&mut self, conv: &mut Convolver) -> Result<()> {
        let result = self.stage_jobs(conv);
        if result.is_err() {
            // Nothing half-staged may be dispatched later.
            self.jobs.clear();
            let slot = &mut self.ring[self.current];
            slot.pending.clear();
            slot.values = 0;
        }
        result
    }

    fn stage_jobs(&mut self, conv: &mut Convolver) -> Result<()> {
        let Some(fired_at) = conv.tail_fired.take() else {
            return Ok(());
        };
        let Some(layout) = &conv.tail else {
            return Ok(());
        };
        if !self.buffers.owns(layout) {
            return Err(DspError::Gpu(
                "a convolver's GPU region was given to another".into(),
            ));
        }
        let queue = self.buffers.ctx.queue();
        let slot = &mut self.ring[self.current];
        if slot.staging.in_flight() {
            return Err(DspError::Gpu(
                "the results of two blocks ago were never collected".into(),
            ));
        }
        for (k, seg) in conv.segments.iter().enumerate().skip(conv.external_from) {
            if !fired_at.is_multiple_of(seg.seg.size as u64) {
                continue;
            }
            let g = k - conv.external_from;
            for (input, spectrum) in seg.newest.iter().enumerate() {
                let at = (layout.fdl_base[g][input] as usize + seg.head * seg.bins) * 8;
                queue.write_buffer(&self.buffers.fdl, at as u64, bytemuck::cast_slice(spectrum));
                self.stats.upload_bytes += (spectrum.len() * 8) as u64;
            }
            for r in &conv.routing().routes {
                if self.jobs.len() == self.capacity.jobs
                    || slot.values + seg.bins > self.capacity.values
                {
                    return Err(DspError::Gpu(
                        "more tail jobs in one block than were planned".into(),
                    ));
                }
                self.jobs.push(Job {
                    fdl_base: layout.fdl_base[g][r.input],
                    ir_base: layout.ir_base[g][r.ir],
                    count: seg.seg.count as u32,
                    bins: seg.bins as u32,
                    head: seg.head as u32,
                    out_base: slot.values as u32,
                    ..Default::default()
                });
                slot.pending.push(Pending {
                    id: layout.id,
                    segment: k,
                    output: r.output,
                    out_base: slot.values,
                    bins: seg.bins,
                    fired_at,
                });
                slot.values += seg.bins;
                self.stats.macs += (seg.seg.count * seg.bins) as u64;
            }
        }
        Ok(())
    }

    /// Dispatches every staged job in one submission (none when nothing was staged); its
    /// results are read by the next [`GpuTail::collect`].
    pub fn submit(&mut self) -> Result<()> {
        let mut encoder = self
            .buffers
            .ctx
            .device()
            .create_command_encoder(&Default::default());
        if self.record(&mut encoder) {
            let index = self.buffers.ctx.queue().submit(Some(encoder.finish()));
            self.submitted(index);
        }
        Ok(())
    }

    /// True when jobs are staged for this block's submission.
    pub fn has_work(&self) -> bool {
        !self.jobs.is_empty()
    }

    /// Uploads the staged jobs and records their dispatch and the copy of the results for
    /// readback into `encoder` (so they can share a submission with other work, as the
    /// mixer's analysis does); false when nothing was staged. Call [`GpuTail::submitted`]
    /// with the index of the submission that carries `encoder`.
    pub fn record(&mut self, encoder: &mut wgpu::CommandEncoder) -> bool {
        let slot = &mut self.ring[self.current];
        if self.jobs.is_empty() {
            return false;
        }
        let queue = self.buffers.ctx.queue();
        queue.write_buffer(&self.jobs_buf, 0, bytemuck::cast_slice(&self.jobs));
        let max_bins = self.jobs.iter().map(|j| j.bins).max().unwrap_or(1);
        {
            let timestamp_writes = self
                .timing
                .as_ref()
                .map(|t| wgpu::ComputePassTimestampWrites {
                    query_set: &t.queries,
                    beginning_of_pass_write_index: Some(0),
                    end_of_pass_write_index: Some(1),
                });
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("tail"),
                timestamp_writes,
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind, &[]);
            pass.dispatch_workgroups(max_bins.div_ceil(64), self.jobs.len() as u32, 1);
        }
        let bytes = (slot.values * 8) as u64;
        encoder.copy_buffer_to_buffer(&self.out_buf, 0, slot.staging.buffer(), 0, bytes);
        if let Some(t) = &self.timing {
            encoder.resolve_query_set(&t.queries, 0..2, &t.resolve, 0);
            let staging = slot.staging.buffer();
            encoder.copy_buffer_to_buffer(&t.resolve, 0, staging, bytes, TIMESTAMP_BYTES);
        }
        slot.timed = self.timing.is_some();
        self.stats.dispatches += 1;
        self.stats.jobs += self.jobs.len() as u64;
        self.stats.upload_bytes += (self.jobs.len() * std::mem::size_of::<Job>()) as u64;
        self.stats.readback_bytes += bytes;
        self.jobs.clear();
        true
    }

    /// The submission that carries what [`GpuTail::record`] recorded: its results are
    /// mapped when it completes and read two blocks later.
    pub fn submitted(&mut self, index: wgpu::SubmissionIndex) {
        let slot = &mut self.ring[self.current];
        let mut mapped = (slot.values * 8) as u64;
        if slot.timed {
            mapped += TIMESTAMP_BYTES;
        }
        slot.staging.submitted(&self.buffers.ctx, index, mapped);
        self.stats.submissions += 1;
    }

    /// Drops everything in flight (waiting for it first) and anything staged.
    pub fn forget(&mut self) -> Result<()> {
        self.buffers.ctx.wait_idle()?;
        for slot in &mut self.ring {
            slot.staging.forget();
            slot.pending.clear();
            slot.values = 0;
        }
        self.jobs.clear();
        self.ready.clear();
        Ok(())
    }
}

/// Many convolvers processed in lockstep, their tail partitions on the GPU.
pub struct GpuConvolverBank {
    tail: GpuTail,
    convolvers: Vec<Convolver>,
    regions: Vec<TailRegion>,
}

impl GpuConvolverBank {
    /// Builds one convolver per `(ir, input channels)` pair and uploads every tail IR.
    pub fn new(
        ctx: Arc<GpuContext>,
        irs: &[(Vec<Vec<f32>>, usize)],
        config: ConvolverConfig,
    ) -> Result<Self> {
        let mut convolvers = Vec::with_capacity(irs.len());
        let mut arena = TailArena::default();
        let mut regions = Vec::with_capacity(irs.len());
        for (ir, inputs) in irs {
            let planes: Vec<&[f32]> = ir.iter().map(|c| c.as_slice()).collect();
            let conv = Convolver::with_gpu_tail(&planes, *inputs, config)?;
            regions.push(arena.reserve(&conv));
            convolvers.push(conv);
        }
        let tail = GpuTail::new(ctx, &arena)?;
        for (conv, region) in convolvers.iter_mut().zip(&regions) {
            tail.buffers().place(conv, *region)?;
        }
        Ok(Self {
            tail,
            convolvers,
            regions,
        })
    }

    /// The convolvers of the bank (for latency, routing and plans).
    pub fn convolvers(&self) -> &[Convolver] {
        &self.convolvers
    }

    /// GPU dispatches issued so far (one per block in which any tail partition fired).
    pub fn dispatches(&self) -> u64 {
        self.tail.stats().dispatches
    }

    /// The GPU tail's counters.
    pub fn stats(&self) -> TailStats {
        self.tail.stats()
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
            let take = self
                .convolvers
                .first()
                .map_or(n - done, Convolver::until_boundary)
                .min(n - done);
            self.tail.collect()?;
            for conv in &mut self.convolvers {
                self.tail.deliver(conv);
            }
            for ((conv, input), output) in self
                .convolvers
                .iter_mut()
                .zip(inputs)
                .zip(outputs.iter_mut())
            {
                conv.feed_chunk(input, output, done, take);
            }
            for conv in &mut self.convolvers {
                self.tail.stage(conv)?;
            }
            self.tail.submit()?;
            done += take;
        }
        Ok(())
    }

    /// Forgets all past input: finishes any dispatch still in flight, clears every delay line
    /// (CPU and GPU) and the convolvers' state.
    pub fn reset(&mut self) -> Result<()> {
        self.tail.forget()?;
        for (conv, region) in self.convolvers.iter_mut().zip(&self.regions) {
            conv.reset();
            self.tail.buffers().place(conv, *region)?;
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
