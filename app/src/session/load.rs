//! Loading a session: parse, validate, decode and resample every source, build the
//! [`MixSpec`]. Every error names the file and the place in it.

use super::format::{AutomationSection, EqBandSection, InsertSection, SessionFile};
use super::timecode::Clock;
use crate::io::FileStream;
use crate::io::{check_ir_limit, load_ir};
use crate::io::{decode_all, resample, AudioFile};
use anyhow::{anyhow, bail, Context, Result};
use gpu_dsp::mix::params::{self, find_param, ParamInfo};
use gpu_dsp::mix::{
    mono_mix, Automation, AutomationMode, BusSpec, ClipSpec, CompressorParams, EqBand, FadeShape,
    FilterKind, GateParams, InsertSpec, Layout, MasterSpec, MixSpec, SendSpec, Source, Target,
    TrackSpec,
};
use gpu_dsp::spectral::{detect_hum, DuckParams, DynamicsMode, HumSpec, MultibandParams};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A loaded session, ready to mix.
pub struct LoadedSession {
    pub path: PathBuf,
    pub spec: MixSpec,
    /// Every audio file the session reads (sources and IRs), for "never overwrite an input".
    pub inputs: Vec<PathBuf>,
    /// The session's timecode clock.
    pub clock: Clock,
    /// Markers: (name, seconds), in the file's order.
    pub markers: Vec<(String, f64)>,
    /// Media files that are not there (only when loaded for the window; silent clips).
    pub offline: Vec<PathBuf>,
    /// The session file as parsed.
    pub file: SessionFile,
    /// What each source is, by index: its file's path (`path#N` for one channel of it).
    pub source_keys: Vec<PathBuf>,
    /// Each track's automation mode (`read` unless the session says otherwise); a track in
    /// `off` has its envelopes left out of `spec`.
    pub track_modes: Vec<AutomationMode>,
    /// Each bus's automation mode.
    pub bus_modes: Vec<AutomationMode>,
    /// The track groups.
    pub groups: super::groups::Groups,
}

/// A strip's `automation_mode` (`read` when absent).
fn automation_mode(mode: Option<&str>, place: &str) -> Result<AutomationMode> {
    match mode {
        None => Ok(AutomationMode::Read),
        Some(m) => AutomationMode::parse(m).ok_or_else(|| {
            let all: Vec<&str> = AutomationMode::ALL.iter().map(|m| m.name()).collect();
            anyhow!(
                "{place}: automation_mode \"{m}\": expected one of {}",
                all.join(", ")
            )
        }),
    }
}

/// What a media file's header says (for checking a session without decoding it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaInfo {
    pub channels: usize,
    pub sample_rate: u32,
    /// Frames at the file's own rate.
    pub frames: u64,
}

/// Media headers read so far, by path; `None` for a file that is not there (offline).
pub type MediaCache = HashMap<PathBuf, Option<MediaInfo>>;

/// What the header of the media file at `path` says; `None` when no file is there.
pub fn media_info(path: &Path) -> Result<Option<MediaInfo>> {
    if !path.exists() {
        return Ok(None);
    }
    let mut file = AudioFile::open(path)?;
    let frames = match file.frames() {
        Some(f) => f,
        None => file.exact_frames()?,
    };
    Ok(Some(MediaInfo {
        channels: file.channels(),
        sample_rate: file.sample_rate(),
        frames,
    }))
}

/// Checks session text as a load would, reading only media headers (cached in `media`):
/// every reference, range and limit. Missing media files are not errors here: they are
/// returned (offline), so a session can be edited while a drive is away.
pub fn check_session(text: &str, path: &Path, media: &mut MediaCache) -> Result<Vec<PathBuf>> {
    let file: SessionFile = toml::from_str(text).map_err(|e| anyhow!("{}", e.message().trim()))?;
    if let Ok(table) = text.parse::<toml::Table>() {
        check_finite(&toml::Value::Table(table), "")?;
    }
    let mut loader = Loader::new(path);
    loader.probe = Some(std::mem::take(media));
    let (result, cache) = loader.build_probed(file);
    *media = cache;
    result
}
/// `line:column` (1-based) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, col)
}

/// Parses session text; syntax and schema errors carry `file:line:column`.
pub fn parse(text: &str, path: &Path) -> Result<SessionFile> {
    let file = toml::from_str(text).map_err(|e| {
        let (line, col) = e.span().map_or((0, 0), |s| line_col(text, s.start));
        anyhow!("{}:{line}:{col}: {}", path.display(), e.message().trim())
    })?;
    // TOML allows nan and inf; no session number may be either.
    if let Ok(table) = text.parse::<toml::Table>() {
        check_finite(&toml::Value::Table(table), "")
            .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    }
    Ok(file)
}

/// Fails on the first NaN or infinite number, naming its key path (`track[2].gain_db`).
fn check_finite(value: &toml::Value, at: &str) -> Result<()> {
    match value {
        toml::Value::Float(f) if !f.is_finite() => bail!("{at}: {f} is not a finite number"),
        toml::Value::Table(t) => {
            for (k, v) in t {
                check_finite(
                    v,
                    &if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}.{k}")
                    },
                )?;
            }
        }
        toml::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                check_finite(v, &format!("{at}[{}]", i + 1))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Reads, validates and decodes the session at `path`.
pub fn load_session(path: &Path) -> Result<LoadedSession> {
    let len = crate::io::check_input_file(path).map_err(|e| {
        if e.to_string() == "file not found" {
            anyhow!("{}: session file not found", path.display())
        } else {
            anyhow!("{}: {e}", path.display())
        }
    })?;
    let limit = crate::io::limits::MAX_SESSION_BYTES;
    if len > limit {
        bail!(
            "{}: session file is {len} bytes, over the {} MiB limit",
            path.display(),
            limit >> 20
        );
    }
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => {
            anyhow!("{}: not a session file (not UTF-8 text)", path.display())
        }
        _ => anyhow!("{}: cannot read the session: {e}", path.display()),
    })?;
    load_session_text(&text, path)
}

/// Validates and decodes session `text`; `path` names it in errors and places its media.
pub fn load_session_text(text: &str, path: &Path) -> Result<LoadedSession> {
    load_text(text, path, false)
}

/// [`load_session_text`] for the window: a media file that is not there is an offline,
/// silent clip (listed in [`LoadedSession::offline`]) instead of an error, so one missing
/// file does not keep the whole session closed.
pub fn load_session_with_offline(text: &str, path: &Path) -> Result<LoadedSession> {
    load_text(text, path, true)
}

fn load_text(text: &str, path: &Path, offline_ok: bool) -> Result<LoadedSession> {
    let file = parse(text, path)?;
    let mut loader = Loader::new(path);
    loader.offline_ok = offline_ok;
    let mut loaded = loader
        .build(file)
        .with_context(|| path.display().to_string())?;
    loaded.path = path.to_path_buf();
    Ok(loaded)
}

/// Longest time a session may name (24 hours).
const MAX_SECONDS: f64 = 86_400.0;

struct Loader {
    dir: PathBuf,
    rate: u32,
    sources: Vec<Source>,
    by_path: HashMap<PathBuf, usize>,
    inputs: Vec<PathBuf>,
    /// Every stem name, in order (known before any insert is built, for `duck`).
    stems: Vec<String>,
    /// The first source of the track whose inserts are being built.
    track_source: Option<usize>,
    /// Whether the inserts being built are a track's (not a bus's).
    on_track: bool,
    /// Checking only: media headers instead of decoded audio.
    probe: Option<MediaCache>,
    /// Checking only, or loading for the window: files that are not there.
    offline: Vec<PathBuf>,
    /// Missing media become silent offline sources instead of errors.
    offline_ok: bool,
    /// The sources that stand in for offline files.
    offline_sources: Vec<usize>,
}

impl Loader {
    fn new(path: &Path) -> Self {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        Self {
            dir,
            rate: 0,
            sources: Vec::new(),
            by_path: HashMap::new(),
            inputs: Vec::new(),
            stems: Vec::new(),
            track_source: None,
            on_track: false,
            probe: None,
            offline: Vec::new(),
            offline_ok: false,
            offline_sources: Vec::new(),
        }
    }

    /// A clip's length when the session gives none: the rest of its file, or 10 s of
    /// silence for an offline file (whose length is unknown).
    fn default_length(&self, source: usize, offset: u64) -> u64 {
        if self.offline_sources.contains(&source) {
            10 * u64::from(self.rate)
        } else {
            self.sources[source].frames().saturating_sub(offset)
        }
    }

    /// [`Loader::build`] in checking mode; gives the media cache back.
    fn build_probed(mut self, f: SessionFile) -> (Result<Vec<PathBuf>>, MediaCache) {
        let result = self.build_inner(f);
        let cache = self.probe.take().unwrap_or_default();
        (result.map(|loaded| loaded.offline), cache)
    }

    /// The header of `path` (checking mode), cached; `None` when the file is not there.
    fn media(&mut self, path: &Path) -> Result<Option<MediaInfo>> {
        let cache = self.probe.as_mut().expect("checking mode");
        let info = match cache.get(path) {
            Some(info) => *info,
            None => {
                let info = media_info(path)?;
                cache.insert(path.to_path_buf(), info);
                info
            }
        };
        if info.is_none() && !self.offline.iter().any(|p| p == path) {
            self.offline.push(path.to_path_buf());
        }
        Ok(info)
    }

    fn resolve(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Decodes (once) and resamples a source, or one `channel` (from 1) of it; returns its
    /// index.
    fn source(&mut self, file: &str, channel: Option<u32>) -> Result<usize> {
        let path = self.resolve(file);
        let key = match channel {
            Some(c) => PathBuf::from(format!("{}#{c}", path.display())),
            None => path.clone(),
        };
        if let Some(&i) = self.by_path.get(&key) {
            return Ok(i);
        }
        let check_channels = |channels: usize| -> Result<Option<usize>> {
            match channel {
                Some(c) if c == 0 || c as usize > channels => bail!(
                    "{}: channel {c} does not exist (the file has {channels})",
                    path.display()
                ),
                Some(c) => Ok(Some(c as usize - 1)),
                None if channels > 2 => bail!(
                    "{}: {channels} channels; a track plays mono or stereo: give the clip                      `channel = N` (1–{channels}), or import it split into mono tracks",
                    path.display()
                ),
                None => Ok(None),
            }
        };
        if self.probe.is_some() {
            let source = match self.media(&path)? {
                Some(info) => {
                    let pick = check_channels(info.channels)?;
                    let frames = (u128::from(info.frames) * u128::from(self.rate)
                        + u128::from(info.sample_rate) / 2)
                        / u128::from(info.sample_rate.max(1));
                    FileStream {
                        path: path.clone(),
                        channels: info.channels,
                        frames: frames as u64,
                        pick,
                    }
                }
                // Offline: no length to check against.
                None => FileStream {
                    path: path.clone(),
                    channels: 1,
                    frames: (MAX_SECONDS as u64 + 1) * u64::from(self.rate),
                    pick: None,
                },
            };
            self.sources
                .push(Source::Stream(std::sync::Arc::new(source)));
            self.inputs.push(path);
            self.by_path.insert(key, self.sources.len() - 1);
            return Ok(self.sources.len() - 1);
        }
        if self.offline_ok && !path.exists() {
            // Silent, with no length of its own: a clip's `length` decides (10 s when none).
            self.offline.push(path.clone());
            self.sources
                .push(Source::Stream(std::sync::Arc::new(crate::io::Silence {
                    frames: (MAX_SECONDS as u64) * u64::from(self.rate),
                })));
            self.offline_sources.push(self.sources.len() - 1);
            self.by_path.insert(key, self.sources.len() - 1);
            return Ok(self.sources.len() - 1);
        }
        let mut file = AudioFile::open(&path)?;
        let channels = file.channels();
        let pick = check_channels(channels)?;
        // PCM and FLAC files at the session rate are streamed while mixing (memory stays
        // bounded), after one pass that checks every sample and counts the frames; the rest
        // is decoded and resampled into memory.
        let streamable = path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            ["wav", "wave", "flac", "aif", "aiff"].contains(&e.to_ascii_lowercase().as_str())
        });
        if streamable && file.sample_rate() == self.rate {
            let frames = file.count_frames()?;
            self.sources
                .push(Source::Stream(std::sync::Arc::new(FileStream {
                    path: path.clone(),
                    channels,
                    frames,
                    pick,
                })));
        } else {
            let from = file.sample_rate();
            let audio = decode_all(file, crate::io::limits::MAX_DECODED_SAMPLES)?;
            let mut planes = audio.channels;
            if let Some(c) = pick {
                planes = vec![planes.swap_remove(c)];
            }
            let planes = resample(&planes, from, self.rate)
                .with_context(|| format!("{}: resampling", path.display()))?;
            self.sources.push(Source::Memory(planes));
        }
        self.inputs.push(path.clone());
        self.by_path.insert(key, self.sources.len() - 1);
        Ok(self.sources.len() - 1)
    }

    fn build(mut self, f: SessionFile) -> Result<LoadedSession> {
        self.build_inner(f)
    }

    fn build_inner(&mut self, f: SessionFile) -> Result<LoadedSession> {
        if !(8_000..=384_000).contains(&f.session.sample_rate) {
            bail!(
                "[session] sample_rate {}: expected 8000..384000 Hz",
                f.session.sample_rate
            );
        }
        self.rate = f.session.sample_rate;
        let layout = match f.session.layout.as_str() {
            "stereo" => Layout::Stereo,
            "5.1" => Layout::FivePointOne,
            "7.1" => Layout::SevenPointOne,
            other => bail!("[session] layout \"{other}\": expected \"stereo\", \"5.1\" or \"7.1\""),
        };
        let clock = Clock::new(
            f.session.frame_rate.as_deref(),
            f.session.start_timecode.as_deref(),
        )
        .map_err(|e| anyhow!("[session] {e}"))?;
        let markers = markers(&f)?;
        let mut bus_index = HashMap::new();
        for (i, b) in f.buses.iter().enumerate() {
            if bus_index.insert(b.name.clone(), i).is_some() {
                bail!(
                    "[[bus]] #{} '{}': a bus with this name already exists",
                    i + 1,
                    b.name
                );
            }
        }
        let bus_names = || {
            f.buses
                .iter()
                .map(|b| b.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let find_bus = |name: &str, place: &str| -> Result<usize> {
            bus_index.get(name).copied().ok_or_else(|| {
                anyhow!(
                    "{place}: bus '{name}' does not exist (buses: {})",
                    if f.buses.is_empty() {
                        "none".into()
                    } else {
                        bus_names()
                    }
                )
            })
        };
        let mut stems: Vec<String> = f.session.stems.clone();
        for t in &f.tracks {
            if !stems.contains(&t.stem) {
                stems.push(t.stem.clone());
            }
        }
        check_stem_names(&stems)?;
        check(params::MASTER, "gain_db", f.master.gain_db, "[master]")?;
        if let Some(v) = f.master.loudness_target {
            check_f64(params::MASTER, "loudness_target", v, "[master]")?;
        }
        if let Some(v) = f.master.true_peak_ceiling {
            check(params::MASTER, "true_peak_ceiling", v, "[master]")?;
        }
        self.stems = stems.clone();
        self.track_source = None;
        self.on_track = false;
        let mut buses = Vec::new();
        let (mut track_modes, mut bus_modes) = (Vec::new(), Vec::new());
        for (i, b) in f.buses.iter().enumerate() {
            let place = format!("[[bus]] #{} '{}'", i + 1, b.name);
            check(params::CONSOLE, "gain_db", b.gain_db, &place)?;
            let inserts = self.inserts(&b.inserts, &place)?;
            let sends = sends(&b.sends, &place, &find_bus)?;
            let automation = b
                .automation
                .iter()
                .enumerate()
                .map(|(k, a)| {
                    let at = format!("{place}, automation #{} ({})", k + 1, a.param);
                    if a.param == "pan" {
                        bail!("{at}: a bus has no pan; automate gain_db, send.<bus> or insert.<n>.<parameter>");
                    }
                    automation(a, &b.sends, &inserts, &at, f64::from(self.rate))
                })
                .collect::<Result<Vec<_>>>()?;
            let mode = automation_mode(b.automation_mode.as_deref(), &place)?;
            bus_modes.push(mode);
            // `off`: the envelopes stay in the file but are not played.
            let automation = if mode == AutomationMode::Off {
                Vec::new()
            } else {
                automation
            };
            buses.push(BusSpec {
                mute: b.mute,
                solo: b.solo,
                name: b.name.clone(),
                gain_db: b.gain_db,
                inserts,
                bypass: b.inserts.iter().map(InsertSection::bypass).collect(),
                sends,
                automation,
            });
        }
        let mut tracks = Vec::new();
        for (i, t) in f.tracks.iter().enumerate() {
            let place = format!("[[track]] #{} '{}'", i + 1, t.name);
            check(params::CONSOLE, "gain_db", t.gain_db, &place)?;
            check(params::CONSOLE, "pan", t.pan, &place)?;
            if let Some(a) = t.azimuth {
                check(params::CONSOLE, "azimuth", a, &place)?;
            }
            if let Some(l) = t.lfe_db {
                check(params::CONSOLE, "lfe_db", l, &place)?;
            }
            let stem = stems.iter().position(|s| *s == t.stem).unwrap_or(0);
            let mut clips = Vec::new();
            let rate = f64::from(self.rate);
            let samples = |s: f64, what: &str| -> Result<u64> {
                if !s.is_finite() || !(0.0..=MAX_SECONDS).contains(&s) {
                    bail!("{place}: {what} {s} must be a time from 0 to {MAX_SECONDS} seconds (24 hours)");
                }
                Ok((s * rate).round() as u64)
            };
            if let Some(file) = &t.file {
                let source = self.source(file, None).with_context(|| place.clone())?;
                let length = self.default_length(source, 0);
                clips.push(ClipSpec {
                    source,
                    start: samples(t.start, "start")?,
                    length,
                    ..Default::default()
                });
            }
            for (k, c) in t.clips.iter().enumerate() {
                let cplace = format!("{place}, clip #{}", k + 1);
                check(params::CLIP, "gain_db", c.gain_db, &cplace)?;
                let source = self
                    .source(&c.file, c.channel)
                    .with_context(|| cplace.clone())?;
                let available = self.sources[source].frames();
                let offset = samples(c.offset, "offset")?;
                if offset >= available {
                    bail!(
                        "{cplace}: offset {} s is past the end of {} ({:.3} s)",
                        c.offset,
                        c.file,
                        available as f64 / rate
                    );
                }
                let length = match c.length {
                    Some(l) => samples(l, "length")?,
                    None => self.default_length(source, offset).min(available - offset),
                };
                clips.push(ClipSpec {
                    source,
                    start: samples(c.start, "start")?,
                    offset,
                    length,
                    gain_db: c.gain_db,
                    fade_in: samples(c.fade_in, "fade_in")?,
                    fade_out: samples(c.fade_out, "fade_out")?,
                    fade_in_shape: fade_shape(c.fade_in_shape.as_deref(), &cplace)?,
                    fade_out_shape: fade_shape(c.fade_out_shape.as_deref(), &cplace)?,
                });
            }
            crossfade_overlaps(&mut clips, &self.sources);
            let channels_in = clips
                .iter()
                .map(|c| self.sources[c.source].channels())
                .max()
                .unwrap_or(1);
            self.track_source = clips.first().map(|c| c.source);
            self.on_track = true;
            let inserts = self.inserts(&t.inserts, &place)?;
            let mut sends = sends(&t.sends, &place, &find_bus)?;
            // `output = "bus"`: the track feeds that bus (post-fader, 0 dB) instead of its
            // stem; the bus carries it into the stem.
            if let Some(bus) = &t.output {
                sends.push(SendSpec {
                    bus: find_bus(bus, &format!("{place}, output"))?,
                    level_db: 0.0,
                    pre_fader: false,
                    mute: false,
                });
            }
            let automation = t
                .automation
                .iter()
                .enumerate()
                .map(|(k, a)| {
                    automation(
                        a,
                        &t.sends,
                        &inserts,
                        &format!("{place}, automation #{} ({})", k + 1, a.param),
                        rate,
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            let mode = automation_mode(t.automation_mode.as_deref(), &place)?;
            track_modes.push(mode);
            let automation = if mode == AutomationMode::Off {
                Vec::new()
            } else {
                automation
            };
            if !(-1.0..=1.0).contains(&t.pan) {
                bail!("{place}: pan {} outside −1..1", t.pan);
            }
            tracks.push(TrackSpec {
                name: t.name.clone(),
                channels: channels_in,
                clips,
                gain_db: t.gain_db,
                pan: t.pan,
                azimuth: t.azimuth,
                lfe_db: t.lfe_db,
                stem,
                mute: t.mute,
                solo: t.solo,
                direct: t.output.is_none(),
                inserts,
                bypass: t.inserts.iter().map(InsertSection::bypass).collect(),
                sends,
                automation,
            });
        }
        if stems.is_empty() {
            stems.push("MX".into());
        }
        super::vca::apply_vcas(&f.vcas, &mut tracks, f64::from(self.rate))?;
        let names: Vec<&str> = f.tracks.iter().map(|t| t.name.as_str()).collect();
        let groups = super::groups::Groups::from_sections(&f.groups, &names)?;
        let spec = MixSpec {
            sample_rate: self.rate,
            layout,
            sources: std::mem::take(&mut self.sources),
            tracks,
            buses,
            stems,
            master: MasterSpec {
                gain_db: f.master.gain_db,
                loudness_target: f.master.loudness_target,
                true_peak_ceiling: f.master.true_peak_ceiling,
            },
        };
        gpu_dsp::mix::bus_order(&spec).map_err(|e| anyhow!("[[bus]] routing: {e}"))?;
        Ok(LoadedSession {
            path: PathBuf::new(),
            spec,
            inputs: std::mem::take(&mut self.inputs),
            clock,
            markers,
            offline: std::mem::take(&mut self.offline),
            file: f,
            source_keys: {
                let mut keys = vec![PathBuf::new(); self.by_path.len()];
                for (key, &i) in &self.by_path {
                    if let Some(k) = keys.get_mut(i) {
                        *k = key.clone();
                    }
                }
                keys
            },
            track_modes,
            bus_modes,
            groups,
        })
    }

    /// Builds an insert chain; errors name `place, insert #k`.
    fn inserts(&mut self, chain: &[InsertSection], place: &str) -> Result<Vec<InsertSpec>> {
        chain
            .iter()
            .enumerate()
            .map(|(k, ins)| self.insert(ins, &format!("{place}, insert #{}", k + 1)))
            .collect()
    }

    fn insert(&mut self, ins: &InsertSection, place: &str) -> Result<InsertSpec> {
        check_insert(ins, place)?;
        Ok(match ins {
            InsertSection::Eq { bands, .. } => InsertSpec::Eq(
                bands
                    .iter()
                    .enumerate()
                    .map(|(k, b)| eq_band(b, &format!("{place}, band #{}", k + 1), self.rate))
                    .collect::<Result<_>>()?,
            ),
            InsertSection::Compressor {
                threshold_db,
                ratio,
                attack_ms,
                release_ms,
                knee_db,
                makeup_db,
                ..
            } => {
                if *ratio < 1.0 {
                    bail!("{place}: compressor ratio {ratio} must be ≥ 1");
                }
                InsertSpec::Compressor(CompressorParams {
                    threshold_db: *threshold_db,
                    ratio: *ratio,
                    attack_ms: *attack_ms,
                    release_ms: *release_ms,
                    knee_db: *knee_db,
                    makeup_db: *makeup_db,
                })
            }
            InsertSection::Gate {
                threshold_db,
                range_db,
                attack_ms,
                hold_ms,
                release_ms,
                ..
            } => InsertSpec::Gate(GateParams {
                threshold_db: *threshold_db,
                range_db: *range_db,
                attack_ms: *attack_ms,
                hold_ms: *hold_ms,
                release_ms: *release_ms,
            }),
            InsertSection::Limiter {
                ceiling_db,
                release_ms,
                ..
            } => InsertSpec::Limiter {
                ceiling_db: *ceiling_db,
                release_ms: *release_ms,
            },
            InsertSection::Reverb {
                ir,
                wet,
                dry,
                predelay_ms,
                ir_gain_db,
                ..
            } => {
                let path = self.resolve(ir);
                if self.probe.is_some() {
                    if let Some(info) = self.media(&path).with_context(|| place.to_string())? {
                        check_ir_limit(info.frames as f64 / f64::from(info.sample_rate))
                            .with_context(|| format!("{place}: {}", path.display()))?;
                    }
                    self.inputs.push(path);
                    return Ok(InsertSpec::Reverb {
                        ir: vec![vec![0.0]],
                        wet: *wet,
                        dry: *dry,
                    });
                }
                let mut planes =
                    load_ir(&path, self.rate, 60.0).with_context(|| place.to_string())?;
                let pre = (f64::from(*predelay_ms).max(0.0) * 0.001 * f64::from(self.rate)).round()
                    as usize;
                let g = 10f32.powf(ir_gain_db / 20.0);
                for c in &mut planes {
                    c.iter_mut().for_each(|v| *v *= g);
                    c.splice(0..0, std::iter::repeat_n(0.0, pre));
                }
                self.inputs.push(path);
                InsertSpec::Reverb {
                    ir: planes,
                    wet: *wet,
                    dry: *dry,
                }
            }
            InsertSection::Clean {
                reduction_db, hum, ..
            } => {
                if !(0.0..=60.0).contains(reduction_db) {
                    bail!("{place}: reduction_db {reduction_db} must be 0 to 60 dB");
                }
                if !self.on_track {
                    bail!("{place}: `clean` goes on a track (it cleans a recording)");
                }
                // Hum is looked for in the track's first source (not when only checking, and
                // not on a track without audio).
                let source = self.track_source.filter(|_| self.probe.is_none());
                let head = |me: &Self| -> Result<Vec<f32>> {
                    source.map_or(Ok(Vec::new()), |s| me.source_head(s))
                };
                let hum = match hum.as_str() {
                    "off" => None,
                    "auto" => detect_hum(&head(self)?, self.rate as f32, None),
                    "50" | "60" => {
                        let mains: f64 = if hum == "50" { 50.0 } else { 60.0 };
                        let found = detect_hum(&head(self)?, self.rate as f32, Some(mains));
                        Some(HumSpec::all_harmonics(
                            found.map_or(mains, |h| h.fundamental),
                            self.rate as f32,
                        ))
                    }
                    other => bail!("{place}: hum \"{other}\": expected auto, 50, 60 or off"),
                };
                InsertSpec::Clean {
                    reduction_db: *reduction_db,
                    hum,
                }
            }
            InsertSection::Duck {
                sidechain,
                clarity_db,
                max_db,
                attack_ms,
                release_ms,
                ..
            } => {
                if self.on_track {
                    bail!("{place}: `duck` goes on a bus (its sidechain is a stem's tracks)");
                }
                let Some(stem) = self.stems.iter().position(|s| s == sidechain) else {
                    bail!(
                        "{place}: sidechain stem '{sidechain}' does not exist (stems: {})",
                        self.stems.join(", ")
                    );
                };
                InsertSpec::Duck {
                    sidechain: stem,
                    params: DuckParams {
                        clarity_db: *clarity_db,
                        max_db: *max_db,
                        attack_ms: *attack_ms,
                        release_ms: *release_ms,
                        ..Default::default()
                    },
                }
            }
            InsertSection::Multiband {
                mode,
                threshold_db,
                ratio,
                attack_ms,
                release_ms,
                range_db,
                ..
            } => {
                let mode = match mode.as_str() {
                    "compress" => DynamicsMode::Compress,
                    "expand" => DynamicsMode::Expand,
                    other => bail!("{place}: mode \"{other}\": expected compress or expand"),
                };
                if *ratio < 1.0 {
                    bail!("{place}: multiband ratio {ratio} must be ≥ 1");
                }
                InsertSpec::Multiband(MultibandParams {
                    mode,
                    threshold_db: *threshold_db,
                    ratio: *ratio,
                    attack_ms: *attack_ms,
                    release_ms: *release_ms,
                    range_db: *range_db,
                })
            }
        })
    }

    /// The first 30 s of a source, mixed to mono (for hum detection).
    fn source_head(&self, source: usize) -> Result<Vec<f32>> {
        let planes = self.sources[source]
            .read(0, 30 * self.rate as usize)
            .map_err(|e| anyhow!(e))?;
        Ok(mono_mix(&planes))
    }
}

/// Resolves sends to bus indices; errors name `place, send #k`.
fn sends(
    list: &[super::format::SendSection],
    place: &str,
    find_bus: &dyn Fn(&str, &str) -> Result<usize>,
) -> Result<Vec<SendSpec>> {
    list.iter()
        .enumerate()
        .map(|(k, s)| {
            let at = format!("{place}, send #{}", k + 1);
            check(params::CONSOLE, "level_db", s.level_db, &at)?;
            let bus = find_bus(&s.bus, &at)?;
            Ok(SendSpec {
                bus,
                level_db: s.level_db,
                pre_fader: s.pre_fader,
                mute: s.mute,
            })
        })
        .collect()
}

fn eq_band(b: &EqBandSection, place: &str, rate: u32) -> Result<EqBand> {
    let kind = match b.kind.as_str() {
        "highpass" => FilterKind::HighPass,
        "lowpass" => FilterKind::LowPass,
        "lowshelf" => FilterKind::LowShelf,
        "highshelf" => FilterKind::HighShelf,
        "bell" => FilterKind::Bell,
        other => bail!("{place}: EQ band type \"{other}\": expected highpass, lowpass, lowshelf, highshelf or bell"),
    };
    if !(b.freq > 0.0 && b.freq < rate as f32 / 2.0) {
        bail!(
            "{place}: frequency {} Hz outside 0..{} Hz",
            b.freq,
            rate / 2
        );
    }
    check(params::EQ_BAND, "gain_db", b.gain_db, place)?;
    check(params::EQ_BAND, "q", b.q, place)?;
    check(params::EQ_BAND, "freq", b.freq, place)?;
    Ok(EqBand {
        kind,
        freq: b.freq,
        gain_db: b.gain_db,
        q: b.q,
    })
}

fn automation(
    a: &AutomationSection,
    sends: &[super::format::SendSection],
    inserts: &[InsertSpec],
    place: &str,
    rate: f64,
) -> Result<(Target, Automation)> {
    let target = match a.param.as_str() {
        "gain_db" => Target::GainDb,
        "pan" => Target::Pan,
        p => {
            if let Some(bus) = p.strip_prefix("send.") {
                let k = sends
                    .iter()
                    .position(|s| s.bus == bus)
                    .ok_or_else(|| anyhow!("{place}: there is no send to bus '{bus}'"))?;
                Target::SendDb(k)
            } else if let Some(rest) = p.strip_prefix("insert.") {
                let (index, name) = rest
                    .split_once('.')
                    .ok_or_else(|| anyhow!("{place}: expected insert.<number>.<parameter>"))?;
                let i: usize = index
                    .parse()
                    .map_err(|_| anyhow!("{place}: insert number '{index}' is not a number"))?;
                let ins = inserts.get(i.wrapping_sub(1)).ok_or_else(|| {
                    anyhow!("{place}: there is no insert #{index} (inserts count from 1)")
                })?;
                let Some(id) = gpu_dsp::mix::Insert::resolve(ins, name) else {
                    let names = gpu_dsp::mix::Insert::param_names(ins);
                    bail!("{place}: insert #{index} has no automatable parameter '{name}' (it has: {})", if names.is_empty() { "none".into() } else { names.join(", ") });
                };
                Target::Insert(i - 1, id)
            } else {
                bail!("{place}: unknown parameter; expected gain_db, pan, send.<bus> or insert.<n>.<parameter>")
            }
        }
    };
    if let Some(info) = automation_range(&target, inserts) {
        for (k, &(_, v)) in a.points.iter().enumerate() {
            info.check(v)
                .map_err(|e| anyhow!("{place}: point {}: {e}", k + 1))?;
        }
    }
    let env = Automation::new(&a.points, rate).map_err(|e| anyhow!("{place}: {e}"))?;
    let env = match a.shape {
        super::format::LaneShape::Linear => env,
        super::format::LaneShape::Step => env.stepped(),
    };
    Ok((target, env))
}

/// Fails when `value` is outside the declared range of `name` in `table`.
fn check(table: &'static [ParamInfo], name: &str, value: f32, place: &str) -> Result<()> {
    check_f64(table, name, f64::from(value), place)
}

fn check_f64(table: &'static [ParamInfo], name: &str, value: f64, place: &str) -> Result<()> {
    let info = find_param(table, name).ok_or_else(|| anyhow!("{place}: no parameter {name}"))?;
    info.check(value).map_err(|e| anyhow!("{place}: {e}"))
}

/// Every numeric field of an insert against its processor's table.
fn check_insert(ins: &InsertSection, place: &str) -> Result<()> {
    let mut ins = ins.clone();
    let (table, values) = ins.settings_mut();
    for (name, v) in values {
        check(table, name, *v, place)?;
    }
    Ok(())
}

/// The declared range of an automation target's values.
fn automation_range(target: &Target, inserts: &[InsertSpec]) -> Option<&'static ParamInfo> {
    match target {
        Target::GainDb => find_param(params::CONSOLE, "gain_db"),
        Target::Pan => find_param(params::CONSOLE, "pan"),
        Target::SendDb(_) => find_param(params::CONSOLE, "level_db"),
        Target::Insert(i, id) => gpu_dsp::mix::Insert::info(inserts.get(*i)?, *id),
    }
}

/// Stem names become file names: each must be non-empty, at most 100 characters, and differ
/// from the others once made safe for a file system.
fn check_stem_names(stems: &[String]) -> Result<()> {
    let mut files: Vec<String> = Vec::new();
    for s in stems {
        if s.trim().is_empty() {
            bail!("stem name \"{s}\": a stem needs a name (it becomes its file name)");
        }
        if s.chars().count() > 100 {
            bail!("stem name \"{s}\": longer than 100 characters");
        }
        let file = super::stem_file_name(s).to_lowercase();
        if let Some(other) = files.iter().position(|f| *f == file) {
            bail!(
                "stem names \"{}\" and \"{s}\" would write the same file ({file})",
                stems[other]
            );
        }
        files.push(file);
    }
    Ok(())
}

/// The fade curve called `name` (default linear).
fn fade_shape(name: Option<&str>, place: &str) -> Result<FadeShape> {
    match name {
        None => Ok(FadeShape::Linear),
        Some(n) => FadeShape::from_name(n).ok_or_else(|| {
            anyhow!("{place}: fade shape \"{n}\": expected linear, equal-power or s-curve")
        }),
    }
}

/// Where a clip starts inside the one before it on the track (and ends after it), the
/// overlap is a crossfade: the earlier clip fades out and the later fades in over exactly
/// the overlap, both with the later clip's fade-in shape. A clip inside another plays over
/// it (summed).
fn crossfade_overlaps(clips: &mut [ClipSpec], sources: &[Source]) {
    let len = |c: &ClipSpec| {
        let available = sources[c.source].frames().saturating_sub(c.offset);
        c.length.min(available)
    };
    let mut order: Vec<usize> = (0..clips.len()).collect();
    order.sort_by_key(|&i| (clips[i].start, i));
    for pair in order.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let a_end = clips[a].start + len(&clips[a]);
        let b_end = clips[b].start + len(&clips[b]);
        if clips[b].start > clips[a].start && clips[b].start < a_end && b_end > a_end {
            let overlap = a_end - clips[b].start;
            clips[a].fade_out = overlap;
            clips[a].fade_out_shape = clips[b].fade_in_shape;
            clips[b].fade_in = overlap;
        }
    }
}

/// The markers, checked: unique non-empty names, times within the session's range.
fn markers(f: &SessionFile) -> Result<Vec<(String, f64)>> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for (i, m) in f.markers.iter().enumerate() {
        let place = format!("[[marker]] #{} '{}'", i + 1, m.name);
        if m.name.trim().is_empty() {
            bail!("{place}: a marker needs a name");
        }
        if out.iter().any(|(n, _)| *n == m.name) {
            bail!("{place}: a marker with this name already exists");
        }
        if !(0.0..=MAX_SECONDS).contains(&m.at) {
            bail!(
                "{place}: at {} must be a time from 0 to {MAX_SECONDS} seconds",
                m.at
            );
        }
        out.push((m.name.clone(), m.at));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
