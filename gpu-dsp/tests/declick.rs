//! De-click on a synthetic voice made as a voice is (a smooth glottal pulse train, its
//! pitch gliding with jitter, through three formant resonators, syllables, breath noise):
//! 200 clicks of 1–20 samples are taken out (SI-SDR up ≥ 10 dB), and the clean voice goes
//! through within −60 dB.

mod common;

use common::{noise, rng};
use gpu_dsp::restore::{declick, DeclickSettings};
use rand::Rng;
use std::f64::consts::TAU;

const RATE: u32 = 48_000;

/// `seconds` of voice at f0 around `f0` Hz with formants `formants` (Hz).
fn voice(seconds: f64, seed: u64, f0: f64, formants: [f64; 3]) -> Vec<f32> {
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
fn si_sdr(estimate: &[f32], reference: &[f32]) -> f64 {
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

#[test]
fn two_hundred_clicks_come_out_and_clean_speech_goes_through() {
    for (seed, f0, formants) in [
        (1u64, 120.0, [700.0, 1220.0, 2600.0]),
        (2, 210.0, [400.0, 2000.0, 2800.0]),
    ] {
        let clean = voice(10.0, seed, f0, formants);
        let mut r = rng(seed + 100);
        let mut damaged = clean.clone();
        let n = clean.len();
        let mut clicks = 0;
        for k in 0..200 {
            let at = 2000 + k * (n - 4000) / 200 + r.random_range(0..200usize);
            let len = r.random_range(1..=20usize);
            let amp = r.random_range(0.05..0.5f32);
            for i in 0..len {
                let sign = if r.random::<bool>() { 1.0 } else { -1.0 };
                damaged[at + i] += sign * amp * r.random_range(0.5..1.0f32);
            }
            clicks += 1;
        }
        assert_eq!(clicks, 200);
        let settings = DeclickSettings::default();
        let (out, report) = declick(&damaged, &settings);
        let (before, after) = (si_sdr(&damaged, &clean), si_sdr(&out, &clean));
        eprintln!(
            "f0 {f0}: SI-SDR {before:.1} → {after:.1} dB; {} clicks, {} samples rebuilt",
            report.clicks, report.samples
        );
        assert!(
            after - before >= 10.0,
            "f0 {f0}: only {:.1} dB better",
            after - before
        );
        // The clean voice goes through.
        let (passed, found) = declick(&clean, &settings);
        let energy: f64 = clean.iter().map(|v| f64::from(*v).powi(2)).sum();
        let changed: f64 = passed
            .iter()
            .zip(&clean)
            .map(|(a, b)| f64::from(a - b).powi(2))
            .sum();
        let db = 10.0 * (changed / energy).max(1e-30).log10();
        eprintln!(
            "f0 {f0}: clean voice changed by {db:.1} dB ({} false clicks)",
            found.clicks
        );
        assert!(
            db <= -60.0,
            "f0 {f0}: the clean voice changed by {db:.1} dB"
        );
    }
}
