//! Mix engine benchmark: a 64-track stereo session with EQ + compressor on every track and 4
//! reverb buses with 3 s stereo IRs (one per stem, plus a hall fed by every fourth track of
//! every stem: 6 reverb instances with the per-stem split), 3 stems, rendered offline with
//! master loudness normalisation and true-peak limiting; reported as ×-real-time.
//!
//! Dialogue cleanup (hum removal with all 30 harmonics of 50 Hz up to 1.5 kHz, and spectral
//! noise suppression) runs on 8 mono dialogue tracks of the DX stem.
//!
//! `cargo bench --bench mix` (timeline length from `MIXSTATION_BENCH_SECONDS`, default 60;
//! the README figure uses 300).

mod common;

use common::{median, noise, signal_seconds, slow, timed, RATE};
use criterion::{criterion_group, Criterion};
use gpu_dsp::mix::{
    finish_master, BusSpec, ClipSpec, CompressorParams, EqBand, FilterKind, InsertSpec, Layout,
    MasterSpec, MixSpec, Mixer, SendSpec, TrackSpec,
};
use gpu_dsp::spectral::HumSpec;

/// The 3-band EQ on every track: a high-pass, a presence bell and a high shelf.
fn eq_bands() -> Vec<EqBand> {
    vec![
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
    ]
}

fn session(seconds: usize) -> MixSpec {
    let n = seconds * RATE;
    // Eight distinct stereo sources shared by the 64 tracks (keeps memory bounded).
    // Plus one mono source for the 8 cleaned dialogue tracks (production dialogue is mono).
    let sources: Vec<Vec<Vec<f32>>> = (0..8u32)
        .map(|s| vec![noise(n, 1 + 2 * s), noise(n, 2 + 2 * s)])
        .chain(std::iter::once(vec![noise(n, 99)]))
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
    let eq = eq_bands();
    let cleaned = |t: usize| t.is_multiple_of(3) && t < 24;
    let tracks = (0..64)
        .map(|t| TrackSpec {
            name: format!("t{t}"),
            channels: if cleaned(t) { 1 } else { 2 },
            clips: vec![ClipSpec {
                source: if cleaned(t) { 8 } else { t % 8 },
                start: 0,
                offset: 0,
                length: n as u64,
                gain_db: -18.0,
                fade_in: 480,
                fade_out: 480,
                ..Default::default()
            }],
            gain_db: -6.0,
            pan: (t as f32 / 63.0) * 2.0 - 1.0,
            azimuth: None,
            lfe_db: None,
            stem: t % 3,
            mute: false,
            solo: false,
            direct: true,
            // Cleanup on the first 8 dialogue tracks (stem 0), before EQ and compression.
            inserts: cleaned(t)
                .then(|| InsertSpec::Clean {
                    reduction_db: 18.0,
                    hum: Some(HumSpec::all_harmonics(50.0, RATE as f32)),
                })
                .into_iter()
                .chain([
                    InsertSpec::Eq(eq.clone()),
                    InsertSpec::Compressor(CompressorParams::default()),
                ])
                .collect(),
            // Each stem has its own reverb (DX, MX, FX rooms); every fourth track also feeds a
            // shared hall.
            sends: std::iter::once(SendSpec {
                bus: t % 3,
                level_db: -12.0,
                pre_fader: false,
                mute: false,
            })
            .chain((t % 4 == 0).then_some(SendSpec {
                bus: 3,
                level_db: -18.0,
                pre_fader: false,
                mute: false,
            }))
            .collect(),
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
        // The engine block of `mixstation render` and `play`.
        let mut mixer = Mixer::new(spec.clone(), 2048).unwrap();
        let mut stems = mixer.render(|_| {});
        std::hint::black_box(finish_master(
            &mut stems,
            &spec.master,
            spec.layout,
            spec.sample_rate,
        ));
    });
    // One compressor on 2^22 mono samples (pink-ish noise driving it in and out of
    // reduction), in 2048-sample blocks: its per-sample cost.
    let n = 1usize << 22;
    let x: Vec<f32> = {
        let mut lp = 0.0f32;
        noise(n, 7)
            .iter()
            .map(|v| {
                lp = 0.9 * lp + 0.1 * v;
                lp * 4.0
            })
            .collect()
    };
    let mut comp = gpu_dsp::mix::Compressor::new(
        CompressorParams {
            threshold_db: -24.0,
            ..Default::default()
        },
        RATE as f32,
    );
    let mut eq = gpu_dsp::mix::ParametricEq::new(&eq_bands(), RATE as f32, 1);
    let mut z = x.clone();
    timed(c, "mix/eq3-4M", || {
        z.copy_from_slice(&x);
        for block in z.chunks_mut(2048) {
            eq.process(&mut [block]);
        }
        std::hint::black_box(&z);
    });
    let mut y = x.clone();
    timed(c, "mix/compressor-4M", || {
        y.copy_from_slice(&x);
        for block in y.chunks_mut(2048) {
            comp.process(&mut [block]);
        }
        std::hint::black_box(&y);
    });
}

fn summary() {
    let secs = signal_seconds(60) as f64;
    println!("\n== mix summary (median of runs; this machine, all cores) ==");
    if let Some(t) = median("mix/64-tracks") {
        println!(
            "  64 tracks (EQ + compressor each, cleanup on 8), 4 reverb buses (3 s IRs), 3 stems, {secs:.0} s: {t:.2} s = {:.1}x real time",
            secs / t
        );
    }
    if let Some(t) = median("mix/eq3-4M") {
        println!(
            "  3-band EQ, one mono channel: {:.2} ns per sample",
            t / (1u64 << 22) as f64 * 1e9
        );
    }
    if let Some(t) = median("mix/compressor-4M") {
        println!(
            "  compressor, one mono channel: {:.2} ns per sample",
            t / (1u64 << 22) as f64 * 1e9
        );
    }
}

criterion_group!(benches, render);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
