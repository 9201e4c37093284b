//! `mixstation play`: a session through the default output device.

use anyhow::{bail, Context, Result};
use std::path::Path;

pub fn run(session: &Path, from: f64) -> Result<()> {
    let loaded = crate::session::load_session(session)?;
    if !(from.is_finite() && from >= 0.0) {
        bail!("--from {from}: expected a time in seconds ≥ 0");
    }
    let start = (from * f64::from(loaded.spec.sample_rate)).round() as u64;
    let mut mixer = gpu_dsp::mix::Mixer::new(loaded.spec, 2048)
        .with_context(|| session.display().to_string())?;
    mixer.seek(start);
    crate::playback::play_session(mixer, start)
}
