//! ITU-R BS.1770-4 / EBU R128 loudness: momentary (400 ms), short-term (3 s), integrated
//! (gated), loudness range (EBU Tech 3342), with sample and true peak.

use super::kweight::KWeighting;
use super::truepeak::TruePeakMeter;
use super::{db, lufs};

/// BS.1770-4 channel weights for the usual WAV channel orders: mono; stereo; 5.0 (L R C Ls
/// Rs); 5.1 (L R C LFE Ls Rs); 7.1 (L R C LFE BL BR SL SR). Surrounds between 60° and 120°
/// weigh 1.41 (+1.5 dB), back channels beyond 120° weigh 1.0 (BS.1770-4 Table 3), and the
/// LFE is excluded. Other counts weigh every channel 1.0.
pub fn channel_weights(channels: usize) -> Vec<f64> {
    match channels {
        5 => vec![1.0, 1.0, 1.0, 1.41, 1.41],
        6 => vec![1.0, 1.0, 1.0, 0.0, 1.41, 1.41],
        8 => vec![1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.41, 1.41],
        n => vec![1.0; n],
    }
}

/// What a whole programme measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LoudnessSummary {
    /// Gated integrated loudness (LUFS); `None` when every block is below −70 LUFS.
    pub integrated: Option<f64>,
    /// Loudness range (LU, EBU Tech 3342); `None` under 3 s or in silence.
    pub range: Option<f64>,
    /// Highest momentary loudness (LUFS).
    pub momentary_max: Option<f64>,
    /// Highest short-term loudness (LUFS).
    pub short_term_max: Option<f64>,
    /// True peak (dBTP), oversampled.
    pub true_peak: Option<f64>,
    /// Sample peak (dBFS).
    pub sample_peak: Option<f64>,
}

/// Streaming loudness meter for any channel count and sample rate.
pub struct LoudnessMeter {
    rate: f64,
    weights: Vec<f64>,
    filters: Vec<KWeighting>,
    peaks: Vec<TruePeakMeter>,
    /// Samples consumed so far.
    samples: u64,
    /// Weighted sum of squares in the 10 ms tick being filled.
    acc: f64,
    /// Every completed 10 ms tick: (weighted sum of squares, samples). Gating blocks and
    /// short-term values for LRA use every 10th tick (a 100 ms hop); the maxima of momentary
    /// and short-term loudness are tracked every tick, so a 400 ms burst is caught whole.
    ticks: Vec<(f64, u64)>,
    momentary_max: Option<f64>,
    short_term_max: Option<f64>,
}

/// Momentary window (400 ms), short-term window (3 s) and the gating hop (100 ms) in 10 ms
/// ticks.
const MOMENTARY_TICKS: usize = 40;
const SHORT_TERM_TICKS: usize = 300;
const HOP_TICKS: usize = 10;
const TICKS_PER_SECOND: f64 = 100.0;
const ABSOLUTE_GATE: f64 = -70.0;

impl LoudnessMeter {
    /// A meter for `channels` channels at `sample_rate` with BS.1770-4 weights.
    pub fn new(channels: usize, sample_rate: u32) -> Self {
        Self::with_weights(channel_weights(channels), sample_rate)
    }

    /// A meter with explicit per-channel weights (0 excludes a channel).
    pub fn with_weights(weights: Vec<f64>, sample_rate: u32) -> Self {
        let rate = f64::from(sample_rate);
        let n = weights.len();
        Self {
            rate,
            filters: vec![KWeighting::new(rate); n],
            peaks: (0..n).map(|_| TruePeakMeter::new(sample_rate)).collect(),
            weights,
            samples: 0,
            acc: 0.0,
            ticks: Vec::with_capacity(360_000),
            momentary_max: None,
            short_term_max: None,
        }
    }

    /// Sample index where 10 ms tick `k` ends.
    fn boundary(&self, k: u64) -> u64 {
        ((k as f64) * self.rate / TICKS_PER_SECOND).round() as u64
    }

    /// Feeds planar samples (one slice per channel, equal lengths). NaN/Inf samples are
    /// treated as silence so they never poison the measurement.
    pub fn process(&mut self, channels: &[&[f32]]) {
        assert_eq!(channels.len(), self.weights.len(), "channel count");
        let n = channels.first().map_or(0, |c| c.len());
        let mut pos = 0;
        while pos < n {
            let end_of_step = self.boundary(self.ticks.len() as u64 + 1);
            let take = ((end_of_step - self.samples) as usize).min(n - pos);
            // Channels in pairs: two independent filter recursions in one loop run in
            // parallel on the CPU's pipelines.
            let pairs = channels
                .chunks(2)
                .zip(self.filters.chunks_mut(2))
                .zip(self.peaks.chunks_mut(2).zip(self.weights.chunks(2)));
            for ((x, filters), (peaks, weights)) in pairs {
                let mut sums = [0.0f64; 2];
                match filters {
                    [fa, fb] => {
                        for (&xa, &xb) in x[0][pos..pos + take].iter().zip(&x[1][pos..pos + take]) {
                            let ya = fa.tick(finite(xa));
                            let yb = fb.tick(finite(xb));
                            sums[0] += ya * ya;
                            sums[1] += yb * yb;
                        }
                    }
                    [fa] => {
                        for &xa in &x[0][pos..pos + take] {
                            let ya = fa.tick(finite(xa));
                            sums[0] += ya * ya;
                        }
                    }
                    _ => {}
                }
                for (((ch, peak), w), sum) in x.iter().zip(peaks.iter_mut()).zip(weights).zip(sums)
                {
                    self.acc += w * sum;
                    peak.process(&ch[pos..pos + take]);
                }
            }
            self.samples += take as u64;
            pos += take;
            if self.samples == end_of_step {
                self.finish_step(end_of_step - self.boundary(self.ticks.len() as u64));
            }
        }
    }

    fn finish_step(&mut self, len: u64) {
        self.ticks.push((self.acc, len));
        self.acc = 0.0;
        if let Some(m) = self.momentary() {
            self.momentary_max = Some(self.momentary_max.map_or(m, |x: f64| x.max(m)));
        }
        if let Some(s) = self.short_term() {
            self.short_term_max = Some(self.short_term_max.map_or(s, |x: f64| x.max(s)));
        }
    }

    /// Mean-square energy of the `ticks` ticks ending before tick index `end`.
    fn window(&self, ticks: usize, end: usize) -> Option<f64> {
        if end < ticks {
            return None;
        }
        let (sum, len) = self.ticks[end - ticks..end]
            .iter()
            .fold((0.0, 0u64), |(s, l), &(e, n)| (s + e, l + n));
        Some(sum / len.max(1) as f64)
    }

    /// Momentary loudness of the last 400 ms (LUFS).
    pub fn momentary(&self) -> Option<f64> {
        self.window(MOMENTARY_TICKS, self.ticks.len())
            .and_then(lufs)
    }

    /// Short-term loudness of the last 3 s (LUFS).
    pub fn short_term(&self) -> Option<f64> {
        self.window(SHORT_TERM_TICKS, self.ticks.len())
            .and_then(lufs)
    }

    /// Energies of every complete window of `ticks` ticks on the 100 ms hop grid.
    fn windows(&self, ticks: usize) -> Vec<f64> {
        (ticks..=self.ticks.len())
            .step_by(HOP_TICKS)
            .filter_map(|end| self.window(ticks, end))
            .collect()
    }

    /// Gated integrated loudness (BS.1770-4: absolute gate −70 LUFS, relative gate −10 LU).
    pub fn integrated(&self) -> Option<f64> {
        let blocks = self.windows(MOMENTARY_TICKS);
        gated_mean(&blocks, -10.0).and_then(lufs)
    }

    /// Loudness range (EBU Tech 3342): short-term values every 100 ms, kept when ≥ −70 LUFS
    /// and ≥ their power mean − 20 LU; 95th minus 10th percentile (nearest rank).
    pub fn range(&self) -> Option<f64> {
        let blocks = self.windows(SHORT_TERM_TICKS);
        let above: Vec<f64> = blocks
            .into_iter()
            .filter(|&z| lufs(z).is_some_and(|l| l >= ABSOLUTE_GATE))
            .collect();
        if above.is_empty() {
            return None;
        }
        let gate = lufs(above.iter().sum::<f64>() / above.len() as f64)? - 20.0;
        let mut kept: Vec<f64> = above
            .iter()
            .filter_map(|&z| lufs(z))
            .filter(|&l| l >= gate)
            .collect();
        if kept.is_empty() {
            return None;
        }
        kept.sort_by(f64::total_cmp);
        let pick = |p: f64| kept[((kept.len() - 1) as f64 * p).round() as usize];
        Some(pick(0.95) - pick(0.10))
    }

    /// Highest true peak over all channels (dBTP).
    pub fn true_peak(&self) -> Option<f64> {
        db(self
            .peaks
            .iter()
            .map(TruePeakMeter::peak)
            .fold(0.0, f64::max))
    }

    /// Highest sample peak (dBFS).
    pub fn sample_peak(&self) -> Option<f64> {
        db(self
            .peaks
            .iter()
            .map(TruePeakMeter::sample_peak)
            .fold(0.0, f64::max))
    }

    /// Everything at once.
    pub fn summary(&self) -> LoudnessSummary {
        LoudnessSummary {
            integrated: self.integrated(),
            range: self.range(),
            momentary_max: self.momentary_max,
            short_term_max: self.short_term_max,
            true_peak: self.true_peak(),
            sample_peak: self.sample_peak(),
        }
    }
}

/// A sample as f64, with NaN and infinities read as silence.
#[inline]
fn finite(s: f32) -> f64 {
    if s.is_finite() {
        f64::from(s)
    } else {
        0.0
    }
}

/// Mean energy of the blocks above the absolute gate and above (their mean + `relative` LU).
fn gated_mean(blocks: &[f64], relative: f64) -> Option<f64> {
    let above: Vec<f64> = blocks
        .iter()
        .copied()
        .filter(|&z| lufs(z).is_some_and(|l| l > ABSOLUTE_GATE))
        .collect();
    if above.is_empty() {
        return None;
    }
    let gate = lufs(above.iter().sum::<f64>() / above.len() as f64)? + relative;
    let kept: Vec<f64> = above
        .into_iter()
        .filter(|&z| lufs(z).is_some_and(|l| l > gate))
        .collect();
    (!kept.is_empty()).then(|| kept.iter().sum::<f64>() / kept.len() as f64)
}
