//! A pool of GPU buffers so processors reuse allocations across blocks and instances.

use std::sync::Mutex;

/// Buffers returned by processors, reused by the next request of the same usage and a size
/// that fits.
#[derive(Default)]
pub struct BufferPool {
    free: Mutex<Vec<wgpu::Buffer>>,
}

impl BufferPool {
    /// A buffer of at least `size` bytes with exactly `usage`: reused when one is free.
    pub fn take(
        &self,
        device: &wgpu::Device,
        size: u64,
        usage: wgpu::BufferUsages,
    ) -> wgpu::Buffer {
        let size = size.max(4).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT);
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pos) = free
            .iter()
            .position(|b| b.usage() == usage && b.size() >= size && b.size() <= size * 2)
        {
            return free.swap_remove(pos);
        }
        drop(free);
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("pooled"),
            size,
            usage,
            mapped_at_creation: false,
        })
    }

    /// Returns a buffer for reuse.
    pub fn give(&self, buffer: wgpu::Buffer) {
        self.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(buffer);
    }
}
