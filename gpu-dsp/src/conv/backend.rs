//! The convolution family's one contract: the CPU convolver and the GPU bank implement it,
//! and [`crate::conformance::check_convolution_backend`] holds them to direct f64 convolution.

use super::{Convolver, GpuConvolverBank};
use crate::{DspError, Result};

/// One convolver instance: planar input in, planar output out, any block size, a fixed
/// latency in samples.
pub trait ConvolutionBackend {
    /// For messages.
    fn name(&self) -> String;
    fn latency(&self) -> usize;
    fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) -> Result<()>;
}

impl ConvolutionBackend for Convolver {
    fn name(&self) -> String {
        "CPU convolver".into()
    }

    fn latency(&self) -> usize {
        Convolver::latency(self)
    }

    fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) -> Result<()> {
        Convolver::process(self, input, output);
        Ok(())
    }
}

/// A bank of one convolver (a bank of several is checked one instance at a time).
impl ConvolutionBackend for GpuConvolverBank {
    fn name(&self) -> String {
        "GPU convolver bank".into()
    }

    fn latency(&self) -> usize {
        self.convolvers().first().map_or(0, Convolver::latency)
    }

    fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) -> Result<()> {
        if self.convolvers().len() != 1 {
            return Err(DspError::InvalidInput(
                "the conformance check drives a bank of one convolver".into(),
            ));
        }
        GpuConvolverBank::process(self, &[input], &mut [output])
    }
}
