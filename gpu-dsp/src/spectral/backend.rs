//! The per-bin gain-tracking family's one contract (noise tracking, decision-directed Wiener
//! gains, smoothing across frequency): the CPU trackers and the GPU bank implement it, and
//! [`crate::conformance::check_gain_tracking_backend`] holds them to an f64 definition.

use super::tracker::{GainTracker, NoiseModel};
use super::GpuGainBank;
use crate::{DspError, Result};

/// Gains for many channels' power spectra, frame after frame; state carries across calls.
pub trait GainTrackingBackend {
    /// For messages.
    fn name(&self) -> String;
    /// Most frames one call takes.
    fn max_frames(&self) -> usize;
    /// Gains for the next `frames` frames of every channel: `power` and `gains` are laid out
    /// `[channel][frame][bin]`.
    fn process(&mut self, power: &[f32], frames: usize, gains: &mut [f32]) -> Result<()>;
}

/// One [`GainTracker`] per channel: the CPU reference as a backend.
pub struct CpuGainBank {
    trackers: Vec<GainTracker>,
    bins: usize,
}

impl CpuGainBank {
    /// As [`GpuGainBank::new`].
    pub fn new(
        bins: usize,
        hop: usize,
        rate: f32,
        reduction_db: f32,
        models: &[NoiseModel],
    ) -> Self {
        Self {
            trackers: models
                .iter()
                .map(|m| GainTracker::new(bins, hop, rate, reduction_db, m.clone()))
                .collect(),
            bins,
        }
    }
}

impl GainTrackingBackend for CpuGainBank {
    fn name(&self) -> String {
        "CPU gain trackers".into()
    }

    fn max_frames(&self) -> usize {
        usize::MAX
    }

    fn process(&mut self, power: &[f32], frames: usize, gains: &mut [f32]) -> Result<()> {
        let per_channel = frames * self.bins;
        if power.len() != per_channel * self.trackers.len() || gains.len() < power.len() {
            return Err(DspError::InvalidInput(format!(
                "a batch of {frames} frames needs {} values, got {}",
                per_channel * self.trackers.len(),
                power.len()
            )));
        }
        for (c, tracker) in self.trackers.iter_mut().enumerate() {
            let at = c * per_channel;
            let (p, g) = (
                &power[at..at + per_channel],
                &mut gains[at..at + per_channel],
            );
            for (p, g) in p.chunks_exact(self.bins).zip(g.chunks_exact_mut(self.bins)) {
                tracker.frame(p, g);
            }
        }
        Ok(())
    }
}

impl GainTrackingBackend for GpuGainBank {
    fn name(&self) -> String {
        "GPU gain bank".into()
    }

    fn max_frames(&self) -> usize {
        self.frames_per_batch()
    }

    fn process(&mut self, power: &[f32], frames: usize, gains: &mut [f32]) -> Result<()> {
        GpuGainBank::process(self, power, frames, gains)
    }
}
