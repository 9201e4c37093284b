//! `mixstation play` under control: an OSC surface moves the console while the session
//! plays, armed tracks write their moves as automation (stamped with the position being
//! heard), controls in `read` follow their envelopes (sent back to the surface), and when
//! playback stops the written lanes are saved to the session as one undo step.

use super::osc::{Control, OscServer, Touchable};
use super::{AutomationPass, Engine, Step, StripAt, WrittenLane, DEFAULT_GLIDE};
use crate::edit::{Command, EditSession, LaneEdit};
use crate::session::groups::{Groups, Link};
use anyhow::{Context, Result};
use gpu_dsp::mix::{Automation, AutomationMode, MixSpec, Mixer, Target};
use rosc::{OscMessage, OscType};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Samples per engine block under control (about 21 ms at 48 kHz: a move lands within one).
const BLOCK: usize = 1024;
/// Feedback to the surface at most this often.
const FEEDBACK: Duration = Duration::from_millis(33);

/// How `play` runs under control.
pub struct ControlOptions {
    /// `HOST:PORT` to listen on for OSC.
    pub osc: Option<String>,
    /// Arms every track in this mode (instead of each track's `automation_mode`).
    pub write: Option<AutomationMode>,
    /// The tracks' and buses' modes from the session.
    pub track_modes: Vec<AutomationMode>,
    pub bus_modes: Vec<AutomationMode>,
    /// Track groups: a move of one member moves the others.
    pub groups: Groups,
}

/// What a controlled playback did.
#[derive(Debug, Default)]
pub struct ControlReport {
    pub lanes: Vec<WrittenLane>,
    pub received: u64,
    pub ignored: u64,
    pub dropped: u64,
}

/// Plays `mixer` from `from` (paced by the clock: `--device none`, or into the sound card's
/// `ring`) under control, and saves what was written to `session` when it stops.
pub fn play_controlled(
    session: &Path,
    mixer: Mixer,
    from: u64,
    ring: Option<rtrb::Producer<f32>>,
    options: &ControlOptions,
) -> Result<ControlReport> {
    let spec = mixer.spec().clone();
    let end = spec.length() + mixer.tail();
    let stop = Arc::new(AtomicBool::new(false));
    // Ctrl-C (or SIGTERM) stops playback and saves what was written; a second one ends.
    crate::io::interrupt_stops(Some(stop.clone()));
    let (controls_tx, mut controls) = rtrb::RingBuffer::new(4096);
    let server = match &options.osc {
        Some(addr) => Some(OscServer::start(
            addr,
            spec.clone(),
            controls_tx,
            stop.clone(),
        )?),
        None => None,
    };
    if let Some(addr) = server.as_ref().and_then(OscServer::local_addr) {
        say!("listening for OSC on {addr}");
    }
    let paced = ring.is_none();
    let mut engine = Engine::new(mixer, from, end, BLOCK, ring);
    if paced {
        engine = engine.paced();
    }
    let modes: Vec<AutomationMode> = (0..spec.tracks.len())
        .map(|t| {
            options
                .write
                .unwrap_or_else(|| options.track_modes.get(t).copied().unwrap_or_default())
        })
        .collect();
    let bus_modes: Vec<AutomationMode> = (0..spec.buses.len())
        .map(|b| {
            options
                .write
                .unwrap_or_else(|| options.bus_modes.get(b).copied().unwrap_or_default())
        })
        .collect();
    let mut state = Console::new(engine.mixer(), modes, bus_modes, options.groups.clone());
    let never = AtomicBool::new(false);
    state.start(&mut engine, &never);
    say!(
        "playing from {:.2} s{}",
        from as f64 / f64::from(spec.sample_rate),
        if state.pass.is_armed() {
            ", writing automation"
        } else {
            ""
        }
    );
    let mut last_feedback = Instant::now();
    loop {
        while let Ok((arrived, control)) = controls.pop() {
            if !state.apply(&mut engine, control, arrived, &never) {
                stop.store(true, Ordering::Relaxed);
            }
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
        state.pass.follow(engine.mixer());
        match engine.step(&stop, |_| ()) {
            Step::Ended => break,
            Step::Played(()) | Step::Skipped => {}
        }
        if let Some(s) = &server {
            if last_feedback.elapsed() >= FEEDBACK {
                last_feedback = Instant::now();
                s.send(state.feedback(&mut engine));
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    crate::io::interrupt_stops(None);
    if let Some(e) = engine.mixer().error() {
        eprintln!("warning: {e}");
    }
    let heard = engine.heard();
    state.finish_pass(engine.mixer(), heard);
    let mut report = ControlReport {
        lanes: std::mem::take(&mut state.written),
        ..Default::default()
    };
    if let Some(s) = server {
        report.received = s.counters.received.load(Ordering::Relaxed);
        report.ignored = s.counters.ignored.load(Ordering::Relaxed);
        report.dropped = s.counters.dropped.load(Ordering::Relaxed);
    }
    if !report.lanes.is_empty() {
        save_lanes(session, &spec, &report.lanes)?;
    }
    Ok(report)
}

/// The console as the surface drives it: the pass being written and what was written.
struct Console {
    spec: MixSpec,
    modes: Vec<AutomationMode>,
    bus_modes: Vec<AutomationMode>,
    groups: Groups,
    pass: AutomationPass,
    /// Lanes written by the passes so far (a locate ends a pass), latest per target.
    written: Vec<WrittenLane>,
    /// What was last sent back, per track: gain, pan.
    sent: Vec<(f32, f32)>,
    peaks: Vec<f32>,
    rms: Vec<f32>,
}

impl Console {
    fn new(
        mixer: &Mixer,
        modes: Vec<AutomationMode>,
        bus_modes: Vec<AutomationMode>,
        groups: Groups,
    ) -> Self {
        let spec = mixer.spec();
        let tracks = spec.tracks.len();
        Self {
            pass: AutomationPass::new(mixer, &modes, &bus_modes, DEFAULT_GLIDE),
            spec: spec.clone(),
            modes,
            bus_modes,
            groups,
            written: Vec::new(),
            sent: vec![(f32::NAN, f32::NAN); tracks],
            peaks: vec![0.0; tracks],
            rms: vec![0.0; tracks],
        }
    }

    /// Renders the mix's latency and starts a pass at the first audible sample.
    fn start(&mut self, engine: &mut Engine, stop: &AtomicBool) {
        while engine.in_latency() {
            let _ = engine.step(stop, |_| ());
        }
        let heard = engine.heard();
        self.pass.start(engine.mixer(), heard);
    }

    /// Ends the pass at `heard`: its lanes replace earlier ones of the same targets and go
    /// into the playing mix.
    fn finish_pass(&mut self, mixer: &mut Mixer, heard: u64) {
        let rate = f64::from(self.spec.sample_rate);
        for lane in self.pass.stop(mixer, heard) {
            if let Ok(env) = Automation::new(&lane.points, rate) {
                let automation = match lane.strip {
                    StripAt::Track(t) => {
                        mixer.set_track_automation(t, lane.target, Some(env.clone()));
                        self.spec.tracks.get_mut(t).map(|t| &mut t.automation)
                    }
                    StripAt::Bus(b) => {
                        mixer.set_bus_automation(b, lane.target, Some(env.clone()));
                        self.spec.buses.get_mut(b).map(|b| &mut b.automation)
                    }
                };
                if let Some(automation) = automation {
                    automation.retain(|(k, _)| *k != lane.target);
                    automation.push((lane.target, env));
                }
            }
            self.written
                .retain(|w| !(w.strip == lane.strip && w.target == lane.target));
            self.written.push(lane);
        }
    }

    /// The value track `t`'s `target` control shows now: its envelope where one plays there
    /// (the fader follows the automation), else its setting.
    fn shown(&self, mixer: &Mixer, strip: impl Into<StripAt>, target: Target, heard: u64) -> f64 {
        let strip = strip.into();
        // A control that is writing shows what it writes (a latch grabbed again stays put).
        if let Some(v) = self.pass.writing_value(strip, target) {
            return v;
        }
        let spec = mixer.spec();
        let (automation, mode) = match strip {
            StripAt::Track(t) => (&spec.tracks[t].automation, self.modes[t]),
            StripAt::Bus(b) => (&spec.buses[b].automation, self.bus_modes[b]),
        };
        if let Some((_, env)) = automation.iter().find(|(k, _)| *k == target) {
            if mode != AutomationMode::Write || !self.pass.armed(strip, target) {
                return f64::from(env.value_at(heard as f64));
            }
        }
        f64::from(match (strip, target) {
            (StripAt::Bus(b), Target::GainDb) => spec.buses[b].gain_db,
            (StripAt::Bus(b), Target::Insert(k, id)) => {
                mixer.bus_insert_param(b, k, id).unwrap_or(0.0)
            }
            (StripAt::Bus(_), _) => 0.0,
            (StripAt::Track(t), Target::GainDb) => spec.tracks[t].gain_db,
            (StripAt::Track(t), Target::Pan) => spec.tracks[t].pan,
            (StripAt::Track(t), Target::SendDb(k)) => {
                spec.tracks[t].sends.get(k).map_or(0.0, |s| s.level_db)
            }
            (StripAt::Track(t), Target::Insert(k, id)) => {
                mixer.track_insert_param(t, k, id).unwrap_or(0.0)
            }
        })
    }

    /// Applies one control that arrived at `arrived`; false for a stop.
    fn apply(
        &mut self,
        engine: &mut Engine,
        control: Control,
        arrived: Instant,
        stop: &AtomicBool,
    ) -> bool {
        let heard = engine.heard_at(arrived);
        let target_of = |what: Touchable| match what {
            Touchable::Gain => Target::GainDb,
            Touchable::Pan => Target::Pan,
            Touchable::Send(k) => Target::SendDb(k),
            Touchable::Insert(k, id) => Target::Insert(k, id),
        };
        let moved = |me: &mut Self, engine: &mut Engine, t: usize, target: Target, v: f64| {
            let mixer = engine.mixer();
            me.control(mixer, StripAt::Track(t), target, v, heard);
        };
        match control {
            Control::TrackGain(t, v) => {
                // The group's other faders move by the same change in dB.
                let delta = f64::from(v) - self.shown(engine.mixer(), t, Target::GainDb, heard);
                moved(self, engine, t, Target::GainDb, f64::from(v));
                for m in self.groups.linked(t, Link::Fader) {
                    let now = self.shown(engine.mixer(), m, Target::GainDb, heard);
                    moved(
                        self,
                        engine,
                        m,
                        Target::GainDb,
                        (now + delta).clamp(-144.0, 24.0),
                    );
                }
            }
            Control::TrackPan(t, v) => moved(self, engine, t, Target::Pan, f64::from(v)),
            Control::SendLevel(t, k, v) => moved(self, engine, t, Target::SendDb(k), f64::from(v)),
            Control::Touch(t, what, on) => {
                let target = target_of(what);
                // A grouped fader grabs (and lets go of) the group's other faders with it.
                let linked = match what {
                    Touchable::Gain => self.groups.linked(t, Link::Fader),
                    _ => Vec::new(),
                };
                for k in std::iter::once(t).chain(linked) {
                    if on {
                        let value = self.shown(engine.mixer(), k, target, heard);
                        self.pass.touch(engine.mixer(), k, target, value, heard);
                    } else {
                        self.pass.release(k, target, heard);
                    }
                }
            }
            Control::BusTouch(b, on) => {
                let strip = StripAt::Bus(b);
                if on {
                    let value = self.shown(engine.mixer(), strip, Target::GainDb, heard);
                    self.pass
                        .touch(engine.mixer(), strip, Target::GainDb, value, heard);
                } else {
                    self.pass.release(strip, Target::GainDb, heard);
                }
            }
            Control::TrackMute(t, on) => {
                for k in std::iter::once(t).chain(self.groups.linked(t, Link::Mute)) {
                    let tr = &engine.mixer().spec().tracks[k];
                    let (g, p, s) = (tr.gain_db, tr.pan, tr.solo);
                    engine.mixer().set_track_console(k, g, p, on, s);
                }
            }
            Control::TrackSolo(t, on) => {
                for k in std::iter::once(t).chain(self.groups.linked(t, Link::Solo)) {
                    let tr = &engine.mixer().spec().tracks[k];
                    let (g, p, m) = (tr.gain_db, tr.pan, tr.mute);
                    engine.mixer().set_track_console(k, g, p, m, on);
                }
            }
            Control::InsertParam(t, k, id, v) => {
                let target = Target::Insert(k, id);
                self.control(
                    engine.mixer(),
                    StripAt::Track(t),
                    target,
                    f64::from(v),
                    heard,
                );
            }
            Control::BusGain(b, v) => {
                let (target, v) = (Target::GainDb, f64::from(v));
                self.control(engine.mixer(), StripAt::Bus(b), target, v, heard);
            }
            Control::Play => {}
            Control::Stop => return false,
            Control::Locate(seconds) => {
                self.finish_pass(engine.mixer(), heard);
                let to = (seconds * f64::from(self.spec.sample_rate)) as u64;
                engine.locate(to);
                self.pass = AutomationPass::new(
                    engine.mixer(),
                    &self.modes,
                    &self.bus_modes,
                    DEFAULT_GLIDE,
                );
                self.start(engine, stop);
            }
        }
        true
    }

    /// A surface's move of `strip`'s `target` to `v`: written when it is armed; else a
    /// control whose envelope plays is refused (the surface gets the envelope's value
    /// back), one without an envelope changes live.
    fn control(&mut self, mixer: &mut Mixer, strip: StripAt, target: Target, v: f64, heard: u64) {
        if self.pass.armed(strip, target) {
            self.pass.moved(mixer, strip, target, v, heard);
            return;
        }
        let (automation, mode) = match strip {
            StripAt::Track(t) => (&mixer.spec().tracks[t].automation, self.modes[t]),
            StripAt::Bus(b) => (&mixer.spec().buses[b].automation, self.bus_modes[b]),
        };
        let has_env = automation.iter().any(|(k, _)| *k == target);
        if has_env && mode != AutomationMode::Off {
            return;
        }
        super::write::apply(mixer, strip, target, v);
    }

    /// The surface's update: every track's fader and pan where they changed (a control in
    /// `read` follows its envelope), and its peak meter in dBFS.
    fn feedback(&mut self, engine: &mut Engine) -> Vec<OscMessage> {
        let heard = engine.heard();
        let mixer = engine.mixer();
        mixer.take_track_levels(&mut self.peaks, &mut self.rms);
        let mut out = Vec::new();
        for t in 0..self.spec.tracks.len() {
            let name = &self.spec.tracks[t].name;
            let gain = self.shown(mixer, t, Target::GainDb, heard) as f32;
            let pan = self.shown(mixer, t, Target::Pan, heard) as f32;
            let msg = |what: &str, v: f32| OscMessage {
                addr: format!("/track/{name}/{what}"),
                args: vec![OscType::Float(v)],
            };
            if (gain - self.sent[t].0).abs() > 0.01 || self.sent[t].0.is_nan() {
                out.push(msg("gain_db", gain));
            }
            if (pan - self.sent[t].1).abs() > 0.001 || self.sent[t].1.is_nan() {
                out.push(msg("pan", pan));
            }
            self.sent[t] = (gain, pan);
            let peak = 20.0 * self.peaks[t].max(1e-9).log10();
            out.push(msg("meter", peak.max(-120.0)));
        }
        out
    }
}

/// Saves written lanes into the session file as one undo step of `automation … points`
/// commands (checked as a load would check them), atomically.
pub fn save_lanes(session: &Path, spec: &MixSpec, lanes: &[WrittenLane]) -> Result<()> {
    let mut edit = EditSession::open(session)?;
    let commands = lane_commands(spec, lanes);
    edit.apply_all(&commands)
        .with_context(|| format!("{}: cannot save the written automation", session.display()))?;
    edit.save()
}

/// The edit commands that keep written lanes (each lane replaced whole: `automation STRIP
/// PARAM points ...`), applied as one undo step by the caller.
pub fn lane_commands(spec: &MixSpec, lanes: &[WrittenLane]) -> Vec<Command> {
    lanes
        .iter()
        .filter_map(|lane| {
            let (name, automation, sends, inserts) = match lane.strip {
                StripAt::Track(t) => {
                    let t = spec.tracks.get(t)?;
                    (&t.name, &t.automation, &t.sends, &t.inserts)
                }
                StripAt::Bus(b) => {
                    let b = spec.buses.get(b)?;
                    (&b.name, &b.automation, &b.sends, &b.inserts)
                }
            };
            let param = match lane.target {
                Target::GainDb => "gain_db".to_string(),
                Target::Pan => "pan".to_string(),
                Target::SendDb(k) => {
                    let bus = spec.buses.get(sends.get(k)?.bus)?;
                    format!("send.{}", bus.name)
                }
                Target::Insert(k, id) => {
                    let spec = inserts.get(k)?;
                    let name = gpu_dsp::mix::Insert::param_names(spec)
                        .into_iter()
                        .find(|n| gpu_dsp::mix::Insert::resolve(spec, n) == Some(id))?;
                    format!("insert.{}.{name}", k + 1)
                }
            };
            // Nine decimals, as the edit language writes times: points written within one
            // sample of each other stay apart.
            let points = lane
                .points
                .iter()
                .map(|&(t, v)| (format!("{t:.9}"), v))
                .collect();
            let lane_command = |edit| Command::Automation {
                strip: name.clone(),
                param: param.clone(),
                edit,
            };
            let mut out = vec![lane_command(LaneEdit::Points(points))];
            // A pass over a step lane keeps its corners as points: the lane is linear now.
            let was_step = automation
                .iter()
                .any(|(k, a)| *k == lane.target && a.is_step());
            if was_step {
                out.push(lane_command(LaneEdit::Shape("linear".into())));
            }
            Some(out)
        })
        .flatten()
        .collect()
}
