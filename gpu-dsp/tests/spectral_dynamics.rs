//! Multiband dynamics and spectral ducking: steady-state gains against the static curves
//! computed by hand, untouched bands stay untouched, and identity when nothing acts.

use gpu_dsp::spectral::{
    DuckParams, DynamicsMode, MultibandDynamics, MultibandParams, SpectralDucker, StftConfig,
};
use std::f64::consts::TAU;

const RATE: f32 = 48_000.0;

fn config() -> StftConfig {
    StftConfig::new(1024, 256).unwrap()
}

fn sine(hz: f32, amp: f32, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| amp * (TAU * f64::from(hz) * i as f64 / f64::from(RATE)).sin() as f32)
        .collect()
}

/// A sine's RMS level in dB by projection.
fn tone_db(x: &[f32], hz: f32) -> f32 {
    let (mut c, mut s) = (0.0f64, 0.0f64);
    for (i, &v) in x.iter().enumerate() {
        let a = TAU * f64::from(hz) * i as f64 / f64::from(RATE);
        c += f64::from(v) * a.cos();
        s += f64::from(v) * a.sin();
    }
    let amp = 2.0 * (c * c + s * s).sqrt() / x.len() as f64;
    (20.0 * (amp / 2f64.sqrt()).log10()) as f32
}

/// Centre of the band nearest `hz` (tones at centres are not blended with a neighbour).
fn centre_near(centres: &[f32], hz: f32) -> f32 {
    *centres
        .iter()
        .min_by(|a, b| (*a - hz).abs().total_cmp(&(*b - hz).abs()))
        .unwrap()
}

fn run_dynamics(d: &mut MultibandDynamics, x: &[f32]) -> Vec<f32> {
    let mut y = x.to_vec();
    for block in y.chunks_mut(500) {
        d.process(&mut [block]);
    }
    y
}

#[test]
fn compression_and_expansion_follow_the_static_curve_per_band() {
    let n = 2 * RATE as usize;
    for (mode, ratio, threshold, expect_loud, expect_quiet) in [
        // Loud band at −9.03 dB: 10.97 dB over −20 at 4:1 → −8.23 dB; quiet band untouched.
        (DynamicsMode::Compress, 4.0, -20.0, -8.23, 0.0),
        // Expansion below −30 at 2:1: the quiet band (−43.0 dB) is 13 dB under → range 12.
        (DynamicsMode::Expand, 2.0, -30.0, 0.0, -12.0),
    ] {
        let params = MultibandParams {
            mode,
            ratio,
            threshold_db: threshold,
            range_db: 12.0,
            ..Default::default()
        };
        let mut d = MultibandDynamics::new(params, config(), RATE, 1);
        let centres = d.band_gains().1.to_vec();
        // The loud tone sits in a wide band (4 kHz: 19 bins) so the window's leakage into the
        // neighbouring bands is negligible; at 1 kHz (4 bins) about 1 dB of it leaks out.
        let (loud_hz, quiet_hz) = (centre_near(&centres, 4000.0), centre_near(&centres, 1000.0));
        let loud = sine(loud_hz, 0.5, n);
        let quiet = sine(quiet_hz, 0.01, n);
        let x: Vec<f32> = loud.iter().zip(&quiet).map(|(a, b)| a + b).collect();
        let y = run_dynamics(&mut d, &x);
        let lat = d.latency();
        let tail = |v: &[f32]| v[n / 2..n - lat].to_vec();
        let out = |hz| tone_db(&y[n / 2 + lat..], hz);
        let got_loud = out(loud_hz) - tone_db(&tail(&loud), loud_hz);
        let got_quiet = out(quiet_hz) - tone_db(&tail(&quiet), quiet_hz);
        eprintln!("{mode:?}: loud band {got_loud:.2} dB (expect {expect_loud}), quiet band {got_quiet:.2} dB (expect {expect_quiet})");
        assert!(
            (got_loud - expect_loud).abs() < 0.6,
            "{mode:?} loud {got_loud:.2}"
        );
        assert!(
            (got_quiet - expect_quiet).abs() < 0.6,
            "{mode:?} quiet {got_quiet:.2}"
        );
    }
}

fn run_duck(d: &mut SpectralDucker, music: &[f32], side: &[f32]) -> Vec<f32> {
    let mut y = music.to_vec();
    for (block, s) in y.chunks_mut(480).zip(side.chunks(480)) {
        d.process(&mut [block], s);
    }
    y
}

#[test]
fn ducking_cuts_only_masking_bands_by_what_is_needed() {
    let n = 2 * RATE as usize;
    let mut d = SpectralDucker::new(DuckParams::default(), config(), RATE, 1);
    let centres = d.band_gains().1.to_vec();
    let (low, high) = (centre_near(&centres, 500.0), centre_near(&centres, 5000.0));
    // Music at −12 dB in both bands; dialogue at −10 dB only in the low one.
    let music: Vec<f32> = sine(low, 0.355, n)
        .iter()
        .zip(sine(high, 0.355, n))
        .map(|(a, b)| a + b)
        .collect();
    let dialogue = sine(low, 0.447, n);
    let y = run_duck(&mut d, &music, &dialogue);
    let lat = d.latency();
    let change = |hz| tone_db(&y[n / 2 + lat..], hz) - tone_db(&music[n / 2..n - lat], hz);
    // Needed: music at −12 must sit 6 dB under −10 → −16: a 4 dB cut; none where no dialogue.
    let (cut_low, cut_high) = (change(low), change(high));
    eprintln!(
        "duck: {low:.0} Hz {cut_low:.2} dB (expect -4), {high:.0} Hz {cut_high:.2} dB (expect 0)"
    );
    assert!((cut_low + 4.0).abs() < 0.6, "low band cut {cut_low:.2} dB");
    assert!(cut_high.abs() < 0.3, "high band changed {cut_high:.2} dB");
    // The cut never exceeds max_db.
    let params = DuckParams {
        max_db: 2.0,
        ..Default::default()
    };
    let mut d = SpectralDucker::new(params, config(), RATE, 1);
    let y = run_duck(&mut d, &music, &dialogue);
    let capped = tone_db(&y[n / 2 + lat..], low) - tone_db(&music[n / 2..n - lat], low);
    assert!((capped + 2.0).abs() < 0.4, "capped cut {capped:.2} dB");
}

#[test]
fn with_silent_dialogue_the_ducker_is_a_pure_delay() {
    let n = RATE as usize;
    let music: Vec<f32> = sine(300.0, 0.3, n)
        .iter()
        .zip(sine(2500.0, 0.2, n))
        .map(|(a, b)| a + b)
        .collect();
    let mut d = SpectralDucker::new(DuckParams::default(), config(), RATE, 2);
    let (mut l, mut r) = (music.clone(), music.clone());
    let silent = vec![0.0f32; n];
    for ((a, b), s) in l
        .chunks_mut(333)
        .zip(r.chunks_mut(333))
        .zip(silent.chunks(333))
    {
        d.process(&mut [a, b], s);
    }
    let lat = d.latency();
    let worst = l[lat..]
        .iter()
        .zip(&music)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "identity off by {worst}");
    assert_eq!(l, r, "linked channels must be processed alike");
}
