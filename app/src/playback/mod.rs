//! Real-time playback: an engine thread renders ahead into a lock-free ring; the audio
//! callback only copies from it and applies last-moment fader gains.

mod callback;
mod device;
mod engine;

pub use callback::{Command, OutputCallback, PlaybackCounters};
pub use device::{open_output, play_session};
pub use engine::{spawn_engine, EngineStats};

/// Creates the sample ring (interleaved stereo frames) and the command ring.
pub fn rings(
    frames: usize,
    channels: usize,
) -> (
    rtrb::Producer<f32>,
    rtrb::Consumer<f32>,
    rtrb::Producer<Command>,
    rtrb::Consumer<Command>,
) {
    let (ap, ac) = rtrb::RingBuffer::new(frames * channels);
    let (cp, cc) = rtrb::RingBuffer::new(64);
    (ap, ac, cp, cc)
}
