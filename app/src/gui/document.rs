//! The open session as a document: its edit session (the TOML text, as the user wrote it,
//! and the undo history: what Save writes back), the mix description (what the engine
//! plays) and the window's view of it (strips with waveform overviews computed once).

use super::params::{section_params, Param};
use super::state::{BusStrip, SessionView, Strip};
use crate::edit::{path_part, Command, EditSession};
use crate::session::format::{InsertSection, SessionFile};
use crate::session::{load_session_with_offline, parse, LoadedSession};
use anyhow::{anyhow, Result};
use gpu_dsp::mix::AutomationMode;
use gpu_dsp::mix::{MixSpec, Source};
use std::path::Path;

/// An open session.
pub struct Document {
    /// The session as last built into `spec` (what the strips are compared against).
    pub file: SessionFile,
    pub spec: MixSpec,
    /// The TOML document and its history; every change goes through it.
    pub edit: EditSession,
    /// Every file the session reads (an export may not overwrite one).
    pub inputs: Vec<std::path::PathBuf>,
    /// What each of `spec`'s sources is (its file, `#N` for one channel): the key of its
    /// waveform peaks, which survive rebuilds.
    pub source_keys: Vec<std::path::PathBuf>,
}

impl Document {
    /// Loads and validates the session at `path` and builds its view.
    pub fn open(path: &Path) -> Result<(Self, SessionView)> {
        crate::io::check_input_file(path).map_err(|e| {
            if e.to_string() == "file not found" {
                anyhow!("{}: session file not found", path.display())
            } else {
                anyhow!("{}: {e}", path.display())
            }
        })?;
        let edit = EditSession::open(path)?;
        Self::from_edit(edit)
    }

    /// Builds the document and its view from an edit session's text.
    pub fn from_edit(edit: EditSession) -> Result<(Self, SessionView)> {
        let (loaded, view) = load(&edit)?;
        Ok((
            Self {
                file: loaded.file,
                spec: loaded.spec,
                edit,
                inputs: loaded.inputs,
                source_keys: loaded.source_keys,
            },
            view,
        ))
    }

    /// Rebuilds the mix and the view after the edit session changed (an undo, an import).
    pub fn rebuild(&mut self) -> Result<SessionView> {
        let (loaded, view) = load(&self.edit)?;
        self.install(loaded);
        Ok(view)
    }

    fn install(&mut self, loaded: LoadedSession) {
        self.file = loaded.file;
        self.spec = loaded.spec;
        self.inputs = loaded.inputs;
        self.source_keys = loaded.source_keys;
    }

    /// Applies edit commands to the session's text (one undo step; an undo or redo alone),
    /// checked from media headers, and returns the rebuild of the mix from it — the slow
    /// part (a compressed file is decoded) — to run off the window's thread; hand its
    /// result to [`Document::finish_edit`]. On error nothing changes.
    pub fn begin_edit(&mut self, commands: &[Command]) -> Result<Rebuild> {
        match commands {
            [one] => self.edit.apply(one)?,
            many => self.edit.apply_all(many)?,
        }
        let (text, path) = (self.edit.text(), self.edit.path().to_path_buf());
        Ok(Box::new(move || load_text(&text, &path)))
    }

    /// Takes a finished rebuild; when it failed where the header check passed, the edit is
    /// taken back and the error returned.
    pub fn finish_edit(&mut self, built: Built) -> Result<SessionView> {
        match built {
            Ok((loaded, view)) => {
                self.install(loaded);
                Ok(view)
            }
            Err(e) => {
                let _ = self.edit.apply(&Command::Undo);
                self.rebuild()?;
                Err(e)
            }
        }
    }
}

/// A rebuilt session and its view (or why it could not be built).
pub type Built = Result<(LoadedSession, SessionView)>;

/// The rebuild of an edited session, to run on any thread.
pub type Rebuild = Box<dyn FnOnce() -> Built + Send>;

/// Loads an edit session's text (missing media as offline clips), with the window's view.
fn load(edit: &EditSession) -> Built {
    load_text(&edit.text(), edit.path())
}

/// Loads session text saved at `path`, with the window's view.
fn load_text(text: &str, path: &Path) -> Built {
    let loaded = load_session_with_offline(text, path)?;
    let mut view = build_view(
        path,
        &loaded.file,
        &loaded.spec,
        &loaded.markers,
        &loaded.offline,
        &loaded.clock,
    );
    view.groups = loaded.groups.clone();
    Ok((loaded, view))
}

/// The VCAs that track `name` is a member of.
fn vcas_of<'a>(
    file: &'a SessionFile,
    name: &'a str,
) -> impl Iterator<Item = &'a crate::session::format::VcaSection> {
    file.vcas
        .iter()
        .filter(move |v| v.members.iter().any(|m| m == name))
}

/// The window's view of a loaded session.
fn build_view(
    path: &Path,
    file: &SessionFile,
    spec: &MixSpec,
    markers: &[(String, f64)],
    offline: &[std::path::PathBuf],
    clock: &crate::session::timecode::Clock,
) -> SessionView {
    // As the loader places media: beside the session (`.` for a bare file name).
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let rate = f64::from(spec.sample_rate);
    let length = spec.length();
    let strips = spec
        .tracks
        .iter()
        .zip(&file.tracks)
        .map(|(t, section)| Strip {
            name: t.name.clone(),
            stem: spec.stems.get(t.stem).cloned().unwrap_or_default(),
            // The strip's own fader and mute, as the file has them (a VCA's share is not
            // the track's: it is folded into the mix only).
            gain_db: section.gain_db,
            pan: t.pan,
            mute: section.mute,
            solo: t.solo,
            insert_params: section
                .inserts
                .iter()
                .map(|i| section_params(i, spec.sample_rate))
                .collect(),
            eq_kinds: section.inserts.iter().map(eq_kinds).collect(),
            bypass: section.inserts.iter().map(InsertSection::bypass).collect(),
            file_sends: section.sends.len(),
            send_mute: section.sends.iter().map(|s| s.mute).collect(),
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
            clips: clip_views(spec, t, section, rate, |f| offline.contains(&dir.join(f))),
            // A VCA with automation makes its members' faders play an envelope too.
            pan_automated: section.automation.iter().any(|a| a.param == "pan"),
            gain_automated: section.automation.iter().any(|a| a.param == "gain_db")
                || vcas_of(file, &t.name).any(|v| !v.automation.is_empty()),
            vca_db: vcas_of(file, &t.name)
                .filter(|v| v.automation.is_empty())
                .map(|v| v.gain_db)
                .sum(),
            vca_mute: vcas_of(file, &t.name).any(|v| v.mute),
            lanes: lanes_of(t, section),
            automation_mode: section
                .automation_mode
                .as_deref()
                .and_then(AutomationMode::parse)
                .unwrap_or_default(),
        })
        .collect();
    SessionView {
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
                mute: b.mute,
                solo: b.solo,
                bypass: b.inserts.iter().map(InsertSection::bypass).collect(),
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
                eq_kinds: b.inserts.iter().map(eq_kinds).collect(),
            })
            .collect(),
        stems: spec.stems.clone(),
        target_lufs: file.master.loudness_target.unwrap_or(-23.0),
        markers: markers.to_vec(),
        offline: {
            let mut o = offline.to_vec();
            o.dedup();
            o
        },
        revision: 0,
        clock: *clock,
        groups: Default::default(),
        vcas: file
            .vcas
            .iter()
            .map(|v| super::state::VcaStrip {
                name: v.name.clone(),
                gain_db: v.gain_db,
                mute: v.mute,
                members: v
                    .members
                    .iter()
                    .filter_map(|m| file.tracks.iter().position(|t| &t.name == m))
                    .collect(),
                automated: !v.automation.is_empty(),
            })
            .collect(),
        peaks: None,
    }
}

/// A console value at the precision it is written with: 0.01 below 100 (dB, pan, ms,
/// ratios), 0.1 below 1000, whole numbers above (Hz).
pub fn rounded(value: f32) -> f64 {
    let v = f64::from(value);
    let step = match v.abs() {
        a if a < 100.0 => 0.01,
        a if a < 1000.0 => 0.1,
        _ => 1.0,
    };
    crate::edit::document::tidy((v / step).round() * step)
}

/// Every automatable parameter of track `t` (the fader, pan, the file's sends, each
/// insert's live parameters) with the automation its section has.
fn lanes_of(
    t: &gpu_dsp::mix::TrackSpec,
    section: &crate::session::format::TrackSection,
) -> Vec<super::state::LaneParam> {
    use super::state::LaneParam;
    use gpu_dsp::mix::Insert;
    // Levels are drawn over −60…+12 dB and go from −200 to +24 dB.
    const LEVEL: (f64, f64) = (-60.0, 12.0);
    const LEVEL_LIMITS: (f64, f64) = (-200.0, 24.0);
    let mut lanes = vec![
        LaneParam::new("gain_db", LEVEL).limited(LEVEL_LIMITS),
        LaneParam::new("pan", (-1.0, 1.0)),
    ];
    for s in &section.sends {
        lanes.push(LaneParam::new(&format!("send.{}", s.bus), LEVEL).limited(LEVEL_LIMITS));
    }
    for (n, ins) in t.inserts.iter().enumerate() {
        for name in Insert::param_names(ins) {
            let Some(info) = Insert::resolve(ins, &name).and_then(|id| Insert::info(ins, id))
            else {
                continue;
            };
            let range = (f64::from(info.min), f64::from(info.max));
            lanes.push(LaneParam::new(&format!("insert.{}.{name}", n + 1), range));
        }
    }
    for a in &section.automation {
        if let Some(lane) = lanes.iter_mut().find(|l| l.param == a.param) {
            lane.points.clone_from(&a.points);
            lane.step = a.shape == crate::session::format::LaneShape::Step;
        }
    }
    lanes
}

/// `set` commands for every console value of `view` that differs from `file`.
pub fn console_changes(file: &SessionFile, view: &SessionView) -> Vec<Command> {
    let mut out = Vec::new();
    let mut set = |path: String, value: String| out.push(Command::Set { path, value });
    let differs = |a: f32, b: f32| rounded(a) != rounded(b);
    for (section, strip) in file.buses.iter().zip(&view.bus_strips) {
        let at = format!("bus.{}", path_part(&section.name));
        if differs(strip.gain_db, section.gain_db) {
            set(format!("{at}.gain_db"), rounded(strip.gain_db).to_string());
        }
        if strip.mute != section.mute {
            set(format!("{at}.mute"), strip.mute.to_string());
        }
        if strip.solo != section.solo {
            set(format!("{at}.solo"), strip.solo.to_string());
        }
        bypass_changes(&at, &section.inserts, &strip.bypass, &mut set);
        insert_changes(&at, &section.inserts, &strip.insert_params, &mut set);
    }
    for (section, strip) in file.vcas.iter().zip(&view.vcas) {
        let at = format!("vca.{}", path_part(&section.name));
        if differs(strip.gain_db, section.gain_db) {
            set(format!("{at}.gain_db"), rounded(strip.gain_db).to_string());
        }
        if strip.mute != section.mute {
            set(format!("{at}.mute"), strip.mute.to_string());
        }
    }
    for (section, strip) in file.tracks.iter().zip(&view.strips) {
        let at = format!("track.{}", path_part(&section.name));
        if differs(strip.gain_db, section.gain_db) {
            set(format!("{at}.gain_db"), rounded(strip.gain_db).to_string());
        }
        if differs(strip.pan, section.pan) {
            set(format!("{at}.pan"), rounded(strip.pan).to_string());
        }
        if strip.mute != section.mute {
            set(format!("{at}.mute"), strip.mute.to_string());
        }
        if strip.solo != section.solo {
            set(format!("{at}.solo"), strip.solo.to_string());
        }
        for (k, (send, (_, level))) in section.sends.iter().zip(&strip.sends).enumerate() {
            if differs(*level, send.level_db) {
                set(
                    format!("{at}.send.{}.level_db", k + 1),
                    rounded(*level).to_string(),
                );
            }
            if strip.send_mute.get(k).is_some_and(|&m| m != send.mute) {
                set(
                    format!("{at}.send.{}.mute", k + 1),
                    (!send.mute).to_string(),
                );
            }
        }
        bypass_changes(&at, &section.inserts, &strip.bypass, &mut set);
        insert_changes(&at, &section.inserts, &strip.insert_params, &mut set);
    }
    out
}

/// `set` commands for the inserts of one strip whose bypass changed.
fn bypass_changes(
    at: &str,
    inserts: &[InsertSection],
    bypass: &[bool],
    set: &mut impl FnMut(String, String),
) {
    for (k, (insert, &now)) in inserts.iter().zip(bypass).enumerate() {
        if insert.bypass() != now {
            set(format!("{at}.insert.{}.bypass", k + 1), now.to_string());
        }
    }
}

/// `set` commands for the insert parameters of one strip that changed.
fn insert_changes(
    at: &str,
    inserts: &[InsertSection],
    params: &[Vec<Param>],
    set: &mut impl FnMut(String, String),
) {
    for (k, (insert, params)) in inserts.iter().zip(params).enumerate() {
        let now = section_params(insert, 48_000);
        for p in params {
            let Some(old) = now.iter().find(|q| q.name == p.name) else {
                continue;
            };
            if rounded(old.value) != rounded(p.value) {
                set(
                    format!("{at}.insert.{}.{}", k + 1, param_path(&p.name)),
                    rounded(p.value).to_string(),
                );
            }
        }
    }
}

/// Where a window parameter lives inside its insert's table: `band0_gain_db` →
/// `bands.1.gain_db`, the rest by name.
fn param_path(name: &str) -> String {
    if let Some(rest) = name.strip_prefix("band") {
        if let Some((k, field)) = rest.split_once('_') {
            if let Ok(k) = k.parse::<usize>() {
                return format!("bands.{}.{field}", k + 1);
            }
        }
    }
    name.to_string()
}

impl Document {
    /// Every insert parameter of the view, for an engine to start with: (track, insert,
    /// name, value).
    pub fn insert_settings(view: &SessionView) -> Vec<(usize, usize, String, f32)> {
        settings(view.strips.iter().map(|s| &s.insert_params))
    }

    /// Every bus insert parameter of the view: (bus, insert, name, value).
    pub fn bus_insert_settings(view: &SessionView) -> Vec<(usize, usize, String, f32)> {
        settings(view.bus_strips.iter().map(|s| &s.insert_params))
    }

    /// Takes the window's strip settings into the edit session (one undo step of `set`
    /// commands, written at console precision) and the mix description.
    pub fn apply(&mut self, view: &SessionView) -> Result<()> {
        let commands = console_changes(&self.file, view);
        if !commands.is_empty() {
            self.edit.apply_all(&commands)?;
            self.file = parse(&self.edit.text(), self.edit.path())?;
        }
        for (bus, strip) in self.spec.buses.iter_mut().zip(&view.bus_strips) {
            bus.gain_db = strip.gain_db;
            bus.mute = strip.mute;
            bus.solo = strip.solo;
            bus.bypass.clone_from(&strip.bypass);
        }
        for (track, strip) in self.spec.tracks.iter_mut().zip(&view.strips) {
            for (send, (_, level)) in track.sends.iter_mut().zip(&strip.sends) {
                send.level_db = *level;
            }
            for (send, mute) in track.sends.iter_mut().zip(&strip.send_mute) {
                send.mute = *mute;
            }
            track.gain_db = strip.gain_db;
            track.pan = strip.pan;
            track.mute = strip.mute;
            track.solo = strip.solo;
            track.bypass.clone_from(&strip.bypass);
        }
        Ok(())
    }

    /// Writes the session text to `path` atomically: the user's file as written, with only
    /// the edited values changed.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = self.edit.text();
        crate::io::write_atomically(path, |f| {
            std::io::Write::write_all(f, text.as_bytes())?;
            Ok(())
        })
        .map_err(|e| anyhow!("{}: cannot write the session: {e:#}", path.display()))
    }
}

/// The kinds of an EQ insert's bands (none for other inserts).
fn eq_kinds(i: &InsertSection) -> Vec<gpu_dsp::mix::FilterKind> {
    use gpu_dsp::mix::FilterKind as K;
    match i {
        InsertSection::Eq { bands, .. } => bands
            .iter()
            .map(|b| match b.kind.as_str() {
                "highpass" => K::HighPass,
                "lowpass" => K::LowPass,
                "lowshelf" => K::LowShelf,
                "highshelf" => K::HighShelf,
                _ => K::Bell,
            })
            .collect(),
        _ => Vec::new(),
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

/// A track's clips in timeline order (by start, then as listed: the order of `TRACK:N`).
fn clip_views(
    spec: &MixSpec,
    t: &gpu_dsp::mix::TrackSpec,
    section: &crate::session::format::TrackSection,
    rate: f64,
    is_offline: impl Fn(&str) -> bool,
) -> Vec<super::state::ClipView> {
    // The loader lists the `file = …` shorthand first, then the [[track.clip]] entries.
    let files: Vec<&str> = section
        .file
        .iter()
        .map(String::as_str)
        .chain(section.clips.iter().map(|c| c.file.as_str()))
        .collect();
    let mut clips: Vec<super::state::ClipView> = t
        .clips
        .iter()
        .enumerate()
        .map(|(i, c)| super::state::ClipView {
            source: c.source,
            offset: c.offset as f64 / rate,
            name: files
                .get(i)
                .and_then(|f| Path::new(f).file_stem())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            start: c.start as f64 / rate,
            length: spec.clip_len(c) as f64 / rate,
            fade_in: c.fade_in as f64 / rate,
            fade_out: c.fade_out as f64 / rate,
            gain_db: c.gain_db,
            offline: files.get(i).is_some_and(|f| is_offline(f)),
        })
        .collect();
    clips.sort_by(|a, b| a.start.total_cmp(&b.start));
    clips
}

/// Frames per column of a source's peak overview.
pub const PEAK_FRAMES: u64 = 1024;

/// Every source's peak overview: the largest absolute sample (0..1, all channels) of each
/// run of [`PEAK_FRAMES`] frames; the timeline draws clips' waveforms from it. Reads each
/// source once (run in the background).
pub fn source_peaks(sources: &[Source]) -> Vec<Vec<f32>> {
    const CHUNK: usize = 64 * PEAK_FRAMES as usize;
    sources
        .iter()
        .map(|source| {
            let frames = match source {
                Source::Stream(s) if s.offline() => 0,
                _ => source.frames(),
            };
            let mut peaks = vec![0.0f32; frames.div_ceil(PEAK_FRAMES) as usize];
            let mut add = |at: u64, planes: &[&[f32]]| {
                let n = planes.first().map_or(0, |p| p.len());
                for i in 0..n {
                    let v = planes.iter().map(|p| p[i].abs()).fold(0.0f32, f32::max);
                    let col = ((at + i as u64) / PEAK_FRAMES) as usize;
                    if let Some(c) = peaks.get_mut(col) {
                        *c = c.max(v.min(1.0));
                    }
                }
            };
            match source {
                Source::Memory(p) => {
                    let planes: Vec<&[f32]> = p.iter().map(Vec::as_slice).collect();
                    add(0, &planes);
                }
                // An offline file has nothing to draw.
                Source::Stream(s) if s.offline() => return Vec::new(),
                Source::Stream(s) => {
                    if let Ok(mut reader) = s.open() {
                        let mut buf = vec![vec![0.0f32; CHUNK]; s.channels()];
                        let mut done = 0u64;
                        while done < frames {
                            let n = CHUNK.min((frames - done) as usize);
                            let mut views: Vec<&mut [f32]> =
                                buf.iter_mut().map(|c| &mut c[..n]).collect();
                            if reader.read(done, &mut views).is_err() {
                                break;
                            }
                            let planes: Vec<&[f32]> = buf.iter().map(|c| &c[..n]).collect();
                            add(done, &planes);
                            done += n as u64;
                        }
                    }
                }
            }
            peaks
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_rebuilt_elsewhere_is_installed_or_taken_back() {
        let text = "[session]\nsample_rate = 48000\n[[track]]\nname = \"dx\"\n";
        let dir = tempfile::tempdir().unwrap();
        let edit = EditSession::from_text(text, &dir.path().join("s.toml")).unwrap();
        let (mut doc, _) = Document::from_edit(edit).unwrap();
        // The rebuild runs on another thread; its result is installed.
        let rebuild = doc.begin_edit(&[Command::AddBus("hall".into())]).unwrap();
        let built = std::thread::spawn(rebuild).join().unwrap();
        let view = doc.finish_edit(built).unwrap();
        assert_eq!(view.buses, ["hall"]);
        assert_eq!(doc.spec.buses.len(), 1);
        // A rebuild that failed takes the edit back.
        let _ = doc.begin_edit(&[Command::AddBus("room".into())]).unwrap();
        assert!(doc.edit.text().contains("room"));
        let e = doc
            .finish_edit(Err(anyhow!("the file went away")))
            .unwrap_err();
        assert_eq!(e.to_string(), "the file went away");
        assert!(!doc.edit.text().contains("room"));
        assert_eq!(doc.spec.buses.len(), 1);
    }

    #[test]
    fn window_values_become_one_undo_step_of_set_commands() {
        let text = "# mix\n[session]\nsample_rate = 48000\n\n[[track]]\nname = \"dx.1\"\ngain_db = -4.0 # ride\n[[track.insert]]\ntype = \"eq\"\nbands = [{ type = \"bell\", freq = 1000.0, gain_db = 3.0, q = 1.0 }]\n[[track.insert]]\ntype = \"compressor\"\n";
        let dir = tempfile::tempdir().unwrap();
        let edit = EditSession::from_text(text, &dir.path().join("s.toml")).unwrap();
        let (mut doc, mut view) = Document::from_edit(edit).unwrap();
        doc.apply(&view).unwrap();
        assert_eq!(doc.edit.history(), (0, 0), "nothing changed, no step");
        view.strips[0].gain_db = -1.099_998_7;
        view.strips[0].insert_params[0][1].value = -6.0;
        view.strips[0].insert_params[1][1].value = 4.0;
        view.strips[0].bypass[1] = true;
        doc.apply(&view).unwrap();
        assert!(
            view.strips[0].send_mute.is_empty(),
            "no sends in this session"
        );
        // A muted send is saved as `mute = true` on it, and reaches the mix.
        let text = "[session]\nsample_rate = 48000\n[[bus]]\nname = \"hall\"\n[[track]]\nname = \"dx\"\n[[track.send]]\nbus = \"hall\"\nlevel_db = -8.0\n";
        let edit = EditSession::from_text(text, &dir.path().join("m.toml")).unwrap();
        let (mut muted, mut view) = Document::from_edit(edit).unwrap();
        view.strips[0].send_mute[0] = true;
        muted.apply(&view).unwrap();
        let saved = muted.edit.text();
        assert!(saved.contains("level_db = -8.0\nmute = true"), "{saved}");
        assert!(muted.spec.tracks[0].sends[0].mute);
        assert_eq!(doc.edit.history(), (1, 0));
        let saved = doc.edit.text();
        assert!(
            saved.contains("type = \"compressor\"\nbypass = true"),
            "{saved}"
        );
        assert_eq!(doc.spec.tracks[0].bypass, [false, true]);
        assert!(saved.contains("gain_db = -1.1 # ride"), "{saved}");
        assert!(saved.contains("gain_db = -6.0"), "{saved}");
        assert!(saved.contains("ratio = 4.0"), "{saved}");
        assert!(saved.starts_with("# mix\n"));
        assert_eq!(doc.file.tracks[0].gain_db, -1.1);
        assert_eq!(param_path("band2_q"), "bands.3.q");
        // Two clips nudged together, the later first: clip 1 ends where clip 2 was.
        let mut edit = EditSession::from_text(
            "[session]\nsample_rate = 48000\n[[track]]\nname = \"a\"\n[[track.clip]]\nfile = \"x.wav\"\nstart = 0.0\nlength = 1.0\n[[track.clip]]\nfile = \"x.wav\"\nstart = 1.0\nlength = 1.0\n",
            &dir.path().join("t.toml"),
        )
        .unwrap();
        let by = |n: usize| Command::Move {
            clip: crate::edit::ClipRef {
                track: "a".into(),
                number: n,
            },
            to: None,
            by: Some("1.5".into()),
            track: None,
        };
        edit.apply_all(&[by(2), by(1)]).unwrap();
        let t: toml::Table = edit.text().parse().unwrap();
        let starts: Vec<f64> = t["track"][0]["clip"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["start"].as_float().unwrap())
            .collect();
        assert_eq!(starts, [1.5, 2.5]);
        assert_eq!(edit.history(), (1, 0), "one undo step");
        assert_eq!(rounded(2512.345), 2512.0);
    }
}
