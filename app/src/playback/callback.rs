//! The audio callback's whole job: drain commands, copy finished samples out of the ring,
//! apply the smoothed master fader, count underruns. No allocation, lock, syscall or wait.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Last-moment changes the callback applies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Command {
    /// Master fader, linear gain.
    MasterGain(f32),
    Mute(bool),
}

/// Counters shared between the callback and the rest of the program.
#[derive(Default, Debug)]
pub struct PlaybackCounters {
    /// Callbacks that found too few samples before the engine had finished.
    pub underruns: AtomicU64,
    pub frames_played: AtomicU64,
    pub callbacks: AtomicU64,
    /// Set by the engine when it has rendered the last block.
    pub engine_done: AtomicBool,
}

/// State owned by the audio callback.
pub struct OutputCallback {
    audio: rtrb::Consumer<f32>,
    commands: rtrb::Consumer<Command>,
    channels: usize,
    gain: f32,
    target: f32,
    smoothing: f32,
    counters: Arc<PlaybackCounters>,
}

impl OutputCallback {
    /// A callback reading interleaved `channels`-channel frames; fader changes glide with a
    /// 5 ms time constant at `rate`.
    pub fn new(
        audio: rtrb::Consumer<f32>,
        commands: rtrb::Consumer<Command>,
        channels: usize,
        rate: f32,
        counters: Arc<PlaybackCounters>,
    ) -> Self {
        Self {
            audio,
            commands,
            channels: channels.max(1),
            gain: 1.0,
            target: 1.0,
            smoothing: (-1.0 / (0.005 * rate)).exp(),
            counters,
        }
    }

    /// Frames ready in the ring.
    pub fn available_frames(&self) -> usize {
        self.audio.slots() / self.channels
    }

    /// Fills an interleaved output buffer. Real-time safe.
    pub fn fill(&mut self, out: &mut [f32]) {
        while let Ok(command) = self.commands.pop() {
            match command {
                Command::MasterGain(g) => self.target = g,
                Command::Mute(true) => self.target = 0.0,
                Command::Mute(false) => self.target = 1.0,
            }
        }
        let ch = self.channels;
        let want = out.len() / ch * ch;
        let n = want.min(self.audio.slots() / ch * ch);
        if let Ok(chunk) = self.audio.read_chunk(n) {
            let (a, b) = chunk.as_slices();
            out[..a.len()].copy_from_slice(a);
            out[a.len()..a.len() + b.len()].copy_from_slice(b);
            chunk.commit_all();
        }
        for frame in out[..n].chunks_exact_mut(ch) {
            self.gain = self.target + self.smoothing * (self.gain - self.target);
            for s in frame {
                *s *= self.gain;
            }
        }
        out[n..].fill(0.0);
        self.counters.callbacks.fetch_add(1, Ordering::Relaxed);
        self.counters
            .frames_played
            .fetch_add((n / ch) as u64, Ordering::Relaxed);
        if n < want && !self.counters.engine_done.load(Ordering::Acquire) {
            self.counters.underruns.fetch_add(1, Ordering::Relaxed);
        }
    }
}
