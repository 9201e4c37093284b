//! Decoding any format symphonia reads into planar f32 channels.

use anyhow::{anyhow, bail, Context, Result};
use std::fs::File;
use std::path::Path;
use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};
use symphonia::core::codecs::{Decoder, DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

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

/// Decodes the first audio track of `path`. Every failure names the file and the problem.
pub fn decode_file(path: &Path) -> Result<DecodedAudio> {
    decode_inner(path).with_context(|| path.display().to_string())
}

fn decode_inner(path: &Path) -> Result<DecodedAudio> {
    let file = File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => anyhow!("file not found"),
        _ => anyhow!("cannot open: {e}"),
    })?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        bail!("is a folder, not an audio file");
    }
    if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
        bail!("file is empty (0 bytes)");
    }
    let OpenedAudio {
        mut format,
        mut decoder,
        track_id,
        promised,
    } = open_audio(file, path)?;
    let mut sample_rate = decoder.codec_params().sample_rate.unwrap_or(0);
    let mut channels: Vec<Vec<f32>> = Vec::new();
    let mut buf: Option<AudioBuffer<f32>> = None;
    let mut truncated = false;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymError::ResetRequired) => bail!("stream changes format midway (unsupported)"),
            Err(e) => {
                truncated = true;
                if channels.is_empty() {
                    bail!("cannot read audio data ({})", describe(&e));
                }
                break;
            }
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            Err(SymError::DecodeError(e)) => bail!("corrupt audio data ({e})"),
            Err(SymError::IoError(_)) => {
                truncated = true;
                break;
            }
            Err(e) => bail!("cannot decode ({})", describe(&e)),
        };
        let spec = *decoded.spec();
        sample_rate = spec.rate;
        let n = spec.channels.count();
        if channels.is_empty() {
            // Reserve the promised length up front (bounded, in case a header lies).
            let reserve = promised.unwrap_or(0).min(1 << 24) as usize;
            channels = (0..n).map(|_| Vec::with_capacity(reserve)).collect();
        } else if channels.len() != n {
            bail!("channel count changes midway ({} then {n})", channels.len());
        }
        append_planes(&decoded, &mut buf, &mut channels);
    }
    let frames = channels.first().map_or(0, Vec::len);
    if let Some(promised) = promised {
        if (frames as u64) < promised
            && (truncated || frames == 0 || promised - frames as u64 > 4096)
        {
            bail!("truncated: the header promises {promised} frames, the file holds {frames}");
        }
    }
    if truncated {
        bail!("truncated or damaged after {frames} frames");
    }
    if frames == 0 {
        bail!("contains no audio frames");
    }
    if sample_rate == 0 {
        bail!("has no sample rate");
    }
    if channels.iter().flatten().any(|s| !s.is_finite()) {
        bail!("contains NaN or infinite samples");
    }
    Ok(DecodedAudio {
        sample_rate,
        channels,
    })
}

/// A probed file: its format reader, a decoder for its first audio track, and the frame count
/// its header promises.
pub(crate) struct OpenedAudio {
    pub format: Box<dyn FormatReader>,
    pub decoder: Box<dyn Decoder>,
    pub track_id: u32,
    pub promised: Option<u64>,
}

/// Probes `file` (named `path` for its extension) and opens a decoder for its first audio
/// track, gapless. Errors say what is wrong without the file name (callers add it).
pub(crate) fn open_audio(file: File, path: &Path) -> Result<OpenedAudio> {
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
    let track_id = track.id;
    let promised = track.codec_params.n_frames;
    let decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| anyhow!("unsupported codec ({})", describe(&e)))?;
    Ok(OpenedAudio {
        format,
        decoder,
        track_id,
        promised,
    })
}

/// Appends a decoded packet to planar `channels` (f32 packets are copied straight out;
/// others go through the reusable `convert` buffer).
pub(crate) fn append_planes(
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
