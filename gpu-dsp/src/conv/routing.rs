//! Which input channel is convolved with which IR channel into which output channel.

use crate::{DspError, Result};

/// One convolution path: input channel ∗ IR channel → added into output channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub input: usize,
    pub ir: usize,
    pub output: usize,
}

/// All paths of a convolver and its channel counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routing {
    pub inputs: usize,
    pub outputs: usize,
    pub routes: Vec<Route>,
}

impl Routing {
    /// The routing a mixer expects for `inputs` input channels and an IR with `ir` channels:
    /// - mono IR: every input channel through the same IR;
    /// - mono input: one output per IR channel (mono into a stereo IR gives stereo), except
    ///   a 4-channel IR, which is true stereo fed with the mono signal on both sides;
    /// - stereo input with a 4-channel true-stereo IR ordered LL, LR, RL, RR (LR: left input
    ///   to right output): L = x_L∗LL + x_R∗RL, R = x_L∗LR + x_R∗RR;
    /// - otherwise one IR channel per input channel.
    pub fn for_channels(inputs: usize, ir: usize) -> Result<Self> {
        let r = |input, ir, output| Route { input, ir, output };
        let (outputs, routes) = match (inputs, ir) {
            (0, _) | (_, 0) => {
                return Err(DspError::InvalidInput("no channels to convolve".into()));
            }
            (n, 1) => (n, (0..n).map(|c| r(c, 0, c)).collect()),
            (1, 4) => (2, vec![r(0, 0, 0), r(0, 1, 1), r(0, 2, 0), r(0, 3, 1)]),
            (1, k) => (k, (0..k).map(|c| r(0, c, c)).collect()),
            (2, 4) => (2, vec![r(0, 0, 0), r(0, 1, 1), r(1, 2, 0), r(1, 3, 1)]),
            (n, k) if n == k => (n, (0..n).map(|c| r(c, c, c)).collect()),
            (n, k) => {
                return Err(DspError::InvalidInput(format!(
                    "an IR with {k} channels cannot process {n}-channel input \
                     (use a mono, per-channel or true-stereo IR)"
                )));
            }
        };
        Ok(Self {
            inputs,
            outputs,
            routes,
        })
    }
}
