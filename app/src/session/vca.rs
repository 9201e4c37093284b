//! VCA masters: a VCA's fader scales the gain of its member tracks; its automation combines
//! with theirs in dB. The loader folds each VCA into its members' fader envelopes (the sum
//! of two piecewise-linear envelopes is piecewise linear on the union of their points, so
//! the fold is exact sample for sample), so the engine plays VCAs as it plays any fader.

use super::format::VcaSection;
use anyhow::{anyhow, bail, Result};
use gpu_dsp::mix::params::{self, find_param};
use gpu_dsp::mix::{envelope_at, Automation, Target, TrackSpec};

/// Folds `vcas` into `tracks` at `rate` Hz: each member's fader (and its envelope) plus the
/// VCA's in dB, and a muted VCA mutes its members.
pub fn apply_vcas(vcas: &[VcaSection], tracks: &mut [TrackSpec], rate: f64) -> Result<()> {
    let gain = find_param(params::CONSOLE, "gain_db")
        .ok_or_else(|| anyhow!("the console declares no gain_db parameter"))?;
    for (i, vca) in vcas.iter().enumerate() {
        let place = format!("[[vca]] #{} '{}'", i + 1, vca.name);
        if vcas[..i].iter().any(|v| v.name == vca.name) {
            bail!("{place}: another VCA has this name");
        }
        gain.check(f64::from(vca.gain_db))
            .map_err(|e| anyhow!("{place}: {e}"))?;
        let mut envelope: Option<Vec<(f64, f64)>> = None;
        for (k, a) in vca.automation.iter().enumerate() {
            let at = format!("{place}, automation #{} ({})", k + 1, a.param);
            if a.param != "gain_db" {
                bail!("{at}: a VCA automates gain_db only");
            }
            for (p, &(_, v)) in a.points.iter().enumerate() {
                gain.check(v)
                    .map_err(|e| anyhow!("{at}: point {}: {e}", p + 1))?;
            }
            let env = Automation::new(&a.points, rate).map_err(|e| anyhow!("{at}: {e}"))?;
            let env = match a.shape {
                super::format::LaneShape::Linear => env,
                super::format::LaneShape::Step => env.stepped(),
            };
            // Combined with the members' in straight lines (a step lane's corners kept).
            envelope = Some(env.linear_points_seconds(rate));
        }
        let mut members = Vec::with_capacity(vca.members.len());
        for name in &vca.members {
            let t = tracks
                .iter()
                .position(|t| &t.name == name)
                .ok_or_else(|| anyhow!("{place}: there is no track '{name}' to be a member"))?;
            if members.contains(&t) {
                bail!("{place}: track '{name}' is listed twice");
            }
            members.push(t);
        }
        for t in members {
            fold(&mut tracks[t], vca.gain_db, envelope.as_deref(), rate)?;
            tracks[t].mute |= vca.mute;
        }
    }
    Ok(())
}

/// Adds a VCA (its fader `gain_db`, or its `envelope` when it has one) to a track's fader.
fn fold(
    track: &mut TrackSpec,
    gain_db: f32,
    envelope: Option<&[(f64, f64)]>,
    rate: f64,
) -> Result<()> {
    let own = track
        .automation
        .iter()
        .find(|(k, _)| *k == Target::GainDb)
        .map(|(_, a)| a.linear_points_seconds(rate));
    if own.is_none() && envelope.is_none() {
        track.gain_db += gain_db;
        return Ok(());
    }
    let own_at = |t: f64| match &own {
        Some(p) => envelope_at(p, t, 0.0),
        None => f64::from(track.gain_db),
    };
    let vca_at = |t: f64| match envelope {
        Some(p) => envelope_at(p, t, 0.0),
        None => f64::from(gain_db),
    };
    let mut times: Vec<f64> = own
        .iter()
        .flatten()
        .chain(envelope.into_iter().flatten())
        .map(|p| p.0)
        .collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    let points: Vec<(f64, f64)> = times.iter().map(|&t| (t, own_at(t) + vca_at(t))).collect();
    let combined = Automation::new(&points, rate).map_err(|e| anyhow!("{}: {e}", track.name))?;
    track.automation.retain(|(k, _)| *k != Target::GainDb);
    track.automation.push((Target::GainDb, combined));
    Ok(())
}
