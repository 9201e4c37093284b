//! The non-uniformly partitioned overlap-save convolver (the CPU reference engine).

use super::partition::PartitionPlan;
use super::routing::Routing;
use super::segment::SegmentState;
use crate::{DspError, Result};
use realfft::RealFftPlanner;
use std::sync::Arc;

/// How a convolver is partitioned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvolverConfig {
    /// Block size (power of two); the smallest partition.
    pub block: usize,
    /// Zero latency: the first `block` taps run as a direct-form FIR. Otherwise the latency
    /// is one block.
    pub zero_latency: bool,
    /// Number of block-sized partitions before partitions grow.
    pub head_partitions: usize,
    /// Largest partition size.
    pub max_partition: usize,
    /// Keep every partition at the block size (plain uniform partitioned convolution).
    pub uniform: bool,
}

impl ConvolverConfig {
    /// Fastest layout when latency does not matter (offline renders): uniform partitions of
    /// [`super::BlockConvolver::block_for`] (about a quarter of the IR, 1024–32768), the
    /// `convolve` command's.
    pub fn offline(ir_len: usize) -> Self {
        Self {
            block: super::BlockConvolver::block_for(ir_len),
            uniform: true,
            ..Self::default()
        }
    }

    /// Layout for the GPU engine offline: block-sized head on the CPU, growing tail
    /// partitions (the GPU's share) up to 16384.
    pub fn gpu_offline() -> Self {
        Self {
            block: 1024,
            head_partitions: 4,
            max_partition: 16384,
            ..Self::default()
        }
    }
}

impl Default for ConvolverConfig {
    fn default() -> Self {
        Self {
            block: 256,
            zero_latency: false,
            head_partitions: 4,
            max_partition: 16384,
            uniform: false,
        }
    }
}

/// Streams planar audio through a multichannel impulse response.
///
/// All memory is allocated in [`Convolver::new`]; [`Convolver::process`] takes blocks of any
/// length, never allocates, locks or waits, and its work per block is bounded.
pub struct Convolver {
    plan: PartitionPlan,
    routing: Routing,
    /// Direct-form head taps per IR channel, reversed (zero-latency mode).
    direct: Vec<Vec<f32>>,
    /// Per input channel: a ring of `hist_len` samples stored twice, so any window is contiguous.
    history: Vec<Vec<f32>>,
    hist_len: usize,
    /// Per output channel: future output, indexed by absolute sample mod `ring_len`.
    ring: Vec<Vec<f32>>,
    ring_len: usize,
    /// Per output channel: the block being played out while the next one is collected.
    out_block: Vec<Vec<f32>>,
    /// Samples of the current block received so far.
    fill: usize,
    /// Input samples received before the current block.
    consumed: u64,
    pub(crate) segments: Vec<SegmentState>,
    /// Segments from this index on are multiply-accumulated outside (on the GPU).
    pub(crate) external_from: usize,
    /// Where the external segments live on the GPU (`None` until placed by a
    /// [`super::TailBuffers`]; an unplaced tail contributes nothing).
    pub(crate) tail: Option<super::gpu::TailLayout>,
    /// Input count at the last block boundary where an external segment fired, until the
    /// GPU engine takes its new spectra ([`super::GpuTail::stage`]).
    pub(crate) tail_fired: Option<u64>,
}

impl Convolver {
    /// A CPU convolver of `inputs` channels with the IR `ir` (one slice per IR channel).
    pub fn new(ir: &[&[f32]], inputs: usize, config: ConvolverConfig) -> Result<Self> {
        Self::with_external_tail(ir, inputs, config, usize::MAX, 0)
    }

    /// A convolver whose tail segments (all but the first) are multiply-accumulated by a
    /// [`super::GpuTail`] once placed in one ([`super::TailBuffers::place`]).
    pub fn with_gpu_tail(ir: &[&[f32]], inputs: usize, config: ConvolverConfig) -> Result<Self> {
        Self::with_external_tail(ir, inputs, config, super::gpu::GPU_FROM, 2 * config.block)
    }

    /// A convolver whose segments from `external_from` on are multiply-accumulated outside
    /// (by the GPU bank) and delivered `tail_slack` samples after they fire.
    pub(crate) fn with_external_tail(
        ir: &[&[f32]],
        inputs: usize,
        config: ConvolverConfig,
        external_from: usize,
        tail_slack: usize,
    ) -> Result<Self> {
        if !config.block.is_power_of_two() || config.block < 16 {
            return Err(DspError::InvalidInput(format!(
                "block size {} must be a power of two of at least 16",
                config.block
            )));
        }
        let ir_len = ir.iter().map(|c| c.len()).max().unwrap_or(0);
        if ir_len == 0 {
            return Err(DspError::InvalidInput(
                "the impulse response is empty".into(),
            ));
        }
        let routing = Routing::for_channels(inputs, ir.len())?;
        let plan = PartitionPlan::new(
            ir_len,
            config.block,
            config.zero_latency,
            config.head_partitions,
            config.max_partition.next_power_of_two(),
            config.uniform,
            tail_slack,
        );
        let mut planner = RealFftPlanner::new();
        let segments: Vec<SegmentState> = plan
            .segments
            .iter()
            .enumerate()
            .map(|(i, &seg)| {
                SegmentState::new(
                    seg,
                    ir,
                    inputs,
                    routing.outputs,
                    i < external_from,
                    &mut planner,
                )
            })
            .collect();
        let b = config.block;
        let hist_len = (2 * plan.max_size() + 2 * b).next_power_of_two();
        let max_offset = plan.segments.iter().map(|s| s.offset).max().unwrap_or(0);
        let ring_len = (max_offset + plan.max_size() + 3 * b).next_power_of_two();
        let direct = ir
            .iter()
            .map(|c| {
                let mut taps: Vec<f32> = c.iter().take(plan.direct_taps).copied().collect();
                taps.resize(plan.direct_taps, 0.0);
                taps.reverse();
                taps
            })
            .collect();
        Ok(Self {
            direct,
            history: vec![vec![0.0; 2 * hist_len]; inputs],
            hist_len,
            ring: vec![vec![0.0; ring_len]; routing.outputs],
            ring_len,
            out_block: vec![vec![0.0; b]; routing.outputs],
            fill: 0,
            consumed: 0,
            segments,
            external_from,
            tail: None,
            tail_fired: None,
            plan,
            routing,
        })
    }

    /// A new convolver with no past input and the same IR, layout and routing, sharing the
    /// IR's partition spectra with this one (a bus's instance per stem: the spectra are
    /// computed and held once). A GPU tail must be placed again.
    pub fn fresh_instance(&self) -> Self {
        let zeros = |v: &Vec<f32>| vec![0.0; v.len()];
        Self {
            plan: self.plan.clone(),
            routing: self.routing.clone(),
            direct: self.direct.clone(),
            history: self.history.iter().map(zeros).collect(),
            hist_len: self.hist_len,
            ring: self.ring.iter().map(zeros).collect(),
            ring_len: self.ring_len,
            out_block: self.out_block.iter().map(zeros).collect(),
            fill: 0,
            consumed: 0,
            segments: self.segments.iter().map(SegmentState::fresh).collect(),
            external_from: self.external_from,
            tail: None,
            tail_fired: None,
        }
    }

    /// True when `other` holds the same IR spectra (not a copy): one made by
    /// [`Convolver::fresh_instance`] from the other.
    pub fn shares_spectra_with(&self, other: &Convolver) -> bool {
        self.segments.len() == other.segments.len()
            && self
                .segments
                .iter()
                .zip(&other.segments)
                .all(|(a, b)| Arc::ptr_eq(&a.ir, &b.ir))
    }

    /// Samples by which the output lags the input: 0 or one block.
    pub fn latency(&self) -> usize {
        self.plan.latency
    }

    /// The partition layout.
    pub fn plan(&self) -> &PartitionPlan {
        &self.plan
    }

    /// Channel routing (inputs, outputs, paths).
    pub fn routing(&self) -> &Routing {
        &self.routing
    }

    /// Forgets all past input. A convolver whose tail was placed on the GPU is detached from
    /// it (results in flight and its GPU delay lines are old input): place it again to use
    /// the GPU.
    pub fn reset(&mut self) {
        self.tail = None;
        for v in self
            .history
            .iter_mut()
            .chain(&mut self.ring)
            .chain(&mut self.out_block)
        {
            v.fill(0.0);
        }
        for s in &mut self.segments {
            s.reset();
        }
        self.fill = 0;
        self.consumed = 0;
        self.tail_fired = None;
    }

    /// Convolves `input` (one slice per input channel) into `output` (one per output
    /// channel, same length, overwritten). Real-time safe.
    pub fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) {
        let n = input.first().map_or(0, |c| c.len());
        let mut done = 0;
        while done < n {
            let take = (self.plan.block - self.fill).min(n - done);
            self.feed_chunk(input, output, done, take);
            done += take;
        }
    }

    /// [`Self::feed`], then the block boundary when the chunk completes a block.
    pub(crate) fn feed_chunk(
        &mut self,
        input: &[&[f32]],
        output: &mut [&mut [f32]],
        from: usize,
        take: usize,
    ) {
        self.feed(input, output, from, take);
        if self.fill == self.plan.block {
            self.begin_block();
            self.end_block();
        }
    }

    /// Samples still needed to complete the current block.
    pub(crate) fn until_boundary(&self) -> usize {
        self.plan.block - self.fill
    }

    /// Takes `take` samples at `from` (not crossing a block boundary) into the history and
    /// writes the matching output samples.
    pub(crate) fn feed(
        &mut self,
        input: &[&[f32]],
        output: &mut [&mut [f32]],
        from: usize,
        take: usize,
    ) {
        assert_eq!(input.len(), self.routing.inputs, "input channel count");
        assert_eq!(output.len(), self.routing.outputs, "output channel count");
        let mask = self.hist_len - 1;
        let start = (self.consumed as usize + self.fill) & mask;
        let len = self.hist_len;
        for (hist, x) in self.history.iter_mut().zip(input) {
            // The ring is stored twice, so any window is contiguous: write both copies, in
            // the (at most two) runs before and after the wrap.
            let x = &x[from..from + take];
            let first = take.min(len - start);
            for at in [start, start + len] {
                hist[at..at + first].copy_from_slice(&x[..first]);
            }
            for at in [0, len] {
                hist[at..at + take - first].copy_from_slice(&x[first..]);
            }
        }
        for (out, block) in output.iter_mut().zip(&self.out_block) {
            out[from..from + take].copy_from_slice(&block[self.fill..self.fill + take]);
        }
        let d = self.plan.direct_taps;
        if d > 0 {
            for r in &self.routing.routes {
                let taps = &self.direct[r.ir];
                let hist = &self.history[r.input];
                let out = &mut output[r.output];
                for j in 0..take {
                    // Window of the last d samples ending at the one just written.
                    let end = ((start + j) & mask) + self.hist_len + 1;
                    let window = &hist[end - d..end];
                    out[from + j] += taps.iter().zip(window).map(|(h, x)| h * x).sum::<f32>();
                }
            }
        }
        self.fill += take;
    }

    /// Absolute input sample count at the end of the current (complete) block.
    pub(crate) fn block_end(&self) -> u64 {
        self.consumed + self.plan.block as u64
    }

    /// True when segment `i` completes an input block at the end of the current block.
    pub(crate) fn fires(&self, i: usize) -> bool {
        self.block_end()
            .is_multiple_of(self.segments[i].seg.size as u64)
    }

    /// First half of a block boundary: transforms new input for every firing segment and
    /// multiply-accumulates the CPU segments.
    pub(crate) fn begin_block(&mut self) {
        let t = self.block_end();
        let mask = self.hist_len - 1;
        for i in 0..self.segments.len() {
            if !self.fires(i) {
                continue;
            }
            let seg = &mut self.segments[i];
            let n = 2 * seg.seg.size;
            let start = (t.wrapping_sub(n as u64) as usize) & mask;
            seg.advance();
            for (c, hist) in self.history.iter().enumerate() {
                seg.analyze(c, &hist[start..start + n], &[]);
            }
            if i < self.external_from {
                seg.mac(&self.routing.routes);
            } else {
                self.tail_fired = Some(t);
            }
        }
    }

    /// Inverse-transforms the accumulated spectra of segment `i`, which fired when the input
    /// count was `fired_at`, and overlap-saves them into the output ring.
    pub(crate) fn deliver(&mut self, i: usize, fired_at: u64) {
        let rmask = self.ring_len - 1;
        let seg = &mut self.segments[i];
        let (size, offset) = (seg.seg.size as u64, seg.seg.offset as u64);
        let first = (fired_at.wrapping_sub(size).wrapping_add(offset) as usize) & rmask;
        for o in 0..self.routing.outputs {
            let block = seg.synthesize(o);
            let ring = &mut self.ring[o];
            // Overlap-add in the runs before and after the ring's wrap (vectorised).
            let split = block.len().min(self.ring_len - first);
            let (head, tail) = block.split_at(split);
            for (r, &s) in ring[first..first + split].iter_mut().zip(head) {
                *r += s;
            }
            for (r, &s) in ring[..tail.len()].iter_mut().zip(tail) {
                *r += s;
            }
        }
    }

    /// Second half of a block boundary (after external results were delivered): inverse
    /// transforms of the CPU segments, then the next output block.
    pub(crate) fn end_block(&mut self) {
        let t = self.block_end();
        let rmask = self.ring_len - 1;
        for i in 0..self.segments.len().min(self.external_from) {
            if self.fires(i) {
                self.deliver(i, t);
            }
        }
        let emit = t.wrapping_sub(self.plan.latency as u64) as usize & rmask;
        for (ring, block) in self.ring.iter_mut().zip(&mut self.out_block) {
            // The next output block, taken out of the ring (cleared for reuse) in the runs
            // before and after its wrap.
            let split = block.len().min(self.ring_len - emit);
            let rest = block.len() - split;
            block[..split].copy_from_slice(&ring[emit..emit + split]);
            ring[emit..emit + split].fill(0.0);
            block[split..].copy_from_slice(&ring[..rest]);
            ring[..rest].fill(0.0);
        }
        self.consumed = t;
        self.fill = 0;
    }

    /// Offline convenience: the whole convolution `x ∗ h` of length `len(x) + len(h) - 1`,
    /// latency removed, processed in chunks of `chunk` samples (from a reset state).
    /// `progress` gets 0..1.
    pub fn render(
        &mut self,
        input: &[&[f32]],
        chunk: usize,
        progress: impl FnMut(f64),
    ) -> Result<Vec<Vec<f32>>> {
        self.reset();
        let shape = RenderShape::of(self, input);
        render_offline(shape, input, chunk, progress, |i, o| {
            self.process(i, o);
            Ok(())
        })
    }
}

/// Lengths an offline render needs.
#[derive(Clone, Copy)]
pub(crate) struct RenderShape {
    pub ir_len: usize,
    pub latency: usize,
    pub outputs: usize,
}

impl RenderShape {
    pub fn of(conv: &Convolver, _input: &[&[f32]]) -> Self {
        Self {
            ir_len: conv.plan.ir_len,
            latency: conv.latency(),
            outputs: conv.routing.outputs,
        }
    }
}

/// Feeds `input` and then zeros through `process` in chunks and returns the full-length
/// convolution with the latency removed.
pub(crate) fn render_offline(
    shape: RenderShape,
    input: &[&[f32]],
    chunk: usize,
    mut progress: impl FnMut(f64),
    mut process: impl FnMut(&[&[f32]], &mut [&mut [f32]]) -> Result<()>,
) -> Result<Vec<Vec<f32>>> {
    let len = input.first().map_or(0, |c| c.len());
    let total = len + shape.ir_len - 1;
    let lat = shape.latency;
    let mut out = vec![vec![0.0f32; total + lat]; shape.outputs];
    let mut padded = vec![vec![0.0f32; chunk]; input.len()];
    let mut pos = 0;
    while pos < total + lat {
        let n = chunk.min(total + lat - pos);
        for (p, c) in padded.iter_mut().zip(input) {
            let avail = len.saturating_sub(pos).min(n);
            if avail > 0 {
                p[..avail].copy_from_slice(&c[pos..pos + avail]);
            }
            p[avail..n].fill(0.0);
        }
        let ins: Vec<&[f32]> = padded.iter().map(|p| &p[..n]).collect();
        let mut outs: Vec<&mut [f32]> = out.iter_mut().map(|c| &mut c[pos..pos + n]).collect();
        process(&ins, &mut outs)?;
        pos += n;
        progress(pos as f64 / (total + lat) as f64);
    }
    for c in &mut out {
        c.drain(..lat);
    }
    Ok(out)
}
