//! Mix-bus processors against their definitions: EQ responses measured with sines against
//! the analytic response, compressor and gate static curves, true-peak limiter ceiling.

mod common;

use common::{noise, rng};
use gpu_dsp::analysis::LoudnessMeter;
use gpu_dsp::mix::{
    Compressor, CompressorParams, EqBand, FilterKind, Gate, GateParams, ParametricEq,
    TruePeakLimiter,
};

const RATE: f32 = 48_000.0;

fn sine(freq: f32, amp: f32, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| amp * (std::f32::consts::TAU * freq * i as f32 / RATE).sin())
        .collect()
}

/// RMS level in dB of the second half of `x` (after filters and detectors settle).
fn level_db(x: &[f32]) -> f32 {
    let tail = &x[x.len() / 2..];
    let ms: f64 = tail
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        / tail.len() as f64;
    (10.0 * (2.0 * ms).log10()) as f32
}

#[test]
fn eq_measured_gain_matches_the_designed_response() {
    let bands = [
        EqBand {
            kind: FilterKind::Bell,
            freq: 1000.0,
            gain_db: 6.0,
            q: 1.0,
        },
        EqBand {
            kind: FilterKind::LowShelf,
            freq: 120.0,
            gain_db: -4.0,
            q: 0.707,
        },
        EqBand {
            kind: FilterKind::HighShelf,
            freq: 8000.0,
            gain_db: 3.0,
            q: 0.707,
        },
        EqBand {
            kind: FilterKind::HighPass,
            freq: 60.0,
            gain_db: 0.0,
            q: 0.707,
        },
        EqBand {
            kind: FilterKind::LowPass,
            freq: 18_000.0,
            gain_db: 0.0,
            q: 0.707,
        },
    ];
    for freq in [
        30.0f32, 60.0, 120.0, 500.0, 1000.0, 3000.0, 8000.0, 15_000.0,
    ] {
        let mut eq = ParametricEq::new(&bands, RATE, 1);
        let mut x = sine(freq, 0.25, 48_000);
        eq.process(&mut [&mut x]);
        let measured = level_db(&x) - (20.0 * 0.25f32.log10());
        let designed = eq.response_db(f64::from(freq)) as f32;
        assert!(
            (measured - designed).abs() < 0.05,
            "{freq} Hz: measured {measured:.3} dB, designed {designed:.3} dB"
        );
    }
    let eq = ParametricEq::new(&bands[..1], RATE, 1);
    assert!(
        (eq.response_db(1000.0) - 6.0).abs() < 1e-9,
        "a bell peaks at its gain"
    );
    let hp = ParametricEq::new(&bands[3..4], RATE, 1);
    assert!(
        (hp.response_db(60.0) + 3.01).abs() < 0.02,
        "Butterworth high-pass is −3 dB at f0"
    );
    assert!(
        (hp.response_db(15.0) + 24.0).abs() < 0.5,
        "12 dB/octave below f0"
    );
}

#[test]
fn compressor_follows_its_static_curve() {
    let p = CompressorParams {
        threshold_db: -18.0,
        ratio: 4.0,
        attack_ms: 5.0,
        release_ms: 50.0,
        knee_db: 0.0,
        makeup_db: 2.0,
    };
    for (input_db, want_db) in [
        (-6.0f32, -18.0 + 12.0 / 4.0 + 2.0),
        (-30.0, -30.0 + 2.0),
        (0.0, -18.0 + 18.0 / 4.0 + 2.0),
    ] {
        let mut c = Compressor::new(p, RATE);
        let mut x = sine(1000.0, 10f32.powf(input_db / 20.0), 48_000);
        c.process(&mut [&mut x]);
        let out = level_db(&x);
        assert!(
            (out - want_db).abs() < 0.3,
            "in {input_db} dB: out {out:.2} dB, want {want_db}"
        );
    }
    let soft = Compressor::new(CompressorParams { knee_db: 6.0, ..p }, RATE);
    assert!(
        (soft.curve_db(-18.0) - (-0.75 * 9.0 / 12.0)).abs() < 1e-5,
        "soft knee at threshold"
    );
    assert_eq!(soft.curve_db(-30.0), 0.0);
}

#[test]
fn gate_closes_below_threshold_and_opens_above() {
    let p = GateParams {
        threshold_db: -40.0,
        range_db: -60.0,
        attack_ms: 1.0,
        hold_ms: 10.0,
        release_ms: 20.0,
    };
    let mut g = Gate::new(p, RATE);
    let mut quiet = sine(1000.0, 10f32.powf(-50.0 / 20.0), 48_000);
    g.process(&mut [&mut quiet]);
    assert!(
        (level_db(&quiet) - (-110.0)).abs() < 1.0,
        "closed gate: {}",
        level_db(&quiet)
    );
    let mut g = Gate::new(p, RATE);
    let mut loud = sine(1000.0, 10f32.powf(-20.0 / 20.0), 48_000);
    g.process(&mut [&mut loud]);
    assert!(
        (level_db(&loud) + 20.0).abs() < 0.05,
        "open gate: {}",
        level_db(&loud)
    );
}

fn true_peak_db(x: &[Vec<f32>]) -> f64 {
    let planes: Vec<&[f32]> = x.iter().map(|c| c.as_slice()).collect();
    let mut m = LoudnessMeter::new(planes.len(), RATE as u32);
    m.process(&planes);
    m.true_peak().unwrap()
}

#[test]
fn limiter_holds_the_true_peak_ceiling() {
    let hot: Vec<Vec<f32>> = (0..2)
        .map(|c| {
            noise(&mut rng(30 + c), 96_000)
                .iter()
                .map(|v| v * 6.0)
                .collect()
        })
        .collect();
    // fs/4 at 45°: samples at 0.707 of the peak, so a sample-peak limiter would miss 3 dB.
    let inter: Vec<Vec<f32>> = (0..2)
        .map(|_| {
            (0..96_000)
                .map(|i| {
                    1.41 * (std::f32::consts::FRAC_PI_2 * i as f32 + std::f32::consts::FRAC_PI_4)
                        .sin()
                })
                .collect()
        })
        .collect();
    for (name, input) in [("noise", hot), ("inter-sample", inter)] {
        assert!(true_peak_db(&input) > 2.9, "{name} input is hot");
        let mut out = input.clone();
        let mut lim = TruePeakLimiter::new(-1.0, 50.0, 2, RATE);
        for start in (0..96_000).step_by(500) {
            let (a, b) = out.split_at_mut(1);
            lim.process(&mut [&mut a[0][start..start + 500], &mut b[0][start..start + 500]]);
        }
        let tp = true_peak_db(&out);
        assert!(
            tp <= -1.0 + 0.1,
            "{name}: output true peak {tp:.2} dBTP over the −1 dBTP ceiling"
        );
        assert!(
            tp > -3.0,
            "{name}: the limiter should not over-limit ({tp:.2})"
        );
    }
}

#[test]
fn limiter_delays_quiet_signals_exactly_and_changes_nothing() {
    let x = noise(&mut rng(31), 10_000)
        .iter()
        .map(|v| v * 0.1)
        .collect::<Vec<f32>>();
    let mut y = x.clone();
    let mut lim = TruePeakLimiter::new(-1.0, 50.0, 1, RATE);
    lim.process(&mut [&mut y]);
    let d = lim.latency();
    assert!(d > 0);
    for i in d..x.len() {
        assert!((y[i] - x[i - d]).abs() < 1e-7, "sample {i}");
    }
}

/// The compressor against the same definition in f64 with exact logarithms: linked peak
/// detector held ~20 ms, static curve with a soft knee, attack/release one-pole smoothing of
/// the reduction in dB, makeup; a signal that swells, sits over the threshold and falls
/// silent, in ragged blocks. Within 0.001 dB-equivalent of the peak (the fast log/exp).
#[test]
fn compressor_matches_its_f64_definition() {
    let p = CompressorParams {
        threshold_db: -20.0,
        ratio: 4.0,
        attack_ms: 5.0,
        release_ms: 80.0,
        knee_db: 6.0,
        makeup_db: 3.0,
    };
    let n = 48_000;
    let mut r = rng(77);
    let env = |i: usize| -> f32 {
        let t = i as f32 / n as f32;
        if t < 0.6 {
            0.02 + 0.9 * (t / 0.6)
        } else if t < 0.8 {
            0.5
        } else {
            0.0
        }
    };
    let x: Vec<Vec<f32>> = (0..2)
        .map(|_| {
            noise(&mut r, n)
                .iter()
                .enumerate()
                .map(|(i, v)| v * env(i))
                .collect()
        })
        .collect();
    // The definition, in f64.
    let coeff = |ms: f64| (-1.0 / (ms * 0.001 * f64::from(RATE))).exp();
    let (att, rel, det) = (coeff(5.0), coeff(80.0), coeff(20.0));
    let quiet = 10f64.powf((-20.0 - 3.0) / 20.0);
    let curve = |l: f64| {
        let over = l + 20.0;
        let slope = 1.0 / 4.0 - 1.0;
        if over.abs() <= 3.0 {
            slope * (over + 3.0).powi(2) / 12.0
        } else if over > 0.0 {
            slope * over
        } else {
            0.0
        }
    };
    let (mut e, mut red) = (0.0f64, 0.0f64);
    let mut want = vec![vec![0.0f64; n]; 2];
    for i in 0..n {
        let peak = x.iter().map(|c| f64::from(c[i].abs())).fold(0.0, f64::max);
        e = peak.max(e * det);
        let g = if e < quiet && red > -1e-4 {
            red = 0.0;
            10f64.powf(3.0 / 20.0)
        } else {
            let target = curve(20.0 * e.max(1e-9).log10());
            let a = if target < red { att } else { rel };
            red = target + a * (red - target);
            10f64.powf((red + 3.0) / 20.0)
        };
        for c in 0..2 {
            want[c][i] = f64::from(x[c][i]) * g;
        }
    }
    let mut got = x.clone();
    let mut c = Compressor::new(p, RATE);
    let mut pos = 0;
    for (k, size) in [1usize, 100, 257, 4096, 3, 999].iter().cycle().enumerate() {
        if pos >= n {
            break;
        }
        let m = (*size).min(n - pos);
        let mut views: Vec<&mut [f32]> = got.iter_mut().map(|ch| &mut ch[pos..pos + m]).collect();
        c.process(&mut views);
        pos += m;
        let _ = k;
    }
    let peak = want.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst = (0..2)
        .flat_map(|ch| (0..n).map(move |i| (ch, i)))
        .map(|(ch, i)| (f64::from(got[ch][i]) - want[ch][i]).abs())
        .fold(0.0f64, f64::max);
    assert!(
        worst < 1.2e-4 * peak,
        "compressor vs f64 definition: {worst:e} of peak {peak}"
    );
}
