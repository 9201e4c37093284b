//! Real-time playback: an engine thread renders ahead into a lock-free ring; the audio
//! callback only copies from it and applies last-moment fader gains.

mod callback;
mod controlled;
mod device;
mod engine;
pub mod osc;
mod pool;
mod swap;
mod write;

pub use callback::{Command, OutputCallback, PlaybackCounters};
pub use controlled::{lane_commands, play_controlled, save_lanes, ControlOptions, ControlReport};
pub use device::{open_output, open_output_on, play_session};
pub use engine::{spawn_engine, Block, Engine, EngineStats, Step};
pub use pool::on_engine_pool;
pub use swap::LiveMix;
pub use write::{AutomationPass, StripAt, WrittenLane, DEFAULT_GLIDE};

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

/// Writes `left` and `right` interleaved into the ring; false (nothing written) when it has
/// no room for all of it.
pub fn push_stereo(ring: &mut rtrb::Producer<f32>, left: &[f32], right: &[f32]) -> bool {
    let Ok(mut chunk) = ring.write_chunk(2 * left.len()) else {
        return false;
    };
    let (a, b) = chunk.as_mut_slices();
    for (k, s) in a.iter_mut().chain(b.iter_mut()).enumerate() {
        *s = if k % 2 == 0 {
            left[k / 2]
        } else {
            right[k / 2]
        };
    }
    chunk.commit_all();
    true
}

/// The master's first `n` samples: the sum of the stems (`[stem][channel]`).
pub fn sum_stems(stems: &[Vec<Vec<f32>>], master: &mut [Vec<f32>], n: usize) {
    for (c, m) in master.iter_mut().enumerate() {
        m[..n].fill(0.0);
        for s in stems {
            m[..n].iter_mut().zip(&s[c][..n]).for_each(|(a, b)| *a += b);
        }
    }
}
