//! Analysis benchmarks, side by side with the reference tools in the same run.
//!
//! Loudness: integrated, LRA and true peak of 10 minutes of stereo 48 kHz programme-like
//! noise, mixstation's meter on one core against FFmpeg's `ebur128=peak=true` (one thread).
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

fn summary() {
    let secs = signal_seconds(600) as f64;
    println!("\n== analysis summary (median of runs; this machine) ==");
    println!("loudness (I, LRA, true peak) of {secs:.0} s stereo 48 kHz:");
    let ffmpeg = median("loudness/ffmpeg-ebur128");
    for name in ["loudness/mixstation", "loudness/ffmpeg-ebur128"] {
        if let Some(t) = median(name) {
            let ratio = ffmpeg.map_or(String::new(), |f| {
                format!("  {:.1}x faster than FFmpeg", f / t)
            });
            println!(
                "  {:<22} {:>8.3} s  {:>6.0}x real time{ratio}",
                name.trim_start_matches("loudness/"),
                t,
                secs / t
            );
        }
    }
}

criterion_group!(benches, loudness);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
