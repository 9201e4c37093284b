//! The root of the workstation's state and update (the Elm architecture's model and update),
//! free of any window: the session view, the transport, opening, saving and editing. The
//! panels own their state, messages and update — the timeline (`arrange.rs`), the console
//! (`console.rs`), the spectrogram (`spectra.rs`), the import dialog (`browser.rs`) and the
//! export panel (`export.rs`) — and hand back events, which the root turns into the effects
//! the shell carries out (start or stop the engine, send a console change, apply an edit
//! command, write a file). All of it is unit-tested without a display.

use super::meters::{MeterFrame, Meters};
use super::params::Param;

use std::path::{Path, PathBuf};

/// An automatable parameter of a track as its timeline lane shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct LaneParam {
    /// The session's name: `gain_db`, `pan`, `send.<bus>`, `insert.<n>.<parameter>`.
    pub param: String,
    /// The values the lane spans, bottom to top, and the values the parameter takes.
    pub range: (f64, f64),
    pub limits: (f64, f64),
    /// (seconds, value) points, empty without automation; `step`: held to the next point.
    pub points: Vec<(f64, f64)>,
    pub step: bool,
}

impl LaneParam {
    /// A lane of `param` over `range` without automation (its values limited to `range`;
    /// see [`LaneParam::limited`]).
    pub fn new(param: &str, range: (f64, f64)) -> Self {
        Self {
            param: param.to_string(),
            range,
            limits: range,
            points: Vec::new(),
            step: false,
        }
    }

    /// The same lane, its values limited to `limits` (wider than what it draws: a fader
    /// lane spans −60…+12 dB, a fader goes down to −200 dB).
    pub fn limited(mut self, limits: (f64, f64)) -> Self {
        self.limits = limits;
        self
    }

    /// The lane's value at `t` seconds (`None` without points).
    pub fn value_at(&self, t: f64) -> Option<f64> {
        let first = self.points.first()?;
        if self.step {
            let k = self.points.partition_point(|p| p.0 <= t);
            return Some(if k == 0 {
                first.1
            } else {
                self.points[k - 1].1
            });
        }
        Some(gpu_dsp::mix::envelope_at(&self.points, t, first.1))
    }

    /// A value typed by a click, rounded as a mixer reads it (levels to 0.1 dB, anything
    /// else to three significant digits) and kept within the parameter's limits.
    pub fn rounded(&self, v: f64) -> f64 {
        let step = if self.param == "gain_db" || self.param.starts_with("send.") {
            0.1
        } else if v == 0.0 || !v.is_finite() {
            1.0
        } else {
            10f64.powf(v.abs().log10().floor() - 2.0)
        };
        let rounded = crate::edit::document::tidy((v / step).round() * step);
        rounded.clamp(self.limits.0, self.limits.1)
    }
}

impl Strip {
    /// The lane of `param`, if the track has that parameter.
    pub fn lane(&self, param: &str) -> Option<&LaneParam> {
        self.lanes.iter().find(|l| l.param == param)
    }
}

/// One channel strip.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Strip {
    pub name: String,
    pub stem: String,
    pub gain_db: f32,
    pub pan: f32,
    pub mute: bool,
    pub solo: bool,
    /// Insert types in order (`eq`, `compressor`, `clean`, …).
    pub inserts: Vec<String>,
    /// Per insert: whether it is bypassed.
    pub bypass: Vec<bool>,
    /// Per insert: its live-editable parameters.
    pub insert_params: Vec<Vec<Param>>,
    /// Per insert: the kinds of its EQ bands (empty for other inserts).
    pub eq_kinds: Vec<Vec<gpu_dsp::mix::FilterKind>>,
    /// Send targets with their levels.
    pub sends: Vec<(String, f32)>,
    /// Per send in the session file: whether it is muted.
    pub send_mute: Vec<bool>,
    /// How many of `sends` are in the session file; one more is the track's `output` route
    /// (fixed at 0 dB, not editable).
    pub file_sends: usize,
    /// The track's clips in timeline order (the N of `TRACK:N` is the index + 1).
    pub clips: Vec<ClipView>,
    /// The fader (pan) has automation, played unless the mode is `off`.
    pub gain_automated: bool,
    pub pan_automated: bool,
    /// Every automatable parameter (fader first, then pan, sends, insert parameters)
    /// with its automation: what the track's timeline lane can show and edit.
    pub lanes: Vec<LaneParam>,
    /// The share of its VCAs without automation (dB) and whether one of them mutes it: the
    /// mix hears the fader plus this.
    pub vca_db: f32,
    pub vca_mute: bool,
    pub automation_mode: gpu_dsp::mix::AutomationMode,
}

/// A clip as the timeline shows it (seconds).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClipView {
    /// The file's name without its folder and extension.
    pub name: String,
    /// Its source (an index into the session's sources) and the seconds into it.
    pub source: usize,
    pub offset: f64,
    pub start: f64,
    pub length: f64,
    pub fade_in: f64,
    pub fade_out: f64,
    pub gain_db: f32,
    /// Its file is not there: the clip is silent until relinked.
    pub offline: bool,
}

/// A bus strip.
#[derive(Clone, Debug, PartialEq)]
pub struct BusStrip {
    pub name: String,
    pub gain_db: f32,
    pub mute: bool,
    pub solo: bool,
    pub inserts: Vec<String>,
    /// Per insert: whether it is bypassed.
    pub bypass: Vec<bool>,
    pub insert_params: Vec<Vec<Param>>,
    /// Per insert: the kinds of its EQ bands (empty for other inserts).
    pub eq_kinds: Vec<Vec<gpu_dsp::mix::FilterKind>>,
}

/// A console strip: a track's or a bus's (by index).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StripRef {
    Track(usize),
    Bus(usize),
}

/// The cleanup view of one track: before/after spectrograms of its source and the
/// reduction mask, computed by the same cleanup the insert runs.
#[derive(Clone, Debug)]
pub struct CleanupView {
    pub track: usize,
    pub name: String,
    /// Seconds analysed (from the start of the track's first clip).
    pub seconds: f64,
    pub before: iced::widget::image::Handle,
    pub after: iced::widget::image::Handle,
    pub mask: iced::widget::image::Handle,
    /// Level of what was removed relative to the input (dB).
    pub removed_db: f32,
    /// What was removed (input − output), mono, at `rate`, for auditioning.
    pub removed: std::sync::Arc<Vec<f32>>,
    pub rate: u32,
    /// The hum found, if any (Hz).
    pub hum_hz: Option<f64>,
}

/// What the spectrogram panel shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SpectrumChoice {
    /// The monitor, live while playing.
    #[default]
    Monitor,
    /// One stem, live while playing.
    Stem(usize),
    /// The whole source file of a track, with zoom.
    File(usize),
}

/// A whole-file spectrogram (computed once per track, on the GPU when there is one).
#[derive(Clone, Debug)]
pub struct FileSpectrogram {
    pub track: usize,
    pub name: String,
    pub rate: u32,
    pub fft: usize,
    pub frames: usize,
    pub bins: usize,
    pub seconds: f64,
    /// `db[frame * bins + bin]`.
    pub db: std::sync::Arc<Vec<f32>>,
}

/// An open session as the window shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionView {
    pub path: PathBuf,
    pub rate: u32,
    pub layout: String,
    pub length_s: f64,
    pub strips: Vec<Strip>,
    pub buses: Vec<String>,
    pub bus_strips: Vec<BusStrip>,
    pub stems: Vec<String>,
    /// The delivery target for the loudness meter (LUFS).
    pub target_lufs: f64,
    /// Markers: (name, seconds).
    pub markers: Vec<(String, f64)>,
    /// Media files that are not there (their clips play silent).
    pub offline: Vec<PathBuf>,
    /// Changes whenever what the timeline draws changes (its drawing is cached by it).
    pub revision: u64,
    /// The session's timecode clock (frame rate, start timecode).
    pub clock: crate::session::timecode::Clock,
    /// Each source's peak overview (see `document::source_peaks`), once computed.
    pub peaks: Option<std::sync::Arc<Vec<Vec<f32>>>>,
    /// Track groups: linked faders (relative), mutes and solos.
    pub groups: crate::session::groups::Groups,
    /// VCA masters.
    pub vcas: Vec<VcaStrip>,
}

/// A VCA master's strip: its fader and mute scale its member tracks.
#[derive(Clone, Debug, PartialEq)]
pub struct VcaStrip {
    pub name: String,
    pub gain_db: f32,
    pub mute: bool,
    /// Member tracks (strip indices).
    pub members: Vec<usize>,
    /// Its fader plays automation (folded into its members' envelopes at load).
    pub automated: bool,
}

impl SessionView {
    /// Recomputes each track's VCA share (the faders of its VCAs without automation) and
    /// VCA mute from the VCA strips.
    pub fn refold_vcas(&mut self) {
        for s in &mut self.strips {
            s.vca_db = 0.0;
            s.vca_mute = false;
        }
        for v in &self.vcas {
            for &m in &v.members {
                if let Some(s) = self.strips.get_mut(m) {
                    if !v.automated {
                        s.vca_db += v.gain_db;
                    }
                    s.vca_mute |= v.mute;
                }
            }
        }
    }
}

impl SessionView {
    /// The name of a track's or bus's strip.
    pub fn strip_name(&self, at: StripRef) -> Option<&str> {
        match at {
            StripRef::Track(i) => self.strips.get(i).map(|s| s.name.as_str()),
            StripRef::Bus(b) => self.bus_strips.get(b).map(|s| s.name.as_str()),
        }
    }

    /// The session's folder (`.` for a session given by a bare file name).
    pub fn folder(&self) -> &Path {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }
}

/// Messages: user actions, engine reports and timer ticks.
#[derive(Clone, Debug)]
pub enum Message {
    /// Open a session file.
    Open(PathBuf),
    /// The shell finished loading (or failed to load) a session.
    Loaded(Result<SessionView, String>),
    Save,
    /// The shell finished writing the session.
    Saved(Result<PathBuf, String>),
    TogglePlay,
    Play,
    Stop,
    /// Move the playhead (seconds).
    Locate(f64),
    /// The timer: drain the engine's meter frames.
    Tick,
    /// Meter frames drained from the engine (in order).
    Frames(Vec<MeterFrame>),
    /// The engine reached the end.
    Finished,
    /// Playback stopped and the automation pass wrote these lanes: kept as one edit.
    Written(Vec<crate::edit::Command>),
    DismissError,
    /// Open the cleanup view of a track with a `clean` insert.
    ShowCleanup(usize),
    CleanupReady(Result<CleanupView, String>),
    CloseCleanup,
    /// Play what the cleanup removed.
    HearRemoved,
    StopAudition,
    /// Undo or redo one edit (Ctrl+Z, Ctrl+Shift+Z).
    Undo,
    Redo,
    /// The import field's text changed.
    ImportPath(String),
    /// Import the file named in the import field at the playhead.
    Import,
    /// A file dropped on the window: imported at the playhead.
    FileDropped(PathBuf),
    /// The shell applied an edit and rebuilt the session (or says why it could not).
    Edited(Result<SessionView, String>),
    /// The sources' peak overviews, computed in the background.
    PeaksReady(std::sync::Arc<Vec<Vec<f32>>>),
    /// Show or hide the shortcut map (F1).
    ToggleHelp,
    /// The timeline panel's messages.
    Timeline(super::arrange::TimelineMessage),
    /// The spectrogram panel's messages.
    Spectrum(super::spectra::SpectrumMessage),
    /// The console panel's messages.
    Console(super::console::ConsoleMessage),
    /// Open or close the export panel (Ctrl+E).
    ToggleExport,
    /// Opens or closes the import dialog.
    ToggleBrowser,
    Browser(super::browser::BrowserMessage),
    /// A message of the export panel.
    Export(super::export::ExportMessage),
}

/// A value with a typed-entry field.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    Fader(usize),
    BusFader(usize),
    /// Track, insert, parameter.
    Param(usize, usize, String),
    /// Bus, insert, parameter.
    BusParam(usize, usize, String),
}

/// An edit the shell carries out on the document (answered with `Edited`).
#[derive(Clone, Debug, PartialEq)]
pub enum EditRequest {
    Undo,
    Redo,
    /// A file becomes a new track with one clip at `at` seconds.
    Import {
        file: PathBuf,
        at: f64,
    },
    /// Any edit command.
    Command(crate::edit::Command),
    /// Several commands as one undo step (an edit of several selected clips).
    Commands(Vec<crate::edit::Command>),
}

/// What the shell must do after an update.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Load the session at this path in the background (answer with `Loaded`).
    Load(PathBuf),
    /// Write the session (answer with `Saved`).
    Save(PathBuf),
    /// Write the autosave side file (unsaved changes are never lost silently).
    Autosave(PathBuf),
    /// Start playing from this position (seconds).
    StartEngine(f64),
    StopEngine,
    /// A live console change for track `i`: gain dB, pan, mute, solo.
    Console(usize, f32, f32, bool, bool),
    /// A hand writing automation on track i's fader or pan.
    Ride(usize, gpu_dsp::mix::Target, super::live::Ride),
    /// A live send level: track, send, dB.
    SendLevel(usize, usize, f32),
    /// A live send mute: track, send, muted.
    SendMute(usize, usize, bool),
    /// A live insert parameter: track, insert, the engine's id, value.
    InsertParam(usize, usize, gpu_dsp::mix::ParamId, f32),
    /// A live bus gain: bus, dB.
    BusGain(usize, f32),
    /// A live bus mute.
    BusMute(usize, bool),
    /// A live bus solo.
    BusSolo(usize, bool),
    /// A live insert bypass: strip, insert, bypassed.
    Bypass(StripRef, usize, bool),
    /// A live bus insert parameter: bus, insert, the engine's id, value.
    BusInsertParam(usize, usize, gpu_dsp::mix::ParamId, f32),
    /// Drain the engine's meter ring (answer with `Frames`).
    Poll,
    /// Analyse track `i`'s cleanup (answer with `CleanupReady`).
    AnalyseCleanup(usize),
    /// Play a mono buffer at a rate.
    Audition(std::sync::Arc<Vec<f32>>, u32),
    StopAudition,
    /// The live spectrogram shows the monitor (`None`) or a stem.
    EngineSpectrum(Option<usize>),
    /// Compute the whole-file spectrogram of a track's source (answer with
    /// `FileSpectrogramReady`).
    AnalyseFile(usize),
    /// Apply an edit to the document (answer with `Edited`).
    Edit(EditRequest),
    /// Give the playing engine the document's new mix (after an edit).
    SwapEngine,
    /// Compute the sources' peak overviews in the background (answer with `PeaksReady`).
    ComputePeaks,
    /// Render in the background (answer with `Export(Progress)` and `Export(Done)`).
    StartExport(super::export::ExportRequest),
    CancelExport,
}

/// The whole window state.
#[derive(Debug, Default)]
pub struct Workstation {
    pub session: Option<SessionView>,
    /// A readable error shown in the window; the current session stays open.
    pub error: Option<String>,
    pub dirty: bool,
    pub playing: bool,
    /// Playhead in seconds.
    pub position: f64,
    pub meters: Meters,
    /// A session being opened (shown as "opening …").
    pub opening: Option<PathBuf>,
    pub cleanup: Option<CleanupView>,
    /// Whether the removed signal is playing.
    pub auditioning: bool,
    /// The spectrogram panel: its source, a whole file's picture, zoom and scroll.
    pub spectrum: super::spectra::SpectrumPanel,
    /// The import field's text.
    pub import_path: String,
    /// The console panel: open editors and settings, a typed value, its scroll.
    pub console: super::console::ConsolePanel,
    /// The timeline panel: zoom, ruler, lanes, selection, loop.
    pub timeline: super::arrange::TimelinePanel,
    /// The shortcut map is shown.
    pub help: bool,
    /// The export panel, when open.
    pub export: Option<super::export::ExportPanel>,
    /// The import dialog, when open, with the strip whose reverb it chooses an impulse
    /// response for (`None`: it imports).
    pub browser: Option<(super::browser::Browser, Option<StripRef>)>,
    /// The last revision given to a session view.
    pub revision: u64,
}

/// The first of `prefix1`, `prefix2`, … that `taken` does not hold (new markers, tracks
/// and buses).
pub fn free_name(prefix: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut k = 1u64;
    loop {
        let name = format!("{prefix}{k}");
        if !taken(&name) {
            return name;
        }
        k += 1;
    }
}

/// Where unsaved changes to `path` are autosaved.
pub fn autosave_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".autosave");
    path.with_file_name(name)
}

impl Workstation {
    /// The range playback loops over, when looping is on and the range is set.
    pub fn loop_range(&self) -> Option<(f64, f64)> {
        self.timeline.loop_range()
    }

    /// Shows a new or rebuilt session: fresh meters, the panels that referred to the old
    /// one closed.
    fn show(&mut self, view: SessionView) {
        self.meters = Meters::new(view.strips.len());
        self.timeline.follow(&view);
        self.session = Some(view);
        self.cleanup = None;
        self.console.follow();
        self.spectrum.follow();
    }

    /// Handles one message; returns the effects for the shell.
    pub fn update(&mut self, message: Message) -> Vec<Effect> {
        match message {
            Message::Open(path) => {
                self.opening = Some(path.clone());
                // Playback stops first: an automation pass is kept (as an edit of the
                // session it was written on, autosaved) before the other one opens.
                let mut effects = Vec::new();
                if self.playing {
                    self.playing = false;
                    self.console.riding = None;
                    effects.push(Effect::StopEngine);
                }
                effects.push(Effect::Load(path));
                effects
            }
            Message::Loaded(Ok(mut view)) => {
                self.revision += 1;
                view.revision = self.revision;
                let mut effects = vec![Effect::ComputePeaks];
                if self.playing {
                    self.playing = false;
                    effects.push(Effect::StopEngine);
                }
                self.show(view);
                self.timeline.view = super::timeline::View::default();
                self.opening = None;
                self.error = None;
                self.dirty = false;
                self.position = 0.0;
                effects
            }
            Message::Loaded(Err(e)) => {
                // A broken session or missing file: say so, keep what is open.
                self.opening = None;
                self.error = Some(e);
                Vec::new()
            }
            Message::Undo | Message::Redo if self.session.is_some() => {
                vec![Effect::Edit(if matches!(message, Message::Undo) {
                    EditRequest::Undo
                } else {
                    EditRequest::Redo
                })]
            }
            Message::Undo | Message::Redo => Vec::new(),
            Message::ImportPath(text) => {
                self.import_path = text;
                Vec::new()
            }
            Message::Import => {
                let file = self.import_path.trim().to_string();
                if file.is_empty() || self.session.is_none() {
                    return Vec::new();
                }
                // `:COMMAND` runs any edit command (`:relink old.wav new.wav`).
                if let Some(line) = file.strip_prefix(':') {
                    return match crate::edit::parse_command(line) {
                        Ok(Some(command)) => {
                            self.import_path.clear();
                            vec![Effect::Edit(EditRequest::Command(command))]
                        }
                        Ok(None) => Vec::new(),
                        Err(e) => {
                            self.error = Some(format!("{e:#}"));
                            Vec::new()
                        }
                    };
                }
                self.import_path.clear();
                vec![Effect::Edit(EditRequest::Import {
                    file: file.into(),
                    at: self.position,
                })]
            }
            Message::FileDropped(file) if self.session.is_some() => {
                vec![Effect::Edit(EditRequest::Import {
                    file,
                    at: self.position,
                })]
            }
            Message::FileDropped(_) => Vec::new(),
            Message::Edited(Ok(mut view)) => {
                self.revision += 1;
                view.revision = self.revision;
                // The clips keep their waveforms until the new overviews arrive.
                if let Some(old) = &self.session {
                    view.peaks = old.peaks.clone();
                }
                // The mix graph changed: a playing engine takes the new mix at its next
                // block and plays on.
                let mut effects = Vec::new();
                if self.playing {
                    effects.push(Effect::SwapEngine);
                }
                effects.push(Effect::Autosave(autosave_path(&view.path)));
                effects.push(Effect::ComputePeaks);
                self.show(view);
                self.error = None;
                self.dirty = true;
                effects
            }
            Message::PeaksReady(peaks) => {
                if let Some(s) = &mut self.session {
                    self.revision += 1;
                    s.revision = self.revision;
                    s.peaks = Some(peaks);
                }
                Vec::new()
            }
            Message::Timeline(m) => {
                use super::arrange::TimelineEvent;
                let Some(session) = &self.session else {
                    return Vec::new();
                };
                match self.timeline.update(m, session, self.position) {
                    Some(TimelineEvent::Edit(request)) => vec![Effect::Edit(request)],
                    Some(TimelineEvent::Locate(t)) => self.update(Message::Locate(t)),
                    // A playing engine restarts where it is with the new loop.
                    Some(TimelineEvent::LoopChanged) if self.playing => {
                        vec![Effect::StopEngine, Effect::StartEngine(self.position)]
                    }
                    _ => Vec::new(),
                }
            }
            Message::Console(m) => {
                use super::console::ConsoleEvent;
                let (Some(session), console) = (&mut self.session, &mut self.console) else {
                    return Vec::new();
                };
                let path = session.path.clone();
                let mut effects = Vec::new();
                console.playing = self.playing;
                console.looping = self.timeline.loop_range().is_some();
                for event in console.update(m, session) {
                    match event {
                        ConsoleEvent::Changed => {
                            self.dirty = true;
                            effects.push(Effect::Autosave(autosave_path(&path)));
                        }
                        ConsoleEvent::Live(e) if self.playing => effects.push(e),
                        ConsoleEvent::Live(_) => {}
                        ConsoleEvent::Edit(request) => effects.push(Effect::Edit(request)),
                        ConsoleEvent::ForgetSelection => self.timeline.selected.clear(),
                        ConsoleEvent::Replay if self.playing => {
                            effects.push(Effect::StopEngine);
                            effects.push(Effect::StartEngine(self.position));
                        }
                        ConsoleEvent::Replay => {}
                        ConsoleEvent::Error(e) => self.error = Some(e),
                        ConsoleEvent::ChooseImpulseResponse(at) => {
                            if let Some(name) = session.strip_name(at) {
                                let dialog = super::browser::Browser::for_impulse_response(
                                    session.folder(),
                                    name,
                                );
                                self.browser = Some((dialog, Some(at)));
                            }
                        }
                    }
                }
                effects
            }
            Message::Spectrum(m) => {
                use super::spectra::SpectrumEvent;
                let (Some(session), panel) = (&self.session, &mut self.spectrum) else {
                    return Vec::new();
                };
                match panel.update(m, session) {
                    Some(SpectrumEvent::Engine(stem)) => vec![Effect::EngineSpectrum(stem)],
                    Some(SpectrumEvent::AnalyseFile(i)) => vec![Effect::AnalyseFile(i)],
                    Some(SpectrumEvent::Error(e)) => {
                        self.error = Some(e);
                        Vec::new()
                    }
                    None => Vec::new(),
                }
            }
            Message::ToggleHelp => {
                self.help = !self.help;
                Vec::new()
            }
            Message::ToggleExport => {
                let running = self.export.as_ref().is_some_and(|e| e.running.is_some());
                match (&self.export, &self.session) {
                    (Some(_), _) if !running => self.export = None,
                    (None, Some(s)) => {
                        self.export = Some(super::export::ExportPanel::new(&s.path));
                    }
                    _ => {}
                }
                Vec::new()
            }
            Message::ToggleBrowser => {
                self.browser = match (&self.browser, &self.session) {
                    (None, Some(s)) => Some((super::browser::Browser::new(s.folder()), None)),
                    _ => None,
                };
                Vec::new()
            }
            Message::Browser(m) => {
                use super::browser::BrowserEvent;
                let Some((browser, for_strip)) = &mut self.browser else {
                    return Vec::new();
                };
                let for_strip = *for_strip;
                match browser.update(m) {
                    Some(BrowserEvent::Import(file)) => {
                        self.browser = None;
                        let target = for_strip.and_then(|at| {
                            Some(self.session.as_ref()?.strip_name(at)?.to_string())
                        });
                        match target {
                            Some(target) => vec![Effect::Edit(EditRequest::Command(
                                crate::edit::Command::Insert {
                                    target,
                                    kind: "reverb".into(),
                                    params: vec![("ir".into(), file.display().to_string())],
                                },
                            ))],
                            None => self.update(Message::FileDropped(file)),
                        }
                    }
                    Some(BrowserEvent::Close) => {
                        self.browser = None;
                        Vec::new()
                    }
                    None => Vec::new(),
                }
            }
            Message::Export(m) => {
                use super::export::ExportEvent;
                let Some(panel) = &mut self.export else {
                    return Vec::new();
                };
                match panel.update(m) {
                    Some(ExportEvent::Start(request)) => vec![Effect::StartExport(request)],
                    Some(ExportEvent::Cancel) => vec![Effect::CancelExport],
                    None => Vec::new(),
                }
            }
            Message::Edited(Err(e)) => {
                self.error = Some(e);
                Vec::new()
            }
            Message::Save => match &self.session {
                Some(s) => vec![Effect::Save(s.path.clone())],
                None => Vec::new(),
            },
            Message::Saved(Ok(_)) => {
                self.dirty = false;
                Vec::new()
            }
            Message::Saved(Err(e)) => {
                self.error = Some(e);
                Vec::new()
            }
            Message::TogglePlay => {
                let next = if self.playing {
                    Message::Stop
                } else {
                    Message::Play
                };
                self.update(next)
            }
            Message::Play => match &self.session {
                Some(s) if !self.playing => {
                    if self.position >= s.length_s {
                        self.position = 0.0;
                    }
                    self.playing = true;
                    self.meters.reset_loudness();
                    let mut effects = Vec::new();
                    if self.auditioning {
                        self.auditioning = false;
                        effects.push(Effect::StopAudition);
                    }
                    effects.push(Effect::StartEngine(self.position));
                    effects
                }
                _ => Vec::new(),
            },
            Message::Stop => {
                self.console.riding = None;
                if self.playing {
                    self.playing = false;
                    self.meters.stopped();
                    vec![Effect::StopEngine]
                } else {
                    Vec::new()
                }
            }
            Message::Locate(t) => {
                let Some(s) = &self.session else {
                    return Vec::new();
                };
                self.position = t.clamp(0.0, s.length_s);
                if self.playing {
                    vec![Effect::StopEngine, Effect::StartEngine(self.position)]
                } else {
                    Vec::new()
                }
            }
            Message::Tick => {
                if self.playing {
                    vec![Effect::Poll]
                } else {
                    Vec::new()
                }
            }
            Message::Frames(frames) => {
                for f in frames {
                    self.position = f.position;
                    self.meters.absorb(f);
                }
                // Playback ends with the session (the clock never runs past its length).
                match &self.session {
                    Some(s) if self.playing && self.position >= s.length_s => {
                        self.position = s.length_s;
                        self.playing = false;
                        self.meters.stopped();
                        vec![Effect::StopEngine]
                    }
                    _ => Vec::new(),
                }
            }
            Message::Finished => {
                self.console.riding = None;
                self.playing = false;
                self.meters.stopped();
                Vec::new()
            }
            Message::Written(commands) => {
                self.dirty = true;
                vec![Effect::Edit(EditRequest::Commands(commands))]
            }
            Message::DismissError => {
                self.error = None;
                Vec::new()
            }
            Message::ShowCleanup(i) => match &self.session {
                Some(s)
                    if s.strips
                        .get(i)
                        .is_some_and(|t| t.inserts.iter().any(|n| n == "clean")) =>
                {
                    vec![Effect::AnalyseCleanup(i)]
                }
                _ => Vec::new(),
            },
            Message::CleanupReady(Ok(view)) => {
                self.cleanup = Some(view);
                Vec::new()
            }
            Message::CleanupReady(Err(e)) => {
                self.error = Some(e);
                Vec::new()
            }
            Message::CloseCleanup => {
                self.cleanup = None;
                self.update(Message::StopAudition)
            }
            Message::HearRemoved => match &self.cleanup {
                Some(c) => {
                    let mut effects = Vec::new();
                    if self.playing {
                        self.playing = false;
                        effects.push(Effect::StopEngine);
                    }
                    self.auditioning = true;
                    effects.push(Effect::Audition(c.removed.clone(), c.rate));
                    effects
                }
                None => Vec::new(),
            },
            Message::StopAudition => {
                if self.auditioning {
                    self.auditioning = false;
                    vec![Effect::StopAudition]
                } else {
                    Vec::new()
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::arrange::TimelineMessage;
    use super::super::console::ConsoleMessage;
    use super::super::spectra::SpectrumMessage;
    use super::*;
    use crate::edit::{ClipRef, Command};
    use gpu_dsp::mix::params::{self, ParamId};

    fn ratio_id() -> ParamId {
        ParamId::resolve(params::COMPRESSOR, "ratio").unwrap()
    }

    fn wet_id() -> ParamId {
        ParamId::resolve(params::REVERB, "wet").unwrap()
    }

    fn view(path: &str) -> SessionView {
        SessionView {
            path: PathBuf::from(path),
            rate: 48_000,
            layout: "stereo".into(),
            length_s: 10.0,
            strips: vec![
                Strip {
                    name: "dx".into(),
                    stem: "DX".into(),
                    gain_db: 0.0,
                    pan: 0.0,
                    mute: false,
                    solo: false,
                    inserts: vec!["clean".into(), "compressor".into()],
                    insert_params: vec![
                        vec![],
                        vec![Param {
                            name: "ratio".into(),
                            id: ratio_id(),
                            value: 2.0,
                            min: 1.0,
                            max: 20.0,
                            default: 2.0,
                            skew: Default::default(),
                        }],
                    ],
                    eq_kinds: vec![vec![], vec![]],
                    bypass: vec![false, false],
                    sends: vec![("hall".into(), -12.0)],
                    send_mute: vec![false],
                    file_sends: 1,
                    clips: vec![
                        ClipView {
                            name: "a".into(),
                            start: 1.0,
                            length: 2.0,
                            ..Default::default()
                        },
                        ClipView {
                            name: "a".into(),
                            start: 5.0,
                            length: 1.0,
                            gain_db: -3.0,
                            ..Default::default()
                        },
                    ],
                    gain_automated: false,
                    pan_automated: false,
                    lanes: vec![LaneParam::new("gain_db", (-60.0, 12.0))],
                    vca_db: 0.0,
                    vca_mute: false,
                    automation_mode: Default::default(),
                };
                2
            ],
            buses: vec!["hall".into()],
            bus_strips: vec![BusStrip {
                name: "hall".into(),
                gain_db: 0.0,
                mute: false,
                solo: false,
                inserts: vec!["reverb".into()],
                bypass: vec![false],
                eq_kinds: vec![vec![]],
                insert_params: vec![vec![Param {
                    name: "wet".into(),
                    id: wet_id(),
                    value: 1.0,
                    min: 0.0,
                    max: 1.0,
                    default: 1.0,
                    skew: Default::default(),
                }]],
            }],
            stems: vec!["DX".into()],
            target_lufs: -23.0,
            markers: Vec::new(),
            offline: Vec::new(),
            clock: Default::default(),
            revision: 0,
            peaks: None,
            groups: Default::default(),
            vcas: Vec::new(),
        }
    }

    fn opened() -> Workstation {
        let mut w = Workstation::default();
        assert_eq!(
            w.update(Message::Open("a.toml".into())),
            vec![Effect::Load("a.toml".into())]
        );
        w.update(Message::Loaded(Ok(view("a.toml"))));
        w
    }

    #[test]
    fn a_broken_session_shows_an_error_and_keeps_the_current_one() {
        let mut w = opened();
        w.update(Message::Console(ConsoleMessage::Fader(0, -6.0)));
        w.update(Message::Open("broken.toml".into()));
        w.update(Message::Loaded(
            Err("broken.toml:3:1: unknown field".into()),
        ));
        assert_eq!(w.error.as_deref(), Some("broken.toml:3:1: unknown field"));
        let s = w.session.as_ref().unwrap();
        assert_eq!(s.path, PathBuf::from("a.toml"));
        assert_eq!(s.strips[0].gain_db, -6.0, "the edit survives");
        assert!(w.dirty);
        w.update(Message::DismissError);
        assert_eq!(w.error, None);
    }

    #[test]
    fn a_group_moves_its_faders_relatively_and_links_only_what_it_says() {
        use crate::session::groups::{Group, Groups, Link};
        let mut w = opened();
        w.session.as_mut().unwrap().groups = Groups(vec![Group {
            name: "dialogue".into(),
            members: vec![0, 1],
            links: vec![Link::Fader, Link::Mute],
        }]);
        w.update(Message::Console(ConsoleMessage::Fader(1, -10.0)));
        w.update(Message::Play);
        let before: Vec<f32> = w
            .session
            .as_ref()
            .unwrap()
            .strips
            .iter()
            .map(|s| s.gain_db)
            .collect();
        assert_eq!(before[1], -10.0);
        let e = w.update(Message::Console(ConsoleMessage::Fader(0, before[0] - 4.0)));
        let s = w.session.as_ref().unwrap();
        assert_eq!(s.strips[0].gain_db, before[0] - 4.0);
        assert_eq!(s.strips[1].gain_db, -14.0, "moved by the same change");
        assert!(
            e.contains(&Effect::Console(1, -14.0, 0.0, false, false)),
            "{e:?}"
        );
        // Near the top a member stops at +12 dB while the others keep moving.
        w.update(Message::Console(ConsoleMessage::Fader(1, 12.0)));
        let top = (before[0] - 4.0 + 26.0).min(12.0);
        assert_eq!(w.session.as_ref().unwrap().strips[0].gain_db, top);
        w.update(Message::Console(ConsoleMessage::Mute(1)));
        let s = w.session.as_ref().unwrap();
        assert!(s.strips[0].mute && s.strips[1].mute, "mute is linked");
        w.update(Message::Console(ConsoleMessage::Solo(0)));
        let s = w.session.as_ref().unwrap();
        assert!(s.strips[0].solo && !s.strips[1].solo, "solo is not");
    }

    #[test]
    fn an_automated_fader_refuses_a_hand_visibly_unless_its_automation_is_off() {
        use gpu_dsp::mix::AutomationMode;
        let mut w = opened();
        w.update(Message::Play);
        {
            let s = &mut w.session.as_mut().unwrap().strips[0];
            s.gain_automated = true;
            s.automation_mode = AutomationMode::Read;
        }
        let before = w.session.as_ref().unwrap().strips[0].gain_db;
        let e = w.update(Message::Console(ConsoleMessage::Fader(0, before - 20.0)));
        assert!(!e.iter().any(|e| matches!(e, Effect::Console(..))), "{e:?}");
        assert_eq!(w.session.as_ref().unwrap().strips[0].gain_db, before);
        let shown = w.error.clone().expect("the refusal is shown");
        assert!(shown.contains("plays its automation (read)"), "{shown}");
        w.update(Message::DismissError);
        w.session.as_mut().unwrap().strips[0].automation_mode = AutomationMode::Off;
        let e = w.update(Message::Console(ConsoleMessage::Fader(0, before - 20.0)));
        assert!(
            e.iter().any(|e| matches!(e, Effect::Console(0, ..))),
            "{e:?}"
        );
        assert_eq!(w.error, None);
    }

    /// A send with automation: refused by hand in `read` (said), ridden in `touch` while
    /// playing (grab, move, release reach the engine; the saved level stays).
    #[test]
    fn an_automated_send_is_refused_in_read_and_ridden_in_touch() {
        use super::super::live::Ride;
        use gpu_dsp::mix::{AutomationMode, Target};
        let mut w = opened();
        w.update(Message::Play);
        {
            let s = &mut w.session.as_mut().unwrap().strips[0];
            s.lanes.push(LaneParam {
                points: vec![(0.0, -20.0), (2.0, -6.0)],
                ..LaneParam::new("send.hall", (-60.0, 12.0))
            });
            s.automation_mode = AutomationMode::Read;
        }
        let e = w.update(Message::Console(ConsoleMessage::SendLevel(0, 0, -3.0)));
        assert!(
            !e.iter().any(|e| matches!(e, Effect::SendLevel(..))),
            "{e:?}"
        );
        assert!(w
            .error
            .take()
            .is_some_and(|m| m.contains("its send plays its automation")));
        w.session.as_mut().unwrap().strips[0].automation_mode = AutomationMode::Touch;
        let c = |w: &mut Workstation, m| w.update(Message::Console(m));
        let send = Target::SendDb(0);
        assert_eq!(
            c(&mut w, ConsoleMessage::Grab(0, send, -13.0)),
            vec![Effect::Ride(0, send, Ride::Touch(-13.0))]
        );
        assert_eq!(
            c(&mut w, ConsoleMessage::SendLevel(0, 0, -9.0)),
            vec![Effect::Ride(0, send, Ride::Move(-9.0))]
        );
        assert_eq!(
            c(&mut w, ConsoleMessage::Release(0, send)),
            vec![Effect::Ride(0, send, Ride::Release)]
        );
        assert_eq!(w.session.as_ref().unwrap().strips[0].sends[0].1, -12.0);
    }

    /// A VCA strip's fader and mute reach its members live (their fader plus the VCA's
    /// share, muted with it), are saved as `set vca.NAME.…`, and an automated VCA refuses
    /// a hand, said.
    #[test]
    fn a_vca_strip_scales_its_members_live() {
        let mut w = opened();
        w.update(Message::Play);
        {
            let s = w.session.as_mut().unwrap();
            s.vcas.push(VcaStrip {
                name: "fx".into(),
                gain_db: 0.0,
                mute: false,
                members: vec![1],
                automated: false,
            });
        }
        let member = w.session.as_ref().unwrap().strips[1].gain_db;
        let e = w.update(Message::Console(ConsoleMessage::VcaFader(0, -6.0)));
        assert!(
            e.iter().any(
                |e| matches!(e, Effect::Console(1, g, ..) if (*g - (member - 6.0)).abs() < 1e-6)
            ),
            "{e:?}"
        );
        assert!(
            !e.iter().any(|e| matches!(e, Effect::Console(0, ..))),
            "{e:?}"
        );
        assert!(w.dirty);
        let e = w.update(Message::Console(ConsoleMessage::VcaMute(0)));
        assert!(
            e.iter()
                .any(|e| matches!(e, Effect::Console(1, _, _, true, _))),
            "{e:?}"
        );
        w.session.as_mut().unwrap().vcas[0].automated = true;
        let e = w.update(Message::Console(ConsoleMessage::VcaFader(0, 0.0)));
        assert!(!e.iter().any(|e| matches!(e, Effect::Console(..))), "{e:?}");
        assert!(
            w.error.as_deref().is_some_and(|m| m.contains("VCA 'fx'")),
            "{:?}",
            w.error
        );
        assert_eq!(w.session.as_ref().unwrap().vcas[0].gain_db, -6.0);
    }

    /// Automation points: a band selects points of one lane, a drag moves the selection
    /// together (one `points` edit), Delete removes the selected points (not the clips),
    /// and the shape glyph switches the lane to step.
    #[test]
    fn automation_points_are_selected_moved_deleted_and_shaped() {
        use crate::edit::LaneEdit;
        let mut w = opened();
        let pan = LaneParam {
            points: vec![(0.0, -1.0), (1.0, 0.0), (2.0, 1.0)],
            ..LaneParam::new("pan", (-1.0, 1.0))
        };
        w.session.as_mut().unwrap().strips[0].lanes.push(pan);
        let view = w.session.clone().unwrap();
        w.timeline.follow(&view);
        assert_eq!(
            w.timeline.sub_lanes[0],
            vec![1],
            "pan has a lane of its own"
        );
        let mut w2 = w;
        let points = |e: Vec<Effect>| match e.as_slice() {
            [Effect::Edit(EditRequest::Command(Command::Automation { param, edit, .. }))] => {
                (param.clone(), edit.clone())
            }
            other => panic!("{other:?}"),
        };
        w2.update(Message::Timeline(TimelineMessage::SelectPoints(
            0,
            1,
            vec![1.0, 2.0],
        )));
        let (param, edit) = points(w2.update(Message::Timeline(TimelineMessage::MovePoints(
            0, 1, 2.0, -0.5, -0.25,
        ))));
        assert_eq!(param, "pan");
        assert_eq!(
            edit,
            LaneEdit::Points(vec![
                ("0.000000000".into(), -1.0),
                ("0.500000000".into(), -0.25),
                ("1.500000000".into(), 0.75),
            ])
        );
        assert_eq!(w2.timeline.points, Some((0, 1, vec![0.5, 1.5])));
        // Delete takes the selected points (of the lane before the move was applied).
        w2.timeline.points = Some((0, 1, vec![1.0]));
        let (_, edit) = points(w2.update(Message::Timeline(TimelineMessage::DeleteClip)));
        assert_eq!(
            edit,
            LaneEdit::Points(vec![
                ("0.000000000".into(), -1.0),
                ("2.000000000".into(), 1.0)
            ])
        );
        assert_eq!(w2.timeline.points, None);
        let (_, edit) = points(w2.update(Message::Timeline(TimelineMessage::ToggleShape(0, 1))));
        assert_eq!(edit, LaneEdit::Shape("step".into()));
        // A click selecting a clip forgets the points.
        w2.timeline.points = Some((0, 1, vec![1.0]));
        w2.update(Message::Timeline(TimelineMessage::SelectClip(Some((0, 0)))));
        assert_eq!(w2.timeline.points, None);
    }

    /// In a writing mode a hand rides the control while playing: grab, moves and release
    /// reach the engine as a ride (the strip's static value and the file stay), the strip
    /// shows the hand; stopped, the automated fader refuses; the mode button steps the
    /// mode as an edit and, while playing, restarts the pass.
    #[test]
    fn a_writing_mode_rides_the_control_while_playing_and_steps_by_its_button() {
        use super::super::live::Ride;
        use gpu_dsp::mix::{AutomationMode, Target};
        let mut w = opened();
        {
            let s = &mut w.session.as_mut().unwrap().strips[0];
            s.gain_automated = true;
            s.automation_mode = AutomationMode::Touch;
        }
        let before = w.session.as_ref().unwrap().strips[0].gain_db;
        // Stopped: a grab does nothing, a move is refused with how to write.
        assert!(w
            .update(Message::Console(ConsoleMessage::Grab(
                0,
                Target::GainDb,
                -3.0
            )))
            .is_empty());
        w.update(Message::Console(ConsoleMessage::Fader(0, -9.0)));
        let shown = w.error.take().expect("refused while stopped");
        assert!(shown.contains("start playback and ride it"), "{shown}");
        w.update(Message::Play);
        let ride = |w: &mut Workstation, m| w.update(Message::Console(m));
        assert_eq!(
            ride(&mut w, ConsoleMessage::Grab(0, Target::GainDb, -3.0)),
            vec![Effect::Ride(0, Target::GainDb, Ride::Touch(-3.0))]
        );
        assert_eq!(
            ride(&mut w, ConsoleMessage::Fader(0, -9.5)),
            vec![Effect::Ride(0, Target::GainDb, Ride::Move(-9.5))]
        );
        assert_eq!(w.console.riding, Some((0, Target::GainDb, -9.5)));
        assert!(!w.dirty, "a ride is not a strip change");
        // Another strip's pan in read mode without automation moves as usual.
        let e = ride(&mut w, ConsoleMessage::Pan(1, 0.5));
        assert!(
            e.iter().any(|e| matches!(e, Effect::Console(1, ..))),
            "{e:?}"
        );
        assert_eq!(
            ride(&mut w, ConsoleMessage::Release(0, Target::GainDb)),
            vec![Effect::Ride(0, Target::GainDb, Ride::Release)]
        );
        assert_eq!(w.console.riding, None);
        assert_eq!(w.session.as_ref().unwrap().strips[0].gain_db, before);
        // The mode button: an edit of the file's mode, and a new pass while playing.
        let e = ride(&mut w, ConsoleMessage::NextMode(0));
        assert_eq!(
            e,
            vec![
                Effect::Edit(EditRequest::Command(Command::Set {
                    path: "track.dx.automation_mode".into(),
                    value: "latch".into(),
                })),
                Effect::StopEngine,
                Effect::StartEngine(w.position),
            ]
        );
    }

    #[test]
    fn a_vca_members_live_values_carry_the_vcas_share() {
        let mut w = opened();
        w.update(Message::Play);
        {
            let s = &mut w.session.as_mut().unwrap().strips[1];
            s.vca_db = -12.0;
            s.vca_mute = true;
        }
        let gain = w.session.as_ref().unwrap().strips[1].gain_db;
        let e = w.update(Message::Console(ConsoleMessage::Solo(1)));
        assert!(
            e.contains(&Effect::Console(1, gain - 12.0, 0.0, true, true)),
            "{e:?}"
        );
        assert!(
            !w.session.as_ref().unwrap().strips[1].mute,
            "the strip's own mute"
        );
    }

    #[test]
    fn edits_mark_dirty_autosave_and_reach_a_playing_engine() {
        let mut w = opened();
        assert!(!w.dirty);
        let e = w.update(Message::Console(ConsoleMessage::Fader(1, -12.5)));
        assert_eq!(e, vec![Effect::Autosave("a.toml.autosave".into())]);
        assert!(w.dirty);
        assert_eq!(w.update(Message::Play), vec![Effect::StartEngine(0.0)]);
        let e = w.update(Message::Console(ConsoleMessage::Mute(1)));
        assert_eq!(
            e,
            vec![
                Effect::Autosave("a.toml.autosave".into()),
                Effect::Console(1, -12.5, 0.0, true, false)
            ]
        );
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::Fader(0, 40.0)))[1],
            Effect::Console(0, 12.0, 0.0, false, false)
        );
        assert_eq!(w.update(Message::Save), vec![Effect::Save("a.toml".into())]);
        w.update(Message::Saved(Ok("a.toml".into())));
        assert!(!w.dirty);
        // Out-of-range strips are ignored.
        assert!(w
            .update(Message::Console(ConsoleMessage::Solo(9)))
            .is_empty());
    }

    #[test]
    fn transport_space_bar_locate_and_end() {
        let mut w = opened();
        assert_eq!(
            w.update(Message::TogglePlay),
            vec![Effect::StartEngine(0.0)]
        );
        assert!(w.playing);
        assert_eq!(w.update(Message::Tick), vec![Effect::Poll]);
        w.update(Message::Frames(vec![MeterFrame::silent(3.5, 2)]));
        assert_eq!(w.position, 3.5);
        assert_eq!(
            w.update(Message::Locate(7.0)),
            vec![Effect::StopEngine, Effect::StartEngine(7.0)]
        );
        assert_eq!(w.update(Message::TogglePlay), vec![Effect::StopEngine]);
        assert!(
            w.update(Message::Tick).is_empty(),
            "no polling when stopped"
        );
        w.update(Message::Locate(99.0));
        assert_eq!(w.position, 10.0, "locate clamps to the session");
        // Play at the end starts from the top.
        assert_eq!(w.update(Message::Play), vec![Effect::StartEngine(0.0)]);
        w.update(Message::Finished);
        assert!(!w.playing);
    }

    #[test]
    fn clip_edits_become_edit_commands_on_the_selected_clip() {
        use super::super::timeline::{Gesture, Grip};
        let mut w = opened();
        let edit = |c: Command| vec![Effect::Edit(EditRequest::Command(c))];
        let dx2 = ClipRef {
            track: "dx".into(),
            number: 2,
        };
        assert!(
            w.update(Message::Timeline(TimelineMessage::SplitAtPlayhead))
                .is_empty(),
            "nothing selected"
        );
        w.update(Message::Timeline(TimelineMessage::SelectClip(Some((0, 1)))));
        w.position = 5.5;
        assert_eq!(
            w.update(Message::Timeline(TimelineMessage::SplitAtPlayhead)),
            edit(Command::Split {
                clip: dx2.clone(),
                at: "5.5".into()
            })
        );
        assert_eq!(
            w.update(Message::Timeline(TimelineMessage::Nudge(-0.01))),
            edit(Command::Move {
                clip: dx2.clone(),
                to: None,
                by: Some("-0.01".into()),
                track: None
            })
        );
        assert_eq!(
            w.update(Message::Timeline(TimelineMessage::ClipGainStep(1.0))),
            edit(Command::Gain {
                clip: dx2.clone(),
                db: -2.0
            })
        );
        assert_eq!(
            w.update(Message::Timeline(TimelineMessage::DuplicateClip)),
            edit(Command::Duplicate {
                clip: dx2.clone(),
                to: "6".into()
            })
        );
        let g = Gesture {
            track: 0,
            clip: 0,
            grip: Grip::TrimEnd,
            seconds: 2.5,
            to_track: 0,
        };
        assert_eq!(
            w.update(Message::Timeline(TimelineMessage::ClipGesture(g))),
            edit(Command::Trim {
                clip: ClipRef {
                    track: "dx".into(),
                    number: 1
                },
                start: None,
                end: Some("2.5".into())
            })
        );
        assert_eq!(
            w.update(Message::Timeline(TimelineMessage::DeleteClip)),
            edit(Command::Delete(dx2))
        );
        assert!(w.timeline.selected.is_empty());
        assert_eq!(
            w.update(Message::Timeline(TimelineMessage::AddMarker)),
            edit(Command::Marker {
                name: "M1".into(),
                at: "5.5".into()
            })
        );
        // Alt+click on a lane: a fader automation point (to 0.1 dB), or one removed.
        assert_eq!(
            w.update(Message::Timeline(TimelineMessage::AutomationPoint(
                0, 0, 1.25, -6.04
            ))),
            edit(Command::Automation {
                strip: "dx".into(),
                param: "gain_db".into(),
                edit: crate::edit::LaneEdit::Add {
                    at: "1.25".into(),
                    value: -6.0
                }
            })
        );
        assert_eq!(
            w.update(Message::Timeline(TimelineMessage::RemoveAutomationPoint(
                0, 0, 2.0
            ))),
            edit(Command::Automation {
                strip: "dx".into(),
                param: "gain_db".into(),
                edit: crate::edit::LaneEdit::Clear(Some(("2".into(), "2".into())))
            })
        );
        // Several clips: one undo step, taken so that the numbers stay right.
        w.update(Message::Timeline(TimelineMessage::SelectClip(Some((0, 0)))));
        w.update(Message::Timeline(TimelineMessage::ToggleClip((0, 1))));
        let dx = |n| ClipRef {
            track: "dx".into(),
            number: n,
        };
        let by = |n, d: &str| Command::Move {
            clip: dx(n),
            to: None,
            by: Some(d.into()),
            track: None,
        };
        assert_eq!(
            w.update(Message::Timeline(TimelineMessage::Nudge(0.5))),
            vec![Effect::Edit(EditRequest::Commands(vec![
                by(2, "0.5"),
                by(1, "0.5")
            ]))]
        );
        assert_eq!(
            w.update(Message::Timeline(TimelineMessage::Nudge(-0.5))),
            vec![Effect::Edit(EditRequest::Commands(vec![
                by(1, "-0.5"),
                by(2, "-0.5")
            ]))]
        );
        // Split only splits the selected clips under the playhead (5.5 s: clip 2).
        w.position = 5.5;
        assert_eq!(
            w.update(Message::Timeline(TimelineMessage::SplitAtPlayhead)),
            edit(Command::Split {
                clip: dx(2),
                at: "5.5".into()
            })
        );
        w.update(Message::Timeline(TimelineMessage::ToggleClip((0, 1))));
        assert_eq!(w.timeline.selected, vec![(0, 0)]);
        w.update(Message::Timeline(TimelineMessage::SelectClips(vec![
            (0, 0),
            (0, 1),
        ])));
        assert_eq!(
            w.update(Message::Timeline(TimelineMessage::DeleteClip)),
            vec![Effect::Edit(EditRequest::Commands(vec![
                Command::Delete(dx(2)),
                Command::Delete(dx(1))
            ]))]
        );
        // Strip edits.
        match w
            .update(Message::Console(ConsoleMessage::AddInsert(
                StripRef::Track(0),
                "eq".into(),
            )))
            .as_slice()
        {
            [Effect::Edit(EditRequest::Command(Command::Insert {
                target,
                kind,
                params,
            }))] => {
                assert_eq!((target.as_str(), kind.as_str()), ("dx", "eq"));
                assert!(params[0].1.contains("bell"), "an EQ starts with a band");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::RemoveSend(
                0,
                "hall".into()
            ))),
            edit(Command::RemoveSend {
                from: "dx".into(),
                bus: "hall".into()
            })
        );
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::RemoveInsert(
                StripRef::Track(0),
                1
            ))),
            edit(Command::RemoveInsert {
                target: "dx".into(),
                number: 2
            })
        );
        // The loop: I and O at the playhead, L on; a playing engine restarts with it.
        w.position = 2.0;
        w.update(Message::Timeline(TimelineMessage::LoopIn));
        w.position = 4.0;
        assert!(
            w.update(Message::Timeline(TimelineMessage::LoopOut))
                .is_empty(),
            "stopped: nothing to restart"
        );
        assert_eq!(w.loop_range(), None, "not looping yet");
        w.update(Message::Timeline(TimelineMessage::ToggleLoop));
        assert_eq!(w.loop_range(), Some((2.0, 4.0)));
        w.update(Message::Play);
        assert_eq!(
            w.update(Message::Timeline(TimelineMessage::ToggleLoop)),
            vec![Effect::StopEngine, Effect::StartEngine(4.0)]
        );
        w.update(Message::Stop);
        // Playback stops at the session's end and the level meters drop.
        w.update(Message::Play);
        let e = w.update(Message::Frames(vec![MeterFrame::silent(10.2, 2)]));
        assert_eq!(e, vec![Effect::StopEngine]);
        assert!(!w.playing);
        assert_eq!(w.position, 10.0);
    }

    #[test]
    fn the_cleanup_view_opens_only_for_cleaned_tracks_and_auditions_the_removed_signal() {
        let mut w = opened();
        assert_eq!(
            w.update(Message::ShowCleanup(0)),
            vec![Effect::AnalyseCleanup(0)]
        );
        w.session.as_mut().unwrap().strips[1].inserts.clear();
        assert!(
            w.update(Message::ShowCleanup(1)).is_empty(),
            "no clean insert"
        );
        assert!(
            w.update(Message::HearRemoved).is_empty(),
            "nothing analysed yet"
        );
        let removed = std::sync::Arc::new(vec![0.1f32; 4]);
        let blank = iced::widget::image::Handle::from_rgba(1, 1, vec![0u8; 4]);
        w.update(Message::CleanupReady(Ok(CleanupView {
            track: 0,
            name: "dx".into(),
            seconds: 1.0,
            before: blank.clone(),
            after: blank.clone(),
            mask: blank,
            removed_db: -20.0,
            removed: removed.clone(),
            rate: 48_000,
            hum_hz: Some(50.0),
        })));
        w.update(Message::Play);
        let e = w.update(Message::HearRemoved);
        assert_eq!(
            e,
            vec![Effect::StopEngine, Effect::Audition(removed, 48_000)]
        );
        assert!(w.auditioning && !w.playing);
        assert_eq!(w.update(Message::CloseCleanup), vec![Effect::StopAudition]);
        assert!(w.cleanup.is_none() && !w.auditioning);
    }

    #[test]
    fn the_spectrogram_panel_switches_sources_and_zooms() {
        let mut w = opened();
        assert_eq!(
            w.update(Message::Spectrum(SpectrumMessage::Choose(
                SpectrumChoice::Stem(0)
            ))),
            vec![Effect::EngineSpectrum(Some(0))]
        );
        assert!(
            w.update(Message::Spectrum(SpectrumMessage::Choose(
                SpectrumChoice::Stem(5)
            )))
            .is_empty(),
            "no such stem"
        );
        assert_eq!(w.spectrum.choice, SpectrumChoice::Stem(0));
        assert_eq!(
            w.update(Message::Spectrum(SpectrumMessage::Choose(
                SpectrumChoice::File(1)
            ))),
            vec![Effect::AnalyseFile(1)]
        );
        w.update(Message::Spectrum(SpectrumMessage::FileReady(Ok(
            FileSpectrogram {
                track: 1,
                name: "dx".into(),
                rate: 48_000,
                fft: 2048,
                frames: 2,
                bins: 3,
                seconds: 1.0,
                db: std::sync::Arc::new(vec![0.0; 6]),
            },
        ))));
        assert!(
            w.update(Message::Spectrum(SpectrumMessage::Choose(
                SpectrumChoice::File(1)
            )))
            .is_empty(),
            "cached"
        );
        w.update(Message::Spectrum(SpectrumMessage::ToggleFrequencyScale));
        assert!(w.spectrum.linear);
        w.update(Message::Spectrum(SpectrumMessage::Zoom(200.0)));
        w.update(Message::Spectrum(SpectrumMessage::Scroll(-1.0)));
        assert_eq!((w.spectrum.zoom, w.spectrum.scroll), (64.0, 0.0));
        w.update(Message::Spectrum(SpectrumMessage::FileReady(Err(
            "x.wav: unreadable".into(),
        ))));
        assert_eq!(w.spectrum.choice, SpectrumChoice::Monitor);
        assert!(w.error.is_some());
        assert_eq!(
            w.update(Message::Spectrum(SpectrumMessage::Choose(
                SpectrumChoice::Monitor
            ))),
            vec![Effect::EngineSpectrum(None)]
        );
    }

    #[test]
    fn send_levels_and_insert_parameters_are_edited_live_and_saved() {
        let mut w = opened();
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::SendLevel(0, 0, -6.0))),
            vec![Effect::Autosave("a.toml.autosave".into())]
        );
        assert_eq!(w.session.as_ref().unwrap().strips[0].sends[0].1, -6.0);
        assert!(
            w.update(Message::Console(ConsoleMessage::SendLevel(0, 3, -6.0)))
                .is_empty(),
            "no such send"
        );
        w.update(Message::Play);
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::SendLevel(0, 0, -3.0)))[1],
            Effect::SendLevel(0, 0, -3.0)
        );
        w.update(Message::Console(ConsoleMessage::EditInsert(Some((0, 1)))));
        assert_eq!(w.console.editing, Some((0, 1)));
        w.update(Message::Console(ConsoleMessage::EditInsert(Some((0, 9)))));
        assert_eq!(
            w.console.editing,
            Some((0, 1)),
            "an invalid target is ignored"
        );
        let e = w.update(Message::Console(ConsoleMessage::InsertParam(
            0,
            1,
            "ratio".into(),
            50.0,
        )));
        assert_eq!(
            e[1],
            Effect::InsertParam(0, 1, ratio_id(), 20.0),
            "clamped to its range"
        );
        assert!(
            w.update(Message::Console(ConsoleMessage::InsertParam(
                0,
                0,
                "ratio".into(),
                3.0
            )))
            .is_empty(),
            "clean has none"
        );
        assert!(w.dirty);
    }

    #[test]
    fn bus_strips_edit_gain_and_insert_parameters_live() {
        let mut w = opened();
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::BusFader(0, -3.0))),
            vec![Effect::Autosave("a.toml.autosave".into())]
        );
        assert!(
            w.update(Message::Console(ConsoleMessage::BusFader(4, -3.0)))
                .is_empty(),
            "no such bus"
        );
        w.update(Message::Play);
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::BusFader(0, 30.0)))[1],
            Effect::BusGain(0, 12.0)
        );
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::BusMute(0)))[1],
            Effect::BusMute(0, true)
        );
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::BusMute(0)))[1],
            Effect::BusMute(0, false)
        );
        w.update(Message::Console(ConsoleMessage::EditInsert(Some((0, 1)))));
        w.update(Message::Console(ConsoleMessage::EditBusInsert(Some((
            0, 0,
        )))));
        assert_eq!(
            (w.console.editing, w.console.editing_bus),
            (None, Some((0, 0))),
            "one editor at a time"
        );
        let e = w.update(Message::Console(ConsoleMessage::BusInsertParam(
            0,
            0,
            "wet".into(),
            0.5,
        )));
        assert_eq!(e[1], Effect::BusInsertParam(0, 0, wet_id(), 0.5));
        assert_eq!(
            w.session.as_ref().unwrap().bus_strips[0].insert_params[0][0].value,
            0.5
        );
        assert!(w
            .update(Message::Console(ConsoleMessage::BusInsertParam(
                0,
                0,
                "dry".into(),
                0.5
            )))
            .is_empty());
    }

    #[test]
    fn bypass_solo_and_reordering_reach_the_engine_and_the_edit_language() {
        let mut w = opened();
        w.playing = true;
        // Bypass: live to a playing engine, kept in the strip for the next save.
        let e = w.update(Message::Console(ConsoleMessage::Bypass(
            StripRef::Track(1),
            1,
        )));
        assert!(
            e.contains(&Effect::Bypass(StripRef::Track(1), 1, true)),
            "{e:?}"
        );
        assert_eq!(w.session.as_ref().unwrap().strips[1].bypass, [false, true]);
        let e = w.update(Message::Console(ConsoleMessage::Bypass(
            StripRef::Bus(0),
            0,
        )));
        assert!(
            e.contains(&Effect::Bypass(StripRef::Bus(0), 0, true)),
            "{e:?}"
        );
        assert!(w
            .update(Message::Console(ConsoleMessage::Bypass(
                StripRef::Bus(0),
                3
            )))
            .is_empty());
        let e = w.update(Message::Console(ConsoleMessage::BusSolo(0)));
        assert!(e.contains(&Effect::BusSolo(0, true)), "{e:?}");
        assert!(w.session.as_ref().unwrap().bus_strips[0].solo);
        // Structure goes through the edit language.
        let edit = |c: Command| vec![Effect::Edit(EditRequest::Command(c))];
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::InsertUp(
                StripRef::Track(0),
                1
            ))),
            edit(Command::MoveInsert {
                target: "dx".into(),
                from: 2,
                to: 1
            })
        );
        assert!(w
            .update(Message::Console(ConsoleMessage::InsertUp(
                StripRef::Track(0),
                0
            )))
            .is_empty());
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::MoveStrip(
                StripRef::Track(0),
                1
            ))),
            edit(Command::Reorder {
                kind: "track",
                name: "dx".into(),
                to: 2
            })
        );
        assert!(w
            .update(Message::Console(ConsoleMessage::MoveStrip(
                StripRef::Track(0),
                -1
            )))
            .is_empty());
        assert!(w
            .update(Message::Console(ConsoleMessage::MoveStrip(
                StripRef::Bus(0),
                1
            )))
            .is_empty());
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::AddInsert(
                StripRef::Bus(0),
                "limiter".into()
            ))),
            edit(Command::Insert {
                target: "hall".into(),
                kind: "limiter".into(),
                params: vec![]
            })
        );
    }

    #[test]
    fn a_selection_moves_together_lanes_resize_by_name_and_markers_are_jumped_to() {
        use super::super::timeline::{Gesture, Grip, LANE, LANE_MAX};
        let mut w = opened();
        w.update(Message::Timeline(TimelineMessage::SelectClip(Some((0, 0)))));
        w.update(Message::Timeline(TimelineMessage::ToggleClip((0, 1))));
        // Clip 1 (at 1 s) dragged to 1.5 s: both selected clips move by +0.5 s, the later
        // first (so the numbers hold), as one step.
        let e = w.update(Message::Timeline(TimelineMessage::ClipGesture(Gesture {
            track: 0,
            clip: 0,
            grip: Grip::Move,
            seconds: 1.5,
            to_track: 0,
        })));
        let by = |n| Command::Move {
            clip: ClipRef {
                track: "dx".into(),
                number: n,
            },
            to: None,
            by: Some("0.5".into()),
            track: None,
        };
        assert_eq!(
            e,
            vec![Effect::Edit(EditRequest::Commands(vec![by(2), by(1)]))]
        );
        // Lane heights follow the track's name and stay in range.
        assert_eq!(w.timeline.lane_heights, [LANE, LANE]);
        w.session.as_mut().unwrap().strips[1].name = "fx".into();
        w.update(Message::Timeline(TimelineMessage::LaneHeight(1, 1000.0)));
        assert_eq!(w.timeline.lane_heights, [LANE, LANE_MAX]);
        w.timeline.selected.clear();
        w.update(Message::Timeline(TimelineMessage::LaneHeights(2.0)));
        assert_eq!(w.timeline.lane_heights, [2.0 * LANE, LANE_MAX]);
        // The lanes scroll no further than the last lane.
        w.update(Message::Timeline(TimelineMessage::LaneScroll(1e6)));
        assert_eq!(w.timeline.lane_scroll, 2.0 * LANE);
        w.update(Message::Timeline(TimelineMessage::LaneScroll(-1e6)));
        assert_eq!(w.timeline.lane_scroll, 0.0);
        // Markers at 2 s and 6 s (set here): jump forwards and back.
        w.session.as_mut().unwrap().markers = vec![("a".into(), 2.0), ("b".into(), 6.0)];
        w.position = 3.0;
        w.update(Message::Timeline(TimelineMessage::JumpMarker(1)));
        assert_eq!(w.position, 6.0);
        w.update(Message::Timeline(TimelineMessage::JumpMarker(1)));
        assert_eq!(w.position, 6.0, "no marker after the last");
        w.update(Message::Timeline(TimelineMessage::JumpMarker(-1)));
        assert_eq!(w.position, 2.0);
        // A marker picked on the ruler: the playhead goes there; it is renamed or removed.
        w.update(Message::Timeline(TimelineMessage::PickMarker(Some(1))));
        assert_eq!(w.position, 6.0);
        w.update(Message::Timeline(TimelineMessage::MarkerName(
            " Scene 2 ".into(),
        )));
        assert_eq!(
            w.update(Message::Timeline(TimelineMessage::RenameMarker)),
            vec![Effect::Edit(EditRequest::Command(Command::Set {
                path: "marker.b.name".into(),
                value: "Scene 2".into()
            }))]
        );
        assert!(w.timeline.marker.is_none());
        w.update(Message::Timeline(TimelineMessage::PickMarker(Some(0))));
        assert_eq!(
            w.update(Message::Timeline(TimelineMessage::RemoveMarker)),
            vec![Effect::Edit(EditRequest::Command(Command::RemoveMarker(
                "a".into()
            )))]
        );
        assert!(w
            .update(Message::Timeline(TimelineMessage::PickMarker(Some(9))))
            .is_empty());
    }

    #[test]
    fn the_import_dialog_imports_the_chosen_file_at_the_playhead() {
        use super::super::browser::BrowserMessage;
        let mut w = opened();
        w.position = 2.5;
        w.update(Message::ToggleBrowser);
        assert!(w.browser.is_some());
        let file = PathBuf::from("/takes/boom.wav");
        w.update(Message::Browser(BrowserMessage::Choose(file.clone())));
        assert_eq!(
            w.update(Message::Browser(BrowserMessage::Import)),
            vec![Effect::Edit(EditRequest::Import { file, at: 2.5 })]
        );
        assert!(w.browser.is_none(), "closed after the import");
        w.update(Message::ToggleBrowser);
        w.update(Message::Browser(BrowserMessage::Close));
        assert!(w.browser.is_none());
        // A reverb from the strip's list: the dialog chooses its impulse response.
        let add = ConsoleMessage::AddInsert(StripRef::Bus(0), "reverb…".into());
        assert!(w.update(Message::Console(add)).is_empty());
        let (b, _) = w.browser.as_ref().expect("the dialog opens");
        assert!(b.title.contains("'hall'"), "{}", b.title);
        let ir = PathBuf::from("/irs/plate.wav");
        w.update(Message::Browser(BrowserMessage::Choose(ir.clone())));
        assert_eq!(
            w.update(Message::Browser(BrowserMessage::Import)),
            vec![Effect::Edit(EditRequest::Command(Command::Insert {
                target: "hall".into(),
                kind: "reverb".into(),
                params: vec![("ir".into(), "/irs/plate.wav".into())]
            }))]
        );
        assert!(w.browser.is_none());
    }

    #[test]
    fn a_strip_is_renamed_routed_restemmed_removed_and_new_ones_added_by_command() {
        let mut w = opened();
        let edit = |c: Command| vec![Effect::Edit(EditRequest::Command(c))];
        w.update(Message::Console(ConsoleMessage::StripMenu(
            StripRef::Track(0),
        )));
        assert_eq!(
            w.console.strip_menu,
            Some((StripRef::Track(0), "dx".into()))
        );
        w.update(Message::Console(ConsoleMessage::RenameDraft(
            " dialogue ".into(),
        )));
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::CommitRename)),
            edit(Command::RenameTrack {
                old: "dx".into(),
                new: "dialogue".into()
            })
        );
        assert!(w.console.strip_menu.is_none());
        // The same name, or none, renames nothing; a second click closes the menu.
        w.update(Message::Console(ConsoleMessage::StripMenu(StripRef::Bus(
            0,
        ))));
        assert!(w
            .update(Message::Console(ConsoleMessage::CommitRename))
            .is_empty());
        w.update(Message::Console(ConsoleMessage::StripMenu(StripRef::Bus(
            0,
        ))));
        w.update(Message::Console(ConsoleMessage::StripMenu(StripRef::Bus(
            0,
        ))));
        assert!(w.console.strip_menu.is_none());
        w.update(Message::Console(ConsoleMessage::StripMenu(StripRef::Bus(
            0,
        ))));
        w.update(Message::Console(ConsoleMessage::RenameDraft(
            "stage".into(),
        )));
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::CommitRename)),
            edit(Command::RenameBus {
                old: "hall".into(),
                new: "stage".into()
            })
        );
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::SetStem(0, "DX".into()))),
            edit(Command::Set {
                path: "track.dx.stem".into(),
                value: "DX".into()
            })
        );
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::SetOutput(
                0,
                Some("hall".into())
            ))),
            edit(Command::Route {
                track: "dx".into(),
                bus: Some("hall".into())
            })
        );
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::RemoveStrip(
                StripRef::Bus(0)
            ))),
            edit(Command::RemoveBus("hall".into()))
        );
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::AddTrack)),
            edit(Command::AddTrack {
                name: "track 1".into(),
                stem: None
            })
        );
        assert_eq!(
            w.update(Message::Console(ConsoleMessage::AddBus)),
            edit(Command::AddBus("bus 1".into()))
        );
    }

    #[test]
    fn a_send_is_muted_live_and_saved() {
        let mut w = opened();
        w.playing = true;
        let e = w.update(Message::Console(ConsoleMessage::SendMute(0, 0)));
        assert!(e.contains(&Effect::SendMute(0, 0, true)), "{e:?}");
        assert!(!e.iter().any(|e| matches!(e, Effect::Console(..))));
        assert_eq!(w.session.as_ref().unwrap().strips[0].send_mute, [true]);
        assert!(w
            .update(Message::Console(ConsoleMessage::SendMute(0, 5)))
            .is_empty());
    }

    #[test]
    fn nothing_open_means_nothing_happens() {
        let mut w = Workstation::default();
        for m in [
            Message::Play,
            Message::Save,
            Message::Console(ConsoleMessage::Fader(0, -3.0)),
            Message::Locate(1.0),
            Message::Tick,
        ] {
            assert!(w.update(m).is_empty());
        }
        assert!(!w.dirty);
    }
}
