//! The real binary (`CARGO_BIN_EXE_mixstation`, so these live in the app package): command contracts, convolution end to end, and every kind of bad input.

mod common;

use common::{bin, noise, read, stderr, write_f32, Files};
use std::path::Path;
use std::process::Output;

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run mixstation")
}

/// The error contract: exit status 1, an `error:` line naming `name`, no panic or backtrace.
fn assert_clean_error(o: &Output, name: &str, problem: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "exit status; stderr: {err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line in: {err}"));
    assert!(
        line.contains(name),
        "error line does not name {name}: {line}"
    );
    assert!(
        line.contains(problem),
        "error line does not say '{problem}': {line}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "panic: {err}"
    );
}

#[test]
fn every_command_has_help() {
    for cmd in [
        "render",
        "play",
        "analyze",
        "spectrogram",
        "convolve",
        "clean",
        "demo",
        "gpu",
        "open",
    ] {
        let o = run(&[cmd, "--help"]);
        assert!(o.status.success(), "{cmd} --help");
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("Usage"),
            "{cmd} --help"
        );
    }
}

#[test]
fn open_without_a_display_is_one_clear_error() {
    let f = Files::new();
    write_f32(&f.path("a.wav"), 48_000, &[noise(100, 1)]);
    let o = bin()
        .args(["open", &f.s("s.toml")])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert_clean_error(&o, "window", "could not run");
}

#[test]
fn gpu_command_reports_the_adapter_and_passes_its_self_test() {
    let o = run(&["gpu"]);
    if !o.status.success() && std::env::var_os("CI").is_none() {
        eprintln!("SKIPPED (no adapter, not in CI): {}", stderr(&o));
        return;
    }
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    for key in [
        "adapter:",
        "backend:",
        "device type:",
        "max storage buffer binding",
        "self-test:",
    ] {
        assert!(out.contains(key), "missing {key} in {out}");
    }
}

#[test]
fn convolve_with_a_dirac_returns_the_input_and_keeps_the_tail_length() {
    let f = Files::new();
    let x = vec![noise(5000, 1), noise(5000, 2)];
    write_f32(&f.path("in.wav"), 48_000, &x);
    let mut dirac = vec![0.0f32; 300];
    dirac[0] = 1.0;
    write_f32(&f.path("ir.wav"), 48_000, &[dirac]);
    let o = run(&[
        "convolve",
        &f.s("in.wav"),
        "--ir",
        &f.s("ir.wav"),
        "-o",
        &f.s("out.wav"),
        "--format",
        "f32",
        "--engine",
        "cpu",
        "--wet",
        "0.5",
        "--dry",
        "0.25",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let y = read(&f.path("out.wav"));
    assert_eq!(y.len(), 2);
    assert_eq!(y[0].len(), 5000 + 300 - 1);
    for c in 0..2 {
        for i in 0..5000 {
            assert!((y[c][i] - 0.75 * x[c][i]).abs() < 1e-6, "ch {c} sample {i}");
        }
        assert!(y[c][5000..].iter().all(|v| v.abs() < 1e-6));
    }
}

#[test]
fn mono_input_with_a_stereo_ir_gives_stereo_and_engines_agree() {
    let f = Files::new();
    let x = noise(20_000, 5);
    write_f32(&f.path("in.wav"), 48_000, std::slice::from_ref(&x));
    let h = vec![noise(30_000, 6), noise(30_000, 7)];
    write_f32(&f.path("ir.wav"), 48_000, &h);
    let mut outs = Vec::new();
    for engine in ["cpu", "gpu"] {
        let name = format!("out-{engine}.wav");
        let o = run(&[
            "convolve",
            &f.s("in.wav"),
            "--ir",
            &f.s("ir.wav"),
            "-o",
            &f.s(&name),
            "--format",
            "f32",
            "--engine",
            engine,
        ]);
        if engine == "gpu" && !o.status.success() && std::env::var_os("CI").is_none() {
            eprintln!("SKIPPED GPU half (no adapter, not in CI)");
            return;
        }
        // The status too: a process killed by a signal (a driver crash) says nothing.
        assert!(
            o.status.success(),
            "{engine}: {} ({})",
            stderr(&o),
            o.status
        );
        outs.push(read(&f.path(&name)));
    }
    for (c, hc) in h.iter().enumerate() {
        let want = gpu_dsp::conv::reference::fft_whole(&x, hc);
        let peak = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        for out in &outs {
            assert_eq!(out.len(), 2);
            assert_eq!(out[c].len(), want.len());
            let err = out[c]
                .iter()
                .zip(&want)
                .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(err < 1e-5 * peak, "channel {c}: error {err} vs peak {peak}");
        }
    }
}

#[test]
fn true_stereo_input_of_whole_blocks_matches_the_reference() {
    // 2048 frames: the input ends exactly on a block boundary of the CPU engine (1024).
    let f = Files::new();
    let x = vec![noise(2048, 11), noise(2048, 12)];
    write_f32(&f.path("in.wav"), 48_000, &x);
    let h: Vec<Vec<f32>> = (0..4).map(|k| noise(2000, 13 + k)).collect();
    write_f32(&f.path("ir.wav"), 48_000, &h);
    let o = run(&[
        "convolve",
        &f.s("in.wav"),
        "--ir",
        &f.s("ir.wav"),
        "-o",
        &f.s("out.wav"),
        "--format",
        "f32",
        "--engine",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let y = read(&f.path("out.wav"));
    // L = xL∗LL + xR∗RL, R = xL∗LR + xR∗RR.
    for (c, (a, b)) in [(0, (0, 2)), (1, (1, 3))] {
        let want: Vec<f32> = gpu_dsp::conv::reference::fft_whole(&x[0], &h[a])
            .iter()
            .zip(gpu_dsp::conv::reference::fft_whole(&x[1], &h[b]))
            .map(|(p, q)| p + q)
            .collect();
        let peak = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert_eq!(y[c].len(), 2048 + 2000 - 1);
        let err = y[c]
            .iter()
            .zip(&want)
            .fold(0.0f32, |m, (p, q)| m.max((p - q).abs()));
        assert!(err < 1e-5 * peak, "channel {c}: error {err} vs peak {peak}");
    }
}

#[test]
fn the_input_file_is_never_modified() {
    let f = Files::new();
    write_f32(&f.path("in.wav"), 48_000, &[noise(4000, 9)]);
    write_f32(&f.path("ir.wav"), 48_000, &[noise(100, 10)]);
    let before = std::fs::read(f.path("in.wav")).unwrap();
    let o = run(&[
        "convolve",
        &f.s("in.wav"),
        "--ir",
        &f.s("ir.wav"),
        "-o",
        &f.s("in.wav"),
    ]);
    assert_clean_error(&o, "in.wav", "overwrite the input");
    let o = run(&[
        "convolve",
        &f.s("in.wav"),
        "--ir",
        &f.s("ir.wav"),
        "-o",
        &f.s("out.wav"),
    ]);
    assert!(o.status.success());
    assert_eq!(before, std::fs::read(f.path("in.wav")).unwrap());
}

#[test]
fn bad_input_files_get_one_clear_error_and_nothing_is_written() {
    let f = Files::new();
    write_f32(&f.path("ir.wav"), 48_000, &[noise(100, 3)]);
    std::fs::write(f.path("empty.wav"), b"").unwrap();
    std::fs::write(
        f.path("text.wav"),
        b"this is not audio at all, just some text in a file",
    )
    .unwrap();
    std::fs::write(f.path("notes.xyz"), vec![0x42u8; 4096]).unwrap();
    write_f32(&f.path("good.wav"), 48_000, &[noise(10_000, 4)]);
    let good = std::fs::read(f.path("good.wav")).unwrap();
    std::fs::write(f.path("truncated.wav"), &good[..good.len() / 2]).unwrap();
    // A valid header that declares zero frames.
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    hound::WavWriter::create(f.path("zero.wav"), spec)
        .unwrap()
        .finalize()
        .unwrap();
    let ir = f.s("ir.wav");
    let out = f.s("out.wav");
    let cases: [(&str, &str); 6] = [
        ("missing.wav", "not found"),
        ("empty.wav", "empty"),
        ("text.wav", "not a supported audio file"),
        ("notes.xyz", "not a supported audio file"),
        ("truncated.wav", "truncated"),
        ("zero.wav", "no audio frames"),
    ];
    for (name, problem) in cases {
        let o = run(&["convolve", &f.s(name), "--ir", &ir, "-o", &out]);
        assert_clean_error(&o, name, problem);
        assert!(!f.path("out.wav").exists(), "{name}: an output was written");
    }
}

#[test]
fn bad_output_locations_are_refused_before_any_work() {
    let f = Files::new();
    write_f32(&f.path("in.wav"), 48_000, &[noise(1000, 1)]);
    write_f32(&f.path("ir.wav"), 48_000, &[noise(10, 2)]);
    let missing = f.s("no/such/folder/out.wav");
    let o = run(&[
        "convolve",
        &f.s("in.wav"),
        "--ir",
        &f.s("ir.wav"),
        "-o",
        &missing,
    ]);
    assert_clean_error(&o, "out.wav", "does not exist");
    // /proc refuses new files even for root.
    let o = run(&[
        "convolve",
        &f.s("in.wav"),
        "--ir",
        &f.s("ir.wav"),
        "-o",
        "/proc/mixstation-out.wav",
    ]);
    assert_clean_error(&o, "mixstation-out.wav", "not writable");
    let o = run(&[
        "convolve",
        &f.s("in.wav"),
        "--ir",
        &f.s("ir.wav"),
        "-o",
        &f.s("in.wav/x.wav"),
    ]);
    assert_clean_error(&o, "x.wav", "not a folder");
}

#[test]
fn bad_impulse_responses_are_refused() {
    let f = Files::new();
    write_f32(&f.path("in.wav"), 48_000, &[noise(1000, 1), noise(1000, 2)]);
    write_f32(&f.path("silent.wav"), 48_000, &[vec![0.0; 500]]);
    write_f32(&f.path("long.wav"), 48_000, &[noise(48_000, 3)]);
    write_f32(&f.path("nine.wav"), 48_000, &vec![noise(100, 4); 9]);
    write_f32(&f.path("three.wav"), 48_000, &vec![noise(100, 5); 3]);
    std::fs::write(f.path("junk.wav"), b"RIFF....WAVEjunk").unwrap();
    let input = f.s("in.wav");
    let out = f.s("out.wav");
    for (ir, extra, problem) in [
        ("silent.wav", None, "silent"),
        ("long.wav", Some("0.5"), "over the 0.5 s limit"),
        ("nine.wav", None, "at most 8"),
        ("three.wav", None, "cannot process 2-channel input"),
        ("junk.wav", None, "not a supported audio file"),
        ("absent.wav", None, "not found"),
    ] {
        let ir_path = f.s(ir);
        let mut args = vec![
            "convolve",
            input.as_str(),
            "--ir",
            ir_path.as_str(),
            "-o",
            out.as_str(),
        ];
        if let Some(limit) = extra {
            args.extend(["--max-ir-seconds", limit]);
        }
        let o = run(&args);
        assert_clean_error(&o, ir, problem);
        assert!(!f.path("out.wav").exists(), "{ir}: an output was written");
    }
}

#[test]
fn ir_at_another_rate_is_resampled_to_the_input_rate() {
    let f = Files::new();
    write_f32(&f.path("in.wav"), 48_000, &[noise(2000, 1)]);
    write_f32(&f.path("ir.wav"), 24_000, &[noise(1000, 2)]);
    let o = run(&[
        "convolve",
        &f.s("in.wav"),
        "--ir",
        &f.s("ir.wav"),
        "-o",
        &f.s("out.wav"),
        "--engine",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let y = read(&f.path("out.wav"));
    assert_eq!(
        y[0].len(),
        2000 + 2000 - 1,
        "IR of 1000 samples at 24 kHz is 2000 at 48 kHz"
    );
}

#[test]
fn demo_generates_a_session_and_renders_it_with_stems() {
    let f = Files::new();
    let dir = f.s("demo");
    let o = run(&[
        "demo",
        "--out",
        &dir,
        "--seconds",
        "3",
        "--engine",
        "cpu",
        "--format",
        "f32",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = f.path("demo");
    for name in [
        "demo.toml",
        "demo-mix.wav",
        "demo-mix.png",
        "audio/dialogue.wav",
        "audio/music.wav",
        "irs/hall.wav",
        "stems/DX.wav",
        "stems/MX.wav",
        "stems/FX.wav",
    ] {
        assert!(d.join(name).exists(), "{name}");
    }
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("integrated") && text.contains("-23.0 LUFS"),
        "{text}"
    );
    let mix = read(&d.join("demo-mix.wav"));
    assert_eq!(mix.len(), 2);
    let peak = mix.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(peak > 0.01 && peak < 0.9, "demo mix peak {peak}");
}

fn sine(rate: u32, seconds: f64, dbfs: f64, freq: f64) -> Vec<f32> {
    let amp = 10f64.powf(dbfs / 20.0);
    (0..(seconds * f64::from(rate)) as usize)
        .map(|i| (amp * (std::f64::consts::TAU * freq * i as f64 / f64::from(rate)).sin()) as f32)
        .collect()
}

fn analyze_json(args: &[&str]) -> serde_json::Value {
    let o = run(args);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("analyze --json prints one JSON object")
}

#[test]
fn analyze_json_has_every_field_and_judges_targets() {
    let f = Files::new();
    let x = sine(48_000, 10.0, -23.0, 1000.0);
    write_f32(&f.path("tone.wav"), 48_000, &[x.clone(), x]);
    let v = analyze_json(&["analyze", &f.s("tone.wav"), "--json", "--target", "ebu"]);
    for key in [
        "sample_rate",
        "channels",
        "duration_s",
        "integrated_lufs",
        "loudness_range_lu",
        "true_peak_dbtp",
        "sample_peak_dbfs",
        "momentary_max_lufs",
        "short_term_max_lufs",
        "correlation",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(v["sample_rate"], 48_000);
    assert_eq!(v["channels"], 2);
    assert!((v["duration_s"].as_f64().unwrap() - 10.0).abs() < 1e-9);
    assert!((v["integrated_lufs"].as_f64().unwrap() + 23.0).abs() < 0.1);
    assert!((v["correlation"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    assert!((v["true_peak_dbtp"].as_f64().unwrap() + 23.0).abs() < 0.1);
    assert_eq!(v["target"]["meets"], true);
    let v = analyze_json(&[
        "analyze",
        &f.s("tone.wav"),
        "--json",
        "--target",
        "streaming",
    ]);
    assert_eq!(v["target"]["meets"], false);
    assert!((v["target"]["loudness_offset_lu"].as_f64().unwrap() + 9.0).abs() < 0.1);
    let o = run(&["analyze", &f.s("tone.wav"), "--target", "atsc"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("integrated") && text.contains("MEETS ATSC A/85"),
        "{text}"
    );
}

#[test]
fn analyze_silence_short_and_bad_files() {
    let f = Files::new();
    write_f32(
        &f.path("silence.wav"),
        48_000,
        &[vec![0.0; 48_000], vec![0.0; 48_000]],
    );
    let v = analyze_json(&["analyze", &f.s("silence.wav"), "--json"]);
    for key in [
        "integrated_lufs",
        "loudness_range_lu",
        "true_peak_dbtp",
        "sample_peak_dbfs",
        "correlation",
    ] {
        assert!(v[key].is_null(), "{key} should be null for silence: {v}");
    }
    write_f32(&f.path("one.wav"), 44_100, &[vec![0.25]]);
    let v = analyze_json(&["analyze", &f.s("one.wav"), "--json"]);
    assert!(v["integrated_lufs"].is_null());
    assert!((v["sample_peak_dbfs"].as_f64().unwrap() + 12.04).abs() < 0.01);
    std::fs::write(f.path("junk.wav"), b"not audio").unwrap();
    assert_clean_error(
        &run(&["analyze", &f.s("junk.wav")]),
        "junk.wav",
        "not a supported audio file",
    );
    write_f32(&f.path("nan.wav"), 48_000, &[vec![0.1, f32::NAN, 0.2]]);
    assert_clean_error(&run(&["analyze", &f.s("nan.wav")]), "nan.wav", "NaN");
    let o = run(&["analyze", &f.s("one.wav"), "--target", "loud"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--target loud"), "{}", stderr(&o));
}

/// FFmpeg's ebur128 filter is an independent implementation; CI installs FFmpeg.
#[test]
fn analyze_agrees_with_ffmpeg_ebur128_on_the_demo_mix() {
    if std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have ffmpeg (make deps installs it)"
        );
        eprintln!("SKIPPED: ffmpeg not installed");
        return;
    }
    let f = Files::new();
    let dir = f.s("demo");
    assert!(run(&[
        "demo",
        "--out",
        &dir,
        "--seconds",
        "8",
        "--engine",
        "cpu",
        "--format",
        "f32"
    ])
    .status
    .success());
    let mix = f.path("demo").join("demo-mix.wav");
    let v = analyze_json(&["analyze", mix.to_str().unwrap(), "--json"]);
    let out = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-i"])
        .arg(&mix)
        .args(["-af", "ebur128=peak=true", "-f", "null", "-"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let summary = &log[log.rfind("Summary:").expect("ffmpeg summary")..];
    let value = |label: &str| -> f64 {
        let line = summary
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let (i, lra, tp) = (value("I:"), value("LRA:"), value("Peak:"));
    // FFmpeg prints one decimal: agreement within its rounding plus 0.05.
    assert!(
        (v["integrated_lufs"].as_f64().unwrap() - i).abs() <= 0.1,
        "I {} vs {i}",
        v["integrated_lufs"]
    );
    assert!(
        (v["loudness_range_lu"].as_f64().unwrap() - lra).abs() <= 0.6,
        "LRA {} vs {lra}",
        v["loudness_range_lu"]
    );
    assert!(
        (v["true_peak_dbtp"].as_f64().unwrap() - tp).abs() <= 0.2,
        "TP {} vs {tp}",
        v["true_peak_dbtp"]
    );
}

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn spectrogram_writes_a_png_and_a_csv_that_agree_across_engines() {
    let f = Files::new();
    let x = sine(48_000, 1.0, -6.0, 3000.0);
    write_f32(&f.path("tone.wav"), 48_000, std::slice::from_ref(&x));
    let mut tables = Vec::new();
    for engine in ["cpu", "gpu"] {
        let png = f.s(&format!("{engine}.png"));
        let csv = f.s(&format!("{engine}.csv"));
        let o = run(&[
            "spectrogram",
            &f.s("tone.wav"),
            "-o",
            &png,
            "--fft",
            "1024",
            "--hop",
            "256",
            "--csv",
            &csv,
            "--engine",
            engine,
            "--width",
            "400",
            "--height",
            "200",
        ]);
        if engine == "gpu" && !o.status.success() && std::env::var_os("CI").is_none() {
            eprintln!("SKIPPED GPU half (no adapter, not in CI)");
            break;
        }
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert!(
            info.width > 400 && info.height > 200,
            "{}x{}",
            info.width,
            info.height
        );
        tables.push(read_csv(Path::new(&csv)));
    }
    let t = &tables[0];
    assert_eq!(t[0][0], "time_s");
    assert_eq!(t[0].len(), 1 + 513);
    assert_eq!(t[0][1], "0");
    assert_eq!(t[0][2], "46.875");
    // (48000 - 1024) / 256 rounded up, plus one.
    assert_eq!(t.len() - 1, 185);
    // The tone sits in bin 64 (3000 Hz) at about -6 dBFS.
    let row = &t[50];
    let values: Vec<f64> = row[1..].iter().map(|v| v.parse().unwrap()).collect();
    let (peak_bin, peak) =
        values
            .iter()
            .enumerate()
            .fold((0, f64::MIN), |m, (i, &v)| if v > m.1 { (i, v) } else { m });
    assert_eq!(peak_bin, 64);
    assert!((peak + 6.0).abs() < 0.05, "peak {peak} dBFS");
    if tables.len() == 2 {
        for (a, b) in tables[0].iter().zip(&tables[1]).skip(1) {
            for (x, y) in a.iter().zip(b).skip(1) {
                let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
                if x > -100.0 {
                    assert!((x - y).abs() <= 0.02, "CPU {x} vs GPU {y} dB");
                }
            }
        }
    }
}

#[test]
fn spectrogram_bad_arguments_and_files() {
    let f = Files::new();
    write_f32(&f.path("a.wav"), 48_000, &[noise(5000, 1)]);
    std::fs::write(f.path("junk.wav"), b"nope").unwrap();
    let out = f.s("o.png");
    let o = run(&["spectrogram", &f.s("a.wav"), "-o", &out, "--fft", "1000"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("power of two"), "{}", stderr(&o));
    assert_clean_error(
        &run(&["spectrogram", &f.s("junk.wav"), "-o", &out]),
        "junk.wav",
        "not a supported audio file",
    );
    assert_clean_error(
        &run(&["spectrogram", &f.s("a.wav"), "-o", &f.s("none/o.png")]),
        "o.png",
        "does not exist",
    );
    assert!(!f.path("o.png").exists());
    // A file shorter than one window still gives one frame.
    write_f32(&f.path("short.wav"), 48_000, &[noise(10, 2)]);
    let o = run(&[
        "spectrogram",
        &f.s("short.wav"),
        "-o",
        &out,
        "--csv",
        &f.s("s.csv"),
        "--engine",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_csv(&f.path("s.csv")).len(), 2);
}

#[test]
fn analyze_reports_spectrum_phase_surround_and_masking() {
    let f = Files::new();
    let tone = sine(48_000, 3.0, -12.0, 1000.0);
    let music = sine(48_000, 3.0, -6.0, 1050.0);
    let silent = vec![0.0f32; tone.len()];
    write_f32(&f.path("dx.wav"), 48_000, std::slice::from_ref(&tone));
    write_f32(&f.path("mx.wav"), 48_000, std::slice::from_ref(&music));
    write_f32(&f.path("st.wav"), 48_000, &[tone.clone(), silent.clone()]);
    let six: Vec<Vec<f32>> = (0..6)
        .map(|c| if c == 4 { tone.clone() } else { silent.clone() })
        .collect();
    write_f32(&f.path("surround.wav"), 48_000, &six);
    let v = analyze_json(&[
        "analyze",
        &f.s("dx.wav"),
        "--json",
        "--against",
        &f.s("mx.wav"),
    ]);
    let bands = v["third_octave_db"].as_array().unwrap();
    assert_eq!(bands.len(), 31);
    let band = |hz: f64| {
        bands.iter().find(|b| b["hz"].as_f64() == Some(hz)).unwrap()["value"]
            .as_f64()
            .unwrap()
    };
    assert!(
        (band(1000.0) + 12.0).abs() < 0.2,
        "1 kHz band {}",
        band(1000.0)
    );
    assert!(v.get("correlation").is_none(), "mono has no correlation");
    let masking = v["masking"].as_array().unwrap();
    let k = masking
        .iter()
        .find(|b| b["hz"].as_f64() == Some(1000.0))
        .unwrap();
    assert_eq!(k["covered_fraction"].as_f64(), Some(1.0));
    assert!((k["mean_margin_db"].as_f64().unwrap() - 6.0).abs() < 0.3);
    let v = analyze_json(&["analyze", &f.s("st.wav"), "--json"]);
    assert!((v["stereo_width"].as_f64().unwrap() - 0.5).abs() < 1e-6);
    assert_eq!(v["band_correlation"].as_array().unwrap().len(), 10);
    let v = analyze_json(&["analyze", &f.s("surround.wav"), "--json"]);
    assert!((v["surround"]["direction_deg"].as_f64().unwrap() - 110.0).abs() < 1e-6);
    assert!((v["surround"]["magnitude"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    let o = run(&["analyze", &f.s("st.wav"), "--bands"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("third-octave spectrum") && text.contains("correlation per octave"),
        "{text}"
    );
}

/// Writes a session and its sources; returns the session path.
fn session(f: &Files, toml: &str) -> String {
    std::fs::create_dir_all(f.path("audio")).unwrap();
    write_f32(&f.path("audio/a.wav"), 48_000, &[noise(4800, 1)]);
    write_f32(
        &f.path("audio/b.wav"),
        48_000,
        &[noise(2400, 2), noise(2400, 3)],
    );
    write_f32(&f.path("audio/slow.wav"), 24_000, &[noise(1200, 4)]);
    let mut ir = vec![0.0f32; 100];
    ir[0] = 1.0;
    write_f32(&f.path("ir.wav"), 48_000, &[ir]);
    std::fs::write(f.path("s.toml"), toml).unwrap();
    f.s("s.toml")
}

#[test]
fn render_is_the_exact_linear_sum_and_writes_stems() {
    let f = Files::new();
    let s = session(
        &f,
        r#"
[session]
sample_rate = 48000
[[track]]
name = "a"
file = "audio/a.wav"
gain_db = -6.0
pan = -1.0
stem = "DX"
[[track]]
name = "b"
stem = "MX"
[[track.clip]]
file = "audio/b.wav"
start = 0.01
"#,
    );
    std::fs::create_dir(f.path("stems")).unwrap();
    let o = run(&[
        "render",
        &s,
        "-o",
        &f.s("mix.wav"),
        "--format",
        "f32",
        "--stems",
        &f.s("stems"),
        "--engine",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mix = read(&f.path("mix.wav"));
    let a = noise(4800, 1);
    let (b0, b1) = (noise(2400, 2), noise(2400, 3));
    assert_eq!(mix[0].len(), 4800);
    let g = 10f32.powf(-6.0 / 20.0);
    for i in 0..4800 {
        let (mut l, mut r) = (g * a[i], 0.0);
        if (480..2880).contains(&i) {
            l += b0[i - 480];
            r += b1[i - 480];
        }
        assert!(
            (mix[0][i] - l).abs() < 1e-6 && (mix[1][i] - r).abs() < 1e-6,
            "sample {i}"
        );
    }
    let dx = read(&f.path("stems/DX.wav"));
    let mx = read(&f.path("stems/MX.wav"));
    for i in 0..4800 {
        assert!(
            (dx[0][i] + mx[0][i] - mix[0][i]).abs() < 1e-6,
            "stems add up to the master"
        );
    }
}

#[test]
fn bad_sessions_name_the_place_and_write_nothing() {
    let cases: [(&str, &str); 17] = [
        ("[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\nfile = \"audio/a.wav\"\ngain_db = nan\n", "track[1].gain_db: NaN is not a finite number"),
        ("[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\nfile = \"audio/a.wav\"\nstart = 1e15\n", "must be a time from 0 to 86400 seconds"),
        ("[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\nfile = \"audio/a.wav\"\ngian_db = 3\n", "s.toml:6:1: unknown field `gian_db`"),
        ("[session\nsample_rate = 48000\n", "s.toml:1:"),
        ("[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\nfile = \"audio/missing.wav\"\n", "[[track]] #1 'a': "),
        ("[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\nfile = \"audio/a.wav\"\n[[track.insert]]\ntype = \"flanger\"\n", "unknown variant `flanger`"),
        ("[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\nfile = \"audio/a.wav\"\n[[track.send]]\nbus = \"verb\"\n", "send #1: bus 'verb' does not exist"),
        ("[session]\nsample_rate = 48000\n[[bus]]\nname = \"x\"\n[[bus.send]]\nbus = \"y\"\n[[bus]]\nname = \"y\"\n[[bus.send]]\nbus = \"x\"\n[[track]]\nname = \"a\"\nfile = \"audio/a.wav\"\n", "cycle through"),
        ("[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\nfile = \"audio/a.wav\"\n[[track.automation]]\nparam = \"gain_db\"\npoints = [[1.0, 0.0], [0.5, -6.0]]\n", "automation #1 (gain_db): point 2 is not later"),
        ("[session]\nsample_rate = 48000\n[[bus]]\nname = \"r\"\n[[bus.insert]]\ntype = \"reverb\"\nir = \"nope.wav\"\n[[track]]\nname = \"a\"\nfile = \"audio/a.wav\"\n", "[[bus]] #1 'r', insert #1"),
        ("[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\nfile = \"audio/a.wav\"\n[[track.insert]]\ntype = \"duck\"\nsidechain = \"MX\"\n", "goes on a bus"),
        ("[session]\nsample_rate = 48000\n[[bus]]\nname = \"b\"\n[[bus.insert]]\ntype = \"duck\"\nsidechain = \"DX\"\n[[track]]\nname = \"a\"\nfile = \"audio/a.wav\"\n", "sidechain stem 'DX' does not exist"),
        ("[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\nfile = \"audio/a.wav\"\n[[track.insert]]\ntype = \"clean\"\nhum = \"55\"\n", "expected auto, 50, 60 or off"),
        ("[session]\nsample_rate = 48000\nlayout = \"quad\"\n", "layout \"quad\""),
        ("[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\nfile = \"audio/a.wav\"\n[[track.automation]]\nparam = \"insert.1.ratio\"\npoints = [[0.0, 2.0]]\n", "no insert #1"),
        ("[session]\nsample_rate = 48000\n[[bus]]\nname = \"r\"\n[[bus.automation]]\nparam = \"pan\"\npoints = [[0.0, 0.0]]\n[[track]]\nname = \"a\"\nfile = \"audio/a.wav\"\n", "[[bus]] #1 'r', automation #1 (pan): a bus has no pan"),
        ("[session]\nsample_rate = 48000\n[[bus]]\nname = \"r\"\n[[bus.automation]]\nparam = \"send.x\"\npoints = [[0.0, 0.0]]\n[[track]]\nname = \"a\"\nfile = \"audio/a.wav\"\n", "there is no send to bus 'x'"),
    ];
    for (toml, problem) in cases {
        let f = Files::new();
        let s = session(&f, toml);
        let o = run(&["render", &s, "-o", &f.s("mix.wav")]);
        assert_clean_error(&o, "s.toml", problem);
        assert!(
            !f.path("mix.wav").exists(),
            "{problem}: an output was written"
        );
    }
}

#[test]
fn render_resamples_sources_and_refuses_to_overwrite_inputs() {
    let f = Files::new();
    let s = session(
        &f,
        "[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\nfile = \"audio/slow.wav\"\n",
    );
    let o = run(&["render", &s, "-o", &f.s("mix.wav"), "--engine", "cpu"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        read(&f.path("mix.wav"))[0].len(),
        2400,
        "1200 samples at 24 kHz are 2400 at 48 kHz"
    );
    let o = run(&["render", &s, "-o", &f.s("audio/slow.wav")]);
    assert_clean_error(&o, "slow.wav", "overwrite the input");
    let o = run(&["render", &f.s("none.toml"), "-o", &f.s("mix2.wav")]);
    assert_clean_error(&o, "none.toml", "session file not found");
}

#[test]
fn play_runs_a_session_through_the_default_device() {
    let f = Files::new();
    let s = session(
        &f,
        "[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\nfile = \"audio/a.wav\"\n",
    );
    let o = run(&["play", &s, "--from", "5"]);
    assert_clean_error(&o, "--from", "past the end");
    let o = run(&["play", &s]);
    if !o.status.success() && std::env::var_os("CI").is_none() {
        eprintln!("SKIPPED (no audio device, not in CI): {}", stderr(&o));
        return;
    }
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("underruns") && text.contains("engine load"),
        "{text}"
    );
}

#[test]
fn streamed_sources_seek_and_match_the_file() {
    let f = Files::new();
    std::fs::create_dir_all(f.path("audio")).unwrap();
    // 3 s of noise as 24-bit FLAC-free PCM WAV: streamed (same rate as the session).
    let x = noise(144_000, 11);
    write_f32(&f.path("audio/long.wav"), 48_000, std::slice::from_ref(&x));
    std::fs::write(
        f.path("s.toml"),
        r#"
[session]
sample_rate = 48000
[[track]]
name = "a"
pan = -1.0
[[track.clip]]
file = "audio/long.wav"
start = 0.0
offset = 2.0
length = 0.5
[[track.clip]]
file = "audio/long.wav"
start = 1.0
offset = 0.25
length = 0.5
"#,
    )
    .unwrap();
    let o = run(&[
        "render",
        &f.s("s.toml"),
        "-o",
        &f.s("mix.wav"),
        "--format",
        "f32",
        "--engine",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mix = read(&f.path("mix.wav"));
    assert_eq!(mix[0].len(), 72_000);
    for i in 0..24_000 {
        assert_eq!(
            mix[0][i],
            x[96_000 + i],
            "first clip, frame {i} (a seek 2 s in)"
        );
        assert_eq!(mix[0][48_000 + i], x[12_000 + i], "second clip, frame {i}");
    }
    assert!(mix[0][24_000..48_000].iter().all(|&v| v == 0.0));
}

#[test]
fn a_stem_may_not_overwrite_the_master() {
    let f = Files::new();
    let s = session(&f, "[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\nfile = \"audio/a.wav\"\nstem = \"mix\"\n");
    let o = run(&[
        "render",
        &s,
        "-o",
        &f.s("mix.wav"),
        "--stems",
        f.path("").to_str().unwrap(),
    ]);
    assert_clean_error(&o, "mix.wav", "two outputs would share this file");
    assert!(!f.path("mix.wav").exists());
}

/// A tone switched on and off (speech-like) + 60 Hz hum with harmonics + hiss, with a
/// noise-only first half second.
fn humming(rate: u32, seconds: f32, seed: u32) -> Vec<f32> {
    let hiss = noise((rate as f32 * seconds) as usize, seed);
    hiss.iter()
        .enumerate()
        .map(|(i, h)| {
            let t = i as f32 / rate as f32;
            let tone = if t > 0.5 && (t * 2.0).fract() < 0.5 {
                0.2 * (std::f32::consts::TAU * 440.0 * t).sin()
            } else {
                0.0
            };
            let hum: f32 = (1..=5)
                .map(|k| 0.05 / k as f32 * (std::f32::consts::TAU * 60.02 * k as f32 * t).sin())
                .sum();
            tone + hum + 0.02 * h
        })
        .collect()
}

fn tone_rms(x: &[f32], rate: f32, hz: f32) -> f32 {
    let (mut c, mut s) = (0.0f64, 0.0f64);
    for (i, &v) in x.iter().enumerate() {
        let a = f64::from(std::f32::consts::TAU * hz) * i as f64 / f64::from(rate);
        c += f64::from(v) * a.cos();
        s += f64::from(v) * a.sin();
    }
    ((c * c + s * s).sqrt() * 2.0 / x.len() as f64 / 2f64.sqrt()) as f32
}

#[test]
fn clean_removes_hum_and_noise_keeps_length_rate_and_channels() {
    let f = Files::new();
    let rate = 44_100;
    let input = vec![humming(rate, 3.0, 3), humming(rate, 3.0, 4)];
    write_f32(&f.path("in.wav"), rate, &input);
    let o = run(&[
        "clean",
        &f.s("in.wav"),
        "-o",
        &f.s("cpu.wav"),
        "--engine",
        "cpu",
        "--format",
        "f32",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("hum 60.0"), "{stdout}");
    let out = read(&f.path("cpu.wav"));
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].len(), input[0].len());
    assert_eq!(
        mixstation::io::decode_file(&f.path("cpu.wav"))
            .unwrap()
            .sample_rate,
        rate
    );
    let tail = |x: &[f32]| x[rate as usize..].to_vec();
    for k in 1..=5 {
        let hz = 60.02 * k as f32;
        let (before, after) = (
            tone_rms(&tail(&input[0]), rate as f32, hz),
            tone_rms(&tail(&out[0]), rate as f32, hz),
        );
        let db = 20.0 * (after / before).log10();
        assert!(db < -25.0, "harmonic {k} only {db:.1} dB down");
    }
    // The wanted tone keeps its level and its timing (latency compensated).
    let keep = 20.0
        * (tone_rms(&tail(&out[0]), rate as f32, 440.0)
            / tone_rms(&tail(&input[0]), rate as f32, 440.0))
        .log10();
    assert!(keep.abs() < 0.5, "440 Hz changed by {keep:.2} dB");
    let lag_free: f64 = out[0][rate as usize..]
        .iter()
        .zip(&input[0][rate as usize..])
        .map(|(a, b)| f64::from(*a) * f64::from(*b))
        .sum();
    assert!(lag_free > 0.0, "output is not aligned with the input");
    // The GPU engine computes the same thing.
    let o = run(&[
        "clean",
        &f.s("in.wav"),
        "-o",
        &f.s("gpu.wav"),
        "--engine",
        "gpu",
        "--format",
        "f32",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let gpu = read(&f.path("gpu.wav"));
    let worst = out
        .iter()
        .flatten()
        .zip(gpu.iter().flatten())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "GPU and CPU clean differ by {worst}");
    // A learned profile and 16-bit output.
    let o = run(&[
        "clean",
        &f.s("in.wav"),
        "-o",
        &f.s("p.wav"),
        "--noise-from",
        "0:0.5",
        "--hum",
        "60",
        "--format",
        "16",
        "--engine",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("noise profile"));
}

#[test]
fn clean_bad_input_is_one_clear_error_and_odd_input_has_a_defined_result() {
    let f = Files::new();
    let rate = 48_000;
    write_f32(&f.path("in.wav"), rate, &[humming(rate, 1.0, 5)]);
    let input = f.s("in.wav");
    let out = f.s("out.wav");
    for (args, name, problem) in [
        (
            vec!["--noise-from", "2:3"],
            "in.wav",
            "ends after the signal",
        ),
        (vec!["--noise-from", "abc"], "--noise-from abc", "START:END"),
        (
            vec!["--noise-from", "0.5:0.2"],
            "--noise-from 0.5:0.2",
            "START < END",
        ),
        (
            vec!["--noise-from", "0.1:0.11"],
            "in.wav",
            "shorter than one analysis frame",
        ),
        (vec!["--hum", "55"], "--hum 55", "auto, 50, 60 or off"),
        (vec!["--reduction-db", "70"], "--reduction-db 70", "0 to 60"),
    ] {
        let mut a = vec![
            "clean",
            input.as_str(),
            "-o",
            out.as_str(),
            "--engine",
            "cpu",
        ];
        a.extend(args);
        assert_clean_error(&run(&a), name, problem);
        assert!(!f.path("out.wav").exists());
    }
    // A noise region of digital silence.
    let mut gap = humming(rate, 1.0, 6);
    gap[..24_000].fill(0.0);
    write_f32(&f.path("gap.wav"), rate, &[gap]);
    assert_clean_error(
        &run(&[
            "clean",
            &f.s("gap.wav"),
            "-o",
            &out,
            "--noise-from",
            "0:0.4",
        ]),
        "gap.wav",
        "digital silence",
    );
    // Silence stays silence; shorter than a window keeps its length; NaN never passes.
    write_f32(&f.path("silent.wav"), rate, &[vec![0.0; 20_000]]);
    let o = run(&["clean", &f.s("silent.wav"), "-o", &out, "--format", "f32"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(read(&f.path("out.wav"))[0].iter().all(|&v| v == 0.0));
    write_f32(&f.path("short.wav"), rate, &[noise(300, 7)]);
    let o = run(&["clean", &f.s("short.wav"), "-o", &out, "--format", "f32"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read(&f.path("out.wav"))[0].len(), 300);
    let mut nan = humming(rate, 1.0, 8);
    nan[1234] = f32::NAN;
    nan[5000] = f32::INFINITY;
    write_f32(&f.path("nan.wav"), rate, &[nan]);
    // The decoder refuses non-finite samples (the library path treats them as silence).
    assert_clean_error(
        &run(&["clean", &f.s("nan.wav"), "-o", &out]),
        "nan.wav",
        "NaN",
    );
    assert_eq!(
        read(&f.path("out.wav"))[0].len(),
        300,
        "the last output was replaced"
    );
}

#[test]
fn session_clean_and_duck_inserts_render_aligned() {
    let f = Files::new();
    let rate = 48_000u32;
    let n = 4 * rate as usize;
    std::fs::create_dir(f.path("audio")).unwrap();
    std::fs::create_dir(f.path("stems")).unwrap();
    let t = |i: usize| i as f32 / rate as f32;
    // Dialogue: 530 Hz bursts (not a mains harmonic) (on in odd half-seconds) over 50 Hz hum and hiss.
    let hiss = noise(n, 9);
    let dx: Vec<f32> = (0..n)
        .map(|i| {
            let on = (t(i) * 2.0) as usize % 2 == 1;
            let burst = if on {
                0.3 * (std::f32::consts::TAU * 530.0 * t(i)).sin()
            } else {
                0.0
            };
            let hum: f32 = (1..=4)
                .map(|k| 0.05 / k as f32 * (std::f32::consts::TAU * 50.0 * k as f32 * t(i)).sin())
                .sum();
            burst + hum + 0.01 * hiss[i]
        })
        .collect();
    // Music: a steady 545 Hz tone (the same band as the dialogue).
    let mx: Vec<f32> = (0..n)
        .map(|i| 0.3 * (std::f32::consts::TAU * 545.0 * t(i)).sin())
        .collect();
    write_f32(&f.path("audio/dx.wav"), rate, std::slice::from_ref(&dx));
    write_f32(&f.path("audio/mx.wav"), rate, &[mx]);
    std::fs::write(
        f.path("s.toml"),
        r#"
[session]
sample_rate = 48000

[[bus]]
name = "music"
[[bus.insert]]
type = "duck"
sidechain = "DX"

[[track]]
name = "dx"
file = "audio/dx.wav"
stem = "DX"
[[track.insert]]
type = "clean"

[[track]]
name = "mx"
file = "audio/mx.wav"
stem = "MX"
gain_db = -200.0
[[track.send]]
bus = "music"
level_db = 0.0
pre_fader = true
"#,
    )
    .unwrap();
    let o = run(&[
        "render",
        &f.s("s.toml"),
        "-o",
        &f.s("m.wav"),
        "--format",
        "f32",
        "--stems",
        &f.s("stems"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let dx_out = &read(&f.path("stems/DX.wav"))[0];
    let mx_out = &read(&f.path("stems/MX.wav"))[0];
    // Hum gone from the cleaned dialogue, bursts kept and in time (latency compensated).
    let seg = |x: &[f32], a: f32, b: f32| {
        x[(a * rate as f32) as usize..(b * rate as f32) as usize].to_vec()
    };
    let hum_before = tone_rms(&seg(&dx, 2.0, 4.0), rate as f32, 50.0);
    let hum_after = tone_rms(&seg(dx_out, 2.0, 4.0), rate as f32, 50.0);
    assert!(
        20.0 * (hum_after / hum_before).log10() < -20.0,
        "hum {hum_before} -> {hum_after}"
    );
    let burst = |x: &[f32]| tone_rms(&seg(x, 3.6, 3.9), rate as f32, 530.0);
    // The mono track is panned centre: −3.01 dB in each channel (constant power).
    let kept = 20.0 * (burst(dx_out) / burst(&dx)).log10() + 3.0103;
    assert!(kept.abs() < 1.0, "burst level changed {kept:.2} dB");
    // Music ducked while the dialogue speaks, restored in the gaps.
    let music = |a, b| tone_rms(&seg(mx_out, a, b), rate as f32, 545.0);
    // Needed: the sidechain (L+R of the centred dialogue, −10.5 dB) over the music (−13.5 dB
    // summed over both channels) by 6 dB: a 3 dB cut. Before the first burst nothing is cut.
    let (during, gap) = (music(3.65, 3.9), music(0.1, 0.45));
    let ducked = 20.0 * (during / gap).log10();
    eprintln!(
        "hum {:.1} dB, burst {kept:.2} dB, music ducked {ducked:.1} dB",
        20.0 * (hum_after / hum_before).log10()
    );
    assert!(
        (ducked + 3.0).abs() < 1.0,
        "music ducked by {ducked:.1} dB, expected 3"
    );
}

#[test]
fn render_with_gpu_reverbs_equals_the_cpu_render() {
    // The demo's hall bus with its tail on the GPU (lavapipe in CI), against the CPU.
    let f = Files::new();
    let session = mixstation::demo::write_demo(&f.path("demo"), 3.0).unwrap();
    let mut masters = Vec::new();
    for engine in ["cpu", "gpu"] {
        let out = f.s(&format!("{engine}.wav"));
        let o = run(&[
            "render",
            session.to_str().unwrap(),
            "-o",
            &out,
            "--format",
            "f32",
            "--engine",
            engine,
        ]);
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        masters.push(read(&f.path(&format!("{engine}.wav"))));
    }
    let peak = masters[0]
        .iter()
        .flatten()
        .fold(0.0f32, |m, v| m.max(v.abs()));
    for (c, (a, b)) in masters[0].iter().zip(&masters[1]).enumerate() {
        assert_eq!(a.len(), b.len());
        let err = a
            .iter()
            .zip(b)
            .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(
            err < 1e-5 * peak,
            "channel {c}: GPU vs CPU {err:e} (peak {peak})"
        );
    }
}

#[test]
fn the_streamed_render_equals_the_in_memory_master() {
    // The demo session has a −23 LUFS target and a −1 dBTP limiter: both passes at work.
    let f = Files::new();
    let session = mixstation::demo::write_demo(&f.path("demo"), 3.0).unwrap();
    std::fs::create_dir(f.path("stems")).unwrap();
    let o = run(&[
        "render",
        session.to_str().unwrap(),
        "-o",
        &f.s("m.wav"),
        "--format",
        "f32",
        "--stems",
        &f.s("stems"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let loaded = mixstation::session::load_session(&session).unwrap();
    let mut mixer =
        gpu_dsp::mix::Mixer::new(loaded.spec.clone(), mixstation::render::BLOCK).unwrap();
    let mut stems = mixer.render(|_| {});
    let (master, _) = gpu_dsp::mix::finish_master(
        &mut stems,
        &loaded.spec.master,
        loaded.spec.layout,
        loaded.spec.sample_rate,
    );
    let got = read(&f.path("m.wav"));
    for (g, w) in got.iter().zip(&master) {
        assert_eq!(g.len(), w.len());
        let worst = g
            .iter()
            .zip(w)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "streamed master differs by {worst}");
    }
    for (name, want) in loaded.spec.stems.iter().zip(&stems) {
        let got = read(&f.path(&format!("stems/{name}.wav")));
        let worst = got
            .iter()
            .flatten()
            .zip(want.iter().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-6, "stem {name} differs by {worst}");
    }
}

fn png_pixels(path: &Path) -> Vec<u8> {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0u8; reader.output_buffer_size()];
    let n = reader.next_frame(&mut buf).unwrap().buffer_size();
    buf.truncate(n);
    buf
}

/// The streamed spectrogram (frames computed in batches from a sliding window and folded into
/// pixel columns) draws exactly the picture of the whole-file spectrogram; the GPU engine
/// streams the same frames.
#[test]
fn spectrogram_streams_in_batches_like_the_whole_file() {
    let f = Files::new();
    // FFT 16384, hop 64: 511 frames a batch, so 2.5 s are 13 batches.
    let x = noise(120_000, 11);
    let y: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, v)| v * (i as f32 / 120_000.0))
        .collect();
    write_f32(&f.path("in.wav"), 48_000, &[x.clone(), y.clone()]);
    let config = gpu_dsp::analysis::spectrogram::SpectrogramConfig::new(16_384, 64).unwrap();
    let whole = gpu_dsp::analysis::spectrogram::spectrogram_cpu(&[&x, &y], 48_000, config);
    assert!(whole.frames > 1500, "{} frames", whole.frames);
    let opts = mixstation::plot::PlotOptions {
        width: 300,
        height: 120,
        ..Default::default()
    };
    mixstation::plot::render_spectrogram(&whole, &opts)
        .save_png(&f.path("whole.png"))
        .unwrap();
    let want = png_pixels(&f.path("whole.png"));
    for engine in ["cpu", "gpu"] {
        let out = f.s(&format!("{engine}.png"));
        let o = run(&[
            "spectrogram",
            &f.s("in.wav"),
            "-o",
            &out,
            "--fft",
            "16384",
            "--hop",
            "64",
            "--width",
            "300",
            "--height",
            "120",
            "--engine",
            engine,
        ]);
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        let got = png_pixels(Path::new(&out));
        assert_eq!(got.len(), want.len());
        let differ = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        if engine == "cpu" {
            assert_eq!(differ, 0, "cpu: streamed picture differs in {differ} bytes");
        } else {
            // The GPU FFT rounds differently: a colour step at most on a few pixels.
            let worst = got
                .iter()
                .zip(&want)
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap();
            assert!(
                differ * 1000 < want.len() && worst <= 8,
                "gpu: {differ} bytes, worst {worst}"
            );
        }
    }
}

/// Convolution streamed over many blocks (dry, wet, tail) against direct f64 convolution.
#[test]
fn streamed_convolution_matches_direct_convolution_across_blocks() {
    let f = Files::new();
    let (xl, xr) = (noise(100_000, 21), noise(100_000, 22));
    let hl = noise(3_001, 23);
    // A shorter right channel, zero-padded to the file's length.
    let mut hr = noise(2_000, 24);
    hr.resize(3_001, 0.0);
    write_f32(&f.path("in.wav"), 48_000, &[xl.clone(), xr.clone()]);
    write_f32(&f.path("ir.wav"), 48_000, &[hl.clone(), hr.clone()]);
    for engine in ["cpu", "gpu"] {
        let out = f.s(&format!("{engine}.wav"));
        let o = run(&[
            "convolve",
            &f.s("in.wav"),
            "--ir",
            &f.s("ir.wav"),
            "-o",
            &out,
            "--wet",
            "0.5",
            "--dry",
            "-0.25",
            "--format",
            "f32",
            "--engine",
            engine,
        ]);
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        let got = read(Path::new(&out));
        for (c, (x, h)) in [(&xl, &hl), (&xr, &hr)].into_iter().enumerate() {
            let wet = gpu_dsp::conv::reference::direct_f64(x, h);
            assert_eq!(got[c].len(), x.len() + 3_001 - 1, "{engine} ch {c}");
            let peak = wet.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let worst = (0..got[c].len())
                .map(|i| {
                    let want = 0.5 * wet.get(i).copied().unwrap_or(0.0)
                        - 0.25 * f64::from(x.get(i).copied().unwrap_or(0.0));
                    (f64::from(got[c][i]) - want).abs()
                })
                .fold(0.0f64, f64::max);
            assert!(
                worst < 1e-5 * peak,
                "{engine} ch {c}: {worst:e} of peak {peak}"
            );
        }
    }
}

/// `--hum 60` on a file without hum says so instead of reporting success at removing none.
#[test]
fn forced_hum_removal_says_when_there_was_no_hum() {
    let f = Files::new();
    write_f32(&f.path("in.wav"), 48_000, &[noise(96_000, 5)]);
    let o = run(&[
        "clean",
        &f.s("in.wav"),
        "-o",
        &f.s("out.wav"),
        "--hum",
        "60",
        "--engine",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("no hum found at 60 Hz"), "{text}");
    let o = run(&[
        "clean",
        &f.s("in.wav"),
        "-o",
        &f.s("out.wav"),
        "--engine",
        "cpu",
    ]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("no hum found"));
}

/// Without stem files, linear buses run once on the sum of the stems: the master equals the
/// sum of the per-stem renders (reverb and EQ buses fed from three stems, bus automation).
#[test]
fn a_render_without_stems_runs_linear_buses_once_and_matches() {
    let f = Files::new();
    std::fs::create_dir_all(f.path("audio")).unwrap();
    for (k, name) in ["d", "m", "e"].iter().enumerate() {
        write_f32(
            &f.path(&format!("audio/{name}.wav")),
            48_000,
            &[noise(30_000, 40 + k as u32)],
        );
    }
    let (hl, hr) = (noise(4_000, 50), noise(4_000, 51));
    write_f32(&f.path("hall.wav"), 48_000, &[hl, hr]);
    write_f32(&f.path("room.wav"), 48_000, &[noise(1_500, 52)]);
    let session = r#"[session]
sample_rate = 48000
stems = ["DX", "MX", "FX"]
[[bus]]
name = "hall"
[[bus.insert]]
type = "reverb"
ir = "hall.wav"
wet = 0.5
[[bus.insert]]
type = "eq"
bands = [{ type = "highshelf", freq = 5000.0, gain_db = -6.0 }]
[[bus.automation]]
param = "gain_db"
points = [[0.0, 0.0], [0.5, -12.0]]
[[bus.send]]
bus = "room"
level_db = -6.0
[[bus]]
name = "room"
[[bus.insert]]
type = "reverb"
ir = "room.wav"
[[track]]
name = "d"
file = "audio/d.wav"
stem = "DX"
[[track.send]]
bus = "hall"
level_db = -3.0
[[track]]
name = "m"
file = "audio/m.wav"
stem = "MX"
pan = -0.5
[[track.send]]
bus = "hall"
[[track.send]]
bus = "room"
[[track]]
name = "e"
file = "audio/e.wav"
stem = "FX"
output = "room"
"#;
    std::fs::write(f.path("s.toml"), session).unwrap();
    std::fs::create_dir(f.path("stems")).unwrap();
    let o = run(&[
        "render",
        &f.s("s.toml"),
        "-o",
        &f.s("with.wav"),
        "--stems",
        &f.s("stems"),
        "--format",
        "f32",
        "--engine",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "render",
        &f.s("s.toml"),
        "-o",
        &f.s("without.wav"),
        "--format",
        "f32",
        "--engine",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (a, b) = (read(&f.path("with.wav")), read(&f.path("without.wav")));
    let peak = a.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(peak > 0.1);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.len(), y.len());
        let worst = x
            .iter()
            .zip(y)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst < 1e-5 * peak,
            "master with and without stems differ by {worst:e}"
        );
    }
}
