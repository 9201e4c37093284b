//! Rendering a session offline: the mix streamed to a master (and stems) with loudness
//! normalisation, a true-peak limiter and a report. Shared by `render`, `demo` and the
//! window's export.

use crate::io::{commit_all, register_work_path, ExportFormat, WavStream};
use anyhow::{bail, Context, Result};
use gpu_dsp::analysis::{LoudnessMeter, LoudnessSummary};
use gpu_dsp::mix::{MasterFinisher, MasterReport, MixSpec, Mixer};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Samples per engine block in offline renders (as in playback): latency does not matter
/// offline, and larger blocks halve the per-block work of scheduling, summing and the
/// reverbs' first partitions (the mix benchmark: 24× real time against 20× at 1024).
pub const BLOCK: usize = 2048;

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
    let spill_failed = |e: std::io::Error| {
        anyhow::anyhow!(
            "{}: cannot write the render's work files: {e}",
            parent.display()
        )
    };
    let spill_path = |g: usize| spill_dir.path().join(format!("{g}.f32"));
    let mut spill: Vec<BufWriter<File>> = (0..groups)
        .map(|g| File::create(spill_path(g)).map(BufWriter::new))
        .collect::<std::io::Result<_>>()
        .map_err(spill_failed)?;
    let gain = 10f32.powf(spec.master.gain_db / 20.0);
    let mut before = LoudnessMeter::new(channels, rate);
    let mut master = vec![vec![0.0f32; BLOCK]; channels];
    let mut bytes: Vec<u8> = Vec::with_capacity(BLOCK * channels * 4);
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
        check_finite_stems(
            stems,
            skip..n,
            &stem_names,
            pos - n as u64 + skip as u64 - latency,
            rate,
        )?;
        for m in &mut master {
            m[skip..n].fill(0.0);
        }
        for stem in stems {
            for (m, c) in master.iter_mut().zip(stem) {
                m[skip..n]
                    .iter_mut()
                    .zip(&c[skip..n])
                    .for_each(|(a, b)| *a += gain * b);
            }
        }
        let planes: Vec<&[f32]> = master.iter().map(|c| &c[skip..n]).collect();
        before.process(&planes);
        let sources: Vec<&Vec<Vec<f32>>> = if groups == 1 {
            vec![&master]
        } else {
            stems.iter().collect()
        };
        let scale = if groups == 1 { 1.0 } else { gain };
        for (file, group) in spill.iter_mut().zip(sources) {
            bytes.clear();
            for i in skip..n {
                for c in group {
                    bytes.extend_from_slice(&(c[i] * scale).to_le_bytes());
                }
            }
            file.write_all(&bytes).map_err(spill_failed)?;
        }
        bar.set_position(pos * 1000 / total.max(1));
        progress.set(pos * 500 / total.max(1));
        progress.check()?;
    }
    bar.finish_and_clear();
    if let Some(e) = mixer.error() {
        bail!("the mix failed: {e}");
    }
    drop(mixer);
    for f in &mut spill {
        f.flush().map_err(spill_failed)?;
    }
    drop(spill);
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
    let mut master_out = WavStream::create(output, rate, channels, format)?;
    let mut stem_out: Vec<WavStream> = stem_paths
        .iter()
        .map(|p| WavStream::create(p, rate, channels, format))
        .collect::<Result<_>>()?;
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
            for (i, v) in raw[..m * channels * 4].chunks_exact(4).enumerate() {
                group[i % channels][i / channels] =
                    f32::from_le_bytes([v[0], v[1], v[2], v[3]]) * g;
            }
            if let Some(out) = stem_out.get_mut(k) {
                let planes: Vec<&[f32]> = group.iter().map(|c| &c[..m]).collect();
                out.write(&planes)?;
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
        master_out.write(&planes)?;
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
