//! Spectral repair on synthetic cases with known answers: a 3 kHz tone burst over a
//! speech-like signal removed inside its region and nothing else changed; a gap in a
//! harmonic sound filled by `replace` (and `pattern`) close to the original spectrum; a
//! region with nothing to repair left as it was; bad regions refused.

mod common;

use common::{noise, rng};
use gpu_dsp::spectral::{repair, repair_stft, FrameStft, RepairMode, RepairRegion};
use realfft::num_complex::Complex32;
use std::f64::consts::TAU;

const RATE: u32 = 48_000;

/// A speech-like signal: a harmonic voice (f0 137 Hz gliding ±10 %, harmonics rolling off
/// at 6 dB/octave above 500 Hz, syllables at 4 Hz) with a little breath noise.
fn voice(seconds: f64, seed: u64) -> Vec<f32> {
    let n = (seconds * f64::from(RATE)) as usize;
    let mut r = rng(seed);
    let breath = noise(&mut r, n);
    let mut phase = 0.0f64;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(RATE);
            let f0 = 137.0 * (1.0 + 0.1 * (TAU * 0.7 * t).sin());
            phase += TAU * f0 / f64::from(RATE);
            let syllable = 0.5 * (1.0 - (TAU * 4.0 * t).cos());
            let mut v = 0.0;
            for h in 1..=40 {
                let f = f0 * h as f64;
                if f > 8000.0 {
                    break;
                }
                v += (phase * h as f64).sin() / (1.0 + f / 500.0);
            }
            (0.08 * syllable * v) as f32 + 0.002 * breath[i]
        })
        .collect()
}

/// A tone from `from` to `to` seconds with 10 ms raised-cosine edges (as a whistle or a
/// beep fades in and out; a gated one would splatter across the spectrum).
fn burst(n: usize, hz: f64, from: f64, to: f64, amp: f32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(RATE);
            let edge = ((t - from).min(to - t) / 0.01).clamp(0.0, 1.0);
            let ramp = 0.5 * (1.0 - (std::f64::consts::PI * edge).cos());
            (f64::from(amp) * ramp * (TAU * hz * t).sin()) as f32
        })
        .collect()
}

fn energy(x: impl Iterator<Item = f32>) -> f64 {
    x.map(|v| f64::from(v) * f64::from(v)).sum()
}

fn db(x: f64) -> f64 {
    10.0 * x.max(1e-30).log10()
}

/// The repair's STFT frames of `x`.
fn frames(x: &[f32]) -> Vec<Vec<Complex32>> {
    let config = repair_stft(RATE);
    let mut stft = FrameStft::new(config);
    (0..stft.frames(x.len()))
        .map(|f| {
            let mut s = vec![Complex32::default(); config.bins()];
            stft.analyze(x, f, &mut s);
            s
        })
        .collect()
}

#[test]
fn a_tone_burst_is_attenuated_inside_its_region_and_nothing_else_moves() {
    let speech = voice(2.5, 1);
    let n = speech.len();
    let tone = burst(n, 3000.0, 1.0, 1.3, 0.2);
    let x: Vec<f32> = speech.iter().zip(&tone).map(|(a, b)| a + b).collect();
    let region = RepairRegion {
        from: 0.95,
        to: 1.35,
        band: Some((2800.0, 3200.0)),
        mode: RepairMode::Attenuate,
        gain_db: 0.0,
    };
    let y = repair(&x, RATE, &[region]).unwrap();
    assert_eq!(y.len(), n);
    // Inside the region: how much of the tone is left in the output (its projection on the
    // tone, the clean voice taken away), and how much the voice in the band changed.
    let inside = (RATE as f64 * 1.0) as usize..(RATE as f64 * 1.3) as usize;
    let tone_energy = energy(inside.clone().map(|i| tone[i]));
    let left: f64 = inside
        .clone()
        .map(|i| f64::from(y[i] - speech[i]) * f64::from(tone[i]))
        .sum::<f64>()
        / tone_energy;
    let removed = -20.0 * left.abs().max(1e-12).log10();
    let residual = db(tone_energy) - db(energy(inside.clone().map(|i| y[i] - speech[i])));
    eprintln!("tone removed by {removed:.1} dB; everything changed in the region {residual:.1} dB below the tone");
    assert!(removed >= 30.0, "only {removed:.1} dB");
    // What else changed there is the voice's own 2.8–3.2 kHz harmonics, brought to their
    // level around the region: well below the tone.
    assert!(residual >= 20.0, "{residual:.1} dB");
    // Away from the region in time (beyond a frame of it), the output is the input.
    let fft = repair_stft(RATE).fft;
    let reach = 3 * fft;
    let far = (0..n).filter(|&i| {
        let t = i as f64 / f64::from(RATE);
        t < 0.95 - reach as f64 / f64::from(RATE) || t > 1.35 + reach as f64 / f64::from(RATE)
    });
    // (Only the frames around the region are resynthesised: elsewhere it is bit for bit.)
    let worst = far.map(|i| (y[i] - x[i]).abs()).fold(0.0f32, f32::max);
    assert_eq!(worst, 0.0, "changed away from the region");
    // Within the region's time but away from its band (beyond the feather and the
    // window's leakage), the spectrum is unchanged to −90 dB of the signal's peak bin.
    let (fx, fy) = (frames(&x), frames(&y));
    let peak_bin = fx.iter().flatten().fold(0.0f32, |m, c| m.max(c.norm()));
    let bin_hz = f64::from(RATE) / fft as f64;
    let mut worst = 0.0f32;
    for (a, b) in fx.iter().zip(&fy) {
        for (k, (p, q)) in a.iter().zip(b).enumerate() {
            let hz = k as f64 * bin_hz;
            if !(2800.0 - 12.0 * bin_hz..=3200.0 + 12.0 * bin_hz).contains(&hz) {
                worst = worst.max((p - q).norm());
            }
        }
    }
    let off_band = 20.0 * f64::from(worst / peak_bin).log10();
    eprintln!("outside the band: {off_band:.1} dB");
    assert!(off_band < -90.0, "{off_band:.1} dB");
}

/// A steady harmonic sound (220 Hz, 12 harmonics) with 120 ms dropped out: `replace` and
/// `pattern` fill the gap with every harmonic within 3 dB of the original's level.
#[test]
fn a_gap_in_a_harmonic_sound_is_filled_close_to_the_original_spectrum() {
    let n = 2 * RATE as usize;
    let original: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(RATE);
            (1..=12)
                .map(|h| 0.1 / h as f64 * (TAU * 220.0 * h as f64 * t + h as f64).sin())
                .sum::<f64>() as f32
        })
        .collect();
    let gap = (RATE as usize)..(RATE as usize + RATE as usize * 12 / 100);
    let mut x = original.clone();
    x[gap.clone()].iter_mut().for_each(|v| *v = 0.0);
    let fft = repair_stft(RATE).fft;
    let bin_hz = f64::from(RATE) / fft as f64;
    let hop = repair_stft(RATE).hop;
    // The frame centred in the gap.
    let centre = (gap.start + gap.len() / 2 + fft / 2) / hop - 1;
    let fo = frames(&original);
    for mode in [RepairMode::Replace, RepairMode::Pattern] {
        let region = RepairRegion {
            from: 0.99,
            to: 1.13,
            band: None,
            mode,
            gain_db: 0.0,
        };
        let y = repair(&x, RATE, &[region]).unwrap();
        let fy = frames(&y);
        for h in 1..=12 {
            let k = (220.0 * h as f64 / bin_hz).round() as usize;
            let level = |s: &[Complex32]| (k - 1..=k + 1).map(|j| s[j].norm()).fold(0.0, f32::max);
            let (want, got) = (level(&fo[centre]), level(&fy[centre]));
            let off = 20.0 * f64::from(got / want).log10();
            assert!(off.abs() < 3.0, "{mode:?} harmonic {h}: {off:.2} dB");
        }
        // And the gap is no longer silent: its energy within 3 dB of the original's.
        let (e0, e1) = (
            energy(gap.clone().map(|i| original[i])),
            energy(gap.clone().map(|i| y[i])),
        );
        let off = db(e1) - db(e0);
        eprintln!("{mode:?}: gap energy {off:+.2} dB");
        assert!(off.abs() < 3.0, "{mode:?}: gap energy {off:.2} dB");
    }
}

/// Attenuating a region that is no louder than its surroundings changes (almost) nothing;
/// the gain lowers the result further.
#[test]
fn attenuating_steady_noise_leaves_it_and_a_gain_lowers_it() {
    let mut r = rng(5);
    let x: Vec<f32> = noise(&mut r, RATE as usize)
        .iter()
        .map(|v| 0.1 * v)
        .collect();
    let region = |gain_db| RepairRegion {
        from: 0.4,
        to: 0.6,
        band: Some((1000.0, 4000.0)),
        mode: RepairMode::Attenuate,
        gain_db,
    };
    let y = repair(&x, RATE, &[region(0.0)]).unwrap();
    let inside = (RATE as usize * 45 / 100)..(RATE as usize * 55 / 100);
    let change =
        db(energy(inside.clone().map(|i| x[i]))) - db(energy(inside.clone().map(|i| y[i])));
    assert!(change.abs() < 1.5, "{change:.2} dB");
    let lower = repair(&x, RATE, &[region(-20.0)]).unwrap();
    let change =
        db(energy(inside.clone().map(|i| x[i]))) - db(energy(inside.clone().map(|i| lower[i])));
    // 1–4 kHz is 3/24 of the noise's power: taking it down 20 dB removes most of that.
    assert!(change > 0.3 && change < 1.0, "{change:.2} dB");
}

#[test]
fn bad_regions_are_refused() {
    let x = vec![0.0f32; RATE as usize];
    let r = |from, to, band| RepairRegion {
        from,
        to,
        band,
        mode: RepairMode::Replace,
        gain_db: 0.0,
    };
    for bad in [
        r(0.5, 0.4, None),
        r(-1.0, 0.2, None),
        r(2.0, 3.0, None),
        r(0.1, 0.2, Some((5000.0, 4000.0))),
        r(0.1, 0.2, Some((30_000.0, 40_000.0))),
        r(f64::NAN, 0.2, None),
    ] {
        assert!(repair(&x, RATE, &[bad]).is_err(), "{bad:?}");
    }
    assert_eq!(RepairMode::parse("pattern"), Some(RepairMode::Pattern));
    assert_eq!(RepairMode::parse("smudge"), None);
}

/// A repair of just a region's span (its times taken from the span's start) gives exactly
/// what a repair of the whole signal gives: what lets `mixstation repair` stream a file.
#[test]
fn a_repair_of_the_span_alone_is_the_repair_of_the_whole() {
    use gpu_dsp::spectral::repair_span;
    let x = voice(3.0, 9);
    for mode in [
        RepairMode::Attenuate,
        RepairMode::Replace,
        RepairMode::Pattern,
    ] {
        let region = RepairRegion {
            from: 1.4,
            to: 1.6,
            band: Some((500.0, 2000.0)),
            mode,
            gain_db: -6.0,
        };
        let whole = repair(&x, RATE, &[region]).unwrap();
        let (start, end) = repair_span(&region, RATE, x.len()).unwrap();
        assert!(start > 0 && end < x.len(), "{mode:?}: {start}..{end}");
        assert_eq!(start % repair_stft(RATE).hop, 0);
        let offset = start as f64 / f64::from(RATE);
        let shifted = RepairRegion {
            from: region.from - offset,
            to: region.to - offset,
            ..region
        };
        let part = repair(&x[start..end], RATE, &[shifted]).unwrap();
        assert_eq!(&whole[start..end], &part[..], "{mode:?}");
        assert_eq!(&whole[..start], &x[..start], "{mode:?}: before the span");
        assert_eq!(&whole[end..], &x[end..], "{mode:?}: after the span");
    }
}
