//! `mixstation edit` through the real binary: every command against the session it leaves,
//! a chain of edits rendered and compared with the arithmetic of those edits, and the
//! contract that a bad command names its line and saves nothing.

mod common;

use common::{bin, noise, read, stderr, write_f32, Files};
use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI};
use std::process::Output;

const RATE: u32 = 48_000;

/// Runs `mixstation ARGS` in the test folder.
fn run(f: &Files, args: &[&str]) -> Output {
    bin()
        .current_dir(f.root())
        .args(args)
        .output()
        .expect("run mixstation")
}

fn edit(f: &Files, commands: &[&str]) -> Output {
    let mut args = vec!["edit", "s.toml"];
    for c in commands {
        args.push("-c");
        args.push(c);
    }
    run(f, &args)
}

fn ok(o: &Output) {
    assert!(o.status.success(), "failed: {}", stderr(o));
}

fn session(f: &Files) -> toml::Table {
    std::fs::read_to_string(f.path("s.toml"))
        .unwrap()
        .parse()
        .unwrap()
}

/// `[[track]]` named `name`.
fn track<'a>(s: &'a toml::Table, name: &str) -> &'a toml::Table {
    s["track"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_table().unwrap())
        .find(|t| t["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no track {name}"))
}

/// The clips of a track as (start, offset, length, gain, fade in, fade out) in timeline order.
fn clips(t: &toml::Table) -> Vec<[f64; 6]> {
    let num = |c: &toml::Table, k: &str| {
        c.get(k)
            .map(|v| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap())
            .unwrap_or(if k == "length" { f64::NAN } else { 0.0 })
    };
    let mut out: Vec<[f64; 6]> = t
        .get("clip")
        .map(|c| c.as_array().unwrap().clone())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let c = c.as_table().unwrap();
            [
                "start", "offset", "length", "gain_db", "fade_in", "fade_out",
            ]
            .map(|k| num(c, k))
        })
        .collect();
    out.sort_by(|a, b| a[0].total_cmp(&b[0]));
    out
}

fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 || (a.is_nan() && b.is_nan())
}

fn assert_clips(got: &[[f64; 6]], want: &[[f64; 6]]) {
    assert_eq!(got.len(), want.len(), "clips: {got:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            g.iter().zip(w).all(|(a, b)| approx(*a, *b)),
            "{g:?} != {w:?}"
        );
    }
}

/// Two mono noise files, a.wav (2 s) and b.wav (1.5 s), and an empty session.
fn material() -> (Files, Vec<f32>, Vec<f32>) {
    let f = Files::new();
    let a = noise(2 * RATE as usize, 7);
    let b = noise(3 * RATE as usize / 2, 11);
    write_f32(&f.path("a.wav"), RATE, std::slice::from_ref(&a));
    write_f32(&f.path("b.wav"), RATE, std::slice::from_ref(&b));
    std::fs::write(
        f.path("s.toml"),
        "# the test session\n[session]\nsample_rate = 48000 # rate\n",
    )
    .unwrap();
    (f, a, b)
}

#[test]
fn clip_commands_leave_the_expected_session() {
    let (f, _, _) = material();
    ok(&edit(
        &f,
        &[
            "import a.wav --track dx --at 0.5",
            "move dx:1 --by 0.25",
            "trim dx:1 --start 1.0",
            "trim dx:1 --end 2.5",
        ],
    ));
    let s = session(&f);
    assert_clips(&clips(track(&s, "dx")), &[[1.0, 0.25, 1.5, 0.0, 0.0, 0.0]]);
    ok(&edit(
        &f,
        &[
            "split dx:1 --at 1.7",
            "fade dx:2 --in 0.1 --shape s-curve",
            "fade dx:1 --out 0.2",
            "gain dx:1 -4.5",
            "duplicate dx:1 --to 3",
            "delete dx:2",
        ],
    ));
    let s = session(&f);
    let dx = track(&s, "dx");
    assert_clips(
        &clips(dx),
        &[
            [1.0, 0.25, 0.7, -4.5, 0.0, 0.2],
            [3.0, 0.25, 0.7, -4.5, 0.0, 0.2],
        ],
    );
    // The comments of the file are kept.
    let text = std::fs::read_to_string(f.path("s.toml")).unwrap();
    assert!(text.starts_with("# the test session\n[session]\nsample_rate = 48000 # rate\n"));
    // Move to another track, undo and redo.
    ok(&edit(
        &f,
        &[
            "add-track fx --stem FX",
            "move dx:2 --track fx --to 4",
            "undo",
            "redo",
        ],
    ));
    let s = session(&f);
    assert_clips(&clips(track(&s, "dx")), &[[1.0, 0.25, 0.7, -4.5, 0.0, 0.2]]);
    assert_clips(&clips(track(&s, "fx")), &[[4.0, 0.25, 0.7, -4.5, 0.0, 0.2]]);
    assert_eq!(track(&s, "fx")["stem"].as_str(), Some("FX"));
    // A fade's shape lands on the fade named with it.
    let dx1 = track(&s, "dx")["clip"].as_array().unwrap()[0]
        .as_table()
        .unwrap()
        .clone();
    assert!(dx1.get("fade_out_shape").is_none());
}

#[test]
fn console_commands_leave_the_expected_session() {
    let (f, _, _) = material();
    ok(&edit(
        &f,
        &[
            "import a.wav --track dx",
            "import b.wav --track music --stem MX",
            "add-bus hall",
            "add-bus score",
            "send dx hall -14",
            "send dx hall -12",
            "route music score",
            "insert dx eq 'bands=[{type=\"bell\", freq=3000, gain_db=2}]'",
            "insert dx compressor threshold_db=-20 ratio=3",
            "insert dx gate",
            "set track.dx.insert.2.ratio 4",
            "set track.dx.insert.1.bands.1.freq 2500",
            "set track.dx.send.hall.level_db -10",
            "set track.dx.gain_db -3",
            "set session.frame_rate 29.97df",
            "set master.loudness_target -23",
            "rename-track music score-music",
            "marker scene2 --at 2.5",
            "marker end --at 00:00:03;00",
            "remove-marker end",
        ],
    ));
    let s = session(&f);
    let dx = track(&s, "dx");
    assert_eq!(dx["gain_db"].as_float(), Some(-3.0));
    let sends = dx["send"].as_array().unwrap();
    assert_eq!(sends.len(), 1, "a second send to one bus updates the first");
    assert_eq!(sends[0]["level_db"].as_float(), Some(-10.0));
    let inserts = dx["insert"].as_array().unwrap();
    assert_eq!(inserts[1]["ratio"].as_float(), Some(4.0));
    assert_eq!(inserts[0]["bands"][0]["freq"].as_float(), Some(2500.0));
    assert_eq!(inserts[2]["type"].as_str(), Some("gate"));
    assert_eq!(track(&s, "score-music")["output"].as_str(), Some("score"));
    assert_eq!(s["session"]["frame_rate"].as_str(), Some("29.97df"));
    assert_eq!(s["master"]["loudness_target"].as_float(), Some(-23.0));
    let markers = s["marker"].as_array().unwrap();
    assert_eq!(markers.len(), 1);
    assert_eq!(markers[0]["at"].as_float(), Some(2.5));

    // Automation follows its insert: removing insert 1 drops its lane and renumbers the rest.
    let text = std::fs::read_to_string(f.path("s.toml")).unwrap();
    let lanes = "[[track.automation]]\nparam = \"insert.1.band1_gain_db\"\npoints = [[0.0, 0.0]]\n[[track.automation]]\nparam = \"insert.2.threshold_db\"\npoints = [[0.0, -20.0]]\n";
    let next = text
        .find("[[track]]\nname = \"score-music\"")
        .expect("the second track");
    let text = format!("{}{lanes}\n{}", &text[..next], &text[next..]);
    std::fs::write(f.path("s.toml"), text).unwrap();
    ok(&edit(&f, &["remove-insert dx 1", "remove-send dx hall"]));
    let s = session(&f);
    let lanes = track(&s, "dx")["automation"].as_array().unwrap();
    assert_eq!(lanes.len(), 1);
    assert_eq!(lanes[0]["param"].as_str(), Some("insert.1.threshold_db"));
    assert!(track(&s, "dx")
        .get("send")
        .is_none_or(|v| v.as_array().unwrap().is_empty()));

    // A bus in use is not removed; a free one is.
    let o = edit(&f, &["remove-bus score"]);
    assert!(
        stderr(&o).contains("used by track 'score-music' (output)"),
        "{}",
        stderr(&o)
    );
    ok(&edit(
        &f,
        &[
            "route score-music --direct",
            "remove-bus score",
            "remove-track dx",
        ],
    ));
    let s = session(&f);
    assert_eq!(s["bus"].as_array().unwrap().len(), 1);
    assert_eq!(s["track"].as_array().unwrap().len(), 1);
}

/// The gain of a fade of `shape` at progress x.
fn shape(name: &str, x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    match name {
        "linear" => x,
        "equal-power" => (x * FRAC_PI_2).sin(),
        "s-curve" => 0.5 * (1.0 - (x * PI).cos()),
        _ => unreachable!(),
    }
}

/// One clip of the independent model, in samples.
struct Placed<'a> {
    audio: &'a [f32],
    start: usize,
    offset: usize,
    length: usize,
    gain_db: f64,
    fade_in: (usize, &'static str),
    fade_out: (usize, &'static str),
    /// (left, right) pan gains.
    pan: (f64, f64),
}

#[test]
fn an_edited_session_renders_the_arithmetic_of_its_edits() {
    let (f, a, b) = material();
    ok(&edit(
        &f,
        &[
            "import a.wav --track dx --at 0.5",
            "import b.wav --track fx --at 1",
            "move dx:1 --by 0.25",
            "trim dx:1 --start 1.0",
            "trim dx:1 --end 2.5",
            "split dx:1 --at 1.7",
            "fade dx:2 --in 0.1 --shape s-curve",
            "fade dx:1 --out 0.2",
            "gain fx:1 -6",
            "gain fx:1 -3",
            "undo",
            "move fx:1 --by 0.5",
            "set track.fx.pan -0.5",
            "duplicate dx:1 --to 3",
            // dx:2 now starts 0.05 s inside dx:1: a crossfade over the overlap, in the
            // later clip's fade-in shape.
            "move dx:2 --by -0.05",
        ],
    ));
    let o = run(
        &f,
        &[
            "render", "s.toml", "-o", "mix.wav", "--format", "f32", "--engine", "cpu",
        ],
    );
    ok(&o);
    let mix = read(&f.path("mix.wav"));
    let s = |secs: f64| (secs * f64::from(RATE)).round() as usize;
    let centre = (FRAC_PI_4.cos(), FRAC_PI_4.sin());
    let theta = (-0.5 + 1.0) * FRAC_PI_4;
    let overlap = s(1.7) - s(1.65);
    let placed = [
        Placed {
            audio: &a,
            start: s(1.0),
            offset: s(0.25),
            length: s(0.7),
            gain_db: 0.0,
            fade_in: (0, "linear"),
            fade_out: (overlap, "s-curve"),
            pan: centre,
        },
        Placed {
            audio: &a,
            start: s(1.65),
            offset: s(0.95),
            length: s(0.8),
            gain_db: 0.0,
            fade_in: (overlap, "s-curve"),
            fade_out: (0, "linear"),
            pan: centre,
        },
        Placed {
            audio: &a,
            start: s(3.0),
            offset: s(0.25),
            length: s(0.7),
            gain_db: 0.0,
            fade_in: (0, "linear"),
            fade_out: (s(0.2), "linear"),
            pan: centre,
        },
        Placed {
            audio: &b,
            start: s(1.5),
            offset: 0,
            length: b.len(),
            gain_db: -6.0,
            fade_in: (0, "linear"),
            fade_out: (0, "linear"),
            pan: (theta.cos(), theta.sin()),
        },
    ];
    let end = placed.iter().map(|p| p.start + p.length).max().unwrap();
    let mut want = vec![vec![0.0f64; end]; 2];
    for p in &placed {
        let g = 10f64.powf(p.gain_db / 20.0);
        for k in 0..p.length {
            let mut v = g * f64::from(p.audio[p.offset + k]);
            if k < p.fade_in.0 {
                v *= shape(p.fade_in.1, k as f64 / p.fade_in.0 as f64);
            }
            if p.length - k <= p.fade_out.0 {
                v *= shape(p.fade_out.1, (p.length - k) as f64 / p.fade_out.0 as f64);
            }
            want[0][p.start + k] += p.pan.0 * v;
            want[1][p.start + k] += p.pan.1 * v;
        }
    }
    assert_eq!(mix.len(), 2);
    assert!(
        mix[0].len() >= end,
        "render is {} samples, want {end}",
        mix[0].len()
    );
    let mut worst = 0.0f64;
    for c in 0..2 {
        for (i, got) in mix[c].iter().enumerate() {
            let w = want[c].get(i).copied().unwrap_or(0.0);
            worst = worst.max((f64::from(*got) - w).abs());
        }
    }
    assert!(
        worst < 1e-6,
        "largest error {worst:e} against the arithmetic of the edits"
    );
}

#[test]
fn a_polyphonic_file_imports_as_mono_tracks_per_channel() {
    let f = Files::new();
    let planes: Vec<Vec<f32>> = (0..4).map(|c| noise(RATE as usize / 2, 20 + c)).collect();
    write_f32(&f.path("poly.wav"), RATE, &planes);
    std::fs::write(f.path("s.toml"), "[session]\nsample_rate = 48000\n").unwrap();
    ok(&edit(
        &f,
        &[
            "import poly.wav --track boom",
            "remove-track boom-1",
            "remove-track boom-2",
            "remove-track boom-4",
            "import poly.wav --track lav --channel 2 --at 1",
            "set track.lav.mute true",
        ],
    ));
    let s = session(&f);
    assert_eq!(
        track(&s, "boom-3")["clip"][0]["channel"].as_integer(),
        Some(3)
    );
    ok(&run(
        &f,
        &[
            "render", "s.toml", "-o", "mix.wav", "--format", "f32", "--engine", "cpu",
        ],
    ));
    let mix = read(&f.path("mix.wav"));
    let g = FRAC_PI_4.cos();
    let worst = planes[2]
        .iter()
        .enumerate()
        .map(|(i, x)| (f64::from(mix[0][i]) - g * f64::from(*x)).abs())
        .fold(0.0, f64::max);
    assert!(
        worst < 1e-6,
        "channel 3 of the file plays on its own: error {worst:e}"
    );
}

#[test]
fn a_bad_command_names_its_line_and_saves_nothing() {
    let (f, _, _) = material();
    ok(&edit(&f, &["import a.wav --track dx"]));
    let before = std::fs::read(f.path("s.toml")).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["move dx:1 --by 1", "move dx:2 --to 1"],
            "command 2: `move dx:2 --to 1`: track 'dx' has 1 clip; there is no clip 2",
        ),
        (&["split dx:1 --at 5"], "is not inside clip dx:1"),
        (&["trim dx:1 --end 9"], "cannot end after it"),
        (
            &[
                "trim dx:1 --start 0.5",
                "move dx:1 --to 1",
                "trim dx:1 --start 0.2",
            ],
            "cannot start before it",
        ),
        (&["set track.dx.gian_db 1"], "unknown field `gian_db`"),
        (&["set track.dx.gain_db 99"], "gain_db 99: expected"),
        (&["send dx nowhere -3"], "there is no bus 'nowhere'"),
        (
            &["import missing.wav --track x"],
            "missing.wav: file not found",
        ),
        (&["move dx:1 --by -1"], "would start"),
        (&["undo"], "nothing to undo"),
        (&["set session.frame_rate 31"], "frame rate \"31\""),
        (
            &[
                "marker m --at 00:01:00;00",
                "set session.frame_rate 29.97df",
                "marker m --at 00:01:00;00",
            ],
            "does not exist in drop-frame",
        ),
        (&["fade dx:1 --in 5"], "must be from 0 to the clip's length"),
        (&["insert dx reverb ir=missing.wav"], "missing.wav"),
    ];
    for (commands, message) in cases {
        let o = edit(&f, commands);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{commands:?}: {err}");
        assert!(err.contains(message), "{commands:?}: {err}");
        assert!(!err.contains("panicked"));
        assert_eq!(
            std::fs::read(f.path("s.toml")).unwrap(),
            before,
            "{commands:?} changed the file"
        );
    }
    // A script names its file and line.
    std::fs::write(
        f.path("edits.txt"),
        "# edits\nmove dx:1 --by 0.5\n\nsplit dx:1 --at 0.1\n",
    )
    .unwrap();
    let o = run(&f, &["edit", "s.toml", "--script", "edits.txt"]);
    assert!(
        stderr(&o).contains("edits.txt:4: `split dx:1 --at 0.1`"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(f.path("s.toml")).unwrap(), before);
    // --dry-run prints the result and leaves the file.
    let o = run(
        &f,
        &[
            "edit",
            "s.toml",
            "--dry-run",
            "-c",
            "move dx:1 --to 00:00:01:12",
        ],
    );
    ok(&o);
    let printed: toml::Table = String::from_utf8_lossy(&o.stdout).parse().unwrap();
    assert_eq!(
        printed["track"][0]["clip"][0]["start"].as_float(),
        Some(1.5)
    );
    assert_eq!(std::fs::read(f.path("s.toml")).unwrap(), before);
}

#[test]
fn commands_and_scripts_run_in_the_order_given_and_a_new_session_is_made() {
    let f = Files::new();
    write_f32(&f.path("a.wav"), RATE, &[noise(RATE as usize, 3)]);
    std::fs::write(f.path("first.txt"), "import a.wav --track dx\n").unwrap();
    let o = run(
        &f,
        &[
            "edit",
            "new.toml",
            "--script",
            "first.txt",
            "-c",
            "move dx:1 --to 2",
            "-c",
            "set session.start_timecode 01:00:00:00",
        ],
    );
    ok(&o);
    let s: toml::Table = std::fs::read_to_string(f.path("new.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(s["track"][0]["clip"][0]["start"].as_float(), Some(2.0));
    assert_eq!(s["session"]["start_timecode"].as_str(), Some("01:00:00:00"));
    // Timecode positions now count from 01:00:00:00 (24 fps by default).
    ok(&run(
        &f,
        &["edit", "new.toml", "-c", "move dx:1 --to 01:00:03:12"],
    ));
    let s: toml::Table = std::fs::read_to_string(f.path("new.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(s["track"][0]["clip"][0]["start"].as_float(), Some(3.5));
}

#[test]
fn a_session_with_missing_media_is_edited_and_relinked() {
    let (f, a, _) = material();
    std::fs::write(
        f.path("s.toml"),
        "[session]\nsample_rate = 48000\n\n[[track]]\nname = \"dx\"\nfile = \"lost/a.wav\"\n",
    )
    .unwrap();
    // Editing works while the file is away (it is reported offline); rendering does not.
    let o = edit(&f, &["set track.dx.gain_db -6"]);
    ok(&o);
    assert!(
        stderr(&o).contains("media offline (not found)"),
        "{}",
        stderr(&o)
    );
    let o = run(&f, &["render", "s.toml", "-o", "mix.wav"]);
    assert!(
        !o.status.success() && stderr(&o).contains("lost/a.wav"),
        "{}",
        stderr(&o)
    );
    let o = edit(&f, &["relink lost/b.wav a.wav"]);
    assert!(stderr(&o).contains("no clip or impulse response uses lost/b.wav"));
    ok(&edit(&f, &["relink lost/a.wav a.wav"]));
    let s = session(&f);
    assert_eq!(track(&s, "dx")["file"].as_str(), Some("a.wav"));
    ok(&run(
        &f,
        &[
            "render", "s.toml", "-o", "mix.wav", "--format", "f32", "--engine", "cpu",
        ],
    ));
    let mix = read(&f.path("mix.wav"));
    let g = 10f64.powf(-6.0 / 20.0) * FRAC_PI_4.cos();
    let worst = a
        .iter()
        .enumerate()
        .map(|(i, x)| (f64::from(mix[0][i]) - g * f64::from(*x)).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-6, "{worst:e}");
}

#[test]
fn tracks_buses_and_inserts_reorder_with_their_automation_and_bypass_and_solo_are_saved() {
    let (f, _, _) = material();
    ok(&edit(
        &f,
        &[
            "import a.wav --track dx",
            "import b.wav --track fx",
            "add-track music",
            "add-bus hall",
            "add-bus room",
            "insert dx eq",
            "insert dx compressor threshold_db=-20",
            "insert dx limiter",
            "set track.dx.insert.3.bypass true",
            "set bus.room.solo true",
        ],
    ));
    // Automation of the compressor (insert 2) and the limiter (insert 3).
    let mut text = std::fs::read_to_string(f.path("s.toml")).unwrap();
    text = text.replace(
        "[[track.insert]]\ntype = \"eq\"",
        "[[track.automation]]\nparam = \"insert.2.ratio\"\npoints = [[0.0, 2.0], [1.0, 4.0]]\n\n\
         [[track.automation]]\nparam = \"insert.3.ceiling_db\"\npoints = [[0.0, -1.0]]\n\n\
         [[track.insert]]\ntype = \"eq\"",
    );
    std::fs::write(f.path("s.toml"), &text).unwrap();
    ok(&edit(
        &f,
        &[
            "move-insert dx 3 1",
            "move-track music --to 1",
            "move-track dx --to 3",
            "move-bus room --to 1",
        ],
    ));
    let s = session(&f);
    let names = |kind: &str| -> Vec<String> {
        s[kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("track"), ["music", "fx", "dx"]);
    assert_eq!(names("bus"), ["room", "hall"]);
    let dx = track(&s, "dx");
    let kinds: Vec<&str> = dx["insert"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["limiter", "eq", "compressor"]);
    assert_eq!(dx["insert"][0]["bypass"].as_bool(), Some(true));
    let params: Vec<&str> = dx["automation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["param"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["insert.3.ratio", "insert.1.ceiling_db"]);
    // The clips stayed with their tracks (the file is written in the new order).
    assert_eq!(clips(dx).len(), 1);
    assert_eq!(clips(track(&s, "fx")).len(), 1);
    assert!(track(&s, "music").get("clip").is_none());
    assert_eq!(s["bus"][0]["solo"].as_bool(), Some(true));
    // The reordered session still loads, and mistakes are named.
    ok(&run(
        &f,
        &["edit", "s.toml", "--dry-run", "-c", "move-insert dx 1 3"],
    ));
    let o = edit(&f, &["move-insert dx 1 4"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("has 3 inserts; there is no insert 4"),
        "{}",
        stderr(&o)
    );
    let o = edit(&f, &["move-track nobody --to 1"]);
    assert!(
        stderr(&o).contains("there is no track 'nobody'"),
        "{}",
        stderr(&o)
    );
}

/// The points of `track`'s automation lane `param`.
fn lane(t: &toml::Table, param: &str) -> Option<Vec<(f64, f64)>> {
    let lanes = t.get("automation")?.as_array()?;
    let lane = lanes.iter().find(|l| l["param"].as_str() == Some(param))?;
    let num = |v: &toml::Value| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap();
    Some(
        lane["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let p = p.as_array().unwrap();
                (num(&p[0]), num(&p[1]))
            })
            .collect(),
    )
}

#[test]
fn automation_lanes_are_edited_point_by_point_and_replaced_whole() {
    let (f, _, _) = material();
    ok(&edit(
        &f,
        &[
            "import a.wav --track dx",
            "add-bus hall",
            "send dx hall -12",
            "insert dx compressor",
            "automation dx gain_db add 0.5 -6",
            "automation dx gain_db add 1.5 0",
            "automation dx gain_db add 1 -20",
            // A point at a time already there takes the new value.
            "automation dx gain_db add 1 -18",
            "automation dx pan points 0=-1 1=1",
            "automation dx send.hall add 0 -30",
            "automation dx insert.1.ratio add 0 2",
            "automation hall gain_db add 0.25 -3",
            "set session.frame_rate 25",
            // Timecode on the session's clock: 00:00:01:00 is 1 s.
            "automation dx pan clear 00:00:00:00 00:00:00:12",
            "automation dx send.hall clear",
        ],
    ));
    let s = session(&f);
    let dx = track(&s, "dx");
    assert_eq!(
        lane(dx, "gain_db").unwrap(),
        vec![(0.5, -6.0), (1.0, -18.0), (1.5, 0.0)]
    );
    assert_eq!(lane(dx, "pan").unwrap(), vec![(1.0, 1.0)]);
    assert_eq!(lane(dx, "send.hall"), None, "a cleared lane is removed");
    assert_eq!(lane(dx, "insert.1.ratio").unwrap(), vec![(0.0, 2.0)]);
    let hall = s["bus"].as_array().unwrap()[0].as_table().unwrap();
    assert_eq!(lane(hall, "gain_db").unwrap(), vec![(0.25, -3.0)]);
    // Each command is one undo step, and checked as a load would check it.
    ok(&edit(
        &f,
        &["automation dx gain_db points 0=0 2=-6", "undo"],
    ));
    assert_eq!(
        lane(track(&session(&f), "dx"), "gain_db").unwrap(),
        vec![(0.5, -6.0), (1.0, -18.0), (1.5, 0.0)]
    );
    for (bad, says) in [
        ("automation dx gain_db add 1 1e9", "gain_db 1000000000"),
        ("automation dx insert.1.ratio add 0 0.5", "ratio 0.5"),
        ("automation dx volume add 0 1", "unknown parameter"),
        (
            "automation nobody gain_db add 0 1",
            "no track or bus 'nobody'",
        ),
        ("automation dx gain_db points 1=0 0.5=1", "not later"),
        ("automation dx gain_db points 1:0", "expected TIME=VALUE"),
        (
            "automation dx gain_db clear 2 1",
            "the end is before the start",
        ),
        (
            "automation dx gain_db move 1 2",
            "expected `automation STRIP PARAM",
        ),
    ] {
        let o = edit(&f, &[bad]);
        assert!(!o.status.success(), "{bad} was accepted");
        assert!(stderr(&o).contains(says), "{bad}: {}", stderr(&o));
    }
    // The edited session loads and renders.
    ok(&run(
        &f,
        &["render", "s.toml", "-o", "mix.wav", "--engine", "cpu"],
    ));
}

/// `automation STRIP PARAM shape step`: the lane holds each point's value to the next one.
/// Rendered, the step lane's output over the same session without automation is exactly
/// −20 dB before 1 s and 0 dB from 1 s on (a straight lane would be between); `shape
/// linear` takes it back, and an unknown shape is refused.
#[test]
fn a_step_lane_holds_its_values_in_the_render() {
    let (f, _, _) = material();
    ok(&edit(&f, &["import a.wav --track dx"]));
    let render = |name: &str| {
        ok(&run(
            &f,
            &[
                "render", "s.toml", "-o", name, "--format", "f32", "--engine", "cpu",
            ],
        ));
        read(&f.path(name))
    };
    let flat = render("flat.wav");
    ok(&edit(
        &f,
        &[
            "automation dx gain_db points 0=-20 1=0",
            "automation dx gain_db shape step",
        ],
    ));
    let s = session(&f);
    let lanes = track(&s, "dx")["automation"].as_array().unwrap().clone();
    assert_eq!(lanes[0]["shape"].as_str(), Some("step"));
    let stepped = render("step.wav");
    let mut checked = 0;
    for i in (0..flat[0].len()).step_by(97) {
        if flat[0][i].abs() < 1e-3 {
            continue;
        }
        let want = if i < RATE as usize { 0.1 } else { 1.0 };
        let ratio = stepped[0][i] / flat[0][i];
        assert!((ratio - want).abs() < 1e-4, "sample {i}: {ratio} vs {want}");
        checked += 1;
    }
    assert!(checked > 500, "{checked}");
    ok(&edit(&f, &["automation dx gain_db shape linear"]));
    let lanes = track(&session(&f), "dx")["automation"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(lanes[0].get("shape"), None, "linear is the default");
    let o = edit(&f, &["automation dx gain_db shape smooth"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("expected linear or step"),
        "{}",
        stderr(&o)
    );
    let o = edit(&f, &["automation dx pan shape step"]);
    assert!(stderr(&o).contains("no pan lane"), "{}", stderr(&o));
}
