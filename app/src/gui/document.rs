//! The open session as a document: its TOML model (what Save writes back), the mix
//! description (what the engine plays) and the window's view of it (strips with waveform
//! overviews computed once at open).

use super::params::{section_params, set_section_param, Param};
use super::state::{BusStrip, SessionView, Strip};
use crate::io::write_atomically;
use crate::session::format::{InsertSection, SessionFile};
use crate::session::{load_session, parse};
use anyhow::{anyhow, Result};
use gpu_dsp::mix::{MixSpec, Source};
use std::io::Write;
use std::path::Path;

/// Columns of a waveform overview.
pub const OVERVIEW_COLUMNS: usize = 400;

/// An open session.
pub struct Document {
    pub file: SessionFile,
    pub spec: MixSpec,
}

impl Document {
    /// Loads and validates the session at `path` and builds its view.
    pub fn open(path: &Path) -> Result<(Self, SessionView)> {
        let loaded = load_session(path)?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("{}: cannot read the session: {e}", path.display()))?;
        let file = parse(&text, path)?;
        let spec = loaded.spec;
        let rate = f64::from(spec.sample_rate);
        let length = spec.length();
        let strips = spec
            .tracks
            .iter()
            .zip(&file.tracks)
            .map(|(t, section)| Strip {
                name: t.name.clone(),
                stem: spec.stems.get(t.stem).cloned().unwrap_or_default(),
                gain_db: t.gain_db,
                pan: t.pan,
                mute: t.mute,
                solo: t.solo,
                insert_params: section
                    .inserts
                    .iter()
                    .map(|i| section_params(i, spec.sample_rate))
                    .collect(),
                file_sends: section.sends.len(),
                inserts: section
                    .inserts
                    .iter()
                    .map(insert_name)
                    .map(String::from)
                    .collect(),
                sends: t
                    .sends
                    .iter()
                    .map(|s| (spec.buses[s.bus].name.clone(), s.level_db))
                    .collect(),
                overview: overview(&spec, t, length),
                span: span(&spec, t, rate),
            })
            .collect();
        let view = SessionView {
            path: path.to_path_buf(),
            rate: spec.sample_rate,
            layout: file.session.layout.clone(),
            length_s: length as f64 / rate,
            strips,
            buses: spec.buses.iter().map(|b| b.name.clone()).collect(),
            bus_strips: file
                .buses
                .iter()
                .map(|b| BusStrip {
                    name: b.name.clone(),
                    gain_db: b.gain_db,
                    inserts: b
                        .inserts
                        .iter()
                        .map(insert_name)
                        .map(String::from)
                        .collect(),
                    insert_params: b
                        .inserts
                        .iter()
                        .map(|i| section_params(i, spec.sample_rate))
                        .collect(),
                })
                .collect(),
            stems: spec.stems.clone(),
            target_lufs: file.master.loudness_target.unwrap_or(-23.0),
        };
        Ok((Self { file, spec }, view))
    }

    /// Every insert parameter of the view, for an engine to start with: (track, insert,
    /// name, value).
    pub fn insert_settings(view: &SessionView) -> Vec<(usize, usize, String, f32)> {
        settings(view.strips.iter().map(|s| &s.insert_params))
    }

    /// Every bus insert parameter of the view: (bus, insert, name, value).
    pub fn bus_insert_settings(view: &SessionView) -> Vec<(usize, usize, String, f32)> {
        settings(view.bus_strips.iter().map(|s| &s.insert_params))
    }

    /// Takes the window's strip settings into the document and the mix description.
    pub fn apply(&mut self, view: &SessionView) {
        for ((section, bus), strip) in self
            .file
            .buses
            .iter_mut()
            .zip(self.spec.buses.iter_mut())
            .zip(&view.bus_strips)
        {
            section.gain_db = strip.gain_db;
            bus.gain_db = strip.gain_db;
            for (insert, params) in section.inserts.iter_mut().zip(&strip.insert_params) {
                for p in params {
                    set_section_param(insert, &p.name, p.value);
                }
            }
        }
        for ((section, track), strip) in self
            .file
            .tracks
            .iter_mut()
            .zip(self.spec.tracks.iter_mut())
            .zip(&view.strips)
        {
            section.gain_db = strip.gain_db;
            section.pan = strip.pan;
            section.mute = strip.mute;
            section.solo = strip.solo;
            for (send, (_, level)) in section.sends.iter_mut().zip(&strip.sends) {
                send.level_db = *level;
            }
            for (send, (_, level)) in track.sends.iter_mut().zip(&strip.sends) {
                send.level_db = *level;
            }
            for (insert, params) in section.inserts.iter_mut().zip(&strip.insert_params) {
                for p in params {
                    set_section_param(insert, &p.name, p.value);
                }
            }
            track.gain_db = strip.gain_db;
            track.pan = strip.pan;
            track.mute = strip.mute;
            track.solo = strip.solo;
        }
    }

    /// Writes the document to `path` atomically (comments of the original are not kept).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = toml::to_string(&self.file)
            .map_err(|e| anyhow!("{}: cannot write the session: {e}", path.display()))?;
        write_atomically(path, |f| {
            f.write_all(b"# mixstation session (saved by the workstation window)\n")?;
            f.write_all(text.as_bytes())?;
            Ok(())
        })
    }
}

fn insert_name(i: &InsertSection) -> &'static str {
    match i {
        InsertSection::Eq { .. } => "eq",
        InsertSection::Compressor { .. } => "compressor",
        InsertSection::Gate { .. } => "gate",
        InsertSection::Limiter { .. } => "limiter",
        InsertSection::Reverb { .. } => "reverb",
        InsertSection::Clean { .. } => "clean",
        InsertSection::Duck { .. } => "duck",
        InsertSection::Multiband { .. } => "multiband",
    }
}

/// First and last timeline second of a track's clips.
fn span(spec: &MixSpec, t: &gpu_dsp::mix::TrackSpec, rate: f64) -> (f64, f64) {
    let start = t.clips.iter().map(|c| c.start).min().unwrap_or(0);
    let end = t
        .clips
        .iter()
        .map(|c| c.start + spec.clip_len(c))
        .max()
        .unwrap_or(0);
    (start as f64 / rate, end as f64 / rate)
}

/// Peak per column over the session's length, 0..1, from the track's clips (read once).
fn overview(spec: &MixSpec, t: &gpu_dsp::mix::TrackSpec, length: u64) -> Vec<f32> {
    let mut columns = vec![0.0f32; OVERVIEW_COLUMNS];
    if length == 0 {
        return columns;
    }
    let per_column = length.div_ceil(OVERVIEW_COLUMNS as u64).max(1);
    const CHUNK: usize = 1 << 15;
    for clip in &t.clips {
        let Some(source) = spec.sources.get(clip.source) else {
            continue;
        };
        let len = spec.clip_len(clip);
        let mut add = |offset: u64, planes: &[&[f32]]| {
            for (i, col) in (0..planes.first().map_or(0, |p| p.len()))
                .map(|i| (i, ((clip.start + offset + i as u64) / per_column) as usize))
            {
                if col < OVERVIEW_COLUMNS {
                    let v = planes.iter().map(|p| p[i].abs()).fold(0.0f32, f32::max);
                    columns[col] = columns[col].max(v.min(1.0));
                }
            }
        };
        match source {
            Source::Memory(p) => {
                let a = clip.offset as usize;
                let b = (clip.offset + len) as usize;
                let planes: Vec<&[f32]> = p
                    .iter()
                    .map(|c| &c[a.min(c.len())..b.min(c.len())])
                    .collect();
                add(0, &planes);
            }
            Source::Stream(s) => {
                let Ok(mut reader) = s.open() else { continue };
                let mut buf = vec![vec![0.0f32; CHUNK]; s.channels()];
                let mut done = 0u64;
                while done < len {
                    let n = CHUNK.min((len - done) as usize);
                    let mut views: Vec<&mut [f32]> = buf.iter_mut().map(|c| &mut c[..n]).collect();
                    if reader.read(clip.offset + done, &mut views).is_err() {
                        break;
                    }
                    let planes: Vec<&[f32]> = buf.iter().map(|c| &c[..n]).collect();
                    add(done, &planes);
                    done += n as u64;
                }
            }
        }
    }
    columns
}

/// Up to `max` frames of a clip's source audio from the clip's offset, mixed to mono.
pub fn read_clip_mono(spec: &MixSpec, clip: &gpu_dsp::mix::ClipSpec, max: u64) -> Result<Vec<f32>> {
    let source = spec
        .sources
        .get(clip.source)
        .ok_or_else(|| anyhow!("the clip's source is missing"))?;
    let len = spec.clip_len(clip).min(max) as usize;
    let planes = source.read(clip.offset, len).map_err(|e| anyhow!(e))?;
    Ok(gpu_dsp::mix::mono_mix(&planes))
}

/// The whole-file spectrogram of track `track`'s first clip (mono mix of its channels, up to
/// ten minutes): 2048-point frames every 512 samples, on the GPU when one is given.
pub fn file_spectrogram(
    spec: &MixSpec,
    track: usize,
    gpu: Option<&std::sync::Arc<gpu_dsp::gpu::GpuContext>>,
) -> Result<super::state::FileSpectrogram> {
    use gpu_dsp::analysis::spectrogram::{spectrogram_cpu, GpuSpectrogram, SpectrogramConfig};
    let t = spec
        .tracks
        .get(track)
        .ok_or_else(|| anyhow!("no track {track}"))?;
    let clip = t
        .clips
        .first()
        .ok_or_else(|| anyhow!("track '{}' has no clip", t.name))?;
    let rate = spec.sample_rate;
    let mono = read_clip_mono(spec, clip, 600 * u64::from(rate))?;
    let config = SpectrogramConfig::new(2048, 512)?;
    let s = match gpu {
        Some(ctx) => GpuSpectrogram::new(ctx.clone(), config, 1)?.compute(&[&mono], rate)?,
        None => spectrogram_cpu(&[&mono], rate, config),
    };
    Ok(super::state::FileSpectrogram {
        track,
        name: t.name.clone(),
        rate,
        fft: config.fft,
        frames: s.frames,
        bins: s.bins,
        seconds: mono.len() as f64 / f64::from(rate),
        db: std::sync::Arc::new(s.db),
    })
}
/// (strip, insert, name, value) for every parameter of every strip's inserts.
fn settings<'a>(
    strips: impl Iterator<Item = &'a Vec<Vec<Param>>>,
) -> Vec<(usize, usize, String, f32)> {
    strips
        .enumerate()
        .flat_map(|(i, inserts)| {
            inserts
                .iter()
                .enumerate()
                .flat_map(move |(k, ps)| ps.iter().map(move |p| (i, k, p.name.clone(), p.value)))
        })
        .collect()
}
