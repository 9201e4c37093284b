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

/// Sums `stems` into the master and finishes it. The stems get the same master and
/// normalisation gain (not the limiter), so they still add up to the unlimited master.
pub fn finish_master(
    stems: &mut [Vec<Vec<f32>>],
    spec: &MasterSpec,
    layout: Layout,
    rate: u32,
) -> (Vec<Vec<f32>>, MasterReport) {
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
    let mut normalisation_db = 0.0;
    if let (Some(target), Some(measured)) = (spec.loudness_target, before) {
        normalisation_db = target - measured;
        let g = 10f32.powf(normalisation_db as f32 / 20.0);
        scale(&mut master, g);
        stems.iter_mut().for_each(|s| scale(s, g));
    }
    let after = match spec.true_peak_ceiling {
        Some(ceiling) => limit_and_measure(&mut master, ceiling, rate),
        None => loudness(&master, rate),
    };
    let report = MasterReport {
        measured_before: before,
        normalisation_db,
        loudness: after,
    };
    (master, report)
}

/// Runs `master` through the true-peak limiter in place and measures the result: each chunk is
/// measured while the next one is limited (two cores, no second pass over the master).
fn limit_and_measure(master: &mut [Vec<f32>], ceiling: f32, rate: u32) -> LoudnessSummary {
    const CHUNK: usize = 16_384;
    let channels = master.len();
    let len = master.first().map_or(0, Vec::len);
    let mut limiter = TruePeakLimiter::new(ceiling, 100.0, channels, rate as f32);
    let mut meter = LoudnessMeter::new(channels, rate);
    let lat = limiter.latency();
    for c in master.iter_mut() {
        c.extend(std::iter::repeat_n(0.0, lat));
    }
    let total = len + lat;
    // Limited output starts `lat` samples late; `measured` is the next output sample to meter.
    let mut measured = lat;
    let mut start = 0;
    while start < total {
        let end = (start + CHUNK).min(total);
        let (done, mut next): (Vec<&[f32]>, Vec<&mut [f32]>) = master
            .iter_mut()
            .map(|c| {
                let (a, b) = c.split_at_mut(start);
                (&a[measured.min(start)..], &mut b[..end - start])
            })
            .unzip();
        rayon::join(|| limiter.process(&mut next), || meter.process(&done));
        measured = measured.max(start);
        start = end;
    }
    let rest: Vec<&[f32]> = master.iter().map(|c| &c[measured.min(total)..]).collect();
    meter.process(&rest);
    for c in master.iter_mut() {
        c.drain(..lat);
    }
    meter.summary()
}
