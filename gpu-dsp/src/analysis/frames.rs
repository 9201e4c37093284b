//! Hann-windowed FFT frames of every channel, shared by the long-term analyses.

use realfft::num_complex::Complex32;
use realfft::RealFftPlanner;

use super::spectrogram::hann;

/// Calls `each` with the spectra of every channel for the complete frames of `n` samples
/// every `hop` (a signal shorter than `n` gives one zero-padded frame). Spectra are scaled
/// so that `|X_k|²` summed over bins 1..n/2 of a full-scale sine is 0.5 (its mean square),
/// i.e. band powers are mean-square powers.
pub fn for_each_frame(
    channels: &[&[f32]],
    n: usize,
    hop: usize,
    mut each: impl FnMut(&[Vec<Complex32>]),
) {
    let len = channels.first().map_or(0, |c| c.len());
    // Complete frames only (a zero-padded last frame would add a spurious edge), but at
    // least one.
    let frames = if len <= n { 1 } else { (len - n) / hop + 1 };
    let window = hann(n);
    // Parseval for a Hann window: Σ|X|² over the one-sided spectrum ≈ N·Σw²/2 · mean square.
    let norm = (2.0
        / (n as f64
            * window
                .iter()
                .map(|&w| f64::from(w) * f64::from(w))
                .sum::<f64>()))
    .sqrt() as f32;
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
    let mut input = fft.make_input_vec();
    let mut scratch = fft.make_scratch_vec();
    let mut spectra = vec![fft.make_output_vec(); channels.len()];
    for f in 0..frames {
        let start = f * hop;
        for (x, spectrum) in channels.iter().zip(spectra.iter_mut()) {
            for (i, (v, w)) in input.iter_mut().zip(&window).enumerate() {
                *v = x
                    .get(start + i)
                    .copied()
                    .filter(|s| s.is_finite())
                    .unwrap_or(0.0)
                    * w;
            }
            let _ = fft.process_with_scratch(&mut input, spectrum, &mut scratch);
            for s in spectrum.iter_mut() {
                *s *= norm;
            }
        }
        each(&spectra);
    }
}
