//! Long-term spectra, masking, stereo phase/width and the surround energy vector against
//! signals whose answers are known in closed form.

mod common;

use common::{noise, rng};
use gpu_dsp::analysis::surround::{energy_vector, energy_vectors};
use gpu_dsp::analysis::{
    band_correlation, goniometer_points, masking, CorrelationMeter, LongTermSpectrum,
    LongTermSpectrumMeter,
};

const RATE: u32 = 48_000;

fn sine(freq: f64, amp: f64, phase_deg: f64, seconds: f64) -> Vec<f32> {
    (0..(seconds * f64::from(RATE)) as usize)
        .map(|i| {
            (amp * (std::f64::consts::TAU * freq * i as f64 / f64::from(RATE)
                + phase_deg.to_radians())
            .sin()) as f32
        })
        .collect()
}

/// Pink noise (−3 dB/octave) by Paul Kellet's refined filter on white noise.
fn pink(n: usize, seed: u64) -> Vec<f32> {
    let white = noise(&mut rng(seed), n);
    let mut b = [0.0f32; 7];
    white
        .iter()
        .map(|&w| {
            b[0] = 0.99886 * b[0] + w * 0.0555179;
            b[1] = 0.99332 * b[1] + w * 0.0750759;
            b[2] = 0.96900 * b[2] + w * 0.153852;
            b[3] = 0.86650 * b[3] + w * 0.3104856;
            b[4] = 0.55000 * b[4] + w * 0.5329522;
            b[5] = -0.7616 * b[5] - w * 0.0168980;
            let out = b.iter().sum::<f32>() + w * 0.5362;
            b[6] = w * 0.115926;
            out * 0.1
        })
        .collect()
}

#[test]
fn ltas_levels_match_known_spectra() {
    // A 1 kHz sine at 0.5 (−6.02 dB re full scale) lands in the 1 kHz third octave.
    let x = sine(1000.0, 0.5, 0.0, 4.0);
    let bands = LongTermSpectrum::of(&[&x], RATE).third_octave();
    let at = |hz: f64| {
        bands
            .iter()
            .find(|b| (b.band.centre_hz - hz).abs() / hz < 0.03)
            .unwrap()
    };
    assert!(
        (at(1000.0).db.unwrap() + 6.02).abs() < 0.1,
        "{:?}",
        at(1000.0)
    );
    assert!(at(500.0).db.unwrap_or(-300.0) < -60.0);
    assert!(at(2000.0).db.unwrap_or(-300.0) < -60.0);
    // Parseval: the fine spectrum holds the signal's mean square.
    let w = noise(&mut rng(3), 96_000);
    let ltas = LongTermSpectrum::of(&[&w], RATE);
    let ms: f64 = w.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / w.len() as f64;
    let total: f64 = ltas.power.iter().sum();
    assert!(
        (total / ms - 1.0).abs() < 0.02,
        "spectrum holds {total}, signal {ms}"
    );
    // White noise rises 1 dB per third octave; pink noise is flat.
    let white = ltas.third_octave();
    let p = pink(480_000, 4);
    let pinkb = LongTermSpectrum::of(&[&p], RATE).third_octave();
    let in_range = |b: &&gpu_dsp::analysis::BandLevel| {
        b.band.centre_hz >= 100.0 && b.band.centre_hz <= 10_000.0
    };
    let w_sel: Vec<f64> = white
        .iter()
        .filter(in_range)
        .map(|b| b.db.unwrap())
        .collect();
    let slope = (w_sel[w_sel.len() - 1] - w_sel[0]) / (w_sel.len() - 1) as f64;
    assert!(
        (slope - 1.0).abs() < 0.1,
        "white noise slope {slope} dB per band"
    );
    let p_sel: Vec<f64> = pinkb
        .iter()
        .filter(in_range)
        .map(|b| b.db.unwrap())
        .collect();
    let mean = p_sel.iter().sum::<f64>() / p_sel.len() as f64;
    for v in &p_sel {
        assert!((v - mean).abs() < 1.5, "pink noise band {v} vs mean {mean}");
    }
}

#[test]
fn masking_reports_covered_bands_and_margins() {
    let dialogue = sine(1000.0, 0.1, 0.0, 3.0);
    let loud = sine(1060.0, 0.2, 0.0, 3.0);
    let quiet = sine(1060.0, 0.01, 0.0, 3.0);
    for (masker, covered, margin) in [(&loud, 1.0, 6.02), (&quiet, 0.0, -20.0)] {
        let m = masking(&[&dialogue], &[masker], RATE);
        let band = m
            .iter()
            .find(|b| (b.band.centre_hz - 1000.0).abs() < 1.0)
            .unwrap();
        assert!(band.active_fraction > 0.9);
        assert!(
            (band.covered_fraction.unwrap() - covered).abs() < 1e-9,
            "{band:?}"
        );
        assert!(
            (band.mean_margin_db.unwrap() - margin).abs() < 0.3,
            "{band:?}"
        );
        let low = m
            .iter()
            .find(|b| (b.band.centre_hz - 251.0).abs() < 2.0)
            .unwrap();
        assert_eq!(
            low.covered_fraction, None,
            "the dialogue is silent at 250 Hz"
        );
    }
}

#[test]
fn correlation_width_and_goniometer() {
    let l = noise(&mut rng(5), 48_000);
    let neg: Vec<f32> = l.iter().map(|v| -v).collect();
    let other = noise(&mut rng(6), 48_000);
    let silent = vec![0.0f32; 48_000];
    let meter = |a: &[f32], b: &[f32]| {
        let mut m = CorrelationMeter::default();
        m.process(a, b);
        m
    };
    assert!((meter(&l, &l).correlation().unwrap() - 1.0).abs() < 1e-9);
    assert!((meter(&l, &neg).correlation().unwrap() + 1.0).abs() < 1e-9);
    assert!(meter(&l, &other).correlation().unwrap().abs() < 0.02);
    assert_eq!(meter(&l, &silent).correlation(), None);
    assert!(meter(&l, &l).width().unwrap() < 1e-9);
    assert!((meter(&l, &silent).width().unwrap() - 0.5).abs() < 1e-9);
    assert!((meter(&l, &neg).width().unwrap() - 1.0).abs() < 1e-9);
    let points = goniometer_points(&l, &l, 1000);
    assert!(points.len() <= 1000 && points.len() >= 900);
    assert!(
        points.iter().all(|(s, _)| s.abs() < 1e-6),
        "mono has no side signal"
    );
}

#[test]
fn band_correlation_follows_the_phase_in_each_band() {
    for (phase, shared) in [0.0f64, 60.0, 90.0, 180.0]
        .into_iter()
        .flat_map(|p| [(p, false), (p, true)])
    {
        let l = sine(1000.0, 0.5, 0.0, 2.0);
        let r = sine(1000.0, 0.5, phase, 2.0);
        // Its own 4096-point frames, or the long-term spectrum's 8192-point ones (analyze).
        let bands = if shared {
            let mut m = LongTermSpectrumMeter::with_band_correlation(2, RATE);
            m.push(&[&l, &r]);
            m.finish_with_correlation().1.unwrap()
        } else {
            band_correlation(&l, &r, RATE)
        };
        let b = bands
            .iter()
            .find(|b| (b.band.centre_hz - 1000.0).abs() < 1.0)
            .unwrap();
        let want = phase.to_radians().cos();
        assert!(
            (b.correlation.unwrap() - want).abs() < 0.01,
            "phase {phase}: {b:?}"
        );
        let empty = bands
            .iter()
            .find(|b| (b.band.centre_hz - 63.1).abs() < 1.0)
            .unwrap();
        assert!(empty.correlation.is_none_or(|c| c.abs() <= 1.0));
    }
}

#[test]
fn surround_energy_vector_points_at_the_image() {
    let s = sine(500.0, 0.5, 0.0, 0.5);
    let z = vec![0.0f32; s.len()];
    let five_one = |which: &[usize]| -> Vec<&[f32]> {
        (0..6)
            .map(|c| {
                if which.contains(&c) {
                    s.as_slice()
                } else {
                    z.as_slice()
                }
            })
            .collect()
    };
    let v = energy_vector(&five_one(&[0])).unwrap();
    assert!((v.direction_deg - 30.0).abs() < 1e-9 && (v.magnitude - 1.0).abs() < 1e-9);
    let v = energy_vector(&five_one(&[0, 1])).unwrap();
    assert!(v.direction_deg.abs() < 1e-9 && (v.magnitude - 30f64.to_radians().cos()).abs() < 1e-9);
    let v = energy_vector(&five_one(&[5])).unwrap();
    assert!((v.direction_deg + 110.0).abs() < 1e-9);
    // The LFE carries no direction.
    assert!(energy_vector(&five_one(&[3])).is_none());
    let all = energy_vector(&five_one(&[0, 1, 2, 4, 5])).unwrap();
    let c = |deg: f64| deg.to_radians().cos();
    let want = (2.0 * c(30.0) + 1.0 + 2.0 * c(110.0)) / 5.0;
    assert!(
        all.direction_deg.abs() < 1e-9 && (all.magnitude - want).abs() < 1e-9,
        "{all:?}"
    );
    let seven: Vec<&[f32]> = (0..8)
        .map(|c| if c == 6 { s.as_slice() } else { z.as_slice() })
        .collect();
    assert!((energy_vector(&seven).unwrap().direction_deg - 90.0).abs() < 1e-9);
    assert!(
        energy_vector(&[&s, &s]).is_none(),
        "stereo has no surround field"
    );
    assert_eq!(energy_vectors(&five_one(&[0]), 4800).len(), 5);
}
