//! Room tone on varied noise floors (pink-ish air conditioning, a brown rumble with a
//! slow swell, white hiss with a resonance): ten seconds synthesised from one second of
//! each match its third-octave spectrum from 315 Hz to 8 kHz within ±1.5 dB, do not
//! repeat at the region's length, and are reproducible by seed.

mod common;

use common::{noise, rng};
use gpu_dsp::analysis::LongTermSpectrum;
use gpu_dsp::spectral::RoomTone;

const RATE: u32 = 48_000;

/// White noise through a one-pole low-pass at `pole` (0: white), an optional resonance at
/// `res_hz`, with its level swelling by `swell` (0..1) at 0.3 Hz.
fn floor(seconds: f64, seed: u64, pole: f32, res_hz: Option<f32>, swell: f32) -> Vec<f32> {
    let n = (seconds * f64::from(RATE)) as usize;
    let mut r = rng(seed);
    let white = noise(&mut r, n);
    let mut lp = 0.0f32;
    // A two-pole resonator (r = 0.995).
    let (mut y1, mut y2) = (0.0f32, 0.0f32);
    let coeff = res_hz.map(|f| 2.0 * 0.995 * (std::f32::consts::TAU * f / RATE as f32).cos());
    white
        .iter()
        .enumerate()
        .map(|(i, w)| {
            lp = pole * lp + (1.0 - pole) * w;
            let mut v = lp;
            if let Some(c) = coeff {
                let y = 0.02 * w + c * y1 - 0.990_025 * y2;
                y2 = y1;
                y1 = y;
                v += y;
            }
            let t = i as f32 / RATE as f32;
            0.05 * v * (1.0 + swell * (std::f32::consts::TAU * 0.3 * t).sin())
        })
        .collect()
}

fn third_octaves(x: &[f32]) -> Vec<(f64, f64)> {
    LongTermSpectrum::of(&[x], RATE)
        .third_octave()
        .iter()
        .filter(|b| (315.0..=8000.0).contains(&b.band.nominal_hz))
        .map(|b| (b.band.nominal_hz, b.db.unwrap_or(-300.0)))
        .collect()
}

#[test]
fn room_tone_matches_its_region_and_never_loops() {
    for (name, source) in [
        ("air", floor(3.0, 1, 0.9, None, 0.0)),
        ("rumble", floor(3.0, 2, 0.99, None, 0.3)),
        ("hiss", floor(3.0, 3, 0.0, Some(1500.0), 0.0)),
    ] {
        let (from, to) = (RATE as usize / 2, 3 * RATE as usize / 2);
        let tone = RoomTone::learn(&source, RATE, from, to).unwrap();
        let out = tone.synthesize(10 * RATE as usize, 7);
        assert_eq!(out.len(), 10 * RATE as usize);
        let (want, got) = (third_octaves(&source[from..to]), third_octaves(&out));
        let worst = want
            .iter()
            .zip(&got)
            .map(|((hz, a), (_, b))| (*hz, b - a))
            .fold(
                (0.0, 0.0f64),
                |m, (hz, d)| if d.abs() > m.1.abs() { (hz, d) } else { m },
            );
        eprintln!(
            "{name}: worst third octave {:+.2} dB at {} Hz",
            worst.1, worst.0
        );
        assert!(
            worst.1.abs() <= 1.5,
            "{name}: {:+.2} dB at {} Hz",
            worst.1,
            worst.0
        );
        // No repetition at the region's length (or its half): the normalised
        // autocorrelation there is that of unrelated noise.
        let region = to - from;
        for lag in [region, region / 2] {
            let n = out.len() - lag;
            let (mut xy, mut xx, mut yy) = (0.0f64, 0.0f64, 0.0f64);
            for i in 0..n {
                let (a, b) = (f64::from(out[i]), f64::from(out[i + lag]));
                xy += a * b;
                xx += a * a;
                yy += b * b;
            }
            let r = xy / (xx * yy).sqrt();
            assert!(r.abs() < 0.05, "{name}: correlation {r:.3} at lag {lag}");
        }
        // The same seed gives the same tone; another seed another one.
        assert_eq!(
            tone.synthesize(RATE as usize, 7),
            tone.synthesize(RATE as usize, 7)
        );
        assert_ne!(
            tone.synthesize(RATE as usize, 7),
            tone.synthesize(RATE as usize, 8)
        );
    }
}

#[test]
fn a_region_too_short_or_outside_is_refused() {
    let x = floor(1.0, 4, 0.5, None, 0.0);
    assert!(RoomTone::learn(&x, RATE, 0, 2_000).is_err(), "too short");
    assert!(
        RoomTone::learn(&x, RATE, 1_000, 100_000).is_err(),
        "past the end"
    );
    assert!(RoomTone::learn(&x, RATE, 500, 400).is_err(), "backwards");
}
