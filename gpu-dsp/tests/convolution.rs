//! Partitioned convolution against direct f64 convolution, CPU and GPU, all layouts.

mod common;

use common::{gpu, noise, rel_err, rng};
use gpu_dsp::conv::reference::{direct_f64, fft_whole};
use gpu_dsp::conv::{Convolver, ConvolverConfig, GpuConvolverBank, Routing};
use proptest::prelude::*;

/// Tolerance for f32 engines against the f64 reference, relative to the output peak.
const TOL: f64 = 1e-5;

/// The reference output per output channel: sum over routes of input ∗ IR channel.
fn reference(x: &[Vec<f32>], h: &[Vec<f32>]) -> Vec<Vec<f64>> {
    let routing = Routing::for_channels(x.len(), h.len()).unwrap();
    let len = x[0].len() + h.iter().map(Vec::len).max().unwrap() - 1;
    let mut out = vec![vec![0.0f64; len]; routing.outputs];
    for r in &routing.routes {
        for (o, v) in out[r.output]
            .iter_mut()
            .zip(direct_f64(&x[r.input], &h[r.ir]))
        {
            *o += v;
        }
    }
    out
}

fn planes(v: &[Vec<f32>]) -> Vec<&[f32]> {
    v.iter().map(|c| c.as_slice()).collect()
}

fn cpu_render(
    x: &[Vec<f32>],
    h: &[Vec<f32>],
    config: ConvolverConfig,
    chunk: usize,
) -> Vec<Vec<f32>> {
    let mut conv = Convolver::new(&planes(h), x.len(), config).unwrap();
    conv.render(&planes(x), chunk, |_| {}).unwrap()
}

fn assert_close(got: &[Vec<f32>], want: &[Vec<f64>], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: channel count");
    for (c, (g, w)) in got.iter().zip(want).enumerate() {
        let e = rel_err(g, w);
        assert!(
            e < TOL,
            "{what}: channel {c}: relative error {e:e} (len {} vs {})",
            g.len(),
            w.len()
        );
    }
}

fn configs() -> Vec<(&'static str, ConvolverConfig)> {
    let base = ConvolverConfig {
        block: 16,
        zero_latency: false,
        head_partitions: 2,
        max_partition: 256,
        uniform: false,
    };
    vec![
        ("non-uniform", base),
        (
            "zero-latency",
            ConvolverConfig {
                zero_latency: true,
                ..base
            },
        ),
        (
            "uniform",
            ConvolverConfig {
                uniform: true,
                ..base
            },
        ),
        (
            "block 64",
            ConvolverConfig {
                block: 64,
                head_partitions: 4,
                max_partition: 1024,
                ..base
            },
        ),
    ]
}

#[test]
fn cpu_matches_direct_for_edge_lengths_and_layouts() {
    let mut r = rng(1);
    let layouts = [(1, 1), (2, 1), (1, 2), (2, 2), (2, 4), (1, 4), (3, 3)];
    for (name, config) in configs() {
        let b = config.block;
        for &(nx, nh) in &layouts {
            for &(lx, lh) in &[
                (1, 1),
                (b - 1, b + 1),
                (b, b),
                (b + 1, 5 * b + 3),
                (7 * b, 40 * b + 5),
                (3, 70 * b),
            ] {
                let x: Vec<Vec<f32>> = (0..nx).map(|_| noise(&mut r, lx)).collect();
                let h: Vec<Vec<f32>> = (0..nh).map(|_| noise(&mut r, lh)).collect();
                let got = cpu_render(&x, &h, config, 37);
                assert_close(
                    &got,
                    &reference(&x, &h),
                    &format!("{name} {nx}x{nh} len {lx}/{lh}"),
                );
            }
        }
    }
}

#[test]
fn latency_is_reported_and_real() {
    let mut r = rng(2);
    for (name, config) in configs() {
        let h = vec![noise(&mut r, 300)];
        let mut conv = Convolver::new(&planes(&h), 1, config).unwrap();
        let expected = if config.zero_latency { 0 } else { config.block };
        assert_eq!(conv.latency(), expected, "{name}");
        // An impulse at sample 0 comes out at exactly `latency`.
        let mut x = vec![0.0f32; 600];
        x[0] = 1.0;
        let mut y = vec![0.0f32; 600];
        conv.process(&[&x], &mut [&mut y]);
        for (i, &v) in y.iter().enumerate() {
            let want = if i >= expected && i - expected < 300 {
                h[0][i - expected]
            } else {
                0.0
            };
            assert!((v - want).abs() < 1e-5, "{name}: sample {i}: {v} vs {want}");
        }
    }
}

#[test]
fn whole_signal_fft_reference_agrees_with_direct() {
    let mut r = rng(3);
    let x = noise(&mut r, 1000);
    let h = noise(&mut r, 777);
    assert!(rel_err(&fft_whole(&x, &h), &direct_f64(&x, &h)) < TOL);
}

#[test]
fn bad_configurations_are_errors_not_panics() {
    let h = vec![vec![1.0f32; 10]];
    let bad_block = ConvolverConfig {
        block: 100,
        ..Default::default()
    };
    assert!(Convolver::new(&planes(&h), 1, bad_block).is_err());
    let empty: Vec<&[f32]> = vec![&[]];
    assert!(Convolver::new(&empty, 1, ConvolverConfig::default()).is_err());
    let three = vec![vec![1.0f32; 4]; 3];
    let err = Convolver::new(&planes(&three), 2, ConvolverConfig::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("3 channels"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Streaming in random block sizes equals one call, and both equal the reference.
    #[test]
    fn streaming_in_any_blocks_matches_one_call(
        lx in 1usize..700,
        lh in 1usize..900,
        block_pow in 4u32..7,
        zero in any::<bool>(),
        uniform in any::<bool>(),
        chunks in proptest::collection::vec(1usize..200, 1..20),
        seed in any::<u64>(),
    ) {
        let mut r = rng(seed);
        let config = ConvolverConfig { block: 1 << block_pow, zero_latency: zero, head_partitions: 2, max_partition: 256, uniform };
        let x = noise(&mut r, lx);
        let h = noise(&mut r, lh);
        let mut whole = Convolver::new(&[&h], 1, config).unwrap();
        let mut one = vec![0.0f32; lx];
        whole.process(&[&x], &mut [&mut one]);
        let mut streamed = Convolver::new(&[&h], 1, config).unwrap();
        let mut got = vec![0.0f32; lx];
        let mut pos = 0;
        let mut k = 0;
        while pos < lx {
            let n = chunks[k % chunks.len()].min(lx - pos);
            streamed.process(&[&x[pos..pos + n]], &mut [&mut got[pos..pos + n]]);
            pos += n;
            k += 1;
        }
        prop_assert_eq!(&one, &got);
        let full = cpu_render(std::slice::from_ref(&x), std::slice::from_ref(&h), config, 53);
        let e = rel_err(&full[0], &direct_f64(&x, &h));
        prop_assert!(e < TOL, "relative error {:e}", e);
    }
}

#[test]
fn gpu_bank_matches_direct_and_cpu() {
    let Some(ctx) = gpu() else { return };
    let mut r = rng(4);
    for (name, config) in configs() {
        let b = config.block;
        for &(nx, nh, lx, lh) in &[
            (1, 1, 3 * b, 40 * b + 7),
            (2, 2, 10 * b + 3, 90 * b),
            (2, 4, 5 * b, 33 * b + 1),
            (1, 2, 1, 20 * b),
            (1, 1, b, 2),
        ] {
            let x: Vec<Vec<f32>> = (0..nx).map(|_| noise(&mut r, lx)).collect();
            let h: Vec<Vec<f32>> = (0..nh).map(|_| noise(&mut r, lh)).collect();
            let mut bank = GpuConvolverBank::new(ctx.clone(), &[(h.clone(), nx)], config).unwrap();
            let got = bank.render(&planes(&x), 41, |_| {}).unwrap();
            // A second render on the same bank starts from silence again.
            assert_eq!(
                bank.render(&planes(&x), 41, |_| {}).unwrap(),
                got,
                "render must reset the bank"
            );
            let what = format!("gpu {name} {nx}x{nh} len {lx}/{lh}");
            assert_close(&got, &reference(&x, &h), &what);
            let cpu = cpu_render(&x, &h, config, 41);
            for (g, c) in got.iter().zip(&cpu) {
                let peak = c.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                let diff = g
                    .iter()
                    .zip(c)
                    .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
                assert!(
                    diff <= 1e-5 * peak,
                    "{what}: GPU and CPU differ by {diff} (peak {peak})"
                );
            }
        }
    }
}

#[test]
fn gpu_bank_batches_all_instances_in_one_dispatch_per_block() {
    let Some(ctx) = gpu() else { return };
    let mut r = rng(5);
    let config = ConvolverConfig {
        block: 32,
        head_partitions: 2,
        max_partition: 128,
        ..Default::default()
    };
    let irs: Vec<(Vec<Vec<f32>>, usize)> = vec![
        (vec![noise(&mut r, 2000), noise(&mut r, 2000)], 2),
        (vec![noise(&mut r, 1500)], 1),
        (vec![noise(&mut r, 3000); 4], 2),
    ];
    let mut bank = GpuConvolverBank::new(ctx, &irs, config).unwrap();
    let n = 32 * 40;
    let inputs: Vec<Vec<Vec<f32>>> = irs
        .iter()
        .map(|(_, c)| (0..*c).map(|_| noise(&mut r, n)).collect())
        .collect();
    let mut outputs: Vec<Vec<Vec<f32>>> = bank
        .convolvers()
        .iter()
        .map(|c| vec![vec![0.0; n]; c.routing().outputs])
        .collect();
    {
        let ins: Vec<Vec<&[f32]>> = inputs.iter().map(|i| planes(i)).collect();
        let ins: Vec<&[&[f32]]> = ins.iter().map(|v| v.as_slice()).collect();
        let mut outs: Vec<Vec<&mut [f32]>> = outputs
            .iter_mut()
            .map(|o| o.iter_mut().map(|c| c.as_mut_slice()).collect())
            .collect();
        let mut outs: Vec<&mut [&mut [f32]]> = outs.iter_mut().map(|v| v.as_mut_slice()).collect();
        bank.process(&ins, &mut outs).unwrap();
    }
    // Exactly one dispatch in each block where a tail segment of any instance fires.
    let fire_blocks = (1..=40u64)
        .filter(|k| {
            bank.convolvers().iter().any(|c| {
                c.plan().segments[1..]
                    .iter()
                    .any(|s| (k * 32) % s.size as u64 == 0)
            })
        })
        .count() as u64;
    assert!(fire_blocks > 0 && fire_blocks < 40);
    assert_eq!(
        bank.dispatches(),
        fire_blocks,
        "one dispatch per block in which a tail partition fires"
    );
    for (i, ((h, _), x)) in irs.iter().zip(&inputs).enumerate() {
        let want = reference(x, h);
        let lat = bank.convolvers()[i].latency();
        for (c, w) in want.iter().enumerate() {
            let got = &outputs[i][c][lat..];
            let e = rel_err(got, &w[..n - lat]);
            assert!(e < TOL, "instance {i} channel {c}: {e:e}");
        }
    }
}
