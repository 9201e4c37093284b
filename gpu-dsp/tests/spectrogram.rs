//! Spectrograms: the CPU engine against an f64 DFT, calibration in dBFS, and the GPU engine
//! (lavapipe in CI) against the CPU engine, including multi-batch files.

mod common;

use common::{gpu, noise, rng};
use gpu_dsp::analysis::spectrogram::{
    spectrogram_cpu, GpuSpectrogram, GpuSpectrogramStream, LiveEngine, LiveSpectrogram,
    Spectrogram, SpectrogramConfig,
};
use gpu_dsp::conformance::dft_power;

fn linear(s: &Spectrogram) -> Vec<f64> {
    s.db.iter()
        .map(|&d| 10f64.powf(f64::from(d) / 10.0))
        .collect()
}

/// Largest power difference relative to the largest power.
fn rel_power_err(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let peak = b.iter().fold(0.0f64, |m, &v| m.max(v));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / peak
}

#[test]
fn cpu_matches_the_dft_definition() {
    let mut r = rng(21);
    for (n, hop, len, chans) in [
        (16, 4, 100, 1),
        (64, 16, 300, 2),
        (64, 64, 64, 1),
        (32, 7, 20, 3),
    ] {
        let x: Vec<Vec<f32>> = (0..chans).map(|_| noise(&mut r, len)).collect();
        let planes: Vec<&[f32]> = x.iter().map(|c| c.as_slice()).collect();
        let config = SpectrogramConfig::new(n, hop).unwrap();
        let s = spectrogram_cpu(&planes, 48_000, config);
        assert_eq!(s.frames, config.frames(len));
        let e = rel_power_err(&linear(&s), &dft_power(&x, config));
        assert!(e < 1e-5, "n {n} hop {hop}: relative power error {e:e}");
    }
}

#[test]
fn a_full_scale_sine_reads_zero_dbfs() {
    let n = 1024;
    let rate = 48_000;
    let bin = 100;
    let freq = bin as f64 * f64::from(rate) / n as f64;
    for level in [0.0f64, -20.0] {
        let amp = 10f64.powf(level / 20.0);
        let x: Vec<f32> = (0..8192)
            .map(|i| {
                (amp * (std::f64::consts::TAU * freq * i as f64 / f64::from(rate)).sin()) as f32
            })
            .collect();
        let s = spectrogram_cpu(&[&x], rate, SpectrogramConfig::new(n, 256).unwrap());
        let frame = s.frame(3);
        assert!(
            (frame[bin] as f64 - level).abs() < 0.01,
            "{level} dBFS sine reads {}",
            frame[bin]
        );
        assert!((s.bin_hz(bin) - freq).abs() < 1e-9);
        // Hann leakage stays within the neighbouring bins.
        assert!(frame[bin + 3] < frame[bin] - 100.0 || frame[bin + 3] <= -199.0);
    }
}

#[test]
fn bad_sizes_are_errors() {
    assert!(SpectrogramConfig::new(1000, 100).is_err());
    assert!(SpectrogramConfig::new(8, 4).is_err());
    assert!(SpectrogramConfig::new(1024, 0).is_err());
    assert!(SpectrogramConfig::new(1024, 2048).is_err());
}

#[test]
fn gpu_matches_cpu() {
    let Some(ctx) = gpu() else { return };
    let mut r = rng(22);
    for (n, hop, len, chans) in [
        (16, 4, 100, 1),
        (256, 64, 5000, 2),
        (4096, 1024, 3000, 1),
        (4096, 64, 1100 * 64, 2),
        (2048, 2048, 44_100, 1),
    ] {
        let x: Vec<Vec<f32>> = (0..chans).map(|_| noise(&mut r, len)).collect();
        let planes: Vec<&[f32]> = x.iter().map(|c| c.as_slice()).collect();
        let config = SpectrogramConfig::new(n, hop).unwrap();
        let cpu = spectrogram_cpu(&planes, 44_100, config);
        let gpu = GpuSpectrogram::new(ctx.clone(), config, chans)
            .unwrap()
            .compute(&planes, 44_100)
            .unwrap();
        assert_eq!((gpu.frames, gpu.bins), (cpu.frames, cpu.bins));
        let e = rel_power_err(&linear(&gpu), &linear(&cpu));
        assert!(
            e < 1e-5,
            "n {n} hop {hop} len {len}: GPU vs CPU relative power error {e:e}"
        );
    }
}

/// Streams `x` in ragged blocks and returns every emitted frame.
fn live_frames(live: &mut LiveSpectrogram, x: &[Vec<f32>]) -> Vec<f32> {
    let len = x[0].len();
    let mut out = Vec::new();
    let (mut pos, mut k) = (0, 0);
    while pos < len {
        let n = [1usize, 777, 64, 4000, 13][k % 5].min(len - pos);
        let block: Vec<&[f32]> = x.iter().map(|c| &c[pos..pos + n]).collect();
        live.push(&block, |row| out.extend_from_slice(row)).unwrap();
        pos += n;
        k += 1;
    }
    live.finish(|row| out.extend_from_slice(row)).unwrap();
    out
}

#[test]
fn live_streams_give_the_frames_of_the_whole_signal() {
    let mut r = rng(23);
    let x: Vec<Vec<f32>> = (0..2).map(|_| noise(&mut r, 20_000)).collect();
    let planes: Vec<&[f32]> = x.iter().map(|c| c.as_slice()).collect();
    let config = SpectrogramConfig::new(1024, 300).unwrap();
    let whole = spectrogram_cpu(&planes, 48_000, config);
    // Only complete frames are emitted live: (20000 − 1024) / 300 + 1 of them.
    let complete = (20_000 - 1024) / 300 + 1;
    let mut engines = vec![("cpu", LiveEngine::Cpu)];
    if let Some(ctx) = gpu() {
        engines.push((
            "gpu",
            // At most 5 frames per submission: the 4000-sample pushes take several.
            LiveEngine::Gpu(Box::new(
                GpuSpectrogramStream::new(ctx, config, 2, 5).unwrap(),
            )),
        ));
    }
    for (name, engine) in engines {
        let mut live = LiveSpectrogram::new(config, 48_000, 2, engine);
        let got = live_frames(&mut live, &x);
        assert_eq!(live.frames(), complete, "{name}");
        assert_eq!(got.len(), complete * whole.bins, "{name}");
        let want: Vec<f64> = whole.db[..got.len()]
            .iter()
            .map(|&d| 10f64.powf(f64::from(d) / 10.0))
            .collect();
        let got: Vec<f64> = got
            .iter()
            .map(|&d| 10f64.powf(f64::from(d) / 10.0))
            .collect();
        let e = rel_power_err(&got, &want);
        assert!(e < 1e-5, "{name}: live vs whole relative power error {e:e}");
    }
}
