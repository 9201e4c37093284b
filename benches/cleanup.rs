//! Dialogue cleanup benchmark (issue #4): hum detection and removal plus noise suppression.
//!
//! - one mono 48 kHz channel on one core, whole-signal CPU engine (`mixstation clean`);
//! - the same channel through the streaming `Cleaner` the mix engine's insert uses;
//! - 64 channels at once: the CPU engine on every core, and the GPU engine (per-bin work
//!   batched across all 64 channels in one dispatch pair per batch; FFTs on the CPU).
//!
//! `cargo bench --bench cleanup` (`MIXSTATION_BENCH_SECONDS` sets the mono length, default
//! 60 s; the 64-channel jobs use a sixth of it).

mod common;

use common::{median, noise, signal_seconds, slow, timed, RATE};
use criterion::{criterion_group, Criterion};
use gpu_dsp::gpu::{AdapterPolicy, GpuContext};
use gpu_dsp::spectral::{clean_cpu, clean_gpu, CleanPlan, CleanSettings, Cleaner, DenoiseConfig};
use std::sync::Arc;

/// Voiced bursts over hiss and 50 Hz hum with harmonics.
fn dialogue(seconds: usize, seed: u32) -> Vec<f32> {
    let hiss = noise(seconds * RATE, seed);
    hiss.iter()
        .enumerate()
        .map(|(i, h)| {
            let t = i as f32 / RATE as f32;
            let on = (t * 1.7).fract() < 0.6;
            let voice = if on {
                (1..=6)
                    .map(|k| (std::f32::consts::TAU * 140.0 * k as f32 * t).sin() / k as f32)
                    .sum::<f32>()
                    * 0.1
            } else {
                0.0
            };
            let hum: f32 = (1..=6)
                .map(|k| (std::f32::consts::TAU * 50.02 * k as f32 * t).sin() * 0.01 / k as f32)
                .sum();
            voice + hum + 0.03 * h
        })
        .collect()
}

fn cleanup(c: &mut Criterion) {
    let secs = signal_seconds(60);
    let mono = vec![dialogue(secs, 3)];
    let rate = RATE as f32;
    let mut slow = slow();
    timed(&mut slow, "cleanup/cpu-mono", || {
        let plan = CleanPlan::new(&mono, rate, &CleanSettings::default()).unwrap();
        std::hint::black_box(clean_cpu(&mono, rate, &plan));
    });
    let plan = CleanPlan::new(&mono, rate, &CleanSettings::default()).unwrap();
    timed(&mut slow, "cleanup/streaming-mono", || {
        let mut cleaner = Cleaner::new(DenoiseConfig::dialogue(rate), plan.hum.as_ref(), rate);
        let mut x = mono[0].clone();
        let mut y = vec![0.0f32; 1024];
        for block in x.chunks_mut(1024) {
            cleaner.process(block, &mut y[..block.len()]);
        }
        std::hint::black_box(&y);
    });
    let wide_secs = (secs / 6).max(1);
    let wide: Vec<Vec<f32>> = (0..64).map(|c| dialogue(wide_secs, 10 + c)).collect();
    let plan = CleanPlan::new(&wide, rate, &CleanSettings::default()).unwrap();
    timed(&mut slow, "cleanup/cpu-64ch", || {
        std::hint::black_box(clean_cpu(&wide, rate, &plan));
    });
    match GpuContext::new(AdapterPolicy::AllowSoftware) {
        Ok(ctx) => {
            let ctx = Arc::new(ctx);
            println!("GPU: {}", ctx.info().name);
            timed(&mut slow, "cleanup/gpu-64ch", || {
                std::hint::black_box(clean_gpu(ctx.clone(), &wide, rate, &plan).unwrap());
            });
        }
        Err(e) => println!("no GPU adapter: {e}"),
    }
    let _ = c;
}

fn summary() {
    let secs = signal_seconds(60) as f64;
    let wide = (secs / 6.0).max(1.0);
    println!("\n== cleanup summary (median of runs; this machine) ==");
    for (name, what, audio) in [
        (
            "cleanup/cpu-mono",
            "mono 48 kHz, whole-signal CPU engine, one core",
            secs,
        ),
        (
            "cleanup/streaming-mono",
            "mono 48 kHz, streaming insert (1024-sample blocks), one core",
            secs,
        ),
        (
            "cleanup/cpu-64ch",
            "64 channels, CPU engine, all cores",
            64.0 * wide,
        ),
        (
            "cleanup/gpu-64ch",
            "64 channels, GPU engine (per-bin work batched)",
            64.0 * wide,
        ),
    ] {
        if let Some(t) = median(name) {
            println!(
                "  {what}: {audio:.0} s of audio in {t:.3} s = {:.0}x real time",
                audio / t
            );
        }
    }
}

criterion_group!(benches, cleanup);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
