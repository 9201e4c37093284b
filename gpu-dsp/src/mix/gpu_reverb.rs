//! The mix's convolution reverb with its tail on the GPU: a [`GpuConvolverBank`] of one
//! convolver (head and FFTs on the CPU, every tail partition's multiply-accumulate in one
//! dispatch per engine block, read back one block later) with the wet/dry mix of
//! [`crate::conv::ConvolutionReverb`]. The same function as the CPU reverb insert.

use super::delay::DelayLine;
use crate::conv::{ConvolverConfig, GpuConvolverBank};
use crate::gpu::GpuContext;
use crate::{DspError, Result};
use std::sync::Arc;

/// A wet/dry convolution reverb whose tail runs on the GPU. All memory is allocated in `new`.
pub struct GpuReverb {
    bank: GpuConvolverBank,
    wet: f32,
    dry: f32,
    /// The dry signal, delayed by the reverb's latency.
    dry_delay: DelayLine,
    dry_copy: Vec<Vec<f32>>,
    wet_out: Vec<Vec<f32>>,
    /// The first GPU failure (the reverb then passes only its dry signal).
    error: Option<String>,
}

impl GpuReverb {
    /// A reverb through `ir` (its channels) for `channels` input and output channels.
    pub fn new(
        ctx: Arc<GpuContext>,
        ir: &[Vec<f32>],
        channels: usize,
        (wet, dry): (f32, f32),
        config: ConvolverConfig,
        block: usize,
    ) -> Result<Self> {
        let bank = GpuConvolverBank::new(ctx, &[(ir.to_vec(), channels)], config)?;
        let conv = &bank.convolvers()[0];
        if conv.routing().outputs != channels {
            return Err(DspError::InvalidInput(format!(
                "a {}-channel IR gives {} channels where {channels} are needed",
                ir.len(),
                conv.routing().outputs
            )));
        }
        let latency = conv.latency();
        Ok(Self {
            bank,
            wet,
            dry,
            dry_delay: DelayLine::new(channels, latency),
            dry_copy: vec![vec![0.0; block]; channels],
            wet_out: vec![vec![0.0; block]; channels],
            error: None,
        })
    }

    /// Samples of delay (the wet path's; the dry path is delayed to match).
    pub fn latency(&self) -> usize {
        self.bank.convolvers()[0].latency()
    }

    /// Wet and dry gains.
    pub fn mix(&self) -> (f32, f32) {
        (self.wet, self.dry)
    }

    /// Sets the wet and dry gains.
    pub fn set_mix(&mut self, wet: f32, dry: f32) {
        (self.wet, self.dry) = (wet, dry);
    }

    /// The first GPU error, if any.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Processes planar channels in place (at most the block size given to `new`).
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let n = channels.first().map_or(0, |c| c.len());
        let k = channels.len().min(8);
        {
            let mut dry: [&mut [f32]; 8] = Default::default();
            for ((d, c), x) in dry.iter_mut().zip(&mut self.dry_copy).zip(channels.iter()) {
                c[..n].copy_from_slice(x);
                *d = &mut c[..n];
            }
            self.dry_delay.process(&mut dry[..k]);
        }
        // After a failure the bank's state is undefined (a block half done, a staging buffer
        // perhaps still mapped): it is not touched again, and only the dry signal passes.
        let result = match self.error {
            Some(_) => Ok(()),
            None => {
                let ins: [&[f32]; 8] =
                    std::array::from_fn(|c| channels.get(c).map_or(&[][..], |x| &x[..]));
                let mut outs: [&mut [f32]; 8] = Default::default();
                for (o, w) in outs.iter_mut().zip(self.wet_out.iter_mut()) {
                    *o = &mut w[..n];
                }
                self.bank.process(&[&ins[..k]], &mut [&mut outs[..k]])
            }
        };
        if let Err(e) = result {
            self.error = Some(format!("GPU reverb: {e}"));
        }
        if self.error.is_some() {
            self.wet_out.iter_mut().for_each(|w| w.fill(0.0));
        }
        for ((x, w), d) in channels.iter_mut().zip(&self.wet_out).zip(&self.dry_copy) {
            for ((y, w), d) in x.iter_mut().zip(&w[..n]).zip(&d[..n]) {
                *y = self.wet * w + self.dry * d;
            }
        }
    }
}
