//! Streamed sources: a file decoded block by block as the mix reads it, so a session's
//! memory does not grow with its source audio.

use super::decode::{append_planes, open_audio};
use gpu_dsp::mix::{SourceReader, StreamSource};
use std::fs::File;
use std::path::PathBuf;
use symphonia::core::audio::AudioBuffer;
use symphonia::core::codecs::Decoder;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatReader, SeekMode, SeekTo};

/// A validated audio file at the session rate (checked by a full decode at load time).
#[derive(Debug)]
pub struct FileStream {
    pub path: PathBuf,
    pub channels: usize,
    pub frames: u64,
}

impl StreamSource for FileStream {
    fn channels(&self) -> usize {
        self.channels
    }

    fn frames(&self) -> u64 {
        self.frames
    }

    fn open(&self) -> Result<Box<dyn SourceReader>, String> {
        FileReader::open(self).map(|r| Box::new(r) as Box<dyn SourceReader>)
    }
}

/// One clip's position in a file.
struct FileReader {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track: u32,
    /// Decoded frames not yet read, per channel; `buf[c][0]` is frame `buf_start`.
    buf: Vec<Vec<f32>>,
    buf_start: u64,
    eof: bool,
    convert: Option<AudioBuffer<f32>>,
    name: String,
}

impl FileReader {
    fn open(stream: &FileStream) -> Result<Self, String> {
        let name = stream.path.display().to_string();
        let file = File::open(&stream.path).map_err(|e| format!("{name}: {e}"))?;
        let opened = open_audio(file, &stream.path).map_err(|e| format!("{name}: {e}"))?;
        Ok(Self {
            format: opened.format,
            decoder: opened.decoder,
            track: opened.track_id,
            buf: vec![Vec::new(); stream.channels],
            buf_start: 0,
            eof: false,
            convert: None,
            name,
        })
    }

    fn buffered(&self) -> u64 {
        self.buf.first().map_or(0, |c| c.len() as u64)
    }

    fn seek(&mut self, frame: u64) -> Result<(), String> {
        let seeked = self
            .format
            .seek(
                SeekMode::Accurate,
                SeekTo::TimeStamp {
                    ts: frame,
                    track_id: self.track,
                },
            )
            .map_err(|e| format!("{}: cannot seek: {e}", self.name))?;
        self.decoder.reset();
        self.buf.iter_mut().for_each(Vec::clear);
        self.buf_start = seeked.actual_ts;
        self.eof = false;
        Ok(())
    }

    /// Decodes the next packet of our track into the buffer.
    fn decode_more(&mut self) -> Result<(), String> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(p) => p,
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    self.eof = true;
                    return Ok(());
                }
                Err(e) => return Err(format!("{}: {e}", self.name)),
            };
            if packet.track_id() != self.track {
                continue;
            }
            let decoded = self
                .decoder
                .decode(&packet)
                .map_err(|e| format!("{}: {e}", self.name))?;
            append_planes(&decoded, &mut self.convert, &mut self.buf);
            return Ok(());
        }
    }
}

impl SourceReader for FileReader {
    fn read(&mut self, start: u64, out: &mut [&mut [f32]]) -> Result<(), String> {
        let n = out.first().map_or(0, |c| c.len()) as u64;
        // Jumps backwards or far ahead seek; small gaps are decoded through.
        if start < self.buf_start || start > self.buf_start + self.buffered() + 48_000 {
            self.seek(start)?;
        }
        while self.buf_start + self.buffered() < start + n && !self.eof {
            self.decode_more()?;
        }
        // A seek can land past the request (never before it for PCM/FLAC): those frames are
        // silence rather than an underflow.
        let lead = self.buf_start.saturating_sub(start) as usize;
        let lead = lead.min(n as usize);
        for o in out.iter_mut() {
            o[..lead].fill(0.0);
        }
        let from = start.saturating_sub(self.buf_start) as usize;
        for (o, b) in out.iter_mut().zip(&self.buf) {
            let o = &mut o[lead..];
            let avail = b.len().saturating_sub(from).min(o.len());
            if avail > 0 {
                o[..avail].copy_from_slice(&b[from..from + avail]);
            }
            o[avail..].fill(0.0);
        }
        let consumed =
            ((start + n).saturating_sub(self.buf_start) as usize).min(self.buffered() as usize);
        for b in &mut self.buf {
            b.drain(..consumed);
        }
        self.buf_start += consumed as u64;
        Ok(())
    }
}
