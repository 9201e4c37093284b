//! The real window under Xvfb: `mixstation open` with the demo session plays it, draws the
//! mixer, spectrogram and scopes with real data, saves a screenshot and exits — with the wgpu
//! renderer (on lavapipe) and with the software tiny-skia renderer. A broken session shows
//! its error in the window instead of crashing.

mod common;

use common::{noise, read, write_f32};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn xvfb() -> bool {
    let found = Command::new("xvfb-run")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set and xvfb-run is missing (apt package xvfb)");
        }
        eprintln!("SKIPPED WINDOW TEST (not in CI): xvfb-run not found");
    }
    found
}

/// Runs the binary under a virtual X server, killing it after two minutes.
fn under_xvfb(args: &[&str], backend: &str) -> Output {
    let mut command = Command::new("xvfb-run");
    command
        .args([
            "-a",
            "-s",
            "-screen 0 1600x1100x24",
            env!("CARGO_BIN_EXE_mixstation"),
        ])
        .args(args)
        .env("ICED_BACKEND", backend)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("mixstation-window-test"),
        );
    within_two_minutes(command)
}

/// Runs `command` with its output captured, killing it (and failing the test) after two
/// minutes.
fn within_two_minutes(mut command: Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run xvfb-run");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the window did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().expect("output")
}

/// The number in `text` right after `key`.
fn number_after(text: &str, key: &str) -> Option<f64> {
    let rest = &text[text.find(key)? + key.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn distinct_colours(png_path: &Path) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let mut colours = std::collections::HashSet::new();
    for px in buf[..info.buffer_size()].chunks_exact(4) {
        colours.insert([px[0], px[1], px[2]]);
    }
    (info.width, info.height, colours.len())
}

#[test]
fn the_window_plays_the_demo_and_shows_real_data_on_both_renderers() {
    if !xvfb() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = Command::new(env!("CARGO_BIN_EXE_mixstation"))
        .args(["demo", "--out", out.to_str().unwrap(), "--seconds", "8"])
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let session = out.join("demo.toml");
    for backend in ["wgpu", "tiny-skia"] {
        let shot = dir.path().join(format!("window-{backend}.png"));
        let o = under_xvfb(
            &[
                "open",
                session.to_str().unwrap(),
                "--screenshot",
                shot.to_str().unwrap(),
                "--after",
                "3",
            ],
            backend,
        );
        let stdout = String::from_utf8_lossy(&o.stdout);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{backend}: {stdout}\n{stderr}");
        assert!(!stderr.contains("panicked"), "{backend}: {stderr}");
        // Real data: meter frames arrived, loudness was measured, the spectrogram scrolled.
        let frames = number_after(&stdout, "meters: ").unwrap_or(0.0);
        let integrated = number_after(&stdout, "integrated ");
        let rows = number_after(&stdout, "spectrogram rows ").unwrap_or(0.0);
        let points = number_after(&stdout, "goniometer points ").unwrap_or(0.0);
        eprintln!(
            "{backend}: {frames} frames, integrated {integrated:?}, {rows} rows, {points} points"
        );
        assert!(
            frames >= 50.0,
            "{backend}: only {frames} meter frames: {stdout}"
        );
        assert!(
            integrated.is_some_and(|i| (-40.0..-10.0).contains(&i)),
            "{backend}: {stdout}"
        );
        assert!(rows >= 30.0 && points > 0.0, "{backend}: {stdout}");
        let (w, h, colours) = distinct_colours(&shot);
        eprintln!("{backend}: screenshot {w}x{h}, {colours} colours");
        assert!(w >= 800 && h >= 600, "{backend}: {w}x{h}");
        assert!(
            colours > 300,
            "{backend}: only {colours} colours: an empty window?"
        );
    }
}

#[test]
fn a_broken_session_shows_its_error_in_the_window() {
    if !xvfb() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("broken.toml");
    std::fs::write(
        &session,
        // (A missing file alone opens, with that clip offline; an impossible value does not.)
        "[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\nfile = \"missing.wav\"\ngain_db = 300.0\n",
    )
    .unwrap();
    let shot = dir.path().join("broken.png");
    let o = under_xvfb(
        &[
            "open",
            session.to_str().unwrap(),
            "--screenshot",
            shot.to_str().unwrap(),
            "--after",
            "1",
        ],
        "tiny-skia",
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stdout.contains("error shown in the window") && stdout.contains("gain_db 300"),
        "{stdout}"
    );
    assert!(shot.is_file());
}

/// Whether `xdotool` is here (CI installs it: `make deps`).
fn xdotool() -> bool {
    let found = Command::new("xdotool")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found && std::env::var_os("CI").is_some() {
        panic!("CI is set and xdotool is missing (apt package xdotool)");
    }
    found
}

/// The start of every driven window: open `s.toml`, wait for the window, focus it.
fn preamble() -> String {
    format!(
        "set -e\nICED_BACKEND=tiny-skia \"{}\" open s.toml > app.log 2>&1 &\nAPP=$!\n\
         WID=$(timeout 60 xdotool search --sync --onlyvisible --name mixstation | head -1)\n\
         sleep 3\nxdotool windowfocus --sync \"$WID\"\n",
        env!("CARGO_BIN_EXE_mixstation")
    )
}

/// The end of every driven window: close it.
const POSTAMBLE: &str = "kill $APP\nwait $APP || true\n";

/// Runs `script` (bash) under a virtual X server in `root`; returns the app's log (the
/// script writes it to app.log). Fails the test when the script fails or hangs.
fn drive(root: &Path, script: &str) -> String {
    std::fs::write(root.join("drive.sh"), script).unwrap();
    let mut command = Command::new("xvfb-run");
    command
        .args(["-a", "-s", "-screen 0 1600x1100x24", "bash", "drive.sh"])
        .current_dir(root)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .env("XDG_CONFIG_HOME", root.join("config"));
    let o = within_two_minutes(command);
    let log = std::fs::read_to_string(root.join("app.log")).unwrap_or_default();
    assert!(
        o.status.success(),
        "{}\n{}\napp: {log}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    log
}

/// Renders `session` in `root` with the CPU engine to 32-bit float; the channels.
fn render(root: &Path, session: &str) -> Vec<Vec<f32>> {
    let o = Command::new(env!("CARGO_BIN_EXE_mixstation"))
        .current_dir(root)
        .args([
            "render", session, "-o", "mix.wav", "--format", "f32", "--engine", "cpu",
        ])
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    read(&root.join("mix.wav"))
}

/// A user at the keyboard: Ctrl+I, types a file's path, Enter (the file becomes a track),
/// Ctrl+S; then Ctrl+Z, Ctrl+S. The saved sessions keep the user's comments, the first
/// renders to the arithmetic of the import, the second is the original again.
#[test]
fn the_window_imports_saves_and_undoes_from_the_keyboard() {
    if !xvfb() || !xdotool() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let a = noise(48_000, 5);
    let b = noise(24_000, 9);
    write_f32(&root.join("a.wav"), 48_000, std::slice::from_ref(&a));
    write_f32(&root.join("b.wav"), 48_000, std::slice::from_ref(&b));
    let original = "# window test session\n[session]\nsample_rate = 48000 # rate\n\n[[track]]\nname = \"dx\"\nfile = \"a.wav\"  # dialogue\ngain_db = -2.0\n";
    std::fs::write(root.join("s.toml"), original).unwrap();
    let script = format!(
        r#"{preamble}xdotool key ctrl+i
sleep 0.5
xdotool type --delay 20 "{b}"
xdotool key Return
sleep 2
xdotool key ctrl+s
sleep 1.5
cp s.toml step1.toml
xdotool key ctrl+z
sleep 2
xdotool key ctrl+s
sleep 1.5
cp s.toml step2.toml
{POSTAMBLE}"#,
        preamble = preamble(),
        b = root.join("b.wav").display(),
    );
    let log = drive(root, &script);
    assert!(!log.contains("panicked"), "{log}");
    let step1 = std::fs::read_to_string(root.join("step1.toml")).unwrap();
    assert!(
        step1.starts_with(original),
        "the user's text is kept:\n{step1}"
    );
    let parsed: toml::Table = step1.parse().unwrap();
    let tracks = parsed["track"].as_array().unwrap();
    assert_eq!(tracks.len(), 2, "{step1}");
    assert_eq!(tracks[1]["name"].as_str(), Some("b"));
    assert_eq!(tracks[1]["clip"][0]["file"].as_str(), Some("b.wav"));
    // The saved session renders to the arithmetic of the import (both centred).
    let mix = render(root, "step1.toml");
    let (g, centre) = (10f64.powf(-2.0 / 20.0), std::f64::consts::FRAC_PI_4.cos());
    let worst = (0..a.len())
        .map(|i| {
            let want = centre * (g * f64::from(a[i]) + f64::from(b.get(i).copied().unwrap_or(0.0)));
            (f64::from(mix[0][i]) - want)
                .abs()
                .max((f64::from(mix[1][i]) - want).abs())
        })
        .fold(0.0, f64::max);
    assert!(worst < 1e-6, "render error {worst:e}");
    // Undone and saved: the original file, byte for byte.
    let step2 = std::fs::read_to_string(root.join("step2.toml")).unwrap();
    assert_eq!(step2, original);
}

/// A user with the mouse: drags a clip onto a marker on the timeline (it snaps), drags
/// another clip's end onto the same marker (a trim), undoes and redoes the trim from the
/// keyboard and saves; the saved session renders to the arithmetic of those edits.
/// Positions are the timeline's (window at the screen's origin, 1500 × 1000).
#[test]
fn the_window_moves_and_trims_clips_with_the_mouse() {
    if !xvfb() || !xdotool() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let a = noise(96_000, 5);
    let b = noise(48_000, 9);
    write_f32(&root.join("a.wav"), 48_000, std::slice::from_ref(&a));
    write_f32(&root.join("b.wav"), 48_000, std::slice::from_ref(&b));
    let original = "# mouse test\n[session]\nsample_rate = 48000\n\n[[track]]\nname = \"dx\"\nfile = \"a.wav\"  # dialogue\ngain_db = -2.0\n\n[[track]]\nname = \"fx\"\n[[track.clip]]\nfile = \"b.wav\"\nstart = 0.5\nfade_in = 0.1\nfade_out = 0.3\ngain_db = -3.0\n\n[[marker]]\nname = \"scene\"\nat = 1.5\n";
    std::fs::write(root.join("s.toml"), original).unwrap();
    // The timeline canvas starts at (10, 46); time zero is 90 px in; it shows the session
    // and 5 % more over 1390 px. Lane k's clips span y = 70 + 30k … 96 + 30k.
    let x = |t: f64, length: f64| (100.0 + t / (length * 1.05) * 1390.0).round() as i64;
    let script = format!(
        r#"{preamble}drag() {{
  xdotool mousemove --window "$WID" $1 $2 mousedown 1
  sleep 0.3
  xdotool mousemove --window "$WID" $(( ($1 + $3) / 2 )) $4
  sleep 0.2
  xdotool mousemove --window "$WID" $3 $4
  sleep 0.3
  xdotool mouseup 1
  sleep 2
}}
drag {fx_from} 118 {fx_to} 118
drag {dx_from} 88 {dx_to} 88
xdotool key ctrl+z
sleep 2
xdotool key ctrl+y
sleep 2
xdotool key ctrl+s
sleep 1.5
{POSTAMBLE}"#,
        preamble = preamble(),
        fx_from = x(1.0, 2.0),
        fx_to = x(2.0, 2.0),
        dx_from = x(2.0, 2.5) - 2,
        dx_to = x(1.5, 2.5) - 2,
    );
    let log = drive(root, &script);
    assert!(!log.contains("panicked"), "{log}");
    let saved = std::fs::read_to_string(root.join("s.toml")).unwrap();
    assert!(saved.starts_with("# mouse test\n"), "{saved}");
    assert!(
        saved.contains("# dialogue"),
        "comments move with their values: {saved}"
    );
    let parsed: toml::Table = saved.parse().unwrap();
    let tracks = parsed["track"].as_array().unwrap();
    let num = |v: &toml::Value| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap();
    assert_eq!(
        num(&tracks[1]["clip"][0]["start"]),
        1.5,
        "snapped to the marker:\n{saved}"
    );
    assert_eq!(
        num(&tracks[0]["clip"][0]["length"]),
        1.5,
        "trimmed to the marker:\n{saved}"
    );
    // The render: dx (−2 dB) for 1.5 s, then fx (−3 dB, linear fades 0.1 s / 0.3 s) from
    // 1.5 s, both centred.
    let mix = render(root, "s.toml");
    let centre = std::f64::consts::FRAC_PI_4.cos();
    let (gd, gf) = (10f64.powf(-2.0 / 20.0), 10f64.powf(-3.0 / 20.0));
    let (fi, fo, len) = (4_800usize, 14_400usize, b.len());
    let mut worst = 0.0f64;
    for i in 0..120_000 {
        let mut want = if i < 72_000 {
            gd * f64::from(a[i])
        } else {
            0.0
        };
        if i >= 72_000 {
            let k = i - 72_000;
            let mut g = gf;
            if k < fi {
                g *= k as f64 / fi as f64;
            }
            if len - k <= fo {
                g *= (len - k) as f64 / fo as f64;
            }
            want += g * f64::from(b[k]);
        }
        want *= centre;
        worst = worst.max((f64::from(mix[0][i]) - want).abs());
    }
    assert!(worst < 1e-6, "render error {worst:e}");
}

/// Faders as a mixer uses them: a click away from the thumb moves nothing, a drag moves
/// the fader by how far the mouse went (not to where it is), a typed value is taken
/// exactly, a double-click returns to 0 dB. Positions are the first two strips' faders
/// (window at the origin, 1500 × 1000): x = 27 and 137, travel y = 242 … 452.
#[test]
fn the_window_faders_never_jump_and_take_typed_values() {
    if !xvfb() || !xdotool() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_f32(&root.join("a.wav"), 48_000, &[noise(48_000, 5)]);
    write_f32(&root.join("b.wav"), 48_000, &[noise(48_000, 9)]);
    let original = "[session]\nsample_rate = 48000\n\n[[track]]\nname = \"dx\"\nfile = \"a.wav\"\ngain_db = -2.0  # a little down\n\n[[track]]\nname = \"fx\"\nfile = \"b.wav\"\n";
    std::fs::write(root.join("s.toml"), original).unwrap();
    let script = format!(
        r#"{preamble}# A click far below fx's thumb (at 0 dB): nothing moves.
xdotool mousemove --window "$WID" 137 435 click 1
sleep 0.5
# A typed value for dx.
xdotool mousemove --window "$WID" 45 471 click 1
sleep 0.3
xdotool key ctrl+a
xdotool type --delay 30 -- "-6.5"
xdotool key Return
sleep 0.5
xdotool key ctrl+s
sleep 1.5
cp s.toml step1.toml
# A drag up by 21 pixels on fx, starting away from its thumb.
xdotool mousemove --window "$WID" 137 415 mousedown 1
sleep 0.3
xdotool mousemove --window "$WID" 137 405
sleep 0.2
xdotool mousemove --window "$WID" 137 394
sleep 0.3
xdotool mouseup 1
sleep 0.5
# A double-click on dx's fader: back to 0 dB.
xdotool mousemove --window "$WID" 27 415 click --repeat 2 --delay 120 1
sleep 0.5
xdotool key ctrl+s
sleep 1.5
{POSTAMBLE}"#,
        preamble = preamble(),
    );
    let log = drive(root, &script);
    assert!(!log.contains("panicked"), "{log}");
    let gain = |file: &str, track: usize| -> Option<f64> {
        let t: toml::Table = std::fs::read_to_string(root.join(file))
            .unwrap()
            .parse()
            .unwrap();
        t["track"][track]
            .get("gain_db")
            .map(|v| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap())
    };
    let step1 = std::fs::read_to_string(root.join("step1.toml")).unwrap();
    assert_eq!(gain("step1.toml", 0), Some(-6.5), "{step1}");
    assert!(step1.contains("gain_db = -6.5  # a little down"), "{step1}");
    assert_eq!(gain("step1.toml", 1), None, "the click moved fx:\n{step1}");
    let saved = std::fs::read_to_string(root.join("s.toml")).unwrap();
    assert_eq!(
        gain("s.toml", 0),
        Some(0.0),
        "double-click resets:\n{saved}"
    );
    // 21 pixels of a 220-pixel fader from 0 dB: about +4.6 dB (a jump to the pointer
    // would read about −37 dB).
    let fx = gain("s.toml", 1).unwrap_or(0.0);
    assert!((3.5..6.5).contains(&fx), "fx {fx}:\n{saved}");
}

/// During playback a user drags a fader that plays its automation (`read`) and one that
/// has none: the automated one refuses the hand (its saved value stays; the window shows
/// why) while the other moves; the automation is untouched.
#[test]
fn the_window_refuses_a_hand_on_an_automated_fader() {
    if !xvfb() || !xdotool() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_f32(&root.join("a.wav"), 48_000, &[noise(4 * 48_000, 5)]);
    write_f32(&root.join("b.wav"), 48_000, &[noise(4 * 48_000, 9)]);
    let original = "[session]\nsample_rate = 48000\n\n[[track]]\nname = \"dx\"\nfile = \"a.wav\"\n\
        [[track.automation]]\nparam = \"gain_db\"\npoints = [[0.0, -20.0], [4.0, 0.0]]\n\n\
        [[track]]\nname = \"fx\"\nfile = \"b.wav\"\n";
    std::fs::write(root.join("s.toml"), original).unwrap();
    let script = format!(
        r#"{preamble}xdotool key space
sleep 1
# Drags up by 21 pixels on dx (automated) and on fx, starting away from their thumbs.
xdotool mousemove --window "$WID" 27 415 mousedown 1
sleep 0.3
xdotool mousemove --window "$WID" 27 405
sleep 0.2
xdotool mousemove --window "$WID" 27 394
sleep 0.3
xdotool mouseup 1
sleep 0.3
xdotool mousemove --window "$WID" 137 415 mousedown 1
sleep 0.3
xdotool mousemove --window "$WID" 137 405
sleep 0.2
xdotool mousemove --window "$WID" 137 394
sleep 0.3
xdotool mouseup 1
sleep 0.3
xdotool key space
sleep 0.3
xdotool key ctrl+s
sleep 1.5
{POSTAMBLE}"#,
        preamble = preamble(),
    );
    let log = drive(root, &script);
    assert!(!log.contains("panicked"), "{log}");
    let saved = std::fs::read_to_string(root.join("s.toml")).unwrap();
    let t: toml::Table = saved.parse().unwrap();
    let gain = |k: usize| {
        t["track"][k]
            .get("gain_db")
            .map(|v| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap())
    };
    assert_eq!(gain(0), None, "the automated fader moved:\n{saved}");
    assert!(
        gain(1).is_some_and(|g| (3.5..6.5).contains(&g)),
        "fx did not move:\n{saved}"
    );
    assert!(
        saved.contains("points = [[0.0, -20.0], [4.0, 0.0]]"),
        "{saved}"
    );
}

/// Automation written by hand in the window: dx (`touch`, over a −20 → 0 dB ramp) is
/// dragged down and let go while playing, fx (`latch`, no automation) is pushed up; at
/// stop both lanes are kept as one edit (saved with Ctrl+S): dx dips and glides back to
/// its ramp, fx holds its move to the end of the pass. One Ctrl+Z takes both back; a
/// click on dx's mode button steps it from touch to latch.
#[test]
fn the_window_writes_automation_by_hand_in_touch_and_latch() {
    if !xvfb() || !xdotool() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_f32(&root.join("a.wav"), 48_000, &[noise(4 * 48_000, 5)]);
    write_f32(&root.join("b.wav"), 48_000, &[noise(4 * 48_000, 9)]);
    let original = "[session]\nsample_rate = 48000\n\n[[track]]\nname = \"dx\"\nfile = \"a.wav\"\n\
        automation_mode = \"touch\"\n\
        [[track.automation]]\nparam = \"gain_db\"\npoints = [[0.0, -20.0], [4.0, 0.0]]\n\n\
        [[track]]\nname = \"fx\"\nfile = \"b.wav\"\nautomation_mode = \"latch\"\n";
    std::fs::write(root.join("s.toml"), original).unwrap();
    let script = format!(
        r#"{preamble}xdotool key space
sleep 0.6
# dx: grabbed, pulled down 45 px, held, let go.
xdotool mousemove --window "$WID" 27 415 mousedown 1
sleep 0.2
xdotool mousemove --window "$WID" 27 440
sleep 0.2
xdotool mousemove --window "$WID" 27 460
sleep 0.6
xdotool mouseup 1
sleep 0.4
# fx: pushed up 25 px and let go (latch keeps writing).
xdotool mousemove --window "$WID" 137 415 mousedown 1
sleep 0.2
xdotool mousemove --window "$WID" 137 390
sleep 0.3
xdotool mouseup 1
sleep 0.4
xdotool key space
sleep 2
xdotool key ctrl+s
sleep 1.5
cp s.toml written.toml
xdotool key ctrl+z
sleep 1.5
xdotool key ctrl+s
sleep 1.5
cp s.toml undone.toml
# dx's mode button, under its level entry.
xdotool mousemove --window "$WID" 36 494 click 1
sleep 1.5
xdotool key ctrl+s
sleep 1.5
{POSTAMBLE}"#,
        preamble = preamble(),
    );
    let log = drive(root, &script);
    assert!(!log.contains("panicked"), "{log}");
    let written = std::fs::read_to_string(root.join("written.toml")).unwrap();
    let t: toml::Table = written.parse().unwrap();
    let num = |v: &toml::Value| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap();
    let lane = |k: usize| -> Vec<(f64, f64)> {
        t["track"][k]
            .get("automation")
            .and_then(|a| a.as_array())
            .and_then(|a| a.iter().find(|l| l["param"].as_str() == Some("gain_db")))
            .map(|l| {
                l["points"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| (num(&p[0]), num(&p[1])))
                    .collect()
            })
            .unwrap_or_default()
    };
    let at = |points: &[(f64, f64)], t: f64| gpu_dsp::mix::envelope_at(points, t, f64::NAN);
    let ramp = |t: f64| -20.0 + 5.0 * t;
    let dx = lane(0);
    assert!(dx.len() > 3, "dx kept no ride:\n{written}");
    let dip = dx.iter().map(|p| p.1 - ramp(p.0)).fold(0.0, f64::min);
    assert!(dip < -8.0, "dx did not dip ({dip} dB):\n{written}");
    assert!(
        (at(&dx, 3.9) - ramp(3.9)).abs() < 0.1,
        "dx is back on its ramp:\n{written}"
    );
    let fx = lane(1);
    assert!(!fx.is_empty(), "fx wrote nothing:\n{written}");
    // Latch holds the push until the stop, then the pass ends (back to 0 dB one step on).
    let stop = fx.last().unwrap().0;
    assert!(
        at(&fx, stop - 0.01) > 1.0 && at(&fx, stop - 0.5) > 1.0,
        "fx holds its push to the stop: {fx:?}"
    );
    assert_eq!(t["track"][1].get("gain_db"), None, "the static fader stays");
    let undone = std::fs::read_to_string(root.join("undone.toml")).unwrap();
    assert!(
        undone.contains("points = [[0.0, -20.0], [4.0, 0.0]]")
            && undone.matches("[[track.automation]]").count() == 1,
        "one undo takes both lanes back:\n{undone}"
    );
    let last = std::fs::read_to_string(root.join("s.toml")).unwrap();
    let t: toml::Table = last.parse().unwrap();
    assert_eq!(
        t["track"][0]["automation_mode"].as_str(),
        Some("latch"),
        "the mode button:\n{last}"
    );
}

/// An automation lane under a track (dx's pan), edited with the mouse: a point dragged to
/// a new time and value, a band drawn round another and Delete, a click adding a point,
/// and the lane's glyph switching it to step; saved with Ctrl+S.
#[test]
fn the_window_edits_an_automation_lane_with_the_mouse() {
    if !xvfb() || !xdotool() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_f32(&root.join("a.wav"), 48_000, &[noise(4 * 48_000, 5)]);
    let original = "[session]\nsample_rate = 48000\n\n[[track]]\nname = \"dx\"\nfile = \"a.wav\"\n\
        [[track.automation]]\nparam = \"pan\"\npoints = [[0.0, -1.0], [2.0, 1.0], [4.0, 0.0]]\n";
    std::fs::write(root.join("s.toml"), original).unwrap();
    // The canvas at (10, 50): time zero 90 px in, 4 s and 5 % more over 1390 px; dx's clip
    // lane y = 72 … 102, its pan lane y = 102 … 124 (−1 at y 121, +1 at y 105).
    let x = |t: f64| (100.0 + t / (4.0 * 1.05) * 1390.0).round() as i64;
    let script = format!(
        r#"{preamble}xdotool mousemove --window "$WID" {x2} 105 mousedown 1
sleep 0.2
xdotool mousemove --window "$WID" {x24} 109
sleep 0.2
xdotool mousemove --window "$WID" {x25} 113
sleep 0.2
xdotool mouseup 1
sleep 1.5
xdotool mousemove --window "$WID" {x35} 103 mousedown 1
sleep 0.2
xdotool mousemove --window "$WID" {x41} 123
sleep 0.2
xdotool mouseup 1
sleep 0.3
xdotool key Delete
sleep 1.5
xdotool mousemove --window "$WID" {x1} 113 click 1
sleep 1.5
xdotool mousemove --window "$WID" 90 110 click 1
sleep 1.5
xdotool key ctrl+s
sleep 1.5
{POSTAMBLE}"#,
        preamble = preamble(),
        x1 = x(1.0),
        x2 = x(2.0),
        x24 = x(2.3),
        x25 = x(2.5),
        x35 = x(3.5),
        x41 = x(4.1),
    );
    let log = drive(root, &script);
    assert!(!log.contains("panicked"), "{log}");
    let saved = std::fs::read_to_string(root.join("s.toml")).unwrap();
    let t: toml::Table = saved.parse().unwrap();
    let lane = &t["track"][0]["automation"][0];
    assert_eq!(lane["param"].as_str(), Some("pan"), "{saved}");
    assert_eq!(lane["shape"].as_str(), Some("step"), "{saved}");
    let num = |v: &toml::Value| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap();
    let points: Vec<(f64, f64)> = lane["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (num(&p[0]), num(&p[1])))
        .collect();
    assert_eq!(points.len(), 3, "{saved}");
    assert_eq!(points[0], (0.0, -1.0), "{saved}");
    // The click: a point at 1 s (one pixel is 3 ms) at the lane's middle (pan 0 ± a pixel).
    assert!(
        (points[1].0 - 1.0).abs() < 0.01 && points[1].1.abs() < 0.15,
        "{saved}"
    );
    // The dragged point: from (2 s, +1) to about (2.5 s, 0).
    assert!(
        (points[2].0 - 2.5).abs() < 0.01 && points[2].1.abs() < 0.15,
        "{saved}"
    );
}

/// A VCA master has a strip after the buses: dragging its fader up raises its members
/// (saved as the VCA's `gain_db`, the members' faders untouched).
#[test]
fn the_window_rides_a_vca_strip() {
    if !xvfb() || !xdotool() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_f32(&root.join("a.wav"), 48_000, &[noise(48_000, 5)]);
    write_f32(&root.join("b.wav"), 48_000, &[noise(48_000, 9)]);
    let original =
        "[session]\nsample_rate = 48000\n\n[[track]]\nname = \"dx\"\nfile = \"a.wav\"\n\n\
        [[track]]\nname = \"fx\"\nfile = \"b.wav\"\n\n\
        [[vca]]\nname = \"all\"\nmembers = [\"dx\", \"fx\"]\ngain_db = -3.0\n";
    std::fs::write(root.join("s.toml"), original).unwrap();
    // The third strip's fader (after dx and fx), grabbed below its thumb and pushed up.
    let script = format!(
        r#"{preamble}xdotool mousemove --window "$WID" 246 400 mousedown 1
sleep 0.3
xdotool mousemove --window "$WID" 246 390
sleep 0.2
xdotool mousemove --window "$WID" 246 380
sleep 0.3
xdotool mouseup 1
sleep 0.5
xdotool key ctrl+s
sleep 1.5
{POSTAMBLE}"#,
        preamble = preamble(),
    );
    let log = drive(root, &script);
    assert!(!log.contains("panicked"), "{log}");
    let saved = std::fs::read_to_string(root.join("s.toml")).unwrap();
    let t: toml::Table = saved.parse().unwrap();
    let num = |v: &toml::Value| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap();
    let vca = num(&t["vca"][0]["gain_db"]);
    assert!(
        vca > -2.0 && vca < 6.0,
        "the VCA moved up from −3 dB: {vca}\n{saved}"
    );
    assert_eq!(t["track"][0].get("gain_db"), None, "{saved}");
    assert_eq!(t["track"][1].get("gain_db"), None, "{saved}");
}

/// Alt+click on a track's lane adds a fader automation point there (an edit command, saved
/// with Ctrl+S; the lane then draws it), and Ctrl+Z takes it back.
#[test]
fn the_window_adds_automation_points_with_alt_click() {
    if !xvfb() || !xdotool() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_f32(&root.join("a.wav"), 48_000, &[noise(96_000, 5)]);
    let original = "[session]\nsample_rate = 48000\n\n[[track]]\nname = \"dx\"\nfile = \"a.wav\"\n";
    std::fs::write(root.join("s.toml"), original).unwrap();
    // As in the clip test: time zero 90 px into the canvas at (10, 46), the session and 5 %
    // more over 1390 px; lane 0 spans y = 70 … 96.
    let x = |t: f64| (100.0 + t / (2.0 * 1.05) * 1390.0).round() as i64;
    let script = format!(
        r#"{preamble}xdotool mousemove --window "$WID" {x1} 80
sleep 0.3
xdotool keydown alt
sleep 0.2
xdotool click 1
sleep 0.2
xdotool keyup alt
sleep 1
xdotool key ctrl+s
sleep 1.5
cp s.toml added.toml
xdotool key ctrl+z
sleep 1
xdotool key ctrl+s
sleep 1.5
{POSTAMBLE}"#,
        preamble = preamble(),
        x1 = x(1.0),
    );
    let log = drive(root, &script);
    assert!(!log.contains("panicked"), "{log}");
    let added = std::fs::read_to_string(root.join("added.toml")).unwrap();
    let t: toml::Table = added.parse().unwrap();
    let lane = &t["track"][0]["automation"][0];
    assert_eq!(lane["param"].as_str(), Some("gain_db"), "{added}");
    let points = lane["points"].as_array().unwrap();
    assert_eq!(points.len(), 1, "{added}");
    let num = |v: &toml::Value| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap();
    let (at, db) = (num(&points[0][0]), num(&points[0][1]));
    assert!((at - 1.0).abs() < 0.01, "at {at}:\n{added}");
    assert!((-60.0..=12.0).contains(&db), "{db}:\n{added}");
    let undone = std::fs::read_to_string(root.join("s.toml")).unwrap();
    assert!(!undone.contains("automation"), "undo:\n{undone}");
}

/// Ctrl+E, Enter: the export panel renders the session in the background to
/// `SESSION-mix.wav`, the same samples `mixstation render` writes.
#[test]
fn the_window_exports_what_render_writes() {
    if !xvfb() || !xdotool() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_f32(&root.join("a.wav"), 48_000, &[noise(96_000, 5)]);
    std::fs::write(
        root.join("s.toml"),
        "[session]\nsample_rate = 48000\n[master]\nloudness_target = -23.0\n\n[[track]]\nname = \"dx\"\nfile = \"a.wav\"\n",
    )
    .unwrap();
    let script = format!(
        r#"{preamble}xdotool key ctrl+e
sleep 1
xdotool key Return
for i in $(seq 1 100); do [ -f s-mix.wav ] && break; sleep 0.2; done
sleep 1
{POSTAMBLE}"#,
        preamble = preamble(),
    );
    let log = drive(root, &script);
    assert!(!log.contains("panicked"), "{log}");
    assert!(root.join("s-mix.wav").is_file(), "no export: {log}");
    let o = Command::new(env!("CARGO_BIN_EXE_mixstation"))
        .current_dir(root)
        .args(["render", "s.toml", "-o", "ref.wav", "--engine", "cpu"])
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let exported = read(&root.join("s-mix.wav"));
    let reference = read(&root.join("ref.wav"));
    assert_eq!(exported, reference, "the export and `render` differ");
}

/// The import dialog and the console's new buttons, as a user reaches them: Ctrl+Shift+I
/// opens the dialog, a typed name imports the file at the playhead; a click bypasses the
/// dialogue compressor, another solos the hall bus, another moves the new track to the
/// left of dx; Ctrl+S. The saved session holds all four, and renders to the arithmetic of
/// them (the compressor bypassed, so dx passes unchanged). Positions are the strips' (window
/// at the origin, 1500 × 1000, two lanes): dx's first insert's `b` at (88, 190), the hall
/// bus's S at (283, 476), the second strip's ◂ at (201, 154).
#[test]
fn the_window_imports_through_its_dialog_and_bypasses_solos_and_reorders() {
    if !xvfb() || !xdotool() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let a = noise(48_000, 5);
    let b = noise(48_000, 9);
    write_f32(&root.join("a.wav"), 48_000, std::slice::from_ref(&a));
    write_f32(&root.join("b.wav"), 48_000, std::slice::from_ref(&b));
    let original = "[session]\nsample_rate = 48000\n\n[[track]]\nname = \"dx\"\nfile = \"a.wav\"\n[[track.insert]]\ntype = \"compressor\"\nthreshold_db = -40.0\nratio = 8.0\n[[track.send]]\nbus = \"hall\"\nlevel_db = -6.0\n\n[[bus]]\nname = \"hall\"\n[[bus.insert]]\ntype = \"eq\"\nbands = []\n";
    std::fs::write(root.join("s.toml"), original).unwrap();
    let script = format!(
        r#"{preamble}xdotool key ctrl+shift+i
sleep 1
xdotool type --delay 20 "b.wav"
xdotool key Return
sleep 2
click() {{
  xdotool mousemove --window "$WID" $1 $2 click 1
  sleep 1.5
}}
click 88 190
click 283 476
click 201 154
sleep 1
xdotool key ctrl+s
sleep 1.5
{POSTAMBLE}"#,
        preamble = preamble(),
    );
    let log = drive(root, &script);
    assert!(!log.contains("panicked"), "{log}");
    let saved = std::fs::read_to_string(root.join("s.toml")).unwrap();
    let parsed: toml::Table = saved.parse().unwrap();
    let tracks = parsed["track"].as_array().unwrap();
    let names: Vec<&str> = tracks.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["b", "dx"], "{saved}");
    assert_eq!(tracks[0]["clip"][0]["file"].as_str(), Some("b.wav"));
    assert_eq!(
        tracks[1]["insert"][0]["bypass"].as_bool(),
        Some(true),
        "{saved}"
    );
    assert_eq!(parsed["bus"][0]["solo"].as_bool(), Some(true), "{saved}");
    // The hall is soloed: b (which feeds no soloed bus) is silent; dx is heard whole (it
    // feeds the hall) with its compressor bypassed, plus its −6 dB send through the flat
    // hall; both centred.
    let mix = render(root, "s.toml");
    let centre = std::f64::consts::FRAC_PI_4.cos();
    let g = 1.0 + 10f64.powf(-6.0 / 20.0);
    let worst = (0..a.len())
        .map(|i| (f64::from(mix[0][i]) - centre * g * f64::from(a[i])).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-5, "render error {worst:e}");
}
