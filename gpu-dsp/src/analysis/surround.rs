//! The surround field: Gerzon's energy vector of a 5.1 or 7.1 signal, the direction and
//! focus of the sound image.

/// Loudspeaker azimuths in degrees (positive to the left, 0 ahead) in WAV channel order;
/// `None` for the LFE, which carries no direction. 5.1: L R C LFE Ls Rs (ITU-R BS.775,
/// surrounds at ±110°); 7.1: L R C LFE BL BR SL SR (backs ±150°, sides ±90°).
pub fn speaker_azimuths(channels: usize) -> Option<Vec<Option<f64>>> {
    match channels {
        6 => Some(vec![
            Some(30.0),
            Some(-30.0),
            Some(0.0),
            None,
            Some(110.0),
            Some(-110.0),
        ]),
        8 => Some(vec![
            Some(30.0),
            Some(-30.0),
            Some(0.0),
            None,
            Some(150.0),
            Some(-150.0),
            Some(90.0),
            Some(-90.0),
        ]),
        _ => None,
    }
}

/// The energy vector of a block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EnergyVector {
    /// Direction of the image in degrees (positive left, 0 ahead, ±180 behind).
    pub direction_deg: f64,
    /// Length 0..1: 1 is a single loudspeaker (a sharp image), near 0 is enveloping.
    pub magnitude: f64,
}

/// Energy vector of planar 5.1/7.1 `channels`: r = Σ E_i·u_i / Σ E_i. `None` for other
/// layouts or silence. An [`EnergyVectorMeter`] fed the whole signal.
pub fn energy_vector(channels: &[&[f32]]) -> Option<EnergyVector> {
    let mut meter = EnergyVectorMeter::new(channels.len());
    meter.push(channels);
    meter.finish()
}

/// The energy vector of a signal pushed block by block; [`EnergyVectorMeter::finish`] gives
/// what [`energy_vector`] gives for the whole signal.
#[derive(Clone, Debug)]
pub struct EnergyVectorMeter {
    /// `None` for a layout without loudspeaker directions.
    azimuths: Option<Vec<Option<f64>>>,
    /// Σ s² per channel.
    energy: Vec<f64>,
}

impl EnergyVectorMeter {
    /// A meter for `channels` planar channels (5.1 or 7.1 in WAV order; other layouts give
    /// `None`).
    pub fn new(channels: usize) -> Self {
        Self {
            azimuths: speaker_azimuths(channels),
            energy: vec![0.0; channels],
        }
    }

    /// Feeds a planar block (non-finite samples are skipped).
    pub fn push(&mut self, block: &[&[f32]]) {
        if self.azimuths.is_none() {
            return;
        }
        for (e, c) in self.energy.iter_mut().zip(block) {
            for &s in c.iter().filter(|s| s.is_finite()) {
                *e += f64::from(s) * f64::from(s);
            }
        }
    }

    /// r = Σ E_i·u_i / Σ E_i of everything pushed; `None` for other layouts or silence.
    pub fn finish(self) -> Option<EnergyVector> {
        let azimuths = self.azimuths?;
        let (mut x, mut y, mut total) = (0.0f64, 0.0f64, 0.0f64);
        for (&e, az) in self.energy.iter().zip(&azimuths) {
            let Some(az) = az else { continue };
            let a = az.to_radians();
            x += e * a.cos();
            y += e * a.sin();
            total += e;
        }
        (total > 0.0).then(|| EnergyVector {
            direction_deg: y.atan2(x).to_degrees(),
            magnitude: (x * x + y * y).sqrt() / total,
        })
    }
}

/// Energy vectors of consecutive blocks of `block` samples (for a moving display).
pub fn energy_vectors(channels: &[&[f32]], block: usize) -> Vec<Option<EnergyVector>> {
    let len = channels.first().map_or(0, |c| c.len());
    (0..len)
        .step_by(block.max(1))
        .map(|start| {
            let end = (start + block.max(1)).min(len);
            let slices: Vec<&[f32]> = channels.iter().map(|c| &c[start..end]).collect();
            energy_vector(&slices)
        })
        .collect()
}
