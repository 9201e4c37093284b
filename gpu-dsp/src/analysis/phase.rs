//! Stereo phase correlation: +1 mono-compatible, 0 uncorrelated, −1 out of phase.

/// Accumulates the broadband correlation coefficient of two channels.
#[derive(Clone, Copy, Debug, Default)]
pub struct CorrelationMeter {
    lr: f64,
    ll: f64,
    rr: f64,
}

impl CorrelationMeter {
    /// Feeds a block of left/right samples.
    pub fn process(&mut self, left: &[f32], right: &[f32]) {
        for (&l, &r) in left.iter().zip(right) {
            if !(l.is_finite() && r.is_finite()) {
                continue;
            }
            let (l, r) = (f64::from(l), f64::from(r));
            self.lr += l * r;
            self.ll += l * l;
            self.rr += r * r;
        }
    }

    /// Σlr / √(Σl²·Σr²); `None` when either channel is silent.
    pub fn correlation(&self) -> Option<f64> {
        let d = (self.ll * self.rr).sqrt();
        (d > 0.0).then(|| self.lr / d)
    }
}
