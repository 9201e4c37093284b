//! The streaming analyses (`FrameStream` and the meters over it) against the whole-slice
//! functions for random signals and random block splittings; the framer and the long-term
//! spectrum against an independent f64 DFT, and masking against the per-frame level lists it
//! was computed from before the meter.
//!
//! Tolerance of streamed against whole-slice results: 1e-9 relative (they share one code
//! path, so any difference is a framing bug, not rounding).

mod common;

use std::ops::Range;

use common::{noise, rng};
use gpu_dsp::analysis::bands::{bin_range, third_octaves};
use gpu_dsp::analysis::surround::energy_vector;
use gpu_dsp::analysis::{
    band_correlation, for_each_frame, level_db, masking, BandCorrelationMeter, BandMasking,
    EnergyVectorMeter, FrameStream, LongTermSpectrum, LongTermSpectrumMeter, MaskingMeter,
};
use rand::rngs::StdRng;
use rand::Rng;

const RATE: u32 = 48_000;
/// Relative tolerance of streamed against whole-slice results.
const STREAM_TOL: f64 = 1e-9;

/// How a signal is cut into blocks.
#[derive(Clone, Copy, Debug)]
enum Split {
    /// Every block one sample.
    Ones,
    /// Random sizes: single samples, short blocks, about one frame, several frames.
    Mixed,
    /// Blocks longer than a frame.
    Large,
}

const SPLITS: [Split; 3] = [Split::Ones, Split::Mixed, Split::Large];

/// Block ranges covering `0..len` for frames of `n`.
fn split(len: usize, n: usize, how: Split, rng: &mut StdRng) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < len {
        let size = match how {
            Split::Ones => 1,
            Split::Mixed => match rng.random_range(0..4) {
                0 => 1,
                1 => rng.random_range(1..64),
                2 => rng.random_range(n - 1..=n + 1),
                _ => rng.random_range(n..3 * n),
            },
            Split::Large => rng.random_range(n + 1..3 * n),
        };
        let end = (start + size).min(len);
        out.push(start..end);
        start = end;
    }
    out
}

fn block<'a>(channels: &'a [Vec<f32>], r: &Range<usize>) -> Vec<&'a [f32]> {
    channels.iter().map(|c| &c[r.clone()]).collect()
}

fn planes(channels: &[Vec<f32>]) -> Vec<&[f32]> {
    channels.iter().map(|c| c.as_slice()).collect()
}

/// `channels` of uniform noise with a few non-finite samples (which read as 0).
fn signal(rng: &mut StdRng, channels: usize, len: usize, gain: f32) -> Vec<Vec<f32>> {
    (0..channels)
        .map(|_| {
            let mut x: Vec<f32> = noise(rng, len).iter().map(|v| v * gain).collect();
            for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                if len > 0 && rng.random_bool(0.5) {
                    let i = rng.random_range(0..len);
                    x[i] = bad;
                }
            }
            x
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= STREAM_TOL * a.abs().max(b.abs())
}

fn close_opt(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => close(a, b),
        (a, b) => a == b,
    }
}

/// Lengths around the frame size `n`: shorter than a frame, exactly one, several plus a
/// remainder, and empty.
fn lengths(n: usize) -> [usize; 4] {
    [n / 3, n, 3 * n + n / 5, 0]
}

#[test]
fn frame_stream_matches_an_f64_dft_and_for_each_frame() {
    // Tolerance against the f64 DFT: 1e-5 of the frame's largest bin (f32 FFT rounding).
    const N: usize = 64;
    let mut r = rng(1);
    let window: Vec<f64> = (0..N)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / N as f64).cos())
        .collect();
    let norm = (2.0 / (N as f64 * window.iter().map(|w| w * w).sum::<f64>())).sqrt();
    for hop in [N / 4, N / 2, N, N + 16] {
        for len in [0, 10, N - 1, N, N + 1, 5 * N + 7] {
            for ch in [1, 3] {
                let x = signal(&mut r, ch, len, 1.0);
                for how in SPLITS {
                    let mut frames: Vec<Vec<Vec<(f32, f32)>>> = Vec::new();
                    let mut keep = |s: &[Vec<num_complex::Complex32>]| {
                        frames.push(
                            s.iter()
                                .map(|c| c.iter().map(|v| (v.re, v.im)).collect())
                                .collect(),
                        )
                    };
                    let mut stream = FrameStream::new(ch, N, hop);
                    for b in split(len, N, how, &mut r) {
                        stream.push(&block(&x, &b), &mut keep);
                    }
                    stream.finish(&mut keep);
                    let expected = if len <= N { 1 } else { (len - N) / hop + 1 };
                    assert_eq!(frames.len(), expected, "hop {hop} len {len} {how:?}");

                    let mut whole = Vec::new();
                    for_each_frame(&planes(&x), N, hop, |s| {
                        whole.push(
                            s.iter()
                                .map(|c| c.iter().map(|v| (v.re, v.im)).collect::<Vec<_>>())
                                .collect::<Vec<_>>(),
                        )
                    });
                    assert_eq!(frames, whole, "hop {hop} len {len} {how:?}");

                    for (f, frame) in frames.iter().enumerate() {
                        for (c, spectrum) in frame.iter().enumerate() {
                            let input: Vec<f64> = (0..N)
                                .map(|i| {
                                    x[c].get(f * hop + i)
                                        .copied()
                                        .filter(|s| s.is_finite())
                                        .map_or(0.0, f64::from)
                                        * window[i]
                                })
                                .collect();
                            let reference: Vec<(f64, f64)> = (0..=N / 2)
                                .map(|k| {
                                    let (mut re, mut im) = (0.0, 0.0);
                                    for (i, v) in input.iter().enumerate() {
                                        let a = std::f64::consts::TAU * (i * k) as f64 / N as f64;
                                        re += v * a.cos();
                                        im -= v * a.sin();
                                    }
                                    (re * norm, im * norm)
                                })
                                .collect();
                            let peak = reference
                                .iter()
                                .map(|(re, im)| re.hypot(*im))
                                .fold(1e-30, f64::max);
                            for (k, (&(re, im), &(rre, rim))) in
                                spectrum.iter().zip(&reference).enumerate()
                            {
                                let err = (f64::from(re) - rre).hypot(f64::from(im) - rim);
                                assert!(
                                    err <= 1e-5 * peak,
                                    "hop {hop} len {len} frame {f} ch {c} bin {k}: {err}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn long_term_spectrum_streams_like_the_whole_slice() {
    let n = LongTermSpectrum::of(&[&[0.0f32][..]], RATE).fft;
    let mut r = rng(2);
    for len in lengths(n) {
        for ch in [1, 2, 6] {
            let x = signal(&mut r, ch, len, 0.5);
            let whole = LongTermSpectrum::of(&planes(&x), RATE);
            for how in SPLITS {
                let mut meter = LongTermSpectrumMeter::new(ch, RATE);
                for b in split(len, n, how, &mut r) {
                    meter.push(&block(&x, &b));
                }
                let streamed = meter.finish();
                assert_eq!(streamed.fft, whole.fft);
                assert_eq!(streamed.sample_rate, whole.sample_rate);
                assert_eq!(streamed.power.len(), whole.power.len());
                for (k, (a, b)) in streamed.power.iter().zip(&whole.power).enumerate() {
                    assert!(
                        close(*a, *b),
                        "len {len} ch {ch} {how:?} bin {k}: {a} vs {b}"
                    );
                }
            }
        }
    }
}

#[test]
fn band_correlation_streams_like_the_whole_slice() {
    const N: usize = 4096;
    let mut r = rng(3);
    for len in lengths(N) {
        let mut x = signal(&mut r, 2, len, 1.0);
        // Partly correlated channels, so the bands read neither 0 nor ±1.
        let (left, right) = x.split_at_mut(1);
        for (rv, lv) in right[0].iter_mut().zip(&left[0]) {
            *rv = 0.6 * lv + 0.4 * *rv;
        }
        let whole = band_correlation(&x[0], &x[1], RATE);
        for how in SPLITS {
            let mut meter = BandCorrelationMeter::new(RATE);
            for b in split(len, N, how, &mut r) {
                meter.push(&x[0][b.clone()], &x[1][b]);
            }
            let streamed = meter.finish();
            assert_eq!(streamed.len(), whole.len());
            for (a, b) in streamed.iter().zip(&whole) {
                assert_eq!(a.band, b.band);
                assert!(
                    close_opt(a.correlation, b.correlation),
                    "len {len} {how:?}: {a:?} vs {b:?}"
                );
            }
        }
    }
}

#[test]
fn energy_vector_streams_like_the_whole_slice() {
    const N: usize = 256;
    let mut r = rng(4);
    for len in lengths(N) {
        for ch in [1, 2, 6, 8] {
            let x = signal(&mut r, ch, len, 0.7);
            let whole = energy_vector(&planes(&x));
            assert_eq!(whole.is_some(), (ch == 6 || ch == 8) && len > 0);
            for how in SPLITS {
                let mut meter = EnergyVectorMeter::new(ch);
                for b in split(len, N, how, &mut r) {
                    meter.push(&block(&x, &b));
                }
                let streamed = meter.finish();
                match (streamed, whole) {
                    (Some(a), Some(b)) => assert!(
                        close(a.direction_deg, b.direction_deg) && close(a.magnitude, b.magnitude),
                        "len {len} ch {ch} {how:?}: {a:?} vs {b:?}"
                    ),
                    (a, b) => assert_eq!(a, b, "len {len} ch {ch} {how:?}"),
                }
            }
        }
    }
}

/// The order in which target and masker blocks reach the meter.
#[derive(Clone, Copy, Debug)]
enum Interleaving {
    TargetFirst,
    MaskerFirst,
    Alternate,
    Random,
}

/// Masking as it was computed before the meter: per-frame band levels of each whole signal
/// in two lists, compared frame by frame over the longer one (the shorter padded with
/// silence: a missing masker frame reads −200 dB, a missing target frame is skipped but
/// counts).
fn masking_by_frame_lists(target: &[&[f32]], masker: &[&[f32]]) -> Vec<BandMasking> {
    const N: usize = 4096;
    let bands = third_octaves(RATE);
    let ranges: Vec<_> = bands.iter().map(|b| bin_range(b, N, RATE)).collect();
    let per_frame = |channels: &[&[f32]]| {
        let mut levels: Vec<Vec<Option<f64>>> = Vec::new();
        for_each_frame(channels, N, N / 2, |spectra| {
            levels.push(
                ranges
                    .iter()
                    .map(|r| {
                        let p: f64 = spectra
                            .iter()
                            .map(|s| {
                                s[r.clone()]
                                    .iter()
                                    .map(|x| f64::from(x.norm_sqr()))
                                    .sum::<f64>()
                            })
                            .sum();
                        level_db(p / spectra.len().max(1) as f64)
                    })
                    .collect(),
            );
        });
        levels
    };
    let (t, m) = (per_frame(target), per_frame(masker));
    let frames = t.len().max(m.len()).max(1);
    bands
        .iter()
        .enumerate()
        .map(|(b, &band)| {
            let (mut active, mut covered, mut margin) = (0usize, 0usize, 0.0f64);
            for f in 0..frames {
                let Some(tl) = t.get(f).and_then(|v| v[b]).filter(|&l| l > -60.0) else {
                    continue;
                };
                let ml = m.get(f).and_then(|v| v[b]).unwrap_or(-200.0);
                active += 1;
                margin += ml - tl;
                if ml - tl > -6.0 {
                    covered += 1;
                }
            }
            BandMasking {
                band,
                active_fraction: active as f64 / frames as f64,
                covered_fraction: (active > 0).then(|| covered as f64 / active as f64),
                mean_margin_db: (active > 0).then(|| margin / active as f64),
            }
        })
        .collect()
}

#[test]
fn masking_meter_in_any_interleaving_matches_masking() {
    const N: usize = 4096;
    let mut r = rng(5);
    let mut partly_covered = false;
    // (target length, channels), (masker length, channels): shorter than a frame, exactly
    // one, several frames plus a remainder, either side longer.
    let cases = [
        ((N / 3, 1), (N / 5, 2)),
        ((N, 2), (3 * N + 100, 1)),
        ((4 * N + 17, 1), (300, 6)),
        ((3 * N + 900, 2), (2 * N + 50, 2)),
        ((2 * N + 1, 1), (2 * N + 1, 1)),
    ];
    for ((tlen, tch), (mlen, mch)) in cases {
        let mut target = signal(&mut r, tch, tlen, 0.3);
        // A silent stretch so that activity varies across frames.
        for c in &mut target {
            let len = c.len();
            c[(N / 2).min(len)..(N + N / 2).min(len)].fill(0.0);
        }
        // A masker with louder and quieter stretches, so coverage varies.
        let mut masker = signal(&mut r, mch, mlen, 0.3);
        for c in &mut masker {
            for (i, v) in c.iter_mut().enumerate() {
                if (i / 3000) % 2 == 1 {
                    *v *= 0.01;
                }
            }
        }
        let whole = masking(&planes(&target), &planes(&masker), RATE);
        let lists = masking_by_frame_lists(&planes(&target), &planes(&masker));
        for (a, b) in whole.iter().zip(&lists) {
            assert!(
                a.band == b.band
                    && close(a.active_fraction, b.active_fraction)
                    && close_opt(a.covered_fraction, b.covered_fraction)
                    && close_opt(a.mean_margin_db, b.mean_margin_db),
                "target {tlen}×{tch} masker {mlen}×{mch}: {a:?} vs the frame lists' {b:?}"
            );
        }
        for how in [Split::Mixed, Split::Large, Split::Ones] {
            for order in [
                Interleaving::TargetFirst,
                Interleaving::MaskerFirst,
                Interleaving::Alternate,
                Interleaving::Random,
            ] {
                let tb = split(tlen, N, how, &mut r);
                let mb = split(mlen, N, how, &mut r);
                let mut meter = MaskingMeter::new(tch, mch, RATE);
                let (mut ti, mut mi) = (0, 0);
                while ti < tb.len() || mi < mb.len() {
                    let target_next = match order {
                        Interleaving::TargetFirst => ti < tb.len(),
                        Interleaving::MaskerFirst => mi >= mb.len(),
                        Interleaving::Alternate => {
                            mi >= mb.len() || (ti < tb.len() && (ti + mi) % 2 == 0)
                        }
                        Interleaving::Random => {
                            mi >= mb.len() || (ti < tb.len() && r.random_bool(0.5))
                        }
                    };
                    if target_next {
                        meter.push_target(&block(&target, &tb[ti]));
                        ti += 1;
                    } else {
                        meter.push_masker(&block(&masker, &mb[mi]));
                        mi += 1;
                    }
                }
                let streamed = meter.finish();
                assert_eq!(streamed.len(), whole.len());
                let what = format!("target {tlen}×{tch} masker {mlen}×{mch} {how:?} {order:?}");
                for (a, b) in streamed.iter().zip(&whole) {
                    assert_eq!(a.band, b.band);
                    assert!(
                        close(a.active_fraction, b.active_fraction)
                            && close_opt(a.covered_fraction, b.covered_fraction)
                            && close_opt(a.mean_margin_db, b.mean_margin_db),
                        "{what}: {a:?} vs {b:?}"
                    );
                }
            }
        }
        assert!(whole.iter().any(|b| b.active_fraction > 0.0), "{whole:?}");
        partly_covered |= whole
            .iter()
            .any(|b| b.covered_fraction.is_some_and(|c| c > 0.0 && c < 1.0));
    }
    assert!(partly_covered, "no case has a band partly covered");
}

#[test]
fn full_scale_sine_reads_0_db_and_matches_an_f64_dft() {
    // A full-scale sine centred on bin 171 of the 8192-point LTAS (1001.95 Hz at 48 kHz),
    // three frames long. Its third-octave band reads 0 dB within 0.001 dB, and the fine
    // spectrum around it matches an f64 Hann-windowed DFT within 1e-4 of the peak bin.
    let n = LongTermSpectrum::of(&[&[0.0f32][..]], RATE).fft;
    let k0 = 171usize;
    let len = 2 * n;
    let x: Vec<f32> = (0..len)
        .map(|i| (std::f64::consts::TAU * (k0 * i) as f64 / n as f64).sin() as f32)
        .collect();
    let ltas = LongTermSpectrum::of(&[&x], RATE);
    let band = ltas
        .third_octave()
        .into_iter()
        .find(|b| (b.band.centre_hz - 1000.0).abs() < 1.0)
        .unwrap();
    assert!(band.db.unwrap().abs() < 1e-3, "{band:?}");

    let window: Vec<f64> = (0..n)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos())
        .collect();
    let norm2 = 2.0 / (n as f64 * window.iter().map(|w| w * w).sum::<f64>());
    let hop = n / 2;
    let frames = (len - n) / hop + 1;
    let reference = |k: usize| {
        (0..frames)
            .map(|f| {
                let (mut re, mut im) = (0.0f64, 0.0f64);
                for (i, w) in window.iter().enumerate() {
                    let v = f64::from(x[f * hop + i]) * w;
                    let a = std::f64::consts::TAU * ((i * k) % n) as f64 / n as f64;
                    re += v * a.cos();
                    im -= v * a.sin();
                }
                (re * re + im * im) * norm2
            })
            .sum::<f64>()
            / frames as f64
    };
    let peak = reference(k0);
    // Hann on a bin-centred sine: 1/3 of the mean square 0.5 in the peak bin, 1/12 in each
    // neighbour.
    assert!((peak - 1.0 / 3.0).abs() < 1e-9, "{peak}");
    for k in k0 - 4..=k0 + 4 {
        let want = reference(k);
        assert!(
            (ltas.power[k] - want).abs() <= 1e-4 * peak,
            "bin {k}: {} vs {want}",
            ltas.power[k]
        );
    }
}
