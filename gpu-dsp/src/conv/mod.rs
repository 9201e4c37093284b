//! Partitioned convolution: the CPU reference engine, the GPU engine and the reverb around them.
//!
//! [`Convolver`] is a non-uniformly partitioned overlap-save convolver with frequency-domain
//! delay lines ([`PartitionPlan`] lays the partitions out); [`BlockConvolver`] is its offline
//! form, one uniform segment fed whole blocks. [`GpuTail`] runs the
//! multiply-accumulate of every tail partition of every convolver placed in it as one wgpu
//! dispatch in one submission per block, while the heads stay on the CPU
//! ([`GpuConvolverBank`] drives one for convolvers in lockstep). [`ConvolutionReverb`] adds
//! wet/dry, pre-delay, IR gain and click-free IR swaps, with its tail on either
//! ([`GpuReverb`] drives its own tail). [`reference`] holds the f64 direct form and a
//! whole-signal FFT convolution used as test oracle and benchmark floor.

mod backend;
mod block;
mod convolver;
mod gpu;
mod gpu_reverb;
mod partition;
pub mod reference;
mod reverb;
mod routing;
mod segment;

pub use backend::ConvolutionBackend;
pub use block::BlockConvolver;
pub use convolver::{Convolver, ConvolverConfig};
pub use gpu::{GpuConvolverBank, GpuTail, TailArena, TailBuffers, TailRegion, TailStats};
pub use gpu_reverb::GpuReverb;
pub use partition::{PartitionPlan, Segment};
pub use reverb::{ConvolutionReverb, ReverbParams};
pub use routing::{Route, Routing};
