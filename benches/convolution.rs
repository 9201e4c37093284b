//! Convolution benchmarks (criterion), reported as ×-real-time and instances per core.
//!
//! 1. Offline: 60 s of stereo 48 kHz noise through a 3 s stereo IR — the CPU engine, the GPU
//!    engine on the adapter present, one whole-signal FFT convolution (the floor), and FFmpeg's
//!    `afir` on the same files (one thread), all in the same run.
//! 2. Real time: one 3 s stereo reverb processed in 256-sample blocks at 48 kHz; instances one
//!    core sustains = block duration / mean block time (and the worst block).
//!
//! `cargo bench --bench convolution` (set `MIXSTATION_BENCH_SECONDS` to shorten the signal).

mod common;

use common::{median, names, noise, record, signal_seconds, slow, timed, write_wav, RATE};
use criterion::{criterion_group, Criterion};
use gpu_dsp::conv::reference::fft_whole;
use gpu_dsp::conv::{Convolver, ConvolverConfig, GpuConvolverBank};
use gpu_dsp::gpu::{AdapterPolicy, GpuContext};
use std::sync::Arc;
use std::time::Instant;

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

fn offline(c: &mut Criterion) {
    let secs = signal_seconds(60);
    let x = [noise(secs * RATE, 1), noise(secs * RATE, 2)];
    let ir = reverb_ir();
    let mut slow = slow();
    let c = if secs >= 30 { &mut slow } else { c };
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
    let input = write_wav("conv-in.wav", x.as_slice());
    let irf = write_wav("conv-ir.wav", ir);
    if !common::available("ffmpeg", "-version") {
        println!("FFmpeg not found: afir not measured (apt-get install ffmpeg)");
        return;
    }
    timed(c, "offline/ffmpeg-afir", || {
        common::run_external(
            std::process::Command::new("ffmpeg")
                .args([
                    "-nostdin",
                    "-loglevel",
                    "error",
                    "-threads",
                    "1",
                    "-filter_threads",
                    "1",
                ])
                .args(["-filter_complex_threads", "1", "-i"])
                .arg(&input)
                .arg("-i")
                .arg(&irf)
                .args([
                    "-filter_complex",
                    "[0:a][1:a]afir=gtype=none",
                    "-f",
                    "null",
                    "-",
                ]),
        );
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

fn summary() {
    let secs = signal_seconds(60) as f64;
    println!("\n== convolution summary (median of runs; this machine) ==");
    println!("offline: {secs:.0} s stereo 48 kHz through a 3 s stereo IR");
    let floor = median("offline/whole-fft-floor");
    let afir = median("offline/ffmpeg-afir");
    for name in names("offline/") {
        let t = median(&name).unwrap();
        let mut line = format!(
            "  {:<26} {:>8.3} s  {:>7.0}x real time",
            name.trim_start_matches("offline/"),
            t,
            secs / t
        );
        if let Some(f) = floor {
            line += &format!("  {:>5.2}x the whole-FFT time", t / f);
        }
        if let Some(a) = afir {
            line += &format!("  {:>5.2}x faster than afir", a / t);
        }
        println!("{line}");
    }
    let block_s = 256.0 / RATE as f64;
    println!("real time: 3 s stereo reverb, 256-sample blocks at 48 kHz, one core");
    for name in names("realtime/")
        .into_iter()
        .filter(|k| !k.ends_with("worst-block"))
    {
        let per_block = median(&name).unwrap() / 64.0;
        let worst = median(&format!("{name}/worst-block")).unwrap_or(f64::NAN);
        println!(
            "  {:<22} mean {:>7.1} us/block -> {:>5.0} instances per core; worst block {:>7.1} us",
            name.trim_start_matches("realtime/"),
            per_block * 1e6,
            block_s / per_block,
            worst * 1e6,
        );
    }
}

criterion_group!(benches, offline, realtime);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
