//! The CPU reference spectrogram (realfft), split across the available cores by frames.

use super::{hann, power_to_db, Spectrogram, SpectrogramConfig};
use realfft::RealFftPlanner;

/// Spectrogram of planar `channels` (power averaged over channels).
pub fn spectrogram_cpu(
    channels: &[&[f32]],
    sample_rate: u32,
    config: SpectrogramConfig,
) -> Spectrogram {
    let len = channels.first().map_or(0, |c| c.len());
    let frames = config.frames(len);
    let bins = config.bins();
    let mut db = vec![0.0f32; frames * bins];
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(frames.div_ceil(256))
        .max(1);
    let per_thread = frames.div_ceil(threads);
    std::thread::scope(|scope| {
        for (i, rows) in db.chunks_mut(per_thread * bins).enumerate() {
            scope.spawn(move || frames_into(channels, config, i * per_thread, rows));
        }
    });
    Spectrogram {
        config,
        sample_rate,
        frames,
        bins,
        db,
    }
}

/// Computes the frames starting at `first` into `out` (whole rows of `bins` values).
fn frames_into(channels: &[&[f32]], config: SpectrogramConfig, first: usize, out: &mut [f32]) {
    let n = config.fft;
    let bins = config.bins();
    let window = hann(n);
    let scale = config.scale();
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let mut power = vec![0.0f32; bins];
    // Power scale per bin: (2/Σw)², averaged over channels; DC and Nyquist are not doubled.
    let norm = scale * scale / channels.len().max(1) as f32;
    for (k, row) in out.chunks_mut(bins).enumerate() {
        power.fill(0.0);
        let start = (first + k) * config.hop;
        for x in channels {
            if start + n <= x.len() {
                for ((v, w), s) in input.iter_mut().zip(&window).zip(&x[start..start + n]) {
                    *v = s * w;
                }
            } else {
                for (i, (v, w)) in input.iter_mut().zip(&window).enumerate() {
                    *v = x.get(start + i).copied().unwrap_or(0.0) * w;
                }
            }
            // Buffer lengths come from the plan, so this cannot fail.
            let _ = fft.process_with_scratch(&mut input, &mut spectrum, &mut scratch);
            for (p, s) in power.iter_mut().zip(&spectrum) {
                *p += s.norm_sqr();
            }
        }
        power[0] *= 0.25;
        power[bins - 1] *= 0.25;
        for (o, p) in row.iter_mut().zip(&power) {
            *o = power_to_db(p * norm, config.floor_db);
        }
    }
}
