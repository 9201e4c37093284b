//! Automation writing through the paced playback engine: in every mode a fader gesture is
//! driven while the session plays in real time; each move must land at the timeline position
//! that was being heard when it was made (within one engine block of a clock kept by the
//! test, well behind what the engine had already rendered), the mix must follow the control
//! while it writes, and the envelope kept at stop must be the mode's — checked against the
//! mode's definition and by rendering the session with it.

use gpu_dsp::mix::{
    envelope_at, pan_gains, Automation, AutomationMode, ClipSpec, Layout, MasterSpec, MixSpec,
    Mixer, Target, TrackSpec,
};
use mixstation::playback::{AutomationPass, Engine, Step};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

const RATE: u32 = 48_000;
const BLOCK: usize = 1024;
const GLIDE: f64 = 0.25;

/// The envelope under the pass: −12 dB at 0 s rising to 0 dB at 2 s.
const BASE: [(f64, f64); 2] = [(0.0, -12.0), (2.0, 0.0)];

fn base(t: f64) -> f64 {
    envelope_at(&BASE, t, 0.0)
}

/// One mono track of DC 0.5, panned centre, its fader on the base envelope.
fn session(points: &[(f64, f64)]) -> MixSpec {
    let n = 2 * RATE as usize;
    let mut track = TrackSpec::new(
        "dx",
        1,
        vec![ClipSpec {
            source: 0,
            length: n as u64,
            ..Default::default()
        }],
    );
    track.automation = vec![(
        Target::GainDb,
        Automation::new(points, f64::from(RATE)).unwrap(),
    )];
    MixSpec {
        sample_rate: RATE,
        layout: Layout::Stereo,
        sources: vec![vec![vec![0.5f32; n]].into()],
        tracks: vec![track],
        buses: vec![],
        stems: vec!["DX".into()],
        master: MasterSpec::default(),
    }
}

/// The fader gain (dB) a sample of the left output carries.
fn gain_db_of(left: f32) -> f64 {
    20.0 * (f64::from(left) / (0.5 * f64::from(pan_gains(0.0).0))).log10()
}

/// When (seconds after the first audible block) the test touches, moves and releases the
/// fader and stops playback.
const TOUCH: f64 = 0.30;
const MOVE: f64 = 0.45;
const RELEASE: f64 = 0.70;
const STOP: f64 = 1.00;

/// What one pass measured: the heard position stamped at each gesture, the test's own
/// clock's estimate of it, what the engine had rendered by then, and the live output.
struct Pass {
    stamps: [u64; 4],
    clock: [f64; 4],
    rendered: [u64; 4],
    /// (timeline sample, left output) of every audible block's first sample.
    live: Vec<(u64, f32)>,
    written: Vec<(f64, f64)>,
}

/// Plays the session in real time and drives the gesture in `mode`: the control moves to
/// `to` (an offset for `trim`).
fn drive(mode: AutomationMode, to: f64) -> Pass {
    let spec = session(&BASE);
    let end = spec.length();
    let mut engine = Engine::new(
        Mixer::new(spec.clone(), BLOCK).unwrap(),
        0,
        end,
        BLOCK,
        None,
    )
    .paced();
    let stop = AtomicBool::new(false);
    while engine.in_latency() {
        let _ = engine.step(&stop, |_| ());
    }
    let mut pass = AutomationPass::new(engine.mixer(), &[mode], &[], GLIDE);
    assert_eq!(pass.is_armed(), mode.writes());
    let t0 = Instant::now();
    let heard = engine.heard();
    pass.start(engine.mixer(), heard);
    let rate = f64::from(RATE);
    // The control's value when grabbed: it follows the envelope, except in `write` (it
    // stays where playback found it) and `trim` (an offset, from 0).
    let grabbed = match mode {
        AutomationMode::Write => base(0.0),
        AutomationMode::Trim => 0.0,
        _ => f64::NAN,
    };
    let (mut stamps, mut clock, mut rendered) = ([0u64; 4], [0.0; 4], [0u64; 4]);
    let mut live = Vec::new();
    let mut next = 0;
    let times = [TOUCH, MOVE, RELEASE, STOP];
    let written = loop {
        let now = t0.elapsed().as_secs_f64();
        if now >= times[next] {
            let heard = engine.heard();
            (stamps[next], clock[next], rendered[next]) = (heard, now * rate, engine.position());
            let at = heard as f64 / rate;
            let mixer = engine.mixer();
            match next {
                0 => {
                    let value = if grabbed.is_nan() { base(at) } else { grabbed };
                    pass.touch(mixer, 0, Target::GainDb, value, heard);
                }
                1 => pass.moved(mixer, 0, Target::GainDb, to, heard),
                2 => pass.release(0, Target::GainDb, heard),
                _ => {
                    let lanes = pass.stop(mixer, heard);
                    break lanes.into_iter().next().map_or_else(Vec::new, |l| l.points);
                }
            }
            next += 1;
            continue;
        }
        pass.follow(engine.mixer());
        match engine.step(&stop, |b| (b.position, b.left[0])) {
            Step::Played(sample) => live.push(sample),
            Step::Skipped => {}
            Step::Ended => panic!("the session ended before the gesture"),
        }
    };
    Pass {
        stamps,
        clock,
        rendered,
        live,
        written,
    }
}

/// The envelope `mode` must keep for a gesture with these heard times (seconds).
fn expected(
    mode: AutomationMode,
    to: f64,
    [touch, moved, release, stop]: [f64; 4],
) -> impl Fn(f64) -> f64 {
    move |t: f64| {
        let ramp_to =
            |from: f64, t: f64| from + (to - from) * ((t - touch) / (moved - touch)).min(1.0);
        let glide = |held: f64, t: f64| {
            let left = 1.0 - ((t - release) / GLIDE).min(1.0);
            base(t) + (held - base(release)) * left
        };
        match mode {
            AutomationMode::Touch if t < touch => base(t),
            AutomationMode::Touch if t <= release => ramp_to(base(touch), t),
            AutomationMode::Touch => glide(to, t),
            AutomationMode::Latch if t < touch => base(t),
            AutomationMode::Latch if t <= stop => ramp_to(base(touch), t),
            AutomationMode::Write if t <= touch => base(0.0),
            AutomationMode::Write if t <= stop => ramp_to(base(0.0), t),
            AutomationMode::Trim if t < touch => base(t),
            AutomationMode::Trim if t <= release => base(t) + ramp_to(0.0, t),
            AutomationMode::Trim => glide(base(release) + to, t),
            _ => base(t),
        }
    }
}

#[test]
fn every_write_mode_lands_on_what_was_heard_and_renders_back() {
    let rate = f64::from(RATE);
    for (mode, to) in [
        (AutomationMode::Touch, -30.0),
        (AutomationMode::Latch, -30.0),
        (AutomationMode::Write, -30.0),
        (AutomationMode::Trim, -6.0),
        (AutomationMode::Read, -30.0),
    ] {
        let pass = drive(mode, to);
        // Each gesture lands on the heard position: within one block of the test's clock,
        // and well behind what the engine had rendered (its 100–150 ms lead compensated).
        for k in 0..4 {
            let (stamp, clock) = (pass.stamps[k] as f64, pass.clock[k]);
            assert!(
                (stamp - clock).abs() <= BLOCK as f64,
                "{mode} gesture {k}: stamped {stamp}, the clock says {clock:.0}"
            );
            let lead = pass.rendered[k] as f64 - stamp;
            assert!(
                lead >= 0.08 * rate,
                "{mode} gesture {k}: {lead} samples of lead"
            );
        }
        let heard = pass.stamps.map(|s| s as f64 / rate);
        if mode == AutomationMode::Read {
            assert!(pass.written.is_empty(), "read writes nothing");
            continue;
        }
        assert!(!pass.written.is_empty(), "{mode} wrote nothing");
        let want = expected(mode, to, heard);
        // The envelope kept: the mode's definition within the thinning tolerance (0.05 dB),
        // away from the 1 ms punch-out ramp at stop.
        let worst = (0..=1200)
            .map(|k| k as f64 * 0.001)
            .filter(|t| (t - heard[3]).abs() > 0.002)
            .map(|t| (envelope_at(&pass.written, t, f64::NAN) - want(t)).abs())
            .fold(
                0.0f64,
                |a, d| if d.is_nan() { f64::INFINITY } else { a.max(d) },
            );
        assert!(worst < 0.06, "{mode}: written envelope off by {worst} dB");
        // While it wrote, the mix followed the control: blocks rendered after the move took
        // effect and before the release carry the moved value.
        let (from, until) = (pass.rendered[1] + 2 * BLOCK as u64, pass.rendered[2]);
        let held: Vec<f64> = pass
            .live
            .iter()
            .filter(|(p, _)| (from..until).contains(p))
            .map(|&(_, l)| gain_db_of(l))
            .collect();
        assert!(held.len() > 3, "{mode}: {} blocks while held", held.len());
        let live_want = if mode == AutomationMode::Trim {
            None
        } else {
            Some(to)
        };
        if let Some(db) = live_want {
            assert!(
                held.iter().all(|g| (g - db).abs() < 0.01),
                "{mode}: live {held:?}"
            );
        }
        // After the release the mix glides back with the lane: from the second block after
        // the release (the first ramps from the hand in) to the stop, every block plays the
        // kept envelope within 0.1 dB (0.003 dB on the glide's straight part; the glide's
        // end falls inside a block, whose ramp cuts the corner by up to 0.08 dB).
        if matches!(mode, AutomationMode::Touch | AutomationMode::Trim) {
            let (from, until) = (pass.rendered[2] + 2 * BLOCK as u64, pass.rendered[3]);
            let after: Vec<(f64, f64, f64)> = pass
                .live
                .iter()
                .filter(|(p, _)| (from..until).contains(p))
                .map(|&(p, l)| {
                    let t = p as f64 / rate;
                    (t, gain_db_of(l), envelope_at(&pass.written, t, f64::NAN))
                })
                .collect();
            assert!(
                after.len() > 5,
                "{mode}: {} blocks after release",
                after.len()
            );
            let gliding = after
                .iter()
                .filter(|(t, g, _)| (g - base(*t)).abs() > 0.1)
                .count();
            assert!(gliding > 1, "{mode}: no glide heard {after:?}");
            let off = after
                .iter()
                .map(|(_, g, w)| (g - w).abs())
                .fold(0.0, f64::max);
            assert!(
                off < 0.1,
                "{mode}: live glide off the lane by {off} dB: {after:?}"
            );
        }
        // Rendered back, the session carries the written envelope sample for sample.
        let out = Mixer::new(session(&pass.written), BLOCK)
            .unwrap()
            .render(|_| {});
        for k in 0..=48 {
            let i = k * 1000;
            let t = i as f64 / rate;
            let got = gain_db_of(out[0][0][i]);
            let w = envelope_at(&pass.written, t, f64::NAN);
            assert!(
                (got - w).abs() < 1e-3,
                "{mode} render at {t} s: {got} vs {w}"
            );
        }
        // And the move sits where it was heard: one block after the move's stamp the
        // render carries the moved value, one block before the touch what was there.
        let after = gain_db_of(out[0][0][pass.stamps[1] as usize + BLOCK]);
        let before = gain_db_of(out[0][0][pass.stamps[0] as usize - BLOCK]);
        let t_before = (pass.stamps[0] as usize - BLOCK) as f64 / rate;
        assert!(
            (before - want(t_before)).abs() < 0.06,
            "{mode}: {before} before the touch"
        );
        let moved = if mode == AutomationMode::Trim {
            base(heard[1]) + to
        } else {
            to
        };
        assert!(
            (after - moved).abs() < 0.5,
            "{mode}: {after} after the move, not {moved}"
        );
    }
}
