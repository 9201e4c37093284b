//! Several channels' STFTs (and an optional sidechain analysis) advanced in lockstep, so a
//! per-frame gain computed from all of them applies to every channel alike (a stable image).

use super::bands::BandLayout;
use super::stft::{Stft, StftConfig};
use realfft::num_complex::Complex32;

/// The per-frame input of a linked gain rule: band levels in dB (mean square; a full-scale
/// sine reads −3 dB), summed over the channels, and the sidechain's.
pub(crate) struct FrameLevels<'a> {
    pub main_db: &'a [f32],
    pub side_db: &'a [f32],
}

pub(crate) struct Linked {
    stfts: Vec<Stft>,
    side: Option<Stft>,
    pub layout: BandLayout,
    scale: f32,
    main_power: Vec<f32>,
    side_power: Vec<f32>,
    main_db: Vec<f32>,
    side_db: Vec<f32>,
    band_gain_db: Vec<f32>,
    /// This frame's target gains from the rule, which the band gains follow.
    target_db: Vec<f32>,
    bin_gains: Vec<f32>,
    /// Per-frame smoothing: attack when a gain falls, release when it recovers.
    attack: f32,
    release: f32,
    /// Frame hop and sample rate (for [`Linked::set_times`]).
    hop: usize,
    rate: f32,
}

impl Linked {
    /// `channels` linked channels (and a sidechain analysis when `sidechain`); band gains
    /// follow the rule's targets with `attack_ms` / `release_ms` time constants.
    pub fn new(
        config: StftConfig,
        rate: f32,
        channels: usize,
        sidechain: bool,
        (attack_ms, release_ms): (f32, f32),
    ) -> Self {
        let layout = BandLayout::new(config, rate, 3.0, 40.0);
        let bands = layout.bands();
        let stfts: Vec<Stft> = (0..channels.max(1)).map(|_| Stft::new(config)).collect();
        let scale = stfts[0].power_scale();
        Self {
            side: sidechain.then(|| Stft::new(config)),
            stfts,
            layout,
            scale,
            main_power: vec![0.0; bands],
            side_power: vec![0.0; bands],
            main_db: vec![0.0; bands],
            side_db: vec![-200.0; bands],
            band_gain_db: vec![0.0; bands],
            target_db: vec![0.0; bands],
            bin_gains: vec![1.0; config.bins()],
            attack: frame_coefficient(attack_ms, config.hop, rate),
            release: frame_coefficient(release_ms, config.hop, rate),
            hop: config.hop,
            rate,
        }
    }

    /// Changes the attack and release times (from the next frame).
    pub fn set_times(&mut self, attack_ms: f32, release_ms: f32) {
        self.attack = frame_coefficient(attack_ms, self.hop, self.rate);
        self.release = frame_coefficient(release_ms, self.hop, self.rate);
    }

    /// The deepest cut (dB, ≤ 0) of the latest frame's band gains, for meters.
    pub fn reduction_db(&self) -> f32 {
        self.band_gain_db.iter().fold(0.0f32, |m, g| m.min(*g))
    }

    pub fn latency(&self) -> usize {
        self.stfts[0].latency()
    }

    /// The gains (dB per band) of the latest frame.
    pub fn band_gains_db(&self) -> &[f32] {
        &self.band_gain_db
    }

    pub fn reset(&mut self) {
        self.stfts
            .iter_mut()
            .chain(self.side.as_mut())
            .for_each(Stft::reset);
        self.band_gain_db.fill(0.0);
    }

    /// Processes `channels` in place (delayed by `latency()`); `rule` turns each frame's
    /// levels into per-band target gains in dB, which the applied gains follow. The sidechain, if any, is as long as the channels.
    /// Never allocates.
    pub fn process(
        &mut self,
        channels: &mut [&mut [f32]],
        sidechain: Option<&[f32]>,
        mut rule: impl FnMut(FrameLevels<'_>, &mut [f32]),
    ) {
        let n = channels.first().map_or(0, |c| c.len());
        let mut done = 0;
        while done < n {
            let take = self.stfts[0].until_frame().min(n - done);
            let mut due = false;
            for (stft, x) in self.stfts.iter_mut().zip(channels.iter_mut()) {
                due = stft.feed_in_place(&mut x[done..done + take]).1;
            }
            if let (Some(side), Some(s)) = (self.side.as_mut(), sidechain) {
                side.feed(&s[done..done + take], None);
            }
            done += take;
            if due {
                self.frame(&mut rule);
            }
        }
    }

    fn frame(&mut self, rule: &mut impl FnMut(FrameLevels<'_>, &mut [f32])) {
        self.main_power.fill(0.0);
        for stft in &mut self.stfts {
            let spectrum = stft.analyze_frame();
            self.layout.accumulate(
                spectrum.iter().map(Complex32::norm_sqr),
                &mut self.main_power,
            );
        }
        if let Some(side) = self.side.as_mut() {
            self.side_power.fill(0.0);
            let spectrum = side.analyze_frame();
            self.layout.accumulate(
                spectrum.iter().map(Complex32::norm_sqr),
                &mut self.side_power,
            );
            side.finish_frame(false);
        }
        let to_db = |p: f32, scale: f32| 10.0 * (p * scale).max(1e-20).log10();
        for (d, p) in self.main_db.iter_mut().zip(&self.main_power) {
            *d = to_db(*p, self.scale);
        }
        if self.side.is_some() {
            for (d, p) in self.side_db.iter_mut().zip(&self.side_power) {
                *d = to_db(*p, self.scale);
            }
        }
        rule(
            FrameLevels {
                main_db: &self.main_db,
                side_db: &self.side_db,
            },
            &mut self.target_db,
        );
        for (g, &target) in self.band_gain_db.iter_mut().zip(&self.target_db) {
            let a = if target < *g {
                self.attack
            } else {
                self.release
            };
            *g = target + a * (*g - target);
        }
        self.layout.spread(&self.band_gain_db, &mut self.bin_gains);
        for stft in &mut self.stfts {
            // The spectrum is still in place from the analysis above.
            let spectrum = stft.spectrum_mut();
            for (v, g) in spectrum.iter_mut().zip(&self.bin_gains) {
                *v *= *g;
            }
            stft.finish_frame(true);
        }
    }
}

/// One-pole smoothing coefficient for a time constant in ms at one update per `hop` samples.
fn frame_coefficient(ms: f32, hop: usize, rate: f32) -> f32 {
    let frames = (ms.max(0.0) * 0.001 * rate) / hop as f32;
    if frames <= 0.0 {
        0.0
    } else {
        (-1.0 / frames).exp()
    }
}
