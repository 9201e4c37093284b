//! The engine thread: renders the mix ahead of the playhead into the ring, in large blocks,
//! and measures its real-time headroom.

use super::callback::PlaybackCounters;
use gpu_dsp::mix::{downmix_to_stereo, Layout, Mixer};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the engine measured.
#[derive(Clone, Debug, Default)]
pub struct EngineStats {
    pub blocks: u64,
    /// Engine time per block over block duration: mean and worst.
    pub mean_load: f64,
    pub max_load: f64,
}

/// Starts the engine: it renders `frames` frames from the mixer's current position and
/// writes interleaved stereo (surround is monitored through the ITU downmix).
pub fn spawn_engine(
    mut mixer: Mixer,
    mut ring: rtrb::Producer<f32>,
    frames: u64,
    block: usize,
    counters: Arc<PlaybackCounters>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<EngineStats> {
    std::thread::spawn(move || {
        // Marks the engine finished however the thread ends, so the callback stops counting
        // underruns and waiters wake up.
        struct Done(Arc<PlaybackCounters>);
        impl Drop for Done {
            fn drop(&mut self) {
                self.0.engine_done.store(true, Ordering::Release);
            }
        }
        let _done = Done(counters);
        let block = block.min(mixer.block()).max(1);
        let layout = mixer.spec().layout;
        let channels = layout.channels();
        let rate = f64::from(mixer.spec().sample_rate);
        let mut master = vec![vec![0.0f32; block]; channels];
        // Stereo monitoring buffers for surround sessions (ITU downmix).
        let (mut down_left, mut down_right) = (vec![0.0f32; block], vec![0.0f32; block]);
        let mut stats = EngineStats::default();
        let mut load_sum = 0.0;
        // The mix's own latency is rendered but not played, so output starts at the playhead.
        let mut skip = mixer.latency() as u64;
        let mut done = 0u64;
        while done < frames && !stop.load(Ordering::Relaxed) {
            let n = if skip > 0 {
                block.min(skip as usize)
            } else {
                block.min((frames - done) as usize)
            };
            if ring.slots() < n * 2 {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            let started = Instant::now();
            let stems = mixer.process_block(n);
            super::sum_stems(stems, &mut master, n);
            if skip > 0 {
                skip -= n as u64;
                continue;
            }
            let (left, right): (&[f32], &[f32]) = if layout == Layout::Stereo {
                (&master[0][..n], &master[1][..n])
            } else {
                let planes: [&[f32]; 8] =
                    std::array::from_fn(|c| master.get(c).map_or(&[][..], |x| &x[..n]));
                downmix_to_stereo(
                    layout,
                    &planes[..channels],
                    &mut down_left[..n],
                    &mut down_right[..n],
                );
                (&down_left[..n], &down_right[..n])
            };
            super::push_stereo(&mut ring, left, right);
            let load = started.elapsed().as_secs_f64() / (n as f64 / rate);
            load_sum += load;
            stats.max_load = stats.max_load.max(load);
            stats.blocks += 1;
            done += n as u64;
        }
        stats.mean_load = if stats.blocks > 0 {
            load_sum / stats.blocks as f64
        } else {
            0.0
        };
        stats
    })
}
