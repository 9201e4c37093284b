//! `mixstation convolve`: offline convolution reverb of a file.

use super::{resolve_engine, EngineArgs, FormatArgs};
use crate::io::{check_output_path, decode_file, resample, write_wav, DecodedAudio};
use crate::progress;
use anyhow::{bail, Context, Result};
use clap::Args;
use gpu_dsp::conv::{Convolver, ConvolverConfig, GpuConvolverBank, Routing};
use gpu_dsp::ResolvedEngine;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Most IR channels accepted (true stereo is 4; 7.1 per-channel is 8).
const MAX_IR_CHANNELS: usize = 8;

#[derive(Args, Debug)]
pub struct ConvolveArgs {
    /// Input audio file.
    pub input: PathBuf,
    /// Impulse response file (mono, stereo, true-stereo LL/LR/RL/RR, or one per channel).
    #[arg(long)]
    pub ir: PathBuf,
    /// Output WAV file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Gain of the convolved signal (linear).
    #[arg(long, default_value_t = 1.0)]
    pub wet: f32,
    /// Gain of the dry signal (linear).
    #[arg(long, default_value_t = 0.0)]
    pub dry: f32,
    /// Longest IR accepted, in seconds.
    #[arg(long, default_value_t = 60.0)]
    pub max_ir_seconds: f64,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: &ConvolveArgs) -> Result<()> {
    if !(args.wet.is_finite() && args.dry.is_finite()) {
        bail!(
            "--wet {} --dry {}: expected finite gains",
            args.wet,
            args.dry
        );
    }
    check_output_path(&args.output, &[&args.input, &args.ir])?;
    let input = decode_file(&args.input)?;
    let ir = load_ir(&args.ir, input.sample_rate, args.max_ir_seconds)?;
    Routing::for_channels(input.channels.len(), ir.len())
        .with_context(|| format!("{}: {} channels", args.ir.display(), ir.len()))?;
    let engine = resolve_engine(args.engine.engine)?;
    let started = Instant::now();
    let wet = convolve(&input, &ir, &engine)?;
    let elapsed = started.elapsed().as_secs_f64();
    let out = mix(&input.channels, &wet, args.wet, args.dry);
    let planes: Vec<&[f32]> = out.iter().map(|c| c.as_slice()).collect();
    write_wav(&args.output, input.sample_rate, &planes, args.format.format)?;
    let secs = out[0].len() as f64 / f64::from(input.sample_rate);
    println!(
        "{} -> {}: {} ch, {:.2} s, engine {}, {:.2} s ({:.0}x real time)",
        args.input.display(),
        args.output.display(),
        out.len(),
        secs,
        engine.describe(),
        elapsed,
        secs / elapsed.max(1e-9)
    );
    Ok(())
}

/// Decodes and checks an IR, resampled to `rate`.
pub fn load_ir(path: &Path, rate: u32, max_seconds: f64) -> Result<Vec<Vec<f32>>> {
    let ir = decode_file(path)?;
    let name = path.display();
    if ir.channels.len() > MAX_IR_CHANNELS {
        bail!(
            "{name}: IR has {} channels; at most {MAX_IR_CHANNELS} are supported",
            ir.channels.len()
        );
    }
    if ir.duration_s() > max_seconds {
        bail!(
            "{name}: IR is {:.1} s long, over the {max_seconds} s limit (--max-ir-seconds)",
            ir.duration_s()
        );
    }
    if ir.channels.iter().flatten().all(|&s| s == 0.0) {
        bail!("{name}: IR is silent (all samples are zero)");
    }
    resample(&ir.channels, ir.sample_rate, rate).with_context(|| format!("{name}: resampling"))
}

/// The full wet signal `x ∗ h` on the chosen engine.
pub fn convolve(
    input: &DecodedAudio,
    ir: &[Vec<f32>],
    engine: &ResolvedEngine,
) -> Result<Vec<Vec<f32>>> {
    let planes: Vec<&[f32]> = input.channels.iter().map(|c| c.as_slice()).collect();
    let ir_len = ir.iter().map(Vec::len).max().unwrap_or(0);
    let bar = progress::bar(1000, "convolving");
    let tick = |f: f64| bar.set_position((f * 1000.0) as u64);
    let out = match engine {
        ResolvedEngine::Cpu { .. } => {
            let irp: Vec<&[f32]> = ir.iter().map(|c| c.as_slice()).collect();
            let mut conv = Convolver::new(&irp, planes.len(), ConvolverConfig::offline(ir_len))?;
            conv.render(&planes, 8192, tick)?
        }
        ResolvedEngine::Gpu(ctx) => {
            let mut bank = GpuConvolverBank::new(
                ctx.clone(),
                &[(ir.to_vec(), planes.len())],
                ConvolverConfig::gpu_offline(),
            )?;
            bank.render(&planes, 8192, tick)?
        }
    };
    bar.finish_and_clear();
    Ok(out)
}

/// `dry·x + wet·y` with `x` zero-padded to the length of `y`; mono `x` feeds every output.
pub fn mix(dry_in: &[Vec<f32>], wet_in: &[Vec<f32>], wet: f32, dry: f32) -> Vec<Vec<f32>> {
    wet_in
        .iter()
        .enumerate()
        .map(|(o, w)| {
            let x = &dry_in[o.min(dry_in.len() - 1)];
            w.iter()
                .enumerate()
                .map(|(i, &y)| wet * y + dry * x.get(i).copied().unwrap_or(0.0))
                .collect()
        })
        .collect()
}
