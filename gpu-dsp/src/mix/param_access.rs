//! Inserts' live parameters by [`ParamId`]: which field of a processor's settings each entry
//! of its table ([`super::params`]) is. Names are resolved to ids once (at load, or when a
//! control is built); the engine thread only indexes.

use super::dynamics::{CompressorParams, GateParams};
use super::eq::EqBand;
use super::graph::InsertSpec;
use super::insert::Insert;
use super::params::{self, ParamId, ParamInfo};
use crate::spectral::{DuckParams, MultibandParams};

/// A settings struct's field for a table index.
type Field<P> = fn(&mut P, u8) -> Option<&mut f32>;

fn compressor(p: &mut CompressorParams, index: u8) -> Option<&mut f32> {
    Some(match index {
        0 => &mut p.threshold_db,
        1 => &mut p.ratio,
        2 => &mut p.attack_ms,
        3 => &mut p.release_ms,
        4 => &mut p.knee_db,
        5 => &mut p.makeup_db,
        _ => return None,
    })
}

fn gate(p: &mut GateParams, index: u8) -> Option<&mut f32> {
    Some(match index {
        0 => &mut p.threshold_db,
        1 => &mut p.range_db,
        2 => &mut p.attack_ms,
        3 => &mut p.hold_ms,
        4 => &mut p.release_ms,
        _ => return None,
    })
}

fn duck(p: &mut DuckParams, index: u8) -> Option<&mut f32> {
    Some(match index {
        0 => &mut p.clarity_db,
        1 => &mut p.max_db,
        2 => &mut p.attack_ms,
        3 => &mut p.release_ms,
        _ => return None,
    })
}

fn multiband(p: &mut MultibandParams, index: u8) -> Option<&mut f32> {
    Some(match index {
        0 => &mut p.threshold_db,
        1 => &mut p.ratio,
        2 => &mut p.attack_ms,
        3 => &mut p.release_ms,
        4 => &mut p.range_db,
        _ => return None,
    })
}

fn band(p: &mut EqBand, index: u8) -> Option<&mut f32> {
    Some(match index {
        0 => &mut p.freq,
        1 => &mut p.gain_db,
        2 => &mut p.q,
        _ => return None,
    })
}

/// A pair of values (a limiter's ceiling and release, a reverb's wet and dry).
fn pair(p: &mut (f32, f32), index: u8) -> Option<&mut f32> {
    match index {
        0 => Some(&mut p.0),
        1 => Some(&mut p.1),
        _ => None,
    }
}

fn single(p: &mut f32, index: u8) -> Option<&mut f32> {
    (index == 0).then_some(p)
}

/// `settings` with `field` set to `v`; `None` when the index names no field.
fn with<P>(mut settings: P, field: Field<P>, index: u8, v: f32) -> Option<P> {
    *field(&mut settings, index)? = v;
    Some(settings)
}

fn read<P>(mut settings: P, field: Field<P>, index: u8) -> Option<f32> {
    field(&mut settings, index).map(|f| *f)
}

impl Insert {
    /// The parameter table of `spec`'s processor (an EQ's is per band).
    pub fn table_of(spec: &InsertSpec) -> &'static [ParamInfo] {
        match spec {
            InsertSpec::Eq(_) => params::EQ_BAND,
            InsertSpec::Compressor(_) => params::COMPRESSOR,
            InsertSpec::Gate(_) => params::GATE,
            InsertSpec::Limiter { .. } => params::LIMITER,
            InsertSpec::Reverb { .. } => params::REVERB,
            InsertSpec::Clean { .. } => params::CLEAN,
            InsertSpec::Duck { .. } => params::DUCK,
            InsertSpec::Multiband(_) => params::MULTIBAND,
        }
    }

    /// The id of the live parameter `name` of `spec` (one of [`Insert::param_names`]).
    pub fn resolve(spec: &InsertSpec, name: &str) -> Option<ParamId> {
        let id = match spec {
            InsertSpec::Eq(bands) => {
                Some(ParamId::resolve_band(name)?).filter(|id| usize::from(id.band) < bands.len())
            }
            // A reverb's pre-delay and IR gain rebuild it: not live.
            InsertSpec::Reverb { .. } if !matches!(name, "wet" | "dry") => None,
            _ => ParamId::resolve(Self::table_of(spec), name),
        }?;
        Some(id)
    }

    /// The declaration (range, unit, default) of `spec`'s parameter `id`.
    pub fn info(spec: &InsertSpec, id: ParamId) -> Option<&'static ParamInfo> {
        id.info(Self::table_of(spec))
    }

    /// Sets parameter `id` (from [`Insert::resolve`] on this insert's spec); false when it
    /// has no such live parameter. Never allocates.
    pub fn set(&mut self, id: ParamId, v: f32) -> bool {
        let i = id.index;
        match self {
            Insert::Compressor(c) => with(c.params(), compressor, i, v).map(|p| c.set_params(p)),
            Insert::Gate(g) => with(g.params(), gate, i, v).map(|p| g.set_params(p)),
            Insert::Duck(d) => with(d.params(), duck, i, v).map(|p| d.set_params(p)),
            Insert::Multiband(m) => with(m.params(), multiband, i, v).map(|p| m.set_params(p)),
            Insert::Limiter(l) => with(l.params(), pair, i, v).map(|(c, r)| l.set_params(c, r)),
            Insert::Reverb { reverb, .. } => {
                let p = reverb.params();
                with((p.wet, p.dry), pair, i, v).map(|(w, d)| reverb.set_mix(w, d))
            }
            Insert::Eq(eq) => {
                let k = usize::from(id.band);
                let current = eq.bands().get(k).copied();
                current
                    .and_then(|b| with(b, band, i, v))
                    .map(|b| eq.set_band(k, b))
            }
            Insert::Clean { cleaners, .. } => (i == 0).then(|| {
                cleaners.iter_mut().for_each(|c| c.set_reduction_db(v));
            }),
            Insert::CleanDeferred(cleaners) => (i == 0).then(|| {
                cleaners.iter_mut().for_each(|c| c.set_reduction_db(v));
            }),
        }
        .is_some()
    }

    /// The current value of live parameter `id` (what automation or a control set last).
    pub fn get(&self, id: ParamId) -> Option<f32> {
        let i = id.index;
        match self {
            Insert::Compressor(c) => read(c.params(), compressor, i),
            Insert::Gate(g) => read(g.params(), gate, i),
            Insert::Duck(d) => read(d.params(), duck, i),
            Insert::Multiband(m) => read(m.params(), multiband, i),
            Insert::Limiter(l) => read(l.params(), pair, i),
            Insert::Reverb { reverb, .. } => {
                let p = reverb.params();
                read((p.wet, p.dry), pair, i)
            }
            Insert::Eq(eq) => eq
                .bands()
                .get(usize::from(id.band))
                .and_then(|b| read(*b, band, i)),
            Insert::Clean { cleaners, .. } => {
                let r = cleaners.first().map(|c| c.reduction_db());
                r.and_then(|r| read(r, single, i))
            }
            Insert::CleanDeferred(cleaners) => {
                let r = cleaners.first().map(|c| c.reduction_db());
                r.and_then(|r| read(r, single, i))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mix::insert::tests::every_kind;
    use crate::mix::insert::DspMode;

    /// Walks every table: each live name resolves to an id whose declaration is its table's
    /// entry; setting a value inside the range through the id changes exactly that
    /// parameter (read back through the id, the others unchanged), on the CPU and the GPU
    /// build of every kind.
    #[test]
    fn every_live_parameter_is_set_and_read_by_its_id() {
        for spec in every_kind() {
            for mode in [DspMode::Streaming, DspMode::Gpu] {
                let mut insert = Insert::build(&spec, 2, 48_000.0, 512, mode).unwrap();
                let names = Insert::param_names(&spec);
                assert!(!names.is_empty(), "{spec:?}");
                let ids: Vec<ParamId> = names
                    .iter()
                    .map(|n| Insert::resolve(&spec, n).unwrap_or_else(|| panic!("{n}")))
                    .collect();
                for (n, &id) in names.iter().zip(&ids) {
                    let info = Insert::info(&spec, id).unwrap();
                    assert!(n.ends_with(info.name), "{n} vs {}", info.name);
                    assert!(info.accepts(f64::from(info.default)), "{n}");
                    let before: Vec<f32> = ids.iter().map(|&j| insert.get(j).unwrap()).collect();
                    // A value inside the range and off the current one.
                    let v = info.min + 0.37 * (info.max - info.min);
                    assert!(insert.set(id, v), "{n}");
                    for (&j, b) in ids.iter().zip(&before) {
                        let now = insert.get(j).unwrap();
                        if j == id {
                            assert!(
                                (now - v).abs() <= 1e-3 * v.abs().max(1.0),
                                "{spec:?} {n}: {now} for {v}"
                            );
                        } else {
                            assert_eq!(now, *b, "{n} changed another parameter");
                        }
                    }
                }
                assert_eq!(Insert::resolve(&spec, "no_such_parameter"), None);
            }
        }
        let eq = &every_kind()[0];
        assert_eq!(Insert::resolve(eq, "band2_gain_db"), None, "two bands only");
        let reverb = &every_kind()[4];
        assert_eq!(Insert::resolve(reverb, "predelay_ms"), None, "not live");
    }
}
