//! `mixstation play`: a session through the default output device.

use anyhow::{bail, Context, Result};
use std::path::Path;

/// Plays `session` from `from` seconds; with a GPU the reverbs' tails run there.
pub fn run(session: &Path, from: f64, engine: super::Engine) -> Result<()> {
    let loaded = crate::session::load_session(session)?;
    if !(from.is_finite() && from >= 0.0) {
        bail!("--from {from}: expected a time in seconds ≥ 0");
    }
    let start = (from * f64::from(loaded.spec.sample_rate)).round() as u64;
    let gpu = super::resolve_engine(engine)?.gpu();
    let mut mixer = gpu_dsp::mix::Mixer::with_gpu(loaded.spec, 2048, gpu)
        .with_context(|| session.display().to_string())?;
    for note in mixer.notes() {
        eprintln!("note: {note}");
    }
    mixer.seek(start);
    crate::playback::play_session(mixer, start)
}
