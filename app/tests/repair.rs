//! `mixstation repair` through the real binary: a tone burst over noise removed in its
//! region (both channels), the input untouched and the output the same shape; bad
//! regions and mismatched options refused with nothing written.

mod common;

use common::{bin, noise, read, stderr, write_f32, Files};

const RATE: u32 = 48_000;

#[test]
fn repair_removes_a_burst_and_refuses_bad_regions() {
    let f = Files::new();
    let n = RATE as usize;
    let tone: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            if (0.4..0.6).contains(&t) {
                0.3 * (std::f32::consts::TAU * 3000.0 * t).sin()
            } else {
                0.0
            }
        })
        .collect();
    let base: Vec<Vec<f32>> = [3, 4]
        .iter()
        .map(|&seed| noise(n, seed).iter().map(|v| 0.01 * v).collect())
        .collect();
    let input: Vec<Vec<f32>> = base
        .iter()
        .map(|c| c.iter().zip(&tone).map(|(a, b)| a + b).collect())
        .collect();
    write_f32(&f.path("in.wav"), RATE, &input);
    let before = std::fs::read(f.path("in.wav")).unwrap();
    let o = bin()
        .current_dir(f.root())
        .args([
            "repair",
            "in.wav",
            "-o",
            "out.wav",
            "--region",
            "0.35:0.65:2800:3200",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(f.path("in.wav")).unwrap(),
        before,
        "the input is untouched"
    );
    let out = read(&f.path("out.wav"));
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].len(), n);
    let inside = (RATE as usize * 42 / 100)..(RATE as usize * 58 / 100);
    for (c, (y, clean)) in out.iter().zip(&base).enumerate() {
        let e =
            |f: &dyn Fn(usize) -> f32| inside.clone().map(|i| f64::from(f(i).powi(2))).sum::<f64>();
        let tone_e = e(&|i| tone[i]);
        let left = e(&|i| y[i] - clean[i]);
        let removed = 10.0 * (tone_e / left).log10();
        assert!(removed > 30.0, "channel {c}: {removed:.1} dB");
    }
    // Streamed (only the regions' spans held), it is exactly the whole-signal repair: two
    // regions, one overlapping the other's span, and one far off.
    let regions = [
        ("0.35:0.65:2800:3200", "attenuate"),
        ("0.5:0.55", "replace"),
        ("0.9:0.95:100:400", "pattern"),
    ];
    let mut args = vec!["repair", "in.wav", "-o", "streamed.wav", "--format", "f32"];
    for (r, m) in &regions {
        args.extend(["--region", r, "--mode", m]);
    }
    let o = bin().current_dir(f.root()).args(&args).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let streamed = read(&f.path("streamed.wav"));
    use gpu_dsp::spectral::{repair, RepairMode, RepairRegion};
    let region = |from, to, band, mode| RepairRegion {
        from,
        to,
        band,
        mode,
        gain_db: 0.0,
    };
    let whole_regions = [
        region(0.35, 0.65, Some((2800.0, 3200.0)), RepairMode::Attenuate),
        region(0.5, 0.55, None, RepairMode::Replace),
        region(0.9, 0.95, Some((100.0, 400.0)), RepairMode::Pattern),
    ];
    for (c, x) in input.iter().enumerate() {
        let whole = repair(x, RATE, &whole_regions).unwrap();
        let worst = whole
            .iter()
            .zip(&streamed[c])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert_eq!(worst, 0.0, "channel {c}");
    }
    for (args, says) in [
        (vec!["--region", "0.6:0.4"], "region 0.6:0.4"),
        (
            vec!["--region", "0.1:0.2:900"],
            "expected T0:T1 or T0:T1:F0:F1",
        ),
        (
            vec!["--region", "0.1:0.2", "--mode", "smudge"],
            "--mode smudge",
        ),
        (
            vec![
                "--region",
                "0.1:0.2",
                "--region",
                "0.3:0.4",
                "--mode",
                "replace",
                "--mode",
                "pattern",
                "--mode",
                "attenuate",
            ],
            "--mode given 3 times for 2 regions",
        ),
    ] {
        let mut all = vec!["repair", "in.wav", "-o", "bad.wav"];
        all.extend(args.iter().copied());
        let o = bin().current_dir(f.root()).args(&all).output().unwrap();
        assert!(!o.status.success(), "{args:?} was accepted");
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
        assert!(!f.path("bad.wav").exists(), "{args:?} wrote a file");
    }
}

/// `mixstation roomtone`: a stereo file's pause learnt and ten seconds written at its level
/// (within 1 dB per channel), a region too short refused with the file named.
#[test]
fn roomtone_writes_matching_tone_of_any_length() {
    let f = Files::new();
    let n = 2 * RATE as usize;
    let channels: Vec<Vec<f32>> = [(5, 0.02f32), (6, 0.005)]
        .iter()
        .map(|&(seed, level)| noise(n, seed).iter().map(|v| level * v).collect())
        .collect();
    write_f32(&f.path("in.wav"), RATE, &channels);
    let o = bin()
        .current_dir(f.root())
        .args([
            "roomtone",
            "in.wav",
            "--from",
            "0.5:1.5",
            "--seconds",
            "10",
            "-o",
            "tone.wav",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let tone = read(&f.path("tone.wav"));
    assert_eq!(tone.len(), 2);
    assert_eq!(tone[0].len(), 10 * RATE as usize);
    let rms =
        |x: &[f32]| (x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
    for (c, (src, out)) in channels.iter().zip(&tone).enumerate() {
        let off = 20.0 * (rms(out) / rms(&src[RATE as usize / 2..3 * RATE as usize / 2])).log10();
        assert!(off.abs() < 1.0, "channel {c}: {off:+.2} dB");
    }
    let o = bin()
        .current_dir(f.root())
        .args([
            "roomtone",
            "in.wav",
            "--from",
            "0.5:0.52",
            "--seconds",
            "1",
            "-o",
            "short.wav",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("in.wav") && stderr(&o).contains("at least"),
        "{}",
        stderr(&o)
    );
    assert!(!f.path("short.wav").exists());
}

/// `repair --declick`: clicks in a tone are found and rebuilt (the output back within
/// −40 dB of the clean tone), said in the report; without --region or --declick, an error.
#[test]
fn repair_declick_rebuilds_clicks() {
    let f = Files::new();
    let n = RATE as usize;
    let clean: Vec<f32> = (0..n)
        .map(|i| 0.3 * (std::f32::consts::TAU * 440.0 * i as f32 / RATE as f32).sin())
        .collect();
    let mut damaged = clean.clone();
    for k in 0..20 {
        let at = 2000 + k * 2200;
        for i in 0..(1 + k % 6) {
            damaged[at + i] += if i % 2 == 0 { 0.4 } else { -0.35 };
        }
    }
    write_f32(&f.path("in.wav"), RATE, std::slice::from_ref(&damaged));
    let o = bin()
        .current_dir(f.root())
        .args([
            "repair",
            "in.wav",
            "-o",
            "out.wav",
            "--declick",
            "--format",
            "f32",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(said.contains("20 clicks rebuilt"), "{said}");
    let out = read(&f.path("out.wav"));
    let energy: f64 = clean.iter().map(|v| f64::from(*v).powi(2)).sum();
    let error: f64 = out[0]
        .iter()
        .zip(&clean)
        .map(|(a, b)| f64::from(a - b).powi(2))
        .sum();
    let db = 10.0 * (error / energy).log10();
    assert!(db < -40.0, "{db:.1} dB");
    let o = bin()
        .current_dir(f.root())
        .args(["repair", "in.wav", "-o", "none.wav"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("nothing to repair"), "{}", stderr(&o));
}

/// `repair --declip`: a 150 Hz tone with a harmonic, clipped at half its peak, comes back
/// closer to the original (error down by more than 10 dB), said in the report.
#[test]
fn repair_declip_rebuilds_clipped_peaks() {
    let f = Files::new();
    let n = RATE as usize;
    let clean: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            let w = std::f32::consts::TAU * 150.0 * t;
            0.5 * w.sin() + 0.2 * (2.0 * w + 0.5).sin()
        })
        .collect();
    let peak = clean.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let clipped: Vec<f32> = clean
        .iter()
        .map(|v| v.clamp(-0.5 * peak, 0.5 * peak))
        .collect();
    write_f32(&f.path("in.wav"), RATE, std::slice::from_ref(&clipped));
    let o = bin()
        .current_dir(f.root())
        .args([
            "repair", "in.wav", "-o", "out.wav", "--declip", "--format", "f32",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        said.contains("clipped samples rebuilt") && !said.contains(" 0 clipped"),
        "{said}"
    );
    let out = read(&f.path("out.wav"));
    let err = |y: &[f32]| -> f64 {
        y.iter()
            .zip(&clean)
            .map(|(a, b)| f64::from(a - b).powi(2))
            .sum()
    };
    let gain = 10.0 * (err(&clipped) / err(&out[0])).log10();
    assert!(gain > 10.0, "error down by {gain:.1} dB");
}
