//! Insert parameters the window can edit: read from and written back to the session's
//! insert sections, with the ranges their sliders use. The names are the ones the mix
//! engine's inserts accept live (`Insert::param_names`).

use crate::session::format::InsertSection;
use gpu_dsp::mix::params::{self, find_param, ParamId, ParamInfo};

/// One editable parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    /// The engine's id for it (resolved once here; the engine never matches names).
    pub id: ParamId,
    pub value: f32,
    pub min: f32,
    pub max: f32,
    /// What a double-click returns it to.
    pub default: f32,
    /// How its slider's travel spans the range (from the processor's table).
    pub skew: params::Skew,
}

/// The parameter table of a section's processor.
fn table(section: &InsertSection) -> &'static [ParamInfo] {
    match section {
        InsertSection::Eq { .. } => params::EQ_BAND,
        InsertSection::Compressor { .. } => params::COMPRESSOR,
        InsertSection::Gate { .. } => params::GATE,
        InsertSection::Limiter { .. } => params::LIMITER,
        InsertSection::Reverb { .. } => params::REVERB,
        InsertSection::Clean { .. } => params::CLEAN,
        InsertSection::Duck { .. } => params::DUCK,
        InsertSection::Multiband { .. } => params::MULTIBAND,
    }
}

/// The engine's id of a section's parameter `name`.
fn id_of(section: &InsertSection, name: &str) -> Option<ParamId> {
    match section {
        InsertSection::Eq { .. } => ParamId::resolve_band(name),
        _ => ParamId::resolve(table(section), name),
    }
}

/// Slider range of a parameter: its declared range (`gpu_dsp::mix::params`), with
/// frequencies stopped below Nyquist at `rate` and gains kept to a usable ±24 dB travel.
fn range(section: &InsertSection, name: &str, rate: u32) -> (f32, f32, f32) {
    let field = match section {
        InsertSection::Eq { .. } => name.split_once('_').map_or(name, |(_, f)| f),
        _ => name,
    };
    let Some(p) = find_param(table(section), field) else {
        return (0.0, 1.0, 0.0);
    };
    let (min, max) = match field {
        "freq" => (20.0, (0.45 * rate as f32).min(20_000.0)),
        "gain_db" => (p.min.max(-24.0), p.max.min(24.0)),
        "wet" | "dry" => (0.0, 1.0),
        "ratio" => (1.0, 20.0),
        _ => (p.min, p.max),
    };
    (min, max, p.default.clamp(min, max))
}

fn param(section: &InsertSection, name: &str, value: f32, rate: u32) -> Param {
    let (min, max, default) = range(section, name, rate);
    let field = match section {
        InsertSection::Eq { .. } => name.split_once('_').map_or(name, |(_, f)| f),
        _ => name,
    };
    Param {
        name: name.to_string(),
        id: id_of(section, name).unwrap_or_default(),
        value,
        min,
        max,
        default,
        skew: find_param(table(section), field).map_or_else(Default::default, |p| p.skew),
    }
}

/// The live-editable parameters of an insert: every numeric setting the engine changes
/// while playing (a reverb's pre-delay and IR gain, a multiband's mode and a cleanup's hum
/// are set with `:set`, as they rebuild the insert).
pub fn section_params(s: &InsertSection, rate: u32) -> Vec<Param> {
    slots(&mut s.clone())
        .into_iter()
        .map(|(name, v)| param(s, &name, *v, rate))
        .collect()
}

/// Every live-editable field of a section with its engine parameter name, in slider order
/// (a reverb's pre-delay and IR gain rebuild it, so they are not here).
fn slots(s: &mut InsertSection) -> Vec<(String, &mut f32)> {
    if let InsertSection::Eq { bands, .. } = s {
        return bands
            .iter_mut()
            .enumerate()
            .flat_map(|(k, b)| {
                [
                    (format!("band{k}_freq"), &mut b.freq),
                    (format!("band{k}_gain_db"), &mut b.gain_db),
                    (format!("band{k}_q"), &mut b.q),
                ]
            })
            .collect();
    }
    let reverb = matches!(s, InsertSection::Reverb { .. });
    s.settings_mut()
        .1
        .into_iter()
        .filter(|(name, _)| !reverb || matches!(*name, "wet" | "dry"))
        .map(|(name, v)| (name.to_string(), v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpu_dsp::mix::{Insert, InsertSpec};

    #[test]
    fn parameters_round_trip_through_the_section() {
        let s: InsertSection = toml::from_str(
            "type = \"eq\"\nbands = [{ type = \"bell\", freq = 1000.0, gain_db = 3.0, q = 1.0 }]",
        )
        .unwrap();
        let p = section_params(&s, 48_000);
        assert_eq!(
            p.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["band0_freq", "band0_gain_db", "band0_q"]
        );
        assert_eq!((p[1].value, p[1].min, p[1].max), (3.0, -24.0, 24.0));
        let c: InsertSection = toml::from_str("type = \"compressor\"").unwrap();
        assert_eq!(
            (
                section_params(&c, 48_000)[0].min,
                section_params(&c, 48_000)[0].max
            ),
            (-80.0, 0.0)
        );
        // The gate's range is an attenuation (≤ 0 dB): its slider never switches it off.
        let gate: InsertSection = toml::from_str("type = \"gate\"").unwrap();
        assert_eq!(
            (
                section_params(&gate, 48_000)[1].min,
                section_params(&gate, 48_000)[1].max
            ),
            (-120.0, 0.0)
        );
        // Every parameter the window offers is one the engine changes live.
        for kind in ["compressor", "gate", "limiter", "clean", "multiband"] {
            let s: InsertSection = toml::from_str(&format!("type = \"{kind}\"")).unwrap();
            let names: Vec<String> = section_params(&s, 48_000)
                .into_iter()
                .map(|p| p.name)
                .collect();
            let spec = match kind {
                "compressor" => InsertSpec::Compressor(Default::default()),
                "gate" => InsertSpec::Gate(Default::default()),
                "limiter" => InsertSpec::Limiter {
                    ceiling_db: -1.0,
                    release_ms: 100.0,
                },
                "clean" => InsertSpec::Clean {
                    reduction_db: 18.0,
                    hum: None,
                },
                _ => InsertSpec::Multiband(Default::default()),
            };
            assert_eq!(names, Insert::param_names(&spec), "{kind}");
            // ... and the window's ids are the engine's.
            for p in section_params(&s, 48_000) {
                assert_eq!(
                    Some(p.id),
                    Insert::resolve(&spec, &p.name),
                    "{kind} {}",
                    p.name
                );
            }
        }
        // A band's frequency slider stops below Nyquist.
        assert_eq!(section_params(&s, 16_000)[0].max, 7_200.0);
    }
}
