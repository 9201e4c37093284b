//! Audio files in and out: decode (symphonia), resample (rubato), export (hound).

mod atomic;
mod decode;
mod encode;
mod resample;
mod stream;

pub use atomic::{check_output_path, write_atomically};
pub use decode::{decode_file, DecodedAudio};
pub use encode::{write_wav, ExportFormat, WavStream};
pub use resample::resample;
pub use stream::FileStream;
