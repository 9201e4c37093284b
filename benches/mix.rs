//! Mix engine benchmark: a 64-track stereo session with EQ + compressor on every track and 4
//! reverb buses with 3 s stereo IRs (one per stem, plus a hall fed by every fourth track of
//! every stem: 6 reverb instances with the per-stem split), 3 stems, rendered offline with
//! master loudness normalisation and true-peak limiting; reported as ×-real-time.
//!
//! `cargo bench --bench mix` (timeline length from `MIXSTATION_BENCH_SECONDS`, default 60;
//! the README figure uses 300). Dialogue cleanup on 8 tracks (issue #4) is not built yet and
//! not included.

mod common;

use common::{median, noise, signal_seconds, slow, timed, RATE};
use criterion::{criterion_group, Criterion};
use gpu_dsp::mix::{
    finish_master, BusSpec, ClipSpec, CompressorParams, EqBand, FilterKind, InsertSpec, Layout,
    MasterSpec, MixSpec, Mixer, SendSpec, TrackSpec,
};

fn session(seconds: usize) -> MixSpec {
    let n = seconds * RATE;
    // Eight distinct stereo sources shared by the 64 tracks (keeps memory bounded).
    let sources: Vec<Vec<Vec<f32>>> = (0..8u32)
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
    let buses = (0..4u32)
        .map(|b| BusSpec {
            name: format!("verb{b}"),
            gain_db: 0.0,
            inserts: vec![InsertSpec::Reverb {
                ir: ir(100 + 10 * b),
                wet: 1.0,
                dry: 0.0,
            }],
            sends: vec![],
        })
        .collect();
    let eq = vec![
        EqBand {
            kind: FilterKind::HighPass,
            freq: 80.0,
            gain_db: 0.0,
            q: 0.707,
        },
        EqBand {
            kind: FilterKind::Bell,
            freq: 2500.0,
            gain_db: 2.0,
            q: 1.0,
        },
        EqBand {
            kind: FilterKind::HighShelf,
            freq: 9000.0,
            gain_db: -2.0,
            q: 0.707,
        },
    ];
    let tracks = (0..64)
        .map(|t| TrackSpec {
            name: format!("t{t}"),
            channels: 2,
            clips: vec![ClipSpec {
                source: t % 8,
                start: 0,
                offset: 0,
                length: n as u64,
                gain_db: -18.0,
                fade_in: 480,
                fade_out: 480,
            }],
            gain_db: -6.0,
            pan: (t as f32 / 63.0) * 2.0 - 1.0,
            azimuth: None,
            lfe_db: None,
            stem: t % 3,
            mute: false,
            solo: false,
            inserts: vec![
                InsertSpec::Eq(eq.clone()),
                InsertSpec::Compressor(CompressorParams::default()),
            ],
            // Each stem has its own reverb (DX, MX, FX rooms); every fourth track also feeds a
            // shared hall.
            sends: std::iter::once(SendSpec {
                bus: t % 3,
                level_db: -12.0,
                pre_fader: false,
            })
            .chain((t % 4 == 0).then_some(SendSpec {
                bus: 3,
                level_db: -18.0,
                pre_fader: false,
            }))
            .collect(),
            automation: vec![],
        })
        .collect();
    MixSpec {
        sample_rate: RATE as u32,
        layout: Layout::Stereo,
        sources: sources.into_iter().map(Into::into).collect(),
        tracks,
        buses,
        stems: vec!["DX".into(), "MX".into(), "FX".into()],
        master: MasterSpec {
            gain_db: 0.0,
            loudness_target: Some(-23.0),
            true_peak_ceiling: Some(-1.0),
        },
    }
}

fn render(c: &mut Criterion) {
    let secs = signal_seconds(60);
    let spec = session(secs);
    let mut slow = slow();
    timed(&mut slow, "mix/64-tracks", || {
        let mut mixer = Mixer::new(spec.clone(), 1024).unwrap();
        let mut stems = mixer.render(|_| {});
        std::hint::black_box(finish_master(
            &mut stems,
            &spec.master,
            spec.layout,
            spec.sample_rate,
        ));
    });
    let _ = c;
}

fn summary() {
    let secs = signal_seconds(60) as f64;
    println!("\n== mix summary (median of runs; this machine, all cores) ==");
    if let Some(t) = median("mix/64-tracks") {
        println!(
            "  64 tracks (EQ + compressor each), 4 reverb buses (3 s IRs), 3 stems, {secs:.0} s: {t:.2} s = {:.1}x real time",
            secs / t
        );
    }
}

criterion_group!(benches, render);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
