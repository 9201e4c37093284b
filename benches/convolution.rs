//! Convolution benchmarks (criterion), reported as ×-real-time and instances per core.
//!
//! 1. Offline: 60 s of stereo 48 kHz noise through a 3 s stereo IR — the CPU engine, the GPU
//!    engine on the adapter present, one whole-signal FFT convolution (the floor), and FFmpeg's
//!    `afir` on the same files (one thread), all in the same run.
//! 2. Real time: one 3 s stereo reverb processed in 256-sample blocks at 48 kHz; instances one
//!    core sustains = block duration / mean block time (and the worst block).
//!
//! `cargo bench --bench convolution` (set `MIXSTATION_BENCH_SECONDS` to shorten the signal).

use criterion::{criterion_group, Criterion};
use gpu_dsp::conv::reference::fft_whole;
use gpu_dsp::conv::{Convolver, ConvolverConfig, GpuConvolverBank};
use gpu_dsp::gpu::{AdapterPolicy, GpuContext};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RATE: usize = 48_000;

static RESULTS: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());

fn record(name: &str, seconds: f64) {
    RESULTS
        .lock()
        .unwrap()
        .entry(name.to_string())
        .or_default()
        .push(seconds);
}

fn noise(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.max(1);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s as f32 / u32::MAX as f32) - 0.5
        })
        .collect()
}

fn signal_seconds() -> usize {
    std::env::var("MIXSTATION_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

fn reverb_ir() -> Vec<Vec<f32>> {
    (0..2u32)
        .map(|c| {
            noise(3 * RATE, 99 + c)
                .iter()
                .enumerate()
                .map(|(i, v)| v * (-3.0 * i as f32 / RATE as f32).exp())
                .collect()
        })
        .collect()
}

/// Times `f` per iteration with `iter_custom` and keeps every measurement for the summary.
fn timed(c: &mut Criterion, name: &str, mut f: impl FnMut()) {
    c.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                f();
                let d = t.elapsed();
                record(name, d.as_secs_f64());
                total += d;
            }
            total
        })
    });
}

fn offline(c: &mut Criterion) {
    let secs = signal_seconds();
    let x = [noise(secs * RATE, 1), noise(secs * RATE, 2)];
    let ir = reverb_ir();
    let mut group_config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    let c = if secs >= 30 { &mut group_config } else { c };
    let ins: Vec<&[f32]> = x.iter().map(|v| v.as_slice()).collect();
    let irp: Vec<&[f32]> = ir.iter().map(|v| v.as_slice()).collect();
    timed(c, "offline/cpu-engine", || {
        let mut conv = Convolver::new(&irp, 2, ConvolverConfig::offline(ir[0].len())).unwrap();
        std::hint::black_box(conv.render(&ins, 8192, |_| {}).unwrap());
    });
    timed(c, "offline/whole-fft-floor", || {
        for ch in 0..2 {
            std::hint::black_box(fft_whole(&x[ch], &ir[ch]));
        }
    });
    match GpuContext::new(AdapterPolicy::AllowSoftware) {
        Ok(ctx) => {
            let ctx = Arc::new(ctx);
            println!(
                "GPU adapter: {} ({}, {})",
                ctx.info().name,
                ctx.info().backend,
                ctx.info().device_type
            );
            timed(c, "offline/gpu-engine", || {
                let mut bank = GpuConvolverBank::new(
                    ctx.clone(),
                    &[(ir.clone(), 2)],
                    ConvolverConfig::gpu_offline(),
                )
                .unwrap();
                std::hint::black_box(bank.render(&ins, 8192, |_| {}).unwrap());
            });
        }
        Err(e) => println!("GPU engine not measured: {e}"),
    }
    ffmpeg_afir(c, &x, &ir);
}

/// The same job through FFmpeg's afir filter, one thread, output discarded.
fn ffmpeg_afir(c: &mut Criterion, x: &[Vec<f32>; 2], ir: &[Vec<f32>]) {
    let dir = std::env::temp_dir().join("mixstation-bench");
    let _ = std::fs::create_dir_all(&dir);
    let write = |name: &str, planes: &[Vec<f32>]| {
        let path = dir.join(name);
        let spec = hound::WavSpec {
            channels: planes.len() as u16,
            sample_rate: RATE as u32,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for i in 0..planes[0].len() {
            for p in planes {
                w.write_sample(p[i]).unwrap();
            }
        }
        w.finalize().unwrap();
        path
    };
    let input = write("in.wav", x);
    let irf = write("ir.wav", ir);
    let probe = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output();
    if probe.is_err() {
        println!("FFmpeg not found: afir not measured (apt-get install ffmpeg)");
        return;
    }
    timed(c, "offline/ffmpeg-afir", || {
        let status = std::process::Command::new("ffmpeg")
            .args([
                "-nostdin",
                "-loglevel",
                "error",
                "-threads",
                "1",
                "-filter_threads",
                "1",
                "-filter_complex_threads",
                "1",
                "-i",
            ])
            .arg(&input)
            .arg("-i")
            .arg(&irf)
            .args([
                "-filter_complex",
                "[0:a][1:a]afir=gtype=none",
                "-f",
                "null",
                "-",
            ])
            .status()
            .unwrap();
        assert!(status.success(), "ffmpeg afir failed");
    });
}

fn realtime(c: &mut Criterion) {
    let ir = reverb_ir();
    let irp: Vec<&[f32]> = ir.iter().map(|v| v.as_slice()).collect();
    let block = 256;
    for (name, config) in [
        (
            "realtime/non-uniform-256",
            ConvolverConfig {
                block,
                ..Default::default()
            },
        ),
        (
            "realtime/uniform-256",
            ConvolverConfig {
                block,
                uniform: true,
                ..Default::default()
            },
        ),
    ] {
        let mut conv = Convolver::new(&irp, 2, config).unwrap();
        let x = [noise(block, 5), noise(block, 6)];
        let mut y = [vec![0.0f32; block], vec![0.0f32; block]];
        // 64 blocks is one full cycle of the largest partition (16384 / 256).
        timed(c, name, || {
            for _ in 0..64 {
                let (a, b) = y.split_at_mut(1);
                conv.process(&[&x[0], &x[1]], &mut [&mut a[0], &mut b[0]]);
            }
        });
        let mut worst = 0.0f64;
        for _ in 0..256 {
            let t = Instant::now();
            let (a, b) = y.split_at_mut(1);
            conv.process(&[&x[0], &x[1]], &mut [&mut a[0], &mut b[0]]);
            worst = worst.max(t.elapsed().as_secs_f64());
        }
        record(&format!("{name}/worst-block"), worst);
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn summary() {
    let results = RESULTS.lock().unwrap();
    let secs = signal_seconds() as f64;
    println!("\n== convolution summary (median of runs; this machine) ==");
    println!("offline: {secs:.0} s stereo 48 kHz through a 3 s stereo IR");
    let floor = results.get("offline/whole-fft-floor").map(|v| median(v));
    let afir = results.get("offline/ffmpeg-afir").map(|v| median(v));
    for (name, v) in results.iter().filter(|(k, _)| k.starts_with("offline/")) {
        let t = median(v);
        let mut line = format!(
            "  {:<26} {:>8.3} s  {:>7.0}x real time",
            name.trim_start_matches("offline/"),
            t,
            secs / t
        );
        if let Some(f) = floor {
            line += &format!("  {:>5.2}x the floor's time", t / f);
        }
        if let Some(a) = afir {
            line += &format!("  {:>5.2}x faster than afir", a / t);
        }
        println!("{line}");
    }
    let block_s = 256.0 / RATE as f64;
    println!("real time: 3 s stereo reverb, 256-sample blocks at 48 kHz, one core");
    for (name, v) in results
        .iter()
        .filter(|(k, _)| k.starts_with("realtime/") && !k.ends_with("worst-block"))
    {
        let per_block = median(v) / 64.0;
        let worst = results
            .get(&format!("{name}/worst-block"))
            .map(|w| median(w))
            .unwrap_or(f64::NAN);
        println!(
            "  {:<22} mean {:>7.1} us/block -> {:>5.0} instances per core; worst block {:>7.1} us ({:.0} if every block were the worst)",
            name.trim_start_matches("realtime/"),
            per_block * 1e6,
            block_s / per_block,
            worst * 1e6,
            block_s / worst
        );
    }
}

criterion_group!(benches, offline, realtime);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
