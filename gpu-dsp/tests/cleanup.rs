//! Dialogue cleanup: the whole-signal engines against the streaming one, the GPU against the
//! CPU, noise profiles, hum detection and removal, and the defined results for bad input.

mod common;

use common::{gpu, noise, rng};
use gpu_dsp::spectral::{
    clean_cpu, clean_gpu, denoise_offline, detect_hum, learn_profile, CleanPlan, CleanSettings,
    DenoiseConfig, Denoiser, HumMode, HumRemover, HumSpec, NoiseModel,
};
use std::f64::consts::TAU;

const RATE: f32 = 48_000.0;

fn rms_db(x: &[f32]) -> f64 {
    let ms = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len().max(1) as f64;
    10.0 * ms.max(1e-30).log10()
}

/// A sine's level in `x` by projection (dB, RMS).
fn tone_db(x: &[f32], hz: f64) -> f64 {
    let (mut c, mut s) = (0.0f64, 0.0f64);
    for (i, &v) in x.iter().enumerate() {
        let a = TAU * hz * i as f64 / f64::from(RATE);
        c += f64::from(v) * a.cos();
        s += f64::from(v) * a.sin();
    }
    let amp = 2.0 * (c * c + s * s).sqrt() / x.len() as f64;
    20.0 * (amp / 2f64.sqrt()).max(1e-30).log10()
}

/// Mains hum at `f0` with decaying harmonics (a buzz), `level` peak of the fundamental.
fn hum(f0: f64, n: usize, level: f32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(RATE);
            (1..=8)
                .map(|k| (TAU * f0 * k as f64 * t + k as f64).sin() / k as f64)
                .sum::<f64>() as f32
                * level
        })
        .collect()
}

/// A voice-like signal: a gliding harmonic tone switched on and off.
fn voice(n: usize) -> Vec<f32> {
    let mut phase = 0.0f64;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(RATE);
            let f = 140.0 + 30.0 * (TAU * 0.7 * t).sin();
            phase += f / f64::from(RATE);
            let on = if (t * 1.5).fract() < 0.6 { 1.0 } else { 0.0 };
            on * 0.1
                * (1..=6)
                    .map(|k| (TAU * phase * k as f64).sin() / k as f64)
                    .sum::<f64>() as f32
        })
        .collect()
}

fn add(a: &[f32], b: &[f32]) -> Vec<f32> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

#[test]
fn whole_signal_denoising_equals_streaming_after_latency() {
    let x = add(
        &voice(60_000),
        &noise(&mut rng(1), 60_000)
            .iter()
            .map(|v| v * 0.02)
            .collect::<Vec<_>>(),
    );
    let config = DenoiseConfig::dialogue(RATE);
    let offline = denoise_offline(&x, &config, RATE);
    let mut d = Denoiser::new(config, RATE);
    let lat = d.latency();
    let mut padded = x.clone();
    padded.resize(x.len() + lat, 0.0);
    let mut streamed = vec![0.0f32; padded.len()];
    for (a, b) in padded.chunks(333).zip(streamed.chunks_mut(333)) {
        d.process(a, b);
    }
    let worst = offline
        .iter()
        .zip(&streamed[lat..])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-6, "offline and streaming differ by {worst}");
}

#[test]
fn gpu_gains_match_the_cpu_on_many_channels() {
    let Some(ctx) = gpu() else { return };
    let n = 40_000;
    // Five channels: different noise levels, one with a learned profile, one silent.
    let mut planes: Vec<Vec<f32>> = (0..4)
        .map(|c| {
            let hiss: Vec<f32> = noise(&mut rng(10 + c), n)
                .iter()
                .map(|v| v * 0.01 * (c + 1) as f32)
                .collect();
            add(&voice(n), &hiss)
        })
        .collect();
    planes.push(vec![0.0; n]);
    let settings = CleanSettings {
        hum: HumMode::Off,
        ..Default::default()
    };
    let mut plan = CleanPlan::new(&planes, RATE, &settings).unwrap();
    plan.noise[2] =
        NoiseModel::Profile(learn_profile(&planes[2], RATE, plan.stft, 0.65, 0.83).unwrap());
    let cpu = clean_cpu(&planes, RATE, &plan);
    let gpu = clean_gpu(ctx, &planes, RATE, &plan).unwrap();
    for (c, (a, b)) in cpu.iter().zip(&gpu).enumerate() {
        let peak = a.iter().fold(1e-9f32, |m, v| m.max(v.abs()));
        let worst = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        eprintln!("channel {c}: GPU vs CPU worst {:.2e} of peak", worst / peak);
        assert!(
            worst / peak < 1e-3,
            "channel {c}: GPU differs by {:.2e} of peak",
            worst / peak
        );
    }
    assert!(
        gpu[4].iter().all(|&v| v == 0.0),
        "silence must stay silence"
    );
}

#[test]
fn a_learned_profile_removes_stationary_noise_from_the_first_frame() {
    let n = 96_000;
    let hiss: Vec<f32> = noise(&mut rng(3), n).iter().map(|v| v * 0.03).collect();
    let mut speechless = hiss.clone();
    // Voice only in the second half; the first half is the noise region.
    let v = voice(n / 2);
    for (s, v) in speechless[n / 2..].iter_mut().zip(&v) {
        *s += v;
    }
    let settings = CleanSettings {
        hum: HumMode::Off,
        noise_from: Some((0.0, 0.9)),
        ..Default::default()
    };
    let plan = CleanPlan::new(&[speechless.clone()], RATE, &settings).unwrap();
    let y = &clean_cpu(&[speechless.clone()], RATE, &plan)[0];
    // The very start is reduced as much as later noise (no tracker warm-up).
    let start = rms_db(&hiss[..4800]) - rms_db(&y[..4800]);
    let later = rms_db(&hiss[24_000..48_000]) - rms_db(&y[24_000..48_000]);
    eprintln!("profile: first 0.1 s reduced {start:.1} dB, 0.5-1 s reduced {later:.1} dB");
    assert!(start > 14.0 && later > 14.0, "{start:.1} / {later:.1} dB");
    assert!(
        start < 19.0 && later < 19.0,
        "more than the floor: {start:.1} / {later:.1} dB"
    );
}

#[test]
fn bad_noise_regions_are_errors() {
    let x = noise(&mut rng(4), 48_000);
    let config = DenoiseConfig::dialogue(RATE).stft;
    let msg = |r: Result<Vec<f32>, gpu_dsp::DspError>| r.unwrap_err().to_string();
    assert!(msg(learn_profile(&x, RATE, config, 0.5, 2.0)).contains("ends after the signal"));
    assert!(msg(learn_profile(&x, RATE, config, 0.5, 0.51)).contains("shorter than one"));
    assert!(msg(learn_profile(&x, RATE, config, 0.7, 0.2)).contains("START < END"));
    let silent = vec![0.0f32; 48_000];
    assert!(msg(learn_profile(&silent, RATE, config, 0.0, 0.5)).contains("digital silence"));
}

#[test]
fn hum_is_found_at_its_true_frequency() {
    let n = 20 * RATE as usize;
    let background = add(
        &voice(n),
        &noise(&mut rng(5), n)
            .iter()
            .map(|v| v * 0.01)
            .collect::<Vec<_>>(),
    );
    for f0 in [50.07, 59.93] {
        let x = add(&background, &hum(f0, n, 0.02));
        let found = detect_hum(&x, RATE, None).expect("hum not found");
        eprintln!(
            "true {f0} Hz: found {:.4} Hz, harmonics {:?}",
            found.fundamental, found.harmonics
        );
        assert!(
            (found.fundamental - f0).abs() < 0.02,
            "found {}",
            found.fundamental
        );
        assert!(
            found.harmonics.len() >= 6,
            "harmonics {:?}",
            found.harmonics
        );
        assert!(
            found.harmonics.iter().all(|&k| k <= 8),
            "phantom harmonics {:?}",
            found.harmonics
        );
    }
    assert_eq!(
        detect_hum(&background, RATE, None),
        None,
        "hum found in a clean signal"
    );
    assert_eq!(detect_hum(&vec![0.0; n], RATE, None), None);
    assert_eq!(
        detect_hum(&background[..1000], RATE, None),
        None,
        "too short to tell"
    );
}

#[test]
fn hum_removal_takes_the_harmonics_and_leaves_the_voice() {
    let n = 8 * RATE as usize;
    let f0 = 50.03;
    let tones = |x: &[f32]| {
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(RATE);
                (0.05 * ((TAU * 230.0 * t).sin() + (TAU * 1234.5 * t).sin())) as f32 + x[i]
            })
            .collect::<Vec<f32>>()
    };
    let buzz = hum(f0, n, 0.05);
    let mut x = tones(&buzz);
    let spec = HumSpec {
        fundamental: f0,
        harmonics: (1..=8).collect(),
    };
    let mut remover = HumRemover::new(&spec, RATE);
    for block in x.chunks_mut(512) {
        remover.process(block);
    }
    let tail = &x[2 * RATE as usize..];
    let residual = tones(&vec![0.0; n]);
    for k in 1..=8 {
        let before = tone_db(&buzz[2 * RATE as usize..], f0 * k as f64);
        let after = tone_db(tail, f0 * k as f64);
        eprintln!("harmonic {k}: {before:.1} dB -> {after:.1} dB");
        assert!(
            before - after > 30.0,
            "harmonic {k} reduced by only {:.1} dB",
            before - after
        );
    }
    for hz in [230.0, 1234.5] {
        let change = tone_db(tail, hz) - tone_db(&residual[2 * RATE as usize..], hz);
        eprintln!("tone {hz} Hz changed by {change:.3} dB");
        assert!(change.abs() < 0.1, "{hz} Hz tone changed by {change:.3} dB");
    }
}

#[test]
fn silence_short_and_non_finite_inputs_have_defined_results() {
    let settings = CleanSettings::default();
    // Silence stays silence.
    let silent = vec![vec![0.0f32; 30_000]; 2];
    let plan = CleanPlan::new(&silent, RATE, &settings).unwrap();
    assert!(clean_cpu(&silent, RATE, &plan)
        .iter()
        .flatten()
        .all(|&v| v == 0.0));
    // Shorter than one window: same length, finite.
    let short = vec![noise(&mut rng(6), 100)];
    let plan = CleanPlan::new(&short, RATE, &settings).unwrap();
    let y = clean_cpu(&short, RATE, &plan);
    assert_eq!(y[0].len(), 100);
    assert!(y[0].iter().all(|v| v.is_finite()));
    // NaN and infinity never reach the output.
    let mut x = noise(&mut rng(7), 48_000);
    x[100] = f32::NAN;
    x[20_000] = f32::INFINITY;
    x[30_000] = f32::NEG_INFINITY;
    let planes = vec![x];
    let plan = CleanPlan::new(
        &planes,
        RATE,
        &CleanSettings {
            hum: HumMode::Mains(50.0),
            ..settings
        },
    )
    .unwrap();
    assert!(plan.hum.is_some());
    let y = clean_cpu(&planes, RATE, &plan);
    assert!(y[0].iter().all(|v| v.is_finite()));
}

#[test]
fn gpu_tracker_state_carries_across_batches() {
    use gpu_dsp::spectral::{GainTracker, GpuGainBank};
    let Some(ctx) = gpu() else { return };
    let (bins, hop, channels) = (65, 32, 3);
    let mut bank = GpuGainBank::new(
        ctx,
        bins,
        hop,
        RATE,
        18.0,
        &vec![NoiseModel::Tracked; channels],
    )
    .unwrap();
    let mut cpu: Vec<GainTracker> = (0..channels)
        .map(|_| GainTracker::new(bins, hop, RATE, 18.0, NoiseModel::Tracked))
        .collect();
    // Noise whose level steps up and down, over batches of odd sizes (3000 frames: several
    // minimum-search sub-windows).
    let mut r = rng(9);
    let mut frame = 0usize;
    let mut worst = 0.0f32;
    for batch in [1usize, 7, 64, 500, 3, 1000, 1425] {
        let mut power = vec![0.0f32; channels * batch * bins];
        for c in 0..channels {
            for f in 0..batch {
                let level = if ((frame + f) / 700).is_multiple_of(2) {
                    1.0
                } else {
                    30.0
                };
                for (k, p) in power[(c * batch + f) * bins..][..bins]
                    .iter_mut()
                    .enumerate()
                {
                    let v = noise(&mut r, 2);
                    *p = level * (v[0] * v[0] + v[1] * v[1]) * (1.0 + c as f32 + k as f32 * 0.01);
                }
            }
        }
        let mut gpu_gains = vec![0.0f32; power.len()];
        bank.process(&power, batch, &mut gpu_gains).unwrap();
        let mut g = vec![0.0f32; bins];
        for (c, tracker) in cpu.iter_mut().enumerate() {
            for f in 0..batch {
                let at = (c * batch + f) * bins;
                tracker.frame(&power[at..at + bins], &mut g);
                for (a, b) in g.iter().zip(&gpu_gains[at..at + bins]) {
                    worst = worst.max((a - b).abs());
                }
            }
        }
        frame += batch;
    }
    eprintln!("GPU vs CPU gains over {frame} frames in 7 batches: worst {worst:.2e}");
    assert!(worst < 1e-4, "GPU gains drift from the CPU by {worst}");
}

#[test]
fn the_session_gain_bank_tracks_channels_that_skip_blocks() {
    // The mixer's bank: each block every channel brings 0..=slots frames (a muted track's
    // insert brings none), each frame with its own reduction, recorded into a caller's encoder and read
    // back two blocks later; every channel's gains equal its own CPU tracker's within 1e-4
    // (the gain-tracking contract's tolerance).
    use gpu_dsp::spectral::{GainTracker, SessionGainBank};
    let Some(ctx) = gpu() else { return };
    let (bins, hop, channels, block) = (129, 64, 4, 256);
    let mut bank = SessionGainBank::new(ctx.clone(), channels, bins, hop, RATE, block).unwrap();
    let slots = bank.slots();
    assert_eq!(slots, 5);
    let reductions = [18.0f32, 6.0, 30.0, 12.0];
    let mut cpu: Vec<GainTracker> = reductions
        .iter()
        .map(|&red| GainTracker::new(bins, hop, RATE, red, NoiseModel::Tracked))
        .collect();
    let mut r = rng(17);
    // Per block, per channel: the CPU's gains, to compare when the GPU's arrive.
    let mut expected: std::collections::VecDeque<Vec<Vec<f32>>> = Default::default();
    let (mut worst, mut compared, mut frames) = (0.0f32, 0usize, [0usize; 4]);
    for blk in 0..80 {
        // A block's start: the gains submitted two blocks ago (the mixer's order).
        bank.collect().unwrap();
        if expected.len() == 2 {
            let want: Vec<Vec<f32>> = expected.pop_front().unwrap();
            for (c, w) in want.iter().enumerate() {
                let got = bank.gains(c);
                assert_eq!(got.len(), w.len(), "block {blk} channel {c}");
                for (a, b) in got.iter().zip(w) {
                    worst = worst.max((a - b).abs());
                }
                compared += w.len();
            }
        }
        let mut want = vec![Vec::new(); channels];
        for c in 0..channels {
            // Channel 1 is silent for a stretch (muted), channel 3 brings a frame now and then.
            let count = match c {
                1 if (20..45).contains(&blk) => 0,
                3 => blk % 3,
                _ => (blk + c) % (slots + 1),
            };
            let mut power = vec![0.0f32; count * bins];
            for (f, row) in power.chunks_exact_mut(bins).enumerate() {
                let level = if ((frames[c] + f) / 90).is_multiple_of(2) {
                    1.0
                } else {
                    20.0
                };
                for (k, p) in row.iter_mut().enumerate() {
                    let v = noise(&mut r, 2);
                    *p = level * (v[0] * v[0] + v[1] * v[1]) * (1.0 + k as f32 * 0.02);
                }
            }
            // Each frame's own reduction (automation lands on frames).
            let base = if blk >= 50 {
                reductions[c] / 2.0
            } else {
                reductions[c]
            };
            let per_frame: Vec<f32> = (0..count).map(|f| base + 3.0 * f as f32).collect();
            let mut g = vec![0.0f32; bins];
            for (row, &reduction) in power.chunks_exact(bins).zip(&per_frame) {
                cpu[c].set_reduction_db(reduction);
                cpu[c].frame(row, &mut g);
                want[c].extend_from_slice(&g);
            }
            frames[c] += count;
            bank.stage(c, &power, &per_frame);
        }
        expected.push_back(want);
        if bank.has_work() {
            let mut encoder = ctx.device().create_command_encoder(&Default::default());
            assert!(bank.record(&mut encoder));
            let index = ctx.queue().submit(Some(encoder.finish()));
            bank.submitted(index);
        }
    }
    eprintln!("session bank vs CPU trackers over {compared} gains: worst {worst:.2e}");
    assert!(compared > 4 * 100 * bins, "{compared} gains compared");
    assert!(
        worst < 1e-4,
        "the session bank drifts from the CPU by {worst}"
    );
}
