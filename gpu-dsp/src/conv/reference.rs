//! Independent references: direct convolution in f64 (the test oracle) and one whole-signal
//! FFT convolution (the speed floor for benchmarks).

use realfft::num_complex::Complex32;
use realfft::RealFftPlanner;

/// `y = x ∗ h` by the definition, in f64: length `len(x) + len(h) - 1`.
pub fn direct_f64(x: &[f32], h: &[f32]) -> Vec<f64> {
    if x.is_empty() || h.is_empty() {
        return Vec::new();
    }
    let mut y = vec![0.0f64; x.len() + h.len() - 1];
    for (i, &xi) in x.iter().enumerate() {
        let xi = f64::from(xi);
        for (yk, &hj) in y[i..].iter_mut().zip(h) {
            *yk += xi * f64::from(hj);
        }
    }
    y
}

/// `y = x ∗ h` with a single real FFT of the whole padded signal.
pub fn fft_whole(x: &[f32], h: &[f32]) -> Vec<f32> {
    if x.is_empty() || h.is_empty() {
        return Vec::new();
    }
    let len = x.len() + h.len() - 1;
    let n = len.next_power_of_two();
    let mut planner = RealFftPlanner::<f32>::new();
    let fwd = planner.plan_fft_forward(n);
    let inv = planner.plan_fft_inverse(n);
    let mut a = vec![0.0f32; n];
    a[..x.len()].copy_from_slice(x);
    let mut b = vec![0.0f32; n];
    b[..h.len()].copy_from_slice(h);
    let mut fa = fwd.make_output_vec();
    let mut fb = fwd.make_output_vec();
    let _ = fwd.process(&mut a, &mut fa);
    let _ = fwd.process(&mut b, &mut fb);
    let scale = 1.0 / n as f32;
    for (p, q) in fa.iter_mut().zip(&fb) {
        *p = *p * *q * scale;
    }
    let last = fa.len() - 1;
    fa[0] = Complex32::new(fa[0].re, 0.0);
    fa[last] = Complex32::new(fa[last].re, 0.0);
    let _ = inv.process(&mut fa, &mut a);
    a.truncate(len);
    a
}

/// Largest |a − b| relative to the largest |b| (0 when both are silent).
pub fn relative_error(a: &[f32], b: &[f64]) -> f64 {
    let peak = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = a
        .iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((f64::from(*x) - y).abs()));
    let len_mismatch = a.len() != b.len();
    if len_mismatch {
        return f64::INFINITY;
    }
    if peak == 0.0 {
        err
    } else {
        err / peak
    }
}
