//! Analysis benchmarks, side by side with the reference tools in the same run.
//!
//! Loudness: integrated, LRA and true peak of 10 minutes of stereo 48 kHz programme-like
//! noise, mixstation's meter on one core against FFmpeg's `ebur128=peak=true` (one thread).
//!
//! Spectrogram: 4096-point STFT (hop 1024) of the same file, decoded, transformed and drawn
//! to a PNG — mixstation's CPU engine against SoX's `spectrogram` effect, end to end from the
//! WAV file. SoX caps its height at 1200 pixels, so its largest power-of-two DFT is 2048
//! points (`-y 1025`): half the transform size mixstation computes. The GPU engine (lavapipe
//! here) is timed on the first 60 s.
//!
//! `cargo bench --bench analysis` (`MIXSTATION_BENCH_SECONDS` shortens the signal).

mod common;

use common::{
    available, median, noise, run_external, signal_seconds, slow, timed, write_wav, RATE,
};
use criterion::{criterion_group, Criterion};
use gpu_dsp::analysis::LoudnessMeter;

/// Noise with a slowly moving level, so gating and LRA have work to do.
fn programme(seconds: usize) -> Vec<Vec<f32>> {
    (0..2u32)
        .map(|c| {
            noise(seconds * RATE, 7 + c)
                .iter()
                .enumerate()
                .map(|(i, v)| v * (0.2 + 0.15 * (i as f32 / RATE as f32 * 0.1).sin()))
                .collect()
        })
        .collect()
}

fn loudness(c: &mut Criterion) {
    let secs = signal_seconds(600);
    let x = programme(secs);
    let mut slow = slow();
    let c = if secs >= 60 { &mut slow } else { c };
    timed(c, "loudness/mixstation", || {
        let mut m = LoudnessMeter::new(2, RATE as u32);
        for start in (0..x[0].len()).step_by(1 << 16) {
            let end = (start + (1 << 16)).min(x[0].len());
            m.process(&[&x[0][start..end], &x[1][start..end]]);
        }
        std::hint::black_box(m.summary());
    });
    if !available("ffmpeg", "-version") {
        println!("FFmpeg not found: ebur128 not measured");
        return;
    }
    let file = write_wav("loudness.wav", &x);
    timed(c, "loudness/ffmpeg-ebur128", || {
        run_external(
            std::process::Command::new("ffmpeg")
                .args([
                    "-nostdin",
                    "-hide_banner",
                    "-threads",
                    "1",
                    "-filter_threads",
                    "1",
                    "-i",
                ])
                .arg(&file)
                .args(["-af", "ebur128=peak=true", "-f", "null", "-"]),
        );
    });
}

fn spectrogram(c: &mut Criterion) {
    use gpu_dsp::analysis::spectrogram::{spectrogram_cpu, GpuSpectrogram, SpectrogramConfig};
    use mixstation::plot::{render_spectrogram, PlotOptions};
    let secs = signal_seconds(600);
    let x = programme(secs);
    let file = write_wav("spectrogram.wav", &x);
    let out = std::env::temp_dir()
        .join("mixstation-bench")
        .join("spectrogram.png");
    let config = SpectrogramConfig::new(4096, 1024).unwrap();
    let mut slow = slow();
    let c = if secs >= 60 { &mut slow } else { c };
    timed(c, "spectrogram/mixstation-cpu", || {
        let audio = mixstation::io::decode_file(&file).unwrap();
        let planes: Vec<&[f32]> = audio.channels.iter().map(|c| c.as_slice()).collect();
        let s = spectrogram_cpu(&planes, audio.sample_rate, config);
        render_spectrogram(&s, &PlotOptions::default())
            .save_png(&out)
            .unwrap();
    });
    if let Ok(ctx) = gpu_dsp::gpu::GpuContext::new(gpu_dsp::gpu::AdapterPolicy::AllowSoftware) {
        let ctx = std::sync::Arc::new(ctx);
        println!(
            "GPU adapter: {} ({})",
            ctx.info().name,
            ctx.info().device_type
        );
        let plan = GpuSpectrogram::new(ctx, config, 2).unwrap();
        let excerpt: Vec<&[f32]> = x.iter().map(|c| &c[..c.len().min(60 * RATE)]).collect();
        timed(c, "spectrogram-60s/mixstation-gpu", || {
            let s = plan.compute(&excerpt, RATE as u32).unwrap();
            render_spectrogram(&s, &PlotOptions::default())
                .save_png(&out)
                .unwrap();
        });
    }
    if !available("sox", "--version") {
        println!("SoX not found: its spectrogram not measured (apt-get install sox)");
        return;
    }
    let sox_png = std::env::temp_dir()
        .join("mixstation-bench")
        .join("sox.png");
    timed(c, "spectrogram/sox", || {
        run_external(
            std::process::Command::new("sox")
                .arg(&file)
                .args([
                    "-n",
                    "remix",
                    "-",
                    "spectrogram",
                    "-y",
                    "1025",
                    "-x",
                    "1200",
                    "-o",
                ])
                .arg(&sox_png),
        );
    });
}

fn line(name: &str, t: f64, secs: f64, versus: Option<(f64, &str)>) {
    let ratio = versus.map_or(String::new(), |(r, who)| {
        format!("  {:.1}x faster than {who}", r / t)
    });
    println!(
        "  {name:<22} {t:>8.3} s  {:>6.0}x real time{ratio}",
        secs / t
    );
}

fn summary() {
    let secs = signal_seconds(600) as f64;
    println!("\n== analysis summary (median of runs; this machine) ==");
    println!("loudness (I, LRA, true peak) of {secs:.0} s stereo 48 kHz, one core:");
    let ffmpeg = median("loudness/ffmpeg-ebur128").map(|t| (t, "FFmpeg"));
    for name in ["mixstation", "ffmpeg-ebur128"] {
        if let Some(t) = median(&format!("loudness/{name}")) {
            line(name, t, secs, ffmpeg);
        }
    }
    println!(
        "spectrogram, file to PNG, of {secs:.0} s stereo 48 kHz (mixstation 4096-point, SoX 2048):"
    );
    let sox = median("spectrogram/sox").map(|t| (t, "SoX"));
    for name in ["mixstation-cpu", "sox"] {
        if let Some(t) = median(&format!("spectrogram/{name}")) {
            line(name, t, secs, sox);
        }
    }
    if let Some(t) = median("spectrogram-60s/mixstation-gpu") {
        println!(
            "  {:<22} {t:>8.3} s  {:>6.0}x real time (60 s excerpt, STFT + PNG)",
            "mixstation-gpu",
            60.0 / t
        );
    }
}

criterion_group!(benches, loudness, spectrogram);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
