//! A [`ConvolutionReverb`] with its own [`GpuTail`]: the whole reverb (wet/dry, pre-delay, IR
//! gain, IR swaps) with its tail partitions on the GPU, for use outside a mix. In a mix the
//! mixer drives one tail for every reverb of the session instead.

use super::convolver::{Convolver, ConvolverConfig};
use super::gpu::{GpuTail, TailArena, TailStats};
use super::reverb::{ConvolutionReverb, ReverbParams};
use crate::gpu::GpuContext;
use crate::Result;
use std::sync::Arc;

/// A convolution reverb whose tail runs on the GPU; the same output as the CPU reverb.
pub struct GpuReverb {
    reverb: ConvolutionReverb,
    tail: GpuTail,
    block: usize,
    /// The first GPU failure: every later call returns it (the tail's state is undefined).
    failed: Option<String>,
}

impl GpuReverb {
    /// As [`ConvolutionReverb::new`], on `ctx`.
    pub fn new(
        ctx: Arc<GpuContext>,
        ir: &[&[f32]],
        inputs: usize,
        params: ReverbParams,
        config: ConvolverConfig,
        max_block: usize,
    ) -> Result<Self> {
        let mut reverb = ConvolutionReverb::with_gpu_tail(ir, inputs, params, config, max_block)?;
        let mut arena = TailArena::default();
        let regions = reverb
            .reserve_gpu(&mut arena)
            .ok_or_else(|| crate::DspError::Gpu("the reverb reserved no room on the GPU".into()))?;
        let tail = GpuTail::new(ctx, &arena)?;
        reverb.attach_gpu(tail.buffers(), regions)?;
        Ok(Self {
            reverb,
            tail,
            block: config.block,
            failed: None,
        })
    }

    /// The reverb (parameters, latency, outputs).
    pub fn reverb(&self) -> &ConvolutionReverb {
        &self.reverb
    }

    /// Sets wet and dry gains.
    pub fn set_mix(&mut self, wet: f32, dry: f32) {
        self.reverb.set_mix(wet, dry);
    }

    /// [`ConvolutionReverb::prepare`]: a convolver for a new IR, uploaded to the spare region.
    pub fn prepare(&self, ir: &[&[f32]]) -> Result<Convolver> {
        self.reverb.prepare(ir)
    }

    /// [`ConvolutionReverb::swap`].
    #[allow(clippy::result_large_err)]
    pub fn swap(&mut self, next: Convolver) -> std::result::Result<(), Convolver> {
        self.reverb.swap(next)
    }

    /// [`ConvolutionReverb::take_retired`].
    pub fn take_retired(&mut self) -> Option<Convolver> {
        self.reverb.take_retired()
    }

    /// The GPU tail's counters.
    pub fn stats(&self) -> TailStats {
        self.tail.stats()
    }

    /// Processes any number of samples, in steps of at most one convolver block (one
    /// submission per step in which a tail partition fired).
    pub fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(crate::DspError::Gpu(e.clone()));
        }
        let result = self.run(input, output);
        if let Err(e) = &result {
            self.failed = Some(e.to_string());
        }
        result
    }

    fn run(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) -> Result<()> {
        let n = input.first().map_or(0, |c| c.len());
        let (ki, ko) = (input.len().min(8), output.len().min(8));
        let mut done = 0;
        while done < n {
            let take = self.block.min(n - done);
            self.tail.collect()?;
            let tail = &mut self.tail;
            self.reverb.for_each_convolver(|c| tail.deliver(c));
            let ins: [&[f32]; 8] =
                std::array::from_fn(|c| input.get(c).map_or(&[][..], |x| &x[done..done + take]));
            let mut outs: [&mut [f32]; 8] = Default::default();
            for (o, x) in outs.iter_mut().zip(output.iter_mut()) {
                *o = &mut x[done..done + take];
            }
            self.reverb.process(&ins[..ki], &mut outs[..ko]);
            let mut staged = Ok(());
            self.reverb.for_each_convolver(|c| {
                if staged.is_ok() {
                    staged = tail.stage(c);
                }
            });
            staged?;
            tail.submit()?;
            done += take;
        }
        Ok(())
    }
}
