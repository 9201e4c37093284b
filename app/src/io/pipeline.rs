//! Decoding ahead and encoding behind on their own threads, so a streaming command's
//! processing overlaps its file I/O. Blocks travel over bounded channels and their buffers
//! are handed back for reuse, so memory stays a few blocks.

use super::encode::WavStream;
use super::output::Staged;
use super::source::AudioFile;
use anyhow::{anyhow, Result};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

/// Planar block buffers.
type Planes = Vec<Vec<f32>>;

/// A block handed out by [`ReadAhead::next_block`]: the planes and how many frames of each
/// are valid.
pub type Block<'a> = (&'a [Vec<f32>], usize);

/// An [`AudioFile`] decoded on a thread of its own, `depth` blocks ahead of the reader.
pub struct ReadAhead {
    rx: Receiver<Result<(Planes, usize)>>,
    free: Sender<Planes>,
    current: Option<Planes>,
}

impl ReadAhead {
    /// Starts decoding `file` in blocks of `block` frames.
    pub fn new(mut file: AudioFile, block: usize, depth: usize) -> Self {
        let channels = file.channels();
        let (tx, rx) = sync_channel::<Result<(Planes, usize)>>(depth.max(1));
        let (free, free_rx) = channel::<Planes>();
        std::thread::spawn(move || loop {
            let mut buf = free_rx
                .try_recv()
                .unwrap_or_else(|_| vec![vec![0.0; block]; channels]);
            let mut views: Vec<&mut [f32]> = buf.iter_mut().map(|c| c.as_mut_slice()).collect();
            let result = file.read(&mut views);
            let done = !matches!(result, Ok(n) if n > 0);
            if tx.send(result.map(|n| (buf, n))).is_err() || done {
                return;
            }
        });
        Self {
            rx,
            free,
            current: None,
        }
    }

    /// The next block (`n` frames of each plane are valid); `None` at the end of the file.
    pub fn next_block(&mut self) -> Result<Option<Block<'_>>> {
        if let Some(done) = self.current.take() {
            let _ = self.free.send(done);
        }
        match self.rx.recv() {
            Ok(Ok((_, 0))) => Ok(None),
            Err(_) => Err(anyhow!(
                "the decoding thread stopped before the end of the file"
            )),
            Ok(Ok((buf, n))) => {
                let buf = self.current.insert(buf);
                Ok(Some((buf.as_slice(), n)))
            }
            Ok(Err(e)) => Err(e),
        }
    }
}

/// A [`WavStream`] encoded and written on a thread of its own.
pub struct WriteBehind {
    tx: Option<SyncSender<(Planes, usize, usize)>>,
    free: Receiver<Planes>,
    handle: Option<JoinHandle<Result<WavStream>>>,
    channels: usize,
}

impl WriteBehind {
    /// Takes over `out`; up to `depth` blocks wait to be written.
    pub fn new(mut out: WavStream, channels: usize, depth: usize) -> Self {
        let (tx, rx) = sync_channel::<(Planes, usize, usize)>(depth.max(1));
        let (free_tx, free) = channel::<Planes>();
        let handle = std::thread::spawn(move || -> Result<WavStream> {
            for (buf, from, to) in rx {
                let planes: Vec<&[f32]> = buf.iter().map(|c| &c[from..to]).collect();
                out.write(&planes)?;
                let _ = free_tx.send(buf);
            }
            Ok(out)
        });
        Self {
            tx: Some(tx),
            free,
            handle: Some(handle),
            channels,
        }
    }

    /// Queues frames `from..to` of planar `block` (copied).
    pub fn write(&mut self, block: &[Vec<f32>], from: usize, to: usize) -> Result<()> {
        let mut buf = self
            .free
            .try_recv()
            .unwrap_or_else(|_| vec![Vec::new(); self.channels]);
        for (b, c) in buf.iter_mut().zip(block) {
            b.clear();
            b.extend_from_slice(&c[from..to]);
        }
        let n = to - from;
        let sent = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.send((buf, 0, n)).is_ok());
        if !sent {
            // The writer stopped: its error says why.
            return Err(self
                .join()
                .err()
                .unwrap_or_else(|| anyhow!("the writer stopped")));
        }
        Ok(())
    }

    fn join(&mut self) -> Result<WavStream> {
        self.tx = None;
        match self.handle.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(anyhow!("the writer thread failed")),
            None => Err(anyhow!("the writer already finished")),
        }
    }

    /// Writes what is queued, completes the file and stages it.
    pub fn finish_staged(mut self) -> Result<Staged> {
        self.join()?.finish_staged()
    }
}

impl Drop for WriteBehind {
    /// Unfinished (an error upstream): wait for the writer so its temporary file is removed
    /// before the process exits.
    fn drop(&mut self) {
        if self.handle.is_some() {
            let _ = self.join();
        }
    }
}
