//! The partitioned-convolution family (head on the CPU, tail multiply-accumulate on the
//! backend).

use super::noise;
use crate::conv::reference::direct_f64;
use crate::conv::{ConvolutionBackend, Routing};
use crate::Result;

/// Builds a backend for an IR (planar) and an input channel count.
pub type MakeConvolution<'a> =
    dyn FnMut(&[&[f32]], usize) -> Result<Box<dyn ConvolutionBackend>> + 'a;

/// Checks a convolution backend, built by `make` for each IR (planar) and input channel
/// count, against direct f64 convolution: mono, per-channel stereo, mono into a stereo IR
/// and true stereo; IRs of 1, 100 and 3000 taps and one longer than the input; the input
/// fed in ragged blocks (1 sample to several partitions) and followed by silence until the
/// tail is out. Passes when every output sample is within 1e-5 of the output's peak; returns
/// the worst relative error seen.
pub fn check_convolution_backend(
    make: &mut MakeConvolution<'_>,
) -> std::result::Result<f64, String> {
    // (input channels, IR channels, IR taps, input samples)
    let cases = [
        (1, 1, 1, 500),
        (1, 1, 100, 2000),
        (2, 2, 3000, 5000),
        (1, 2, 700, 3000),
        (2, 4, 1500, 4000),
        (1, 1, 6000, 1000),
    ];
    let blocks = [1usize, 37, 256, 1000, 64, 4097, 3];
    let mut worst = 0.0f64;
    for (seed, &(inputs, ir_channels, taps, len)) in cases.iter().enumerate() {
        let seed = seed as u32 * 100;
        let x: Vec<Vec<f32>> = (0..inputs)
            .map(|c| noise(seed + c as u32 + 1, len))
            .collect();
        let h: Vec<Vec<f32>> = (0..ir_channels)
            .map(|c| {
                // Decaying noise, as a room's response.
                noise(seed + 50 + c as u32, taps)
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| v * (-3.0 * i as f32 / taps as f32).exp())
                    .collect()
            })
            .collect();
        let routing = Routing::for_channels(inputs, ir_channels).map_err(|e| e.to_string())?;
        let irp: Vec<&[f32]> = h.iter().map(Vec::as_slice).collect();
        let mut backend = make(&irp, inputs).map_err(|e| e.to_string())?;
        let what = format!(
            "{}, {inputs} in × {ir_channels}-channel IR of {taps} taps, {len} samples",
            backend.name()
        );
        let latency = backend.latency();
        let total = len + taps - 1 + latency;
        let mut got = vec![Vec::with_capacity(total); routing.outputs];
        let mut pos = 0;
        let mut k = 0;
        while pos < total {
            let n = blocks[k % blocks.len()].min(total - pos);
            k += 1;
            let block: Vec<Vec<f32>> = x
                .iter()
                .map(|c| {
                    (pos..pos + n)
                        .map(|i| c.get(i).copied().unwrap_or(0.0))
                        .collect()
                })
                .collect();
            let ins: Vec<&[f32]> = block.iter().map(Vec::as_slice).collect();
            let mut out = vec![vec![0.0f32; n]; routing.outputs];
            let mut outs: Vec<&mut [f32]> = out.iter_mut().map(Vec::as_mut_slice).collect();
            backend
                .process(&ins, &mut outs)
                .map_err(|e| format!("{what}: {e}"))?;
            for (g, o) in got.iter_mut().zip(&out) {
                g.extend_from_slice(o);
            }
            pos += n;
        }
        let mut want = vec![vec![0.0f64; len + taps - 1]; routing.outputs];
        for r in &routing.routes {
            for (w, v) in want[r.output]
                .iter_mut()
                .zip(direct_f64(&x[r.input], &h[r.ir]))
            {
                *w += v;
            }
        }
        let peak = want.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
        let err = got
            .iter()
            .zip(&want)
            .flat_map(|(g, w)| {
                g[latency..]
                    .iter()
                    .zip(w)
                    .map(|(&a, &b)| (f64::from(a) - b).abs())
            })
            .fold(0.0f64, f64::max)
            / peak;
        if err.is_nan() || err >= 1e-5 {
            return Err(format!("{what}: error {err:e} of the peak (limit 1e-5)"));
        }
        worst = worst.max(err);
    }
    Ok(worst)
}
