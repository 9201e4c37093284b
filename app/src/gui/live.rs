//! The window's engine: renders the session in real time on its own thread, plays it through
//! the sound card when there is one (the same lock-free ring and allocation-free callback as
//! `mixstation play`), and measures every block for the meters. Meter frames reach the window
//! through a lock-free ring; when the window is slow, frames are dropped, never audio.

use super::live_masking::{dialogue_stem, LiveMasking};
use super::meters::{Balance, MeterFrame, FLOOR_DB};
use super::state::StripRef;
use crate::playback::{
    open_output, push_stereo, rings, Engine, OutputCallback, PlaybackCounters, Step,
};
use gpu_dsp::analysis::spectrogram::{
    GpuSpectrogramStream, LiveEngine as SpectrumEngine, LiveSpectrogram, SpectrogramConfig,
};
use gpu_dsp::analysis::surround::energy_vector;
use gpu_dsp::analysis::{band_correlation, goniometer_points, CorrelationMeter, LoudnessMeter};
use gpu_dsp::analysis::{masking, LongTermSpectrum};
use gpu_dsp::gpu::GpuContext;
use gpu_dsp::mix::{Insert, InsertSpec, Layout, MixSpec, Mixer, ParamId};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Samples per engine block (about 21 ms at 48 kHz: one meter frame each).
const BLOCK: usize = 1024;
/// Spectrogram of the monitor: 2048-point frames every 1024 samples.
pub const SPECTRUM_FFT: usize = 2048;

/// Changes the window sends the engine while it plays: plain values (nothing to allocate
/// or free on the engine thread, no names to match there).
#[derive(Clone, Copy, Debug)]
enum Command {
    /// Track, send, level dB.
    SendLevel(usize, usize, f32),
    /// Track, send, muted.
    SendMute(usize, usize, bool),
    /// Track, insert, parameter, value.
    InsertParam(usize, usize, ParamId, f32),
    BusGain(usize, f32),
    BusMute(usize, bool),
    BusSolo(usize, bool),
    Bypass(super::state::StripRef, usize, bool),
    BusInsertParam(usize, usize, ParamId, f32),
    /// Track, gain dB, pan, mute, solo.
    Console(usize, f32, f32, bool, bool),
    /// What the live spectrogram shows: the monitor (`None`) or one stem.
    SpectrumOf(Option<usize>),
}

/// A running engine; dropping it stops the thread.
pub struct LiveEngine {
    stop: Arc<AtomicBool>,
    finished: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    meters: rtrb::Consumer<MeterFrame>,
    console: rtrb::Producer<Command>,
    swaps: rtrb::Producer<Box<Mixer>>,
    layout: Layout,
    gpu: Option<Arc<GpuContext>>,
    _stream: Option<cpal::Stream>,
    /// Why there is no sound, if there is none.
    pub note: Option<String>,
}

impl LiveEngine {
    /// Starts playing `spec` from `from` seconds; with `gpu` the reverbs' tails and the live
    /// spectrogram run there. The spectrogram shows the monitor or stem `spectrum_stem`.
    pub fn start(
        spec: MixSpec,
        from: f64,
        gpu: Option<Arc<GpuContext>>,
        spectrum_stem: Option<usize>,
        insert_settings: &[(usize, usize, String, f32)],
        bus_insert_settings: &[(usize, usize, String, f32)],
        looped: Option<(f64, f64)>,
    ) -> anyhow::Result<Self> {
        let rate = spec.sample_rate;
        let layout = spec.layout;
        let samples = |s: f64| (s.max(0.0) * f64::from(rate)).round() as u64;
        let loop_range = looped
            .map(|(a, b)| (samples(a), samples(b)))
            .filter(|(a, b)| b > a);
        let mixer = build_mixer(spec, gpu.clone(), insert_settings, bus_insert_settings)?;
        let start = (from.max(0.0) * f64::from(rate)) as u64;
        let total = mixer.spec().length() + mixer.tail();
        let stop = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        let (meter_tx, meters) = rtrb::RingBuffer::new(256);
        let (console, console_rx) = rtrb::RingBuffer::new(256);
        let (swaps, swaps_rx) = rtrb::RingBuffer::new(2);
        let counters = Arc::new(PlaybackCounters::default());
        let (audio_tx, audio_rx, _cmd_tx, cmd_rx) = rings(rate as usize / 2, 2);
        let callback = OutputCallback::new(audio_rx, cmd_rx, 2, rate as f32, counters);
        let (stream, note) = match open_output(rate, callback, |_| {}) {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(format!("no sound ({e}); meters only"))),
        };
        let mut engine = Engine::new(
            mixer,
            start,
            total,
            BLOCK,
            stream.is_some().then_some(audio_tx),
        )
        .paced();
        engine.set_loop(loop_range);
        let worker = Worker {
            engine,
            swaps: swaps_rx,
            rate,
            meters: meter_tx,
            console: console_rx,
            spectrum_stem,
            gpu,
        };
        let worker_gpu = worker.gpu.clone();
        let thread = {
            let (stop, finished) = (stop.clone(), finished.clone());
            std::thread::Builder::new()
                .name("mixstation-gui-engine".into())
                .spawn(move || {
                    worker.run(&stop);
                    finished.store(true, Ordering::Release);
                })?
        };
        Ok(Self {
            stop,
            finished,
            thread: Some(thread),
            meters,
            console,
            swaps,
            layout,
            gpu: worker_gpu,
            _stream: stream,
            note,
        })
    }

    /// Hands the engine the mix after an edit: it takes over at the next block, lined up
    /// with the playhead and crossfaded over one block, and playback goes on. Fails when the
    /// output layout changed or a previous change is still waiting (then restart instead).
    pub fn swap(
        &mut self,
        spec: MixSpec,
        insert_settings: &[(usize, usize, String, f32)],
        bus_insert_settings: &[(usize, usize, String, f32)],
    ) -> anyhow::Result<()> {
        if spec.layout != self.layout {
            anyhow::bail!("the output layout changed");
        }
        let mixer = build_mixer(spec, self.gpu.clone(), insert_settings, bus_insert_settings)?;
        self.swaps
            .push(Box::new(mixer))
            .map_err(|_| anyhow::anyhow!("the engine has not taken the previous change yet"))
    }

    /// The meter frames that arrived since the last call.
    pub fn poll(&mut self) -> Vec<MeterFrame> {
        let mut out = Vec::new();
        while let Ok(f) = self.meters.pop() {
            out.push(f);
        }
        out
    }

    /// Whether the engine reached the end of the session.
    pub fn finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// A live fader/pan/mute/solo change (dropped if 256 are already queued).
    pub fn console(&mut self, track: usize, gain_db: f32, pan: f32, mute: bool, solo: bool) {
        let _ = self
            .console
            .push(Command::Console(track, gain_db, pan, mute, solo));
    }

    /// A live send level change.
    pub fn send_level(&mut self, track: usize, send: usize, level_db: f32) {
        let _ = self.console.push(Command::SendLevel(track, send, level_db));
    }

    /// A live send mute (gliding over one block).
    pub fn send_mute(&mut self, track: usize, send: usize, mute: bool) {
        let _ = self.console.push(Command::SendMute(track, send, mute));
    }

    /// A live bus gain change.
    pub fn bus_gain(&mut self, bus: usize, gain_db: f32) {
        let _ = self.console.push(Command::BusGain(bus, gain_db));
    }

    /// A live bus mute (gliding over one block).
    pub fn bus_mute(&mut self, bus: usize, mute: bool) {
        let _ = self.console.push(Command::BusMute(bus, mute));
    }

    /// A live bus solo (what it silences glides out over one block).
    pub fn bus_solo(&mut self, bus: usize, solo: bool) {
        let _ = self.console.push(Command::BusSolo(bus, solo));
    }

    /// A live insert bypass (crossfaded over one block).
    pub fn bypass(&mut self, at: super::state::StripRef, insert: usize, bypass: bool) {
        let _ = self.console.push(Command::Bypass(at, insert, bypass));
    }

    /// A live bus insert parameter change.
    pub fn bus_insert_param(&mut self, bus: usize, insert: usize, id: ParamId, value: f32) {
        let _ = self
            .console
            .push(Command::BusInsertParam(bus, insert, id, value));
    }

    /// A live insert parameter change.
    pub fn insert_param(&mut self, track: usize, insert: usize, id: ParamId, value: f32) {
        let _ = self
            .console
            .push(Command::InsertParam(track, insert, id, value));
    }

    /// Shows the monitor (`None`) or stem `s` in the live spectrogram.
    pub fn spectrum_of(&mut self, stem: Option<usize>) {
        let _ = self.console.push(Command::SpectrumOf(stem));
    }
}

impl Drop for LiveEngine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Worker {
    /// The playback engine (the same as `mixstation play`'s), paced to real time.
    engine: Engine,
    /// New mixes after edits, taken at the next block.
    swaps: rtrb::Consumer<Box<Mixer>>,
    rate: u32,
    meters: rtrb::Producer<MeterFrame>,
    console: rtrb::Consumer<Command>,
    spectrum_stem: Option<usize>,
    gpu: Option<Arc<GpuContext>>,
}

/// A mixer for `spec` with the window's live insert settings.
fn build_mixer(
    spec: MixSpec,
    gpu: Option<Arc<GpuContext>>,
    insert_settings: &[(usize, usize, String, f32)],
    bus_insert_settings: &[(usize, usize, String, f32)],
) -> anyhow::Result<Mixer> {
    let mut mixer = Mixer::with_gpu(spec, BLOCK, gpu)?;
    // Each track's output for the live masking matrix.
    if LiveMasking::for_mix(mixer.spec()).is_some() {
        mixer.enable_track_taps();
    }
    // Names are resolved here, once, against the mix the engine will play.
    let id = |inserts: Option<&Vec<InsertSpec>>, k: usize, name: &str| {
        inserts
            .and_then(|i| i.get(k))
            .and_then(|spec| Insert::resolve(spec, name))
    };
    for (track, insert, name, value) in insert_settings {
        let inserts = mixer.spec().tracks.get(*track).map(|t| &t.inserts);
        if let Some(id) = id(inserts, *insert, name) {
            mixer.set_track_insert_param(*track, *insert, id, *value);
        }
    }
    for (bus, insert, name, value) in bus_insert_settings {
        let inserts = mixer.spec().buses.get(*bus).map(|b| &b.inserts);
        if let Some(id) = id(inserts, *insert, name) {
            mixer.set_bus_insert_param(*bus, *insert, id, *value);
        }
    }
    Ok(mixer)
}

fn db(x: f32) -> f32 {
    (20.0 * x.max(1e-9).log10()).max(FLOOR_DB)
}

impl Worker {
    fn run(mut self, stop: &AtomicBool) {
        let spec = self.engine.mixer().spec();
        let layout = spec.layout;
        let channels = layout.channels();
        let mut tracks = spec.tracks.len();
        let buses = spec.buses.len();
        let rate = self.rate;
        let mut loudness = LoudnessMeter::new(channels, rate);
        // The GPU computes the live spectrogram when there is one; the window only draws it.
        let mut spectrum = SpectrogramConfig::new(SPECTRUM_FFT, BLOCK).ok().map(|c| {
            let engine = self
                .gpu
                .as_ref()
                .and_then(|ctx| GpuSpectrogramStream::new(ctx.clone(), c, 1, 2).ok())
                .map_or(SpectrumEngine::Cpu, |g| SpectrumEngine::Gpu(Box::new(g)));
            LiveSpectrogram::new(c, rate, 1, engine)
        });
        // The live spectrogram's input: the chosen stem or the monitor, mixed to mono.
        let mut mid = vec![0.0f32; BLOCK];
        // The monitor's last eight blocks, for the per-octave correlation.
        let (mut recent_left, mut recent_right) = (Vec::new(), Vec::new());
        let mut peaks = vec![0.0f32; tracks];
        let mut rms = vec![0.0f32; tracks];
        let mut bus_peaks = vec![0.0f32; buses];
        let mut track_reduction = vec![0.0f32; tracks];
        let mut bus_reduction = bus_peaks.clone();
        let mut balance = BalanceAccumulator::new(&self.engine.mixer().spec().stems, rate);
        let mut masking = LiveMasking::for_mix(self.engine.mixer().spec());
        let mut blocks = 0u64;
        loop {
            // A new mix after an edit: from the next sample on, crossfaded over one block.
            if !self.engine.in_latency() {
                if let Ok(next) = self.swaps.pop() {
                    self.engine.swap_in(*next);
                    let spec = self.engine.mixer().spec();
                    peaks.resize(spec.tracks.len(), 0.0);
                    rms.resize(spec.tracks.len(), 0.0);
                    bus_peaks.resize(spec.buses.len(), 0.0);
                    track_reduction.resize(spec.tracks.len(), 0.0);
                    bus_reduction.resize(spec.buses.len(), 0.0);
                    if balance.names != spec.stems {
                        balance = BalanceAccumulator::new(&spec.stems, rate);
                    }
                    if !masking.as_ref().is_some_and(|m| m.measures(spec)) {
                        masking = LiveMasking::for_mix(spec);
                    }
                    tracks = spec.tracks.len();
                }
            }
            while let Ok(command) = self.console.pop() {
                self.apply(command);
            }
            let spectrum_stem = self.spectrum_stem;
            // Measurements of the block the engine just played.
            let step = self.engine.step(stop, |b| {
                let n = b.n;
                let stems = b.mixer.last_stems();
                balance.push(stems, n);
                let mono = spectrum_stem.and_then(|s| stems.get(s));
                match mono {
                    Some(s) => {
                        let scale = 1.0 / s.len().max(1) as f32;
                        for (i, v) in mid[..n].iter_mut().enumerate() {
                            *v = s.iter().map(|c| c[i]).sum::<f32>() * scale;
                        }
                    }
                    None => {
                        for ((m, a), r) in mid[..n].iter_mut().zip(b.left).zip(b.right) {
                            *m = 0.5 * (a + r);
                        }
                    }
                }
                if let Some(m) = &mut masking {
                    if let Some(dialogue) = stems.get(m.dialogue()) {
                        m.push(b.mixer, dialogue, n);
                    }
                }
                let planes: Vec<&[f32]> = b.master.iter().map(|c| &c[..n]).collect();
                loudness.process(&planes);
                let position = (b.position + n as u64) as f64 / f64::from(rate);
                let mut frame = MeterFrame::silent(position, tracks);
                automated_faders(b.mixer.spec(), b.position, &mut frame.track_fader_db);
                for (k, ch) in [b.left, b.right].iter().enumerate() {
                    let peak = ch.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                    let ms = ch.iter().map(|x| x * x).sum::<f32>() / n.max(1) as f32;
                    frame.peak_db[k] = db(peak);
                    frame.rms_db[k] = db(ms.sqrt());
                }
                frame.momentary = loudness.momentary();
                frame.short_term = loudness.short_term();
                frame.integrated = loudness.integrated();
                frame.range = loudness.range();
                frame.true_peak = loudness.true_peak();
                let mut corr = CorrelationMeter::default();
                corr.process(b.left, b.right);
                frame.correlation = corr.correlation();
                frame.goniometer = goniometer_points(b.left, b.right, 256);
                if let Some(s) = &mut spectrum {
                    // On the GPU the rows come back two blocks later, never waited for.
                    let rows = &mut frame.spectrogram;
                    let _ = s.push(&[&mid[..n]], |row| rows.push(row.to_vec()));
                }
                // Per-octave correlation over the last ~170 ms, refreshed every 4 blocks.
                for (recent, now) in [(&mut recent_left, b.left), (&mut recent_right, b.right)] {
                    recent.extend_from_slice(now);
                    let excess = recent.len().saturating_sub(8 * BLOCK);
                    recent.drain(..excess);
                }
                blocks += 1;
                if blocks.is_multiple_of(4) {
                    frame.band_correlation = band_correlation(&recent_left, &recent_right, rate)
                        .iter()
                        .map(|b| (b.band.nominal_hz as f32, b.correlation.map(|c| c as f32)))
                        .collect();
                }
                if channels > 2 {
                    if let Some(v) = energy_vector(&planes) {
                        let levels = planes
                            .iter()
                            .map(|c| {
                                db((c.iter().map(|x| x * x).sum::<f32>() / n.max(1) as f32).sqrt())
                            })
                            .collect();
                        frame.surround = Some((levels, v.direction_deg, v.magnitude));
                    }
                }
                if blocks.is_multiple_of(8) {
                    frame.balance = balance.analyse().map(|mut b| {
                        b.maskers = masking.as_ref().map_or_else(Vec::new, |m| m.worst(6));
                        b
                    });
                }
                frame
            });
            let mut frame = match step {
                Step::Ended => break,
                Step::Skipped => {
                    // The latency's levels are not the playhead's.
                    let mixer = self.engine.mixer();
                    mixer.take_track_levels(&mut peaks, &mut rms);
                    continue;
                }
                Step::Played(frame) => frame,
            };
            let mixer = self.engine.mixer();
            mixer.take_track_levels(&mut peaks, &mut rms);
            frame.track_peak_db = peaks.iter().map(|p| db(*p)).collect();
            frame.track_rms_db = rms.iter().map(|r| db(*r)).collect();
            mixer.take_bus_peaks(&mut bus_peaks);
            frame.bus_peak_db = bus_peaks.iter().map(|p| db(*p)).collect();
            mixer.take_reductions(&mut track_reduction, &mut bus_reduction);
            frame.track_reduction_db.clone_from(&track_reduction);
            frame.bus_reduction_db.clone_from(&bus_reduction);
            // A slow window drops meter frames, never audio.
            let _ = self.meters.push(frame);
        }
        // Let the sound card play what is still in the ring (up to half a second).
        self.engine.drain(stop, Duration::from_millis(600));
    }

    /// A live change from the window.
    fn apply(&mut self, command: Command) {
        let mixer = self.engine.mixer();
        match command {
            Command::Console(i, g, p, m, s) => mixer.set_track_console(i, g, p, m, s),
            Command::SpectrumOf(s) => self.spectrum_stem = s,
            Command::SendLevel(i, k, db) => mixer.set_track_send_level(i, k, db),
            Command::SendMute(i, k, m) => mixer.set_track_send_mute(i, k, m),
            Command::InsertParam(i, k, id, v) => {
                mixer.set_track_insert_param(i, k, id, v);
            }
            Command::BusGain(b, db) => mixer.set_bus_gain(b, db),
            Command::BusMute(b, m) => mixer.set_bus_mute(b, m),
            Command::BusSolo(b, on) => mixer.set_bus_solo(b, on),
            Command::Bypass(StripRef::Track(t), k, on) => mixer.set_track_insert_bypass(t, k, on),
            Command::Bypass(StripRef::Bus(b), k, on) => mixer.set_bus_insert_bypass(b, k, on),
            Command::BusInsertParam(b, k, id, v) => {
                mixer.set_bus_insert_param(b, k, id, v);
            }
        }
    }
}

/// Each track's fader where its automation is at timeline sample `at` (`None` for a fader
/// without an envelope).
fn automated_faders(spec: &MixSpec, at: u64, out: &mut [Option<f32>]) {
    for (o, t) in out.iter_mut().zip(&spec.tracks) {
        *o = t
            .automation
            .iter()
            .find(|(k, _)| *k == gpu_dsp::mix::Target::GainDb)
            .map(|(_, env)| env.value_at(at as f64));
    }
}

/// Samples per frequency-balance analysis window.
const BALANCE_WINDOW: usize = 8 * BLOCK;

/// Collects each stem (mono) for the frequency-balance view and accumulates long-term
/// third-octave power and masking counts.
struct BalanceAccumulator {
    names: Vec<String>,
    dialogue: Option<usize>,
    rate: u32,
    recent: Vec<Vec<f32>>,
    centres_hz: Vec<f32>,
    power: Vec<Vec<f64>>,
    windows: u64,
    active: Vec<f64>,
    covered: Vec<f64>,
}

impl BalanceAccumulator {
    fn new(stems: &[String], rate: u32) -> Self {
        let dialogue = dialogue_stem(stems);
        Self {
            names: stems.to_vec(),
            dialogue,
            rate,
            recent: vec![Vec::with_capacity(BALANCE_WINDOW); stems.len()],
            centres_hz: Vec::new(),
            power: vec![Vec::new(); stems.len()],
            windows: 0,
            active: Vec::new(),
            covered: Vec::new(),
        }
    }

    fn push(&mut self, stems: &[Vec<Vec<f32>>], n: usize) {
        for (r, s) in self.recent.iter_mut().zip(stems) {
            let scale = 1.0 / s.len().max(1) as f32;
            r.extend((0..n).map(|i| s.iter().map(|c| c[i]).sum::<f32>() * scale));
            if r.len() > BALANCE_WINDOW {
                r.drain(..r.len() - BALANCE_WINDOW);
            }
        }
    }

    /// Adds the recent window to the long-term figures and reports them.
    fn analyse(&mut self) -> Option<Balance> {
        if self.recent.first().is_none_or(|r| r.len() < BALANCE_WINDOW) {
            return None;
        }
        for (k, r) in self.recent.iter().enumerate() {
            let bands = LongTermSpectrum::of(&[r], self.rate).third_octave();
            if self.centres_hz.is_empty() {
                self.centres_hz = bands.iter().map(|b| b.band.nominal_hz as f32).collect();
            }
            let p = &mut self.power[k];
            p.resize(bands.len(), 0.0);
            for (acc, b) in p.iter_mut().zip(&bands) {
                *acc += b.db.map_or(0.0, |db| 10f64.powf(db / 10.0));
            }
        }
        if let Some(d) = self.dialogue {
            let others: Vec<f32> = (0..BALANCE_WINDOW)
                .map(|i| {
                    self.recent
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| *k != d)
                        .map(|(_, r)| r[i])
                        .sum()
                })
                .collect();
            let m = masking(&[&self.recent[d]], &[&others], self.rate);
            self.active.resize(m.len(), 0.0);
            self.covered.resize(m.len(), 0.0);
            for ((a, c), b) in self.active.iter_mut().zip(self.covered.iter_mut()).zip(&m) {
                *a += b.active_fraction;
                *c += b.active_fraction * b.covered_fraction.unwrap_or(0.0);
            }
        }
        self.windows += 1;
        let w = self.windows as f64;
        Some(Balance {
            centres_hz: self.centres_hz.clone(),
            stems: self
                .names
                .iter()
                .zip(&self.power)
                .map(|(name, p)| {
                    let db = p
                        .iter()
                        .map(|x| (*x > 0.0).then(|| (10.0 * (x / w).log10()) as f32))
                        .collect();
                    (name.clone(), db)
                })
                .collect(),
            dialogue: self.dialogue,
            covered: self
                .active
                .iter()
                .zip(&self.covered)
                .map(|(a, c)| (*a > 0.0).then(|| (c / a) as f32))
                .collect(),
            maskers: Vec::new(),
        })
    }
}

/// Plays a mono buffer once through the sound card; dropping it stops.
pub struct Audition {
    stop: Arc<AtomicBool>,
    finished: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    _stream: cpal::Stream,
}

impl Audition {
    pub fn start(samples: Arc<Vec<f32>>, rate: u32) -> anyhow::Result<Self> {
        let counters = Arc::new(PlaybackCounters::default());
        let (mut audio_tx, audio_rx, _cmd_tx, cmd_rx) = rings(rate as usize / 2, 2);
        let callback = OutputCallback::new(audio_rx, cmd_rx, 2, rate as f32, counters);
        let stream = open_output(rate, callback, |_| {})?;
        let stop = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        let thread = {
            let (stop, finished) = (stop.clone(), finished.clone());
            std::thread::spawn(move || {
                struct Done(Arc<AtomicBool>);
                impl Drop for Done {
                    fn drop(&mut self) {
                        self.0.store(true, Ordering::Release);
                    }
                }
                let _done = Done(finished);
                let mut done = 0;
                while done < samples.len() && !stop.load(Ordering::Relaxed) {
                    let n = (samples.len() - done).min(1024);
                    let mono = &samples[done..done + n];
                    if push_stereo(&mut audio_tx, mono, mono) {
                        done += n;
                    } else {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
            })
        };
        Ok(Self {
            stop,
            finished,
            thread: Some(thread),
            _stream: stream,
        })
    }

    /// Whether everything has been handed to the sound card.
    pub fn finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }
}

impl Drop for Audition {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_loop_plays_its_range_over_and_over() {
        let spec = MixSpec::one_track(48_000, vec![0.1f32; 48_000]);
        let mut engine =
            LiveEngine::start(spec, 0.0, None, None, &[], &[], Some((0.1, 0.3))).unwrap();
        let mut positions = Vec::new();
        let deadline = Instant::now() + Duration::from_millis(900);
        while Instant::now() < deadline {
            positions.extend(engine.poll().iter().map(|f| f.position));
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!engine.finished(), "a loop does not end");
        let block = BLOCK as f64 / 48_000.0;
        assert!(positions.len() > 20, "{positions:?}");
        assert!(positions.iter().all(|&p| p <= 0.3 + 1e-9), "{positions:?}");
        let wraps = positions.windows(2).filter(|w| w[1] < w[0]).count();
        assert!(wraps >= 2, "went round {wraps} times: {positions:?}");
        // After a wrap, play resumes at the loop's start.
        let after: Vec<f64> = positions
            .windows(2)
            .filter(|w| w[1] < w[0])
            .map(|w| w[1])
            .collect();
        assert!(
            after.iter().all(|&p| (p - (0.1 + block)).abs() < 1e-6),
            "{after:?}"
        );
    }

    #[test]
    fn meter_frames_carry_where_each_automated_fader_is() {
        use gpu_dsp::mix::{Automation, Target};
        let mut spec = MixSpec::one_track(48_000, vec![0.0; 48_000]);
        spec.tracks.push(spec.tracks[0].clone());
        spec.tracks[1].automation = vec![(
            Target::GainDb,
            Automation::new(&[(0.0, -20.0), (1.0, 0.0)], 48_000.0).unwrap(),
        )];
        let mut faders = vec![Some(1.0); 2];
        automated_faders(&spec, 12_000, &mut faders);
        assert_eq!(faders, vec![None, Some(-15.0)]);
    }
}
