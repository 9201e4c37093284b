//! Where a masker (music, effects) covers a target (dialogue), per third-octave band.
//!
//! Frames of 4096 samples (hop 2048). In each frame and band the target is *active* when its
//! level is above −60 dB (re full-scale sine); the *margin* is masker level minus target level,
//! and the band is *covered* when the margin is above −6 dB (the masker is within 6 dB of
//! the target or louder: dialogue there loses clarity). The duck processor and the GUI read
//! these per-band figures.

use super::bands::{bin_range, third_octaves, Band};
use super::frames::for_each_frame;
use super::spectrum::level_db;

const FFT: usize = 4096;
const ACTIVE_DB: f64 = -60.0;
const COVERED_MARGIN_DB: f64 = -6.0;

/// Masking figures of one band.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandMasking {
    pub band: Band,
    /// Fraction of frames in which the target is active in this band.
    pub active_fraction: f64,
    /// Of the active frames, the fraction covered by the masker; `None` if never active.
    pub covered_fraction: Option<f64>,
    /// Mean masker-minus-target level over active frames (dB); `None` if never active.
    pub mean_margin_db: Option<f64>,
}

/// Per-band masking of `target` by `masker` (both planar, same rate; channels are averaged
/// in power; the shorter signal is padded with silence).
pub fn masking(target: &[&[f32]], masker: &[&[f32]], sample_rate: u32) -> Vec<BandMasking> {
    let bands = third_octaves(sample_rate);
    let ranges: Vec<_> = bands
        .iter()
        .map(|b| bin_range(b, FFT, sample_rate))
        .collect();
    let per_frame = |channels: &[&[f32]]| {
        let mut levels: Vec<Vec<Option<f64>>> = Vec::new();
        for_each_frame(channels, FFT, FFT / 2, |spectra| {
            levels.push(
                ranges
                    .iter()
                    .map(|r| {
                        let p: f64 = spectra
                            .iter()
                            .map(|s| {
                                s[r.clone()]
                                    .iter()
                                    .map(|x| f64::from(x.norm_sqr()))
                                    .sum::<f64>()
                            })
                            .sum();
                        level_db(p / spectra.len().max(1) as f64)
                    })
                    .collect(),
            );
        });
        levels
    };
    let t = per_frame(target);
    let m = per_frame(masker);
    let frames = t.len().max(m.len()).max(1);
    bands
        .iter()
        .enumerate()
        .map(|(b, &band)| {
            let (mut active, mut covered, mut margin) = (0usize, 0usize, 0.0f64);
            for f in 0..frames {
                let Some(tl) = t.get(f).and_then(|v| v[b]).filter(|&l| l > ACTIVE_DB) else {
                    continue;
                };
                let ml = m.get(f).and_then(|v| v[b]).unwrap_or(-200.0);
                active += 1;
                margin += ml - tl;
                if ml - tl > COVERED_MARGIN_DB {
                    covered += 1;
                }
            }
            BandMasking {
                band,
                active_fraction: active as f64 / frames as f64,
                covered_fraction: (active > 0).then(|| covered as f64 / active as f64),
                mean_margin_db: (active > 0).then(|| margin / active as f64),
            }
        })
        .collect()
}
