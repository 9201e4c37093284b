//! Convolution reverb parameters: wet/dry, pre-delay, IR gain, click-free IR swap.

mod common;

use common::{noise, rel_err, rng};
use gpu_dsp::conv::reference::direct_f64;
use gpu_dsp::conv::{ConvolutionReverb, ConvolverConfig, GpuReverb, ReverbParams};

fn run(reverb: &mut ConvolutionReverb, x: &[f32], chunk: usize) -> Vec<Vec<f32>> {
    let mut out = vec![vec![0.0f32; x.len()]; reverb.outputs()];
    let mut pos = 0;
    while pos < x.len() {
        let n = chunk.min(x.len() - pos);
        let mut outs: Vec<&mut [f32]> = out.iter_mut().map(|c| &mut c[pos..pos + n]).collect();
        reverb.process(&[&x[pos..pos + n]], &mut outs);
        pos += n;
    }
    out
}

#[test]
fn wet_dry_predelay_and_gain_match_the_definition() {
    let mut r = rng(11);
    let h = [noise(&mut r, 3000), noise(&mut r, 2500)];
    let params = ReverbParams {
        wet: 0.7,
        dry: 0.3,
        ir_gain: 0.5,
        predelay: 123,
        crossfade: 256,
    };
    let config = ConvolverConfig {
        block: 64,
        ..Default::default()
    };
    let mut reverb = ConvolutionReverb::new(&[&h[0], &h[1]], 1, params, config, 200).unwrap();
    let lat = reverb.latency();
    assert_eq!(lat, 64);
    let x = noise(&mut r, 5000);
    let y = run(&mut reverb, &x, 97);
    for (c, hc) in h.iter().enumerate() {
        let conv = direct_f64(&x, hc);
        // y[n + lat] = 0.3·x[n] + 0.7·0.5·(x∗h)[n − 123]
        let want: Vec<f64> = (0..x.len() - lat)
            .map(|n| 0.3 * f64::from(x[n]) + if n >= 123 { 0.35 * conv[n - 123] } else { 0.0 })
            .collect();
        let e = rel_err(&y[c][lat..], &want);
        assert!(e < 1e-5, "channel {c}: relative error {e:e}");
    }
}

/// Output of a reverb on `x` that swaps from `h1` to `h2` at `swap_at` with a crossfade.
fn swapped(
    x: &[f32],
    h1: &[f32],
    h2: &[f32],
    swap_at: usize,
    crossfade: usize,
) -> (Vec<f32>, usize) {
    let params = ReverbParams {
        crossfade,
        ..Default::default()
    };
    let mut reverb =
        ConvolutionReverb::new(&[h1], 1, params, ConvolverConfig::default(), 512).unwrap();
    let mut y = vec![0.0f32; x.len()];
    reverb.process(&[&x[..swap_at]], &mut [&mut y[..swap_at]]);
    let next = reverb.prepare(&[h2]).unwrap();
    assert!(reverb.swap(next).is_ok());
    reverb.process(&[&x[swap_at..]], &mut [&mut y[swap_at..]]);
    (y, reverb.latency())
}

/// Largest second difference (a broadband "click" detector) in `y[a..b]`.
fn roughness(y: &[f32], a: usize, b: usize) -> f32 {
    y[a..b]
        .windows(3)
        .map(|w| (w[2] - 2.0 * w[1] + w[0]).abs())
        .fold(0.0, f32::max)
}

#[test]
fn ir_swap_crossfades_without_a_click_and_ends_on_the_new_ir() {
    // A low sine through two smooth (low-passed, decaying) IRs: the steady output is smooth,
    // so a hard switch between IRs shows up as a large second difference.
    let x: Vec<f32> = (0..40_000).map(|i| (i as f32 * 0.01).sin() * 0.5).collect();
    let smooth_ir = |seed: u64| -> Vec<f32> {
        let mut r = rng(seed);
        let mut lp = 0.0f32;
        noise(&mut r, 4000)
            .iter()
            .enumerate()
            .map(|(i, v)| {
                lp += 0.05 * (v - lp);
                lp * (-(i as f32) / 600.0).exp()
            })
            .collect()
    };
    let (h1, h2) = (smooth_ir(1), smooth_ir(2));
    let swap_at = 16_384;
    let (hard, _) = swapped(&x, &h1, &h2, swap_at, 1);
    let (soft, lat) = swapped(&x, &h1, &h2, swap_at, 4096);
    let window = (swap_at - 64, swap_at + 4096 + 64);
    let steady = roughness(&soft, 8_000, swap_at - 600);
    let (hard_r, soft_r) = (
        roughness(&hard, window.0, window.1),
        roughness(&soft, window.0, window.1),
    );
    assert!(
        soft_r < 0.25 * hard_r,
        "crossfade roughness {soft_r:e} vs hard switch {hard_r:e}"
    );
    assert!(
        soft_r < 4.0 * steady,
        "crossfade roughness {soft_r:e} vs steady {steady:e}"
    );
    // After the crossfade and the new IR's length, the output is exactly x ∗ h2.
    let want = direct_f64(&x, &h2);
    let from = swap_at + 4096 + 4000 + 256;
    let e = rel_err(&soft[from..], &want[from - lat..x.len() - lat]);
    assert!(e < 1e-5, "after the swap: relative error {e:e}");
}

#[test]
fn gpu_reverb_matches_the_cpu_reverb_through_an_ir_swap() {
    // Wet/dry, pre-delay, IR gain and a crossfaded IR swap (to a shorter IR, in the spare
    // region) in ragged chunks: the reverb with its tail on the GPU (lavapipe in CI) against
    // the CPU reverb, sample for sample. Tolerance 1e-5 of the peak (f32 FFT rounding).
    let Some(ctx) = common::gpu() else { return };
    let mut r = rng(23);
    let h1 = [noise(&mut r, 9000), noise(&mut r, 8000)];
    let h2 = [noise(&mut r, 6000), noise(&mut r, 7000)];
    let params = ReverbParams {
        wet: 0.8,
        dry: 0.4,
        ir_gain: 0.5,
        predelay: 300,
        crossfade: 2048,
    };
    let config = ConvolverConfig {
        block: 256,
        ..Default::default()
    };
    let planes = |h: &[Vec<f32>; 2]| [h[0].clone(), h[1].clone()];
    let (p1, p2) = (planes(&h1), planes(&h2));
    let ir1: Vec<&[f32]> = p1.iter().map(Vec::as_slice).collect();
    let ir2: Vec<&[f32]> = p2.iter().map(Vec::as_slice).collect();
    let mut cpu = ConvolutionReverb::new(&ir1, 2, params, config, 256).unwrap();
    let mut gpu = GpuReverb::new(ctx, &ir1, 2, params, config, 256).unwrap();
    assert_eq!(gpu.reverb().latency(), cpu.latency());
    let x = [noise(&mut r, 30_000), noise(&mut r, 30_000)];
    let mut want = vec![vec![0.0f32; x[0].len()]; 2];
    let mut got = want.clone();
    let (mut pos, mut step) = (0, 0);
    while pos < x[0].len() {
        let n = [97, 256, 13, 200, 256][step % 5].min(x[0].len() - pos);
        let ins = [&x[0][pos..pos + n], &x[1][pos..pos + n]];
        let (a, b) = want.split_at_mut(1);
        cpu.process(
            &ins,
            &mut [&mut a[0][pos..pos + n], &mut b[0][pos..pos + n]],
        );
        let (a, b) = got.split_at_mut(1);
        gpu.process(
            &ins,
            &mut [&mut a[0][pos..pos + n], &mut b[0][pos..pos + n]],
        )
        .unwrap();
        pos += n;
        step += 1;
        if step == 60 {
            assert!(cpu.swap(cpu.prepare(&ir2).unwrap()).is_ok());
            assert!(gpu.swap(gpu.prepare(&ir2).unwrap()).is_ok());
        }
    }
    for (c, (g, w)) in got.iter().zip(&want).enumerate() {
        let reference: Vec<f64> = w.iter().map(|&v| f64::from(v)).collect();
        let e = rel_err(g, &reference);
        assert!(e < 1e-5, "channel {c}: GPU vs CPU {e:e} of peak");
    }
    assert!(gpu.take_retired().is_some(), "the swap finished");
    // An IR longer than the first does not fit the spare region: a clear error.
    let long = [noise(&mut r, 40_000), noise(&mut r, 40_000)];
    let long: Vec<&[f32]> = long.iter().map(Vec::as_slice).collect();
    let err = gpu.prepare(&long).err().expect("too long for the region");
    assert!(err.to_string().contains("reserved"), "{err}");
    // Only the convolver the last prepare placed in the spare region is taken: an earlier
    // one (its region re-placed since) and a CPU convolver are handed back.
    let stale = gpu.prepare(&ir1).unwrap();
    let fresh = gpu.prepare(&ir1).unwrap();
    assert!(gpu.swap(stale).is_err());
    let cpu_conv = gpu_dsp::conv::Convolver::new(&ir1, 2, config).unwrap();
    assert!(gpu.swap(cpu_conv).is_err());
    assert!(gpu.swap(fresh).is_ok());
    let stats = gpu.stats();
    assert!(stats.submissions > 0 && stats.submissions == stats.dispatches);
}

#[test]
fn a_fresh_instance_shares_the_ir_spectra_and_renders_as_a_new_reverb() {
    // A bus's reverb once per stem: the second instance is made from the first (after the
    // first has run) and must equal a reverb built from scratch, bit for bit, while holding
    // the first's IR spectra rather than a copy.
    let mut r = rng(29);
    let h = [noise(&mut r, 9000), noise(&mut r, 7000)];
    let params = ReverbParams {
        wet: 0.6,
        dry: 0.4,
        ir_gain: 0.8,
        predelay: 50,
        crossfade: 256,
    };
    let config = ConvolverConfig::offline(9000);
    let build = || ConvolutionReverb::new(&[&h[0], &h[1]], 2, params, config, 700).unwrap();
    let mut first = build();
    let warm = noise(&mut r, 4000);
    let mut outs = vec![vec![0.0f32; 400]; 2];
    for chunk in warm.chunks(400) {
        let mut o: Vec<&mut [f32]> = outs.iter_mut().map(|c| &mut c[..chunk.len()]).collect();
        first.process(&[chunk, chunk], &mut o);
    }
    let mut shared = first.fresh_instance();
    let mut scratch = build();
    assert!(shared.convolver().shares_spectra_with(first.convolver()));
    assert!(!scratch.convolver().shares_spectra_with(first.convolver()));
    let x = [noise(&mut r, 20_000), noise(&mut r, 20_000)];
    let run2 = |rv: &mut ConvolutionReverb| {
        let mut out = vec![vec![0.0f32; 20_000]; 2];
        let mut pos = 0;
        while pos < 20_000 {
            let n = 700.min(20_000 - pos);
            let (a, b) = out.split_at_mut(1);
            rv.process(
                &[&x[0][pos..pos + n], &x[1][pos..pos + n]],
                &mut [&mut a[0][pos..pos + n], &mut b[0][pos..pos + n]],
            );
            pos += n;
        }
        out
    };
    let (got, want) = (run2(&mut shared), run2(&mut scratch));
    assert!(want[0].iter().any(|v| v.abs() > 0.1));
    assert_eq!(got, want);
}
