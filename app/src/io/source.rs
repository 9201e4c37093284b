//! One reader for every audio file: WAV/RF64 by hand ([`super::wav`]), everything else
//! through symphonia after its header's rate and channel count are checked. Block by block,
//! seekable, and each failure names the file.

use super::guard::without_panics;
use super::input::check_input_file;
use super::limits::{check_channels, check_sample_rate};
use super::wav::WavReader;
use anyhow::{anyhow, bail, Context, Result};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};
use symphonia::core::codecs::{Decoder, DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// An open audio file read as planar f32 blocks.
pub struct AudioFile {
    path: PathBuf,
    inner: Inner,
    sample_rate: u32,
    channels: usize,
    /// Frames the header states (exact for WAV; a promise for compressed formats).
    frames: Option<u64>,
    /// The next frame [`read`](Self::read) returns.
    pos: u64,
}

enum Inner {
    Wav(WavReader),
    Other(Box<SymphoniaReader>),
}

impl AudioFile {
    /// Opens `path` and checks its header. Errors read `path: problem`.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_inner(path).with_context(|| path.display().to_string())
    }

    fn open_inner(path: &Path) -> Result<Self> {
        let len = check_input_file(path)?;
        let mut file = File::open(path).map_err(|e| anyhow!("cannot open: {e}"))?;
        let mut head = vec![0u8; 4096];
        let n = read_up_to(&mut file, &mut head).map_err(|e| anyhow!("cannot read: {e}"))?;
        head.truncate(n);
        file.seek(SeekFrom::Start(0))
            .map_err(|e| anyhow!("cannot read: {e}"))?;
        if super::wav::is_wav(&head) {
            let r = WavReader::open(file, len)?;
            return Ok(Self {
                path: path.to_path_buf(),
                sample_rate: r.sample_rate(),
                channels: r.channels(),
                frames: r.frames(),
                inner: Inner::Wav(r),
                pos: 0,
            });
        }
        check_foreign_header(&head)?;
        let r = without_panics(|| SymphoniaReader::open(file, path))
            .unwrap_or_else(|| Err(anyhow!("not a supported audio file (malformed header)")))?;
        Ok(Self {
            path: path.to_path_buf(),
            sample_rate: r.sample_rate,
            channels: r.channels,
            frames: r.promised,
            inner: Inner::Other(Box::new(r)),
            pos: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Frames the header states, when it does.
    pub fn frames(&self) -> Option<u64> {
        self.frames
    }

    /// The file's exact length in frames: the header's for WAV, else counted by reading the
    /// file once (a compressed file's header figure is an estimate).
    pub fn exact_frames(&mut self) -> Result<u64> {
        match (&self.inner, self.frames) {
            (Inner::Wav(_), Some(f)) => Ok(f),
            _ => self.count_frames(),
        }
    }

    /// Reads up to `out[0].len()` frames into the planar `out` (one slice per channel);
    /// fills the whole block unless the file ends; returns the frames read (0 at the end).
    /// NaN or infinite samples, truncation and corrupt data are errors naming the file.
    pub fn read(&mut self, out: &mut [&mut [f32]]) -> Result<usize> {
        if out.len() != self.channels {
            bail!(
                "{}: read with {} channels, the file has {}",
                self.path.display(),
                out.len(),
                self.channels
            );
        }
        let n = match &mut self.inner {
            Inner::Wav(r) => r.read(out),
            Inner::Other(r) => without_panics(|| r.read(out))
                .unwrap_or_else(|| Err(anyhow!("corrupt audio data (the decoder failed)"))),
        }
        .with_context(|| self.path.display().to_string())?;
        let integer = matches!(&self.inner, Inner::Wav(r) if !r.is_float());
        for c in out.iter().filter(|_| !integer) {
            if let Some(i) = c[..n].iter().position(|s| !s.is_finite()) {
                bail!(
                    "{}: contains NaN or infinite samples (first at frame {})",
                    self.path.display(),
                    self.pos + i as u64
                );
            }
        }
        self.pos += n as u64;
        Ok(n)
    }

    /// Reads the whole file once (every sample checked) to count its frames, then rewinds to
    /// the start. For files whose header states no length, and to validate a file before a
    /// long job depends on it.
    pub fn count_frames(&mut self) -> Result<u64> {
        self.seek(0)?;
        let mut buf = vec![vec![0.0f32; 1 << 15]; self.channels];
        let mut total = 0u64;
        loop {
            let mut views: Vec<&mut [f32]> = buf.iter_mut().map(|c| c.as_mut_slice()).collect();
            let n = self.read(&mut views)?;
            if n == 0 {
                break;
            }
            total += n as u64;
        }
        self.seek(0)?;
        Ok(total)
    }

    /// Moves so that the next read starts at `frame`.
    pub fn seek(&mut self, frame: u64) -> Result<()> {
        match &mut self.inner {
            Inner::Wav(r) => r.seek(frame),
            Inner::Other(r) => without_panics(|| r.seek(frame))
                .unwrap_or_else(|| Err(anyhow!("cannot seek (the decoder failed)"))),
        }
        .with_context(|| self.path.display().to_string())?;
        self.pos = frame;
        Ok(())
    }
}

/// Reads until `buf` is full or the reader ends; returns the bytes read.
pub(crate) fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Checks the sample rate and channel count of AIFF and FLAC headers before symphonia sees
/// them (it asserts on a rate of 0).
fn check_foreign_header(head: &[u8]) -> Result<()> {
    if head.len() >= 12 && &head[0..4] == b"FORM" && matches!(&head[8..12], b"AIFF" | b"AIFC") {
        let mut at = 12;
        while at + 8 <= head.len() {
            let size = u32::from_be_bytes([head[at + 4], head[at + 5], head[at + 6], head[at + 7]])
                as usize;
            if &head[at..at + 4] == b"COMM" {
                let c = head
                    .get(at + 8..at + 26)
                    .ok_or_else(|| anyhow!("malformed AIFF header (short COMM chunk)"))?;
                let channels = i16::from_be_bytes([c[0], c[1]]);
                check_channels(usize::try_from(channels).unwrap_or(0))?;
                let rate = extended_to_f64(&c[8..18]);
                if !(0.0..4e9).contains(&rate) {
                    bail!("malformed AIFF header (sample rate {rate})");
                }
                return check_sample_rate(rate.round() as u32);
            }
            at += 8 + size + (size & 1);
        }
        bail!("malformed AIFF header (no COMM chunk at its start)");
    }
    if head.len() >= 42 && &head[0..4] == b"fLaC" && head[4] & 0x7F == 0 {
        let s = &head[8..42];
        let rate = (u32::from(s[10]) << 12) | (u32::from(s[11]) << 4) | (u32::from(s[12]) >> 4);
        check_sample_rate(rate)?;
        check_channels(usize::from((s[12] >> 1) & 7) + 1)?;
    }
    Ok(())
}

/// An 80-bit IEEE 754 extended float (AIFF's sample rate), big-endian.
fn extended_to_f64(b: &[u8]) -> f64 {
    let exp = i32::from(u16::from_be_bytes([b[0], b[1]]) & 0x7FFF);
    let sign = if b[0] & 0x80 != 0 { -1.0 } else { 1.0 };
    let mantissa = u64::from_be_bytes([b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]]);
    if exp == 0 && mantissa == 0 {
        return 0.0;
    }
    if exp == 0x7FFF {
        return f64::NAN;
    }
    sign * mantissa as f64 * 2f64.powi(exp - 16383 - 63)
}

/// Compressed and other formats through symphonia, gapless, decoded packet by packet.
struct SymphoniaReader {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track: u32,
    sample_rate: u32,
    channels: usize,
    promised: Option<u64>,
    /// Decoded frames not yet returned; `buf[c][0]` is frame `buf_start`.
    buf: Vec<Vec<f32>>,
    buf_start: u64,
    /// The frame the next read returns.
    next: u64,
    /// Frames decoded since the start (for the truncation check).
    decoded: u64,
    eof: bool,
    convert: Option<AudioBuffer<f32>>,
}

impl SymphoniaReader {
    fn open(file: File, path: &Path) -> Result<Self> {
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let options = FormatOptions {
            enable_gapless: true,
            ..Default::default()
        };
        let probed = symphonia::default::get_probe()
            .format(&hint, mss, &options, &MetadataOptions::default())
            .map_err(|e| match e {
                SymError::Unsupported(_) => {
                    anyhow!("not a supported audio file (no known audio format in its header)")
                }
                other => anyhow!("not a supported audio file ({})", describe(&other)),
            })?;
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or_else(|| anyhow!("contains no audio track"))?;
        let params = track.codec_params.clone();
        let sample_rate = params
            .sample_rate
            .ok_or_else(|| anyhow!("has no sample rate"))?;
        check_sample_rate(sample_rate)?;
        let channels = params
            .channels
            .map(|c| c.count())
            .ok_or_else(|| anyhow!("does not state its channel count"))?;
        check_channels(channels)?;
        let decoder = symphonia::default::get_codecs()
            .make(&params, &DecoderOptions::default())
            .map_err(|e| anyhow!("unsupported codec ({})", describe(&e)))?;
        Ok(Self {
            track: track.id,
            format,
            decoder,
            sample_rate,
            channels,
            promised: params.n_frames,
            buf: vec![Vec::new(); channels],
            buf_start: 0,
            next: 0,
            decoded: 0,
            eof: false,
            convert: None,
        })
    }

    fn buffered_end(&self) -> u64 {
        self.buf_start + self.buf[0].len() as u64
    }

    fn read(&mut self, out: &mut [&mut [f32]]) -> Result<usize> {
        let want = out[0].len() as u64;
        while self.buffered_end() < self.next + want && !self.eof {
            self.decode_more()?;
        }
        let end = (self.next + want).min(self.buffered_end().max(self.next));
        let n = (end - self.next) as usize;
        if n == 0 {
            // At (or past) the end.
            return Ok(0);
        }
        // A seek may land past the request: those frames are silence.
        let lead = (self.buf_start.saturating_sub(self.next) as usize).min(n);
        let from = self.next.saturating_sub(self.buf_start) as usize;
        for (o, b) in out.iter_mut().zip(&self.buf) {
            o[..lead].fill(0.0);
            o[lead..n].copy_from_slice(&b[from..from + n - lead]);
        }
        let consumed = (from + n - lead).min(self.buf[0].len());
        for b in &mut self.buf {
            b.drain(..consumed);
        }
        self.buf_start += consumed as u64;
        self.next += n as u64;
        Ok(n)
    }

    fn seek(&mut self, frame: u64) -> Result<()> {
        if frame >= self.buf_start && frame <= self.buffered_end() + 48_000 {
            // Near ahead: decode through.
            self.next = frame;
            return Ok(());
        }
        let seeked = self
            .format
            .seek(
                SeekMode::Accurate,
                SeekTo::TimeStamp {
                    ts: frame,
                    track_id: self.track,
                },
            )
            .map_err(|e| anyhow!("cannot seek: {}", describe(&e)))?;
        self.decoder.reset();
        self.buf.iter_mut().for_each(Vec::clear);
        self.buf_start = seeked.actual_ts;
        self.next = frame;
        self.eof = false;
        // The truncation check only holds for a straight read from the start.
        self.decoded = u64::MAX / 2;
        Ok(())
    }

    /// Decodes the next packet of our track into the buffer, or sets `eof`.
    fn decode_more(&mut self) -> Result<()> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(p) => p,
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return self.end();
                }
                Err(SymError::ResetRequired) => bail!("stream changes format midway (unsupported)"),
                Err(e) => {
                    if self.decoded == 0 {
                        bail!("cannot read audio data ({})", describe(&e));
                    }
                    bail!("truncated or damaged after {} frames", self.decoded);
                }
            };
            if packet.track_id() != self.track {
                continue;
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(d) => d,
                Err(SymError::DecodeError(e)) => bail!("corrupt audio data ({e})"),
                Err(SymError::IoError(_)) => {
                    bail!("truncated or damaged after {} frames", self.decoded)
                }
                Err(e) => bail!("cannot decode ({})", describe(&e)),
            };
            let spec = *decoded.spec();
            if spec.channels.count() != self.channels {
                bail!(
                    "channel count changes midway ({} then {})",
                    self.channels,
                    spec.channels.count()
                );
            }
            if spec.rate != self.sample_rate {
                bail!(
                    "sample rate changes midway ({} then {})",
                    self.sample_rate,
                    spec.rate
                );
            }
            let before = self.buf[0].len();
            append_planes(&decoded, &mut self.convert, &mut self.buf);
            self.decoded = self
                .decoded
                .saturating_add((self.buf[0].len() - before) as u64);
            return Ok(());
        }
    }

    /// At the end of the stream: a file that holds far fewer frames than it promised is
    /// truncated (compressed formats may fall short of the promise by a few frames).
    fn end(&mut self) -> Result<()> {
        self.eof = true;
        let frames = self.decoded;
        if let Some(promised) = self.promised {
            if frames < promised && (frames == 0 || promised - frames > 4096) {
                bail!("truncated: the header promises {promised} frames, the file holds {frames}");
            }
        }
        if frames == 0 {
            bail!("contains no audio frames");
        }
        Ok(())
    }
}

/// Appends a decoded packet to planar `channels` (f32 packets are copied straight out;
/// others go through the reusable `convert` buffer).
fn append_planes(
    decoded: &AudioBufferRef<'_>,
    convert: &mut Option<AudioBuffer<f32>>,
    channels: &mut [Vec<f32>],
) {
    if let AudioBufferRef::F32(planes) = decoded {
        for (c, out) in channels.iter_mut().enumerate() {
            out.extend_from_slice(planes.chan(c));
        }
        return;
    }
    let spec = *decoded.spec();
    let b = convert.get_or_insert_with(|| AudioBuffer::new(decoded.capacity() as u64, spec));
    if b.capacity() < decoded.capacity() {
        *b = AudioBuffer::new(decoded.capacity() as u64, spec);
    }
    decoded.convert(b);
    for (c, out) in channels.iter_mut().enumerate() {
        out.extend_from_slice(b.chan(c));
    }
}

fn describe(e: &SymError) -> String {
    match e {
        SymError::Unsupported(what) => format!("unsupported: {what}"),
        SymError::DecodeError(what) => format!("malformed: {what}"),
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "ends unexpectedly".to_string()
        }
        other => other.to_string(),
    }
}
