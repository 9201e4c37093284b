//! Noise suppression groundwork: the tracker finds stationary noise, the gains remove it down
//! to the floor, a tone in the noise survives, and SI-SDR improves on a noisy signal.

mod common;

use common::{noise, rng};
use gpu_dsp::spectral::{DenoiseConfig, Denoiser, NoiseModel, StftConfig};

const RATE: f32 = 48_000.0;

fn rms_db(x: &[f32]) -> f64 {
    let ms = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64;
    10.0 * ms.max(1e-30).log10()
}

/// Scale-invariant signal-to-distortion ratio of `est` against `clean` (dB).
fn si_sdr(est: &[f32], clean: &[f32]) -> f64 {
    let dot: f64 = est
        .iter()
        .zip(clean)
        .map(|(a, b)| f64::from(*a) * f64::from(*b))
        .sum();
    let energy: f64 = clean.iter().map(|&b| f64::from(b) * f64::from(b)).sum();
    let alpha = dot / energy;
    let (mut target, mut error) = (0.0f64, 0.0f64);
    for (a, b) in est.iter().zip(clean) {
        let t = alpha * f64::from(*b);
        target += t * t;
        error += (f64::from(*a) - t).powi(2);
    }
    10.0 * (target / error.max(1e-30)).log10()
}

fn denoiser() -> Denoiser {
    Denoiser::new(
        DenoiseConfig {
            stft: StftConfig::new(1024, 256).unwrap(),
            reduction_db: 18.0,
            noise: NoiseModel::Tracked,
        },
        RATE,
    )
}

fn run(d: &mut Denoiser, x: &[f32]) -> Vec<f32> {
    let mut y = vec![0.0f32; x.len()];
    for (a, b) in x.chunks(480).zip(y.chunks_mut(480)) {
        d.process(a, b);
    }
    y
}

/// Tone bursts (a crude voiced-speech stand-in) in white noise at about 10 dB SNR.
fn scene(seconds: f32) -> (Vec<f32>, Vec<f32>) {
    let n = (seconds * RATE) as usize;
    let clean: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f32 / RATE;
            let on = ((t * 2.0) as usize % 2 == 1) as u8 as f32;
            on * 0.1
                * ((std::f32::consts::TAU * 220.0 * t).sin()
                    + 0.5 * (std::f32::consts::TAU * 660.0 * t).sin())
        })
        .collect();
    let hiss: Vec<f32> = noise(&mut rng(60), n).iter().map(|v| v * 0.05).collect();
    let noisy = clean.iter().zip(&hiss).map(|(a, b)| a + b).collect();
    (clean, noisy)
}

#[test]
fn stationary_noise_is_reduced_to_about_the_floor() {
    let (_, noisy) = scene(6.0);
    let mut d = denoiser();
    let y = run(&mut d, &noisy);
    let lat = d.latency();
    // A noise-only stretch (the bursts are on in odd half-seconds): 4.0–4.5 s.
    let (a, b) = (4 * 48_000, 4 * 48_000 + 24_000);
    let before = rms_db(&noisy[a..b]);
    let after = rms_db(&y[a + lat..b + lat]);
    eprintln!("noise-only stretch: reduced by {:.1} dB", before - after);
    assert!(
        before - after > 12.0,
        "noise reduced by only {:.1} dB",
        before - after
    );
    assert!(
        before - after < 18.0 + 3.0,
        "more than the 18 dB floor: {:.1} dB",
        before - after
    );
}

#[test]
fn si_sdr_improves_and_the_signal_survives() {
    let (clean, noisy) = scene(6.0);
    let mut d = denoiser();
    let y = run(&mut d, &noisy);
    let lat = d.latency();
    // Judge after the tracker has settled (from 2 s).
    let from = 2 * 48_000;
    let before = si_sdr(
        &noisy[from..clean.len() - lat],
        &clean[from..clean.len() - lat],
    );
    let after = si_sdr(&y[from + lat..], &clean[from..clean.len() - lat]);
    eprintln!("SI-SDR {before:.1} dB -> {after:.1} dB");
    assert!(
        after - before > 5.0,
        "SI-SDR {before:.1} dB -> {after:.1} dB"
    );
    // A burst keeps its level within 1 dB (2.5–3.0 s).
    let (a, b) = (2 * 48_000 + 24_000, 3 * 48_000);
    let level = rms_db(&y[a + lat..b + lat]) - rms_db(&clean[a..b]);
    eprintln!("burst level change {level:.2} dB");
    assert!(level.abs() < 1.0, "burst level changed by {level:.2} dB");
}

#[test]
fn silence_stays_silence_and_nan_never_passes() {
    let mut d = denoiser();
    let y = run(&mut d, &vec![0.0f32; 48_000]);
    assert!(y.iter().all(|&v| v == 0.0));
    let mut x: Vec<f32> = noise(&mut rng(61), 48_000)
        .iter()
        .map(|v| v * 0.01)
        .collect();
    x[1000] = f32::NAN;
    x[2000] = f32::INFINITY;
    let y = run(&mut d, &x);
    assert!(y.iter().all(|v| v.is_finite()));
}
