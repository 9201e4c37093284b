//! A pass of automation writing over the playing mix: each armed track's fader, pan and
//! sends get a [`PassRecorder`]; touches, moves and releases are stamped with the timeline
//! position being *heard* ([`super::Engine::heard`]: the render-ahead and the ring
//! compensated), and while a recorder writes, its control drives the mix instead of the
//! envelope. When playback stops each recorder merges its moves into its envelope.

use gpu_dsp::mix::{AutomationMode, MixSpec, Mixer, PassRecorder, Target};

/// Seconds a `touch` or `trim` pass takes to glide back to the envelope after a release.
pub const DEFAULT_GLIDE: f64 = 0.25;

/// One armed control.
struct Armed {
    track: usize,
    target: Target,
    recorder: PassRecorder,
    /// The pass held the mix at the last [`AutomationPass::follow`].
    held: bool,
}

/// An envelope a pass wrote: the whole lane to keep.
#[derive(Clone, Debug, PartialEq)]
pub struct WrittenLane {
    pub track: usize,
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

impl AutomationPass {
    /// Arms the fader, pan and sends of every track whose mode (`modes[t]`, `read` where
    /// missing) writes, over the envelopes of `spec`; touches glide back over `glide`
    /// seconds.
    pub fn new(spec: &MixSpec, modes: &[AutomationMode], glide: f64) -> Self {
        let rate = f64::from(spec.sample_rate);
        let mut armed = Vec::new();
        for (t, track) in spec.tracks.iter().enumerate() {
            let mode = modes.get(t).copied().unwrap_or_default();
            if !mode.writes() {
                continue;
            }
            // The file's own sends: a routed output (`output = "bus"`) is a send the loader
            // adds last, fixed at 0 dB, not a control.
            let sends = file_sends(track);
            let targets = [
                (Target::GainDb, f64::from(track.gain_db)),
                (Target::Pan, f64::from(track.pan)),
            ]
            .into_iter()
            .chain(
                track.sends[..sends]
                    .iter()
                    .enumerate()
                    .map(|(k, s)| (Target::SendDb(k), f64::from(s.level_db))),
            );
            for (target, value) in targets {
                let base = track
                    .automation
                    .iter()
                    .find(|(k, _)| *k == target)
                    .map_or_else(Vec::new, |(_, a)| a.linear_points_seconds(rate));
                let mut recorder = PassRecorder::new(mode, &base, value, glide);
                recorder.reserve(MOVES);
                armed.push(Armed {
                    track: t,
                    target,
                    recorder,
                    held: false,
                });
            }
        }
        Self { rate, armed }
    }

    /// True when track `track`'s `target` is armed for writing.
    pub fn armed(&self, track: usize, target: Target) -> bool {
        self.armed
            .iter()
            .any(|a| a.track == track && a.target == target)
    }

    /// What track `track`'s `target` control is writing now (`None` when it is not).
    pub fn writing_value(&self, track: usize, target: Target) -> Option<f64> {
        self.armed
            .iter()
            .find(|a| a.track == track && a.target == target && a.recorder.writing())
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
                apply(mixer, a.track, a.target, value);
            }
            mixer.set_track_override(a.track, a.target, a.recorder.writing());
        }
    }

    /// Track `track`'s control `target` is grabbed at `value`.
    pub fn touch(
        &mut self,
        mixer: &mut Mixer,
        track: usize,
        target: Target,
        value: f64,
        heard: u64,
    ) {
        let t = heard as f64 / self.rate;
        self.with(mixer, (track, target), (t, value), |r| r.touch(t, value));
    }

    /// Track `track`'s control `target` moves to `value` (in every mode the mix hears it
    /// while that control writes; otherwise the envelope keeps playing).
    pub fn moved(
        &mut self,
        mixer: &mut Mixer,
        track: usize,
        target: Target,
        value: f64,
        heard: u64,
    ) {
        let t = heard as f64 / self.rate;
        self.with(mixer, (track, target), (t, value), |r| r.moved(t, value));
    }

    /// Track `track`'s control `target` is let go: in `touch` and `trim` the mix glides
    /// back to the envelope with the lane, from the next [`AutomationPass::follow`] on.
    pub fn release(&mut self, track: usize, target: Target, heard: u64) {
        let t = heard as f64 / self.rate;
        if let Some(a) = self.find(track, target) {
            a.recorder.release(t);
        }
    }

    /// Before `mixer` renders its next block (its tracks at [`Mixer::position`]): writing
    /// controls hold the mix (a trim's offset rides the envelope there), controls gliding
    /// back after a release play the lane's glide, and the others hand the mix back to the
    /// envelope. Also puts the pass onto a mix swapped in after an edit. Allocation-free.
    ///
    /// A live value glides to its target over the block, so the target is the lane at the
    /// block's end: the mix then plays the lane's straight segments exactly.
    pub fn follow(&mut self, mixer: &mut Mixer) {
        let t = (mixer.position() + mixer.block() as u64) as f64 / self.rate;
        for a in &mut self.armed {
            let value = a.recorder.playing_value(t);
            match value {
                Some(v) => apply(mixer, a.track, a.target, v),
                // The glide is over: the control's own value again (the envelope's, or
                // the static one where there is none).
                None if a.held => apply(mixer, a.track, a.target, a.recorder.base_at(t)),
                None => {}
            }
            a.held = value.is_some();
            mixer.set_track_override(a.track, a.target, a.held);
        }
    }

    /// What track `track`'s `target` plays at timeline sample `at` because of the pass
    /// (written, trimmed or gliding back), `None` where its envelope plays.
    pub fn playing_value(&self, track: usize, target: Target, at: u64) -> Option<f64> {
        let t = at as f64 / self.rate;
        self.armed
            .iter()
            .find(|a| a.track == track && a.target == target)
            .and_then(|a| a.recorder.playing_value(t))
    }

    /// Playback stops with the heard position at `heard` (the pass is over: nothing stays
    /// armed): every control goes back to its envelope in the mix, and each armed lane that was written comes back merged and
    /// thinned (0.05 dB for levels, 0.1 % of the range for pan).
    pub fn stop(&mut self, mixer: &mut Mixer, heard: u64) -> Vec<WrittenLane> {
        let t = heard as f64 / self.rate;
        let mut lanes = Vec::new();
        for mut a in std::mem::take(&mut self.armed) {
            a.recorder.stop(t);
            mixer.set_track_override(a.track, a.target, false);
            let tolerance = match a.target {
                Target::Pan => 0.001 * 2.0,
                _ => 0.05,
            };
            if let Some(mut points) = a.recorder.finish(tolerance) {
                let (low, high) = target_range(a.target);
                points.iter_mut().for_each(|p| p.1 = p.1.clamp(low, high));
                lanes.push(WrittenLane {
                    track: a.track,
                    target: a.target,
                    points,
                });
            }
        }
        lanes
    }

    fn find(&mut self, track: usize, target: Target) -> Option<&mut Armed> {
        self.armed
            .iter_mut()
            .find(|a| a.track == track && a.target == target)
    }

    /// Runs `step` on the control's recorder, then lets the mix follow the control (at
    /// `value`, heard time `t`) while it writes.
    fn with(
        &mut self,
        mixer: &mut Mixer,
        (track, target): (usize, Target),
        (t, value): (f64, f64),
        step: impl FnOnce(&mut PassRecorder),
    ) {
        let Some(a) = self.find(track, target) else {
            return;
        };
        step(&mut a.recorder);
        let writing = a.recorder.writing();
        if writing {
            apply(mixer, track, target, a.recorder.live_value(t, value));
        }
        mixer.set_track_override(track, target, writing);
    }
}

/// Sends of `track` that are in the session file (a routed output is added last by the
/// loader, as a send without its own control).
pub fn file_sends(track: &gpu_dsp::mix::TrackSpec) -> usize {
    track.sends.len() - usize::from(!track.direct && !track.sends.is_empty())
}

/// The range a written value of `target` is kept in.
pub fn target_range(target: Target) -> (f64, f64) {
    match target {
        Target::Pan => (-1.0, 1.0),
        _ => (-200.0, 24.0),
    }
}

/// Sets track `track`'s `target` live to `value`.
pub(crate) fn apply(mixer: &mut Mixer, track: usize, target: Target, value: f64) {
    let Some(t) = mixer.spec().tracks.get(track) else {
        return;
    };
    let (low, high) = target_range(target);
    let value = value.clamp(low, high);
    let (gain, pan, mute, solo) = (t.gain_db, t.pan, t.mute, t.solo);
    match target {
        Target::GainDb => mixer.set_track_console(track, value as f32, pan, mute, solo),
        Target::Pan => mixer.set_track_console(track, gain, value as f32, mute, solo),
        Target::SendDb(k) => mixer.set_track_send_level(track, k, value as f32),
        Target::Insert(..) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpu_dsp::mix::SendSpec;

    #[test]
    fn a_routed_output_is_not_armed_and_off_tracks_are_not_armed() {
        let mut spec = MixSpec::one_track(48_000, vec![0.0; 10]);
        spec.tracks.push(spec.tracks[0].clone());
        // Track 0: a send of its own and its output routed to a bus (added last at load).
        spec.tracks[0].sends = vec![SendSpec::post_fader(0, -12.0), SendSpec::post_fader(1, 0.0)];
        spec.tracks[0].direct = false;
        let pass = AutomationPass::new(
            &spec,
            &[AutomationMode::Touch, AutomationMode::Off],
            DEFAULT_GLIDE,
        );
        assert!(pass.armed(0, Target::GainDb) && pass.armed(0, Target::Pan));
        assert!(pass.armed(0, Target::SendDb(0)));
        assert!(
            !pass.armed(0, Target::SendDb(1)),
            "the routed output is no control"
        );
        assert!(!pass.armed(1, Target::GainDb), "off writes nothing");
        assert_eq!(target_range(Target::Pan), (-1.0, 1.0));
    }
}
