//! `mixstation convolve`: offline convolution reverb of a file, streamed: decode → convolve →
//! encode block by block, so memory does not grow with the input's length.

use super::{resolve_engine, EngineArgs, FormatArgs};
use crate::io::{check_output_path, load_ir, AudioFile, ReadAhead, WavStream, WriteBehind};
use crate::progress;
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use gpu_dsp::conv::{ConvolutionBackend, Convolver, ConvolverConfig, GpuConvolverBank, Routing};
use gpu_dsp::ResolvedEngine;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Instant;

/// Frames per block read, convolved and written.
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

/// One mono convolver per output channel, run side by side on the cores (per-channel,
/// mono-IR and mono-input routings): `(convolver, input channel)`.
struct ParallelChannels(Vec<(Convolver, usize)>);

impl ConvolutionBackend for ParallelChannels {
    fn name(&self) -> String {
        "CPU convolvers, one per channel".into()
    }

    fn latency(&self) -> usize {
        self.0.first().map_or(0, |(c, _)| c.latency())
    }

    fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) -> gpu_dsp::Result<()> {
        use rayon::prelude::*;
        output
            .par_iter_mut()
            .zip(self.0.par_iter_mut())
            .for_each(|(o, (conv, i))| conv.process(&[input[*i]], &mut [&mut **o]));
        Ok(())
    }
}

/// The CPU engine for `routing`: one convolver per output where each output has one route,
/// else one convolver for the whole routing (true stereo).
fn cpu_backend(
    ir: &[Vec<f32>],
    inputs: usize,
    routing: &Routing,
) -> Result<Box<dyn ConvolutionBackend>> {
    let ir_len = ir.iter().map(Vec::len).max().unwrap_or(0);
    let config = ConvolverConfig::offline(ir_len);
    let routes: Option<Vec<_>> = (0..routing.outputs)
        .map(|o| {
            let mut it = routing.routes.iter().filter(|r| r.output == o);
            match (it.next(), it.next()) {
                (Some(r), None) => Some(r),
                _ => None,
            }
        })
        .collect();
    if let Some(routes) = routes.filter(|r| r.len() > 1) {
        let split = routes
            .into_iter()
            .map(|r| Ok((Convolver::new(&[&ir[r.ir]], 1, config)?, r.input)))
            .collect::<Result<_>>()?;
        return Ok(Box::new(ParallelChannels(split)));
    }
    let planes: Vec<&[f32]> = ir.iter().map(Vec::as_slice).collect();
    Ok(Box::new(Convolver::new(&planes, inputs, config)?))
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
    // The IR is consumed here: only the engine's partitions are kept.
    let mut backend: Box<dyn ConvolutionBackend> = match &engine {
        ResolvedEngine::Cpu { .. } => {
            let cpu = cpu_backend(&ir, channels, &routing)?;
            drop(ir);
            cpu
        }
        ResolvedEngine::Gpu(ctx) => Box::new(GpuConvolverBank::new(
            ctx.clone(),
            &[(ir, channels)],
            ConvolverConfig::gpu_offline(),
        )?),
    };
    let started = Instant::now();
    let outputs = routing.outputs;
    let out = WavStream::create(&args.output, rate, outputs, args.format.format)?;
    let mut writer = WriteBehind::new(out, outputs, 3);
    let latency = backend.latency();
    let tail = ir_len - 1;
    let bar = progress::bar(
        input.frames().map_or(0, |f| f + (tail + latency) as u64),
        "convolving",
    );
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
    bar.finish_and_clear();
    if written == 0 {
        return Err(anyhow!("{}: nothing to convolve", args.input.display()));
    }
    writer.finish_staged()?.commit()?;
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
