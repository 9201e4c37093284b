//! The wgpu side: adapter and device, reusable buffers, cached compute pipelines.

mod buffers;
mod context;
mod pipelines;
pub mod shaders;

pub use buffers::BufferPool;
pub use context::{AdapterPolicy, AdapterSummary, GpuContext};
pub use pipelines::PipelineCache;
