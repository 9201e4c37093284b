//! One slot of a readback ring: a staging buffer mapped as soon as the submission that
//! copies into it completes, read a ring's turn later without waiting on the queue (only a
//! GPU running more than that far behind is waited for, and counted).

use super::GpuContext;
use crate::{DspError, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub struct StagingSlot {
    buffer: wgpu::Buffer,
    submission: Option<wgpu::SubmissionIndex>,
    mapped: Arc<AtomicBool>,
    bytes: u64,
}

impl StagingSlot {
    /// A slot around `buffer` (`MAP_READ | COPY_DST`).
    pub fn new(buffer: wgpu::Buffer) -> Self {
        Self {
            buffer,
            submission: None,
            mapped: Arc::new(AtomicBool::new(false)),
            bytes: 0,
        }
    }

    /// The staging buffer, for the copy into it.
    pub fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }

    /// True while a submission's results wait in the slot.
    pub fn in_flight(&self) -> bool {
        self.submission.is_some()
    }

    /// After the submission `index` that copies `bytes` into the buffer: they are mapped
    /// when it completes.
    pub fn submitted(&mut self, index: wgpu::SubmissionIndex, bytes: u64) {
        self.mapped.store(false, Ordering::Release);
        let mapped = Arc::clone(&self.mapped);
        self.buffer
            .slice(..bytes)
            .map_async(wgpu::MapMode::Read, move |r| {
                mapped.store(r.is_ok(), Ordering::Release);
            });
        self.submission = Some(index);
        self.bytes = bytes;
    }

    /// Hands the mapped bytes to `read` and frees the slot; false when nothing was in flight.
    /// Results not yet mapped (the GPU more than a ring's turn behind) are waited for, and
    /// `late` counts it.
    pub fn read(
        &mut self,
        ctx: &GpuContext,
        late: &mut u64,
        read: impl FnOnce(&[u8]),
    ) -> Result<bool> {
        let Some(submission) = self.submission.take() else {
            return Ok(false);
        };
        let device = ctx.device();
        let gpu = |e: wgpu::PollError| DspError::Gpu(e.to_string());
        device.poll(wgpu::PollType::Poll).map_err(gpu)?;
        if !self.mapped.load(Ordering::Acquire) {
            *late += 1;
            device
                .poll(wgpu::PollType::Wait {
                    submission_index: Some(submission),
                    timeout: None,
                })
                .map_err(gpu)?;
            if !self.mapped.load(Ordering::Acquire) {
                return Err(DspError::Gpu(
                    "a readback buffer could not be mapped".into(),
                ));
            }
        }
        read(&self.buffer.slice(..self.bytes).get_mapped_range());
        self.buffer.unmap();
        Ok(true)
    }

    /// Drops what is in flight (call after the queue is idle).
    pub fn forget(&mut self) {
        if self.submission.take().is_some() && self.mapped.load(Ordering::Acquire) {
            self.buffer.unmap();
        }
    }
}
