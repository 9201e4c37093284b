//! Multiband spectral dynamics: every third-octave band compressed above (or expanded below)
//! its threshold, channels linked, gains smoothed in time and interpolated across frequency.

use super::linked::Linked;
use super::stft::StftConfig;

/// Compression above the threshold, or downward expansion below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DynamicsMode {
    Compress,
    Expand,
}

/// Settings shared by every band.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MultibandParams {
    pub mode: DynamicsMode,
    /// Band level (dB, mean square; a full-scale sine is −3 dB) where the action starts.
    pub threshold_db: f32,
    /// ≥ 1: compress: 1 dB out per `ratio` dB in above the threshold; expand: `ratio` dB down
    /// per dB below it.
    pub ratio: f32,
    pub attack_ms: f32,
    pub release_ms: f32,
    /// Largest gain change in dB.
    pub range_db: f32,
}

impl Default for MultibandParams {
    fn default() -> Self {
        Self {
            mode: DynamicsMode::Compress,
            threshold_db: -30.0,
            ratio: 2.0,
            attack_ms: 10.0,
            release_ms: 150.0,
            range_db: 12.0,
        }
    }
}

/// The static curve: gain in dB for a band level.
pub fn band_gain_db(p: &MultibandParams, level_db: f32) -> f32 {
    let ratio = p.ratio.max(1.0);
    let g = match p.mode {
        DynamicsMode::Compress if level_db > p.threshold_db => {
            -(level_db - p.threshold_db) * (1.0 - 1.0 / ratio)
        }
        DynamicsMode::Expand if level_db < p.threshold_db => {
            -(p.threshold_db - level_db) * (ratio - 1.0)
        }
        _ => 0.0,
    };
    g.max(-p.range_db.abs())
}

/// Multiband dynamics on `channels` linked channels. All memory is allocated in `new`.
pub struct MultibandDynamics {
    linked: Linked,
    params: MultibandParams,
}

impl MultibandDynamics {
    pub fn new(params: MultibandParams, config: StftConfig, rate: f32, channels: usize) -> Self {
        Self {
            linked: Linked::new(
                config,
                rate,
                channels,
                false,
                (params.attack_ms, params.release_ms),
            ),
            params,
        }
    }

    pub fn latency(&self) -> usize {
        self.linked.latency()
    }

    /// The latest gain per band (dB) and the band centres (Hz), for meters.
    pub fn band_gains(&self) -> (&[f32], &[f32]) {
        (self.linked.band_gains_db(), self.linked.layout.centres_hz())
    }

    pub fn reset(&mut self) {
        self.linked.reset();
    }

    pub fn params(&self) -> MultibandParams {
        self.params
    }

    /// Changes the settings (from the next frame).
    pub fn set_params(&mut self, params: MultibandParams) {
        self.linked.set_times(params.attack_ms, params.release_ms);
        self.params = params;
    }

    /// The deepest band cut of the latest frame (dB, ≤ 0), for meters.
    pub fn reduction_db(&self) -> f32 {
        self.linked.reduction_db()
    }

    /// Processes in place (delayed by `latency()`). Never allocates.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let p = self.params;
        self.linked.process(channels, None, |levels, targets| {
            for (t, &level) in targets.iter_mut().zip(levels.main_db) {
                *t = band_gain_db(&p, level);
            }
        });
    }
}
