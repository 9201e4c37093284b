use gpu_dsp::mix::*;
const RATE: usize = 48_000;
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
        sources,
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
fn main() {
    let spec = session(20);
    let t = std::time::Instant::now();
    let mut m = Mixer::new(spec.clone(), 1024).unwrap();
    let mut stems = m.render(|_| {});
    println!("render {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let r = finish_master(&mut stems, &spec.master, spec.layout, spec.sample_rate);
    println!("master {:?} {:?}", t.elapsed(), r.1.loudness.integrated);
}
