//! Every numeric parameter of the console and its processors, declared once: name, unit,
//! range, default and skew. The session loader refuses values outside the range,
//! automation envelopes are checked against it, and the window's sliders span it with its
//! skew.

/// How a control's travel maps onto a parameter's range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Skew {
    #[default]
    Linear,
    /// Equal travel per ratio (frequencies, times, ratios spanning decades).
    Log,
}

/// One parameter's declaration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamInfo {
    pub name: &'static str,
    pub unit: &'static str,
    pub min: f32,
    pub max: f32,
    pub default: f32,
    pub skew: Skew,
}

impl ParamInfo {
    const fn new(name: &'static str, unit: &'static str, min: f32, max: f32, default: f32) -> Self {
        Self {
            name,
            unit,
            min,
            max,
            default,
            skew: Skew::Linear,
        }
    }

    /// The same declaration, its travel logarithmic.
    const fn log(self) -> Self {
        Self {
            skew: Skew::Log,
            ..self
        }
    }

    /// Whether `v` is finite and within the range.
    pub fn accepts(&self, v: f64) -> bool {
        v.is_finite() && v >= f64::from(self.min) && v <= f64::from(self.max)
    }

    /// `Err("<name> <v>: expected <min> to <max> <unit>")` when `v` is out of range.
    pub fn check(&self, v: f64) -> Result<(), String> {
        if self.accepts(v) {
            Ok(())
        } else {
            Err(format!(
                "{} {v}: expected {} to {} {}",
                self.name, self.min, self.max, self.unit
            )
            .trim_end()
            .to_string())
        }
    }
}

/// A parameter of a processor, resolved from its name once (when a session is loaded or a
/// control is built) so the engine never matches strings: the index of its entry in the
/// processor's table and, for an EQ, the band.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ParamId {
    pub index: u8,
    pub band: u8,
}

impl ParamId {
    /// The id of `name` in `table` (band 0).
    pub fn resolve(table: &'static [ParamInfo], name: &str) -> Option<Self> {
        let index = table.iter().position(|p| p.name == name)?;
        Some(Self {
            index: u8::try_from(index).ok()?,
            band: 0,
        })
    }

    /// An EQ band's parameter from its session name `band<k>_<field>` ([`EQ_BAND`]).
    pub fn resolve_band(name: &str) -> Option<Self> {
        let (band, field) = name.strip_prefix("band")?.split_once('_')?;
        Some(Self {
            band: band.parse().ok()?,
            ..Self::resolve(EQ_BAND, field)?
        })
    }

    /// Its declaration in `table`.
    pub fn info(self, table: &'static [ParamInfo]) -> Option<&'static ParamInfo> {
        table.get(usize::from(self.index))
    }
}

/// Looks a parameter up by name in a table.
pub fn find_param(table: &'static [ParamInfo], name: &str) -> Option<&'static ParamInfo> {
    table.iter().find(|p| p.name == name)
}

/// Levels: the floor of every gain; anything below −144 dB (silence for 24-bit audio) is
/// an "off" fader, and −200 dB is how sessions often spell it.
const FLOOR_DB: f32 = -200.0;

/// Track and bus faders, sends, clips, pan, surround and the master.
pub const CONSOLE: &[ParamInfo] = &[
    ParamInfo::new("gain_db", "dB", FLOOR_DB, 24.0, 0.0),
    ParamInfo::new("pan", "", -1.0, 1.0, 0.0),
    ParamInfo::new("azimuth", "degrees", -180.0, 180.0, 0.0),
    ParamInfo::new("lfe_db", "dB", FLOOR_DB, 24.0, FLOOR_DB),
    ParamInfo::new("level_db", "dB", FLOOR_DB, 24.0, 0.0),
];

/// A clip on the timeline (clip gain reaches higher than a fader: quiet recordings).
pub const CLIP: &[ParamInfo] = &[ParamInfo::new("gain_db", "dB", FLOOR_DB, 36.0, 0.0)];

/// The master section.
pub const MASTER: &[ParamInfo] = &[
    ParamInfo::new("gain_db", "dB", -60.0, 24.0, 0.0),
    ParamInfo::new("loudness_target", "LUFS", -70.0, 0.0, -23.0),
    ParamInfo::new("true_peak_ceiling", "dBTP", -30.0, 0.0, -1.0),
];

/// Parametric EQ band (the frequency is further limited to below Nyquist).
pub const EQ_BAND: &[ParamInfo] = &[
    ParamInfo::new("freq", "Hz", 10.0, 40_000.0, 1000.0).log(),
    ParamInfo::new("gain_db", "dB", -48.0, 48.0, 0.0),
    ParamInfo::new("q", "", 0.025, 40.0, 0.707).log(),
];

/// Compressor.
pub const COMPRESSOR: &[ParamInfo] = &[
    ParamInfo::new("threshold_db", "dB", -80.0, 0.0, -18.0),
    ParamInfo::new("ratio", ":1", 1.0, 100.0, 3.0).log(),
    ParamInfo::new("attack_ms", "ms", 0.01, 1000.0, 10.0).log(),
    ParamInfo::new("release_ms", "ms", 1.0, 10_000.0, 150.0).log(),
    ParamInfo::new("knee_db", "dB", 0.0, 48.0, 0.0),
    ParamInfo::new("makeup_db", "dB", -24.0, 48.0, 0.0),
];

/// Gate (`range_db` is the attenuation when closed: 0 is no gating, −120 is silence).
pub const GATE: &[ParamInfo] = &[
    ParamInfo::new("threshold_db", "dB", -120.0, 0.0, -50.0),
    ParamInfo::new("range_db", "dB", -120.0, 0.0, -80.0),
    ParamInfo::new("attack_ms", "ms", 0.01, 1000.0, 1.0).log(),
    ParamInfo::new("hold_ms", "ms", 0.0, 5000.0, 50.0),
    ParamInfo::new("release_ms", "ms", 1.0, 10_000.0, 100.0).log(),
];

/// Brick-wall true-peak limiter insert.
pub const LIMITER: &[ParamInfo] = &[
    ParamInfo::new("ceiling_db", "dB", -40.0, 0.0, -1.0),
    ParamInfo::new("release_ms", "ms", 1.0, 10_000.0, 100.0).log(),
];

/// Convolution reverb (`wet` and `dry` are linear gains).
pub const REVERB: &[ParamInfo] = &[
    ParamInfo::new("wet", "", 0.0, 10.0, 1.0),
    ParamInfo::new("dry", "", 0.0, 10.0, 0.0),
    ParamInfo::new("predelay_ms", "ms", 0.0, 2000.0, 0.0),
    ParamInfo::new("ir_gain_db", "dB", -96.0, 24.0, 0.0),
];

/// Dialogue cleanup.
pub const CLEAN: &[ParamInfo] = &[ParamInfo::new("reduction_db", "dB", 0.0, 60.0, 18.0)];

/// Spectral ducking.
pub const DUCK: &[ParamInfo] = &[
    ParamInfo::new("clarity_db", "dB", 0.0, 30.0, 6.0),
    ParamInfo::new("max_db", "dB", 0.0, 60.0, 9.0),
    ParamInfo::new("attack_ms", "ms", 0.1, 1000.0, 15.0).log(),
    ParamInfo::new("release_ms", "ms", 1.0, 10_000.0, 250.0).log(),
];

/// Multiband spectral dynamics.
pub const MULTIBAND: &[ParamInfo] = &[
    ParamInfo::new("threshold_db", "dB", -80.0, 0.0, -30.0),
    ParamInfo::new("ratio", ":1", 1.0, 100.0, 2.0).log(),
    ParamInfo::new("attack_ms", "ms", 0.1, 1000.0, 10.0).log(),
    ParamInfo::new("release_ms", "ms", 1.0, 10_000.0, 150.0).log(),
    ParamInfo::new("range_db", "dB", 0.0, 60.0, 12.0),
];

/// The default of `name` in `table` (panics on a name the table lacks: a programming error
/// caught by the tests).
pub fn default_of(table: &'static [ParamInfo], name: &str) -> f32 {
    match find_param(table, name) {
        Some(p) => p.default,
        None => panic!("no parameter {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_is_in_its_range_and_names_are_unique() {
        for table in [
            CONSOLE, CLIP, MASTER, EQ_BAND, COMPRESSOR, GATE, LIMITER, REVERB, CLEAN, DUCK,
            MULTIBAND,
        ] {
            for (i, p) in table.iter().enumerate() {
                assert!(p.min < p.max, "{}", p.name);
                assert!(p.accepts(f64::from(p.default)), "{} default", p.name);
                assert!(table[..i].iter().all(|q| q.name != p.name), "{}", p.name);
            }
        }
        // Names resolve to ids and back, in every table.
        for table in [COMPRESSOR, GATE, LIMITER, REVERB, CLEAN, DUCK, MULTIBAND] {
            for p in table {
                let id = ParamId::resolve(table, p.name).unwrap();
                assert_eq!(id.info(table), Some(p));
            }
            assert_eq!(ParamId::resolve(table, "no_such"), None);
        }
        let q3 = ParamId::resolve_band("band3_q").unwrap();
        assert_eq!((q3.index, q3.band), (2, 3));
        assert_eq!(q3.info(EQ_BAND).unwrap().name, "q");
        assert_eq!(ParamId::resolve_band("q"), None);
        assert_eq!(ParamId::resolve_band("band1_ratio"), None);
        // Decades get a logarithmic travel (positive ranges only), levels a linear one.
        for table in [
            EQ_BAND, COMPRESSOR, GATE, LIMITER, REVERB, CLEAN, DUCK, MULTIBAND,
        ] {
            for p in table {
                assert!(p.skew == Skew::Linear || p.min > 0.0, "{}", p.name);
                if p.unit == "dB" {
                    assert_eq!(p.skew, Skew::Linear, "{}", p.name);
                }
            }
        }
        assert_eq!(EQ_BAND[0].skew, Skew::Log);
        assert_eq!(GATE[3].skew, Skew::Linear, "hold_ms starts at 0");
        assert!(GATE[1].check(40.0).is_err());
        assert!(COMPRESSOR[1].check(f64::NAN).is_err());
        assert_eq!(
            COMPRESSOR[1].check(1e9).unwrap_err(),
            "ratio 1000000000: expected 1 to 100 :1"
        );
    }
}
