//! The STFT/WOLA framework reconstructs its input perfectly for any hop and any block split.

mod common;

use common::{noise, rng};
use gpu_dsp::spectral::{Stft, StftConfig};

fn run(stft: &mut Stft, x: &[f32], blocks: &[usize], gain: f32) -> Vec<f32> {
    let mut y = vec![0.0f32; x.len()];
    let (mut pos, mut k) = (0, 0);
    while pos < x.len() {
        let n = blocks[k % blocks.len()].min(x.len() - pos);
        stft.process(&x[pos..pos + n], &mut y[pos..pos + n], |s| {
            s.iter_mut().for_each(|v| *v *= gain)
        });
        pos += n;
        k += 1;
    }
    y
}

#[test]
fn identity_processing_reconstructs_the_input_for_any_hop() {
    let mut r = rng(50);
    let x = noise(&mut r, 20_000);
    for (fft, hop) in [
        (1024, 512),
        (1024, 256),
        (1024, 300),
        (1024, 511),
        (2048, 128),
        (64, 7),
    ] {
        let mut stft = Stft::new(StftConfig::new(fft, hop).unwrap());
        let lat = stft.latency();
        assert_eq!(lat, fft);
        let y = run(&mut stft, &x, &[1, 333, 64, 1000, 17], 1.0);
        let worst = (lat..x.len())
            .map(|i| (y[i] - x[i - lat]).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-6, "fft {fft} hop {hop}: worst error {worst:e}");
        assert!(
            y[..lat].iter().all(|v| v.abs() < 1e-6),
            "silence before the latency"
        );
    }
}

#[test]
fn a_spectral_gain_scales_the_output_and_nan_never_passes() {
    let mut r = rng(51);
    let mut x = noise(&mut r, 8000);
    let mut stft = Stft::new(StftConfig::new(512, 128).unwrap());
    let y = run(&mut stft, &x, &[256], 0.5);
    for i in 512..8000 {
        assert!((y[i] - 0.5 * x[i - 512]).abs() < 1e-6);
    }
    x[100] = f32::NAN;
    x[200] = f32::INFINITY;
    stft.reset();
    let y = run(&mut stft, &x, &[100], 1.0);
    assert!(y.iter().all(|v| v.is_finite()));
    assert!(StftConfig::new(1023, 100).is_err() && StftConfig::new(1024, 0).is_err());
    assert!(
        StftConfig::new(1024, 513).is_err(),
        "hops over half the size are refused"
    );
}
