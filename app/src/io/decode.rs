//! Decoding a whole file into planar f32 channels (for what must be held in memory: IRs,
//! resampled sources, the cleanup's input). Streaming commands read [`AudioFile`] directly.

use super::limits::MAX_DECODED_SAMPLES;
use super::source::AudioFile;
use anyhow::{bail, Result};
use std::path::Path;

/// A whole decoded file: one `Vec<f32>` per channel, all the same length.
#[derive(Clone, Debug)]
pub struct DecodedAudio {
    pub sample_rate: u32,
    pub channels: Vec<Vec<f32>>,
}

impl DecodedAudio {
    /// Frames per channel.
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.frames() as f64 / f64::from(self.sample_rate)
    }
}

/// Decodes `path` whole. Every failure names the file and the problem; files whose samples
/// exceed [`MAX_DECODED_SAMPLES`] are refused before they are read.
pub fn decode_file(path: &Path) -> Result<DecodedAudio> {
    let file = AudioFile::open(path)?;
    decode_all(file, MAX_DECODED_SAMPLES)
}

/// The error of [`decode_all`] for a file over its sample limit (callers that know why the
/// limit was set can say so: `err.downcast_ref::<TooLong>()`).
#[derive(Debug)]
pub struct TooLong {
    pub name: String,
    /// Frames known or read when the limit was hit.
    pub frames: u64,
    pub channels: usize,
    pub max_samples: u64,
}

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: too long to hold in memory ({} frames × {} channels; at most {} samples)",
            self.name, self.frames, self.channels, self.max_samples
        )
    }
}

impl std::error::Error for TooLong {}

/// Reads the rest of `file` into memory, refusing more than `max_samples` samples (a
/// [`TooLong`] error).
pub fn decode_all(mut file: AudioFile, max_samples: u64) -> Result<DecodedAudio> {
    let channels = file.channels();
    let name = file.path().display().to_string();
    let too_long = |frames: u64| -> Result<()> {
        if frames.saturating_mul(channels as u64) > max_samples {
            return Err(TooLong {
                name: name.clone(),
                frames,
                channels,
                max_samples,
            }
            .into());
        }
        Ok(())
    };
    if let Some(f) = file.frames() {
        too_long(f)?;
    }
    // Reserve what the header promises, bounded in case it lies.
    let reserve = file.frames().unwrap_or(0).min(1 << 24) as usize;
    let mut out: Vec<Vec<f32>> = (0..channels).map(|_| Vec::with_capacity(reserve)).collect();
    let block = 1 << 14;
    let mut buf = vec![vec![0.0f32; block]; channels];
    loop {
        let mut views: Vec<&mut [f32]> = buf.iter_mut().map(|c| c.as_mut_slice()).collect();
        let n = file.read(&mut views)?;
        if n == 0 {
            break;
        }
        for (o, b) in out.iter_mut().zip(&buf) {
            o.extend_from_slice(&b[..n]);
        }
        too_long(out[0].len() as u64)?;
    }
    if out[0].is_empty() {
        bail!("{name}: contains no audio frames");
    }
    Ok(DecodedAudio {
        sample_rate: file.sample_rate(),
        channels: out,
    })
}
