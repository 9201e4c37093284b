//! WAV export with hound: 16/24-bit PCM or 32-bit float, written atomically, whole or
//! block by block.

use super::atomic::{persist, temp_beside};
use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Sample format of an exported file (`--format 16|24|f32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// 16-bit integer PCM (TPDF dither is not applied; values are rounded).
    #[value(name = "16")]
    Pcm16,
    /// 24-bit integer PCM.
    #[value(name = "24")]
    Pcm24,
    /// 32-bit IEEE float.
    #[value(name = "f32")]
    F32,
}

/// WAVE_FORMAT_EXTENSIBLE speaker masks: 5.1 is FL FR FC LFE BL BR; 7.1 adds SL SR.
fn speaker_mask(channels: usize) -> Option<u32> {
    match channels {
        6 => Some(0x3F),
        8 => Some(0x63F),
        _ => None,
    }
}

/// Writes planar `channels` to `path` as WAV. The data goes to a temporary file in the same
/// folder, which is renamed into place only when complete.
pub fn write_wav(
    path: &Path,
    sample_rate: u32,
    channels: &[&[f32]],
    format: ExportFormat,
) -> Result<()> {
    let frames = channels.first().map_or(0, |c| c.len());
    if channels.iter().any(|c| c.len() != frames) {
        bail!("{}: channels differ in length", path.display());
    }
    let mut w = WavStream::create(path, sample_rate, channels.len(), format)?;
    w.write(channels)?;
    w.finish()
}

/// A WAV file written block by block into a temporary file in the output's folder, renamed
/// into place by [`finish`](Self::finish) (dropped unfinished, nothing appears).
pub struct WavStream {
    path: PathBuf,
    format: ExportFormat,
    channels: usize,
    tmp: tempfile::NamedTempFile,
    writer: Option<hound::WavWriter<BufWriter<File>>>,
}

impl WavStream {
    pub fn create(
        path: &Path,
        sample_rate: u32,
        channels: usize,
        format: ExportFormat,
    ) -> Result<Self> {
        if channels == 0 || channels > u16::MAX as usize {
            bail!("{}: cannot write {channels} channels", path.display());
        }
        let (bits, sample_format) = match format {
            ExportFormat::Pcm16 => (16, hound::SampleFormat::Int),
            ExportFormat::Pcm24 => (24, hound::SampleFormat::Int),
            ExportFormat::F32 => (32, hound::SampleFormat::Float),
        };
        let spec = hound::WavSpec {
            channels: channels as u16,
            sample_rate,
            bits_per_sample: bits,
            sample_format,
        };
        let tmp = temp_beside(path)?;
        let file = tmp
            .as_file()
            .try_clone()
            .with_context(|| path.display().to_string())?;
        let writer = hound::WavWriter::new(BufWriter::new(file), spec)
            .with_context(|| format!("{}: write failed", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            format,
            channels,
            tmp,
            writer: Some(writer),
        })
    }

    /// Appends planar frames (one slice per channel, equal lengths).
    pub fn write(&mut self, planes: &[&[f32]]) -> Result<()> {
        let Some(w) = self.writer.as_mut() else {
            bail!("{}: already finished", self.path.display());
        };
        if planes.len() != self.channels {
            bail!(
                "{}: expected {} channels",
                self.path.display(),
                self.channels
            );
        }
        let frames = planes.first().map_or(0, |c| c.len());
        let fail = |e: hound::Error| anyhow::anyhow!("{}: write failed: {e}", self.path.display());
        for i in 0..frames {
            for ch in planes {
                let s = ch[i];
                match self.format {
                    ExportFormat::Pcm16 => w.write_sample(quantize(s, 16) as i16),
                    ExportFormat::Pcm24 => w.write_sample(quantize(s, 24)),
                    ExportFormat::F32 => w.write_sample(s),
                }
                .map_err(fail)?;
            }
        }
        Ok(())
    }

    /// Completes the header, flushes to disk and moves the file into place.
    pub fn finish(mut self) -> Result<()> {
        let name = self.path.display().to_string();
        if let Some(w) = self.writer.take() {
            w.finalize()
                .with_context(|| format!("{name}: write failed"))?;
        }
        if let Some(mask) = speaker_mask(self.channels) {
            patch_channel_mask(self.tmp.as_file_mut(), mask).with_context(|| name.clone())?;
        }
        persist(self.tmp, &self.path)
    }
}

/// Rounds to the nearest integer code of a `bits`-bit signed format, clipping at full scale.
pub fn quantize(s: f32, bits: u32) -> i32 {
    let full = (1i64 << (bits - 1)) as f64;
    let v = (f64::from(s) * full).round();
    v.clamp(-full, full - 1.0) as i32
}

/// hound sets the first N mask bits; 7.1 needs SL/SR (bits 9, 10) instead of FLC/FRC.
fn patch_channel_mask(file: &mut std::fs::File, mask: u32) -> Result<()> {
    use std::io::Read;
    let f = file;
    let mut head = [0u8; 44];
    f.seek(SeekFrom::Start(0))?;
    f.read_exact(&mut head)?;
    let extensible = &head[12..16] == b"fmt " && u16::from_le_bytes([head[20], head[21]]) == 0xFFFE;
    if !extensible {
        bail!("expected a WAVE_FORMAT_EXTENSIBLE header");
    }
    f.seek(SeekFrom::Start(40))?;
    f.write_all(&mask.to_le_bytes())?;
    f.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_rounds_and_clips() {
        assert_eq!(quantize(0.0, 16), 0);
        assert_eq!(quantize(1.0, 16), 32767);
        assert_eq!(quantize(-1.0, 16), -32768);
        assert_eq!(quantize(2.0, 24), 8_388_607);
        assert_eq!(quantize(0.5 / 32768.0 * 3.0, 16), 2);
    }
}
