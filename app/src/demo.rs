//! `mixstation demo`: generates dialogue-like, music-like and ambience material and a
//! synthetic stereo hall IR, mixes them with a convolution reverb send and writes the result.

use crate::cli::{resolve_engine, EngineArgs, FormatArgs};
use crate::io::{check_output_path, write_wav, DecodedAudio};
use anyhow::{Context, Result};
use clap::Args;
use std::f32::consts::TAU;
use std::path::PathBuf;
use std::time::Instant;

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

pub fn run(args: &DemoArgs) -> Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create folder", args.out.display()))?;
    let mix_path = args.out.join("demo-mix.wav");
    check_output_path(&mix_path, &[])?;
    let n = (args.seconds.max(1.0) * RATE as f32) as usize;
    println!(
        "demo: generating {:.1} s of dialogue, music and ambience, and a 2.5 s stereo hall IR",
        args.seconds
    );
    let mut dx = dialogue(n);
    normalize_peak(&mut dx, 0.5);
    let mut mx = music(n);
    mx.iter_mut().for_each(|c| normalize_peak(c, 0.2));
    let mut amb = ambience(n);
    amb.iter_mut().for_each(|c| normalize_peak(c, 0.03));
    let mut ir = hall_ir(2.5);
    // Unit energy per channel: the hall neither boosts nor cuts the send on average.
    for c in &mut ir {
        let energy: f32 = c.iter().map(|s| s * s).sum();
        c.iter_mut().for_each(|s| *s /= energy.sqrt());
    }
    // Dry bus: dialogue centred (constant-power pan), music and ambience in stereo.
    let centre = std::f32::consts::FRAC_1_SQRT_2;
    let dry: Vec<Vec<f32>> = (0..2)
        .map(|c| {
            (0..n)
                .map(|i| centre * dx[i] + mx[c][i] + amb[c][i])
                .collect()
        })
        .collect();
    // Reverb send: dialogue at -12 dB and music at -6 dB into the hall.
    let send: Vec<f32> = (0..n)
        .map(|i| 0.25 * dx[i] + 0.25 * (mx[0][i] + mx[1][i]))
        .collect();
    let write = |name: &str, planes: &[&[f32]]| {
        write_wav(&args.out.join(name), RATE, planes, args.format.format)
    };
    write("dialogue.wav", &[&dx])?;
    write("music.wav", &[&mx[0], &mx[1]])?;
    write("hall-ir.wav", &[&ir[0], &ir[1]])?;
    let engine = resolve_engine(args.engine.engine)?;
    let started = Instant::now();
    let wet = crate::cli::convolve_planes(
        &DecodedAudio {
            sample_rate: RATE,
            channels: vec![send],
        },
        &[ir[0].clone(), ir[1].clone()],
        &engine,
    )?;
    let elapsed = started.elapsed().as_secs_f64();
    let mixed: Vec<Vec<f32>> = (0..2)
        .map(|c| {
            (0..wet[c].len())
                .map(|i| dry[c].get(i).copied().unwrap_or(0.0) + 0.5 * wet[c][i])
                .collect()
        })
        .collect();
    let planes: Vec<&[f32]> = mixed.iter().map(|c| c.as_slice()).collect();
    write_wav(&mix_path, RATE, &planes, args.format.format)?;
    let secs = mixed[0].len() as f64 / f64::from(RATE);
    let peak = mixed.iter().flatten().fold(0.0f32, |m, s| m.max(s.abs()));
    println!(
        "demo: reverb on {} took {:.2} s for {:.1} s of audio ({:.0}x real time)",
        engine.describe(),
        elapsed,
        secs,
        secs / elapsed.max(1e-9)
    );
    println!(
        "demo: wrote {} (stereo, {:.1} s, sample peak {:.1} dBFS)",
        mix_path.display(),
        secs,
        20.0 * peak.max(1e-9).log10()
    );
    println!(
        "demo: sources in {}: dialogue.wav, music.wav, hall-ir.wav",
        args.out.display()
    );
    Ok(())
}
