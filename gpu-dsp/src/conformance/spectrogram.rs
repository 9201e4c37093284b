//! The STFT/spectrogram family.

use super::noise;
use crate::analysis::spectrogram::{hann, SpectrogramBackend, SpectrogramConfig};
use crate::Result;

/// Power of every frame and bin by the DFT definition in f64 (same framing and scaling as
/// the spectrogram, before the dB conversion): the family's reference.
pub fn dft_power(channels: &[Vec<f32>], config: SpectrogramConfig) -> Vec<f64> {
    let n = config.fft;
    let len = channels[0].len();
    let w = hann(n);
    let scale = f64::from(config.scale());
    let mut out = Vec::new();
    for f in 0..config.frames(len) {
        for k in 0..config.bins() {
            let mut p = 0.0;
            for x in channels {
                let (mut re, mut im) = (0.0f64, 0.0f64);
                for (i, wi) in w.iter().enumerate() {
                    let v = f64::from(x.get(f * config.hop + i).copied().unwrap_or(0.0))
                        * f64::from(*wi);
                    let a = -std::f64::consts::TAU * ((k * i) % n) as f64 / n as f64;
                    re += v * a.cos();
                    im += v * a.sin();
                }
                p += re * re + im * im;
            }
            let edge = if k == 0 || k == n / 2 { 0.25 } else { 1.0 };
            out.push(p / channels.len() as f64 * scale * scale * edge);
        }
    }
    out
}

/// Builds a backend for a configuration and a channel count.
pub type MakeSpectrogram<'a> =
    dyn FnMut(SpectrogramConfig, usize) -> Result<Box<dyn SpectrogramBackend>> + 'a;

/// Checks a spectrogram backend, built by `make` for each configuration and channel count,
/// against the f64 DFT on random signals: shorter than one frame, hop = FFT, overlapping
/// hops, 1–3 channels. Passes when every frame's power is within 1e-5 of the signal's peak
/// power; returns the worst relative error seen.
pub fn check_spectrogram_backend(
    make: &mut MakeSpectrogram<'_>,
) -> std::result::Result<f64, String> {
    let cases = [
        (16, 4, 100, 1),
        (64, 16, 1000, 2),
        (64, 64, 640, 3),
        (64, 16, 50, 1),
        (256, 64, 3000, 2),
    ];
    let mut worst = 0.0f64;
    for (seed, &(fft, hop, len, channels)) in cases.iter().enumerate() {
        let config = SpectrogramConfig::new(fft, hop).map_err(|e| e.to_string())?;
        let x: Vec<Vec<f32>> = (0..channels)
            .map(|c| noise((seed * 10 + c) as u32 + 1, len))
            .collect();
        let planes: Vec<&[f32]> = x.iter().map(Vec::as_slice).collect();
        let mut backend = make(config, channels).map_err(|e| e.to_string())?;
        let s = backend
            .compute(&planes, 48_000)
            .map_err(|e| format!("{}: {e}", backend.name()))?;
        let what = format!(
            "{}, FFT {fft} hop {hop}, {len} samples × {channels}",
            backend.name()
        );
        if (s.frames, s.bins) != (config.frames(len), config.bins()) {
            return Err(format!(
                "{what}: {} frames × {} bins, expected {} × {}",
                s.frames,
                s.bins,
                config.frames(len),
                config.bins()
            ));
        }
        let want = dft_power(&x, config);
        let peak = want.iter().fold(0.0f64, |m, &v| m.max(v));
        let err =
            s.db.iter()
                .zip(&want)
                .map(|(&d, w)| (10f64.powf(f64::from(d) / 10.0) - w).abs())
                .fold(0.0f64, f64::max)
                / peak;
        if err.is_nan() || err >= 1e-5 {
            return Err(format!(
                "{what}: power error {err:e} of the peak (limit 1e-5)"
            ));
        }
        worst = worst.max(err);
    }
    Ok(worst)
}
