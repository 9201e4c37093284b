//! The offline convolver: one uniformly partitioned overlap-save segment fed whole blocks,
//! with none of the streaming machinery (no history ring, output ring or latency).

use super::partition::Segment;
use super::routing::Routing;
use super::segment::SegmentState;
use crate::{DspError, Result};
use realfft::RealFftPlanner;

/// Convolves a signal given in blocks of exactly [`BlockConvolver::block`] frames: block `k`
/// of the output is returned with block `k` of the input (no latency). Feed zero blocks after
/// the input to collect the tail (`ir_len - 1` frames).
///
/// Per block and input channel it copies `2·block` samples once, runs one forward FFT, one
/// multiply-accumulate per route and partition and one inverse FFT per output, against the
/// streaming [`super::Convolver`]'s two ring buffers and per-sample chunking. All memory is
/// allocated in [`BlockConvolver::new`].
pub struct BlockConvolver {
    segment: SegmentState,
    routing: Routing,
    /// Per input channel: the previous input block.
    previous: Vec<Vec<f32>>,
}

impl BlockConvolver {
    /// The block size that runs fastest for an IR of `ir_len` taps: about a quarter of the
    /// IR, between 1024 and 32768 frames (measured with `benches/cli.sh` on this machine).
    pub fn block_for(ir_len: usize) -> usize {
        (ir_len / 4).next_power_of_two().clamp(1024, 32768)
    }

    /// A convolver of `inputs` channels with the IR `ir` (one slice per IR channel, routed by
    /// [`Routing::for_channels`]) in blocks of `block` frames (a power of two).
    pub fn new(ir: &[&[f32]], inputs: usize, block: usize) -> Result<Self> {
        if !block.is_power_of_two() || block < 16 {
            return Err(DspError::InvalidInput(format!(
                "block size {block} must be a power of two of at least 16"
            )));
        }
        let ir_len = ir.iter().map(|c| c.len()).max().unwrap_or(0);
        if ir_len == 0 {
            return Err(DspError::InvalidInput(
                "the impulse response is empty".into(),
            ));
        }
        let routing = Routing::for_channels(inputs, ir.len())?;
        let seg = Segment {
            size: block,
            offset: 0,
            count: ir_len.div_ceil(block),
        };
        let mut planner = RealFftPlanner::new();
        let segment = SegmentState::new(seg, ir, inputs, routing.outputs, true, &mut planner);
        Ok(Self {
            segment,
            previous: vec![vec![0.0; block]; inputs],
            routing,
        })
    }

    /// Frames per block.
    pub fn block(&self) -> usize {
        self.segment.seg.size
    }

    /// Channel routing (inputs, outputs, paths).
    pub fn routing(&self) -> &Routing {
        &self.routing
    }

    /// Convolves the next block: `input` (one slice of [`Self::block`] frames per input
    /// channel) into `output` (one per output channel, same length, overwritten).
    ///
    /// # Panics
    /// When the channel counts or lengths differ from the convolver's.
    pub fn process_block(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) {
        let block = self.block();
        assert_eq!(input.len(), self.routing.inputs, "input channel count");
        assert_eq!(output.len(), self.routing.outputs, "output channel count");
        assert!(
            input.iter().all(|c| c.len() == block) && output.iter().all(|c| c.len() == block),
            "blocks must be {block} frames"
        );
        self.segment.advance();
        for (c, (x, previous)) in input.iter().zip(&mut self.previous).enumerate() {
            self.segment.analyze(c, previous, x);
            previous.copy_from_slice(x);
        }
        self.segment.mac(&self.routing.routes);
        for (o, out) in output.iter_mut().enumerate() {
            out.copy_from_slice(self.segment.synthesize(o));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::noise;
    use crate::conv::reference::{direct_f64, relative_error};

    /// Runs `x` (planar) through `conv` in blocks, zero-padded, for the whole convolution.
    fn convolve_all(conv: &mut BlockConvolver, x: &[Vec<f32>], ir_len: usize) -> Vec<Vec<f32>> {
        let b = conv.block();
        let total = x[0].len() + ir_len - 1;
        let outputs = conv.routing().outputs;
        let mut y = vec![Vec::new(); outputs];
        let mut inb = vec![vec![0.0f32; b]; x.len()];
        let mut outb = vec![vec![0.0f32; b]; outputs];
        for k in 0..total.div_ceil(b) {
            for (dst, src) in inb.iter_mut().zip(x) {
                dst.fill(0.0);
                let from = (k * b).min(src.len());
                let to = ((k + 1) * b).min(src.len());
                dst[..to - from].copy_from_slice(&src[from..to]);
            }
            let ins: Vec<&[f32]> = inb.iter().map(Vec::as_slice).collect();
            let mut outs: Vec<&mut [f32]> = outb.iter_mut().map(Vec::as_mut_slice).collect();
            conv.process_block(&ins, &mut outs);
            for (acc, o) in y.iter_mut().zip(&outb) {
                acc.extend_from_slice(o);
            }
        }
        y.iter_mut().for_each(|c| c.truncate(total));
        y
    }

    #[test]
    fn matches_the_f64_direct_form_for_ragged_lengths() {
        // IR and input lengths that are not multiples of the block, one and several
        // partitions: worst error against direct f64 convolution within 1e-5 of the peak.
        for (ir_len, x_len, block) in [(5, 300, 64), (1000, 3001, 256), (257, 50, 16)] {
            let h = noise(1 + ir_len as u32, ir_len);
            let x = noise(7 + x_len as u32, x_len);
            let mut conv = BlockConvolver::new(&[&h], 1, block).unwrap();
            let y = convolve_all(&mut conv, std::slice::from_ref(&x), ir_len);
            let err = relative_error(&y[0], &direct_f64(&x, &h));
            assert!(err < 1e-5, "ir {ir_len}, x {x_len}, block {block}: {err:e}");
        }
    }

    #[test]
    fn true_stereo_sums_both_inputs_into_each_output() {
        let irs: Vec<Vec<f32>> = (0..4).map(|k| noise(20 + k, 700)).collect();
        let planes: Vec<&[f32]> = irs.iter().map(Vec::as_slice).collect();
        let x = vec![noise(3, 2000), noise(4, 2000)];
        let mut conv = BlockConvolver::new(&planes, 2, 128).unwrap();
        let y = convolve_all(&mut conv, &x, 700);
        // L = xL∗LL + xR∗RL, R = xL∗LR + xR∗RR.
        for (out, (a, b)) in [(0, (0, 2)), (1, (1, 3))] {
            let expected: Vec<f64> = direct_f64(&x[0], &irs[a])
                .iter()
                .zip(direct_f64(&x[1], &irs[b]))
                .map(|(p, q)| p + q)
                .collect();
            let err = relative_error(&y[out], &expected);
            assert!(err < 1e-5, "output {out}: {err:e}");
        }
    }

    #[test]
    fn refuses_a_block_that_is_not_a_power_of_two_and_an_empty_ir() {
        assert!(BlockConvolver::new(&[&[1.0]], 1, 100).is_err());
        assert!(BlockConvolver::new(&[&[]], 1, 64).is_err());
    }

    #[test]
    fn block_sizes_follow_the_ir() {
        assert_eq!(BlockConvolver::block_for(10), 1024);
        assert_eq!(BlockConvolver::block_for(144_000), 32768);
        assert_eq!(BlockConvolver::block_for(20_000), 8192);
    }
}
