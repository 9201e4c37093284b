//! WAV export: 16/24-bit PCM or 32-bit float, RF64 past 4 GiB, written through a temporary
//! file, whole or block by block.

use super::output::{temp_beside, Staged};
use super::wav::{WavSampleFormat, WavWriter};
use anyhow::{anyhow, bail, Result};
use std::fs::File;
use std::io::BufWriter;
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

impl From<ExportFormat> for WavSampleFormat {
    fn from(f: ExportFormat) -> Self {
        match f {
            ExportFormat::Pcm16 => Self::Pcm16,
            ExportFormat::Pcm24 => Self::Pcm24,
            ExportFormat::F32 => Self::F32,
        }
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
/// into place by [`finish`](Self::finish) or staged by [`finish_staged`](Self::finish_staged)
/// (dropped unfinished, nothing appears).
pub struct WavStream {
    path: PathBuf,
    tmp: tempfile::NamedTempFile,
    writer: WavWriter<BufWriter<File>>,
    /// Frames written since the kernel was last asked to start writing them to disk.
    unsynced: usize,
    /// The output replaces a file, so it is flushed to disk before the rename
    /// ([`Staged::from_temp`]): writeback then starts as it goes.
    replaces: bool,
}

/// Frames between requests to start writeback (about 6 MB of 24-bit stereo) of an output
/// that replaces a file: the flush to disk that makes it durable then runs while the command
/// works, and the final one finds little left. A new file is left to the kernel.
const WRITEBACK_FRAMES: usize = 1 << 20;

/// Asks the kernel to start writing `file`'s dirty pages to disk without waiting for them.
fn start_writeback(file: &File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid descriptor; offset 0 and length 0 mean the whole file; the call
        // only schedules writeback and touches no memory of ours.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

impl WavStream {
    pub fn create(
        path: &Path,
        sample_rate: u32,
        channels: usize,
        format: ExportFormat,
    ) -> Result<Self> {
        let tmp = temp_beside(path)?;
        let file = tmp
            .as_file()
            .try_clone()
            .map_err(|e| anyhow!("{}: {e}", path.display()))?;
        let writer = WavWriter::new(
            BufWriter::with_capacity(1 << 20, file),
            sample_rate,
            channels,
            format.into(),
        )
        .map_err(|e| anyhow!("{}: write failed: {e}", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            tmp,
            writer,
            unsynced: 0,
            replaces: path.exists(),
        })
    }

    /// Appends planar frames (one slice per channel, equal lengths).
    pub fn write(&mut self, planes: &[&[f32]]) -> Result<()> {
        self.writer
            .write(planes)
            .map_err(|e| anyhow!("{}: write failed: {e}", self.path.display()))?;
        self.unsynced += planes.first().map_or(0, |c| c.len());
        if self.replaces && self.unsynced >= WRITEBACK_FRAMES {
            self.unsynced = 0;
            start_writeback(self.tmp.as_file());
        }
        Ok(())
    }

    /// Completes the header (flushed to disk when it replaces a file), ready to be renamed
    /// into place.
    pub fn finish_staged(self) -> Result<Staged> {
        let name = self.path.display().to_string();
        let buffered = self
            .writer
            .finish()
            .map_err(|e| anyhow!("{name}: write failed: {e}"))?;
        buffered
            .into_inner()
            .map_err(|e| anyhow!("{name}: write failed: {}", e.error()))?;
        Staged::from_temp(self.tmp, &self.path)
    }

    /// Completes the file and moves it into place.
    pub fn finish(self) -> Result<()> {
        self.finish_staged()?.commit()
    }
}
