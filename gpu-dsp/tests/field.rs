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

/// Masking with the frames on the GPU (lavapipe in CI) against the CPU matrix: a stereo
/// dialogue of swelling harmonics and three maskers (pink noise, a 1–2 kHz band, silence that
/// starts late), pushed in ragged blocks. Every band's active and covered fractions agree
/// within 0.01 and mean margins within 0.05 dB (f32 FFTs on both sides; a band whose level
/// sits exactly on a threshold may flip one frame; margins below −80 dB are the transforms'
/// rounding floor); one submission per block that completes a frame, for all four signals.
#[test]
fn gpu_masking_gives_the_cpu_figures() {
    use gpu_dsp::analysis::{GpuMasking, MaskingMatrix};
    let Some(ctx) = common::gpu() else { return };
    let seconds = 4.0;
    let len = (seconds * f64::from(RATE)) as usize;
    let tau = std::f64::consts::TAU;
    let dialogue: Vec<Vec<f32>> = (0..2)
        .map(|c| {
            (0..len)
                .map(|i| {
                    let t = i as f64 / f64::from(RATE);
                    let swell = (tau * 1.3 * t + c as f64).sin().max(0.0).powi(2);
                    let v: f64 = (1..=20).map(|k| (tau * 180.0 * k as f64 * t).sin()).sum();
                    (0.02 * swell * v) as f32
                })
                .collect()
        })
        .collect();
    let band: Vec<f32> = (0..len)
        .map(|i| {
            let t = i as f64 / f64::from(RATE);
            ((0..50)
                .map(|k| (tau * (1000.0 + 20.0 * k as f64) * t + k as f64).sin())
                .sum::<f64>()
                * 0.01) as f32
        })
        .collect();
    let maskers: Vec<Vec<Vec<f32>>> = vec![
        vec![pink(len, 3), pink(len, 4)],
        vec![band.clone(), band],
        (0..2)
            .map(|_| {
                (0..len)
                    .map(|i| if i < len / 2 { 0.0 } else { 0.05 })
                    .collect()
            })
            .collect(),
    ];
    let mut cpu = MaskingMatrix::new(2, 3, 2, RATE);
    let mut gpu = GpuMasking::new(ctx, 2, 3, RATE, 5000).unwrap();
    let blocks = [4096, 1000, 5000, 3, 2048];
    let (mut pos, mut k, mut pushes) = (0, 0, 0u64);
    while pos < len {
        let n = blocks[k % blocks.len()].min(len - pos);
        k += 1;
        let t: Vec<&[f32]> = dialogue.iter().map(|c| &c[pos..pos + n]).collect();
        let m: Vec<Vec<&[f32]>> = maskers
            .iter()
            .map(|s| s.iter().map(|c| &c[pos..pos + n]).collect())
            .collect();
        cpu.push_target(&t);
        for (j, s) in m.iter().enumerate() {
            cpu.push_masker(j, s);
        }
        let views: Vec<&[&[f32]]> = m.iter().map(Vec::as_slice).collect();
        gpu.push(&t, &views).unwrap();
        // Frames complete at 4096, 6144, 8192, … samples.
        let frames = |p: usize| if p < 4096 { 0 } else { (p - 4096) / 2048 + 1 };
        if frames(pos + n) > frames(pos) {
            pushes += 1;
        }
        pos += n;
    }
    let submissions = gpu.submissions();
    let (want, got) = (cpu.finish(), gpu.finish().unwrap());
    assert_eq!(
        submissions, pushes,
        "one submission per block that completes frames"
    );
    let mut compared = 0;
    for (j, (w, g)) in want.iter().zip(&got).enumerate() {
        for (wb, gb) in w.iter().zip(g) {
            let what = format!("masker {j}, {} Hz", wb.band.nominal_hz);
            assert!(
                (wb.active_fraction - gb.active_fraction).abs() <= 0.01,
                "{what}"
            );
            match (wb.covered_fraction, gb.covered_fraction) {
                (Some(a), Some(b)) => {
                    assert!((a - b).abs() <= 0.01, "{what}: covered {a} vs {b}");
                    // Below −80 dB the masker is at the f32 transforms' rounding floor, which
                    // differs between FFTs: both must be down there.
                    let (x, y) = (wb.mean_margin_db.unwrap(), gb.mean_margin_db.unwrap());
                    if x > -80.0 || y > -80.0 {
                        assert!((x - y).abs() <= 0.05, "{what}: margin {x} vs {y}");
                    }
                    compared += 1;
                }
                (None, None) => {}
                other => panic!("{what}: {other:?}"),
            }
        }
    }
    assert!(compared > 40, "{compared} active bands compared");
    // The answers are the expected ones: the band noise covers its bands, the late masker
    // covers less than the pink noise.
    let share = |j: usize| gpu_dsp::analysis::covered_share(&got[j]);
    assert!(share(0) > share(2), "{} vs {}", share(0), share(2));
    let at = |j: usize, hz: f64| {
        got[j]
            .iter()
            .find(|b| (b.band.nominal_hz - hz).abs() < 1.0)
            .and_then(|b| b.covered_fraction)
            .unwrap()
    };
    assert!(at(1, 1250.0) > 0.5, "{}", at(1, 1250.0));
    assert!(at(1, 200.0) < 0.05, "{}", at(1, 200.0));
}
