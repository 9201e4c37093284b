//! Shared by the benchmarks: deterministic signals, timing with every sample kept for the
//! ×-real-time summary, and WAV files for the external comparison programs.
#![allow(dead_code)]

use criterion::Criterion;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const RATE: usize = 48_000;

static RESULTS: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());

pub fn record(name: &str, seconds: f64) {
    RESULTS
        .lock()
        .unwrap()
        .entry(name.to_string())
        .or_default()
        .push(seconds);
}

/// Median seconds of every run recorded under `name`.
pub fn median(name: &str) -> Option<f64> {
    let results = RESULTS.lock().unwrap();
    let mut v = results.get(name)?.clone();
    v.sort_by(|a, b| a.total_cmp(b));
    Some(v[v.len() / 2])
}

/// Names recorded so far that start with `prefix`.
pub fn names(prefix: &str) -> Vec<String> {
    RESULTS
        .lock()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with(prefix))
        .cloned()
        .collect()
}

/// Uniform noise in [-0.5, 0.5), xorshift-seeded.
pub fn noise(n: usize, seed: u32) -> Vec<f32> {
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

/// Seconds of signal, from `MIXSTATION_BENCH_SECONDS` or `default`.
pub fn signal_seconds(default: usize) -> usize {
    std::env::var("MIXSTATION_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Criterion settings for jobs that take a second or more per run.
pub fn slow() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
}

/// Times `f` per iteration with `iter_custom` and keeps every measurement for the summary.
pub fn timed(c: &mut Criterion, name: &str, mut f: impl FnMut()) {
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

/// Writes planar f32 channels as a 32-bit float WAV in the bench folder.
pub fn write_wav(name: &str, planes: &[Vec<f32>]) -> PathBuf {
    let dir = std::env::temp_dir().join("mixstation-bench");
    let _ = std::fs::create_dir_all(&dir);
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
}

/// True when `program` runs (`program -version` or `--version`).
pub fn available(program: &str, arg: &str) -> bool {
    std::process::Command::new(program)
        .arg(arg)
        .output()
        .is_ok()
}

/// Runs an external command and panics when it fails.
pub fn run_external(cmd: &mut std::process::Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
}
