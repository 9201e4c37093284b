//! De-click on a synthetic voice made as a voice is (a smooth glottal pulse train, its
//! pitch gliding with jitter, through three formant resonators, syllables, breath noise):
//! 200 clicks of 1–20 samples are taken out (SI-SDR up ≥ 10 dB), and the clean voice goes
//! through within −60 dB.

mod common;

use common::rng;
use common::speech::{si_sdr, voice};
use gpu_dsp::restore::{declick, DeclickSettings};
use rand::Rng;

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
