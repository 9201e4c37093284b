//! The per-bin gain-tracking family (the noise suppressor's bin work), against its definition
//! restated here in f64 from the published algorithm: MCRA-style noise tracking (recursive
//! smoothing 0.8; a minimum over four 0.375 s sub-windows; speech present where the smoothed
//! power exceeds 5× the minimum, presence smoothed by 0.2; noise updated at
//! 0.95 + 0.05·presence), or a fixed profile; decision-directed Wiener gains (α = 0.95) with a
//! floor; ¼ ½ ¼ smoothing across frequency; a (f / 80 Hz)² ceiling below 80 Hz.

use super::noise;
use crate::spectral::{GainTrackingBackend, NoiseModel};
use crate::Result;

/// Builds a backend for `(bins, hop, rate, reduction_db, one model per channel)`.
pub type MakeGainTracking<'a> =
    dyn FnMut(usize, usize, f32, f32, &[NoiseModel]) -> Result<Box<dyn GainTrackingBackend>> + 'a;

/// One bin's state in the definition.
#[derive(Clone, Copy)]
struct Bin {
    smoothed: f64,
    minima: [f64; 4],
    noise: f64,
    presence: f64,
    clean: f64,
    started: bool,
}

/// The definition for one channel: gains `[frame][bin]` for power `[frame][bin]`.
fn reference(
    power: &[f32],
    bins: usize,
    hop: usize,
    rate: f64,
    reduction_db: f64,
    profile: Option<&[f32]>,
) -> Vec<f64> {
    let floor = 10f64.powf(-reduction_db.abs() / 20.0);
    let subwindow = ((0.375 * rate / hop as f64).ceil() as u64).max(2);
    let warmup = (2 * (bins - 1)).div_ceil(hop).saturating_sub(1) as u64;
    let bin_hz = rate / (2 * (bins - 1)) as f64;
    let mut state = vec![
        Bin {
            smoothed: 0.0,
            minima: [f64::MAX; 4],
            noise: 0.0,
            presence: 0.0,
            clean: 0.0,
            started: false,
        };
        bins
    ];
    let mut out = Vec::with_capacity(power.len());
    let mut raw = vec![0.0f64; bins];
    for (f, frame) in power.chunks_exact(bins).enumerate() {
        let f = f as u64;
        for (k, (b, &p)) in state.iter_mut().zip(frame).enumerate() {
            let p = f64::from(p);
            let noise = match profile {
                Some(profile) => f64::from(profile[k]),
                None => {
                    if f >= warmup && p >= 1e-10 {
                        let (s0, n0) = if b.started {
                            (b.smoothed, b.noise)
                        } else {
                            (p, p)
                        };
                        b.started = true;
                        b.smoothed = 0.8 * s0 + 0.2 * p;
                        b.minima[0] = b.minima[0].min(b.smoothed);
                        let minimum = b.minima.iter().copied().fold(f64::MAX, f64::min);
                        let present = if b.smoothed > 5.0 * minimum { 1.0 } else { 0.0 };
                        b.presence = 0.2 * b.presence + 0.8 * present;
                        let a = 0.95 + 0.05 * b.presence;
                        b.noise = a * n0 + (1.0 - a) * p;
                    }
                    b.noise
                }
            };
            let n = noise.max(1e-20);
            let post = p / n;
            let prior = 0.95 * b.clean / n + 0.05 * (post - 1.0).max(0.0);
            let g = (prior / (1.0 + prior)).max(floor);
            b.clean = g * g * p;
            raw[k] = g;
        }
        if profile.is_none() && (f + 1).is_multiple_of(subwindow) {
            for b in &mut state {
                b.minima = [f64::MAX, b.minima[0], b.minima[1], b.minima[2]];
            }
        }
        for k in 0..bins {
            let left = raw[k.saturating_sub(1)];
            let right = raw[(k + 1).min(bins - 1)];
            let smooth = (0.25 * left + 0.5 * raw[k] + 0.25 * right).max(floor);
            let ratio = k as f64 * bin_hz / 80.0;
            out.push(smooth.min((ratio * ratio).min(1.0)).max(floor));
        }
    }
    out
}

/// Checks a gain-tracking backend against the definition: three channels (two tracked, one
/// with a learned profile) of power spectra whose noise floor steps down and up again under
/// bursts of "speech", 24 dB of reduction, long enough for several minimum-search
/// sub-windows, fed in ragged batches (1 frame to many). Passes when every gain is within
/// 1e-4 of the definition's; returns the worst absolute error seen.
pub fn check_gain_tracking_backend(
    make: &mut MakeGainTracking<'_>,
) -> std::result::Result<f64, String> {
    let (bins, hop, rate, reduction_db) = (129usize, 64usize, 16_000.0f32, 24.0f32);
    let frames = 400;
    let channels = 3;
    let profile: Vec<f32> = (0..bins).map(|k| 0.02 / (1.0 + k as f32 / 20.0)).collect();
    let models = [
        NoiseModel::Tracked,
        NoiseModel::Profile(profile.clone()),
        NoiseModel::Tracked,
    ];
    // Power: an exponential-ish noise floor (stepping down at 150 frames and up at 280, with
    // digital silence for a while in channel 2) and bursts of a few loud bins.
    let mut power = Vec::with_capacity(channels * frames * bins);
    for c in 0..channels {
        let u = noise(900 + c as u32, frames * bins);
        for f in 0..frames {
            let level = match f {
                0..150 => 0.05,
                150..280 => 0.005,
                _ => 0.02,
            };
            for k in 0..bins {
                let r = u[f * bins + k];
                let mut p = level * (1.0 + 0.9 * r) / (1.0 + k as f32 / 40.0);
                if (f / 25) % 3 == 1 && (k + f) % 7 < 2 {
                    p *= 40.0;
                }
                if c == 2 && (60..90).contains(&f) {
                    p = 0.0;
                }
                power.push(p);
            }
        }
    }
    let mut backend = make(bins, hop, rate, reduction_db, &models).map_err(|e| e.to_string())?;
    let what = backend.name();
    let batches = [1usize, 7, 64, 3, 100, 25];
    let mut got = vec![0.0f32; power.len()];
    let (mut done, mut step) = (0, 0);
    while done < frames {
        let n = batches[step % batches.len()]
            .min(backend.max_frames())
            .min(frames - done);
        step += 1;
        let mut batch = Vec::with_capacity(channels * n * bins);
        for c in 0..channels {
            let at = (c * frames + done) * bins;
            batch.extend_from_slice(&power[at..at + n * bins]);
        }
        let mut gains = vec![0.0f32; batch.len()];
        backend
            .process(&batch, n, &mut gains)
            .map_err(|e| format!("{what}: {e}"))?;
        for c in 0..channels {
            let at = (c * frames + done) * bins;
            got[at..at + n * bins].copy_from_slice(&gains[c * n * bins..(c + 1) * n * bins]);
        }
        done += n;
    }
    let mut worst = 0.0f64;
    for (c, model) in models.iter().enumerate() {
        let profile = match model {
            NoiseModel::Profile(p) => Some(p.as_slice()),
            NoiseModel::Tracked => None,
        };
        let span = c * frames * bins..(c + 1) * frames * bins;
        let want = reference(
            &power[span.clone()],
            bins,
            hop,
            f64::from(rate),
            f64::from(reduction_db),
            profile,
        );
        for (i, (&g, &w)) in got[span].iter().zip(&want).enumerate() {
            let err = (f64::from(g) - w).abs();
            if err.is_nan() || err >= 1e-4 {
                return Err(format!(
                    "{what}: channel {c}, frame {}, bin {}: gain {g} where the definition \
                     gives {w} (limit 1e-4)",
                    i / bins,
                    i % bins
                ));
            }
            worst = worst.max(err);
        }
    }
    Ok(worst)
}
