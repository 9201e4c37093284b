//! Streamed sources: a file decoded block by block as the mix reads it, so a session's
//! memory does not grow with its source audio.

use super::limits::MAX_CHANNELS;
use super::source::AudioFile;
use gpu_dsp::mix::{SourceReader, StreamSource};
use std::path::PathBuf;

/// A validated audio file at the session rate (checked by a full read at load time).
#[derive(Debug)]
pub struct FileStream {
    pub path: PathBuf,
    /// Channels of the file.
    pub channels: usize,
    pub frames: u64,
    /// One channel (from 0) taken as a mono source, or every channel.
    pub pick: Option<usize>,
}

impl StreamSource for FileStream {
    fn channels(&self) -> usize {
        if self.pick.is_some() {
            1
        } else {
            self.channels
        }
    }

    fn frames(&self) -> u64 {
        self.frames
    }

    fn open(&self) -> Result<Box<dyn SourceReader>, String> {
        let file = AudioFile::open(&self.path).map_err(|e| format!("{e:#}"))?;
        let scratch = match self.pick {
            Some(_) => vec![Vec::new(); self.channels],
            None => Vec::new(),
        };
        Ok(Box::new(FileReader {
            file,
            next: 0,
            pick: self.pick,
            scratch,
        }))
    }
}

/// One clip's position in a file.
struct FileReader {
    file: AudioFile,
    /// The frame the file reads next.
    next: u64,
    pick: Option<usize>,
    /// Every channel of the file, when one is picked (grown once to the largest read).
    scratch: Vec<Vec<f32>>,
}

impl SourceReader for FileReader {
    fn read(&mut self, start: u64, out: &mut [&mut [f32]]) -> Result<(), String> {
        if start != self.next {
            self.file.seek(start).map_err(|e| format!("{e:#}"))?;
            self.next = start;
        }
        let n = match self.pick {
            None => self.file.read(out),
            Some(c) => {
                let len = out.first().map_or(0, |o| o.len());
                for s in &mut self.scratch {
                    if s.len() < len {
                        s.resize(len, 0.0);
                    }
                }
                // Views on the stack: no allocation per block.
                let channels = self.scratch.len();
                let mut planes = self.scratch.iter_mut();
                let mut views: [&mut [f32]; MAX_CHANNELS] = std::array::from_fn(|_| {
                    planes.next().map_or(Default::default(), |s| &mut s[..len])
                });
                let n = self.file.read(&mut views[..channels]);
                if let (Ok(n), Some(o)) = (&n, out.first_mut()) {
                    o[..*n].copy_from_slice(&self.scratch[c][..*n]);
                }
                n
            }
        }
        .map_err(|e| format!("{e:#}"))?;
        for o in out.iter_mut() {
            o[n..].fill(0.0);
        }
        self.next += n as u64;
        Ok(())
    }
}

/// An offline file: silence of a given length, read without touching any disk.
#[derive(Debug)]
pub struct Silence {
    pub frames: u64,
}

impl StreamSource for Silence {
    fn channels(&self) -> usize {
        1
    }

    fn frames(&self) -> u64 {
        self.frames
    }

    fn open(&self) -> Result<Box<dyn SourceReader>, String> {
        Ok(Box::new(SilentReader))
    }

    fn offline(&self) -> bool {
        true
    }
}

struct SilentReader;

impl SourceReader for SilentReader {
    fn read(&mut self, _start: u64, out: &mut [&mut [f32]]) -> Result<(), String> {
        for o in out.iter_mut() {
            o.fill(0.0);
        }
        Ok(())
    }
}
