//! `mixstation convolve`: offline convolution reverb of a file, streamed: decode → convolve →
//! encode block by block, so memory does not grow with the input's length.

use super::convolve_cpu::{self, WetDry};
use super::{resolve_engine, EngineArgs, FormatArgs};
use crate::io::{check_output_path, load_ir, AudioFile, ReadAhead, WavStream, WriteBehind};
use crate::progress;
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use gpu_dsp::conv::{ConvolutionBackend, ConvolverConfig, GpuConvolverBank, Routing};
use gpu_dsp::ResolvedEngine;
use indicatif::ProgressBar;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Instant;

/// Frames per block read, convolved and written by the GPU engine.
const CHUNK: usize = 1 << 15;

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
    /// Gain of the convolved signal (linear, −100..100).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub wet: f32,
    /// Gain of the dry signal (linear, −100..100).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub dry: f32,
    /// Longest IR accepted, in seconds (at most 600).
    #[arg(long, default_value_t = 60.0, allow_negative_numbers = true)]
    pub max_ir_seconds: f64,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: &ConvolveArgs) -> Result<()> {
    for (name, v) in [("--wet", args.wet), ("--dry", args.dry)] {
        if !(v.is_finite() && v.abs() <= 100.0) {
            bail!("{name} {v}: expected a linear gain from −100 to 100");
        }
    }
    crate::io::check_ir_limit(args.max_ir_seconds)?;
    check_output_path(&args.output, &[&args.input, &args.ir])?;
    let input = AudioFile::open(&args.input)?;
    let rate = input.sample_rate();
    let channels = input.channels();
    let ir = load_ir(&args.ir, rate, args.max_ir_seconds)?;
    let routing = Routing::for_channels(channels, ir.len())
        .with_context(|| format!("{}: {} channels", args.ir.display(), ir.len()))?;
    let engine = resolve_engine(args.engine.engine)?;
    let ir_len = ir.iter().map(Vec::len).max().unwrap_or(0);
    let started = Instant::now();
    let outputs = routing.outputs;
    let mut out = WavStream::create(&args.output, rate, outputs, args.format.format)?;
    let bar = progress::bar(
        input.frames().map_or(0, |f| f + (ir_len - 1) as u64),
        "convolving",
    );
    let written = match &engine {
        ResolvedEngine::Cpu { .. } => {
            let gains = WetDry {
                wet: args.wet,
                dry: args.dry,
            };
            let written = convolve_cpu::convolve(input, ir, &routing, gains, &mut out, &bar)?;
            if written == 0 {
                bail!("{}: nothing to convolve", args.input.display());
            }
            out.finish_staged()?.commit()?;
            written
        }
        ResolvedEngine::Gpu(ctx) => {
            // The IR is consumed here: only the engine's partitions are kept.
            let bank = GpuConvolverBank::new(
                ctx.clone(),
                &[(ir, channels)],
                ConvolverConfig::gpu_offline(),
            )?;
            stream(args, input, Box::new(bank), (ir_len, outputs), out, &bar)?
        }
    };
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let secs = written as f64 / f64::from(rate);
    say!(
        "{} -> {}: {} ch, {:.2} s, engine {}, {:.2} s ({:.0}x real time)",
        args.input.display(),
        args.output.display(),
        outputs,
        secs,
        engine.describe(),
        elapsed,
        secs / elapsed.max(1e-9)
    );
    Ok(())
}

/// Streams `input` through `backend` (which may have latency) in chunks, with the dry signal
/// delayed to match, decoding ahead and encoding behind on their own threads. Returns the
/// frames written.
fn stream(
    args: &ConvolveArgs,
    input: AudioFile,
    mut backend: Box<dyn ConvolutionBackend>,
    (ir_len, outputs): (usize, usize),
    out: WavStream,
    bar: &ProgressBar,
) -> Result<u64> {
    let channels = input.channels();
    let mut writer = WriteBehind::new(out, outputs, 3);
    let latency = backend.latency();
    let tail = ir_len - 1;
    let mut reader = ReadAhead::new(input, CHUNK, 3);
    let zeros = vec![vec![0.0f32; CHUNK]; channels];
    let mut y = vec![vec![0.0f32; CHUNK]; outputs];
    // The dry signal, delayed by the convolver's latency to line up with the wet one.
    let mut dry_line: Vec<VecDeque<f32>> = (0..channels)
        .map(|_| std::iter::repeat_n(0.0, latency).collect())
        .collect();
    let mut to_skip = latency;
    let mut ended_at: Option<u64> = None;
    let (mut fed, mut written) = (0u64, 0u64);
    loop {
        let (x, n): (&[Vec<f32>], usize) = match ended_at {
            None => match reader.next_block()? {
                Some(block) => block,
                None => {
                    ended_at = Some(fed);
                    continue;
                }
            },
            Some(end) => {
                let remaining = (end + (tail + latency) as u64).saturating_sub(fed);
                if remaining == 0 {
                    break;
                }
                (&zeros, CHUNK.min(remaining as usize))
            }
        };
        let ins: Vec<&[f32]> = x.iter().map(|c| &c[..n]).collect();
        let mut outs: Vec<&mut [f32]> = y.iter_mut().map(|c| &mut c[..n]).collect();
        backend.process(&ins, &mut outs)?;
        fed += n as u64;
        if args.wet != 1.0 {
            y.iter_mut()
                .for_each(|c| c[..n].iter_mut().for_each(|v| *v *= args.wet));
        }
        if args.dry != 0.0 {
            for (line, c) in dry_line.iter_mut().zip(x) {
                line.extend(&c[..n]);
            }
            for (o, c) in y.iter_mut().enumerate() {
                let line = &dry_line[o.min(dry_line.len() - 1)];
                for (v, d) in c[..n].iter_mut().zip(line.iter()) {
                    *v += args.dry * d;
                }
            }
            for line in &mut dry_line {
                line.drain(..n);
            }
        }
        let skip = to_skip.min(n);
        to_skip -= skip;
        writer.write(&y, skip, n)?;
        written += (n - skip) as u64;
        bar.set_position(fed);
    }
    if written == 0 {
        return Err(anyhow!("{}: nothing to convolve", args.input.display()));
    }
    writer.finish_staged()?.commit()?;
    Ok(written)
}
