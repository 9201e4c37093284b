//! `make bench-gpu`: what the GPU does per engine block, on the first discrete or integrated
//! adapter (a software adapter when there is none, said so).
//!
//! - Convolution: a session of 16 stereo tracks sending to 8 reverb buses (3 s stereo IRs) in
//!   2 stems, 16 reverb instances, every tail in the session's one GPU submission per block;
//! - cleanup: 16 dialogue tracks with `clean` inserts, every insert's per-bin gain tracking
//!   in the session's one submission per block (against the same mix on the CPU);
//! - masking: a dialogue stem and 16 stereo tracks, every track's frames transformed and
//!   reduced to third-octave band powers in one submission per block (`masking --engine gpu`).
//!
//! Prints instances, submissions, dispatches, upload and readback bytes and GPU time per
//! block (timestamp queries where the adapter has them), and a model of what a real GPU
//! should take for the same work. `MIXSTATION_BENCH_SECONDS` sets the timeline (default 20).

mod common;

use common::{noise, signal_seconds, RATE};
use gpu_dsp::gpu::{AdapterPolicy, GpuContext};
use gpu_dsp::mix::{
    BusSpec, ClipSpec, InsertSpec, Layout, MasterSpec, MixSpec, Mixer, SendSpec, TrackSpec,
};
use std::sync::Arc;
use std::time::Instant;

const BLOCK: usize = 1024;
/// The model's GPU: memory bandwidth, host link bandwidth and the fixed cost of a submission
/// and a readback (bytes/s, bytes/s, s) — a mid-range discrete card on PCIe 3.0 x16.
const MODEL_MEMORY: f64 = 300e9;
const MODEL_LINK: f64 = 12e9;
const MODEL_LATENCY: f64 = 30e-6;

fn session(seconds: usize) -> MixSpec {
    let n = seconds * RATE;
    let sources: Vec<Vec<Vec<f32>>> = (0..4u32)
        .map(|s| vec![noise(n, 1 + 2 * s), noise(n, 2 + 2 * s)])
        .collect();
    let ir = |seed: u32| -> Vec<Vec<f32>> {
        (0..2)
            .map(|c| {
                noise(3 * RATE, seed + c)
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v * (-2.0 * i as f32 / RATE as f32).exp() * 0.05)
                    .collect()
            })
            .collect()
    };
    let buses = (0..8u32)
        .map(|b| BusSpec {
            mute: false,
            solo: false,
            name: format!("verb{b}"),
            gain_db: 0.0,
            inserts: vec![InsertSpec::Reverb {
                ir: ir(100 + 10 * b),
                wet: 1.0,
                dry: 0.0,
            }],
            bypass: vec![],
            sends: vec![],
            automation: vec![],
        })
        .collect();
    let tracks = (0..16)
        .map(|t| TrackSpec {
            name: format!("t{t}"),
            channels: 2,
            clips: vec![ClipSpec {
                source: t % 4,
                start: 0,
                offset: 0,
                length: n as u64,
                gain_db: -18.0,
                ..Default::default()
            }],
            gain_db: -6.0,
            pan: 0.0,
            azimuth: None,
            lfe_db: None,
            stem: t % 2,
            mute: false,
            solo: false,
            direct: true,
            inserts: vec![],
            sends: vec![SendSpec {
                bus: (t / 2) % 8,
                level_db: -12.0,
                pre_fader: false,
                mute: false,
            }],
            automation: vec![],
            bypass: vec![],
        })
        .collect();
    MixSpec {
        sample_rate: RATE as u32,
        layout: Layout::Stereo,
        sources: sources.into_iter().map(Into::into).collect(),
        tracks,
        buses,
        stems: vec!["A".into(), "B".into()],
        master: MasterSpec::default(),
    }
}

/// Renders `spec`'s timeline block by block; seconds taken.
fn render(mixer: &mut Mixer, samples: usize) -> f64 {
    let start = Instant::now();
    let mut pos = 0;
    while pos < samples {
        let n = BLOCK.min(samples - pos);
        std::hint::black_box(mixer.process_block(n));
        pos += n;
    }
    start.elapsed().as_secs_f64()
}

fn convolution(ctx: &Arc<GpuContext>, seconds: usize) {
    let samples = seconds * RATE;
    let mut cpu = Mixer::new(session(seconds), BLOCK).expect("CPU mixer");
    let cpu_s = render(&mut cpu, samples);
    let mut gpu = Mixer::with_gpu(session(seconds), BLOCK, Some(ctx.clone())).expect("GPU mixer");
    let timed = gpu.time_gpu();
    let gpu_s = render(&mut gpu, samples);
    let s = gpu.gpu_stats().expect("the reverbs run on the GPU");
    let blocks = gpu.blocks() as f64;
    let per = |v: u64| v as f64 / blocks;
    let block_us = BLOCK as f64 / RATE as f64 * 1e6;
    println!("\nconvolution: 16 tracks → 8 reverb buses × 2 stems, 3 s stereo IRs, {seconds} s, {BLOCK}-sample blocks ({block_us:.0} µs)");
    println!("| per engine block | value |");
    println!("|---|---|");
    println!(
        "| reverb instances | {} ({} regions) |",
        s.regions / 2,
        s.regions
    );
    println!("| submissions | {:.3} |", per(s.submissions));
    println!("| dispatches | {:.3} |", per(s.dispatches));
    println!("| jobs (segment × route) | {:.1} |", per(s.jobs));
    println!("| upload bytes | {:.0} |", per(s.upload_bytes));
    println!("| readback bytes | {:.0} |", per(s.readback_bytes));
    println!(
        "| complex multiply-adds | {:.0} ({:.1} MFLOP) |",
        per(s.macs),
        per(s.macs) * 8.0 / 1e6
    );
    println!(
        "| readbacks that waited (GPU more than two blocks behind) | {} of {} |",
        s.late, s.submissions
    );
    if timed && s.timed > 0 {
        println!(
            "| GPU time per submission (timestamps) | {:.0} µs |",
            s.gpu_ns as f64 / s.timed as f64 / 1e3
        );
    } else {
        println!("| GPU time | no timestamp queries on this adapter |");
    }
    println!(
        "| whole mix per block, GPU tails | {:.0} µs ({:.1}× real time) |",
        gpu_s / blocks * 1e6,
        seconds as f64 / gpu_s
    );
    println!(
        "| whole mix per block, CPU tails | {:.0} µs ({:.1}× real time) |",
        cpu_s / blocks * 1e6,
        seconds as f64 / cpu_s
    );
    let sub = per(s.submissions).max(1e-9);
    let bytes_moved = (per(s.upload_bytes) + per(s.readback_bytes)) / sub;
    let memory = per(s.macs) / sub * 16.0;
    let model = MODEL_LATENCY + bytes_moved / MODEL_LINK + memory / MODEL_MEMORY;
    println!(
        "| model per submission on a real GPU | {:.0} µs: {:.0} kB over the link, {:.1} MB read from GPU memory, {:.0} µs fixed |",
        model * 1e6,
        bytes_moved / 1e3,
        memory / 1e6,
        MODEL_LATENCY * 1e6
    );
}

/// 16 mono dialogue tracks, each through a `clean` insert, in one stem.
fn dialogue_session(seconds: usize) -> MixSpec {
    let mut spec = session(seconds);
    spec.buses.clear();
    for t in &mut spec.tracks {
        t.channels = 1;
        t.sends.clear();
        t.stem = 0;
        t.inserts = vec![InsertSpec::Clean {
            reduction_db: 18.0,
            hum: None,
        }];
    }
    spec
}

fn cleanup(ctx: &Arc<GpuContext>, seconds: usize) {
    let samples = seconds * RATE;
    let mut cpu = Mixer::new(dialogue_session(seconds), BLOCK).expect("CPU mixer");
    let cpu_s = render(&mut cpu, samples);
    let mut gpu =
        Mixer::with_gpu(dialogue_session(seconds), BLOCK, Some(ctx.clone())).expect("GPU mixer");
    let gpu_s = render(&mut gpu, samples);
    let channels = gpu.gpu_clean_channels();
    let (fft, hop) = (1024usize, 256usize);
    let bins = fft / 2 + 1;
    let frames = BLOCK / hop;
    let slots = gpu_dsp::spectral::frames_per_block(BLOCK, hop);
    let blocks = gpu.blocks() as f64;
    let upload = (channels * slots * (bins + 1) * 4) as f64;
    let readback = (channels * slots * bins * 4) as f64;
    println!(
        "
cleanup: 16 dialogue tracks, each through a `clean` insert, {seconds} s, {BLOCK}-sample blocks"
    );
    println!("| per engine block | value |");
    println!("|---|---|");
    println!("| instances (channels) | {channels} |");
    println!(
        "| submissions (shared with the tails and analysis) | {:.3} |",
        gpu.gpu_submissions() as f64 / blocks
    );
    println!("| dispatches | 2 (tracking, smoothing across frequency) |");
    println!("| frames per channel | {frames} of {bins} bins ({slots} slots) |");
    println!("| upload bytes (power spectra and floors, every slot) | {upload:.0} |");
    println!("| readback bytes (gains, every slot) | {readback:.0} |");
    println!(
        "| whole mix per block, gains on the GPU | {:.0} µs ({:.1}× real time) |",
        gpu_s / blocks * 1e6,
        seconds as f64 / gpu_s
    );
    println!(
        "| whole mix per block, gains on the CPU | {:.0} µs ({:.1}× real time) |",
        cpu_s / blocks * 1e6,
        seconds as f64 / cpu_s
    );
    let model = MODEL_LATENCY + (upload + readback) / MODEL_LINK;
    println!(
        "| model per submission on a real GPU | {:.0} µs |",
        model * 1e6
    );
}

fn masking(ctx: &Arc<GpuContext>, seconds: usize) {
    use gpu_dsp::analysis::{GpuMasking, MaskingMatrix, MASKING_FFT};
    let (maskers, channels, block) = (16usize, 2usize, 2048usize);
    let len = seconds * RATE;
    let signal: Vec<Vec<f32>> = (0..channels).map(|c| noise(len, 40 + c as u32)).collect();
    let view: Vec<&[f32]> = signal.iter().map(Vec::as_slice).collect();
    let blocks = len / block;
    let run_cpu = || {
        let mut m = MaskingMatrix::new(channels, maskers, channels, RATE as u32);
        for b in 0..blocks {
            let part: Vec<&[f32]> = view
                .iter()
                .map(|c| &c[b * block..(b + 1) * block])
                .collect();
            m.push_target(&part);
            for k in 0..maskers {
                m.push_masker(k, &part);
            }
        }
        std::hint::black_box(m.finish());
    };
    let start = Instant::now();
    run_cpu();
    let cpu = start.elapsed().as_secs_f64();
    let mut m =
        GpuMasking::new(ctx.clone(), channels, maskers, RATE as u32, block).expect("GPU masking");
    let start = Instant::now();
    for b in 0..blocks {
        let part: Vec<&[f32]> = view
            .iter()
            .map(|c| &c[b * block..(b + 1) * block])
            .collect();
        let all: Vec<&[&[f32]]> = (0..maskers).map(|_| part.as_slice()).collect();
        m.push(&part, &all).expect("GPU masking block");
    }
    let submissions = m.submissions();
    std::hint::black_box(m.finish().expect("GPU masking"));
    let gpu = start.elapsed().as_secs_f64();
    let signals = maskers + 1;
    let frames = submissions as f64 / blocks as f64;
    let bands = 31.0;
    println!("\nmasking: dialogue + {maskers} tracks, stereo, {MASKING_FFT}-point frames every {} samples, {block}-sample blocks", MASKING_FFT / 2);
    println!("| per engine block | value |");
    println!("|---|---|");
    println!(
        "| instances (signals × channels) | {} |",
        signals * channels
    );
    println!("| submissions | {frames:.3} |");
    println!(
        "| dispatches | {} (load, {} FFT stages, band powers) per submission |",
        2 + MASKING_FFT.trailing_zeros(),
        MASKING_FFT.trailing_zeros()
    );
    let upload = frames * (signals * channels * MASKING_FFT * 4) as f64;
    let readback = frames * signals as f64 * bands * 4.0;
    println!("| upload bytes | {upload:.0} |");
    println!("| readback bytes | {readback:.0} |");
    println!(
        "| wall time per block, GPU | {:.0} µs |",
        gpu / blocks as f64 * 1e6
    );
    println!(
        "| wall time per block, CPU matrix (one core) | {:.0} µs |",
        cpu / blocks as f64 * 1e6
    );
    let fft_flops = 5.0 * MASKING_FFT as f64 * (MASKING_FFT as f64).log2();
    let model = MODEL_LATENCY
        + (upload + readback) / MODEL_LINK
        + frames * (signals * channels) as f64 * (MASKING_FFT * 8 * 2 * 13) as f64 / MODEL_MEMORY;
    println!(
        "| model on a real GPU | {:.0} µs ({:.1} MFLOP of FFTs per block) |",
        model * 1e6,
        frames * (signals * channels) as f64 * fft_flops / 1e6
    );
}

fn main() {
    // Only run under `cargo bench` (cargo test --benches passes no --bench flag).
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let ctx = match GpuContext::new(AdapterPolicy::AllowSoftware) {
        Ok(ctx) => Arc::new(ctx),
        Err(e) => {
            eprintln!("bench-gpu: no adapter: {e}");
            std::process::exit(1);
        }
    };
    let info = ctx.info();
    println!(
        "adapter: {} ({}, {}, {}){}",
        info.name,
        info.device_type,
        info.backend,
        info.driver,
        if info.is_software {
            " — a SOFTWARE adapter: it runs on this machine's CPU, so these times are not a GPU's"
        } else {
            ""
        }
    );
    println!(
        "timestamp queries: {}",
        if ctx.has_timestamps() { "yes" } else { "no" }
    );
    let seconds = signal_seconds(20);
    convolution(&ctx, seconds);
    cleanup(&ctx, seconds);
    masking(&ctx, seconds);
}
