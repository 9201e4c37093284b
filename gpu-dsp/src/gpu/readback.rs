//! One slot of a readback ring: a staging buffer mapped as soon as the submission that
//! copies into it completes, read a ring's turn later. The device is driven by a thread of
//! its own ([`Poller`]), so the thread that reads never polls or waits on the queue: when
//! the GPU runs more than a ring's turn behind it sleeps until that slot's mapping arrives
//! (counted as late).

use super::GpuContext;
use crate::{DspError, Result};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Mapping states of a slot.
const PENDING: u8 = 0;
const MAPPED: u8 = 1;
const FAILED: u8 = 2;

/// How long a late readback is waited for before the GPU is given up as lost.
const GIVE_UP: Duration = Duration::from_secs(30);

/// Waits for submissions on a thread of its own, which runs their map callbacks as soon as
/// the GPU finishes them. Ends with its context.
pub(crate) struct Poller {
    tx: SyncSender<wgpu::SubmissionIndex>,
}

impl Poller {
    pub(crate) fn start(device: wgpu::Device) -> Result<Self> {
        let (tx, rx) = sync_channel::<wgpu::SubmissionIndex>(256);
        std::thread::Builder::new()
            .name("gpu-poll".into())
            .spawn(move || {
                for index in rx {
                    let wait = wgpu::PollType::Wait {
                        submission_index: Some(index),
                        timeout: None,
                    };
                    // A lost device fails every mapping, which the readers report.
                    let _ = device.poll(wait);
                }
            })
            .map_err(|e| DspError::Gpu(format!("cannot start the GPU poll thread: {e}")))?;
        Ok(Self { tx })
    }

    /// Has `index` waited for; never blocks (a full queue of submissions is waited for
    /// anyway, and a wait for a later one completes the earlier ones).
    pub(crate) fn watch(&self, index: wgpu::SubmissionIndex) {
        match self.tx.try_send(index) {
            Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

pub struct StagingSlot {
    buffer: wgpu::Buffer,
    in_flight: bool,
    state: Arc<AtomicU8>,
    bytes: u64,
}

impl StagingSlot {
    /// A slot around `buffer` (`MAP_READ | COPY_DST`).
    pub fn new(buffer: wgpu::Buffer) -> Self {
        Self {
            buffer,
            in_flight: false,
            state: Arc::new(AtomicU8::new(PENDING)),
            bytes: 0,
        }
    }

    /// The staging buffer, for the copy into it.
    pub fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }

    /// True while a submission's results wait in the slot.
    pub fn in_flight(&self) -> bool {
        self.in_flight
    }

    /// After the submission `index` on `ctx` that copies `bytes` into the buffer: they are
    /// mapped when it completes, and the thread calling this is woken if it is waiting.
    pub fn submitted(&mut self, ctx: &GpuContext, index: wgpu::SubmissionIndex, bytes: u64) {
        self.state.store(PENDING, Ordering::Release);
        let (state, reader) = (Arc::clone(&self.state), std::thread::current());
        self.buffer
            .slice(..bytes)
            .map_async(wgpu::MapMode::Read, move |r| {
                state.store(if r.is_ok() { MAPPED } else { FAILED }, Ordering::Release);
                reader.unpark();
            });
        ctx.watch(index);
        self.in_flight = true;
        self.bytes = bytes;
    }

    /// Hands the mapped bytes to `read` and frees the slot; false when nothing was in flight.
    /// Results not yet mapped (the GPU more than a ring's turn behind) are slept for until
    /// their mapping arrives, and `late` counts it.
    pub fn read(&mut self, late: &mut u64, read: impl FnOnce(&[u8])) -> Result<bool> {
        if !std::mem::take(&mut self.in_flight) {
            return Ok(false);
        }
        if self.state.load(Ordering::Acquire) == PENDING {
            *late += 1;
            let since = Instant::now();
            while self.state.load(Ordering::Acquire) == PENDING {
                if since.elapsed() > GIVE_UP {
                    return Err(DspError::Gpu(format!(
                        "a GPU readback did not finish within {} s",
                        GIVE_UP.as_secs()
                    )));
                }
                std::thread::park_timeout(Duration::from_millis(100));
            }
        }
        if self.state.load(Ordering::Acquire) != MAPPED {
            return Err(DspError::Gpu(
                "a readback buffer could not be mapped".into(),
            ));
        }
        read(&self.buffer.slice(..self.bytes).get_mapped_range());
        self.buffer.unmap();
        Ok(true)
    }

    /// Drops what is in flight (call after the queue is idle).
    pub fn forget(&mut self) {
        if std::mem::take(&mut self.in_flight) && self.state.load(Ordering::Acquire) == MAPPED {
            self.buffer.unmap();
        }
    }
}
