//! Convolution reverb: wet/dry, pre-delay, IR gain and click-free IR swaps around a
//! [`Convolver`], with its tail on the CPU or in a [`super::GpuTail`] (the same function).

use super::convolver::{Convolver, ConvolverConfig};
use super::gpu::{TailArena, TailBuffers, TailRegion};
use crate::{DspError, Result};
use std::sync::Arc;

/// User parameters of a convolution reverb.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReverbParams {
    /// Gain of the convolved signal (linear).
    pub wet: f32,
    /// Gain of the dry signal (linear), delayed to stay aligned with the wet path.
    pub dry: f32,
    /// Gain applied to the IR (linear); no hidden normalisation.
    pub ir_gain: f32,
    /// Silence before the IR starts, in samples.
    pub predelay: usize,
    /// Length of the crossfade when the IR is swapped, in samples.
    pub crossfade: usize,
}

impl Default for ReverbParams {
    fn default() -> Self {
        Self {
            wet: 1.0,
            dry: 0.0,
            ir_gain: 1.0,
            predelay: 0,
            crossfade: 4096,
        }
    }
}

/// A real-time convolution reverb. `process` never allocates; IR swaps are prepared off the
/// audio thread with [`ConvolutionReverb::prepare`] and installed with
/// [`ConvolutionReverb::swap`], which crossfades from the old IR to the new one.
pub struct ConvolutionReverb {
    params: ReverbParams,
    config: ConvolverConfig,
    inputs: usize,
    current: Convolver,
    incoming: Option<Convolver>,
    retired: Option<Convolver>,
    fade_pos: usize,
    wet_a: Vec<Vec<f32>>,
    wet_b: Vec<Vec<f32>>,
    /// Per input channel: ring delaying the dry signal by the convolver latency.
    dry_delay: Vec<Vec<f32>>,
    dry_pos: usize,
    max_block: usize,
    /// Convolvers are built with their tails on the GPU.
    gpu_tail: bool,
    /// Where they are placed, once attached.
    gpu: Option<GpuSide>,
}

/// A GPU-tail reverb's two regions: the current convolver's and the one an IR swap fills.
struct GpuSide {
    buffers: Arc<TailBuffers>,
    regions: [TailRegion; 2],
    /// The region of the current convolver.
    current: usize,
}

impl ConvolutionReverb {
    /// A reverb for `inputs` channels; `process` takes up to `max_block` samples per call.
    pub fn new(
        ir: &[&[f32]],
        inputs: usize,
        params: ReverbParams,
        config: ConvolverConfig,
        max_block: usize,
    ) -> Result<Self> {
        Self::with_placement(ir, inputs, params, config, max_block, false)
    }

    /// [`ConvolutionReverb::new`] with the tail partitions on the GPU: reserve its room with
    /// [`ConvolutionReverb::reserve_gpu`], attach it with [`ConvolutionReverb::attach_gpu`],
    /// and drive the [`super::GpuTail`] around each block (see [`super::GpuReverb`]).
    pub fn with_gpu_tail(
        ir: &[&[f32]],
        inputs: usize,
        params: ReverbParams,
        config: ConvolverConfig,
        max_block: usize,
    ) -> Result<Self> {
        // Between two stagings of the tail a convolver may cross one block boundary only.
        if max_block > config.block {
            return Err(DspError::InvalidInput(format!(
                "a GPU-tail reverb processes at most its block ({}) per call, not {max_block}",
                config.block
            )));
        }
        Self::with_placement(ir, inputs, params, config, max_block, true)
    }

    fn with_placement(
        ir: &[&[f32]],
        inputs: usize,
        params: ReverbParams,
        config: ConvolverConfig,
        max_block: usize,
        gpu_tail: bool,
    ) -> Result<Self> {
        let current = Self::build(ir, inputs, &params, config, gpu_tail)?;
        let outputs = current.routing().outputs;
        let latency = current.latency();
        Ok(Self {
            params,
            config,
            inputs,
            current,
            incoming: None,
            retired: None,
            fade_pos: 0,
            wet_a: vec![vec![0.0; max_block]; outputs],
            wet_b: vec![vec![0.0; max_block]; outputs],
            dry_delay: vec![vec![0.0; latency.max(1)]; inputs],
            dry_pos: 0,
            max_block,
            gpu_tail,
            gpu: None,
        })
    }

    /// A new reverb with no past input, the same parameters and IR, sharing the IR's
    /// partition spectra with this one (see [`Convolver::fresh_instance`]); a GPU-tail
    /// reverb must be reserved and attached again. An IR swap in progress is not carried.
    pub fn fresh_instance(&self) -> Self {
        let zeros = |v: &Vec<f32>| vec![0.0; v.len()];
        Self {
            params: self.params,
            config: self.config,
            inputs: self.inputs,
            current: self.current.fresh_instance(),
            incoming: None,
            retired: None,
            fade_pos: 0,
            wet_a: self.wet_a.iter().map(zeros).collect(),
            wet_b: self.wet_b.iter().map(zeros).collect(),
            dry_delay: self.dry_delay.iter().map(zeros).collect(),
            dry_pos: 0,
            max_block: self.max_block,
            gpu_tail: self.gpu_tail,
            gpu: None,
        }
    }

    /// The convolver in use.
    pub fn convolver(&self) -> &Convolver {
        &self.current
    }

    /// Reserves GPU room for this reverb (two regions, so an IR swap can fade between two
    /// convolvers); `None` for a CPU reverb.
    pub fn reserve_gpu(&self, arena: &mut TailArena) -> Option<[TailRegion; 2]> {
        self.gpu_tail
            .then(|| [arena.reserve(&self.current), arena.reserve(&self.current)])
    }

    /// Places the current convolver's tail in the first of `regions` (from
    /// [`ConvolutionReverb::reserve_gpu`] on the arena `buffers` were made from).
    pub fn attach_gpu(
        &mut self,
        buffers: &Arc<TailBuffers>,
        regions: [TailRegion; 2],
    ) -> Result<()> {
        buffers.place(&mut self.current, regions[0])?;
        self.gpu = Some(GpuSide {
            buffers: Arc::clone(buffers),
            regions,
            current: 0,
        });
        Ok(())
    }

    /// Calls `f` on every running convolver (the current one and an incoming one), for the
    /// GPU tail's delivery and staging.
    pub fn for_each_convolver(&mut self, mut f: impl FnMut(&mut Convolver)) {
        f(&mut self.current);
        if let Some(next) = self.incoming.as_mut() {
            f(next);
        }
    }

    fn build(
        ir: &[&[f32]],
        inputs: usize,
        p: &ReverbParams,
        config: ConvolverConfig,
        gpu_tail: bool,
    ) -> Result<Convolver> {
        let shaped: Vec<Vec<f32>> = ir
            .iter()
            .map(|c| {
                std::iter::repeat_n(0.0, p.predelay)
                    .chain(c.iter().map(|s| s * p.ir_gain))
                    .collect()
            })
            .collect();
        let planes: Vec<&[f32]> = shaped.iter().map(|c| c.as_slice()).collect();
        if gpu_tail {
            Convolver::with_gpu_tail(&planes, inputs, config)
        } else {
            Convolver::new(&planes, inputs, config)
        }
    }

    /// Builds a convolver for a new IR with the same parameters (allocates; not real-time).
    /// A GPU-tail reverb places it in its spare region (IRs up to the length of the first;
    /// not while a swap is still fading).
    pub fn prepare(&self, ir: &[&[f32]]) -> Result<Convolver> {
        let mut conv = Self::build(ir, self.inputs, &self.params, self.config, self.gpu_tail)?;
        if let Some(gpu) = &self.gpu {
            if self.incoming.is_some() {
                return Err(DspError::InvalidInput(
                    "an IR swap is still fading: prepare the next one after it".into(),
                ));
            }
            gpu.buffers.place(&mut conv, gpu.regions[gpu.current ^ 1])?;
        }
        if conv.routing().outputs != self.current.routing().outputs {
            return Err(DspError::InvalidInput(format!(
                "the new IR gives {} output channels, the reverb has {}",
                conv.routing().outputs,
                self.current.routing().outputs
            )));
        }
        Ok(conv)
    }

    /// Installs a prepared convolver; the output crossfades to it over `params.crossfade`
    /// samples. Real-time safe: nothing is freed here or when the fade ends. The old
    /// convolver waits in [`Self::take_retired`] to be dropped off the audio thread. While a
    /// swap is running or a retired convolver is uncollected, `next` is handed back.
    // Boxing the refused convolver would allocate on the audio thread.
    #[allow(clippy::result_large_err)]
    pub fn swap(&mut self, next: Convolver) -> std::result::Result<(), Convolver> {
        if self.incoming.is_some() || self.retired.is_some() {
            return Err(next);
        }
        // A GPU-tail reverb takes only a convolver its `prepare` placed in its spare region.
        if let Some(gpu) = &self.gpu {
            let spare = gpu.regions[gpu.current ^ 1];
            if !next
                .tail
                .as_ref()
                .is_some_and(|t| gpu.buffers.holds(t, spare))
            {
                return Err(next);
            }
        }
        self.fade_pos = 0;
        self.incoming = Some(next);
        Ok(())
    }

    /// The convolver replaced by the last finished swap, for dropping outside the audio thread.
    pub fn take_retired(&mut self) -> Option<Convolver> {
        self.retired.take()
    }

    /// Output channels.
    pub fn outputs(&self) -> usize {
        self.current.routing().outputs
    }

    /// Latency in samples (both paths are aligned to it).
    pub fn latency(&self) -> usize {
        self.current.latency()
    }

    /// The current parameters.
    pub fn params(&self) -> ReverbParams {
        self.params
    }

    /// Sets wet and dry gains.
    pub fn set_mix(&mut self, wet: f32, dry: f32) {
        self.params.wet = wet;
        self.params.dry = dry;
    }

    /// Processes up to any number of samples (internally in chunks of `max_block`).
    pub fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) {
        let n = input.first().map_or(0, |c| c.len());
        let mut done = 0;
        while done < n {
            let take = self.max_block.min(n - done);
            let ins: [&[f32]; 8] =
                std::array::from_fn(|c| input.get(c).map_or(&[][..], |x| &x[done..done + take]));
            self.process_chunk(&ins[..input.len().min(8)], output, done, take);
            done += take;
        }
    }

    fn process_chunk(&mut self, input: &[&[f32]], output: &mut [&mut [f32]], at: usize, n: usize) {
        {
            let k = self.wet_a.len().min(8);
            let mut outs: [&mut [f32]; 8] = Default::default();
            for (o, w) in outs.iter_mut().zip(self.wet_a.iter_mut()) {
                *o = &mut w[..n];
            }
            self.current.process(input, &mut outs[..k]);
        }
        if let Some(next) = self.incoming.as_mut() {
            let k = self.wet_b.len().min(8);
            let mut outs: [&mut [f32]; 8] = Default::default();
            for (o, w) in outs.iter_mut().zip(self.wet_b.iter_mut()) {
                *o = &mut w[..n];
            }
            next.process(input, &mut outs[..k]);
            let len = self.params.crossfade.max(1);
            for j in 0..n {
                let g = ((self.fade_pos + j) as f32 / len as f32).min(1.0);
                // Equal-power crossfade between the two reverbs.
                let (a, b) = (
                    (g * std::f32::consts::FRAC_PI_2).cos(),
                    (g * std::f32::consts::FRAC_PI_2).sin(),
                );
                for (wa, wb) in self.wet_a.iter_mut().zip(&self.wet_b) {
                    wa[j] = a * wa[j] + b * wb[j];
                }
            }
            self.fade_pos += n;
            if self.fade_pos >= len {
                if let Some(next) = self.incoming.take() {
                    self.retired = Some(std::mem::replace(&mut self.current, next));
                    if let Some(gpu) = self.gpu.as_mut() {
                        gpu.current ^= 1;
                    }
                }
            }
        }
        let lat = self.current.latency();
        let (wet, dry) = (self.params.wet, self.params.dry);
        let head = lat.min(n);
        for (o, out) in output.iter_mut().enumerate() {
            let src = if self.inputs == 1 {
                0
            } else {
                o.min(self.inputs - 1)
            };
            let out = &mut out[at..at + n];
            for (y, w) in out.iter_mut().zip(&self.wet_a[o][..n]) {
                *y = wet * w;
            }
            if dry != 0.0 {
                // The dry signal `lat` samples late: the ring (oldest first, from `dry_pos`),
                // then the start of this chunk.
                let ring = &self.dry_delay[src];
                let delayed = ring[self.dry_pos..].iter().chain(&ring[..self.dry_pos]);
                for (y, d) in out[..head].iter_mut().zip(delayed) {
                    *y += dry * d;
                }
                for (y, d) in out[head..].iter_mut().zip(&input[src][..n - head]) {
                    *y += dry * d;
                }
            }
        }
        if lat > 0 {
            for (ring, x) in self.dry_delay.iter_mut().zip(input) {
                if n >= lat {
                    ring.copy_from_slice(&x[n - lat..n]);
                } else {
                    let first = (lat - self.dry_pos).min(n);
                    ring[self.dry_pos..self.dry_pos + first].copy_from_slice(&x[..first]);
                    ring[..n - first].copy_from_slice(&x[first..n]);
                }
            }
            self.dry_pos = if n >= lat {
                0
            } else {
                (self.dry_pos + n) % lat
            };
        }
    }
}
