//! The window's engine: renders the session in real time on its own thread (allocating
//! nothing per block), plays it through the sound card when there is one (the same
//! lock-free ring and allocation-free callback as `mixstation play`), writes the automation
//! pass of the tracks whose mode writes, and hands every block to the meter thread
//! (`live_meters.rs`). Meter frames reach the window through a lock-free ring; when the
//! window or the meters are slow, frames are dropped, never audio.

use super::live_masking::LiveMasking;
use super::live_meters::{MeterRings, MeterWorker, SpectrumChoice, Tap, BLOCK, TAPS};
use super::meters::MeterFrame;
use super::state::StripRef;
use crate::playback::{
    on_engine_pool, open_output, push_stereo, rings, Engine, OutputCallback, PlaybackCounters, Step,
};
use crate::playback::{AutomationPass, WrittenLane, DEFAULT_GLIDE};
use gpu_dsp::gpu::GpuContext;
use gpu_dsp::mix::{AutomationMode, Insert, InsertSpec, Layout, MixSpec, Mixer, ParamId, Target};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

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
    /// A hand on a track's control that writes automation: grabbed at, moved to, let go.
    Ride(usize, Target, Ride),
}

/// What a hand does to a control that writes automation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ride {
    Touch(f32),
    Move(f32),
    Release,
}

/// How to start playing in the window.
pub struct LivePlay<'a> {
    /// Where to start (seconds).
    pub from: f64,
    /// The GPU for the reverbs' tails, the clean inserts and the live spectrogram.
    pub gpu: Option<Arc<GpuContext>>,
    /// The stem the live spectrogram shows (`None`: the monitor).
    pub spectrum_stem: Option<usize>,
    /// The window's live insert settings (track or bus, insert, parameter, value).
    pub insert_settings: &'a [(usize, usize, String, f32)],
    pub bus_insert_settings: &'a [(usize, usize, String, f32)],
    /// Loop between these times (seconds).
    pub looped: Option<(f64, f64)>,
    /// Each track's and bus's automation mode: those in `touch`, `latch`, `write` or
    /// `trim` write a pass (their lanes come back from [`LiveEngine::finish`]).
    pub modes: Vec<AutomationMode>,
    pub bus_modes: Vec<AutomationMode>,
    /// Called on the engine thread with `true` before each block and `false` after it,
    /// and on the engine pool's other threads with `true` when they start and `false` when
    /// they end (the real-time test counts allocations in between).
    pub block_hook: fn(bool),
}

impl LivePlay<'_> {
    /// Plays from `from` seconds with no GPU, no live settings, no loop.
    pub fn from(from: f64) -> LivePlay<'static> {
        LivePlay {
            from,
            gpu: None,
            spectrum_stem: None,
            insert_settings: &[],
            bus_insert_settings: &[],
            looped: None,
            modes: Vec::new(),
            bus_modes: Vec::new(),
            block_hook: |_| {},
        }
    }
}

/// A running engine and its meter thread; dropping it stops both.
pub struct LiveEngine {
    stop: Arc<AtomicBool>,
    /// Set when the meter thread measured every block the engine played to the end.
    finished: Arc<AtomicBool>,
    /// The engine thread gives back the lanes its pass wrote.
    engine_thread: Option<JoinHandle<Vec<WrittenLane>>>,
    meter_thread: Option<JoinHandle<()>>,
    meters: rtrb::Consumer<MeterFrame>,
    console: rtrb::Producer<Command>,
    swaps: rtrb::Producer<Box<Mixer>>,
    /// Each swapped mix's spec for the meter thread, with the generation it starts.
    mixes: rtrb::Producer<(u64, Box<MixSpec>)>,
    generation: u64,
    spectrum_of: SpectrumChoice,
    layout: Layout,
    gpu: Option<Arc<GpuContext>>,
    _stream: Option<cpal::Stream>,
    /// The mix the pass armed on (its lanes are named from it), and whether one is armed.
    armed_on: Option<MixSpec>,
    writes: bool,
    /// Why there is no sound, if there is none.
    pub note: Option<String>,
}

impl LiveEngine {
    /// Starts playing `spec` as `play` says: the engine thread renders (and, with a GPU,
    /// runs the reverbs' tails and clean inserts there), the meter thread measures.
    pub fn start(spec: MixSpec, play: LivePlay<'_>) -> anyhow::Result<Self> {
        let rate = spec.sample_rate;
        let layout = spec.layout;
        let samples = |s: f64| (s.max(0.0) * f64::from(rate)).round() as u64;
        let loop_range = play
            .looped
            .map(|(a, b)| (samples(a), samples(b)))
            .filter(|(a, b)| b > a);
        let meter_spec = spec.clone();
        let mixer = build_mixer(
            spec,
            play.gpu.clone(),
            play.insert_settings,
            play.bus_insert_settings,
        )?;
        let start = (play.from.max(0.0) * f64::from(rate)) as u64;
        let tracks = mixer.spec().tracks.len();
        let pass = AutomationPass::new(&mixer, &play.modes, &play.bus_modes, DEFAULT_GLIDE);
        let writes = pass.is_armed();
        let armed_on = writes.then(|| mixer.spec().clone());
        let total = mixer.spec().length() + mixer.tail();
        let stop = Arc::new(AtomicBool::new(false));
        let engine_done = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        let (frames_tx, meters) = rtrb::RingBuffer::new(256);
        let (console, console_rx) = rtrb::RingBuffer::new(256);
        let (swaps, swaps_rx) = rtrb::RingBuffer::new(2);
        let (mixes, mixes_rx) = rtrb::RingBuffer::new(8);
        let (played_tx, played_rx) = rtrb::RingBuffer::new(TAPS);
        let (mut free_tx, free_rx) = rtrb::RingBuffer::new(TAPS);
        for _ in 0..TAPS {
            let _ = free_tx.push(Tap::for_mixer(&mixer));
        }
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
            pass,
            pass_started: false,
            engine,
            swaps: swaps_rx,
            generation: 0,
            played: played_tx,
            free: free_rx,
            console: console_rx,
            discard: (vec![0.0; tracks], vec![0.0; tracks]),
            spare: None,
            hook: play.block_hook,
        };
        let spectrum_of = SpectrumChoice::new(play.spectrum_stem);
        let meter = MeterWorker::new(
            meter_spec,
            MeterRings {
                played: played_rx,
                free: free_tx,
                mixes: mixes_rx,
                frames: frames_tx,
            },
            spectrum_of.clone(),
            play.gpu.clone(),
        );
        let engine_thread = {
            let (stop, done) = (stop.clone(), engine_done.clone());
            std::thread::Builder::new()
                .name("mixstation-gui-engine".into())
                .spawn(move || {
                    let hook = worker.hook;
                    let mut worker = Some(worker);
                    // On the engine's own pool a block allocates nothing; without one (no
                    // threads to be had), it still plays.
                    let pooled = on_engine_pool("mixstation-gui-engine", hook, || {
                        worker.take().map(|w| w.run(&stop))
                    });
                    let lanes = match (pooled, worker.take()) {
                        (Ok(Some(lanes)), _) => lanes,
                        (_, Some(w)) => w.run(&stop),
                        _ => Vec::new(),
                    };
                    done.store(true, Ordering::Release);
                    lanes
                })?
        };
        let meter_thread = {
            let (stop, done, finished) = (stop.clone(), engine_done.clone(), finished.clone());
            std::thread::Builder::new()
                .name("mixstation-gui-meters".into())
                .spawn(move || {
                    meter.run(&stop, &done);
                    finished.store(true, Ordering::Release);
                })?
        };
        Ok(Self {
            stop,
            finished,
            engine_thread: Some(engine_thread),
            meter_thread: Some(meter_thread),
            meters,
            console,
            swaps,
            mixes,
            generation: 0,
            spectrum_of,
            layout,
            gpu: play.gpu,
            _stream: stream,
            armed_on,
            writes,
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
        if self.swaps.slots() == 0 || self.mixes.slots() == 0 {
            anyhow::bail!("the engine has not taken the previous change yet");
        }
        let meter_spec = Box::new(spec.clone());
        let mixer = build_mixer(spec, self.gpu.clone(), insert_settings, bus_insert_settings)?;
        self.generation += 1;
        // Both rings had room, and only this thread pushes to them.
        let _ = self.mixes.push((self.generation, meter_spec));
        let _ = self.swaps.push(Box::new(mixer));
        Ok(())
    }

    /// The meter frames that arrived since the last call.
    pub fn poll(&mut self) -> Vec<MeterFrame> {
        let mut out = Vec::new();
        while let Ok(f) = self.meters.pop() {
            out.push(f);
        }
        out
    }

    /// Whether the engine reached the end of the session and every block was measured.
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
        self.spectrum_of.set(stem);
    }
}

impl LiveEngine {
    /// Stops playing and gives back the automation the pass wrote as edit commands (the
    /// whole lanes to keep, thinned; named from the mix the pass armed on), empty when
    /// nothing was written.
    pub fn finish(mut self) -> Vec<crate::edit::Command> {
        let lanes = self.stop_threads();
        match &self.armed_on {
            Some(spec) => crate::playback::lane_commands(spec, &lanes),
            None => Vec::new(),
        }
    }

    /// True when a pass is armed (some track writes): an edit then restarts playback
    /// rather than swapping the mix under the pass.
    pub fn writes(&self) -> bool {
        self.writes
    }

    /// The lanes the pass wrote (for tests).
    #[cfg(test)]
    fn finish_lanes(mut self) -> Vec<WrittenLane> {
        self.stop_threads()
    }

    fn stop_threads(&mut self) -> Vec<WrittenLane> {
        self.stop.store(true, Ordering::Relaxed);
        let lanes = self
            .engine_thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        if let Some(t) = self.meter_thread.take() {
            let _ = t.join();
        }
        lanes
    }

    /// A hand on track `track`'s `target` (fader or pan) that writes automation.
    pub fn ride(&mut self, track: usize, target: Target, ride: Ride) {
        let _ = self.console.push(Command::Ride(track, target, ride));
    }
}

impl Drop for LiveEngine {
    fn drop(&mut self) {
        self.stop_threads();
    }
}

/// The engine thread: renders, applies the window's changes and hands each played block to
/// the meter thread. It allocates nothing per block (`app/tests/window_engine.rs`).
struct Worker {
    /// The automation pass being written (nothing armed when no track writes).
    pass: AutomationPass,
    pass_started: bool,
    /// The playback engine (the same as `mixstation play`'s), paced to real time.
    engine: Engine,
    /// New mixes after edits, taken at the next block; how many were taken.
    swaps: rtrb::Consumer<Box<Mixer>>,
    generation: u64,
    /// Played blocks out to the meter thread, and empty taps back.
    played: rtrb::Producer<Tap>,
    free: rtrb::Consumer<Tap>,
    console: rtrb::Consumer<Command>,
    /// Levels of the blocks in the latency (not heard, not measured).
    discard: (Vec<f32>, Vec<f32>),
    /// A tap taken from the pool but not filled (a block in the latency).
    spare: Option<Tap>,
    hook: fn(bool),
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

impl Worker {
    /// Plays to the end (or until `stop`); returns the lanes the pass wrote.
    fn run(mut self, stop: &AtomicBool) -> Vec<WrittenLane> {
        loop {
            (self.hook)(true);
            let played = self.block(stop);
            (self.hook)(false);
            if !played {
                break;
            }
        }
        let heard = self.engine.heard();
        let lanes = self.pass.stop(self.engine.mixer(), heard);
        // Let the sound card play what is still in the ring (up to half a second).
        self.engine.drain(stop, Duration::from_millis(600));
        lanes
    }

    /// Takes the window's changes and plays one block; false at the end.
    fn block(&mut self, stop: &AtomicBool) -> bool {
        // A new mix after an edit: from the next sample on, crossfaded over one block.
        if !self.engine.in_latency() {
            if let Ok(next) = self.swaps.pop() {
                self.engine.swap_in(*next);
                self.generation += 1;
                let tracks = self.engine.mixer().spec().tracks.len();
                self.discard.0.resize(tracks, 0.0);
                self.discard.1.resize(tracks, 0.0);
            }
        }
        // The pass starts with the first heard block (after the mix's latency).
        if !self.pass_started && !self.engine.in_latency() {
            self.pass_started = true;
            let heard = self.engine.heard();
            self.pass.start(self.engine.mixer(), heard);
        }
        while let Ok(command) = self.console.pop() {
            self.apply(command);
        }
        self.pass.follow(self.engine.mixer());
        // A meter thread that has every tap still to measure costs this block's meters.
        let mut tap = self.spare.take().or_else(|| self.free.pop().ok());
        let generation = self.generation;
        let pass = &self.pass;
        let step = self.engine.step(stop, |b| {
            if let Some(t) = &mut tap {
                t.generation = generation;
                t.fill(b.mixer, (b.position, b.n), b.master);
                t.fill_monitor(b.left, b.right);
                // A fader the pass is writing shows what it writes.
                pass.fader_values(b.position, &mut t.faders);
            }
        });
        let mixer = self.engine.mixer();
        match step {
            Step::Played(()) => {
                // Without a tap the levels carry over to the next measured block.
                if let Some(mut t) = tap {
                    t.take_levels(mixer);
                    // The pool holds exactly the taps there are, so there is always room.
                    let _ = self.played.push(t);
                }
                true
            }
            Step::Skipped => {
                // The latency's levels are not the playhead's.
                let (peaks, rms) = &mut self.discard;
                mixer.take_track_levels(peaks, rms);
                self.spare = tap;
                true
            }
            Step::Ended => {
                self.spare = tap;
                false
            }
        }
    }

    /// A live change from the window.
    fn apply(&mut self, command: Command) {
        if let Command::Ride(track, target, ride) = command {
            let heard = self.engine.heard();
            let (pass, mixer) = (&mut self.pass, self.engine.mixer());
            match ride {
                Ride::Touch(v) => pass.touch(mixer, track, target, f64::from(v), heard),
                Ride::Move(v) => pass.moved(mixer, track, target, f64::from(v), heard),
                Ride::Release => pass.release(track, target, heard),
            }
            return;
        }
        let mixer = self.engine.mixer();
        match command {
            Command::Console(i, g, p, m, s) => mixer.set_track_console(i, g, p, m, s),
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
            Command::Ride(..) => {}
        }
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
        let mut engine = LiveEngine::start(
            spec,
            LivePlay {
                looped: Some((0.1, 0.3)),
                ..LivePlay::from(0.0)
            },
        )
        .unwrap();
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
}

#[cfg(test)]
mod ride_tests {
    use super::*;
    use std::time::Instant;

    /// A hand rides a fader in `touch` while the window's engine plays: the meters show the
    /// ride, and after the release the glide back to the static fader (0 dB); stopping gives
    /// back one thinned lane that holds the ride and returns to 0 dB.
    #[test]
    fn a_ride_in_touch_is_heard_shown_and_given_back_as_a_lane() {
        let spec = MixSpec::one_track(48_000, vec![0.1f32; 4 * 48_000]);
        let mut engine = LiveEngine::start(
            spec,
            LivePlay {
                modes: vec![AutomationMode::Touch],
                ..LivePlay::from(0.0)
            },
        )
        .unwrap();
        let mut frames = Vec::new();
        let mut wait = |engine: &mut LiveEngine, ms: u64| {
            let until = Instant::now() + Duration::from_millis(ms);
            while Instant::now() < until {
                frames.extend(engine.poll());
                std::thread::sleep(Duration::from_millis(5));
            }
        };
        wait(&mut engine, 300);
        engine.ride(0, Target::GainDb, Ride::Touch(0.0));
        for k in 1..=10 {
            engine.ride(0, Target::GainDb, Ride::Move(-2.0 * k as f32));
            wait(&mut engine, 20);
        }
        wait(&mut engine, 400);
        engine.ride(0, Target::GainDb, Ride::Release);
        wait(&mut engine, 600);
        let lanes = engine.finish_lanes();
        let shown: Vec<f32> = frames.iter().filter_map(|f| f.track_fader_db[0]).collect();
        assert!(
            shown.iter().any(|&v| (v + 20.0).abs() < 1e-3),
            "the ride is shown: {shown:?}"
        );
        // The glide: values strictly between the ride and the fader, then nothing shown.
        assert!(
            shown.iter().any(|&v| v > -19.0 && v < -1.0),
            "no glide shown: {shown:?}"
        );
        assert_eq!(frames.last().and_then(|f| f.track_fader_db[0]), None);
        // The track's level follows the ride (20 dB down), and is back where it was after
        // the glide.
        let peaks: Vec<f32> = frames.iter().map(|f| f.track_peak_db[0]).collect();
        let start = peaks[0];
        let quiet = peaks
            .iter()
            .filter(|p| (*p - (start - 20.0)).abs() < 0.1)
            .count();
        assert!(quiet > 5, "the ride is heard ({quiet} frames): {peaks:?}");
        let end = peaks[peaks.len() - 1];
        assert!((end - start).abs() < 1e-3, "back at the fader: {peaks:?}");
        assert_eq!(lanes.len(), 1, "{lanes:?}");
        let lane = &lanes[0];
        assert_eq!((lane.strip, lane.target), (0.into(), Target::GainDb));
        assert!(lane.points.len() < 20, "thinned: {:?}", lane.points);
        assert!(lane.points.iter().any(|p| (p.1 + 20.0).abs() < 1e-6));
        let last = lane.points.last().unwrap();
        assert!(last.1.abs() < 1e-6, "back to the fader: {:?}", lane.points);
        // The glide is DEFAULT_GLIDE long: from the last −20 dB point to 0 dB.
        let held = lane
            .points
            .iter()
            .rev()
            .find(|p| (p.1 + 20.0).abs() < 1e-6)
            .unwrap();
        let back = lane
            .points
            .iter()
            .find(|p| p.0 > held.0 && p.1.abs() < 1e-6)
            .unwrap();
        assert!(
            (back.0 - held.0 - DEFAULT_GLIDE).abs() < 1e-6,
            "{:?}",
            lane.points
        );
    }
}
