//! BS.1770-4 / EBU R128 loudness against the EBU Tech 3341 and Tech 3342 compliance cases,
//! synthesised from their published definitions (48 kHz, 1 kHz sines; levels are per-channel
//! peak dBFS), and against the independent `ebur128` crate on programme-like material.
//!
//! Not reproducible here: Tech 3341 cases 7–8 and Tech 3342 cases 5–6 (recorded programme),
//! and 3341 cases 20–23 (their 4·fs low-pass filter is not specified).

use gpu_dsp::analysis::{LoudnessMeter, TruePeakMeter};

const RATE: u32 = 48_000;

/// `seconds` of a 1 kHz sine at `dbfs` peak (or silence for `None`), continuing `phase`.
fn tone(dbfs: Option<f64>, seconds: f64, phase: &mut u64) -> Vec<f32> {
    let n = (seconds * f64::from(RATE)).round() as usize;
    let amp = dbfs.map_or(0.0, |d| 10f64.powf(d / 20.0));
    let out = (0..n)
        .map(|i| {
            (amp * (std::f64::consts::TAU * 1000.0 * (*phase + i as u64) as f64 / f64::from(RATE))
                .sin()) as f32
        })
        .collect();
    *phase += n as u64;
    out
}

/// A segment: level (dBFS peak, `None` for silence) and seconds.
type Segment = (Option<f64>, f64);

/// A sequence of (level, seconds) segments, the same on `channels` channels.
fn sequence(segments: &[Segment]) -> Vec<f32> {
    let mut phase = 0;
    segments
        .iter()
        .flat_map(|&(d, s)| tone(d, s, &mut phase))
        .collect()
}

fn stereo_meter(x: &[f32]) -> LoudnessMeter {
    let mut m = LoudnessMeter::new(2, RATE);
    m.process(&[x, x]);
    m
}

fn assert_near(got: Option<f64>, want: f64, tol: f64, what: &str) {
    let g = got.unwrap_or_else(|| panic!("{what}: no value"));
    assert!((g - want).abs() <= tol, "{what}: {g:.3} vs {want} ± {tol}");
}

#[test]
fn tech3341_cases_1_and_2_steady_tones() {
    for (case, level) in [(1, -23.0), (2, -33.0)] {
        let m = stereo_meter(&sequence(&[(Some(level), 20.0)]));
        assert_near(m.momentary(), level, 0.1, &format!("case {case} M"));
        assert_near(m.short_term(), level, 0.1, &format!("case {case} S"));
        assert_near(m.integrated(), level, 0.1, &format!("case {case} I"));
    }
}

#[test]
fn tech3341_cases_3_to_5_gating() {
    let cases: [(u32, Vec<Segment>); 3] = [
        (
            3,
            vec![
                (Some(-36.0), 10.0),
                (Some(-23.0), 60.0),
                (Some(-36.0), 10.0),
            ],
        ),
        (
            4,
            vec![
                (Some(-72.0), 10.0),
                (Some(-36.0), 10.0),
                (Some(-23.0), 60.0),
                (Some(-36.0), 10.0),
                (Some(-72.0), 10.0),
            ],
        ),
        (
            5,
            vec![
                (Some(-26.0), 20.0),
                (Some(-20.0), 20.1),
                (Some(-26.0), 20.0),
            ],
        ),
    ];
    for (case, segments) in cases {
        let m = stereo_meter(&sequence(&segments));
        assert_near(m.integrated(), -23.0, 0.1, &format!("case {case} I"));
    }
}

#[test]
fn tech3341_case_6_five_channel_weights() {
    let ch = |d| sequence(&[(Some(d), 20.0)]);
    let (l, c, s) = (ch(-28.0), ch(-24.0), ch(-30.0));
    let mut m = LoudnessMeter::new(5, RATE);
    m.process(&[&l, &l, &c, &s, &s]);
    assert_near(m.integrated(), -23.0, 0.1, "case 6 I");
}

#[test]
fn tech3341_case_9_short_term_is_constant() {
    let mut segs = Vec::new();
    for _ in 0..5 {
        segs.extend([(Some(-20.0), 1.34), (Some(-30.0), 1.66)]);
    }
    let x = sequence(&segs);
    let mut m = LoudnessMeter::new(2, RATE);
    let hop = RATE as usize / 10;
    for (k, chunk) in x.chunks(hop).enumerate() {
        m.process(&[chunk, chunk]);
        if k >= 30 && chunk.len() == hop {
            assert_near(
                m.short_term(),
                -23.0,
                0.1,
                &format!("case 9 S at {:.1} s", (k + 1) as f64 / 10.0),
            );
        }
    }
}

#[test]
fn tech3341_case_10_and_13_maxima_per_file() {
    for i in 0..20 {
        let x = sequence(&[(None, i as f64 * 0.15), (Some(-23.0), 3.0), (None, 1.0)]);
        let s = stereo_meter(&x).summary();
        assert_near(
            s.short_term_max,
            -23.0,
            0.1,
            &format!("case 10 file {i} max S"),
        );
        let x = sequence(&[(None, i as f64 * 0.02), (Some(-23.0), 0.4), (None, 1.0)]);
        let s = stereo_meter(&x).summary();
        assert_near(
            s.momentary_max,
            -23.0,
            0.1,
            &format!("case 13 file {i} max M"),
        );
    }
}

#[test]
fn tech3341_cases_11_and_14_live_maxima() {
    for (case, silence_step, burst, segment) in [(11, 0.15, 3.0, 6.0), (14, 0.02, 0.4, 0.8)] {
        let mut m = LoudnessMeter::new(2, RATE);
        for i in 0..20 {
            let level = -38.0 + i as f64;
            let pre = i as f64 * silence_step;
            let x = sequence(&[
                (None, pre),
                (Some(level), burst),
                (None, segment - burst - pre),
            ]);
            m.process(&[&x, &x]);
            let s = m.summary();
            let got = if case == 11 {
                s.short_term_max
            } else {
                s.momentary_max
            };
            assert_near(got, level, 0.1, &format!("case {case} segment {i}"));
        }
    }
}

#[test]
fn tech3341_case_12_momentary_is_constant() {
    let mut segs = Vec::new();
    for _ in 0..25 {
        segs.extend([(Some(-20.0), 0.18), (Some(-30.0), 0.22)]);
    }
    let x = sequence(&segs);
    let mut m = LoudnessMeter::new(2, RATE);
    let hop = RATE as usize / 100;
    for (k, chunk) in x.chunks(hop).enumerate() {
        m.process(&[chunk, chunk]);
        if k >= 100 && chunk.len() == hop {
            assert_near(
                m.momentary(),
                -23.0,
                0.1,
                &format!("case 12 M at {} ms", (k + 1) * 10),
            );
        }
    }
}

/// A sine at `fs / divisor` with peak `amp` and start phase `deg`, 2 s, 10 ms linear fades.
fn tp_sine(divisor: f64, amp: f64, deg: f64) -> Vec<f32> {
    let n = 2 * RATE as usize;
    let fade = RATE as usize / 100;
    (0..n)
        .map(|i| {
            let g = (i.min(n - 1 - i) as f64 / fade as f64).min(1.0);
            (g * amp * (std::f64::consts::TAU * i as f64 / divisor + deg.to_radians()).sin()) as f32
        })
        .collect()
}

#[test]
fn tech3341_cases_15_to_19_true_peak() {
    for (case, divisor, amp, deg, want) in [
        (15, 4.0, 0.5, 0.0, -6.0),
        (16, 4.0, 0.5, 45.0, -6.0),
        (17, 6.0, 0.5, 60.0, -6.0),
        (18, 8.0, 0.5, 67.5, -6.0),
        (19, 4.0, 1.41, 45.0, 3.0),
    ] {
        let x = tp_sine(divisor, amp, deg);
        let tp = stereo_meter(&x).true_peak().unwrap();
        assert!(
            tp <= want + 0.2 && tp >= want - 0.4,
            "case {case}: {tp:.3} dBTP vs {want} +0.2/−0.4"
        );
    }
}

#[test]
fn true_peak_catches_inter_sample_peaks_and_keeps_sample_peaks() {
    // At fs/4 with a 45° phase every sample sits at 0.707 of the real peak (−3 dB).
    let x = tp_sine(4.0, 0.5, 45.0);
    let s = stereo_meter(&x).summary();
    let sample = s.sample_peak.unwrap();
    let tp = s.true_peak.unwrap();
    assert!((sample - (-9.03)).abs() < 0.05, "sample peak {sample}");
    assert!((tp - (-6.02)).abs() < 0.1, "true peak {tp}");
    // Oversampling factor by rate.
    assert_eq!(TruePeakMeter::new(44_100).factor(), 4);
    assert_eq!(TruePeakMeter::new(96_000).factor(), 2);
    assert_eq!(TruePeakMeter::new(192_000).factor(), 1);
}

#[test]
fn tech3342_cases_1_to_4_loudness_range() {
    let cases: [(u32, Vec<f64>, f64); 4] = [
        (1, vec![-20.0, -30.0], 10.0),
        (2, vec![-20.0, -15.0], 5.0),
        (3, vec![-40.0, -20.0], 20.0),
        (4, vec![-50.0, -35.0, -20.0, -35.0, -50.0], 15.0),
    ];
    for (case, levels, want) in cases {
        let segs: Vec<_> = levels.iter().map(|&d| (Some(d), 20.0)).collect();
        let m = stereo_meter(&sequence(&segs));
        assert_near(m.range(), want, 1.0, &format!("3342 case {case} LRA"));
    }
}

#[test]
fn silence_and_short_input_give_no_values_not_errors() {
    let m = stereo_meter(&vec![0.0; 48_000 * 5]);
    let s = m.summary();
    assert_eq!(
        (s.integrated, s.range, s.true_peak, s.sample_peak),
        (None, None, None, None)
    );
    let m = stereo_meter(&[0.5]);
    assert_eq!(m.integrated(), None);
    let mut nan = sequence(&[(Some(-23.0), 5.0)]);
    nan[1000] = f32::NAN;
    nan[2000] = f32::INFINITY;
    let s = stereo_meter(&nan).summary();
    assert_near(s.integrated, -23.0, 0.1, "NaN samples count as silence");
    assert!(s.true_peak.unwrap() < 0.0);
}

#[test]
fn other_sample_rates_measure_the_same() {
    for rate in [44_100u32, 96_000, 32_000] {
        let n = rate as usize * 10;
        let amp = 10f64.powf(-23.0 / 20.0);
        let x: Vec<f32> = (0..n)
            .map(|i| {
                (amp * (std::f64::consts::TAU * 1000.0 * i as f64 / f64::from(rate)).sin()) as f32
            })
            .collect();
        let mut m = LoudnessMeter::new(2, rate);
        m.process(&[&x, &x]);
        assert_near(m.integrated(), -23.0, 0.1, &format!("{rate} Hz"));
    }
}

/// Deterministic programme-like material: noise bursts and tones with changing level.
fn programme(channels: usize, seconds: usize, seed: u32) -> Vec<Vec<f32>> {
    let mut s = seed.max(1);
    let n = seconds * RATE as usize;
    (0..channels)
        .map(|c| {
            let mut lp = 0.0f32;
            (0..n)
                .map(|i| {
                    s ^= s << 13;
                    s ^= s >> 17;
                    s ^= s << 5;
                    let noise = (s as f32 / u32::MAX as f32) - 0.5;
                    lp += 0.1 * (noise - lp);
                    let t = i as f32 / RATE as f32;
                    let level = 0.05 + 0.3 * (0.5 + 0.5 * (t * 0.37 + c as f32).sin()).powi(3);
                    let tone = 0.2 * (std::f32::consts::TAU * (220.0 + 30.0 * c as f32) * t).sin();
                    level * (lp * 4.0 + tone * if (t as usize) % 7 < 3 { 1.0 } else { 0.1 })
                })
                .collect()
        })
        .collect()
}

#[test]
fn agrees_with_the_ebur128_crate_on_programme_material() {
    use ebur128::{Channel, EbuR128, Mode};
    for channels in [1usize, 2, 6] {
        let x = programme(channels, 40, 17 + channels as u32);
        let planes: Vec<&[f32]> = x.iter().map(|c| c.as_slice()).collect();
        let mut ours = LoudnessMeter::new(channels, RATE);
        ours.process(&planes);
        let mut theirs = EbuR128::new(
            channels as u32,
            RATE,
            Mode::I | Mode::LRA | Mode::TRUE_PEAK | Mode::SAMPLE_PEAK,
        )
        .unwrap();
        if channels == 6 {
            theirs
                .set_channel_map(&[
                    Channel::Left,
                    Channel::Right,
                    Channel::Center,
                    Channel::Unused,
                    Channel::LeftSurround,
                    Channel::RightSurround,
                ])
                .unwrap();
        }
        theirs.add_frames_planar_f32(&planes).unwrap();
        let s = ours.summary();
        let i_ref = theirs.loudness_global().unwrap();
        let lra_ref = theirs.loudness_range().unwrap();
        let tp_ref = (0..channels as u32)
            .map(|c| theirs.true_peak(c).unwrap())
            .fold(0.0f64, f64::max);
        let sp_ref = (0..channels as u32)
            .map(|c| theirs.sample_peak(c).unwrap())
            .fold(0.0f64, f64::max);
        assert_near(
            s.integrated,
            i_ref,
            0.05,
            &format!("{channels} ch integrated"),
        );
        assert_near(s.range, lra_ref, 0.5, &format!("{channels} ch LRA"));
        assert_near(
            s.true_peak,
            20.0 * tp_ref.log10(),
            0.3,
            &format!("{channels} ch true peak"),
        );
        assert_near(
            s.sample_peak,
            20.0 * sp_ref.log10(),
            1e-6,
            &format!("{channels} ch sample peak"),
        );
    }
}
