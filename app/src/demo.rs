//! `mixstation demo`: generates dialogue-like, music-like, effects and ambience material and
//! a synthetic stereo hall IR, writes a session that mixes them (EQ, compressor, gate, a
//! reverb bus, automation, stems, a −23 LUFS master) and renders it with the loudness report.

use crate::io::{check_output_path, write_wav};
use crate::options::{resolve_engine, EngineArgs, FormatArgs};
use anyhow::{Context, Result};
use clap::Args;
use std::f32::consts::TAU;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Folder to write the demo material and render into (created if missing).
    #[arg(long, default_value = "demo-out")]
    pub out: PathBuf,
    /// Length of the demo in seconds.
    #[arg(long, default_value_t = 12.0)]
    pub seconds: f32,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

const RATE: u32 = 48_000;

/// A small deterministic noise source (xorshift), so the demo is the same on every machine.
struct Noise(u32);

impl Noise {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 as f32 / u32::MAX as f32) * 2.0 - 1.0
    }
}

/// What a location recording brings along: air-conditioning hiss and 50 Hz mains hum with
/// a buzz of harmonics, about 25 dB under the dialogue peaks (the `clean` insert's work).
fn add_location_noise(x: &mut [f32]) {
    let mut rng = Noise(0x5eed);
    let mut pink = 0.0f32;
    for (i, v) in x.iter_mut().enumerate() {
        let t = i as f32 / RATE as f32;
        pink = 0.97 * pink + 0.03 * rng.next();
        let hum: f32 = (1..=7)
            .map(|k| (TAU * 50.03 * k as f32 * t).sin() / k as f32)
            .sum();
        *v += 0.012 * pink * 4.0 + 0.006 * hum;
    }
}

/// Voiced "syllables": a glottal pulse train through two formant resonators, in phrases.
fn dialogue(n: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; n];
    let (mut y1, mut y2, mut z1, mut z2) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
    let mut phase = 0.0f32;
    for (i, o) in out.iter_mut().enumerate() {
        let t = i as f32 / RATE as f32;
        let syllable = (t * 4.0).fract();
        let phrase_on = (t % 4.0) < 3.0;
        let env = if phrase_on {
            (syllable * std::f32::consts::PI).sin().powi(2)
        } else {
            0.0
        };
        let f0 = 120.0 + 25.0 * (t * 1.3).sin();
        phase += f0 / RATE as f32;
        let pulse = if phase >= 1.0 {
            phase -= 1.0;
            1.0
        } else {
            0.0
        };
        let f1 = 500.0 + 300.0 * (t * 4.0 * TAU / 3.0).sin();
        let f2 = 1500.0 + 700.0 * (t * 4.0 * TAU / 5.0).cos();
        let (a1, b1) = resonator(f1, 80.0);
        let (a2, b2) = resonator(f2, 120.0);
        let y = pulse + a1 * y1 - b1 * y2;
        y2 = y1;
        y1 = y;
        let z = y + a2 * z1 - b2 * z2;
        z2 = z1;
        z1 = z;
        *o = 0.02 * env * (y + 0.5 * z);
    }
    out
}

fn resonator(freq: f32, bandwidth: f32) -> (f32, f32) {
    let r = (-std::f32::consts::PI * bandwidth / RATE as f32).exp();
    (2.0 * r * (TAU * freq / RATE as f32).cos(), r * r)
}

/// A slow chord progression of soft saw-like tones, stereo-spread.
fn music(n: usize) -> [Vec<f32>; 2] {
    let chords = [
        [220.0, 277.18, 329.63],
        [196.0, 246.94, 293.66],
        [174.61, 220.0, 261.63],
        [196.0, 246.94, 329.63],
    ];
    let mut l = vec![0.0f32; n];
    let mut r = vec![0.0f32; n];
    for i in 0..n {
        let t = i as f32 / RATE as f32;
        let chord = chords[(t / 3.0) as usize % chords.len()];
        for (k, f) in chord.iter().enumerate() {
            let mut s = 0.0;
            for h in 1..6 {
                s += (TAU * f * h as f32 * t).sin() / h as f32;
            }
            let pan = 0.25 + 0.25 * k as f32;
            l[i] += 0.03 * s * (1.0 - pan);
            r[i] += 0.03 * s * pan;
        }
    }
    [l, r]
}

/// A stereo hall: decorrelated noise with an exponential decay (RT60 ≈ 2.2 s), early
/// reflections, and high frequencies decaying faster.
fn hall_ir(seconds: f32) -> [Vec<f32>; 2] {
    let n = (seconds * RATE as f32) as usize;
    let mut noise = Noise(0x9E37_79B9);
    let decay = 6.91 / 2.2;
    let mut out = [vec![0.0f32; n], vec![0.0f32; n]];
    for ch in &mut out {
        let mut lp = 0.0f32;
        for (i, s) in ch.iter_mut().enumerate() {
            let t = i as f32 / RATE as f32;
            let cutoff = (0.9 - 0.6 * t / seconds).clamp(0.05, 0.95);
            lp += cutoff * (noise.next() - lp);
            *s = 0.25 * lp * (-decay * t).exp() * (t / 0.01).min(1.0);
        }
        for (k, &(at, g)) in [(0.011, 0.5), (0.017, -0.35), (0.023, 0.3), (0.031, -0.2)]
            .iter()
            .enumerate()
        {
            let idx = ((at + 0.002 * k as f32) * RATE as f32) as usize;
            ch[idx] += g;
        }
    }
    out
}

fn ambience(n: usize) -> [Vec<f32>; 2] {
    let mut noise = Noise(0x1234_5678);
    let mut out = [vec![0.0f32; n], vec![0.0f32; n]];
    for ch in &mut out {
        let mut lp = 0.0f32;
        for s in ch.iter_mut() {
            lp += 0.02 * (noise.next() - lp);
            *s = 0.05 * lp;
        }
    }
    out
}

fn normalize_peak(x: &mut [f32], peak: f32) {
    let max = x.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    if max > 0.0 {
        x.iter_mut().for_each(|s| *s *= peak / max);
    }
}

/// Short percussive effects: noise bursts with fast decays (door slams, footsteps).
fn effects(n: usize) -> Vec<f32> {
    let mut noise = Noise(0xDEAD_BEEF);
    let mut out = vec![0.0f32; n];
    let mut lp = 0.0f32;
    for (i, o) in out.iter_mut().enumerate() {
        let t = i as f32 / RATE as f32;
        let since = (t + 0.6) % 1.7;
        lp += 0.3 * (noise.next() - lp);
        *o = lp * (-since * 18.0).exp();
    }
    out
}

/// The demo session; it doubles as the README's example of the format.
pub const DEMO_SESSION: &str = r#"# mixstation demo session (generated by `mixstation demo`)
[session]
sample_rate = 48000
layout = "stereo"
stems = ["DX", "MX", "FX"]

[master]
gain_db = 0.0
loudness_target = -23.0     # EBU R128
true_peak_ceiling = -1.0

[[bus]]
name = "hall"
[[bus.insert]]
type = "reverb"
ir = "irs/hall.wav"
wet = 1.0
dry = 0.0
predelay_ms = 12.0
[[bus.insert]]
type = "eq"
bands = [{ type = "highpass", freq = 180.0 }, { type = "highshelf", freq = 6000.0, gain_db = -4.0 }]
[[bus.automation]]
param = "gain_db"           # ride the reverb return down as the scene ends
points = [[0.0, 0.0], [8.0, 0.0], [10.0, -6.0]]

# Music reaches its stem through this bus, which ducks it spectrally under the dialogue.
[[bus]]
name = "score"
[[bus.insert]]
type = "duck"
sidechain = "DX"            # the dialogue stem's tracks key it
clarity_db = 6.0
max_db = 6.0

[[track]]
name = "dialogue"
stem = "DX"
pan = 0.0
[[track.clip]]
file = "audio/dialogue.wav"
start = 0.5
fade_in = 0.05
fade_out = 0.2
[[track.insert]]
type = "clean"              # location hiss and 50 Hz hum out (hum found automatically)
reduction_db = 15.0
[[track.insert]]
type = "eq"
bands = [{ type = "highpass", freq = 90.0 }, { type = "bell", freq = 3000.0, gain_db = 2.5, q = 1.2 }]
[[track.insert]]
type = "compressor"
threshold_db = -24.0
ratio = 3.0
makeup_db = 2.0
[[track.send]]
bus = "hall"
level_db = -14.0

[[track]]
name = "music"
file = "audio/music.wav"
stem = "MX"
output = "score"
gain_db = -4.0
[[track.send]]
bus = "hall"
level_db = -8.0
[[track.automation]]
param = "gain_db"
points = [[0.0, -40.0], [2.0, -4.0], [9.0, -4.0], [11.5, -30.0]]

[[track]]
name = "effects"
file = "audio/effects.wav"
stem = "FX"
pan = 0.6
gain_db = -10.0
[[track.insert]]
type = "gate"
threshold_db = -45.0

[[track]]
name = "ambience"
file = "audio/ambience.wav"
stem = "FX"
gain_db = -6.0
"#;

/// Generates the demo material and writes the demo session into `out`; returns its path.
pub fn write_demo(out: &std::path::Path, seconds: f32) -> Result<PathBuf> {
    check_seconds(seconds)?;
    for sub in ["audio", "irs", "stems"] {
        std::fs::create_dir_all(out.join(sub))
            .with_context(|| format!("{}: cannot create folder", out.join(sub).display()))?;
    }
    let n = (seconds * RATE as f32) as usize;
    say!("demo: generating {:.1} s of dialogue, music, effects and ambience, and a 2.5 s stereo hall IR", seconds);
    let mut dx = dialogue(n);
    normalize_peak(&mut dx, 0.5);
    add_location_noise(&mut dx);
    let mut mx = music(n);
    mx.iter_mut().for_each(|c| normalize_peak(c, 0.3));
    let mut fx = effects(n);
    normalize_peak(&mut fx, 0.7);
    let mut amb = ambience(n);
    amb.iter_mut().for_each(|c| normalize_peak(c, 0.05));
    let mut ir = hall_ir(2.5);
    // Unit energy per channel: the hall neither boosts nor cuts the send on average.
    for c in &mut ir {
        let energy: f32 = c.iter().map(|s| s * s).sum();
        c.iter_mut().for_each(|s| *s /= energy.sqrt());
    }
    let f32wav = crate::io::ExportFormat::F32;
    write_wav(&out.join("audio/dialogue.wav"), RATE, &[&dx], f32wav)?;
    write_wav(
        &out.join("audio/music.wav"),
        RATE,
        &[&mx[0], &mx[1]],
        f32wav,
    )?;
    write_wav(&out.join("audio/effects.wav"), RATE, &[&fx], f32wav)?;
    write_wav(
        &out.join("audio/ambience.wav"),
        RATE,
        &[&amb[0], &amb[1]],
        f32wav,
    )?;
    write_wav(&out.join("irs/hall.wav"), RATE, &[&ir[0], &ir[1]], f32wav)?;
    let session = out.join("demo.toml");
    crate::io::write_atomically(&session, |f| {
        use std::io::Write;
        f.write_all(DEMO_SESSION.as_bytes())?;
        Ok(())
    })?;
    Ok(session)
}

/// Every file the demo writes, relative to its folder (the stems come from the session).
const MATERIAL: [&str; 7] = [
    "audio/dialogue.wav",
    "audio/music.wav",
    "audio/effects.wav",
    "audio/ambience.wav",
    "irs/hall.wav",
    "demo.toml",
    "demo-mix.wav",
];

/// Generates, renders and draws the demo in a work folder inside `--out`, then moves every
/// file into place at once: a failure (a full disk) leaves `--out` as it was.
pub fn run(args: &DemoArgs) -> Result<()> {
    let out = &args.out;
    check_seconds(args.seconds)?;
    let created = !out.exists();
    std::fs::create_dir_all(out)
        .with_context(|| format!("{}: cannot create folder", out.display()))?;
    let result = run_in(args, out);
    if result.is_err() && created {
        // Only removes the folder when the failed run left it empty.
        let _ = std::fs::remove_dir(out);
    }
    result
}

fn check_seconds(seconds: f32) -> Result<()> {
    if !(1.0..=600.0).contains(&seconds) {
        anyhow::bail!("--seconds {}: expected 1 to 600", seconds);
    }
    Ok(())
}

fn run_in(args: &DemoArgs, out: &std::path::Path) -> Result<()> {
    check_output_path(&out.join("demo-mix.wav"), &[])?;
    let gpu = resolve_engine(args.engine.engine)?.gpu();
    let work = tempfile::Builder::new()
        .prefix(&format!(".mixstation-{}-demo-", std::process::id()))
        .tempdir_in(out)
        .with_context(|| format!("{}: cannot create a work folder", out.display()))?;
    crate::io::register_work_path(work.path());
    let w = work.path();
    let session = write_demo(w, args.seconds)?;
    let loaded = crate::session::load_session(&session)?;
    let stems: Vec<String> = loaded
        .spec
        .stems
        .iter()
        .map(|s| format!("stems/{}", crate::session::stem_file_name(s)))
        .collect();
    let stem_paths: Vec<PathBuf> = stems.iter().map(|s| w.join(s)).collect();
    let mix_path = w.join("demo-mix.wav");
    let summary = crate::render::render(
        &loaded.spec,
        &mix_path,
        &stem_paths,
        args.format.format,
        gpu,
    )?;
    // The render streams to disk: read the master back for its picture.
    let mix = crate::io::decode_file(&mix_path)?;
    let planes: Vec<&[f32]> = mix.channels.iter().map(|c| c.as_slice()).collect();
    let spec = gpu_dsp::analysis::spectrogram::spectrogram_cpu(
        &planes,
        RATE,
        gpu_dsp::analysis::spectrogram::SpectrogramConfig::new(4096, 1024)?,
    );
    let opts = crate::plot::PlotOptions {
        axis: crate::plot::FrequencyAxis::Log,
        ..Default::default()
    };
    crate::plot::render_spectrogram(&spec, &opts).save_png(&w.join("demo-mix.png"))?;
    let files: Vec<String> = MATERIAL
        .iter()
        .map(|s| s.to_string())
        .chain(stems)
        .chain(["demo-mix.png".to_string()])
        .collect();
    let mut made_dirs = Vec::new();
    for sub in ["audio", "irs", "stems"] {
        let d = out.join(sub);
        if !d.is_dir() {
            std::fs::create_dir(&d)
                .with_context(|| format!("{}: cannot create folder", d.display()))?;
            made_dirs.push(d);
        }
    }
    let committed = files
        .iter()
        .map(|f| crate::io::Staged::file(w.join(f), &out.join(f)))
        .collect::<Result<Vec<_>>>()
        .and_then(crate::io::commit_all);
    if let Err(e) = committed {
        for d in made_dirs {
            let _ = std::fs::remove_dir(d);
        }
        return Err(e);
    }
    crate::io::forget_work_path(w);
    drop(work);
    let session = out.join("demo.toml");
    let stem_paths: Vec<PathBuf> = files
        .iter()
        .filter(|f| f.starts_with("stems/"))
        .map(|f| out.join(f))
        .collect();
    crate::render::print_report(&session, &out.join("demo-mix.wav"), &stem_paths, &summary);
    say!(
        "demo: session {}, spectrogram {}",
        session.display(),
        out.join("demo-mix.png").display()
    );
    Ok(())
}
