//! Rendering a session offline: the mix streamed to a master (and stems) with loudness
//! normalisation, a true-peak limiter and a report. Shared by `render`, `demo` and the
//! window's export.

use crate::io::{commit_all, register_work_path, ExportFormat, WavStream, WriteBehind};
use anyhow::{bail, Context, Result};
use gpu_dsp::analysis::{LoudnessMeter, LoudnessSummary};
use gpu_dsp::mix::{MasterFinisher, MasterReport, MixSpec, Mixer};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

/// Samples per engine block in offline renders (playback uses 1024): latency does not
/// matter offline, and larger blocks cut the per-block work of scheduling and summing (the
/// 96-track render of `benches/cli.sh`: a few per cent faster than at 2048; 24× real time
/// against 20× at 1024 in the mix benchmark before that).
pub const BLOCK: usize = 4096;

/// What a render did.
pub struct RenderSummary {
    pub seconds: f64,
    pub elapsed: f64,
    pub report: MasterReport,
    pub target: Option<f64>,
}

/// A render's progress and its cancel switch, shared with the window that started it.
#[derive(Debug, Default)]
pub struct RenderProgress {
    /// Thousandths done (the mix is the first half, the finishing pass the second).
    pub permille: std::sync::atomic::AtomicU32,
    /// Set to stop the render; it ends with an error and writes nothing.
    pub cancel: std::sync::atomic::AtomicBool,
}

impl RenderProgress {
    fn set(&self, permille: u64) {
        self.permille.store(
            permille.min(1000) as u32,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    fn check(&self) -> Result<()> {
        if self.cancel.load(std::sync::atomic::Ordering::Relaxed) {
            bail!("the render was cancelled; nothing was written");
        }
        Ok(())
    }
}

/// The error for work files that cannot be written in `folder`.
fn spill_failed(folder: &Path, e: std::io::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "{}: cannot write the render's work files: {e}",
        folder.display()
    )
}

/// Planar stems, `[stem][channel][frame]`.
type Stems = Vec<Vec<Vec<f32>>>;

/// A block of stems for the [`MixSink`]: its frames `range` start at output frame
/// `first_frame`.
type Taken = (Stems, std::ops::Range<usize>, u64);

/// What the mix pass keeps of each block, and how.
struct Keep {
    /// The master gain (linear).
    gain: f32,
    names: Vec<String>,
    rate: u32,
    channels: usize,
    /// Spill the master sum (no stem files), else every stem.
    spill_sum: bool,
    /// Where the work files are (for messages).
    folder: PathBuf,
}

/// The mix pass's keeping, on a thread of its own so the mix never waits for it: each
/// block's stems checked for non-finite samples, the master's loudness measured, and the
/// stems (or their sum) spilled to raw work files. Buffers travel back for reuse.
struct MixSink {
    tx: Option<SyncSender<Taken>>,
    free: Receiver<Stems>,
    worker: Option<JoinHandle<Result<LoudnessMeter>>>,
}

impl MixSink {
    fn start(files: Vec<BufWriter<File>>, keep: Keep) -> Self {
        let (tx, rx) = sync_channel::<Taken>(4);
        let (free_tx, free) = channel();
        let worker = std::thread::spawn(move || keep_blocks(files, &keep, rx, free_tx));
        Self {
            tx: Some(tx),
            free,
            worker: Some(worker),
        }
    }

    /// Hands over a copy of `stems`' frames `range` (output frame `first_frame` on); the
    /// keeper's error when it stopped.
    fn take(
        &mut self,
        stems: &[Vec<Vec<f32>>],
        range: std::ops::Range<usize>,
        first: u64,
    ) -> Result<()> {
        let mut copy = self.free.try_recv().unwrap_or_default();
        copy.resize_with(stems.len(), Vec::new);
        for (dst, src) in copy.iter_mut().zip(stems) {
            dst.resize_with(src.len(), Vec::new);
            for (d, s) in dst.iter_mut().zip(src) {
                d.clear();
                d.extend_from_slice(&s[..range.end]);
            }
        }
        match self.tx.as_ref().map(|tx| tx.send((copy, range, first))) {
            Some(Ok(())) => Ok(()),
            _ => self.join().map(|_| ()),
        }
    }

    /// Waits for every block to be kept; the master's loudness meter.
    fn finish(mut self) -> Result<LoudnessMeter> {
        self.join()
    }

    fn join(&mut self) -> Result<LoudnessMeter> {
        self.tx = None;
        match self.worker.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            _ => bail!("the render's keeping thread failed"),
        }
    }
}

impl Drop for MixSink {
    /// Unfinished (an error upstream): let the keeper end before the files are removed.
    fn drop(&mut self) {
        let _ = self.join();
    }
}

/// The [`MixSink`]'s thread.
fn keep_blocks(
    mut files: Vec<BufWriter<File>>,
    keep: &Keep,
    blocks: Receiver<Taken>,
    free: std::sync::mpsc::Sender<Stems>,
) -> Result<LoudnessMeter> {
    let mut before = LoudnessMeter::new(keep.channels, keep.rate);
    let mut master = vec![vec![0.0f32; BLOCK]; keep.channels];
    let mut bytes: Vec<u8> = Vec::new();
    for (stems, range, first) in blocks {
        check_finite_stems(&stems, range.clone(), &keep.names, first, keep.rate)?;
        let (skip, n) = (range.start, range.end);
        for m in &mut master {
            m[skip..n].fill(0.0);
        }
        for stem in &stems {
            for (m, c) in master.iter_mut().zip(stem) {
                m[skip..n]
                    .iter_mut()
                    .zip(&c[skip..n])
                    .for_each(|(a, b)| *a += keep.gain * b);
            }
        }
        let planes: Vec<&[f32]> = master.iter().map(|c| &c[skip..n]).collect();
        before.process(&planes);
        let (sources, scale): (Vec<&Vec<Vec<f32>>>, f32) = if keep.spill_sum {
            (vec![&master], 1.0)
        } else {
            (stems.iter().collect(), keep.gain)
        };
        for (file, group) in files.iter_mut().zip(sources) {
            bytes.clear();
            for i in skip..n {
                for c in group {
                    bytes.extend_from_slice(&(c[i] * scale).to_le_bytes());
                }
            }
            file.write_all(&bytes)
                .map_err(|e| spill_failed(&keep.folder, e))?;
        }
        let _ = free.send(stems);
    }
    for f in &mut files {
        f.flush().map_err(|e| spill_failed(&keep.folder, e))?;
    }
    Ok(before)
}

/// Frames per block of the finishing pass.
const FINISH_BLOCK: usize = 8192;

/// Renders `spec` to `output` (and one file per stem) in two streaming passes (the reverbs'
/// tails on `gpu` when given), so memory
/// stays bounded by the blocks, not the length of the session:
///
/// 1. mix block by block, measure the master's loudness, and spill what must be kept (the
///    stems, or only their sum when no stems are asked for) to raw files beside the output;
/// 2. read them back block by block, apply the master gain and the normalisation for the
///    loudness target, run the master through the true-peak limiter, and write the master
///    and the stems (which get the same gains, not the limiter, so they still add up).
pub fn render(
    spec: &MixSpec,
    output: &Path,
    stem_paths: &[PathBuf],
    format: ExportFormat,
    gpu: Option<Arc<gpu_dsp::gpu::GpuContext>>,
) -> Result<RenderSummary> {
    render_with(
        spec,
        output,
        stem_paths,
        format,
        gpu,
        &RenderProgress::default(),
    )
}

/// [`render`], reporting to and stoppable through `progress` (the window's export).
pub fn render_with(
    spec: &MixSpec,
    output: &Path,
    stem_paths: &[PathBuf],
    format: ExportFormat,
    gpu: Option<Arc<gpu_dsp::gpu::GpuContext>>,
    progress: &RenderProgress,
) -> Result<RenderSummary> {
    let started = Instant::now();
    // Without stem files, linear buses run once on the sum instead of once per stem.
    let mixed = match stem_paths.is_empty() {
        true => spec.with_one_stem().unwrap_or_else(|| spec.clone()),
        false => spec.clone(),
    };
    let stem_names = mixed.stems.clone();
    let mut mixer = Mixer::for_render(mixed, BLOCK, gpu).context("building the mix")?;
    for note in mixer.notes() {
        eprintln!("note: {note}");
    }
    let rate = spec.sample_rate;
    let channels = spec.layout.channels();
    let total = spec.length() + mixer.tail();
    let latency = mixer.latency() as u64;
    let frames = total.saturating_sub(latency) as usize;
    let groups = if stem_paths.is_empty() {
        1
    } else {
        spec.stems.len()
    };
    let target = crate::io::resolve_output(output)?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let parent = parent.canonicalize().unwrap_or(parent);
    let spill_dir = tempfile::Builder::new()
        .prefix(&format!(".mixstation-render-{}-", std::process::id()))
        .tempdir_in(&parent)
        .with_context(|| format!("{}: cannot create a work folder", parent.display()))?;
    register_work_path(spill_dir.path());
    let spill_path = |g: usize| spill_dir.path().join(format!("{g}.f32"));
    let spill: Vec<BufWriter<File>> = (0..groups)
        .map(|g| File::create(spill_path(g)).map(BufWriter::new))
        .collect::<std::io::Result<_>>()
        .map_err(|e| spill_failed(&parent, e))?;
    let gain = 10f32.powf(spec.master.gain_db / 20.0);
    let mut sink = MixSink::start(
        spill,
        Keep {
            gain,
            names: stem_names,
            rate,
            channels,
            spill_sum: groups == 1,
            folder: parent.clone(),
        },
    );
    let bar = crate::progress::bar(1000, "mixing");
    let mut pos = 0u64;
    while pos < total {
        let n = BLOCK.min((total - pos) as usize);
        let skip = latency.saturating_sub(pos).min(n as u64) as usize;
        pos += n as u64;
        let stems = mixer.process_block(n);
        if skip == n {
            continue;
        }
        sink.take(stems, skip..n, pos - n as u64 + skip as u64 - latency)?;
        bar.set_position(pos * 1000 / total.max(1));
        progress.set(pos * 500 / total.max(1));
        progress.check()?;
    }
    bar.finish_and_clear();
    if let Some(e) = mixer.error() {
        bail!("the mix failed: {e}");
    }
    drop(mixer);
    let before = sink.finish()?;
    // Pass 2: gains, limiter, files.
    let measured = before.integrated();
    let mut finisher = MasterFinisher::new(&spec.master, measured, channels, rate);
    let g = finisher.gain();
    if !g.is_finite() {
        bail!(
            "master: the loudness normalisation of {:+.1} dB is not a usable gain",
            finisher.normalisation_db()
        );
    }
    let mut to_flush = finisher.delay();
    // Every output encoded and written on a thread of its own, beside the finishing.
    let open = |p: &Path| -> Result<WriteBehind> {
        Ok(WriteBehind::new(
            WavStream::create(p, rate, channels, format)?,
            channels,
            4,
        ))
    };
    let mut master_out = open(output)?;
    let mut stem_out: Vec<WriteBehind> =
        stem_paths.iter().map(|p| open(p)).collect::<Result<_>>()?;
    let mut readers: Vec<BufReader<File>> = (0..groups)
        .map(|g| File::open(spill_path(g)).map(BufReader::new))
        .collect::<std::io::Result<_>>()?;
    let mut block = vec![vec![0.0f32; FINISH_BLOCK]; channels];
    let mut group = vec![vec![0.0f32; FINISH_BLOCK]; channels];
    let mut raw = vec![0u8; FINISH_BLOCK * channels * 4];
    let (mut read, mut written) = (0usize, 0usize);
    while written < frames {
        // Input while it lasts, then silence to flush the limiter's delay.
        let m = FINISH_BLOCK.min(frames - read.min(frames));
        let n = if m > 0 {
            m
        } else {
            let n = FINISH_BLOCK.min(to_flush.max(frames - written));
            to_flush = to_flush.saturating_sub(n);
            n
        };
        for c in &mut block {
            c[..n].fill(0.0);
        }
        for (k, reader) in readers.iter_mut().enumerate() {
            if m == 0 {
                break;
            }
            reader.read_exact(&mut raw[..m * channels * 4])?;
            for (c, plane) in group.iter_mut().enumerate() {
                let frames = raw[c * 4..].chunks(channels * 4);
                for (x, v) in plane[..m].iter_mut().zip(frames) {
                    *x = f32::from_le_bytes([v[0], v[1], v[2], v[3]]) * g;
                }
            }
            if let Some(out) = stem_out.get_mut(k) {
                out.write(&group, 0, m)?;
            }
            for (b, x) in block.iter_mut().zip(&group) {
                b[..m].iter_mut().zip(&x[..m]).for_each(|(a, y)| *a += y);
            }
        }
        read += m;
        let mut views: Vec<&mut [f32]> = block.iter_mut().map(|c| &mut c[..n]).collect();
        let done = finisher.process(&mut views, true);
        let keep = (done.end - done.start).min(frames - written);
        finisher.truncate_last(keep);
        let planes: Vec<&[f32]> = block
            .iter()
            .map(|c| &c[done.start..done.start + keep])
            .collect();
        if let Some(i) = planes
            .iter()
            .find_map(|c| c.iter().position(|s| !s.is_finite()))
        {
            bail!(
                "master: a non-finite sample after the gain, normalisation and limiter at {:.3} s; nothing was written",
                (written + i) as f64 / f64::from(rate)
            );
        }
        master_out.write(&block, done.start, done.start + keep)?;
        written += keep;
        progress.set(500 + (written as u64 * 500) / frames.max(1) as u64);
        progress.check()?;
    }
    // Every file complete before any is moved into place: all of them or none.
    let mut staged = vec![master_out.finish_staged()?];
    for s in stem_out {
        staged.push(s.finish_staged()?);
    }
    commit_all(staged)?;
    crate::io::forget_work_path(spill_dir.path());
    drop(spill_dir);
    Ok(RenderSummary {
        seconds: frames as f64 / f64::from(rate),
        elapsed: started.elapsed().as_secs_f64(),
        report: MasterReport {
            measured_before: measured,
            normalisation_db: finisher.normalisation_db(),
            loudness: finisher.finish(),
        },
        target: spec.master.loudness_target,
    })
}

/// Fails on the first NaN or infinite sample of a mixed block, naming its stem and time.
fn check_finite_stems(
    stems: &[Vec<Vec<f32>>],
    range: std::ops::Range<usize>,
    names: &[String],
    first_frame: u64,
    rate: u32,
) -> Result<()> {
    for (k, stem) in stems.iter().enumerate() {
        if let Some(i) = stem
            .iter()
            .find_map(|c| c[range.clone()].iter().position(|s| !s.is_finite()))
        {
            bail!(
                "stem {}: the mix produced a non-finite sample near {:.3} s (a gain, EQ or insert setting out of range?); nothing was written",
                names.get(k).map_or("?", String::as_str),
                (first_frame + i as u64) as f64 / f64::from(rate)
            );
        }
    }
    Ok(())
}

fn fmt(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.1} {unit}"))
}

/// The render report: time, loudness of the master, normalisation.
pub fn print_report(session: &Path, output: &Path, stems: &[PathBuf], s: &RenderSummary) {
    let l: &LoudnessSummary = &s.report.loudness;
    say!("{} -> {}", session.display(), output.display());
    say!(
        "  rendered        {:.2} s in {:.2} s ({:.0}x real time)",
        s.seconds,
        s.elapsed,
        s.seconds / s.elapsed.max(1e-9)
    );
    if let Some(t) = s.target {
        say!(
            "  normalised      {} measured, {:+.2} dB applied for the {t} LUFS target",
            fmt(s.report.measured_before, "LUFS"),
            s.report.normalisation_db
        );
    }
    say!("  integrated      {}", fmt(l.integrated, "LUFS"));
    say!("  loudness range  {}", fmt(l.range, "LU"));
    say!("  true peak       {}", fmt(l.true_peak, "dBTP"));
    say!("  sample peak     {}", fmt(l.sample_peak, "dBFS"));
    for p in stems {
        say!("  stem            {}", p.display());
    }
}

#[cfg(test)]
mod cancel_tests {
    use super::*;

    #[test]
    fn a_cancelled_render_writes_nothing() {
        let spec = MixSpec::one_track(48_000, vec![0.1f32; 96_000]);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("mix.wav");
        let progress = RenderProgress::default();
        progress
            .cancel
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let e = render_with(&spec, &out, &[], ExportFormat::F32, None, &progress)
            .err()
            .expect("cancelled");
        assert!(e.to_string().contains("cancelled"), "{e}");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "stray files"
        );
        // Not cancelled: the whole file, and the progress reaches the end.
        let progress = RenderProgress::default();
        render_with(&spec, &out, &[], ExportFormat::F32, None, &progress).unwrap();
        assert!(out.is_file());
        assert_eq!(
            progress.permille.load(std::sync::atomic::Ordering::Relaxed),
            1000
        );
    }
}
