//! Impulse responses: decoded whole (an IR is short), checked against its limits from the
//! header before anything is read, and resampled to the rate of the signal it convolves.

use super::decode::decode_all;
use super::limits::MAX_IR_SECONDS;
use super::resample::resample;
use super::source::AudioFile;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// Most IR channels accepted (true stereo is 4; 7.1 per-channel is 8).
pub const MAX_IR_CHANNELS: usize = 8;

/// Fails unless `seconds` is a usable IR length limit (0 < s ≤ [`MAX_IR_SECONDS`]).
pub fn check_ir_limit(seconds: f64) -> Result<()> {
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= MAX_IR_SECONDS) {
        bail!(
            "--max-ir-seconds {seconds}: expected more than 0 and at most {MAX_IR_SECONDS} seconds"
        );
    }
    Ok(())
}

/// Decodes and checks the IR at `path`, resampled to `rate`: at most [`MAX_IR_CHANNELS`]
/// channels, at most `max_seconds` long, not silent, not empty after resampling.
pub fn load_ir(path: &Path, rate: u32, max_seconds: f64) -> Result<Vec<Vec<f32>>> {
    check_ir_limit(max_seconds)?;
    let name = path.display();
    let file = AudioFile::open(path)?;
    let channels = file.channels();
    if channels > MAX_IR_CHANNELS {
        bail!("{name}: IR has {channels} channels; at most {MAX_IR_CHANNELS} are supported");
    }
    let from = file.sample_rate();
    let max_frames = (max_seconds * f64::from(from)).floor() as u64;
    let too_long = |frames: u64| {
        anyhow::anyhow!(
            "{name}: IR is {:.1} s long, over the {max_seconds} s limit (--max-ir-seconds)",
            frames as f64 / f64::from(from)
        )
    };
    if let Some(frames) = file.frames().filter(|&f| f > max_frames) {
        return Err(too_long(frames));
    }
    // A streamed WAV states no length: stop reading one frame past the limit.
    let ir = decode_all(file, (max_frames + 1) * channels as u64).map_err(|e| {
        match e.downcast_ref::<super::decode::TooLong>() {
            Some(t) => too_long(t.frames),
            None => e,
        }
    })?;
    if ir.frames() as u64 > max_frames {
        return Err(too_long(ir.frames() as u64));
    }
    if ir.channels.iter().flatten().all(|&s| s == 0.0) {
        bail!("{name}: IR is silent (all samples are zero)");
    }
    let out = resample(&ir.channels, from, rate).with_context(|| format!("{name}: resampling"))?;
    if out.first().is_none_or(Vec::is_empty) {
        bail!(
            "{name}: IR of {} frames at {from} Hz is empty once resampled to {rate} Hz",
            ir.frames()
        );
    }
    Ok(out)
}
