//! The `clean` insert with its per-bin work done elsewhere (the session's GPU bank): the same
//! function as [`super::Cleaner`], delayed by a fixed number of samples so the gains can
//! arrive blocks later.
//!
//! Each block the channel is de-hummed and analysed; every frame's spectrum waits in a queue
//! and its power is handed out ([`DeferredCleaner::staged_power`]). The gains come back
//! ([`DeferredCleaner::deliver`]) and the frame is resynthesised `delay` samples after it was
//! analysed: the output is exactly [`super::Cleaner`]'s given the same gains, `delay` later.

use super::hum::{HumRemover, HumSpec};
use super::stft::Stft;
use super::DenoiseConfig;
use realfft::num_complex::Complex32;

/// Frames analysed and not yet resynthesised, with their gains once delivered.
struct FrameQueue {
    bins: usize,
    /// `[capacity][bin]` spectra and gains.
    spectra: Vec<Complex32>,
    gains: Vec<f32>,
    capacity: usize,
    head: usize,
    len: usize,
    /// Frames from the head that have their gains.
    delivered: usize,
}

impl FrameQueue {
    fn new(bins: usize, capacity: usize) -> Self {
        Self {
            bins,
            spectra: vec![Complex32::default(); bins * capacity],
            gains: vec![0.0; bins * capacity],
            capacity,
            head: 0,
            len: 0,
            delivered: 0,
        }
    }

    fn row(&self, i: usize) -> std::ops::Range<usize> {
        let at = (self.head + i) % self.capacity * self.bins;
        at..at + self.bins
    }

    /// Queues a spectrum; false when full.
    fn push(&mut self, spectrum: &[Complex32]) -> bool {
        if self.len == self.capacity {
            return false;
        }
        let row = self.row(self.len);
        self.spectra[row].copy_from_slice(spectrum);
        self.len += 1;
        true
    }

    /// Gives the oldest frame without gains its gains; false when none waits.
    fn deliver(&mut self, gains: &[f32]) -> bool {
        if self.delivered == self.len {
            return false;
        }
        let row = self.row(self.delivered);
        self.gains[row].copy_from_slice(gains);
        self.delivered += 1;
        true
    }

    /// The oldest frame with its gains applied into `out` (its gains into `applied`); a
    /// frame whose gains never came (the GPU failed; the mixer reports it) passes
    /// unprocessed. False when the queue is empty.
    fn pop(&mut self, out: &mut [Complex32], applied: &mut [f32]) -> bool {
        if self.len == 0 {
            out.fill(Complex32::default());
            return false;
        }
        let row = self.row(0);
        if self.delivered > 0 {
            let gains = &self.gains[row.clone()];
            for ((o, s), g) in out.iter_mut().zip(&self.spectra[row]).zip(gains) {
                *o = s * g;
            }
            applied.copy_from_slice(gains);
            self.delivered -= 1;
        } else {
            out.copy_from_slice(&self.spectra[row]);
            applied.fill(1.0);
        }
        self.head = (self.head + 1) % self.capacity;
        self.len -= 1;
        true
    }
}

/// Streaming cleanup of one channel whose gains are computed by someone else.
/// All memory is allocated in `new`.
pub struct DeferredCleaner {
    hum: Option<HumRemover>,
    analysis: Stft,
    synthesis: Stft,
    queue: FrameQueue,
    /// Power spectra of the frames analysed since they were last handed out, `[frame][bin]`,
    /// and the largest reduction (dB) in force at each.
    power: Vec<f32>,
    reductions: Vec<f32>,
    staged: usize,
    reduction_db: f32,
    /// Output samples still to emit as silence before the first delayed one.
    lead: usize,
    delay: usize,
    /// The gains of the frame resynthesised last.
    applied: Vec<f32>,
    /// Frames lost because nobody took their power or gave their gains.
    missed: u64,
}

impl DeferredCleaner {
    /// A cleaner whose gains arrive within `delay` samples of the end of the block that
    /// analysed their frame, fed blocks of at most `block` samples.
    pub fn new(
        config: &DenoiseConfig,
        hum: Option<&HumSpec>,
        rate: f32,
        block: usize,
        delay: usize,
    ) -> Self {
        let bins = config.stft.bins();
        let hop = config.stft.hop;
        let staged = super::session::frames_per_block(block, hop);
        // Frames wait `delay` samples, plus the block in which they were analysed.
        let in_flight = (delay + block).div_ceil(hop) + 2;
        Self {
            hum: hum.map(|h| HumRemover::new(h, rate)),
            analysis: Stft::new(config.stft),
            synthesis: Stft::new(config.stft),
            queue: FrameQueue::new(bins, in_flight),
            power: vec![0.0; staged * bins],
            reductions: vec![0.0; staged],
            staged: 0,
            reduction_db: config.reduction_db,
            lead: delay,
            delay,
            applied: vec![1.0; bins],
            missed: 0,
        }
    }

    /// Delay in samples: the STFT size plus the wait for the gains.
    pub fn latency(&self) -> usize {
        self.analysis.latency() + self.delay
    }

    /// Bins per frame.
    pub fn bins(&self) -> usize {
        self.applied.len()
    }

    /// Samples between frames.
    pub fn hop(&self) -> usize {
        self.analysis.config().hop
    }

    /// The largest broadband attenuation in dB.
    pub fn reduction_db(&self) -> f32 {
        self.reduction_db
    }

    /// Changes the largest broadband attenuation (dB) for the frames analysed from now on.
    pub fn set_reduction_db(&mut self, reduction_db: f32) {
        self.reduction_db = reduction_db;
    }

    /// The gains of the frame resynthesised last.
    pub fn gains(&self) -> &[f32] {
        &self.applied
    }

    /// Frames that were lost (their power not taken, or their gains not given in time).
    pub fn missed(&self) -> u64 {
        self.missed
    }

    /// The power spectra of the frames analysed since the last call (`[frame][bin]`, in
    /// order) and each frame's largest reduction in dB; they are handed out once.
    pub fn staged(&mut self) -> (&[f32], &[f32]) {
        let frames = std::mem::take(&mut self.staged);
        (
            &self.power[..frames * self.bins()],
            &self.reductions[..frames],
        )
    }

    /// Gains for the oldest frames still waiting, `[frame][bin]`, in the order their power
    /// was handed out.
    pub fn deliver(&mut self, gains: &[f32]) {
        for row in gains.chunks_exact(self.applied.len()) {
            if !self.queue.deliver(row) {
                self.missed += 1;
            }
        }
    }

    /// Cleans `x` in place (delayed by `latency()`). Never allocates.
    pub fn process(&mut self, x: &mut [f32]) {
        if let Some(h) = &mut self.hum {
            h.process(x);
        }
        let bins = self.applied.len();
        let mut done = 0;
        while done < x.len() {
            let (taken, due) = self.analysis.feed(&x[done..], None);
            done += taken;
            if due {
                let spectrum = self.analysis.analyze_frame();
                let room = (self.staged + 1) * bins <= self.power.len();
                if room && self.queue.push(spectrum) {
                    let row = &mut self.power[self.staged * bins..(self.staged + 1) * bins];
                    for (p, v) in row.iter_mut().zip(spectrum.iter()) {
                        *p = v.norm_sqr();
                    }
                    self.reductions[self.staged] = self.reduction_db;
                    self.staged += 1;
                } else {
                    self.missed += 1;
                }
                self.analysis.finish_frame(false);
            }
        }
        let lead = self.lead.min(x.len());
        x[..lead].fill(0.0);
        self.lead -= lead;
        let mut done = lead;
        while done < x.len() {
            let (taken, due) = self.synthesis.feed_in_place(&mut x[done..]);
            done += taken;
            if due {
                let had_gains = self.queue.delivered > 0;
                let out = self.synthesis.spectrum_mut();
                if !self.queue.pop(out, &mut self.applied) || !had_gains {
                    self.missed += 1;
                }
                self.synthesis.finish_frame(true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Cleaner, GainTracker, HumSpec, NoiseModel};
    use super::*;
    use std::collections::VecDeque;

    /// Fed gains computed elsewhere and delivered two blocks late (as the GPU bank's ring
    /// does), in blocks of random sizes, with the reduction changing inside blocks: the output is
    /// the streaming [`Cleaner`]'s, sample for sample, `delay` later.
    #[test]
    fn deferred_gains_give_the_cleaners_output_delayed() {
        let rate = 48_000.0;
        let config = DenoiseConfig {
            reduction_db: 15.0,
            ..DenoiseConfig::dialogue(rate)
        };
        let hum = HumSpec::all_harmonics(50.0, rate);
        let block = 700;
        let delay = 2 * block;
        let mut seed = 0x2545_f491_u32;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as f32 / u32::MAX as f32
        };
        let n = 48_000;
        let x: Vec<f32> = (0..n)
            .map(|i| {
                let t = i as f32 / rate;
                let speech = if (i / 6000) % 2 == 1 { 0.3 } else { 0.0 };
                0.05 * (random() - 0.5)
                    + 0.1 * (std::f32::consts::TAU * 50.0 * t).sin()
                    + speech * (std::f32::consts::TAU * 440.0 * t).sin()
            })
            .collect();
        let mut reference = Cleaner::new(config.clone(), Some(&hum), rate);
        let mut deferred = DeferredCleaner::new(&config, Some(&hum), rate, block, delay);
        assert_eq!(deferred.latency(), reference.latency() + delay);
        let bins = config.stft.bins();
        let mut tracker = GainTracker::new(
            bins,
            config.stft.hop,
            rate,
            config.reduction_db,
            NoiseModel::Tracked,
        );
        let mut in_flight: VecDeque<Vec<f32>> = VecDeque::from([Vec::new(), Vec::new()]);
        let (mut want, mut got) = (Vec::new(), Vec::new());
        let mut at = 0;
        let mut blocks = 0;
        while at < n {
            let len = (1 + (random() * block as f32) as usize)
                .min(block)
                .min(n - at);
            deferred.deliver(&in_flight.pop_front().unwrap());
            // The reduction changes inside a block (as automation does every 16 samples).
            let cut = len / 2;
            let mut a = x[at..at + len].to_vec();
            let mut b = a.clone();
            let mut out = vec![0.0; len];
            for (range, reduction) in [(0..cut, None), (cut..len, Some(6.0 + blocks as f32 % 9.0))]
            {
                if let Some(r) = reduction.filter(|_| blocks >= 30) {
                    reference.set_reduction_db(r);
                    deferred.set_reduction_db(r);
                }
                reference.process(&mut a[range.clone()], &mut out[range.clone()]);
                deferred.process(&mut b[range]);
            }
            want.extend_from_slice(&out);
            got.extend_from_slice(&b);
            let mut gains = Vec::new();
            let (power, reductions) = deferred.staged();
            for (power, &reduction) in power.chunks_exact(bins).zip(reductions) {
                let mut g = vec![0.0; bins];
                tracker.set_reduction_db(reduction);
                tracker.frame(power, &mut g);
                gains.extend_from_slice(&g);
            }
            in_flight.push_back(gains);
            at += len;
            blocks += 1;
        }
        assert!(blocks > 60);
        assert!(got[..delay].iter().all(|&v| v == 0.0));
        let worst = got[delay..]
            .iter()
            .zip(&want)
            .map(|(g, w)| (g - w).abs())
            .fold(0.0f32, f32::max);
        assert_eq!(worst, 0.0, "deferred vs streaming cleaner");
        assert!(
            want.iter().any(|v| v.abs() > 0.1),
            "the test signal came through"
        );
        assert_eq!(deferred.missed(), 0);
    }

    /// Gains that never come (a failed GPU) leave the audio unprocessed, not silent: the
    /// STFT's perfect reconstruction, `latency()` later.
    #[test]
    fn missing_gains_pass_the_audio_through() {
        let rate = 48_000.0;
        let config = DenoiseConfig::dialogue(rate);
        let mut cleaner = DeferredCleaner::new(&config, None, rate, 512, 1024);
        let x: Vec<f32> = (0..20_000).map(|i| (i as f32 * 0.01).sin() * 0.5).collect();
        let mut y = x.clone();
        for block in y.chunks_mut(512) {
            cleaner.process(block);
            let _ = cleaner.staged();
        }
        let lat = cleaner.latency();
        let worst = y[lat..]
            .iter()
            .zip(&x)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "pass-through off by {worst}");
        assert!(cleaner.missed() > 0);
    }
}
