//! The one playback engine, for `mixstation play` and the window: renders a [`LiveMix`] ahead
//! of the playhead block by block — the mix's own latency rendered but not heard, an optional
//! loop range, surround monitored through the ITU downmix — into the sound card's ring (or
//! paced to real time without one), measuring its real-time headroom, and hands every audible
//! block to a tap (the window's meters).

use super::callback::PlaybackCounters;
use super::swap::LiveMix;
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

/// One audible block, as the tap sees it.
pub struct Block<'a> {
    /// Timeline sample of the block's first sample.
    pub position: u64,
    /// Samples in the block.
    pub n: usize,
    /// The playing mix (its stems, taps and meters of this block).
    pub mixer: &'a Mixer,
    /// The master (sum of the stems, crossfaded after a swap), layout channels.
    pub master: &'a [Vec<f32>],
    /// What the sound card gets: the master, or its stereo downmix.
    pub left: &'a [f32],
    pub right: &'a [f32],
}

/// What [`Engine::step`] did.
pub enum Step<T> {
    /// A block was heard; the tap's result.
    Played(T),
    /// A block of the mix's latency was rendered, not heard.
    Skipped,
    /// The end was reached or the engine was told to stop.
    Ended,
}

/// Never more than this far ahead of the wall clock when pacing itself.
const PACE_AHEAD: Duration = Duration::from_millis(150);

/// Renders a mix for playback, block by block.
pub struct Engine {
    mix: LiveMix,
    block: usize,
    position: u64,
    end: u64,
    /// Samples of the mix's latency still to render before the first audible one.
    skip: u64,
    loop_range: Option<(u64, u64)>,
    ring: Option<rtrb::Producer<f32>>,
    /// Paces itself to real time (the window: meters stay in step without a sound card).
    paced: bool,
    started: Option<Instant>,
    played: u64,
    /// Timeline sample of the first audible block.
    first: u64,
    master: Vec<Vec<f32>>,
    left: Vec<f32>,
    right: Vec<f32>,
    stats: EngineStats,
    load_sum: f64,
}

impl Engine {
    /// An engine playing `mixer` from timeline sample `from` to `end`, in blocks of at most
    /// `block` (and the mixer's) samples, into `ring` (interleaved stereo) when given.
    pub fn new(
        mut mixer: Mixer,
        from: u64,
        end: u64,
        block: usize,
        ring: Option<rtrb::Producer<f32>>,
    ) -> Self {
        let block = block.min(mixer.block()).max(1);
        let channels = mixer.spec().layout.channels();
        mixer.seek(from);
        let skip = mixer.latency() as u64;
        Self {
            mix: LiveMix::new(mixer),
            block,
            position: from,
            end,
            skip,
            loop_range: None,
            ring,
            paced: false,
            started: None,
            played: 0,
            first: from,
            master: vec![vec![0.0; block]; channels],
            left: vec![0.0; block],
            right: vec![0.0; block],
            stats: EngineStats::default(),
            load_sum: 0.0,
        }
    }

    /// Paces rendering to real time (at most 150 ms ahead of the wall clock).
    pub fn paced(mut self) -> Self {
        self.paced = true;
        self
    }

    /// Plays `from..to` (timeline samples) over and over.
    pub fn set_loop(&mut self, range: Option<(u64, u64)>) {
        self.loop_range = range.filter(|(a, b)| b > a);
    }

    /// The playing mix, for live changes.
    pub fn mixer(&mut self) -> &mut Mixer {
        self.mix.mixer()
    }

    /// Moves the playhead to timeline sample `to` (the mix's latency is rendered again, not
    /// heard; the heard clock starts over there).
    pub fn locate(&mut self, to: u64) {
        self.mix.mixer().seek(to);
        self.position = to;
        self.skip = self.mix.current().latency() as u64;
        self.first = to;
        self.played = 0;
        self.started = None;
    }

    /// Timeline sample of the next block.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The timeline sample being heard now, where a control's move lands when automation is
    /// written: paced, the one the clock has reached since the first audible block; with a
    /// sound card, the rendered position less what still waits in its ring (the device's
    /// own buffer is not known to cpal and is not counted); otherwise the rendered position.
    /// Not meaningful across a loop's jump.
    pub fn heard(&self) -> u64 {
        self.heard_at(Instant::now())
    }

    /// [`Engine::heard`] at the instant `at` (a control's arrival, stamped by the thread
    /// that received it: the engine may be asleep ahead of the clock when it arrives).
    pub fn heard_at(&self, at: Instant) -> u64 {
        let rate = f64::from(self.mix.current().spec().sample_rate);
        if self.paced {
            let Some(started) = self.started else {
                return self.first;
            };
            let elapsed = at.saturating_duration_since(started).as_secs_f64();
            return self.first + ((elapsed * rate) as u64).min(self.played);
        }
        let now = match &self.ring {
            Some(ring) => {
                let queued = (ring.buffer().capacity() - ring.slots()) / 2;
                self.position.saturating_sub(queued as u64)
            }
            None => self.position,
        };
        let ago = Instant::now().saturating_duration_since(at).as_secs_f64();
        now.saturating_sub((ago * rate) as u64)
    }

    /// True while the mix's latency is still being rendered (a swap waits for the end of it).
    pub fn in_latency(&self) -> bool {
        self.skip > 0
    }

    /// Takes `next` as the mix from the playhead on (crossfaded over one block); the end moves
    /// to its timeline's.
    pub fn swap_in(&mut self, next: Mixer) {
        self.end = next.spec().length() + next.tail();
        self.mix.swap_in(next, self.position);
    }

    /// What the engine measured so far.
    pub fn stats(&self) -> EngineStats {
        let mut stats = self.stats.clone();
        if stats.blocks > 0 {
            stats.mean_load = self.load_sum / stats.blocks as f64;
        }
        stats
    }

    /// Renders the next block: waits for room in the ring (or paces), renders, writes the
    /// ring and hands the audible block to `tap`.
    pub fn step<T>(&mut self, stop: &AtomicBool, tap: impl FnOnce(Block<'_>) -> T) -> Step<T> {
        if stop.load(Ordering::Relaxed) {
            return Step::Ended;
        }
        if let Some((from, to)) = self.loop_range {
            if self.skip == 0 && self.position >= to && to <= self.end {
                // Back to the loop's start; the mix runs on (reverbs ring into the repeat)
                // and its latency is run through so the start is heard on time.
                self.mix.mixer().seek(from);
                let mut left = self.mix.current().latency();
                while left > 0 {
                    let k = left.min(self.block);
                    self.mix.render(k, &mut self.master);
                    left -= k;
                }
                self.position = from;
            }
        }
        let limit = match self.loop_range {
            Some((_, to)) if self.position < to => to.min(self.end),
            _ => self.end,
        };
        if self.skip == 0 && self.position >= limit {
            return Step::Ended;
        }
        let n = if self.skip > 0 {
            self.skip.min(self.block as u64) as usize
        } else {
            (self.block as u64).min(limit - self.position) as usize
        };
        if self.skip == 0 {
            if !self.wait_for_room(stop, n) {
                return Step::Ended;
            }
            self.pace();
        }
        let started = Instant::now();
        self.mix.render(n, &mut self.master);
        if self.skip > 0 {
            self.skip -= n as u64;
            return Step::Skipped;
        }
        let layout = self.mix.current().spec().layout;
        let channels = layout.channels();
        if layout == Layout::Stereo {
            self.left[..n].copy_from_slice(&self.master[0][..n]);
            self.right[..n].copy_from_slice(&self.master[1][..n]);
        } else {
            let planes: [&[f32]; 8] =
                std::array::from_fn(|c| self.master.get(c).map_or(&[][..], |x| &x[..n]));
            downmix_to_stereo(
                layout,
                &planes[..channels],
                &mut self.left[..n],
                &mut self.right[..n],
            );
        }
        if let Some(ring) = &mut self.ring {
            super::push_stereo(ring, &self.left[..n], &self.right[..n]);
        }
        let rate = f64::from(self.mix.current().spec().sample_rate);
        let load = started.elapsed().as_secs_f64() / (n as f64 / rate);
        self.load_sum += load;
        self.stats.max_load = self.stats.max_load.max(load);
        self.stats.blocks += 1;
        let position = self.position;
        if self.played == 0 {
            self.first = position;
        }
        self.position += n as u64;
        self.played += n as u64;
        Step::Played(tap(Block {
            position,
            n,
            mixer: self.mix.current(),
            master: &self.master,
            left: &self.left[..n],
            right: &self.right[..n],
        }))
    }

    /// Waits until the ring has room for `n` frames; false when told to stop first.
    fn wait_for_room(&self, stop: &AtomicBool, n: usize) -> bool {
        let Some(ring) = &self.ring else {
            return true;
        };
        while ring.slots() < 2 * n {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        true
    }

    /// Sleeps while more than [`PACE_AHEAD`] of audio is ahead of the wall clock.
    fn pace(&mut self) {
        if !self.paced {
            return;
        }
        let started = *self.started.get_or_insert_with(Instant::now);
        let rate = f64::from(self.mix.current().spec().sample_rate);
        let due = Duration::from_secs_f64(self.played as f64 / rate);
        let ahead = due.saturating_sub(started.elapsed());
        if ahead > PACE_AHEAD {
            std::thread::sleep(ahead - Duration::from_millis(100));
        }
    }

    /// Lets the sound card play what is still in the ring (up to `limit`).
    pub fn drain(&self, stop: &AtomicBool, limit: Duration) {
        let Some(ring) = &self.ring else {
            return;
        };
        let deadline = Instant::now() + limit;
        while ring.slots() < ring.buffer().capacity()
            && Instant::now() < deadline
            && !stop.load(Ordering::Relaxed)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Starts an engine thread for `mixer` from its current position: `frames` frames into
/// `ring` (interleaved stereo), in blocks of `block` samples (`mixstation play`).
pub fn spawn_engine(
    mixer: Mixer,
    ring: rtrb::Producer<f32>,
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
        let from = mixer.position();
        let mut engine = Engine::new(mixer, from, from + frames, block, Some(ring));
        let run = |engine: &mut Engine| while !matches!(engine.step(&stop, |_| ()), Step::Ended) {};
        // On the engine's own pool a block allocates nothing; without one, it still plays.
        if super::on_engine_pool("mixstation-engine", |_| {}, || run(&mut engine)).is_err() {
            run(&mut engine);
        }
        engine.stats()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpu_dsp::mix::{InsertSpec, MixSpec};

    /// A 5.1 mix with a limiter (latency) played from 0.25 s without a sound card: the taps
    /// get contiguous blocks from the playhead, exactly the offline render's stereo downmix,
    /// after the latency's blocks were rendered unheard.
    #[test]
    fn the_engine_plays_the_offline_mix_from_the_playhead() {
        let rate = 48_000;
        let noise: Vec<f32> = (0..rate)
            .map(|i| ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * 0.8)
            .collect();
        let mut spec = MixSpec::one_track(rate as u32, noise);
        spec.layout = Layout::FivePointOne;
        spec.tracks[0].pan = 0.3;
        spec.tracks[0].inserts = vec![InsertSpec::Limiter {
            ceiling_db: -6.0,
            release_ms: 40.0,
        }];
        let offline = Mixer::new(spec.clone(), 512).unwrap().render(|_| {});
        let planes: Vec<&[f32]> = offline[0].iter().map(Vec::as_slice).collect();
        let len = planes[0].len();
        let (mut want_l, mut want_r) = (vec![0.0f32; len], vec![0.0f32; len]);
        downmix_to_stereo(Layout::FivePointOne, &planes, &mut want_l, &mut want_r);
        let from = 12_000u64;
        let mixer = Mixer::new(spec, 512).unwrap();
        let latency = mixer.latency();
        let mut engine = Engine::new(mixer, from, len as u64, 512, None);
        let stop = AtomicBool::new(false);
        let (mut left, mut right, mut skipped) = (Vec::new(), Vec::new(), 0);
        let mut next = from;
        loop {
            match engine.step(&stop, |b| {
                assert_eq!(b.position, next, "contiguous blocks");
                assert_eq!(b.master.len(), 6);
                (b.position + b.n as u64, b.left.to_vec(), b.right.to_vec())
            }) {
                Step::Played((end, l, r)) => {
                    next = end;
                    left.extend(l);
                    right.extend(r);
                }
                Step::Skipped => skipped += 1,
                Step::Ended => break,
            }
        }
        assert_eq!(skipped, latency.div_ceil(512));
        assert_eq!(left.len(), len - from as usize);
        let err = left
            .iter()
            .chain(&right)
            .zip(
                want_l[from as usize..]
                    .iter()
                    .chain(&want_r[from as usize..]),
            )
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 1e-6, "engine vs offline: {err:e}");
        assert!(want_l[from as usize..].iter().any(|v| v.abs() > 0.05));
        assert_eq!(
            engine.stats().blocks,
            (len - from as usize).div_ceil(512) as u64
        );
    }
}
