//! The limits every size read from a file, a session or an argument is checked against
//! before anything is allocated from it. Each is stated in the README.

use anyhow::{bail, Result};

/// Lowest sample rate accepted from any file or session (Hz).
pub const MIN_SAMPLE_RATE: u32 = 8_000;
/// Highest sample rate accepted from any file or session (Hz).
pub const MAX_SAMPLE_RATE: u32 = 384_000;
/// Most channels one audio file may have.
pub const MAX_CHANNELS: usize = 64;
/// Most samples (frames × channels) one whole-file decode may hold in memory: 2^30 f32
/// samples, 4 GiB (a 3-hour 5.1 file at 48 kHz). Streaming commands have no such limit.
pub const MAX_DECODED_SAMPLES: u64 = 1 << 30;
/// Largest session file read (bytes).
pub const MAX_SESSION_BYTES: u64 = 16 << 20;
/// Longest reverb pre-delay (milliseconds).
pub const MAX_PREDELAY_MS: f32 = 2_000.0;
/// Longest impulse response any command or session accepts (seconds).
pub const MAX_IR_SECONDS: f64 = 600.0;

/// Fails unless `rate` is within [`MIN_SAMPLE_RATE`]..=[`MAX_SAMPLE_RATE`].
pub fn check_sample_rate(rate: u32) -> Result<()> {
    if rate == 0 {
        bail!("the header gives a sample rate of 0 Hz");
    }
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&rate) {
        bail!(
            "sample rate {rate} Hz is outside the supported {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz"
        );
    }
    Ok(())
}

/// Fails unless `channels` is 1..=[`MAX_CHANNELS`].
pub fn check_channels(channels: usize) -> Result<()> {
    if channels == 0 {
        bail!("the header gives 0 channels");
    }
    if channels > MAX_CHANNELS {
        bail!("{channels} channels; at most {MAX_CHANNELS} are supported");
    }
    Ok(())
}
