//! The cleanup view's analysis: a track's `clean` insert run over the start of its source,
//! with before/after spectrograms, the reduction mask and the removed signal.

use super::document::read_clip_mono;
use super::state::CleanupView;
use crate::plot::magma;
use anyhow::{anyhow, Result};
use gpu_dsp::analysis::spectrogram::{spectrogram_cpu, Spectrogram, SpectrogramConfig};
use gpu_dsp::mix::{InsertSpec, MixSpec};
use gpu_dsp::spectral::{clean_cpu, CleanPlan, DenoiseConfig, NoiseModel};
use iced::widget::image::Handle;
use std::sync::Arc;

/// Seconds of the source analysed.
const SECONDS: u64 = 20;
/// Image size of each view.
const WIDTH: usize = 480;
const HEIGHT: usize = 150;

/// Runs track `track`'s cleanup on the start of its first clip.
pub fn analyse(spec: &MixSpec, track: usize) -> Result<CleanupView> {
    let t = spec
        .tracks
        .get(track)
        .ok_or_else(|| anyhow!("no track {track}"))?;
    let (reduction_db, hum) = t
        .inserts
        .iter()
        .find_map(|i| match i {
            InsertSpec::Clean { reduction_db, hum } => Some((*reduction_db, hum.clone())),
            _ => None,
        })
        .ok_or_else(|| anyhow!("track '{}' has no clean insert", t.name))?;
    let clip = t
        .clips
        .first()
        .ok_or_else(|| anyhow!("track '{}' has no clip", t.name))?;
    let rate = spec.sample_rate;
    let mono = read_clip_mono(spec, clip, SECONDS * u64::from(rate))?;
    if mono.is_empty() {
        return Err(anyhow!("track '{}' has no audio to analyse", t.name));
    }
    let plan = CleanPlan {
        stft: DenoiseConfig::dialogue(rate as f32).stft,
        reduction_db,
        noise: vec![NoiseModel::Tracked],
        hum_found: hum.is_some(),
        hum: hum.clone(),
    };
    let input = vec![mono];
    let cleaned = clean_cpu(&input, rate as f32, &plan).remove(0);
    let removed: Vec<f32> = input[0].iter().zip(&cleaned).map(|(a, b)| a - b).collect();
    let energy = |x: &[f32]| x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>();
    let removed_db = (10.0
        * (energy(&removed) / energy(&input[0]).max(1e-30))
            .max(1e-12)
            .log10()) as f32;
    let config = SpectrogramConfig::new(2048, 512)?;
    let before = spectrogram_cpu(&[&input[0]], rate, config);
    let after = spectrogram_cpu(&[&cleaned], rate, config);
    Ok(CleanupView {
        track,
        name: t.name.clone(),
        seconds: input[0].len() as f64 / f64::from(rate),
        before: image_of(&before, |b, _| (b + 100.0) / 100.0),
        after: image_of(&after, |a, _| (a + 100.0) / 100.0),
        // The mask: how far each cell was turned down, black (untouched) to bright (the floor).
        mask: image_of_pair(&before, &after, reduction_db),
        removed_db,
        removed: Arc::new(removed),
        rate,
        hum_hz: hum.map(|h| h.fundamental),
    })
}

/// Maps time to x and log frequency (30 Hz to Nyquist) to y.
fn cells(s: &Spectrogram) -> (Vec<usize>, Vec<usize>) {
    let frames: Vec<usize> = (0..WIDTH)
        .map(|x| (x * s.frames / WIDTH).min(s.frames.saturating_sub(1)))
        .collect();
    let (lo, hi) = (30f64.ln(), (f64::from(s.sample_rate) / 2.0).ln());
    let bins: Vec<usize> = (0..HEIGHT)
        .map(|y| {
            let f = (lo + (hi - lo) * (HEIGHT - 1 - y) as f64 / (HEIGHT - 1) as f64).exp();
            ((f / s.bin_hz(1)).round() as usize).min(s.bins - 1)
        })
        .collect();
    (frames, bins)
}

fn image_of(s: &Spectrogram, value: impl Fn(f32, usize) -> f32) -> Handle {
    let (frames, bins) = cells(s);
    let mut rgba = Vec::with_capacity(WIDTH * HEIGHT * 4);
    for &bin in &bins {
        for &f in &frames {
            let db = s.db.get(f * s.bins + bin).copied().unwrap_or(-120.0);
            let [r, g, b] = magma(value(db, bin).clamp(0.0, 1.0));
            rgba.extend_from_slice(&[r, g, b, 255]);
        }
    }
    Handle::from_rgba(WIDTH as u32, HEIGHT as u32, rgba)
}

fn image_of_pair(before: &Spectrogram, after: &Spectrogram, reduction_db: f32) -> Handle {
    let (frames, bins) = cells(before);
    let mut rgba = Vec::with_capacity(WIDTH * HEIGHT * 4);
    for &bin in &bins {
        for &f in &frames {
            let at = f * before.bins + bin;
            let (b, a) = (
                before.db.get(at).copied().unwrap_or(-120.0),
                after.db.get(at).copied().unwrap_or(-120.0),
            );
            // Only where there was something to remove (above −100 dB).
            let cut = if b > -100.0 { (b - a).max(0.0) } else { 0.0 };
            let [r, g, bl] = magma((cut / reduction_db.max(1.0)).clamp(0.0, 1.0));
            rgba.extend_from_slice(&[r, g, bl, 255]);
        }
    }
    Handle::from_rgba(WIDTH as u32, HEIGHT as u32, rgba)
}
