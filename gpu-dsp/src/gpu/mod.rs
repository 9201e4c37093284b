//! The wgpu side: adapter and device, reusable buffers, cached compute pipelines.

mod buffers;
mod context;
mod pipelines;
mod readback;
pub mod shaders;

pub use buffers::BufferPool;
pub use context::{AdapterPolicy, AdapterSummary, GpuContext};
pub use pipelines::PipelineCache;
pub use readback::StagingSlot;

/// A bind group entry for a whole buffer.
pub fn bind_entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: buffer.as_entire_binding(),
    }
}
