//! `mixstation render`: a session to a delivery master (and stems), with a loudness report.

use super::{EngineArgs, FormatArgs};
use crate::io::{check_output_path, write_wav};
use crate::session::load_session;
use anyhow::{bail, Context, Result};
use clap::Args;
use gpu_dsp::analysis::LoudnessSummary;
use gpu_dsp::mix::{finish_master, MasterReport, Mixer};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Samples per engine block in offline renders.
const BLOCK: usize = 1024;

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// Session file (TOML).
    pub session: PathBuf,
    /// Master output WAV.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Folder for one WAV per stem (DX.wav, MX.wav, …), each with its share of the buses.
    #[arg(long)]
    pub stems: Option<PathBuf>,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: &RenderArgs) -> Result<()> {
    let loaded = load_session(&args.session)?;
    let mut inputs: Vec<&Path> = loaded.inputs.iter().map(PathBuf::as_path).collect();
    inputs.push(&args.session);
    check_output_path(&args.output, &inputs)?;
    let stem_paths: Vec<PathBuf> = match &args.stems {
        Some(dir) => {
            if !dir.is_dir() {
                bail!("{}: stems folder does not exist", dir.display());
            }
            loaded
                .spec
                .stems
                .iter()
                .map(|s| dir.join(format!("{}.wav", sanitize(s))))
                .collect()
        }
        None => Vec::new(),
    };
    for (i, p) in stem_paths.iter().enumerate() {
        check_output_path(p, &inputs)?;
        if *p == args.output || stem_paths[..i].contains(p) {
            bail!(
                "{}: two outputs would share this file (rename a stem or the master)",
                p.display()
            );
        }
    }
    if !matches!(args.engine.engine, super::Engine::Cpu) {
        eprintln!(
            "note: the mix engine runs on the CPU; GPU reverb buses are not wired into render yet"
        );
    }
    let summary = render(&loaded.spec, &args.output, &stem_paths, args.format.format)
        .with_context(|| args.session.display().to_string())?;
    print_report(&args.session, &args.output, &stem_paths, &summary);
    Ok(())
}

/// What a render did.
pub struct RenderSummary {
    pub seconds: f64,
    pub elapsed: f64,
    pub report: MasterReport,
    pub target: Option<f64>,
    /// The finished master (for callers that go on analysing it).
    pub master: Vec<Vec<f32>>,
}

/// Renders `spec` and writes the master (and stems); nothing is written if mixing fails.
pub fn render(
    spec: &gpu_dsp::mix::MixSpec,
    output: &Path,
    stem_paths: &[PathBuf],
    format: crate::io::ExportFormat,
) -> Result<RenderSummary> {
    let started = Instant::now();
    let mut mixer = Mixer::new(spec.clone(), BLOCK).context("building the mix")?;
    let bar = crate::progress::bar(1000, "mixing");
    let mut stems = mixer.render(|f| bar.set_position((f * 1000.0) as u64));
    bar.finish_and_clear();
    if let Some(e) = mixer.error() {
        bail!("reading a source failed during the mix: {e}");
    }
    let (master, report) = finish_master(&mut stems, &spec.master, spec.layout, spec.sample_rate);
    let elapsed = started.elapsed().as_secs_f64();
    let planes: Vec<&[f32]> = master.iter().map(|c| c.as_slice()).collect();
    write_wav(output, spec.sample_rate, &planes, format)?;
    for (path, stem) in stem_paths.iter().zip(&stems) {
        let planes: Vec<&[f32]> = stem.iter().map(|c| c.as_slice()).collect();
        write_wav(path, spec.sample_rate, &planes, format)?;
    }
    Ok(RenderSummary {
        seconds: master.first().map_or(0, Vec::len) as f64 / f64::from(spec.sample_rate),
        elapsed,
        report,
        target: spec.master.loudness_target,
        master,
    })
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn fmt(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.1} {unit}"))
}

/// The render report: time, loudness of the master, normalisation.
pub fn print_report(session: &Path, output: &Path, stems: &[PathBuf], s: &RenderSummary) {
    let l: &LoudnessSummary = &s.report.loudness;
    println!("{} -> {}", session.display(), output.display());
    println!(
        "  rendered        {:.2} s in {:.2} s ({:.0}x real time)",
        s.seconds,
        s.elapsed,
        s.seconds / s.elapsed.max(1e-9)
    );
    if let Some(t) = s.target {
        println!(
            "  normalised      {} measured, {:+.2} dB applied for the {t} LUFS target",
            fmt(s.report.measured_before, "LUFS"),
            s.report.normalisation_db
        );
    }
    println!("  integrated      {}", fmt(l.integrated, "LUFS"));
    println!("  loudness range  {}", fmt(l.range, "LU"));
    println!("  true peak       {}", fmt(l.true_peak, "dBTP"));
    println!("  sample peak     {}", fmt(l.sample_peak, "dBFS"));
    for p in stems {
        println!("  stem            {}", p.display());
    }
}
