//! Reading WAV and RF64 files block by block into planar f32.

use super::{FORMAT_EXTENSIBLE, FORMAT_FLOAT, FORMAT_PCM, GUID_TAIL};
use crate::io::limits::{check_channels, check_sample_rate};
use crate::io::source::read_up_to;
use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

/// Data sizes that mean "unknown": FFmpeg and most streaming writers put 0xFFFFFFFF, SoX
/// 0x7FFFF000, some 0. With one of these and less data in the file than claimed, the data
/// runs to the end of the file (as SoX and FFprobe read it).
fn is_placeholder(size: u32) -> bool {
    size == 0 || size >= 0x7FFF_F000
}

/// How one sample is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    U8,
    I16,
    I24,
    I32,
    F32,
    F64,
}

impl Encoding {
    fn bytes(self) -> usize {
        match self {
            Self::U8 => 1,
            Self::I16 => 2,
            Self::I24 => 3,
            Self::I32 | Self::F32 => 4,
            Self::F64 => 8,
        }
    }
}

/// Whether `head` (the first 12 bytes of a file) starts a WAV or RF64/BW64 file.
pub fn is_wav(head: &[u8]) -> bool {
    head.len() >= 12
        && matches!(&head[0..4], b"RIFF" | b"RF64" | b"BW64")
        && &head[8..12] == b"WAVE"
}

/// An open WAV/RF64 file positioned in its data chunk.
pub struct WavReader {
    reader: BufReader<File>,
    encoding: Encoding,
    channels: usize,
    sample_rate: u32,
    data_start: u64,
    /// Frames in the data chunk; `None` for a streamed file read to its end.
    frames: Option<u64>,
    /// The next frame `read` returns.
    pos: u64,
    raw: Vec<u8>,
}

impl WavReader {
    /// Parses the header of `file` (already checked to be a regular, non-empty file of
    /// `file_len` bytes). Errors say what is wrong without the file name.
    pub fn open(file: File, file_len: u64) -> Result<Self> {
        let mut r = BufReader::with_capacity(1 << 16, file);
        let mut head = [0u8; 12];
        r.read_exact(&mut head)
            .context("not a supported audio file (header too short)")?;
        if !is_wav(&head) {
            bail!("not a supported audio file (no RIFF/RF64 WAVE header)");
        }
        let rf64 = &head[0..4] != b"RIFF";
        let riff_size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let mut ds64_data: Option<u64> = None;
        let mut fmt: Option<(Encoding, usize, u32)> = None;
        let mut pos = 12u64;
        loop {
            let mut chunk = [0u8; 8];
            if r.read_exact(&mut chunk).is_err() {
                bail!(if fmt.is_none() {
                    "not a supported audio file (no fmt chunk)"
                } else {
                    "contains no audio frames (no data chunk)"
                });
            }
            pos += 8;
            let id = [chunk[0], chunk[1], chunk[2], chunk[3]];
            let size = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
            match &id {
                b"ds64" => {
                    if size < 24 {
                        bail!("malformed RF64 header (ds64 chunk of {size} bytes)");
                    }
                    let mut b = [0u8; 24];
                    r.read_exact(&mut b).context("malformed RF64 header")?;
                    ds64_data = Some(u64::from_le_bytes(b[8..16].try_into().unwrap_or_default()));
                    skip(&mut r, u64::from(size) - 24)?;
                }
                b"fmt " => {
                    if !(16..=1024).contains(&size) {
                        bail!("malformed header (fmt chunk of {size} bytes)");
                    }
                    let mut b = vec![0u8; size as usize];
                    r.read_exact(&mut b)
                        .context("truncated: the file ends inside its header")?;
                    fmt = Some(parse_fmt(&b)?);
                }
                b"data" => {
                    let Some((encoding, channels, sample_rate)) = fmt else {
                        bail!("malformed header (data before fmt)");
                    };
                    let block = (encoding.bytes() * channels) as u64;
                    let available = file_len.saturating_sub(pos);
                    // What the sizes claim, and when the data runs to the end of the file
                    // instead: a streamed RF64 (ds64 data size 0 or past the file), or a
                    // RIFF whose data size is a placeholder and more than the file holds
                    // (a zero size counts only with a placeholder RIFF size too).
                    let frames = if rf64 && size == 0xFFFF_FFFF {
                        match ds64_data {
                            None => bail!("malformed RF64 header (no ds64 chunk)"),
                            Some(d) if d == 0 || d > available => None,
                            Some(d) => Some(d / block),
                        }
                    } else if size == 0 && is_placeholder(riff_size) && available >= block {
                        None
                    } else if u64::from(size) <= available {
                        Some(u64::from(size) / block)
                    } else if !rf64 && is_placeholder(size) {
                        None
                    } else {
                        bail!(
                            "truncated: the header promises {} frames, the file holds {}",
                            u64::from(size) / block,
                            available / block
                        );
                    };
                    if frames == Some(0) || (frames.is_none() && available < block) {
                        bail!("contains no audio frames");
                    }
                    return Ok(Self {
                        reader: r,
                        encoding,
                        channels,
                        sample_rate,
                        data_start: pos,
                        frames,
                        pos: 0,
                        raw: Vec::new(),
                    });
                }
                _ => skip(&mut r, u64::from(size))?,
            }
            // Chunks are padded to an even size.
            pos += u64::from(size) + u64::from(size & 1);
            if size & 1 == 1 {
                skip(&mut r, 1)?;
            }
            if pos > file_len {
                bail!("truncated: the file ends inside its header");
            }
        }
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Frames in the file, when its header states them (not for a streamed WAV).
    pub fn frames(&self) -> Option<u64> {
        self.frames
    }

    /// Reads up to `out[0].len()` frames into the planar `out`; returns how many (0 at the
    /// end). Fills the whole block unless the data ends.
    pub fn read(&mut self, out: &mut [&mut [f32]]) -> Result<usize> {
        let want = out.first().map_or(0, |c| c.len());
        let want = match self.frames {
            Some(total) => want.min(total.saturating_sub(self.pos) as usize),
            None => want,
        };
        let block = self.encoding.bytes() * self.channels;
        // Decoded straight out of the reader's buffer; a frame split across two fills goes
        // through `raw`.
        let mut frames = 0;
        while frames < want {
            let buf = loop {
                match self.reader.fill_buf() {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    other => break other.context("read failed")?,
                }
            };
            let whole = (buf.len() / block).min(want - frames);
            if whole > 0 {
                decode(&buf[..whole * block], self.encoding, out, frames);
                self.reader.consume(whole * block);
                frames += whole;
                continue;
            }
            self.raw.resize(block, 0);
            if read_up_to(&mut self.reader, &mut self.raw).context("read failed")? < block {
                break;
            }
            decode(&self.raw, self.encoding, out, frames);
            frames += 1;
        }
        if frames < want && self.frames.is_some() {
            bail!(
                "truncated: the header promises {} frames, the file holds {}",
                self.frames.unwrap_or(0),
                self.pos + frames as u64
            );
        }
        self.pos += frames as u64;
        Ok(frames)
    }

    /// True for floating-point data, the only kind that can hold NaN or infinite samples.
    pub fn is_float(&self) -> bool {
        matches!(self.encoding, Encoding::F32 | Encoding::F64)
    }

    /// Moves to `frame` (clamped to the end of a known-length file).
    pub fn seek(&mut self, frame: u64) -> Result<()> {
        let frame = self.frames.map_or(frame, |t| frame.min(t));
        let block = (self.encoding.bytes() * self.channels) as u64;
        self.reader
            .seek(SeekFrom::Start(
                self.data_start.saturating_add(frame.saturating_mul(block)),
            ))
            .context("cannot seek")?;
        self.pos = frame;
        Ok(())
    }
}

fn skip(r: &mut BufReader<File>, n: u64) -> Result<()> {
    r.seek_relative(n as i64).context("read failed")
}

/// Encoding, channels and rate from a fmt chunk, checked against the limits.
fn parse_fmt(b: &[u8]) -> Result<(Encoding, usize, u32)> {
    let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let tag = u16_at(0);
    let channels = usize::from(u16_at(2));
    let rate = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    let align = usize::from(u16_at(12));
    let bits = u16_at(14);
    check_sample_rate(rate)?;
    check_channels(channels)?;
    let kind = if tag == FORMAT_EXTENSIBLE {
        if b.len() < 40 {
            bail!("malformed header (WAVE_FORMAT_EXTENSIBLE without its sub-format)");
        }
        if b[26..40] != GUID_TAIL {
            bail!("unsupported WAV sub-format");
        }
        u16_at(24)
    } else {
        tag
    };
    let encoding = match (kind, bits) {
        (FORMAT_PCM, 8) => Encoding::U8,
        (FORMAT_PCM, 16) => Encoding::I16,
        (FORMAT_PCM, 24) => Encoding::I24,
        (FORMAT_PCM, 32) => Encoding::I32,
        (FORMAT_FLOAT, 32) => Encoding::F32,
        (FORMAT_FLOAT, 64) => Encoding::F64,
        (FORMAT_PCM | FORMAT_FLOAT, _) => bail!("unsupported WAV sample size ({bits} bits)"),
        _ => bail!("unsupported WAV encoding (format tag {kind:#06x})"),
    };
    if align != encoding.bytes() * channels {
        bail!("malformed header (block align {align} for {channels} channels of {bits} bits)");
    }
    Ok((encoding, channels, rate))
}

/// Interleaved little-endian samples to frames `at..` of planar f32 (integers scaled by
/// 2^−(bits−1)); one loop per encoding so the inner loop has no branch.
fn decode(raw: &[u8], encoding: Encoding, out: &mut [&mut [f32]], at: usize) {
    fn each<const W: usize>(
        raw: &[u8],
        out: &mut [&mut [f32]],
        at: usize,
        f: impl Fn(&[u8; W]) -> f32,
    ) {
        let stride = W * out.len();
        for (c, plane) in out.iter_mut().enumerate() {
            for (v, frame) in plane[at..].iter_mut().zip(raw.chunks_exact(stride)) {
                let mut b = [0u8; W];
                b.copy_from_slice(&frame[c * W..(c + 1) * W]);
                *v = f(&b);
            }
        }
    }
    match encoding {
        Encoding::U8 => each::<1>(raw, out, at, |s| (f32::from(s[0]) - 128.0) / 128.0),
        Encoding::I16 => each::<2>(raw, out, at, |s| {
            f32::from(i16::from_le_bytes(*s)) / 32_768.0
        }),
        Encoding::I24 => each::<3>(raw, out, at, |s| {
            (i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8) as f32 / 8_388_608.0
        }),
        Encoding::I32 => each::<4>(raw, out, at, |s| {
            (f64::from(i32::from_le_bytes(*s)) / 2_147_483_648.0) as f32
        }),
        Encoding::F32 => each::<4>(raw, out, at, |s| f32::from_le_bytes(*s)),
        Encoding::F64 => each::<8>(raw, out, at, |s| f64::from_le_bytes(*s) as f32),
    }
}
