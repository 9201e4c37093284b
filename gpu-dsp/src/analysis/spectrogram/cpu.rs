//! The CPU reference spectrogram (realfft).

use super::{hann, power_to_db, Spectrogram, SpectrogramConfig};
use realfft::RealFftPlanner;

/// Spectrogram of planar `channels` (power averaged over channels).
pub fn spectrogram_cpu(
    channels: &[&[f32]],
    sample_rate: u32,
    config: SpectrogramConfig,
) -> Spectrogram {
    let n = config.fft;
    let len = channels.first().map_or(0, |c| c.len());
    let frames = config.frames(len);
    let bins = config.bins();
    let window = hann(n);
    let scale = f64::from(config.scale());
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let mut power = vec![0.0f64; bins];
    let mut db = vec![0.0f32; frames * bins];
    for f in 0..frames {
        power.fill(0.0);
        let start = f * config.hop;
        for x in channels {
            for (i, (v, w)) in input.iter_mut().zip(&window).enumerate() {
                *v = x.get(start + i).copied().unwrap_or(0.0) * w;
            }
            // Buffer lengths come from the plan, so this cannot fail.
            let _ = fft.process_with_scratch(&mut input, &mut spectrum, &mut scratch);
            for (p, s) in power.iter_mut().zip(&spectrum) {
                *p += f64::from(s.norm_sqr());
            }
        }
        let out = &mut db[f * bins..(f + 1) * bins];
        for (k, (o, p)) in out.iter_mut().zip(&power).enumerate() {
            let edge = if k == 0 || k == bins - 1 { 0.25 } else { 1.0 };
            *o = power_to_db(
                p / channels.len().max(1) as f64 * scale * scale * edge,
                config.floor_db,
            );
        }
    }
    Spectrogram {
        config,
        sample_rate,
        frames,
        bins,
        db,
    }
}
