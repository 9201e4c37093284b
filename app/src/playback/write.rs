//! A pass of automation writing over the playing mix: each armed track's fader, pan, sends
//! and insert parameters, and each armed bus's fader and insert parameters, get a
//! [`PassRecorder`]; touches, moves and releases are stamped with the timeline position
//! being *heard* ([`super::Engine::heard`]: the render-ahead and the ring compensated),
//! and while a recorder writes, its control drives the mix instead of the envelope. When
//! playback stops each recorder merges its moves into its envelope.

use gpu_dsp::mix::{AutomationMode, Insert, InsertSpec, Mixer, PassRecorder, Target};

/// Seconds a `touch` or `trim` pass takes to glide back to the envelope after a release.
pub const DEFAULT_GLIDE: f64 = 0.25;

/// A track or a bus, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StripAt {
    Track(usize),
    Bus(usize),
}

impl From<usize> for StripAt {
    fn from(track: usize) -> Self {
        StripAt::Track(track)
    }
}

/// One armed control.
struct Armed {
    strip: StripAt,
    target: Target,
    /// The values it is kept in, and whether it spans them logarithmically.
    range: (f64, f64),
    log: bool,
    recorder: PassRecorder,
    /// The pass held the mix at the last [`AutomationPass::follow`].
    held: bool,
}

/// An envelope a pass wrote: the whole lane to keep.
#[derive(Clone, Debug, PartialEq)]
pub struct WrittenLane {
    pub strip: StripAt,
    pub target: Target,
    /// (seconds, value) points.
    pub points: Vec<(f64, f64)>,
}

/// The recorders of one pass (play → stop).
pub struct AutomationPass {
    rate: f64,
    armed: Vec<Armed>,
}

/// Points a control's first written stretch holds before it allocates on the engine thread
/// (about a minute of moves at 60 per second; a longer ride, or a later stretch, grows it —
/// this thread renders ahead, it is not the audio callback).
const MOVES: usize = 1 << 12;

/// The levels a fader or send is kept in (dB).
const LEVEL: (f64, f64) = (-200.0, 24.0);

/// A control a pass may arm: its target, the values it is kept in, its value now, and
/// whether it spans its range logarithmically.
struct Control {
    target: Target,
    range: (f64, f64),
    value: f64,
    log: bool,
}

impl Control {
    fn level(target: Target, db: f32) -> Self {
        Self::linear(target, LEVEL, db)
    }

    fn linear(target: Target, range: (f64, f64), value: f32) -> Self {
        Self {
            target,
            range,
            value: f64::from(value),
            log: false,
        }
    }

    /// Armed on `strip` in `mode` over its envelope in `automation`.
    fn arm(
        self,
        strip: StripAt,
        mode: AutomationMode,
        automation: &[(Target, gpu_dsp::mix::Automation)],
        rate: f64,
        glide: f64,
    ) -> Armed {
        let base = automation
            .iter()
            .find(|(k, _)| *k == self.target)
            .map_or_else(Vec::new, |(_, a)| a.linear_points_seconds(rate));
        // `write` takes over every fader, pan and send from play on; an insert parameter is
        // written from its first move (as `latch`), so a pass does not flatten every
        // parameter of every plug-in.
        let mode = match self.target {
            Target::Insert(..) if mode == AutomationMode::Write => AutomationMode::Latch,
            _ => mode,
        };
        let mut recorder = PassRecorder::new(mode, &base, self.value, glide);
        if self.log {
            recorder = recorder.thinned_in_log();
        }
        // Room for a minute of moves of a fader, pan or send; an insert parameter (there are
        // many, rarely ridden) starts smaller.
        recorder.reserve(match self.target {
            Target::Insert(..) => MOVES / 16,
            _ => MOVES,
        });
        Armed {
            strip,
            target: self.target,
            range: self.range,
            log: self.log,
            recorder,
            held: false,
        }
    }
}

/// Every live parameter of `inserts` as a control, with its value now.
fn insert_targets(
    inserts: &[InsertSpec],
    value: impl Fn(usize, gpu_dsp::mix::ParamId) -> Option<f32>,
) -> Vec<Control> {
    let mut out = Vec::new();
    for (k, spec) in inserts.iter().enumerate() {
        for name in Insert::param_names(spec) {
            let Some(id) = Insert::resolve(spec, &name) else {
                continue;
            };
            let Some(info) = Insert::info(spec, id) else {
                continue;
            };
            let now = value(k, id).unwrap_or(info.default);
            out.push(Control {
                target: Target::Insert(k, id),
                range: (f64::from(info.min), f64::from(info.max)),
                value: f64::from(now),
                log: info.skew == gpu_dsp::mix::params::Skew::Log,
            });
        }
    }
    out
}

impl AutomationPass {
    /// Arms the controls of every track and bus whose mode (`track_modes[t]`,
    /// `bus_modes[b]`, `read` where missing) writes, over the envelopes of `mixer`'s mix;
    /// touches glide back over `glide` seconds.
    pub fn new(
        mixer: &Mixer,
        track_modes: &[AutomationMode],
        bus_modes: &[AutomationMode],
        glide: f64,
    ) -> Self {
        let spec = mixer.spec();
        let rate = f64::from(spec.sample_rate);
        let mut armed = Vec::new();
        for (t, track) in spec.tracks.iter().enumerate() {
            let mode = track_modes.get(t).copied().unwrap_or_default();
            if !mode.writes() {
                continue;
            }
            // The file's own sends: a routed output (`output = "bus"`) is a send the loader
            // adds last, fixed at 0 dB, not a control.
            let sends = file_sends(track);
            let mut targets = vec![
                Control::level(Target::GainDb, track.gain_db),
                Control::linear(Target::Pan, (-1.0, 1.0), track.pan),
            ];
            targets.extend(
                track.sends[..sends]
                    .iter()
                    .enumerate()
                    .map(|(k, s)| Control::level(Target::SendDb(k), s.level_db)),
            );
            targets.extend(insert_targets(&track.inserts, |k, id| {
                mixer.track_insert_param(t, k, id)
            }));
            let strip = StripAt::Track(t);
            armed.extend(
                targets
                    .into_iter()
                    .map(|c| c.arm(strip, mode, &track.automation, rate, glide)),
            );
        }
        for (b, bus) in spec.buses.iter().enumerate() {
            let mode = bus_modes.get(b).copied().unwrap_or_default();
            if !mode.writes() {
                continue;
            }
            let mut targets = vec![Control::level(Target::GainDb, bus.gain_db)];
            targets.extend(insert_targets(&bus.inserts, |k, id| {
                mixer.bus_insert_param(b, k, id)
            }));
            let strip = StripAt::Bus(b);
            armed.extend(
                targets
                    .into_iter()
                    .map(|c| c.arm(strip, mode, &bus.automation, rate, glide)),
            );
        }
        Self { rate, armed }
    }

    /// True when `strip`'s `target` is armed for writing.
    pub fn armed(&self, strip: impl Into<StripAt>, target: Target) -> bool {
        let strip = strip.into();
        self.armed
            .iter()
            .any(|a| a.strip == strip && a.target == target)
    }

    /// What `strip`'s `target` control is writing now (`None` when it is not).
    pub fn writing_value(&self, strip: impl Into<StripAt>, target: Target) -> Option<f64> {
        let strip = strip.into();
        self.armed
            .iter()
            .find(|a| a.strip == strip && a.target == target && a.recorder.writing())
            .and_then(|a| a.recorder.current())
    }

    /// True when some control is armed.
    pub fn is_armed(&self) -> bool {
        !self.armed.is_empty()
    }

    /// Playback starts with the heard position at timeline sample `heard`: `write` takes
    /// over every armed control at its current value.
    pub fn start(&mut self, mixer: &mut Mixer, heard: u64) {
        let t = heard as f64 / self.rate;
        for a in &mut self.armed {
            let value = a.recorder.base_at(t);
            a.recorder.start(t, value);
            if a.recorder.writing() {
                apply(mixer, a.strip, a.target, value);
            }
            set_override(mixer, a.strip, a.target, a.recorder.writing());
        }
    }

    /// `strip`'s control `target` is grabbed at `value`.
    pub fn touch(
        &mut self,
        mixer: &mut Mixer,
        strip: impl Into<StripAt>,
        target: Target,
        value: f64,
        heard: u64,
    ) {
        let t = heard as f64 / self.rate;
        self.with(mixer, (strip.into(), target), (t, value), |r| {
            r.touch(t, value)
        });
    }

    /// `strip`'s control `target` moves to `value` (in every mode the mix hears it while
    /// that control writes; otherwise the envelope keeps playing).
    pub fn moved(
        &mut self,
        mixer: &mut Mixer,
        strip: impl Into<StripAt>,
        target: Target,
        value: f64,
        heard: u64,
    ) {
        let t = heard as f64 / self.rate;
        self.with(mixer, (strip.into(), target), (t, value), |r| {
            r.moved(t, value)
        });
    }

    /// `strip`'s control `target` is let go: in `touch` and `trim` the mix glides back to
    /// the envelope with the lane, from the next [`AutomationPass::follow`] on.
    pub fn release(&mut self, strip: impl Into<StripAt>, target: Target, heard: u64) {
        let t = heard as f64 / self.rate;
        if let Some(a) = self.find(strip.into(), target) {
            a.recorder.release(t);
        }
    }

    /// Before `mixer` renders its next block (its tracks at [`Mixer::position`]): writing
    /// controls hold the mix (a trim's offset rides the envelope there), controls gliding
    /// back after a release play the lane's glide, and the others hand the mix back to the
    /// envelope. Also puts the pass onto a mix swapped in after an edit. Allocation-free.
    ///
    /// A fader glides to its target over the block, so its target is the lane at the
    /// block's end: the mix then plays the lane's straight segments exactly (a bus renders
    /// a block behind its tracks; an insert parameter is set at the block's start).
    pub fn follow(&mut self, mixer: &mut Mixer) {
        let (position, block) = (mixer.position(), mixer.block() as u64);
        for a in &mut self.armed {
            let at = match (a.strip, a.target) {
                (_, Target::Insert(..)) => position,
                (StripAt::Track(_), _) => position + block,
                (StripAt::Bus(_), _) => position,
            };
            let t = at as f64 / self.rate;
            let value = a.recorder.playing_value(t);
            match value {
                Some(v) => apply(mixer, a.strip, a.target, v.clamp(a.range.0, a.range.1)),
                // The glide is over: the control's own value again (the envelope's, or
                // the static one where there is none).
                None if a.held => apply(mixer, a.strip, a.target, a.recorder.base_at(t)),
                None => {}
            }
            a.held = value.is_some();
            set_override(mixer, a.strip, a.target, a.held);
        }
    }

    /// Each track's fader where the pass holds it at timeline sample `at` (written, trimmed
    /// or gliding back) into `faders` (indexed by track; the others left as they are). One
    /// pass over the armed controls, allocation-free: the window's engine calls it per block.
    pub fn fader_values(&self, at: u64, faders: &mut [Option<f32>]) {
        let t = at as f64 / self.rate;
        for a in &self.armed {
            if let (StripAt::Track(k), Target::GainDb) = (a.strip, a.target) {
                if let (Some(f), Some(v)) = (faders.get_mut(k), a.recorder.playing_value(t)) {
                    *f = Some(v as f32);
                }
            }
        }
    }

    /// Playback stops with the heard position at `heard` (the pass is over: nothing stays
    /// armed): every control goes back to its envelope in the mix, and each armed lane that
    /// was written comes back merged and thinned (0.05 dB for levels, 0.1 % of the range
    /// for the others: of its logarithm for frequencies, times and ratios).
    pub fn stop(&mut self, mixer: &mut Mixer, heard: u64) -> Vec<WrittenLane> {
        let t = heard as f64 / self.rate;
        let mut lanes = Vec::new();
        for mut a in std::mem::take(&mut self.armed) {
            a.recorder.stop(t);
            set_override(mixer, a.strip, a.target, false);
            let (low, high) = a.range;
            let tolerance = match a.target {
                Target::GainDb | Target::SendDb(_) => 0.05,
                _ if a.log => 0.001 * (high / low).ln(),
                _ => 0.001 * (high - low),
            };
            if let Some(mut points) = a.recorder.finish(tolerance) {
                points.iter_mut().for_each(|p| p.1 = p.1.clamp(low, high));
                lanes.push(WrittenLane {
                    strip: a.strip,
                    target: a.target,
                    points,
                });
            }
        }
        lanes
    }

    fn find(&mut self, strip: StripAt, target: Target) -> Option<&mut Armed> {
        self.armed
            .iter_mut()
            .find(|a| a.strip == strip && a.target == target)
    }

    /// Runs `step` on the control's recorder, then lets the mix follow the control (at
    /// `value`, heard time `t`) while it writes.
    fn with(
        &mut self,
        mixer: &mut Mixer,
        (strip, target): (StripAt, Target),
        (t, value): (f64, f64),
        step: impl FnOnce(&mut PassRecorder),
    ) {
        let Some(a) = self.find(strip, target) else {
            return;
        };
        step(&mut a.recorder);
        let writing = a.recorder.writing();
        if writing {
            let v = a.recorder.live_value(t, value).clamp(a.range.0, a.range.1);
            apply(mixer, strip, target, v);
        }
        set_override(mixer, strip, target, writing);
    }
}

/// Sends of `track` that are in the session file (a routed output is added last by the
/// loader, as a send without its own control).
pub fn file_sends(track: &gpu_dsp::mix::TrackSpec) -> usize {
    track.sends.len() - usize::from(!track.direct && !track.sends.is_empty())
}

/// Lets `strip`'s live `target` win over its envelope (or not).
fn set_override(mixer: &mut Mixer, strip: StripAt, target: Target, on: bool) {
    match strip {
        StripAt::Track(t) => mixer.set_track_override(t, target, on),
        StripAt::Bus(b) => mixer.set_bus_override(b, target, on),
    };
}

/// Sets `strip`'s `target` live to `value`.
pub(crate) fn apply(mixer: &mut Mixer, strip: StripAt, target: Target, value: f64) {
    let track = match strip {
        StripAt::Track(t) => t,
        StripAt::Bus(b) => {
            match target {
                Target::GainDb => mixer.set_bus_gain(b, value.clamp(LEVEL.0, LEVEL.1) as f32),
                Target::Insert(k, id) => {
                    mixer.set_bus_insert_param(b, k, id, value as f32);
                }
                Target::Pan | Target::SendDb(_) => {}
            }
            return;
        }
    };
    let Some(t) = mixer.spec().tracks.get(track) else {
        return;
    };
    let (gain, pan, mute, solo) = (t.gain_db, t.pan, t.mute, t.solo);
    match target {
        Target::GainDb => {
            mixer.set_track_console(track, value.clamp(LEVEL.0, LEVEL.1) as f32, pan, mute, solo)
        }
        Target::Pan => {
            mixer.set_track_console(track, gain, value.clamp(-1.0, 1.0) as f32, mute, solo)
        }
        Target::SendDb(k) => {
            mixer.set_track_send_level(track, k, value.clamp(LEVEL.0, LEVEL.1) as f32)
        }
        Target::Insert(k, id) => {
            mixer.set_track_insert_param(track, k, id, value as f32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpu_dsp::mix::{BusSpec, MixSpec, SendSpec};

    #[test]
    fn a_routed_output_is_not_armed_and_off_tracks_are_not_armed() {
        let mut spec = MixSpec::one_track(48_000, vec![0.0; 10]);
        spec.tracks.push(spec.tracks[0].clone());
        let bus = |name: &str| BusSpec {
            name: name.into(),
            gain_db: -3.0,
            mute: false,
            solo: false,
            inserts: vec![],
            bypass: vec![],
            sends: vec![],
            automation: vec![],
        };
        spec.buses = vec![bus("hall"), bus("dx")];
        // Track 0: a send of its own and its output routed to a bus (added last at load),
        // and a compressor.
        spec.tracks[0].sends = vec![SendSpec::post_fader(0, -12.0), SendSpec::post_fader(1, 0.0)];
        spec.tracks[0].direct = false;
        spec.tracks[0].inserts = vec![gpu_dsp::mix::InsertSpec::Compressor(Default::default())];
        spec.tracks[0].bypass = vec![false];
        let mixer = Mixer::new(spec, 64).unwrap();
        let pass = AutomationPass::new(
            &mixer,
            &[AutomationMode::Touch, AutomationMode::Off],
            &[AutomationMode::Read, AutomationMode::Latch],
            DEFAULT_GLIDE,
        );
        assert!(pass.armed(0, Target::GainDb) && pass.armed(0, Target::Pan));
        assert!(pass.armed(0, Target::SendDb(0)));
        assert!(
            !pass.armed(0, Target::SendDb(1)),
            "the routed output is no control"
        );
        let ratio = gpu_dsp::mix::Insert::resolve(&mixer.spec().tracks[0].inserts[0], "ratio");
        assert!(
            pass.armed(0, Target::Insert(0, ratio.unwrap())),
            "insert parameters"
        );
        assert!(!pass.armed(1, Target::GainDb), "off writes nothing");
        assert!(pass.armed(StripAt::Bus(1), Target::GainDb), "a latch bus");
        assert!(!pass.armed(StripAt::Bus(0), Target::GainDb), "a read bus");
    }
}
