//! Spectral ducking: a music or effects signal is turned down only in the bands where it
//! would mask the dialogue sidechain, and only by as much as it takes to keep it
//! `clarity_db` under the dialogue there.

use super::linked::Linked;
use super::stft::StftConfig;

/// Ducking settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DuckParams {
    /// How far (dB) the ducked signal is kept under the sidechain in each band.
    pub clarity_db: f32,
    /// Deepest cut (dB).
    pub max_db: f32,
    /// Sidechain band level (dB, mean square) below which the dialogue counts as absent.
    pub presence_db: f32,
    pub attack_ms: f32,
    pub release_ms: f32,
}

impl Default for DuckParams {
    fn default() -> Self {
        Self {
            clarity_db: 6.0,
            max_db: 9.0,
            presence_db: -60.0,
            attack_ms: 15.0,
            release_ms: 250.0,
        }
    }
}

/// The cut (dB, ≤ 0) for one band.
pub fn duck_gain_db(p: &DuckParams, main_db: f32, side_db: f32) -> f32 {
    if side_db < p.presence_db {
        return 0.0;
    }
    (side_db - p.clarity_db - main_db)
        .min(0.0)
        .max(-p.max_db.abs())
}

/// Ducks `channels` linked channels under a mono sidechain. All memory is allocated in
/// `new`.
pub struct SpectralDucker {
    linked: Linked,
    params: DuckParams,
}

impl SpectralDucker {
    pub fn new(params: DuckParams, config: StftConfig, rate: f32, channels: usize) -> Self {
        Self {
            linked: Linked::new(
                config,
                rate,
                channels,
                true,
                (params.attack_ms, params.release_ms),
            ),
            params,
        }
    }

    pub fn latency(&self) -> usize {
        self.linked.latency()
    }

    /// The latest cut per band (dB) and the band centres (Hz), for meters.
    pub fn band_gains(&self) -> (&[f32], &[f32]) {
        (self.linked.band_gains_db(), self.linked.layout.centres_hz())
    }

    pub fn reset(&mut self) {
        self.linked.reset();
    }

    pub fn params(&self) -> DuckParams {
        self.params
    }

    /// Changes the settings (from the next frame).
    pub fn set_params(&mut self, params: DuckParams) {
        self.linked.set_times(params.attack_ms, params.release_ms);
        self.params = params;
    }

    /// The deepest band cut of the latest frame (dB, ≤ 0), for meters.
    pub fn reduction_db(&self) -> f32 {
        self.linked.reduction_db()
    }

    /// Ducks `channels` in place (delayed by `latency()`) under `sidechain` (same length,
    /// time-aligned with the input). Never allocates.
    pub fn process(&mut self, channels: &mut [&mut [f32]], sidechain: &[f32]) {
        let p = self.params;
        self.linked
            .process(channels, Some(sidechain), |levels, targets| {
                for ((t, &m), &s) in targets.iter_mut().zip(levels.main_db).zip(levels.side_db) {
                    *t = duck_gain_db(&p, m, s);
                }
            });
    }
}
