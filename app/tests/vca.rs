//! VCA masters against independent arithmetic: two tracks with their own fader envelopes
//! (and a static one) under two VCAs — one automated, one static, one of them muted in a
//! second session — rendered through the real binary; every output sample must be the sum of
//! the sources times the pan gains and 10^((own + VCA dB)/20).

mod common;

use common::{bin, read, stderr, write_f32, Files};

const RATE: u32 = 48_000;

/// A piecewise-linear envelope of (seconds, dB) points, held outside.
fn env(points: &[(f64, f64)], t: f64) -> f64 {
    let i = points.partition_point(|p| p.0 <= t);
    match i {
        0 => points[0].1,
        i if i == points.len() => points[i - 1].1,
        i => {
            let ((t0, v0), (t1, v1)) = (points[i - 1], points[i]);
            v0 + (v1 - v0) * (t - t0) / (t1 - t0)
        }
    }
}

fn gain(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

#[test]
fn vcas_scale_their_members_by_the_arithmetic_of_their_faders() {
    let f = Files::new();
    let n = 2 * RATE as usize;
    // DC sources, so every output sample reads its gain directly.
    write_f32(&f.path("a.wav"), RATE, &[vec![0.25f32; n]]);
    write_f32(&f.path("b.wav"), RATE, &[vec![0.125f32; n]]);
    write_f32(&f.path("c.wav"), RATE, &[vec![0.0625f32; n]]);
    let a_own = [(0.2, -3.0), (1.4, -9.0)];
    let vca1 = [(0.0, 0.0), (0.5, -6.0), (1.0, -6.0), (1.8, 3.0)];
    let session = |mute: bool| {
        format!(
            "[session]\nsample_rate = 48000\n\
             [[track]]\nname = \"a\"\nfile = \"a.wav\"\nstem = \"DX\"\npan = -1.0\n\
             [[track.automation]]\nparam = \"gain_db\"\npoints = [[0.2, -3.0], [1.4, -9.0]]\n\
             [[track]]\nname = \"b\"\nfile = \"b.wav\"\nstem = \"DX\"\npan = 1.0\ngain_db = -2.0\n\
             [[track]]\nname = \"c\"\nfile = \"c.wav\"\nstem = \"DX\"\npan = 1.0\ngain_db = 1.0\n\
             [[vca]]\nname = \"dialogue\"\nmembers = [\"a\", \"b\"]\n\
             [[vca.automation]]\nparam = \"gain_db\"\npoints = [[0.0, 0.0], [0.5, -6.0], [1.0, -6.0], [1.8, 3.0]]\n\
             [[vca]]\nname = \"all\"\ngain_db = -4.0\nmute = {mute}\nmembers = [\"b\", \"c\"]\n"
        )
    };
    std::fs::write(f.path("s.toml"), session(false)).unwrap();
    let o = bin()
        .current_dir(f.root())
        .args([
            "render", "s.toml", "-o", "mix.wav", "--engine", "cpu", "--format", "f32",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let mix = read(&f.path("mix.wav"));
    // Hard-panned: left is track a alone, right is b + c.
    let worst = (0..n)
        .step_by(97)
        .map(|i| {
            let t = i as f64 / f64::from(RATE);
            let left = 0.25 * gain(env(&a_own, t) + env(&vca1, t));
            let right = 0.125 * gain(-2.0 + env(&vca1, t) - 4.0) + 0.0625 * gain(1.0 - 4.0);
            let l = (f64::from(mix[0][i]) - left).abs();
            let r = (f64::from(mix[1][i]) - right).abs();
            l.max(r)
        })
        .fold(0.0f64, f64::max);
    assert!(worst < 1e-6, "VCA render off the arithmetic by {worst}");
    // A muted VCA mutes its members: only track a is left.
    std::fs::write(f.path("s.toml"), session(true)).unwrap();
    let o = bin()
        .current_dir(f.root())
        .args([
            "render",
            "s.toml",
            "-o",
            "muted.wav",
            "--engine",
            "cpu",
            "--format",
            "f32",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let muted = read(&f.path("muted.wav"));
    assert!(
        muted[1].iter().all(|&v| v == 0.0),
        "the muted VCA's members are silent"
    );
    assert!(
        (f64::from(muted[0][n / 2]) - 0.25 * gain(env(&a_own, 1.0) + env(&vca1, 1.0))).abs() < 1e-6
    );
    // Mistakes are named.
    for (bad, says) in [
        ("[[vca]]\nname = \"v\"\nmembers = [\"nobody\"]\n", "no track 'nobody'"),
        ("[[vca]]\nname = \"v\"\nmembers = [\"c\"]\ngain_db = 1e9\n", "gain_db 1000000000"),
        (
            "[[vca]]\nname = \"v\"\nmembers = [\"c\"]\n[[vca.automation]]\nparam = \"pan\"\npoints = [[0.0, 0.0]]\n",
            "a VCA automates gain_db only",
        ),
    ] {
        let text = format!("[session]\nsample_rate = 48000\n[[track]]\nname = \"c\"\nfile = \"c.wav\"\n{bad}");
        std::fs::write(f.path("bad.toml"), text).unwrap();
        let o = bin()
            .current_dir(f.root())
            .args(["render", "bad.toml", "-o", "bad.wav"])
            .output()
            .unwrap();
        assert!(!o.status.success(), "{bad} was accepted");
        assert!(stderr(&o).contains(says), "{bad}: {}", stderr(&o));
    }
}
