//! The workstation window (iced, the Elm architecture): [`state`] holds the model and the
//! update logic (unit-tested without a window), [`view`] draws it, [`live`] is the engine
//! thread that plays the session and measures it, [`document`] is the open session file.
//! This module is the shell that connects them: it runs the effects the update asks for.

mod arrange;
mod auto_lanes;
mod browser;
mod cleanup;
mod console;
mod control;
mod document;
mod eq_curve;
mod export;
mod frames;
mod job;
mod live;
mod live_masking;
mod live_meters;
pub mod meters;
mod params;
mod scopes;
mod shortcuts;
mod spectra;
pub mod state;
mod strips;
mod style;
mod timeline;
mod view;

use document::Document;
use iced::{keyboard, window, Subscription, Task, Theme};
use live::Audition;
pub use live::{LiveEngine, LivePlay};
use state::{Effect, Message, Workstation};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How the window starts.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The session to open; `None` opens the last one, or the demo.
    pub session: Option<PathBuf>,
    /// Play from the start, save a screenshot of the window here after `after` seconds,
    /// and exit (for `make screenshot` and the window test).
    pub screenshot: Option<PathBuf>,
    pub after: f64,
    /// Pan and zoom the timeline for this many frames once the session is drawn, report
    /// the frame times, and exit.
    pub measure_frames: Option<usize>,
    /// Where the spectrograms are computed (`auto`: a real GPU if there is one).
    pub engine: gpu_dsp::EngineChoice,
}

/// Opens the window and runs until it is closed.
pub fn run(options: Options) -> anyhow::Result<()> {
    // winit panics without a display; say so instead.
    if cfg!(target_os = "linux") && std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty()) {
        anyhow::bail!(
            "the window could not run: no X11 display (DISPLAY is not set); run it on a desktop or under xvfb-run"
        );
    }
    let gpu = crate::options::resolve_engine_choice(options.engine)?.gpu();
    let session = match options.session.clone() {
        Some(p) => p,
        None => last_or_demo()?,
    };
    iced::application(
        move || App::boot(session.clone(), options.clone(), gpu.clone()),
        App::update,
        App::view,
    )
    .title(App::title)
    .subscription(App::subscription)
    .theme(|_: &App| Theme::Dark)
    .window_size((1500.0, 1000.0))
    // A close is ours to carry out: a pass being written and a pending autosave are kept.
    .exit_on_close_request(false)
    .run()
    .map_err(|e| anyhow::anyhow!("the window could not run: {e}"))
}

/// Where the last opened session is remembered.
fn last_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("mixstation").join("last-session"))
}

/// The last session opened, if it still exists; else the demo session (generated once).
fn last_or_demo() -> anyhow::Result<PathBuf> {
    if let Some(p) = last_file()
        .and_then(|f| std::fs::read_to_string(f).ok())
        .map(|s| PathBuf::from(s.trim()))
        .filter(|p| p.is_file())
    {
        return Ok(p);
    }
    let dir = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("mixstation")
        .join("demo");
    let session = dir.join("demo.toml");
    if session.is_file() {
        return Ok(session);
    }
    crate::demo::write_demo(&dir, 12.0)
}

fn remember(path: &Path) {
    if let (Some(file), Ok(abs)) = (last_file(), std::fs::canonicalize(path)) {
        if let Some(dir) = file.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(file, abs.display().to_string());
    }
}

/// The window's messages. A `Ui` message carries a loaded session's view by value; it is
/// made once per user action, so its size does not matter (boxing it would only add an
/// allocation).
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
enum AppMessage {
    Ui(Message),
    Key(keyboard::Event),
    Shot(window::Screenshot),
    /// A frame was drawn (`--measure-frames`).
    Frame(Instant),
    /// The window's close button (or the window manager) asks it to close.
    Close,
}

struct App {
    ws: Workstation,
    doc: Option<Document>,
    engine: Option<LiveEngine>,
    gpu: Option<std::sync::Arc<gpu_dsp::gpu::GpuContext>>,
    audition: Option<Audition>,
    note: Option<String>,
    shot: Option<(PathBuf, f64)>,
    played_since: Option<Instant>,
    shot_taken: bool,
    /// `--measure-frames`: the frames drawn so far.
    probe: Option<frames::FrameProbe>,
    shot_requested: Option<Instant>,
    autosave_due: Option<PathBuf>,
    last_autosave: Option<Instant>,
    export_job: Option<ExportJob>,
    /// A session being opened in the background.
    load_job: Option<(PathBuf, job::Job<Opened>)>,
    /// An edited session being rebuilt in the background (an import may decode a file).
    edit_job: Option<job::Job<document::Built>>,
    /// When the session being opened was asked for (reported in screenshot runs).
    load_started: Option<Instant>,
    /// The sources' peak overviews being computed in the background.
    peaks_job: Option<job::Job<Vec<SourcePeaks>>>,
    /// Waveform peaks by source (file, or `file#N` for one channel), kept across edits so an
    /// edit reads only the files it adds.
    peaks_cache: std::collections::HashMap<PathBuf, std::sync::Arc<Vec<f32>>>,
    /// A whole-file spectrogram being computed in the background.
    spectrogram_job: Option<job::Job<Result<state::FileSpectrogram, String>>>,
}

/// A source's key and its waveform peaks.
type SourcePeaks = (PathBuf, Vec<f32>);

/// A session opened in the background.
type Opened = anyhow::Result<(Document, state::SessionView)>;

/// A render running in the background for the export panel.
struct ExportJob {
    progress: std::sync::Arc<crate::render::RenderProgress>,
    result: std::sync::Arc<std::sync::Mutex<Option<Result<String, String>>>>,
}

impl App {
    fn boot(
        session: PathBuf,
        options: Options,
        gpu: Option<std::sync::Arc<gpu_dsp::gpu::GpuContext>>,
    ) -> (Self, Task<AppMessage>) {
        let app = Self {
            ws: Workstation::default(),
            doc: None,
            engine: None,
            gpu,
            audition: None,
            note: None,
            shot: options.screenshot.map(|p| (p, options.after)),
            played_since: None,
            shot_taken: false,
            probe: options.measure_frames.map(frames::FrameProbe::new),
            shot_requested: None,
            autosave_due: None,
            last_autosave: None,
            export_job: None,
            load_job: None,
            edit_job: None,
            load_started: None,
            peaks_job: None,
            peaks_cache: Default::default(),
            spectrogram_job: None,
        };
        (app, Task::done(AppMessage::Ui(Message::Open(session))))
    }

    fn title(&self) -> String {
        match &self.ws.session {
            Some(s) => format!(
                "mixstation — {}{}",
                s.path.display(),
                if self.ws.dirty { " •" } else { "" }
            ),
            None => "mixstation".into(),
        }
    }

    fn subscription(&self) -> Subscription<AppMessage> {
        // The timer runs only while something moves (playback, an audition, a pending
        // autosave, a screenshot run): an idle window does not redraw.
        let busy = self.ws.playing
            || self.audition.is_some()
            || self.autosave_due.is_some()
            || self.export_job.is_some()
            || self.load_job.is_some()
            || self.edit_job.is_some()
            || self.peaks_job.is_some()
            || self.spectrogram_job.is_some()
            || self.shot.is_some()
            || self.probe.is_some();
        let timer = if busy {
            iced::time::every(Duration::from_millis(40)).map(|_| AppMessage::Ui(Message::Tick))
        } else {
            Subscription::none()
        };
        // Measuring frames: every drawn frame, once the waveforms are in.
        let ready = self.ws.session.as_ref().is_some_and(|s| s.peaks.is_some());
        let frames = if self.probe.is_some() && ready {
            window::frames().map(AppMessage::Frame)
        } else {
            Subscription::none()
        };
        Subscription::batch([
            timer,
            frames,
            keyboard::listen().map(AppMessage::Key),
            iced::event::listen_with(|event, _, _| match event {
                iced::Event::Window(window::Event::FileDropped(path)) => {
                    Some(AppMessage::Ui(Message::FileDropped(path)))
                }
                iced::Event::Window(window::Event::CloseRequested) => Some(AppMessage::Close),
                _ => None,
            }),
        ])
    }

    fn view(&self) -> iced::Element<'_, AppMessage> {
        view::view(&self.ws, self.note.as_deref()).map(AppMessage::Ui)
    }

    fn update(&mut self, message: AppMessage) -> Task<AppMessage> {
        match message {
            AppMessage::Frame(at) => {
                let (Some(probe), Some(session)) = (&mut self.probe, &self.ws.session) else {
                    return Task::none();
                };
                probe.times.push(at);
                if probe.done() {
                    say!("timeline frames: {}", probe.report());
                    return iced::exit();
                }
                let k = probe.times.len();
                let view = frames::FrameProbe::view_at(
                    k,
                    self.ws.timeline.view,
                    session.length_s,
                    session.rate,
                );
                self.ws
                    .update(Message::Timeline(arrange::TimelineMessage::View(view)));
                Task::none()
            }
            AppMessage::Ui(m) => {
                let tick = matches!(m, Message::Tick);
                let effects = self.ws.update(m);
                self.run_effects(effects);
                if tick {
                    self.on_tick();
                    return self.maybe_screenshot();
                }
                Task::none()
            }
            AppMessage::Key(keyboard::Event::KeyPressed {
                key: keyboard::Key::Named(keyboard::key::Named::Space),
                ..
            }) => {
                let effects = self.ws.update(Message::TogglePlay);
                self.run_effects(effects);
                Task::none()
            }
            AppMessage::Key(keyboard::Event::KeyPressed { key, modifiers, .. })
                if !modifiers.command() =>
            {
                if let Some(m) = shortcuts::plain(key.as_ref(), modifiers) {
                    let effects = self.ws.update(m);
                    self.run_effects(effects);
                }
                Task::none()
            }
            AppMessage::Key(keyboard::Event::KeyPressed { key, modifiers, .. })
                if modifiers.command() =>
            {
                let message = match key.as_ref() {
                    keyboard::Key::Named(keyboard::key::Named::ArrowUp) => Some(Message::Timeline(
                        arrange::TimelineMessage::ClipGainStep(1.0),
                    )),
                    keyboard::Key::Named(keyboard::key::Named::ArrowDown) => Some(
                        Message::Timeline(arrange::TimelineMessage::ClipGainStep(-1.0)),
                    ),
                    keyboard::Key::Character(c) => match c.to_lowercase().as_str() {
                        "s" => Some(Message::Save),
                        "z" if modifiers.shift() => Some(Message::Redo),
                        "z" => Some(Message::Undo),
                        "y" => Some(Message::Redo),
                        "d" => Some(Message::Timeline(arrange::TimelineMessage::DuplicateClip)),
                        "e" => {
                            let effects = self.ws.update(Message::ToggleExport);
                            self.run_effects(effects);
                            return iced::widget::operation::focus(export::OUTPUT_FIELD);
                        }
                        "i" if modifiers.shift() => {
                            let effects = self.ws.update(Message::ToggleBrowser);
                            self.run_effects(effects);
                            return iced::widget::operation::focus(browser::PATH_FIELD);
                        }
                        "i" => return iced::widget::operation::focus(view::IMPORT_FIELD),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(m) = message {
                    let effects = self.ws.update(m);
                    self.run_effects(effects);
                }
                Task::none()
            }
            AppMessage::Key(_) => Task::none(),
            AppMessage::Close => self.close(),
            AppMessage::Shot(shot) => {
                if let Some((path, _)) = &self.shot {
                    match save_png(path, &shot) {
                        Ok(()) => say!("screenshot: {}", path.display()),
                        Err(e) => eprintln!("error: {e}"),
                    }
                }
                self.engine = None;
                iced::exit()
            }
        }
    }

    /// Timer chores: the debounced autosave, and noticing the end of an audition.
    /// Installs a finished background edit (its view, or its error).
    fn install_edit(&mut self, built: Option<document::Built>) {
        let Some(doc) = &mut self.doc else {
            return;
        };
        let built = built.unwrap_or_else(|| Err(anyhow::anyhow!("the edit stopped unexpectedly")));
        let result = doc.finish_edit(built).map_err(|e| chain(&e));
        let effects = self.ws.update(Message::Edited(result));
        self.run_effects(effects);
    }

    /// Waits for a background edit to finish (before anything that needs the rebuilt mix).
    fn finish_edit_job(&mut self) {
        if let Some(job) = self.edit_job.take() {
            let built = job.wait();
            self.install_edit(built);
        }
    }

    fn on_tick(&mut self) {
        if let Some(built) = self.edit_job.as_ref().and_then(job::Job::take) {
            self.edit_job = None;
            self.install_edit(Some(built));
        }
        if let Some(result) = self.load_job.as_ref().and_then(|(_, j)| j.take()) {
            let (path, _) = self.load_job.take().expect("checked");
            if let (Some(t), Some(_)) = (self.load_started.take(), &self.shot) {
                say!("opened in {:.2} s", t.elapsed().as_secs_f64());
            }
            let message = match result {
                Ok((doc, view)) => Message::Loaded(Ok(self.opened(&path, doc, view))),
                Err(e) => Message::Loaded(Err(chain(&e))),
            };
            let effects = self.ws.update(message);
            self.run_effects(effects);
        }
        if let Some(peaks) = self.peaks_job.as_ref().and_then(job::Job::take) {
            self.peaks_job = None;
            for (key, p) in peaks {
                self.peaks_cache.insert(key, std::sync::Arc::new(p));
            }
            self.run_effects(vec![Effect::ComputePeaks]);
        }
        if let Some(result) = self.spectrogram_job.as_ref().and_then(job::Job::take) {
            self.spectrogram_job = None;
            let effects = self
                .ws
                .update(Message::Spectrum(spectra::SpectrumMessage::FileReady(
                    result,
                )));
            self.run_effects(effects);
        }
        if let Some(job) = &self.export_job {
            let done = job.result.lock().ok().and_then(|mut r| r.take());
            let permille = job
                .progress
                .permille
                .load(std::sync::atomic::Ordering::Relaxed);
            let message = match done {
                Some(result) => {
                    self.export_job = None;
                    export::ExportMessage::Done(result)
                }
                None => export::ExportMessage::Progress(permille),
            };
            let effects = self.ws.update(Message::Export(message));
            self.run_effects(effects);
        }
        let ready = self
            .last_autosave
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if ready {
            if let Some(path) = self.autosave_due.take() {
                if let Err(e) = self.save(&path) {
                    self.note = Some(format!("autosave failed: {e}"));
                }
                self.last_autosave = Some(Instant::now());
            }
        }
        if self.audition.as_ref().is_some_and(Audition::finished) {
            self.audition = None;
            let effects = self.ws.update(Message::StopAudition);
            self.run_effects(effects);
        }
    }

    /// In screenshot mode: play as soon as the session is open, shoot after the delay.
    fn maybe_screenshot(&mut self) -> Task<AppMessage> {
        let Some(after) = self.shot.as_ref().map(|s| s.1) else {
            return Task::none();
        };
        if self.ws.session.is_some() && !self.ws.playing && self.played_since.is_none() {
            // Show the cleanup view of the first cleaned track too, so the picture has it.
            let cleaned = self.ws.session.as_ref().and_then(|s| {
                s.strips
                    .iter()
                    .position(|t| t.inserts.iter().any(|n| n == "clean"))
            });
            if let Some(i) = cleaned {
                let effects = self.ws.update(Message::ShowCleanup(i));
                self.run_effects(effects);
                // And the editor of its compressor, if it has one.
                let compressor = self
                    .ws
                    .session
                    .as_ref()
                    .and_then(|s| s.strips[i].inserts.iter().position(|n| n == "compressor"));
                if let Some(k) = compressor {
                    self.ws
                        .update(Message::Console(console::ConsoleMessage::EditInsert(Some(
                            (i, k),
                        ))));
                }
            }
            let effects = self.ws.update(Message::Play);
            self.run_effects(effects);
            self.played_since = Some(Instant::now());
        }
        let due = self
            .played_since
            .is_some_and(|t| t.elapsed().as_secs_f64() >= after);
        // Stop first and let a few frames draw, so every label holds still for the picture.
        if due && self.ws.playing {
            let effects = self.ws.update(Message::Stop);
            self.run_effects(effects);
        }
        let settled = self
            .played_since
            .is_some_and(|t| t.elapsed().as_secs_f64() >= after + 0.3);
        // If no picture ever comes back (no window), give up rather than hang.
        if self
            .shot_requested
            .is_some_and(|t| t.elapsed() > Duration::from_secs(10))
        {
            eprintln!("error: the window could not be captured");
            return iced::exit();
        }
        if (settled || (self.ws.error.is_some() && self.ws.session.is_none())) && !self.shot_taken {
            self.shot_taken = true;
            self.shot_requested = Some(Instant::now());
            let m = &self.ws.meters;
            say!(
                "meters: {} frames, integrated {}, momentary {}, spectrogram rows {}, goniometer points {}",
                m.frames,
                m.latest.as_ref().and_then(|f| f.integrated).map_or("none".into(), |v| format!("{v:.1} LUFS")),
                m.latest.as_ref().and_then(|f| f.momentary).map_or("none".into(), |v| format!("{v:.1} LUFS")),
                m.spectrogram.len(),
                m.latest.as_ref().map_or(0, |f| f.goniometer.len()),
            );
            if let Some(s) = &self.ws.session {
                say!(
                    "timeline: {} tracks, {} clips, waveforms of {} sources",
                    s.strips.len(),
                    s.strips.iter().map(|t| t.clips.len()).sum::<usize>(),
                    s.peaks.as_ref().map_or(0, |p| p.len())
                );
            }
            if let Some(e) = &self.ws.error {
                say!("error shown in the window: {e}");
            }
            return window::latest()
                .and_then(window::screenshot)
                .map(AppMessage::Shot);
        }
        Task::none()
    }

    /// The window closes, keeping what is in flight: a pass being written is stopped and
    /// applied to the session (one edit), an edit being rebuilt finishes, and a pending
    /// autosave is written now (not on the next tick, which never comes).
    fn close(&mut self) -> Task<AppMessage> {
        if let Some(written) = self.end_engine() {
            let effects = self.ws.update(written);
            self.run_effects(effects);
        }
        self.finish_edit_job();
        if let Some(path) = self.autosave_due.take() {
            if let Err(e) = self.save(&path) {
                eprintln!("error: autosave failed: {e}");
            }
        }
        iced::exit()
    }

    /// Stops the engine; the automation its pass wrote comes back as one edit (one undo
    /// step) for the window to apply.
    fn end_engine(&mut self) -> Option<Message> {
        let commands = self.engine.take()?.finish();
        (!commands.is_empty()).then_some(Message::Written(commands))
    }

    /// Carries out what the update asked for; results come back as messages.
    fn run_effects(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            // What needs the rebuilt mix (or the saved text of it) waits for an edit that
            // is still being rebuilt.
            if matches!(
                effect,
                Effect::Save(_)
                    | Effect::StartExport(_)
                    | Effect::StartEngine(_)
                    | Effect::AnalyseCleanup(_)
                    | Effect::AnalyseFile(_)
                    | Effect::Load(_)
            ) {
                self.finish_edit_job();
            }
            let follow = match effect {
                Effect::Load(path) => {
                    let p = path.clone();
                    match job::Job::spawn("mixstation-open", move || Document::open(&p)) {
                        Ok(j) => {
                            self.load_job = Some((path, j));
                            self.load_started = Some(Instant::now());
                            None
                        }
                        Err(e) => Some(Message::Loaded(Err(e.to_string()))),
                    }
                }
                Effect::Save(path) => Some(Message::Saved(self.save(&path).map(|_| {
                    let _ = std::fs::remove_file(state::autosave_path(&path));
                    path.clone()
                }))),
                Effect::Autosave(path) => {
                    // Written on the next timer tick at most every second, not on every
                    // slider step.
                    self.autosave_due = Some(path);
                    None
                }
                Effect::Edit(request) => {
                    // One edit at a time, in order.
                    self.finish_edit_job();
                    match (&mut self.doc, &self.ws.session) {
                        (Some(doc), Some(view)) => {
                            let begun = doc
                                .apply(view)
                                .and_then(|()| doc.begin_edit(&edit_commands(doc, request)));
                            match begun {
                                // The rebuild (decoding, counting media) runs in the
                                // background; the window keeps drawing and playing.
                                Ok(rebuild) => match job::Job::spawn("edit", rebuild) {
                                    Ok(j) => {
                                        self.edit_job = Some(j);
                                        None
                                    }
                                    Err(_) => {
                                        Some(Message::Edited(doc.rebuild().map_err(|e| chain(&e))))
                                    }
                                },
                                Err(e) => Some(Message::Edited(Err(chain(&e)))),
                            }
                        }
                        _ => None,
                    }
                }
                Effect::StartExport(request) => match self.start_export(request) {
                    Ok(job) => {
                        self.export_job = Some(job);
                        None
                    }
                    Err(e) => Some(Message::Export(export::ExportMessage::Done(Err(chain(&e))))),
                },
                Effect::ComputePeaks => self.peaks_or_job(),
                Effect::CancelExport => {
                    if let Some(job) = &self.export_job {
                        job.progress
                            .cancel
                            .store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    None
                }
                // A pass being written armed on the mix as it was: an edit restarts playback
                // where it is (the pass ends and is kept) instead of swapping the mix.
                Effect::SwapEngine if self.engine.as_ref().is_some_and(LiveEngine::writes) => {
                    Some(Message::Locate(self.ws.position))
                }
                Effect::SwapEngine => match (&self.doc, &self.ws.session, &mut self.engine) {
                    (Some(doc), Some(view), Some(engine)) => {
                        let settings = Document::insert_settings(view);
                        let bus_settings = Document::bus_insert_settings(view);
                        match engine.swap(doc.spec.clone(), &settings, &bus_settings) {
                            Ok(()) => None,
                            // Restart at the playhead instead.
                            Err(_) => Some(Message::Locate(self.ws.position)),
                        }
                    }
                    _ => None,
                },
                Effect::StartEngine(from) => {
                    if let (Some(doc), Some(view)) = (&mut self.doc, &self.ws.session) {
                        if let Err(e) = doc.apply(view) {
                            self.note = Some(chain(&e));
                        }
                        let stem = match self.ws.spectrum.choice {
                            state::SpectrumChoice::Stem(s) => Some(s),
                            _ => None,
                        };
                        let settings = Document::insert_settings(view);
                        let bus_settings = Document::bus_insert_settings(view);
                        let play = LivePlay {
                            from,
                            gpu: self.gpu.clone(),
                            spectrum_stem: stem,
                            insert_settings: &settings,
                            bus_insert_settings: &bus_settings,
                            looped: self.ws.loop_range(),
                            modes: writing_modes(view, self.ws.loop_range().is_some()),
                            bus_modes: Vec::new(),
                            block_hook: |_| {},
                        };
                        match LiveEngine::start(doc.spec.clone(), play) {
                            Ok(engine) => {
                                self.note = engine.note.clone();
                                self.engine = Some(engine);
                                None
                            }
                            Err(e) => {
                                self.ws.error = Some(chain(&e));
                                Some(Message::Finished)
                            }
                        }
                    } else {
                        None
                    }
                }
                Effect::StopEngine => self.end_engine(),
                Effect::Console(i, g, p, m, s) => {
                    if let Some(e) = &mut self.engine {
                        e.console(i, g, p, m, s);
                    }
                    None
                }
                Effect::Ride(i, target, ride) => {
                    if let Some(e) = &mut self.engine {
                        e.ride(i, target, ride);
                    }
                    None
                }
                Effect::AnalyseCleanup(i) => Some(Message::CleanupReady(match &mut self.doc {
                    Some(doc) => {
                        if let Some(view) = &self.ws.session {
                            let _ = doc.apply(view);
                        }
                        cleanup::analyse(&doc.spec, i).map_err(|e| chain(&e))
                    }
                    None => Err("no session is open".into()),
                })),
                Effect::Audition(samples, rate) => {
                    self.audition = None;
                    match Audition::start(samples, rate) {
                        Ok(a) => {
                            self.audition = Some(a);
                            None
                        }
                        Err(e) => {
                            self.note = Some(format!("cannot play: {}", chain(&e)));
                            Some(Message::StopAudition)
                        }
                    }
                }
                Effect::StopAudition => {
                    self.audition = None;
                    None
                }
                Effect::SendLevel(i, k, db) => {
                    if let Some(e) = &mut self.engine {
                        e.send_level(i, k, db);
                    }
                    None
                }
                Effect::SendMute(i, k, m) => {
                    if let Some(e) = &mut self.engine {
                        e.send_mute(i, k, m);
                    }
                    None
                }
                Effect::InsertParam(i, k, name, v) => {
                    if let Some(e) = &mut self.engine {
                        e.insert_param(i, k, name, v);
                    }
                    None
                }
                Effect::BusGain(b, db) => {
                    if let Some(e) = &mut self.engine {
                        e.bus_gain(b, db);
                    }
                    None
                }
                Effect::BusMute(b, m) => {
                    if let Some(e) = &mut self.engine {
                        e.bus_mute(b, m);
                    }
                    None
                }
                Effect::BusSolo(b, on) => {
                    if let Some(e) = &mut self.engine {
                        e.bus_solo(b, on);
                    }
                    None
                }
                Effect::Bypass(at, k, on) => {
                    if let Some(e) = &mut self.engine {
                        e.bypass(at, k, on);
                    }
                    None
                }
                Effect::BusInsertParam(b, k, name, v) => {
                    if let Some(e) = &mut self.engine {
                        e.bus_insert_param(b, k, name, v);
                    }
                    None
                }
                Effect::EngineSpectrum(stem) => {
                    if let Some(e) = &mut self.engine {
                        e.spectrum_of(stem);
                    }
                    None
                }
                Effect::AnalyseFile(i) => match &self.doc {
                    Some(doc) => {
                        let (spec, gpu) = (doc.spec.clone(), self.gpu.clone());
                        match job::Job::spawn("mixstation-spectrogram", move || {
                            document::file_spectrogram(&spec, i, gpu.as_ref())
                                .map_err(|e| chain(&e))
                        }) {
                            Ok(j) => {
                                self.spectrogram_job = Some(j);
                                None
                            }
                            Err(e) => Some(Message::Spectrum(spectra::SpectrumMessage::FileReady(
                                Err(e.to_string()),
                            ))),
                        }
                    }
                    None => Some(Message::Spectrum(spectra::SpectrumMessage::FileReady(Err(
                        "no session is open".into(),
                    )))),
                },
                Effect::Poll => match &mut self.engine {
                    Some(e) => {
                        // Finished first: a frame pushed just before the end is still read.
                        let done = e.finished();
                        let frames = e.poll();
                        if !frames.is_empty() {
                            let more = self.ws.update(Message::Frames(frames));
                            self.run_effects(more);
                        }
                        if done {
                            if let Some(written) = self.end_engine() {
                                let more = self.ws.update(written);
                                self.run_effects(more);
                            }
                            Some(Message::Finished)
                        } else {
                            None
                        }
                    }
                    None => Some(Message::Finished),
                },
            };
            if let Some(m) = follow {
                let more = self.ws.update(m);
                self.run_effects(more);
            }
        }
    }

    /// The peaks of every source of the document once all are known (`PeaksReady`); until
    /// then a background job reads the sources not seen before (only those are copied and
    /// read; the others' peaks are kept from earlier).
    fn peaks_or_job(&mut self) -> Option<Message> {
        let doc = self.doc.as_ref()?;
        let missing: Vec<(PathBuf, gpu_dsp::mix::Source)> = doc
            .source_keys
            .iter()
            .zip(&doc.spec.sources)
            .filter(|(key, _)| !self.peaks_cache.contains_key(*key))
            .map(|(key, source)| (key.clone(), source.clone()))
            .collect();
        if missing.is_empty() {
            let peaks = doc
                .source_keys
                .iter()
                .map(|key| self.peaks_cache[key].as_ref().clone())
                .collect();
            return Some(Message::PeaksReady(std::sync::Arc::new(peaks)));
        }
        if self.peaks_job.is_none() {
            self.peaks_job = job::Job::spawn("mixstation-peaks", move || {
                let (keys, sources): (Vec<PathBuf>, Vec<_>) = missing.into_iter().unzip();
                keys.into_iter()
                    .zip(document::source_peaks(&sources))
                    .collect()
            })
            .ok();
        }
        None
    }

    /// Takes a document opened in the background: remembers it, and keeps an autosave
    /// left by an earlier run (under its own name) before new edits replace it.
    fn opened(
        &mut self,
        path: &Path,
        doc: Document,
        view: state::SessionView,
    ) -> state::SessionView {
        self.engine = None;
        self.doc = Some(doc);
        remember(path);
        let autosave = state::autosave_path(path);
        self.note = None;
        if autosave.is_file() {
            let kept = recovery_path(&autosave);
            if std::fs::rename(&autosave, &kept).is_ok() {
                self.note = Some(format!(
                    "unsaved changes from an earlier run are kept in {}",
                    kept.display()
                ));
            }
        }
        view
    }

    /// Checks an export's outputs as `mixstation render` does and starts it on its own
    /// thread.
    fn start_export(&mut self, request: export::ExportRequest) -> anyhow::Result<ExportJob> {
        let (Some(doc), Some(view)) = (&mut self.doc, &self.ws.session) else {
            anyhow::bail!("no session is open");
        };
        doc.apply(view)?;
        let mut spec = doc.spec.clone();
        if let Some(target) = request.target {
            spec.master.loudness_target = target;
        }
        let stems: Vec<PathBuf> = match &request.stems {
            Some(dir) => {
                if !dir.is_dir() {
                    anyhow::bail!("{}: the stems folder does not exist", dir.display());
                }
                spec.stems
                    .iter()
                    .map(|s| dir.join(crate::session::stem_file_name(s)))
                    .collect()
            }
            None => Vec::new(),
        };
        let mut inputs: Vec<&Path> = doc.inputs.iter().map(PathBuf::as_path).collect();
        inputs.push(&view.path);
        crate::io::check_output_path(&request.output, &inputs)?;
        for p in &stems {
            crate::io::check_output_path(p, &inputs)?;
        }
        let mut outputs: Vec<&Path> = vec![&request.output];
        outputs.extend(stems.iter().map(PathBuf::as_path));
        crate::io::check_distinct_outputs(&outputs)?;
        let progress = std::sync::Arc::new(crate::render::RenderProgress::default());
        let result = std::sync::Arc::new(std::sync::Mutex::new(None));
        let (p, r, gpu) = (progress.clone(), result.clone(), self.gpu.clone());
        std::thread::Builder::new()
            .name("mixstation-export".into())
            .spawn(move || {
                let outcome = crate::render::render_with(
                    &spec,
                    &request.output,
                    &stems,
                    request.format,
                    gpu,
                    &p,
                )
                .map(|s| {
                    format!(
                        "wrote {} ({:.1} s of audio in {:.1} s; integrated {}, true peak {})",
                        request.output.display(),
                        s.seconds,
                        s.elapsed,
                        s.report
                            .loudness
                            .integrated
                            .map_or("—".into(), |v| format!("{v:.1} LUFS")),
                        s.report
                            .loudness
                            .true_peak
                            .map_or("—".into(), |v| format!("{v:.1} dBTP")),
                    )
                })
                .map_err(|e| chain(&e));
                if let Ok(mut slot) = r.lock() {
                    *slot = Some(outcome);
                }
            })?;
        Ok(ExportJob { progress, result })
    }

    fn save(&mut self, path: &Path) -> Result<(), String> {
        match (&mut self.doc, &self.ws.session) {
            (Some(doc), Some(view)) => {
                doc.apply(view).map_err(|e| chain(&e))?;
                doc.save(path).map_err(|e| chain(&e))
            }
            _ => Err("no session is open".into()),
        }
    }
}

/// The edit commands of a window request (one undo step): an import becomes a new track
/// named after the file (`name 2`, `name 3`, … when taken).
fn edit_commands(doc: &Document, request: state::EditRequest) -> Vec<crate::edit::Command> {
    use crate::edit::Command;
    vec![match request {
        state::EditRequest::Command(c) => c,
        state::EditRequest::Commands(list) => return list,
        state::EditRequest::Undo => Command::Undo,
        state::EditRequest::Redo => Command::Redo,
        state::EditRequest::Import { file, at } => {
            let stem = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "import".into());
            let taken = |name: &str| doc.file.tracks.iter().any(|t| t.name == name);
            let track = (1..)
                .map(|k| {
                    if k == 1 {
                        stem.clone()
                    } else {
                        format!("{stem} {k}")
                    }
                })
                .find(|n| !taken(n))
                .expect("some name is free");
            Command::Import {
                file,
                track,
                at: Some(format!("{}", crate::edit::document::tidy(at))),
                stem: None,
                channel: None,
            }
        }
    }]
}

/// A free name for a recovered autosave: `SESSION.toml.recovered-<unix time>[-n]`.
fn recovery_path(autosave: &Path) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = autosave.with_extension(format!("recovered-{secs}"));
    (1..)
        .map(|k| {
            if k == 1 {
                base.clone()
            } else {
                PathBuf::from(format!("{}-{k}", base.display()))
            }
        })
        .find(|p| !p.exists())
        .expect("some name is free")
}

fn chain(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

/// Writes a window screenshot (RGBA) as a PNG.
fn save_png(path: &Path, shot: &window::Screenshot) -> anyhow::Result<()> {
    let (w, h) = (shot.size.width, shot.size.height);
    crate::io::write_atomically(path, |f| {
        let mut enc = png::Encoder::new(std::io::BufWriter::new(f), w, h);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(&shot.rgba)?;
        writer.finish()?;
        Ok(())
    })
}

/// Each track's mode for a pass in the window: its own, except that a VCA member (its
/// fader plays with its VCA's share folded in) and every track while looping (the heard
/// clock would run on past the loop) only read.
fn writing_modes(view: &state::SessionView, looping: bool) -> Vec<gpu_dsp::mix::AutomationMode> {
    use gpu_dsp::mix::AutomationMode;
    let in_vca = |t: usize| view.vcas.iter().any(|v| v.members.contains(&t));
    view.strips
        .iter()
        .enumerate()
        .map(|(t, s)| match s.automation_mode {
            m if m.writes() && (looping || in_vca(t)) => AutomationMode::Read,
            m => m,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let session = crate::demo::write_demo(dir.path(), 3.0).unwrap();
        (dir, session)
    }

    #[test]
    fn a_document_opens_saves_its_edits_atomically_and_reopens() {
        let (dir, path) = demo();
        let (mut doc, mut view) = Document::open(&path).unwrap();
        assert_eq!(view.strips.len(), 4);
        assert_eq!(view.stems, vec!["DX", "MX", "FX"]);
        let peaks = document::source_peaks(&doc.spec.sources);
        let first = &view.strips[0].clips[0];
        assert!(
            peaks[first.source].iter().any(|v| *v > 0.01),
            "waveform overview"
        );
        assert_eq!(view.strips[0].inserts, vec!["clean", "eq", "compressor"]);
        view.strips[1].gain_db = -9.5;
        view.strips[2].mute = true;
        view.bus_strips[0].mute = true;
        doc.apply(&view).unwrap();
        let copy = dir.path().join("edited.toml");
        doc.save(&copy).unwrap();
        // The user's file as written, with only the edited values changed (one changed
        // line, two added: the track's and the bus's `mute = true`).
        let (before, after) = (
            std::fs::read_to_string(&path).unwrap(),
            std::fs::read_to_string(&copy).unwrap(),
        );
        let old: Vec<&str> = before.lines().collect();
        let new: Vec<&str> = after.lines().collect();
        assert_eq!(new.len(), old.len() + 2, "{after}");
        let changed = new.iter().filter(|l| !old.contains(l)).count();
        assert_eq!(changed, 3, "{after}");
        let (_, reopened) = Document::open(&copy).unwrap();
        assert_eq!(reopened.strips[1].gain_db, -9.5);
        assert!(reopened.strips[2].mute);
        assert!(reopened.bus_strips[0].mute);
        assert_eq!(reopened.strips[0].inserts, view.strips[0].inserts);
        // The original is untouched.
        let (_, original) = Document::open(&path).unwrap();
        assert_eq!(original.strips[1].gain_db, -4.0);
    }

    #[test]
    fn a_session_with_a_missing_file_opens_with_that_clip_offline() {
        let (dir, path) = demo();
        let text = std::fs::read_to_string(&path).unwrap();
        let broken = text.replacen("audio/music.wav", "audio/gone.wav", 1);
        assert_ne!(broken, text);
        let copy = dir.path().join("broken.toml");
        std::fs::write(&copy, broken).unwrap();
        let (doc, view) = Document::open(&copy).unwrap();
        assert_eq!(view.offline, vec![dir.path().join("audio/gone.wav")]);
        let offline: Vec<&str> = view
            .strips
            .iter()
            .flat_map(|s| {
                s.clips
                    .iter()
                    .filter(|c| c.offline)
                    .map(|c| c.name.as_str())
            })
            .collect();
        assert_eq!(offline, ["gone"]);
        assert!(doc.spec.length() > 0);
    }

    #[test]
    fn the_cleanup_view_and_the_file_spectrogram_come_from_the_real_engines() {
        let (_dir, path) = demo();
        let (doc, _) = Document::open(&path).unwrap();
        let c = cleanup::analyse(&doc.spec, 0).unwrap();
        assert!(
            (c.hum_hz.unwrap() - 50.03).abs() < 0.05,
            "hum {:?}",
            c.hum_hz
        );
        assert!(
            c.removed_db < -3.0 && c.removed_db > -40.0,
            "removed {} dB",
            c.removed_db
        );
        assert_eq!(c.removed.len() as f64, (c.seconds * 48_000.0).round());
        assert!(
            cleanup::analyse(&doc.spec, 1).is_err(),
            "music has no clean insert"
        );
        let f = document::file_spectrogram(&doc.spec, 0, None).unwrap();
        assert_eq!(f.bins, 1025);
        assert!(f.frames > 200 && f.db.len() == f.frames * f.bins);
        // The 50 Hz hum stands out in its bin (about 2.1 bins at 23.4 Hz each).
        let hum_bin = (50.03f32 / (48_000.0 / 2048.0)).round() as usize;
        let mean_at = |bin: usize| {
            (0..f.frames).map(|k| f.db[k * f.bins + bin]).sum::<f32>() / f.frames as f32
        };
        assert!(mean_at(hum_bin) > mean_at(hum_bin + 6) + 6.0);
    }
}
