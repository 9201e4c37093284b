//! Session scale: a 200-track session with 5 000 clips over twenty 60 s mono files — what
//! the window does to open it (read the TOML document, check and load it with every source
//! counted) and what one edit command costs on it (apply and check from media headers).
//!
//! `cargo bench --bench session`.

mod common;

use common::{noise, RATE};
use criterion::{criterion_group, criterion_main, Criterion};
use mixstation::edit::EditSession;
use mixstation::io::{write_wav, ExportFormat};
use mixstation::session::load_session_with_offline;
use std::path::Path;

fn big_session(dir: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("audio")).unwrap();
    for f in 0..20u32 {
        let samples = noise(60 * RATE, 1 + f);
        write_wav(
            &dir.join(format!("audio/s{f}.wav")),
            48_000,
            &[&samples],
            ExportFormat::Pcm24,
        )
        .unwrap();
    }
    let mut text = String::from("[session]\nsample_rate = 48000\n\n");
    for t in 0..200 {
        text += &format!("[[track]]\nname = \"t{t}\"\n");
        for c in 0..25 {
            text += &format!(
                "[[track.clip]]\nfile = \"audio/s{}.wav\"\nstart = {}\noffset = {}.0\nlength = 10.0\nfade_in = 0.01\n",
                (t + c) % 20,
                c as f64 * 12.0 + (t % 7) as f64 * 0.5,
                c % 5
            );
        }
    }
    let path = dir.join("big.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = big_session(dir.path());
    let mut g = c.benchmark_group("session_200_tracks_5000_clips");
    g.sample_size(10);
    g.bench_function("open (document + load)", |b| {
        b.iter(|| {
            let edit = EditSession::open(&path).unwrap();
            load_session_with_offline(&edit.text(), &path).unwrap()
        })
    });
    let mut edit = EditSession::open(&path).unwrap();
    g.bench_function("one edit command, checked", |b| {
        b.iter(|| {
            edit.apply_line("move t7:3 --by 0.01").unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
