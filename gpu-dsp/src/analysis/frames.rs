//! Hann-windowed FFT frames of every channel, shared by the long-term analyses, whole-slice
//! ([`for_each_frame`]) or pushed block by block ([`FrameStream`]) with the same frames.

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{RealFftPlanner, RealToComplex};

use super::spectrogram::hann;

/// Frames of `n` samples every `hop` over pushed planar blocks, in bounded memory.
///
/// Emits the complete frames only (a zero-padded last frame would add a spurious edge), but
/// at least one: when fewer than `n` samples were pushed in all, [`FrameStream::finish`]
/// emits a single zero-padded frame. Non-finite samples read as 0. Spectra are scaled so
/// that `|X_k|²` summed over bins 1..n/2 of a full-scale sine is 0.5 (its mean square), i.e.
/// band powers are mean-square powers.
///
/// All allocation happens in [`FrameStream::new`]: a sliding buffer of `n` samples per
/// channel, the window, the FFT plan, its scratch and the spectra.
pub struct FrameStream {
    n: usize,
    hop: usize,
    window: Vec<f32>,
    norm: f32,
    fft: Arc<dyn RealToComplex<f32>>,
    /// The samples of the frame being filled (non-finite ones already zeroed), per channel.
    buffer: Vec<Vec<f32>>,
    /// Samples of `buffer` filled so far.
    filled: usize,
    /// Samples still to drop before the next frame starts (when `hop > n`).
    skip: usize,
    frames: usize,
    input: Vec<f32>,
    scratch: Vec<Complex32>,
    spectra: Vec<Vec<Complex32>>,
}

impl FrameStream {
    /// A framer for `channels` planar channels, frames of `n` samples every `hop`.
    ///
    /// # Panics
    /// If `n` or `hop` is 0.
    pub fn new(channels: usize, n: usize, hop: usize) -> Self {
        assert!(n > 0 && hop > 0, "frame size and hop must be positive");
        let window = hann(n);
        // Parseval for a Hann window: Σ|X|² over the one-sided spectrum ≈ N·Σw²/2 · mean
        // square.
        let norm = (2.0
            / (n as f64
                * window
                    .iter()
                    .map(|&w| f64::from(w) * f64::from(w))
                    .sum::<f64>()))
        .sqrt() as f32;
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
        Self {
            n,
            hop,
            window,
            norm,
            input: fft.make_input_vec(),
            scratch: fft.make_scratch_vec(),
            spectra: vec![fft.make_output_vec(); channels],
            fft,
            buffer: vec![vec![0.0; n]; channels],
            filled: 0,
            skip: 0,
            frames: 0,
        }
    }

    /// Number of frames emitted so far.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Feeds a planar block and calls `each` with the spectra of every channel for each
    /// frame it completes. The block's length is that of its first channel; a missing
    /// channel, or samples missing at the end of a shorter channel, read as 0.
    pub fn push(&mut self, block: &[&[f32]], mut each: impl FnMut(&[Vec<Complex32>])) {
        let len = block.first().map_or(0, |c| c.len());
        let mut pos = 0;
        while pos < len {
            if self.skip > 0 {
                let k = self.skip.min(len - pos);
                self.skip -= k;
                pos += k;
                continue;
            }
            let take = (self.n - self.filled).min(len - pos);
            for (c, buffer) in self.buffer.iter_mut().enumerate() {
                let dst = &mut buffer[self.filled..self.filled + take];
                let src = block.get(c).map_or(&[][..], |x| {
                    let end = (pos + take).min(x.len());
                    x.get(pos..end).unwrap_or(&[])
                });
                for (i, d) in dst.iter_mut().enumerate() {
                    *d = src.get(i).copied().filter(|s| s.is_finite()).unwrap_or(0.0);
                }
            }
            self.filled += take;
            pos += take;
            if self.filled == self.n {
                self.emit(&mut each);
                if self.hop < self.n {
                    for buffer in &mut self.buffer {
                        buffer.copy_within(self.hop.., 0);
                    }
                    self.filled = self.n - self.hop;
                } else {
                    self.filled = 0;
                    self.skip = self.hop - self.n;
                }
            }
        }
    }

    /// Ends the signal: when no frame was emitted (fewer than `n` samples in all), calls
    /// `each` once with the zero-padded frame.
    pub fn finish(mut self, mut each: impl FnMut(&[Vec<Complex32>])) {
        if self.frames == 0 {
            for buffer in &mut self.buffer {
                buffer[self.filled..].fill(0.0);
            }
            self.emit(&mut each);
        }
    }

    fn emit(&mut self, each: &mut impl FnMut(&[Vec<Complex32>])) {
        for (x, spectrum) in self.buffer.iter().zip(self.spectra.iter_mut()) {
            for ((v, &s), &w) in self.input.iter_mut().zip(x).zip(&self.window) {
                *v = s * w;
            }
            let _ = self
                .fft
                .process_with_scratch(&mut self.input, spectrum, &mut self.scratch);
            for s in spectrum.iter_mut() {
                *s *= self.norm;
            }
        }
        self.frames += 1;
        each(&self.spectra);
    }
}

/// Calls `each` with the spectra of every channel for the complete frames of `n` samples
/// every `hop` of whole planar `channels` (a signal shorter than `n` gives one zero-padded
/// frame); the frames of [`FrameStream`] fed the whole signal at once.
pub fn for_each_frame(
    channels: &[&[f32]],
    n: usize,
    hop: usize,
    mut each: impl FnMut(&[Vec<Complex32>]),
) {
    let mut stream = FrameStream::new(channels.len(), n, hop);
    stream.push(channels, &mut each);
    stream.finish(each);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushing_keeps_the_buffers_it_was_built_with() {
        for hop in [3, 16, 40] {
            let mut stream = FrameStream::new(2, 16, hop);
            let before: Vec<_> = stream
                .buffer
                .iter()
                .map(|b| (b.as_ptr(), b.len()))
                .collect();
            let x: Vec<f32> = (0..1000).map(|i| (i as f32).sin()).collect();
            let mut frames = 0;
            for block in x.chunks(37) {
                stream.push(&[block, block], |_| frames += 1);
            }
            let after: Vec<_> = stream
                .buffer
                .iter()
                .map(|b| (b.as_ptr(), b.len()))
                .collect();
            assert_eq!(before, after);
            assert_eq!(frames, (1000 - 16) / hop + 1);
        }
    }
}
