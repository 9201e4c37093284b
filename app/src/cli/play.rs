//! `mixstation play`: a session through the default output device, or under control: an
//! OSC surface (`--osc`), automation writing (`--write`, or the tracks' `automation_mode`),
//! and `--device none` (paced by the clock, no sound card) or `--device NAME`.

use anyhow::{anyhow, bail, Context, Result};
use gpu_dsp::mix::AutomationMode;
use std::path::Path;

/// The control options of `play`.
pub struct Control {
    pub osc: Option<String>,
    pub write: Option<String>,
    pub device: Option<String>,
}

/// Plays `session` from `from` seconds; with a GPU the reverbs' tails run there.
pub fn run(session: &Path, from: f64, engine: super::Engine, control: &Control) -> Result<()> {
    let write = match control.write.as_deref() {
        None => None,
        Some(m) => Some(
            AutomationMode::parse(m)
                .filter(|m| m.writes())
                .ok_or_else(|| anyhow!("--write {m}: expected touch, latch, write or trim"))?,
        ),
    };
    let loaded = crate::session::load_session(session)?;
    if !(from.is_finite() && from >= 0.0) {
        bail!("--from {from}: expected a time in seconds ≥ 0");
    }
    let rate = loaded.spec.sample_rate;
    let start = (from * f64::from(rate)).round() as u64;
    let gpu = super::resolve_engine(engine)?.gpu();
    let writes = write.is_some()
        || loaded.track_modes.iter().any(|m| m.writes())
        || loaded.bus_modes.iter().any(|m| m.writes());
    let loaded_names: (Vec<String>, Vec<String>) = (
        loaded.spec.tracks.iter().map(|t| t.name.clone()).collect(),
        loaded.spec.buses.iter().map(|b| b.name.clone()).collect(),
    );
    let controlled = control.osc.is_some() || writes || control.device.is_some();
    let block = if controlled { 1024 } else { 2048 };
    let mut mixer = gpu_dsp::mix::Mixer::with_gpu(loaded.spec, block, gpu)
        .with_context(|| session.display().to_string())?;
    for note in mixer.notes() {
        eprintln!("note: {note}");
    }
    if !controlled {
        mixer.seek(start);
        return crate::playback::play_session(mixer, start);
    }
    let total = mixer.spec().length() + mixer.tail();
    if start >= total {
        bail!(
            "--from is past the end of the session ({:.2} s)",
            total as f64 / f64::from(rate)
        );
    }
    // A VCA member's fader envelope is played folded with its VCA's: writing it would write
    // the sum into the member's lane, so VCA members are not armed (not yet).
    let mut track_modes = loaded.track_modes;
    // A track in `off` keeps its file's envelopes out of the mix; it is not armed (writing
    // it would replace them with what was written over nothing).
    let mut write_modes: Vec<Option<AutomationMode>> = track_modes
        .iter()
        .map(|m| write.filter(|_| *m != AutomationMode::Off))
        .collect();
    for vca in &loaded.file.vcas {
        for name in &vca.members {
            if let Some(t) = loaded.file.tracks.iter().position(|t| &t.name == name) {
                if write.is_some() || track_modes[t].writes() {
                    eprintln!(
                        "note: track '{name}' is in VCA '{}': its automation is not written",
                        vca.name
                    );
                }
                track_modes[t] = AutomationMode::Read;
                write_modes[t] = None;
            }
        }
    }
    let options = crate::playback::ControlOptions {
        osc: control.osc.clone(),
        write: None,
        track_modes: track_modes
            .iter()
            .zip(&write_modes)
            .map(|(m, w)| w.unwrap_or(*m))
            .collect(),
        bus_modes: loaded
            .bus_modes
            .iter()
            .map(|m| write.filter(|_| *m != AutomationMode::Off).unwrap_or(*m))
            .collect(),
        groups: loaded.groups,
    };
    let report = match control.device.as_deref() {
        Some("none") => crate::playback::play_controlled(session, mixer, start, None, &options)?,
        device => {
            use crate::playback::{open_output_on, rings, OutputCallback, PlaybackCounters};
            use std::sync::Arc;
            let counters = Arc::new(PlaybackCounters::default());
            let (audio_tx, audio_rx, _cmd_tx, cmd_rx) = rings(rate as usize / 4, 2);
            let callback = OutputCallback::new(audio_rx, cmd_rx, 2, rate as f32, counters);
            let stream = open_output_on(device, rate, callback, |_| {})?;
            let report =
                crate::playback::play_controlled(session, mixer, start, Some(audio_tx), &options)?;
            drop(stream);
            report
        }
    };
    let names = (&loaded_names.0, &loaded_names.1);
    for lane in &report.lanes {
        let strip = match lane.strip {
            crate::playback::StripAt::Track(t) => format!("track '{}'", names.0[t]),
            crate::playback::StripAt::Bus(b) => format!("bus '{}'", names.1[b]),
        };
        say!(
            "  wrote {} points of automation on {strip} ({:?})",
            lane.points.len(),
            lane.target
        );
    }
    if !report.lanes.is_empty() {
        say!("  saved to {}", session.display());
    }
    if control.osc.is_some() {
        say!(
            "  OSC: {} messages, {} ignored (unknown or malformed), {} dropped",
            report.received,
            report.ignored,
            report.dropped
        );
    }
    Ok(())
}
