//! A mix that can be replaced while it plays: after an edit the engine takes a new
//! [`Mixer`] at a block boundary, lined up with the playhead (run ahead over a second of
//! the session so its filters, dynamics and reverbs are already in their state there, and
//! over its own latency), and crossfades into it over one block. Outside that block the
//! output is exactly the old mix before and the new mix after.

use super::sum_stems;
use gpu_dsp::mix::Mixer;

/// How much of the session a new mix runs through before it is heard (seconds).
const PREROLL_SECONDS: u64 = 1;

/// The playing mix and, for one block after a swap, the one it replaces.
pub struct LiveMix {
    mixer: Mixer,
    fading: Option<Mixer>,
    /// The outgoing mix's master during the crossfade.
    old_master: Vec<Vec<f32>>,
}

impl LiveMix {
    pub fn new(mixer: Mixer) -> Self {
        let channels = mixer.spec().layout.channels();
        let block = mixer.block();
        Self {
            mixer,
            fading: None,
            old_master: vec![vec![0.0; block]; channels],
        }
    }

    /// The mix playing now.
    pub fn current(&self) -> &Mixer {
        &self.mixer
    }

    /// The mix playing now, for live changes.
    pub fn mixer(&mut self) -> &mut Mixer {
        &mut self.mixer
    }

    /// Takes `next` as the mix from timeline sample `position` on (the next sample
    /// [`LiveMix::render`] produces). Its output layout must be this mix's.
    pub fn swap_in(&mut self, mut next: Mixer, position: u64) {
        let rate = u64::from(next.spec().sample_rate);
        let preroll = position.min(PREROLL_SECONDS * rate);
        next.seek(position - preroll);
        let block = next.block() as u64;
        let mut left = preroll + next.latency() as u64;
        while left > 0 {
            let k = left.min(block);
            next.process_block(k as usize);
            left -= k;
        }
        if self.old_master.len() != next.spec().layout.channels() {
            self.old_master = vec![vec![0.0; next.block()]; next.spec().layout.channels()];
        }
        self.fading = Some(std::mem::replace(&mut self.mixer, next));
    }

    /// Renders `n` samples: the stems of the playing mix, and the master (their sum,
    /// crossfaded from the outgoing mix in the block after a swap) into `master`.
    pub fn render(&mut self, n: usize, master: &mut [Vec<f32>]) -> &[Vec<Vec<f32>>] {
        let stems = self.mixer.process_block(n);
        sum_stems(stems, master, n);
        if let Some(mut old) = self.fading.take() {
            let old_stems = old.process_block(n);
            sum_stems(old_stems, &mut self.old_master, n);
            for (new, old) in master.iter_mut().zip(&self.old_master) {
                for (i, (x, y)) in new[..n].iter_mut().zip(&old[..n]).enumerate() {
                    let w = (i + 1) as f32 / n as f32;
                    *x = w * *x + (1.0 - w) * y;
                }
            }
        }
        stems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpu_dsp::mix::{EqBand, FilterKind, InsertSpec, MixSpec};

    const BLOCK: usize = 1024;

    /// One mono noise track through a bell and a limiter (so the mix has latency and state).
    fn spec(gain_db: f32, start: u64, bell_db: f32) -> MixSpec {
        let mut s = 12345u32;
        let noise: Vec<f32> = (0..3 * 48_000)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s as f32 / u32::MAX as f32 - 0.5) * 1.5
            })
            .collect();
        let mut mix = MixSpec::one_track(48_000, noise);
        let track = &mut mix.tracks[0];
        track.gain_db = gain_db;
        track.clips[0].start = start;
        track.inserts = vec![
            InsertSpec::Eq(vec![EqBand {
                kind: FilterKind::Bell,
                freq: 2_000.0,
                gain_db: bell_db,
                q: 1.0,
            }]),
            InsertSpec::Limiter {
                ceiling_db: -3.0,
                release_ms: 50.0,
            },
        ];
        mix
    }

    /// The left channel of `mix` from timeline zero, `blocks` blocks long, after the
    /// latency is skipped (as the engine does).
    fn play(mix: &mut LiveMix, skip: usize, blocks: usize) -> Vec<f32> {
        let mut master = vec![vec![0.0f32; BLOCK]; 2];
        let mut left = skip;
        while left > 0 {
            let k = left.min(BLOCK);
            mix.render(k, &mut master);
            left -= k;
        }
        let mut out = Vec::new();
        for _ in 0..blocks {
            mix.render(BLOCK, &mut master);
            out.extend_from_slice(&master[0]);
        }
        out
    }

    #[test]
    fn a_swap_changes_only_the_block_it_crossfades() {
        let (a, b) = (spec(0.0, 0, 6.0), spec(-6.0, 9_600, -4.0));
        // The two mixes on their own, offline.
        let whole = |s: &MixSpec| {
            let mixer = Mixer::new(s.clone(), BLOCK).unwrap();
            let skip = mixer.latency();
            play(&mut LiveMix::new(mixer), skip, 120)
        };
        let (alone_a, alone_b) = (whole(&a), whole(&b));
        // Played: A for 60 blocks, then B swapped in.
        let mixer = Mixer::new(a, BLOCK).unwrap();
        let skip = mixer.latency();
        let mut live = LiveMix::new(mixer);
        let mut heard = play(&mut live, skip, 60);
        let at = (60 * BLOCK) as u64;
        live.swap_in(Mixer::new(b, BLOCK).unwrap(), at);
        heard.extend(play(&mut live, 0, 60));
        let at = at as usize;
        let before = (0..at)
            .map(|i| (heard[i] - alone_a[i]).abs())
            .fold(0.0, f32::max);
        let after = (at + BLOCK..heard.len())
            .map(|i| (heard[i] - alone_b[i]).abs())
            .fold(0.0, f32::max);
        let fade = (0..BLOCK)
            .map(|k| {
                let w = (k + 1) as f32 / BLOCK as f32;
                let want = w * alone_b[at + k] + (1.0 - w) * alone_a[at + k];
                (heard[at + k] - want).abs()
            })
            .fold(0.0, f32::max);
        assert!(before == 0.0, "before the swap: {before:e}");
        assert!(after < 1e-5, "after the crossfade: {after:e}");
        assert!(fade < 1e-5, "in the crossfade: {fade:e}");
        // The two mixes do differ there, so the test sees the swap.
        let differ = (at..at + BLOCK)
            .map(|i| (alone_a[i] - alone_b[i]).abs())
            .fold(0.0, f32::max);
        assert!(differ > 0.05, "{differ}");
    }
}
