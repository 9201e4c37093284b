//! `mixstation masking` through the real binary, on synthetic sessions whose answer is
//! known: a track of tones between 1 and 2 kHz, louder than the dialogue there, ranks first
//! and covers exactly those bands; a 60 Hz rumble is not reported where the dialogue has no
//! energy; a track 40 dB down covers nothing. The per-band figures equal the masking library
//! run on the signals mixed by hand (pan law and gains written out), so the render, the
//! per-track taps and their alignment with the dialogue stem are checked together.

mod common;

use common::{bin, stderr, write_f32, Files};
use gpu_dsp::analysis::masking;

const RATE: u32 = 48_000;
const SECONDS: usize = 6;

/// Tones every `step` Hz from `low` to `high`, each of amplitude `a`, phases spread.
fn tones(low: f64, high: f64, step: f64, a: f32) -> Vec<f32> {
    let n = SECONDS * RATE as usize;
    let mut x = vec![0.0f32; n];
    let mut f = low;
    let mut k = 0u32;
    while f <= high {
        let phase = f64::from(k) * 2.399;
        for (i, v) in x.iter_mut().enumerate() {
            let t = i as f64 / f64::from(RATE);
            *v += a * (std::f64::consts::TAU * f * t + phase).sin() as f32;
        }
        f += step;
        k += 1;
    }
    x
}

/// The session: dialogue tones 250 Hz–4 kHz in DX; tones 1–2 kHz louder than it, a 60 Hz
/// rumble, and a broadband track 40 dB down in FX and MX; everything centred at 0 dB.
fn material() -> (Files, Vec<f32>, Vec<f32>) {
    let f = Files::new();
    let dx = tones(250.0, 4000.0, 53.0, 0.02);
    let hiss = tones(1000.0, 2000.0, 37.0, 0.04);
    write_f32(&f.path("dx.wav"), RATE, std::slice::from_ref(&dx));
    write_f32(&f.path("hiss.wav"), RATE, std::slice::from_ref(&hiss));
    write_f32(&f.path("rumble.wav"), RATE, &[tones(60.0, 60.0, 1.0, 0.5)]);
    write_f32(
        &f.path("bed.wav"),
        RATE,
        &[tones(100.0, 8000.0, 41.0, 0.0002)],
    );
    std::fs::write(
        f.path("s.toml"),
        "[session]\nsample_rate = 48000\n\n\
         [[track]]\nname = \"dx\"\nfile = \"dx.wav\"\nstem = \"DX\"\n\n\
         [[track]]\nname = \"hiss\"\nfile = \"hiss.wav\"\nstem = \"FX\"\n\n\
         [[track]]\nname = \"rumble\"\nfile = \"rumble.wav\"\nstem = \"FX\"\n\n\
         [[track]]\nname = \"bed\"\nfile = \"bed.wav\"\nstem = \"MX\"\n",
    )
    .unwrap();
    (f, dx, hiss)
}

fn run(f: &Files, args: &[&str]) -> std::process::Output {
    bin()
        .current_dir(f.root())
        .args(args)
        .output()
        .expect("run mixstation")
}

#[test]
fn the_track_louder_than_the_dialogue_in_its_bands_ranks_first_and_nothing_else_does() {
    let (f, dx, hiss) = material();
    let o = run(&f, &["masking", "s.toml", "--json", "--png", "m.png"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let tracks = report["tracks"].as_array().unwrap();
    let names: Vec<&str> = tracks
        .iter()
        .map(|t| t["track"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "hiss", "{names:?}");
    assert_eq!(names.len(), 3, "the dialogue track is not its own masker");
    let track = |name: &str| tracks.iter().find(|t| t["track"] == name).unwrap();
    let band = |t: &serde_json::Value, hz: f64| -> serde_json::Value {
        t["bands"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| (b["centre_hz"].as_f64().unwrap() - hz).abs() < 1.0)
            .unwrap()
            .clone()
    };
    let hiss_t = track("hiss");
    for hz in [1000.0, 1250.0, 1600.0] {
        let covered = band(hiss_t, hz)["covered_fraction"].as_f64().unwrap();
        assert!(covered > 0.95, "{hz} Hz: {covered}");
    }
    for hz in [250.0, 400.0, 3150.0] {
        let covered = band(hiss_t, hz)["covered_fraction"].as_f64().unwrap();
        assert!(covered < 0.05, "{hz} Hz: {covered}");
    }
    // The rumble: the dialogue is never active at 63 Hz, so nothing is reported there.
    let rumble = track("rumble");
    assert!(band(rumble, 63.0)["covered_fraction"].is_null());
    assert!(rumble["covered_fraction"].as_f64().unwrap() < 0.05);
    assert!(track("bed")["covered_fraction"].as_f64().unwrap() < 0.01);
    // Against the library on the signals mixed by hand: a mono track centred is
    // cos(π/4)·x in both channels.
    let g = std::f32::consts::FRAC_PI_4.cos();
    let centred = |x: &[f32]| -> Vec<Vec<f32>> {
        let y: Vec<f32> = x.iter().map(|v| g * v).collect();
        vec![y.clone(), y]
    };
    let (d, h) = (centred(&dx), centred(&hiss));
    let (dp, hp): (Vec<&[f32]>, Vec<&[f32]>) = (
        d.iter().map(Vec::as_slice).collect(),
        h.iter().map(Vec::as_slice).collect(),
    );
    let want = masking(&dp, &hp, RATE);
    for w in &want {
        let got = band(hiss_t, w.band.nominal_hz);
        let covered = got["covered_fraction"].as_f64();
        match w.covered_fraction {
            None => assert!(covered.is_none(), "{} Hz", w.band.nominal_hz),
            Some(c) => {
                let covered = covered.unwrap();
                assert!(
                    (covered - c).abs() < 0.02,
                    "{} Hz: {covered} vs {c}",
                    w.band.nominal_hz
                );
                let (m, wm) = (
                    got["mean_margin_db"].as_f64().unwrap(),
                    w.mean_margin_db.unwrap(),
                );
                assert!(
                    (m - wm).abs() < 0.1,
                    "{} Hz: margin {m} vs {wm}",
                    w.band.nominal_hz
                );
            }
        }
    }
    // The matrix picture.
    let png = std::fs::read(f.path("m.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // The table names the worst bands of the first track.
    let o = run(&f, &["masking", "s.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    let first = table.lines().nth(2).unwrap();
    assert!(
        first.starts_with("1") && first.contains("hiss") && first.contains("Hz"),
        "{table}"
    );
}

#[test]
fn a_session_without_the_dialogue_stem_or_other_tracks_is_one_clear_error() {
    let (f, _, _) = material();
    let o = run(&f, &["masking", "s.toml", "--dialogue", "VO"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no stem 'VO' (stems: DX, FX, MX)"),
        "{}",
        stderr(&o)
    );
    std::fs::write(
        f.path("only.toml"),
        "[session]\nsample_rate = 48000\n[[track]]\nname = \"dx\"\nfile = \"dx.wav\"\nstem = \"DX\"\n",
    )
    .unwrap();
    let o = run(&f, &["masking", "only.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("every track is in the dialogue stem"),
        "{}",
        stderr(&o)
    );
    // The picture is never written over the session or its media.
    let o = run(&f, &["masking", "s.toml", "--png", "dx.wav"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(std::fs::metadata(f.path("dx.wav")).unwrap().len() > 1000);
}

/// `--engine gpu` (lavapipe in CI) gives the CPU engine's report: the same ranking, every
/// band's covered fraction within 0.01 and mean margin within 0.05 dB (above the f32
/// transforms' rounding floor at −80 dB).
#[test]
fn the_gpu_engine_reports_what_the_cpu_engine_reports() {
    let (f, _, _) = material();
    let report = |engine: &str| -> serde_json::Value {
        let o = run(&f, &["masking", "s.toml", "--json", "--engine", engine]);
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let (cpu, gpu) = (report("cpu"), report("gpu"));
    let (ct, gt) = (
        cpu["tracks"].as_array().unwrap(),
        gpu["tracks"].as_array().unwrap(),
    );
    let names = |t: &[serde_json::Value]| -> Vec<String> {
        t.iter().map(|x| x["track"].to_string()).collect()
    };
    assert_eq!(names(ct), names(gt));
    let mut compared = 0;
    for (c, g) in ct.iter().zip(gt) {
        let share = |t: &serde_json::Value| t["covered_fraction"].as_f64().unwrap();
        assert!((share(c) - share(g)).abs() <= 0.01, "{}", c["track"]);
        for (cb, gb) in c["bands"]
            .as_array()
            .unwrap()
            .iter()
            .zip(g["bands"].as_array().unwrap())
        {
            let what = format!("{} at {} Hz", c["track"], cb["centre_hz"]);
            match (
                cb["covered_fraction"].as_f64(),
                gb["covered_fraction"].as_f64(),
            ) {
                (Some(a), Some(b)) => {
                    assert!((a - b).abs() <= 0.01, "{what}: {a} vs {b}");
                    let m = |b: &serde_json::Value| b["mean_margin_db"].as_f64().unwrap();
                    let (x, y) = (m(cb), m(gb));
                    if x > -80.0 || y > -80.0 {
                        assert!((x - y).abs() <= 0.05, "{what}: margin {x} vs {y}");
                    }
                    compared += 1;
                }
                (None, None) => {}
                other => panic!("{what}: {other:?}"),
            }
        }
    }
    assert!(compared > 30, "{compared}");
}
