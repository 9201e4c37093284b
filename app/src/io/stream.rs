//! Streamed sources: a file decoded block by block as the mix reads it, so a session's
//! memory does not grow with its source audio.

use super::source::AudioFile;
use gpu_dsp::mix::{SourceReader, StreamSource};
use std::path::PathBuf;

/// A validated audio file at the session rate (checked by a full read at load time).
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
        let file = AudioFile::open(&self.path).map_err(|e| format!("{e:#}"))?;
        Ok(Box::new(FileReader { file, next: 0 }))
    }
}

/// One clip's position in a file.
struct FileReader {
    file: AudioFile,
    /// The frame the file reads next.
    next: u64,
}

impl SourceReader for FileReader {
    fn read(&mut self, start: u64, out: &mut [&mut [f32]]) -> Result<(), String> {
        if start != self.next {
            self.file.seek(start).map_err(|e| format!("{e:#}"))?;
            self.next = start;
        }
        let n = self.file.read(out).map_err(|e| format!("{e:#}"))?;
        for o in out.iter_mut() {
            o[n..].fill(0.0);
        }
        self.next += n as u64;
        Ok(())
    }
}
