//! Voice-like test material made as a voice is, and the SI-SDR measure.

use super::{noise, rng};
use rand::Rng;
use std::f64::consts::TAU;

const RATE: u32 = 48_000;

/// `seconds` of voice at f0 around `f0` Hz with formants `formants` (Hz).
pub fn voice(seconds: f64, seed: u64, f0: f64, formants: [f64; 3]) -> Vec<f32> {
    let n = (seconds * f64::from(RATE)) as usize;
    let mut r = rng(seed);
    let breath = noise(&mut r, n);
    // A Rosenberg glottal pulse (opening 40 %, closing 16 % of the period), differentiated.
    let mut source = vec![0.0f64; n];
    let mut phase = 0.0f64;
    let mut prev = 0.0f64;
    for (i, s) in source.iter_mut().enumerate() {
        let t = i as f64 / f64::from(RATE);
        let pitch =
            f0 * (1.0 + 0.12 * (TAU * 0.5 * t).sin()) * (1.0 + 0.01 * (r.random::<f64>() - 0.5));
        phase = (phase + pitch / f64::from(RATE)).fract();
        let g = if phase < 0.4 {
            0.5 * (1.0 - (std::f64::consts::PI * phase / 0.4).cos())
        } else if phase < 0.56 {
            (std::f64::consts::FRAC_PI_2 * (phase - 0.4) / 0.16).cos()
        } else {
            0.0
        };
        *s = g - prev;
        prev = g;
    }
    // Formant resonators in cascade.
    let mut y = source;
    for (k, f) in formants.iter().enumerate() {
        let bw = 80.0 + 40.0 * k as f64;
        let rr = (-std::f64::consts::PI * bw / f64::from(RATE)).exp();
        let c1 = 2.0 * rr * (TAU * f / f64::from(RATE)).cos();
        let c2 = -rr * rr;
        let (mut y1, mut y2) = (0.0, 0.0);
        for v in y.iter_mut() {
            let out = *v + c1 * y1 + c2 * y2;
            y2 = y1;
            y1 = out;
            *v = out;
        }
    }
    let peak = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    y.iter()
        .enumerate()
        .map(|(i, v)| {
            let t = i as f64 / f64::from(RATE);
            let syllable = 0.15 + 0.85 * (0.5 - 0.5 * (TAU * 3.0 * t).cos());
            (0.3 * syllable * v / peak) as f32 + 0.0005 * breath[i]
        })
        .collect()
}

/// Scale-invariant SDR of `estimate` against `reference` (dB).
pub fn si_sdr(estimate: &[f32], reference: &[f32]) -> f64 {
    let dot: f64 = estimate
        .iter()
        .zip(reference)
        .map(|(a, b)| f64::from(*a) * f64::from(*b))
        .sum();
    let energy: f64 = reference.iter().map(|v| f64::from(*v).powi(2)).sum();
    let alpha = dot / energy;
    let (mut target, mut error) = (0.0, 0.0);
    for (e, r) in estimate.iter().zip(reference) {
        let t = alpha * f64::from(*r);
        target += t * t;
        error += (f64::from(*e) - t).powi(2);
    }
    10.0 * (target / error).log10()
}
