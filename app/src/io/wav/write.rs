//! Writing WAV block by block, switching the header to RF64 when the data passes 4 GiB.

use super::{FORMAT_EXTENSIBLE, FORMAT_FLOAT, FORMAT_PCM, GUID_TAIL};
use anyhow::{bail, Result};
use std::io::{Seek, SeekFrom, Write};

/// Sample format of a written file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WavSampleFormat {
    Pcm16,
    Pcm24,
    F32,
}

impl WavSampleFormat {
    fn bytes(self) -> usize {
        match self {
            Self::Pcm16 => 2,
            Self::Pcm24 => 3,
            Self::F32 => 4,
        }
    }
}

/// Bytes of the header before the data: RIFF (12), JUNK reserved for ds64 (8 + 28),
/// fmt (8 + 40, always WAVE_FORMAT_EXTENSIBLE), data header (8).
const HEADER_BYTES: u64 = 12 + 36 + 48 + 8;
/// Offset of the JUNK chunk that becomes `ds64`.
const JUNK_AT: u64 = 12;

/// WAVE_FORMAT_EXTENSIBLE speaker masks: mono FC, stereo FL FR, 5.1 FL FR FC LFE BL BR,
/// 7.1 adds SL SR; other counts are unassigned (0).
fn speaker_mask(channels: usize) -> u32 {
    match channels {
        1 => 0x4,
        2 => 0x3,
        6 => 0x3F,
        8 => 0x63F,
        _ => 0,
    }
}

/// A WAV file written to `W` (a temporary file in practice) block by block. The header
/// reserves a JUNK chunk that [`finish`](Self::finish) turns into the RF64 `ds64` chunk when
/// the data exceeds what a 32-bit RIFF size can hold (EBU Tech 3306).
pub struct WavWriter<W: Write + Seek> {
    out: W,
    format: WavSampleFormat,
    channels: usize,
    data_bytes: u64,
    bytes: Vec<u8>,
    /// The data ends in a hole left by `skip_silence` (the file is not that long yet).
    trailing_hole: bool,
}

impl<W: Write + Seek> WavWriter<W> {
    /// Writes the header of a file of `channels` at `sample_rate` to `out`.
    pub fn new(
        mut out: W,
        sample_rate: u32,
        channels: usize,
        format: WavSampleFormat,
    ) -> Result<Self> {
        if channels == 0 || channels > crate::io::limits::MAX_CHANNELS {
            bail!(
                "cannot write {channels} channels (1 to {})",
                crate::io::limits::MAX_CHANNELS
            );
        }
        crate::io::limits::check_sample_rate(sample_rate)?;
        let width = format.bytes();
        let align = (width * channels) as u16;
        let mut h = Vec::with_capacity(HEADER_BYTES as usize);
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(b"WAVE");
        h.extend_from_slice(b"JUNK");
        h.extend_from_slice(&28u32.to_le_bytes());
        h.extend_from_slice(&[0u8; 28]);
        h.extend_from_slice(b"fmt ");
        h.extend_from_slice(&40u32.to_le_bytes());
        h.extend_from_slice(&FORMAT_EXTENSIBLE.to_le_bytes());
        h.extend_from_slice(&(channels as u16).to_le_bytes());
        h.extend_from_slice(&sample_rate.to_le_bytes());
        h.extend_from_slice(&(sample_rate * u32::from(align)).to_le_bytes());
        h.extend_from_slice(&align.to_le_bytes());
        h.extend_from_slice(&((width * 8) as u16).to_le_bytes());
        h.extend_from_slice(&22u16.to_le_bytes());
        h.extend_from_slice(&((width * 8) as u16).to_le_bytes());
        h.extend_from_slice(&speaker_mask(channels).to_le_bytes());
        let sub = if format == WavSampleFormat::F32 {
            FORMAT_FLOAT
        } else {
            FORMAT_PCM
        };
        h.extend_from_slice(&sub.to_le_bytes());
        h.extend_from_slice(&GUID_TAIL);
        h.extend_from_slice(b"data");
        h.extend_from_slice(&0u32.to_le_bytes());
        debug_assert_eq!(h.len() as u64, HEADER_BYTES);
        out.write_all(&h)?;
        Ok(Self {
            out,
            format,
            channels,
            data_bytes: 0,
            bytes: Vec::new(),
            trailing_hole: false,
        })
    }

    /// Appends planar frames (one slice per channel, equal lengths).
    pub fn write(&mut self, planes: &[&[f32]]) -> Result<()> {
        if planes.len() != self.channels {
            bail!("expected {} channels, got {}", self.channels, planes.len());
        }
        let frames = planes.first().map_or(0, |c| c.len());
        if planes.iter().any(|c| c.len() != frames) {
            bail!("channels differ in length");
        }
        if frames == 0 {
            return Ok(());
        }
        let width = self.format.bytes();
        let stride = self.channels * width;
        self.bytes.resize(frames * stride, 0);
        // Quantised a run at a time (a vectorisable pass), then stored interleaved.
        let mut q = [0i32; RUN];
        for (c, plane) in planes.iter().enumerate() {
            let runs = self.bytes[c * width..].chunks_mut(RUN * stride);
            for (run, dst) in plane.chunks(RUN).zip(runs) {
                let dst = dst.chunks_mut(stride);
                match self.format {
                    WavSampleFormat::Pcm16 => {
                        quantize_run(run, 16, &mut q);
                        for (d, v) in dst.zip(&q[..run.len()]) {
                            d[..2].copy_from_slice(&(*v as i16).to_le_bytes());
                        }
                    }
                    WavSampleFormat::Pcm24 => {
                        quantize_run(run, 24, &mut q);
                        for (d, v) in dst.zip(&q[..run.len()]) {
                            d[..3].copy_from_slice(&v.to_le_bytes()[..3]);
                        }
                    }
                    WavSampleFormat::F32 => {
                        for (d, s) in dst.zip(run) {
                            d[..4].copy_from_slice(&s.to_le_bytes());
                        }
                    }
                }
            }
        }
        self.out.write_all(&self.bytes)?;
        self.data_bytes += self.bytes.len() as u64;
        self.trailing_hole &= self.bytes.is_empty();
        Ok(())
    }

    /// Appends `frames` of digital silence by seeking past them (a sparse hole reads as
    /// zeros, which is silence in every format written here). The last bytes of the file
    /// must be written afterwards, by [`write`](Self::write) or [`finish`](Self::finish).
    pub fn skip_silence(&mut self, frames: u64) -> Result<()> {
        let n = frames * (self.channels * self.format.bytes()) as u64;
        self.out.seek(SeekFrom::Current(n as i64))?;
        self.data_bytes += n;
        self.trailing_hole |= n > 0;
        Ok(())
    }

    /// Pads, completes the header (RF64 with `ds64` past 4 GiB) and returns the writer.
    pub fn finish(mut self) -> Result<W> {
        let pad = self.data_bytes & 1;
        if self.trailing_hole && pad == 0 {
            // Write the hole's last byte so the file has its full length.
            self.out
                .seek(SeekFrom::Start(HEADER_BYTES + self.data_bytes - 1))?;
            self.out.write_all(&[0])?;
        }
        if pad == 1 {
            self.out.write_all(&[0])?;
        }
        let riff = HEADER_BYTES - 8 + self.data_bytes + pad;
        let frames = self.data_bytes / (self.channels * self.format.bytes()) as u64;
        if riff <= u64::from(u32::MAX) {
            self.patch(4, &(riff as u32).to_le_bytes())?;
            self.patch(HEADER_BYTES - 4, &(self.data_bytes as u32).to_le_bytes())?;
        } else {
            self.patch(0, b"RF64")?;
            self.patch(4, &u32::MAX.to_le_bytes())?;
            let mut ds64 = Vec::with_capacity(36);
            ds64.extend_from_slice(b"ds64");
            ds64.extend_from_slice(&28u32.to_le_bytes());
            ds64.extend_from_slice(&riff.to_le_bytes());
            ds64.extend_from_slice(&self.data_bytes.to_le_bytes());
            ds64.extend_from_slice(&frames.to_le_bytes());
            ds64.extend_from_slice(&0u32.to_le_bytes());
            self.patch(JUNK_AT, &ds64)?;
            self.patch(HEADER_BYTES - 4, &u32::MAX.to_le_bytes())?;
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn patch(&mut self, at: u64, bytes: &[u8]) -> Result<()> {
        self.out.seek(SeekFrom::Start(at))?;
        self.out.write_all(bytes)?;
        Ok(())
    }
}

/// Samples quantised at a time by [`WavWriter::write`].
const RUN: usize = 256;

/// [`quantize`] of each sample of `run` into `q`.
fn quantize_run(run: &[f32], bits: u32, q: &mut [i32; RUN]) {
    for (d, &s) in q.iter_mut().zip(run) {
        *d = quantize(s, bits);
    }
}

/// Rounds to the nearest integer code of a `bits`-bit signed format (ties to even),
/// clipping at full scale; NaN becomes 0. Adding 1.5 · 2^52 in f64 rounds without a libm
/// call, so the encoder's loop stays vectorisable.
#[inline]
pub fn quantize(s: f32, bits: u32) -> i32 {
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let full = (1i64 << (bits - 1)) as f64;
    let s = if s.is_nan() { 0.0 } else { f64::from(s) };
    let v = (s * full).clamp(-full, full - 1.0);
    // After the addition the integer sits, two's complement, in the low mantissa bits.
    (v + ROUND).to_bits() as i32
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
        assert_eq!(quantize(f32::NAN, 16), 0);
        assert_eq!(quantize(-0.6 / 32768.0, 16), -1);
        assert_eq!(quantize(1e30, 24), 8_388_607);
    }

    #[test]
    fn an_empty_block_writes_nothing() {
        let mut w = WavWriter::new(
            std::io::Cursor::new(Vec::new()),
            48_000,
            2,
            WavSampleFormat::Pcm24,
        )
        .unwrap();
        w.write(&[&[], &[]]).unwrap();
        w.write(&[&[0.5], &[-0.5]]).unwrap();
        let bytes = w.finish().unwrap().into_inner();
        assert_eq!(bytes.len() as u64, HEADER_BYTES + 6);
        assert_eq!(&bytes[HEADER_BYTES as usize..], &[0, 0, 0x40, 0, 0, 0xC0]);
    }
}
