//! `mixstation masking SESSION [--json] [--png OUT] [--dialogue STEM]`: which tracks cover
//! the dialogue, in which third-octave band, and how often. The session is rendered once;
//! every track outside the dialogue stem is compared, band by band and frame by frame, with
//! the dialogue stem as it leaves the mix (`gpu_dsp::analysis::MaskingMatrix`, which analyses
//! the dialogue once for all the tracks: the dialogue is
//! active in a band above −60 dB; a track covers it there when it is within 6 dB of it or
//! louder). Tracks are ranked by the share of the dialogue's active band-frames they cover.
//! A track is measured by its own post-fader output, before the buses it feeds: a duck on a
//! music bus is not counted (the bus processes the sum, which no one track owns).

use super::{resolve_engine, EngineArgs};
use crate::session::load_session;
use anyhow::{anyhow, bail, Result};
use clap::Args;
use gpu_dsp::analysis::{covered_share, BandMasking, MaskingFolds, MaskingMatrix};
use gpu_dsp::mix::Mixer;
use gpu_dsp::ResolvedEngine;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct MaskingArgs {
    /// Session file (TOML).
    pub session: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also draw the track × band matrix as a PNG.
    #[arg(long, value_name = "PNG")]
    pub png: Option<PathBuf>,
    /// The dialogue stem (by name, any case).
    #[arg(long, default_value = "DX")]
    pub dialogue: String,
    /// Where the frames are transformed: the GPU takes every track's frames of a block in
    /// one submission (the same figures).
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// How the command measures: the CPU matrix over the taps, or the mixer's own GPU
/// analysis (every track's frames in the same submission as the reverb tails, per block).
enum Analyser {
    Cpu(Box<MaskingMatrix>),
    Gpu(MaskingFolds),
}

/// One track's masking of the dialogue.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TrackMasking {
    pub track: String,
    pub stem: String,
    /// Of the dialogue's active band-frames, the share this track covers.
    pub covered_fraction: f64,
    pub bands: Vec<BandReport>,
}

/// One band of a track's masking.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BandReport {
    pub centre_hz: f64,
    /// Share of frames the dialogue is active in this band.
    pub dialogue_active: f64,
    /// Of those, the share this track covers (`null`: the dialogue is never active here).
    pub covered_fraction: Option<f64>,
    /// Mean track-minus-dialogue level over those frames (dB).
    pub mean_margin_db: Option<f64>,
}

#[derive(serde::Serialize)]
struct Report<'a> {
    session: String,
    dialogue_stem: &'a str,
    seconds: f64,
    /// Ranked, the track that covers the dialogue most first.
    tracks: &'a [TrackMasking],
}

/// Engine block of the analysis render.
const BLOCK: usize = 4096;

pub fn run(args: &MaskingArgs) -> Result<()> {
    let loaded = load_session(&args.session)?;
    if let Some(png) = &args.png {
        let mut inputs = vec![args.session.as_path()];
        inputs.extend(loaded.inputs.iter().map(PathBuf::as_path));
        crate::io::check_output_path(png, &inputs)?;
    }
    let engine = resolve_engine(args.engine.engine)?;
    let (tracks, seconds) = measure(&args.session, loaded.spec, &args.dialogue, &engine)?;
    if args.json {
        let report = Report {
            session: args.session.display().to_string(),
            dialogue_stem: &args.dialogue,
            seconds,
            tracks: &tracks,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&tracks, &args.dialogue, seconds);
    }
    if let Some(png) = &args.png {
        draw(&tracks).save_png(png)?;
        if !args.json {
            println!("matrix: {}", png.display());
        }
    }
    Ok(())
}

/// Renders the mix of `session` and measures every track outside the dialogue stem against
/// it, ranked; with the seconds analysed.
fn measure(
    session: &std::path::Path,
    spec: gpu_dsp::mix::MixSpec,
    dialogue: &str,
    engine: &ResolvedEngine,
) -> Result<(Vec<TrackMasking>, f64)> {
    let dx = spec
        .stems
        .iter()
        .position(|s| s.eq_ignore_ascii_case(dialogue))
        .ok_or_else(|| {
            anyhow!(
                "{}: no stem '{dialogue}' (stems: {}); name the dialogue stem with --dialogue",
                session.display(),
                spec.stems.join(", ")
            )
        })?;
    let maskers: Vec<usize> = (0..spec.tracks.len())
        .filter(|&t| spec.tracks[t].stem != dx)
        .collect();
    if maskers.is_empty() {
        bail!(
            "{}: every track is in the dialogue stem '{}'; nothing to measure against it",
            session.display(),
            spec.stems[dx]
        );
    }
    let (rate, channels) = (spec.sample_rate, spec.layout.channels());
    let names: Vec<(String, String)> = maskers
        .iter()
        .map(|&t| {
            let track = &spec.tracks[t];
            (track.name.clone(), spec.stems[track.stem].clone())
        })
        .collect();
    // The dialogue is analysed once for all the tracks; on the GPU inside the mix.
    let (mut mixer, mut matrix) = match engine {
        ResolvedEngine::Gpu(ctx) => {
            let mut mixer = Mixer::with_gpu(spec, BLOCK, Some(ctx.clone()))?;
            match mixer.enable_gpu_masking(dx) {
                Ok(measured) if measured == maskers => {
                    (mixer, Analyser::Gpu(MaskingFolds::new(maskers.len(), rate)))
                }
                Ok(_) => bail!("the GPU analysis measures other tracks than asked"),
                Err(e) => {
                    // Too large for the adapter: the CPU measures instead.
                    eprintln!("note: the GPU cannot take the analysis ({e}); the CPU measures");
                    mixer.enable_track_taps();
                    let matrix = MaskingMatrix::new(channels, maskers.len(), channels, rate);
                    (mixer, Analyser::Cpu(Box::new(matrix)))
                }
            }
        }
        ResolvedEngine::Cpu { .. } => {
            let mut mixer = Mixer::new(spec, BLOCK)?;
            mixer.enable_track_taps();
            let matrix = MaskingMatrix::new(channels, maskers.len(), channels, rate);
            (mixer, Analyser::Cpu(Box::new(matrix)))
        }
    };
    let total = mixer.spec().length() + mixer.tail();
    let mut skip = mixer.latency() as u64;
    // As a render: the timeline and the tails, of which the mix's latency comes first.
    let mut done = 0u64;
    while done < total {
        let n = (BLOCK as u64).min(total - done) as usize;
        mixer.process_block(n);
        done += n as u64;
        // The mix's own latency is rendered but not part of the session's time.
        let from = skip.min(n as u64) as usize;
        skip -= from as u64;
        match &mut matrix {
            Analyser::Gpu(folds) => mixer.take_band_powers(|p| folds.push_powers(p)),
            Analyser::Cpu(m) if from < n => {
                let dialogue: Vec<&[f32]> =
                    mixer.last_stems()[dx].iter().map(|c| &c[from..n]).collect();
                m.push_target(&dialogue);
                for (k, &t) in maskers.iter().enumerate() {
                    let tap = mixer
                        .track_tap(t)
                        .ok_or_else(|| anyhow!("track {t} has no output tap"))?;
                    let track: Vec<&[f32]> = tap.iter().map(|c| &c[from..n]).collect();
                    m.push_masker(k, &track);
                }
            }
            Analyser::Cpu(_) => {}
        }
    }
    if let Analyser::Gpu(folds) = &mut matrix {
        mixer.flush_gpu();
        mixer.take_band_powers(|p| folds.push_powers(p));
    }
    if let Some(e) = mixer.error() {
        bail!("{}: {e}", session.display());
    }
    let figures = match matrix {
        Analyser::Cpu(m) => m.finish(),
        Analyser::Gpu(folds) => folds.finish(),
    };
    let mut tracks: Vec<TrackMasking> = figures
        .iter()
        .zip(names)
        .map(|(bands, (track, stem))| summarise(track, stem, bands))
        .collect();
    tracks.sort_by(|a, b| b.covered_fraction.total_cmp(&a.covered_fraction));
    let seconds = total.saturating_sub(mixer.latency() as u64) as f64 / f64::from(rate);
    Ok((tracks, seconds))
}

/// A track's bands and its covered share of the dialogue's active band-frames.
fn summarise(track: String, stem: String, bands: &[BandMasking]) -> TrackMasking {
    TrackMasking {
        track,
        stem,
        covered_fraction: covered_share(bands),
        bands: bands
            .iter()
            .map(|b| BandReport {
                centre_hz: b.band.nominal_hz,
                dialogue_active: b.active_fraction,
                covered_fraction: b.covered_fraction,
                mean_margin_db: b.mean_margin_db,
            })
            .collect(),
    }
}

/// A band's centre as a label: 63, 125, 1.6k, …
fn hz_label(hz: f64) -> String {
    if hz >= 1000.0 {
        format!("{}k", (hz / 100.0).round() / 10.0)
    } else {
        format!("{}", hz.round())
    }
}

fn print_table(tracks: &[TrackMasking], dialogue: &str, seconds: f64) {
    println!("masking of the {dialogue} stem over {seconds:.1} s (covered: within 6 dB of the dialogue or louder)");
    println!(
        "{:<4} {:<24} {:>8}  worst bands (covered share, mean margin)",
        "rank", "track", "covered"
    );
    for (k, t) in tracks.iter().enumerate() {
        let mut worst: Vec<&BandReport> = t
            .bands
            .iter()
            .filter(|b| b.covered_fraction.is_some_and(|c| c > 0.0))
            .collect();
        worst.sort_by(|a, b| {
            let share = |r: &BandReport| r.covered_fraction.unwrap_or(0.0) * r.dialogue_active;
            share(b).total_cmp(&share(a))
        });
        let bands: Vec<String> = worst
            .iter()
            .take(3)
            .map(|b| {
                format!(
                    "{} Hz {:.0} % {:+.1} dB",
                    hz_label(b.centre_hz),
                    100.0 * b.covered_fraction.unwrap_or(0.0),
                    b.mean_margin_db.unwrap_or(0.0)
                )
            })
            .collect();
        println!(
            "{:<4} {:<24} {:>7.1} %  {}",
            k + 1,
            t.track,
            100.0 * t.covered_fraction,
            if bands.is_empty() {
                "—".to_string()
            } else {
                bands.join(", ")
            }
        );
    }
}

/// The track × band matrix: one row per track (ranked), one column per band, the colour
/// the covered share; bands where the dialogue is never active are left dark grey.
fn draw(tracks: &[TrackMasking]) -> crate::plot::Canvas {
    use crate::plot::{magma, Canvas};
    let bands = tracks.first().map_or(0, |t| t.bands.len());
    let (cell_w, cell_h, left, top) = (24usize, 18usize, 170usize, 30usize);
    let width = left + bands * cell_w + 10;
    let height = top + tracks.len() * cell_h + 30;
    let mut c = Canvas::new(width, height, [20, 20, 24]);
    c.text(
        left,
        8,
        "share of the dialogue's active frames covered, per band",
        1,
        [220, 220, 220],
    );
    for (row, t) in tracks.iter().enumerate() {
        let y = top + row * cell_h;
        let name: String = t.track.chars().take(20).collect();
        c.text(6, y + 5, &name, 1, [230, 230, 230]);
        for (col, b) in t.bands.iter().enumerate() {
            let colour = match b.covered_fraction {
                Some(f) => magma(f as f32),
                None => [45, 45, 50],
            };
            c.fill(left + col * cell_w, y, cell_w - 1, cell_h - 1, colour);
        }
    }
    if let Some(t) = tracks.first() {
        for (col, b) in t.bands.iter().enumerate().step_by(3) {
            let x = left + col * cell_w;
            c.text(
                x,
                top + tracks.len() * cell_h + 8,
                &hz_label(b.centre_hz),
                1,
                [180, 180, 180],
            );
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_labels_read_as_on_a_console() {
        assert_eq!(hz_label(63.0), "63");
        assert_eq!(hz_label(1600.0), "1.6k");
        assert_eq!(hz_label(1000.0), "1k");
        assert_eq!(hz_label(12_500.0), "12.5k");
    }
}
