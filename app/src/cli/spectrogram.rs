//! `mixstation spectrogram`: STFT of a file as a labelled PNG, and optionally a CSV of dBFS.

use super::{resolve_engine, EngineArgs};
use crate::io::{check_output_path, decode_file, write_atomically};
use crate::plot::{render_spectrogram, FrequencyAxis, PlotOptions};
use anyhow::{bail, Result};
use clap::Args;
use gpu_dsp::analysis::spectrogram::{
    spectrogram_cpu, GpuSpectrogram, Spectrogram, SpectrogramConfig,
};
use gpu_dsp::ResolvedEngine;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct SpectrogramArgs {
    /// Audio file (all channels are averaged in power).
    pub file: PathBuf,
    /// Output PNG.
    #[arg(short, long)]
    pub output: PathBuf,
    /// FFT size (power of two, 16..65536).
    #[arg(long, default_value_t = 4096)]
    pub fft: usize,
    /// Hop between frames in samples (default: FFT size / 4).
    #[arg(long)]
    pub hop: Option<usize>,
    /// Logarithmic frequency axis (20 Hz to Nyquist).
    #[arg(long)]
    pub log_freq: bool,
    /// Also write every frame as CSV: `time_s,<bin Hz>...`, one row of dBFS per frame.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// dB range shown below 0 dBFS.
    #[arg(long, default_value_t = 120.0)]
    pub range_db: f32,
    /// Width of the data area in pixels.
    #[arg(long, default_value_t = 1200)]
    pub width: usize,
    /// Height of the data area in pixels.
    #[arg(long, default_value_t = 500)]
    pub height: usize,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: &SpectrogramArgs) -> Result<()> {
    let hop = args.hop.unwrap_or(args.fft / 4);
    let config = SpectrogramConfig::new(args.fft, hop)?;
    if !(args.range_db > 0.0 && args.range_db <= 300.0) {
        bail!("--range-db {}: expected 0 < range ≤ 300", args.range_db);
    }
    if !(16..=20_000).contains(&args.width) || !(16..=10_000).contains(&args.height) {
        bail!("--width/--height: expected 16..20000 × 16..10000 pixels");
    }
    check_output_path(&args.output, &[&args.file])?;
    if let Some(csv) = &args.csv {
        check_output_path(csv, &[&args.file])?;
    }
    let audio = decode_file(&args.file)?;
    let planes: Vec<&[f32]> = audio.channels.iter().map(|c| c.as_slice()).collect();
    let spectrogram = match resolve_engine(args.engine.engine)? {
        ResolvedEngine::Cpu { .. } => spectrogram_cpu(&planes, audio.sample_rate, config),
        ResolvedEngine::Gpu(ctx) => {
            GpuSpectrogram::new(ctx, config, planes.len())?.compute(&planes, audio.sample_rate)?
        }
    };
    let opts = PlotOptions {
        width: args.width,
        height: args.height,
        axis: if args.log_freq {
            FrequencyAxis::Log
        } else {
            FrequencyAxis::Linear
        },
        range_db: args.range_db,
        top_db: 0.0,
    };
    render_spectrogram(&spectrogram, &opts).save_png(&args.output)?;
    if let Some(csv) = &args.csv {
        write_csv(csv, &spectrogram)?;
    }
    println!(
        "{} -> {}: {} frames × {} bins (FFT {}, hop {}){}",
        args.file.display(),
        args.output.display(),
        spectrogram.frames,
        spectrogram.bins,
        config.fft,
        config.hop,
        args.csv
            .as_ref()
            .map_or(String::new(), |c| format!(", CSV {}", c.display()))
    );
    Ok(())
}

/// `time_s,<f0>,<f1>,...` then one row per frame: centre time, dBFS per bin.
pub fn write_csv(path: &Path, s: &Spectrogram) -> Result<()> {
    write_atomically(path, |file| {
        let mut w = BufWriter::new(file);
        write!(w, "time_s")?;
        for k in 0..s.bins {
            write!(w, ",{}", trim(s.bin_hz(k)))?;
        }
        writeln!(w)?;
        for f in 0..s.frames {
            write!(w, "{:.6}", s.frame_time(f))?;
            for v in s.frame(f) {
                write!(w, ",{v:.2}")?;
            }
            writeln!(w)?;
        }
        w.flush()?;
        Ok(())
    })
}

/// A frequency without trailing zeros (`11.71875`, `48`).
fn trim(hz: f64) -> String {
    let s = format!("{hz:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
