//! Insert parameters the window can edit: read from and written back to the session's
//! insert sections, with the ranges their sliders use. The names are the ones the mix
//! engine's inserts accept live (`Insert::param_names`).

use crate::session::format::InsertSection;

/// One editable parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    pub value: f32,
    pub min: f32,
    pub max: f32,
}

/// Slider range for a parameter name (frequencies stop below Nyquist at `rate`).
fn range(name: &str, rate: u32) -> (f32, f32) {
    match name.rsplit('_').next().unwrap_or(name) {
        _ if name.ends_with("threshold_db") => (-80.0, 0.0),
        _ if name.ends_with("range_db") => (0.0, 80.0),
        _ if name.ends_with("makeup_db") => (0.0, 24.0),
        _ if name.ends_with("gain_db") => (-24.0, 24.0),
        _ if name.ends_with("freq") => (20.0, (0.45 * rate as f32).min(20_000.0)),
        "q" => (0.1, 10.0),
        "ratio" => (1.0, 20.0),
        _ if name.ends_with("attack_ms") => (0.1, 200.0),
        _ if name.ends_with("release_ms") => (5.0, 2000.0),
        "wet" | "dry" => (0.0, 1.0),
        _ => (0.0, 1.0),
    }
}

fn param(name: &str, value: f32, rate: u32) -> Param {
    let (min, max) = range(name, rate);
    Param {
        name: name.to_string(),
        value,
        min,
        max,
    }
}

/// The live-editable parameters of an insert (none for clean, duck, multiband, limiter:
/// those are edited in the session file).
pub fn section_params(s: &InsertSection, rate: u32) -> Vec<Param> {
    slots(&mut s.clone())
        .into_iter()
        .map(|(name, v)| param(&name, *v, rate))
        .collect()
}

/// Writes a parameter back into its section; false when the section has no such parameter.
pub fn set_section_param(s: &mut InsertSection, name: &str, value: f32) -> bool {
    slots(s)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| *v = value)
        .is_some()
}

/// Owned names for `(name, field)` pairs.
fn named<'a>(pairs: Vec<(&str, &'a mut f32)>) -> Vec<(String, &'a mut f32)> {
    pairs.into_iter().map(|(n, v)| (n.to_string(), v)).collect()
}

/// Every live-editable field of a section with its engine parameter name, in slider order.
fn slots(s: &mut InsertSection) -> Vec<(String, &mut f32)> {
    match s {
        InsertSection::Eq { bands } => bands
            .iter_mut()
            .enumerate()
            .flat_map(|(k, b)| {
                [
                    (format!("band{k}_freq"), &mut b.freq),
                    (format!("band{k}_gain_db"), &mut b.gain_db),
                    (format!("band{k}_q"), &mut b.q),
                ]
            })
            .collect(),
        InsertSection::Compressor {
            threshold_db,
            ratio,
            attack_ms,
            release_ms,
            makeup_db,
            ..
        } => named(vec![
            ("threshold_db", threshold_db),
            ("ratio", ratio),
            ("attack_ms", attack_ms),
            ("release_ms", release_ms),
            ("makeup_db", makeup_db),
        ]),
        InsertSection::Gate {
            threshold_db,
            range_db,
            ..
        } => named(vec![("threshold_db", threshold_db), ("range_db", range_db)]),
        InsertSection::Reverb { wet, dry, .. } => named(vec![("wet", wet), ("dry", dry)]),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_round_trip_through_the_section() {
        let mut s: InsertSection = toml::from_str(
            "type = \"eq\"\nbands = [{ type = \"bell\", freq = 1000.0, gain_db = 3.0, q = 1.0 }]",
        )
        .unwrap();
        let p = section_params(&s, 48_000);
        assert_eq!(
            p.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["band0_freq", "band0_gain_db", "band0_q"]
        );
        assert_eq!((p[1].value, p[1].min, p[1].max), (3.0, -24.0, 24.0));
        assert!(set_section_param(&mut s, "band0_gain_db", -6.0));
        assert!(!set_section_param(&mut s, "band1_gain_db", -6.0));
        assert_eq!(section_params(&s, 48_000)[1].value, -6.0);
        let mut c: InsertSection = toml::from_str("type = \"compressor\"").unwrap();
        assert!(set_section_param(&mut c, "ratio", 4.0));
        assert_eq!(section_params(&c, 48_000)[1].value, 4.0);
        assert_eq!(
            (
                section_params(&c, 48_000)[0].min,
                section_params(&c, 48_000)[0].max
            ),
            (-80.0, 0.0)
        );
        let clean: InsertSection = toml::from_str("type = \"clean\"").unwrap();
        assert!(section_params(&clean, 48_000).is_empty());
        // A band's frequency slider stops below Nyquist.
        assert_eq!(section_params(&s, 16_000)[0].max, 7_200.0);
    }
}
