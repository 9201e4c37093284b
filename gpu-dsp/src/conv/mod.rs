//! Partitioned convolution: the CPU reference engine, the GPU engine and the reverb around them.
//!
//! [`Convolver`] is a non-uniformly partitioned overlap-save convolver with frequency-domain
//! delay lines ([`PartitionPlan`] lays the partitions out). [`GpuConvolverBank`] runs the
//! multiply-accumulate of every tail partition of every convolver in the bank as one wgpu
//! dispatch per block, while the head stays on the CPU. [`ConvolutionReverb`] adds wet/dry,
//! pre-delay, IR gain and click-free IR swaps. [`reference`] holds the f64 direct form and a
//! whole-signal FFT convolution used as test oracle and benchmark floor.

mod backend;
mod convolver;
mod gpu;
mod partition;
pub mod reference;
mod reverb;
mod routing;
mod segment;

pub use backend::ConvolutionBackend;
pub use convolver::{Convolver, ConvolverConfig};
pub use gpu::GpuConvolverBank;
pub use partition::{PartitionPlan, Segment};
pub use reverb::{ConvolutionReverb, ReverbParams};
pub use routing::{Route, Routing};
