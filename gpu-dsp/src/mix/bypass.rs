//! Insert bypass. A bypassed insert keeps running, so its state stays current and bringing
//! it back is seamless; its output is crossfaded over one block with its input delayed by
//! the insert's latency, so bypassing never shifts the timing of the path or clicks.

use super::delay::DelayLine;
use super::glide_to;

/// The bypass state of one insert. All memory is allocated in `new`.
pub(crate) struct Bypass {
    /// 1 processed, 0 bypassed; in between during the block of a change.
    mix: f32,
    latency: usize,
    /// The input, delayed by the insert's latency.
    dry: Vec<Vec<f32>>,
    delay: DelayLine,
    ramp: Vec<f32>,
}

impl Bypass {
    /// For an insert of `latency` samples on `channels` channels and blocks of at most
    /// `block` samples, starting bypassed or not.
    pub fn new(channels: usize, latency: usize, block: usize, bypassed: bool) -> Self {
        Self {
            mix: if bypassed { 0.0 } else { 1.0 },
            latency,
            dry: vec![vec![0.0; block]; channels],
            delay: DelayLine::new(channels, latency),
            ramp: vec![0.0; block],
        }
    }

    /// True when [`Bypass::run`] would only call `process` (active, not fading, no latency),
    /// so the insert may run elsewhere.
    pub fn passes_through(&self, bypassed: bool) -> bool {
        !bypassed && self.mix == 1.0 && self.latency == 0
    }

    /// Runs `process` over `channels` in place, then makes the result the insert's output
    /// (`bypassed` false), its delayed input (true), or a one-block crossfade between them
    /// when `bypassed` changed since the last block. Never allocates.
    pub fn run(
        &mut self,
        bypassed: bool,
        channels: &mut [&mut [f32]],
        process: impl FnOnce(&mut [&mut [f32]]),
    ) {
        let target = if bypassed { 0.0 } else { 1.0 };
        let steady = self.mix == 1.0 && target == 1.0;
        if steady && self.latency == 0 {
            process(channels);
            return;
        }
        // The dry path runs whenever the insert has latency, so it is current when needed.
        let n = channels.first().map_or(0, |c| c.len());
        let mut dry: [&mut [f32]; 8] = Default::default();
        for ((d, plane), c) in dry.iter_mut().zip(self.dry.iter_mut()).zip(channels.iter()) {
            plane[..n].copy_from_slice(c);
            *d = &mut plane[..n];
        }
        let count = channels.len().min(8);
        self.delay.process(&mut dry[..count]);
        process(channels);
        if steady {
            return;
        }
        if self.mix == 0.0 && target == 0.0 {
            for (c, d) in channels.iter_mut().zip(dry.iter()) {
                c.copy_from_slice(d);
            }
            return;
        }
        glide_to(&mut self.mix, target, &mut self.ramp[..n]);
        for (c, d) in channels.iter_mut().zip(dry.iter()) {
            for ((y, x), g) in c.iter_mut().zip(d.iter()).zip(&self.ramp[..n]) {
                *y = g * *y + (1.0 - g) * x;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in insert: gain 0.5 and a delay of `latency` samples.
    fn halve_late(latency: usize, line: &mut DelayLine) -> impl FnOnce(&mut [&mut [f32]]) + '_ {
        let _ = latency;
        move |ch: &mut [&mut [f32]]| {
            for c in ch.iter_mut() {
                c.iter_mut().for_each(|x| *x *= 0.5);
            }
            line.process(ch);
        }
    }

    #[test]
    fn bypass_passes_the_input_delayed_by_the_latency_and_crossfades_one_block() {
        let (latency, block) = (3, 8);
        let mut bypass = Bypass::new(1, latency, block, false);
        let mut line = DelayLine::new(1, latency);
        let input: Vec<f32> = (1..=32).map(|k| k as f32).collect();
        let mut out = Vec::new();
        for (b, chunk) in input.chunks(block).enumerate() {
            let mut x = chunk.to_vec();
            // Active, then bypassed for two blocks, then active again.
            let bypassed = b == 1 || b == 2;
            bypass.run(bypassed, &mut [&mut x[..]], halve_late(latency, &mut line));
            out.extend(x);
        }
        let delayed = |i: usize| {
            if i >= latency {
                input[i - latency]
            } else {
                0.0
            }
        };
        for (i, y) in out.iter().enumerate() {
            let (wet, dry) = (0.5 * delayed(i), delayed(i));
            let g = match i / block {
                0 => 1.0,
                1 => 1.0 - (i % block + 1) as f32 / block as f32,
                2 => 0.0,
                _ => (i % block + 1) as f32 / block as f32,
            };
            let want = g * wet + (1.0 - g) * dry;
            assert!((y - want).abs() < 1e-6, "sample {i}: {y} vs {want}");
        }
        // Steadily bypassed blocks are exactly the delayed input.
        assert_eq!(
            out[2 * block..3 * block],
            input[2 * block - latency..3 * block - latency]
        );
    }
}
