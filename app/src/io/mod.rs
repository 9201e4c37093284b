//! Audio files in and out: decode (our WAV/RF64 reader, symphonia for the rest), resample
//! (rubato), export (WAV/RF64), and the rules every input and output path follows.

mod cleanup;
mod decode;
mod encode;
mod guard;
mod input;
mod ir;
pub mod limits;
mod output;
mod pipeline;
mod resample;
mod source;
mod stream;
pub mod wav;

pub use cleanup::{
    forget as forget_work_path, install_signal_cleanup, interrupt_stops,
    register as register_work_path, sweep_stale,
};
pub use decode::{decode_all, decode_file, DecodedAudio};
pub use encode::{write_wav, ExportFormat, WavStream};
pub use input::check_input_file;
pub use ir::{check_ir_limit, load_ir, MAX_IR_CHANNELS};
pub use output::{
    canonical_output, check_distinct_outputs, check_output_path, commit_all, resolve_output,
    temp_beside, write_atomically, write_staged, Staged,
};
pub use pipeline::{ReadAhead, WriteBehind};
pub use resample::resample;
pub use source::AudioFile;
pub use stream::{FileStream, Silence};
