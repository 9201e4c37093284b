//! `mixstation spectrogram`: STFT of a file as a labelled PNG, and optionally a CSV of dBFS,
//! streamed: frames are computed a batch at a time from a sliding window of the decoded
//! file and folded into the picture's pixel columns (and CSV rows) as they come.

use super::{resolve_engine, EngineArgs};
use crate::io::{check_distinct_outputs, check_output_path, commit_all, AudioFile, ReadAhead};
use crate::plot::{FrequencyAxis, PlotOptions, SpectrogramColumns, MAX_COLUMN_VALUES};
use anyhow::{bail, Result};
use clap::Args;
use gpu_dsp::analysis::spectrogram::{CpuSpectrogram, SpectrogramBackend};
use gpu_dsp::analysis::spectrogram::{GpuSpectrogram, Spectrogram, SpectrogramConfig};
use gpu_dsp::ResolvedEngine;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Most frames × FFT size one spectrogram may compute (2^35: for example a two-hour file at
/// FFT 4096 with a hop of 64 or more).
pub const MAX_WORK: u64 = 1 << 35;
/// Most values (frames × bins) a CSV may hold (about 1 GB of text).
pub const MAX_CSV_VALUES: u64 = 1 << 27;
/// Values (frames × bins) computed per batch.
const BATCH_VALUES: usize = 1 << 22;

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
    if args.width * config.bins() > MAX_COLUMN_VALUES {
        bail!(
            "--width {} × {} bins (FFT {}): too large a picture to hold (at most {} values); use a smaller --width or --fft",
            args.width,
            config.bins(),
            config.fft,
            MAX_COLUMN_VALUES
        );
    }
    check_output_path(&args.output, &[&args.file])?;
    let mut outputs: Vec<&Path> = vec![&args.output];
    if let Some(csv) = &args.csv {
        check_output_path(csv, &[&args.file])?;
        outputs.push(csv);
    }
    check_distinct_outputs(&outputs)?;
    let mut file = AudioFile::open(&args.file)?;
    // The exact length sets the frame count and the pixel columns (a streamed WAV states
    // none, a compressed file only an estimate: those are counted first).
    let len = file.exact_frames()?;
    let frames = config.frames(len as usize) as u64;
    if frames.saturating_mul(config.fft as u64) > MAX_WORK {
        bail!(
            "{}: {frames} frames of FFT {} is more work than the {MAX_WORK} frame-samples allowed; raise --hop",
            args.file.display(),
            config.fft
        );
    }
    if args.csv.is_some() && frames.saturating_mul(config.bins() as u64) > MAX_CSV_VALUES {
        bail!(
            "{}: the CSV would hold {frames} frames × {} bins, over the {MAX_CSV_VALUES} values allowed; raise --hop or lower --fft",
            args.file.display(),
            config.bins()
        );
    }
    let rate = file.sample_rate();
    let mut backend: Box<dyn SpectrogramBackend> = match resolve_engine(args.engine.engine)? {
        ResolvedEngine::Cpu { .. } => Box::new(CpuSpectrogram { config }),
        ResolvedEngine::Gpu(ctx) => Box::new(GpuSpectrogram::new(ctx, config, file.channels())?),
    };
    let mut columns = SpectrogramColumns::new(config, rate, frames as usize, args.width);
    let mut csv = match &args.csv {
        Some(path) => Some(CsvWriter::new(path, config, rate)?),
        None => None,
    };
    let batch = (BATCH_VALUES / config.bins()).max(1);
    let mut window = SampleWindow::new(file.channels());
    let mut reader = ReadAhead::new(file, 1 << 15, 4);
    let mut done = 0usize;
    while done < frames as usize {
        let count = batch.min(frames as usize - done);
        let first = done * hop;
        // Samples for frames done..done+count: up to the last frame's end (or the file's).
        let end = ((done + count - 1) * hop + config.fft).min(len as usize);
        window.fill_to(&mut reader, first, end)?;
        let planes = window.planes(first, end);
        let s = backend.compute(&planes, rate)?;
        for f in 0..count.min(s.frames) {
            columns.push(s.frame(f));
        }
        if let Some(w) = &mut csv {
            w.rows(&s, done)?;
        }
        done += count;
    }
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
    let mut staged = vec![columns.render(&opts).save_png_staged(&args.output)?];
    if let Some(w) = csv {
        staged.push(w.finish()?);
    }
    commit_all(staged)?;
    say!(
        "{} -> {}: {} frames × {} bins (FFT {}, hop {}){}",
        args.file.display(),
        args.output.display(),
        frames,
        config.bins(),
        config.fft,
        config.hop,
        args.csv
            .as_ref()
            .map_or(String::new(), |c| format!(", CSV {}", c.display()))
    );
    Ok(())
}

/// The decoded samples from some frame on, kept only as far back as the next batch needs.
struct SampleWindow {
    /// `data[c][0]` is frame `start`.
    data: Vec<Vec<f32>>,
    start: usize,
}

impl SampleWindow {
    fn new(channels: usize) -> Self {
        Self {
            data: vec![Vec::new(); channels],
            start: 0,
        }
    }

    /// Drops samples before `from` and reads until the window reaches `to` (or the file ends).
    fn fill_to(&mut self, reader: &mut ReadAhead, from: usize, to: usize) -> Result<()> {
        let drop = from.saturating_sub(self.start).min(self.data[0].len());
        for c in &mut self.data {
            c.drain(..drop);
        }
        self.start += drop;
        while self.start + self.data[0].len() < to {
            let Some((block, n)) = reader.next_block()? else {
                // Shorter than counted (changed under us): silence, never a short batch.
                let missing = to - self.start - self.data[0].len();
                for d in &mut self.data {
                    d.resize(d.len() + missing, 0.0);
                }
                break;
            };
            for (d, b) in self.data.iter_mut().zip(block) {
                d.extend_from_slice(&b[..n]);
            }
        }
        Ok(())
    }

    fn planes(&self, from: usize, to: usize) -> Vec<&[f32]> {
        let a = from - self.start;
        let b = (to - self.start).min(self.data[0].len());
        self.data.iter().map(|c| &c[a..b.max(a)]).collect()
    }
}

/// The CSV: `time_s,<f0>,<f1>,...`, then one row per frame (centre time, dBFS per bin).
struct CsvWriter {
    tmp: tempfile::NamedTempFile,
    out: BufWriter<std::fs::File>,
    path: PathBuf,
}

impl CsvWriter {
    fn new(path: &Path, config: SpectrogramConfig, rate: u32) -> Result<Self> {
        let staged_tmp = crate::io::temp_beside(path)?;
        let file = staged_tmp.as_file().try_clone()?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let fail = |e: std::io::Error| anyhow::anyhow!("{}: write failed: {e}", path.display());
        write!(out, "time_s").map_err(fail)?;
        for k in 0..config.bins() {
            write!(
                out,
                ",{}",
                trim(k as f64 * f64::from(rate) / config.fft as f64)
            )
            .map_err(fail)?;
        }
        writeln!(out).map_err(fail)?;
        Ok(Self {
            tmp: staged_tmp,
            out,
            path: path.to_path_buf(),
        })
    }

    /// Writes the frames of `s`, the first of which is frame `first` of the file.
    fn rows(&mut self, s: &Spectrogram, first: usize) -> Result<()> {
        let fail =
            |e: std::io::Error| anyhow::anyhow!("{}: write failed: {e}", self.path.display());
        for f in 0..s.frames {
            write!(self.out, "{:.6}", s.frame_time(first + f)).map_err(fail)?;
            for v in s.frame(f) {
                write!(self.out, ",{v:.2}").map_err(fail)?;
            }
            writeln!(self.out).map_err(fail)?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<crate::io::Staged> {
        self.out
            .flush()
            .map_err(|e| anyhow::anyhow!("{}: write failed: {e}", self.path.display()))?;
        drop(self.out);
        crate::io::Staged::from_temp(self.tmp, &self.path)
    }
}

/// A frequency without trailing zeros (`11.71875`, `48`).
fn trim(hz: f64) -> String {
    let s = format!("{hz:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
