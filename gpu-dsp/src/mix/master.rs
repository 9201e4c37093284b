//! Master finishing: master gain, loudness normalisation to a target, true-peak limiting,
//! and the delivery report.

use super::graph::MasterSpec;
use super::limiter::TruePeakLimiter;
use super::pan::Layout;
use crate::analysis::{LoudnessMeter, LoudnessSummary};

/// What finishing did and measured.
#[derive(Clone, Debug, PartialEq)]
pub struct MasterReport {
    /// Integrated loudness before normalisation (after master gain).
    pub measured_before: Option<f64>,
    /// Gain applied to reach the loudness target (dB), 0 without a target.
    pub normalisation_db: f64,
    /// The final master.
    pub loudness: LoudnessSummary,
}

fn loudness(channels: &[Vec<f32>], rate: u32) -> LoudnessSummary {
    let planes: Vec<&[f32]> = channels.iter().map(|c| c.as_slice()).collect();
    let mut m = LoudnessMeter::new(planes.len(), rate);
    m.process(&planes);
    m.summary()
}

/// The master's finishing pass, block by block: the normalisation gain for the loudness
/// target, the true-peak limiter with its delay removed, and the final loudness measurement.
/// Each finished block is measured while the next one is limited (two cores). Used by the
/// streaming render and by [`finish_master`], so both finish the same way.
pub struct MasterFinisher {
    gain: f32,
    normalisation_db: f64,
    limiter: Option<TruePeakLimiter>,
    /// Limiter delay still to drop from the front of the output.
    to_drop: usize,
    meter: LoudnessMeter,
    /// The last finished block, measured while the next one is limited.
    pending: Vec<Vec<f32>>,
}

impl MasterFinisher {
    /// A finisher for `channels` at `rate`; `measured` is the integrated loudness of the
    /// master before normalisation (after the master gain).
    pub fn new(spec: &MasterSpec, measured: Option<f64>, channels: usize, rate: u32) -> Self {
        let normalisation_db = match (spec.loudness_target, measured) {
            (Some(target), Some(m)) => target - m,
            _ => 0.0,
        };
        let limiter = spec
            .true_peak_ceiling
            .map(|c| TruePeakLimiter::new(c, 100.0, channels, rate as f32));
        Self {
            gain: 10f32.powf(normalisation_db as f32 / 20.0),
            normalisation_db,
            to_drop: limiter.as_ref().map_or(0, TruePeakLimiter::latency),
            limiter,
            meter: LoudnessMeter::new(channels, rate),
            pending: vec![Vec::new(); channels],
        }
    }

    /// The normalisation in dB (0 without a target or with a silent master).
    pub fn normalisation_db(&self) -> f64 {
        self.normalisation_db
    }

    /// The normalisation as a linear gain (the stems get it too).
    pub fn gain(&self) -> f32 {
        self.gain
    }

    /// Samples of limiter delay: after the last input, push this many zeros to flush it.
    pub fn delay(&self) -> usize {
        self.limiter.as_ref().map_or(0, TruePeakLimiter::latency)
    }

    /// Finishes `block` in place: the normalisation gain (`gained` false) and the limiter.
    /// Returns the range of `block` that is finished output (the limiter's delay is dropped
    /// from the front of the first blocks).
    pub fn process(&mut self, block: &mut [&mut [f32]], gained: bool) -> std::ops::Range<usize> {
        let n = block.first().map_or(0, |c| c.len());
        if !gained && self.gain != 1.0 {
            for c in block.iter_mut() {
                c.iter_mut().for_each(|v| *v *= self.gain);
            }
        }
        let (limiter, meter, pending) = (&mut self.limiter, &mut self.meter, &self.pending);
        rayon::join(
            || {
                if let Some(l) = limiter {
                    l.process(block);
                }
            },
            || {
                let done: Vec<&[f32]> = pending.iter().map(Vec::as_slice).collect();
                meter.process(&done);
            },
        );
        let skip = self.to_drop.min(n);
        self.to_drop -= skip;
        for (p, c) in self.pending.iter_mut().zip(block.iter()) {
            p.clear();
            p.extend_from_slice(&c[skip..n]);
        }
        skip..n
    }

    /// Marks the end of the output at `keep` samples of the last processed block's finished
    /// range (the flush of the limiter may give more than the programme needs).
    pub fn truncate_last(&mut self, keep: usize) {
        for p in &mut self.pending {
            p.truncate(keep);
        }
    }

    /// The loudness of everything finished.
    pub fn finish(mut self) -> LoudnessSummary {
        let done: Vec<&[f32]> = self.pending.iter().map(Vec::as_slice).collect();
        self.meter.process(&done);
        self.meter.summary()
    }
}

/// Sums `stems` into the master and finishes it. The stems get the same master and
/// normalisation gain (not the limiter), so they still add up to the unlimited master.
pub fn finish_master(
    stems: &mut [Vec<Vec<f32>>],
    spec: &MasterSpec,
    layout: Layout,
    rate: u32,
) -> (Vec<Vec<f32>>, MasterReport) {
    const CHUNK: usize = 16_384;
    let channels = layout.channels();
    let len = stems.first().and_then(|s| s.first()).map_or(0, Vec::len);
    let gain = 10f32.powf(spec.gain_db / 20.0);
    let mut master = vec![vec![0.0f32; len]; channels];
    for stem in stems.iter() {
        for (m, s) in master.iter_mut().zip(stem) {
            m.iter_mut().zip(s).for_each(|(a, b)| *a += b);
        }
    }
    let scale = |x: &mut Vec<Vec<f32>>, g: f32| x.iter_mut().flatten().for_each(|v| *v *= g);
    scale(&mut master, gain);
    stems.iter_mut().for_each(|s| scale(s, gain));
    let before = loudness(&master, rate).integrated;
    let mut finisher = MasterFinisher::new(spec, before, channels, rate);
    let g = finisher.gain();
    if g != 1.0 {
        stems.iter_mut().for_each(|s| scale(s, g));
    }
    // The master plus the limiter's delay of silence, finished chunk by chunk; the output
    // is the finished samples, `len` of them.
    let delay = finisher.delay();
    for c in master.iter_mut() {
        c.extend(std::iter::repeat_n(0.0, delay));
    }
    let total = len + delay;
    let mut out = vec![Vec::with_capacity(len); channels];
    let mut start = 0;
    while start < total {
        let end = (start + CHUNK).min(total);
        let mut block: Vec<&mut [f32]> = master.iter_mut().map(|c| &mut c[start..end]).collect();
        let range = finisher.process(&mut block, false);
        let keep = (range.end - range.start).min(len - out[0].len());
        for (o, c) in out.iter_mut().zip(&block) {
            o.extend_from_slice(&c[range.start..range.start + keep]);
        }
        finisher.truncate_last(keep);
        start = end;
    }
    let report = MasterReport {
        measured_before: before,
        normalisation_db: finisher.normalisation_db(),
        loudness: finisher.finish(),
    };
    (out, report)
}
