//! WAV, Broadcast WAV and RF64/BW64 (EBU Tech 3306, ITU-R BS.2088) read and written by hand:
//! symphonia reads neither RF64 nor WAVs streamed to a pipe, and hound cannot write past
//! 4 GiB. PCM 8/16/24/32-bit and IEEE float 32/64; every header field is checked against
//! [`super::limits`] before any buffer is sized from it.

mod read;
mod write;

pub use read::{is_wav, WavReader};
pub use write::{WavSampleFormat, WavWriter};

/// `WAVE_FORMAT_PCM`.
const FORMAT_PCM: u16 = 1;
/// `WAVE_FORMAT_IEEE_FLOAT`.
const FORMAT_FLOAT: u16 = 3;
/// `WAVE_FORMAT_EXTENSIBLE`: the real format is the first two bytes of the sub-format GUID.
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// The tail shared by the PCM and float sub-format GUIDs (KSDATAFORMAT_SUBTYPE_*).
const GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];
