//! `mixstation clean`: dialogue cleanup of a file — mains hum removal and broadband noise
//! suppression, sample-aligned with the input (same length, rate and channels).

use super::{resolve_engine, EngineArgs, FormatArgs};
use crate::io::{check_output_path, decode_file, write_wav};
use anyhow::{bail, Context, Result};
use clap::Args;
use gpu_dsp::spectral::{clean_cpu, clean_gpu, CleanPlan, CleanSettings, HumMode, NoiseModel};
use gpu_dsp::ResolvedEngine;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct CleanArgs {
    /// Input audio file.
    pub input: PathBuf,
    /// Output WAV file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Largest broadband noise reduction in dB (the gain floor: speech is never gated away).
    #[arg(long, default_value_t = 18.0)]
    pub reduction_db: f32,
    /// Mains hum: auto (find 50 or 60 Hz), 50, 60, or off.
    #[arg(long, default_value = "auto")]
    pub hum: String,
    /// Learn the noise from this noise-only region, START:END in seconds (else it is tracked
    /// continuously).
    #[arg(long, value_name = "START:END")]
    pub noise_from: Option<String>,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `auto`, `50`, `60` or `off`.
fn parse_hum(s: &str) -> Result<HumMode> {
    Ok(match s {
        "auto" => HumMode::Auto,
        "off" => HumMode::Off,
        "50" => HumMode::Mains(50.0),
        "60" => HumMode::Mains(60.0),
        _ => bail!("--hum {s}: expected auto, 50, 60 or off"),
    })
}

/// `START:END` in seconds.
fn parse_region(s: &str) -> Result<(f64, f64)> {
    let parsed = s.split_once(':').and_then(|(a, b)| {
        let a: f64 = a.trim().parse().ok()?;
        let b: f64 = b.trim().parse().ok()?;
        Some((a, b))
    });
    match parsed {
        Some((a, b)) if a.is_finite() && b.is_finite() && a >= 0.0 && b > a => Ok((a, b)),
        _ => bail!("--noise-from {s}: expected START:END in seconds with 0 <= START < END"),
    }
}

pub fn run(args: &CleanArgs) -> Result<()> {
    if !args.reduction_db.is_finite() || !(0.0..=60.0).contains(&args.reduction_db) {
        bail!("--reduction-db {}: expected 0 to 60 dB", args.reduction_db);
    }
    let settings = CleanSettings {
        reduction_db: args.reduction_db,
        hum: parse_hum(&args.hum)?,
        noise_from: args.noise_from.as_deref().map(parse_region).transpose()?,
    };
    check_output_path(&args.output, &[&args.input])?;
    let input = decode_file(&args.input)?;
    let name = args.input.display();
    let rate = input.sample_rate as f32;
    let plan = CleanPlan::new(&input.channels, rate, &settings)
        .with_context(|| format!("{name}: --noise-from"))?;
    let engine = resolve_engine(args.engine.engine)?;
    let started = Instant::now();
    let out = match &engine {
        ResolvedEngine::Cpu { .. } => clean_cpu(&input.channels, rate, &plan),
        ResolvedEngine::Gpu(ctx) => clean_gpu(ctx.clone(), &input.channels, rate, &plan)?,
    };
    let elapsed = started.elapsed().as_secs_f64();
    let planes: Vec<&[f32]> = out.iter().map(Vec::as_slice).collect();
    write_wav(&args.output, input.sample_rate, &planes, args.format.format)?;
    let secs = input.frames() as f64 / f64::from(input.sample_rate);
    let hum = match (&plan.hum, settings.hum) {
        (Some(h), _) if h.harmonics.is_empty() => {
            format!(
                "no harmonic of {:.3} Hz below Nyquist to remove",
                h.fundamental
            )
        }
        (Some(h), HumMode::Mains(f)) if !plan.hum_found => format!(
            "no hum found at {f:.0} Hz; {} harmonics of {f:.0} Hz removed as asked (--hum {f:.0})",
            h.harmonics.len()
        ),
        (Some(h), _) => format!(
            "hum {:.3} Hz found ({} harmonics removed)",
            h.fundamental,
            h.harmonics.len()
        ),
        (None, HumMode::Off) => "hum removal off".to_string(),
        (None, _) => "no hum found".to_string(),
    };
    let noise = match plan.noise.first() {
        Some(NoiseModel::Profile(_)) => "noise profile from the region",
        _ => "noise tracked",
    };
    say!(
        "{} -> {}: {} ch, {:.2} s; {hum}; {noise}, up to {} dB; engine {}, {:.3} s ({:.0}x real time)",
        name,
        args.output.display(),
        out.len(),
        secs,
        args.reduction_db,
        engine.describe(),
        elapsed,
        secs / elapsed.max(1e-9)
    );
    Ok(())
}
