//! `automation STRIP PARAM …`: editing a track's or bus's automation lane point by point, or
//! replacing it whole (a written pass saved as one undo step).

use super::document::{exists, named_mut, tables_mut, tidy};
use super::EditSession;
use anyhow::{bail, Result};
use toml_edit::{Array, Item, Value};

/// What an `automation` command does to a lane.
#[derive(Clone, Debug, PartialEq)]
pub enum LaneEdit {
    /// A point at a time (a point already there takes the new value).
    Add { at: String, value: f64 },
    /// The points from one time to another, inclusive; the whole lane without a range.
    Clear(Option<(String, String)>),
    /// The lane's points, replaced (times increasing).
    Points(Vec<(String, f64)>),
    /// How the lane goes from point to point: `linear` or `step` (held to the next point).
    Shape(String),
}

impl EditSession {
    /// Applies `edit` to the automation lane `param` of the track or bus `strip` (a lane
    /// left without points is removed). The session check that follows validates the
    /// parameter and its values.
    pub(super) fn automation(&mut self, strip: &str, param: &str, edit: &LaneEdit) -> Result<()> {
        let seconds = |text: &str| self.clock().and_then(|c| c.position(text));
        let kind = if exists(&self.doc, "track", strip) {
            "track"
        } else if exists(&self.doc, "bus", strip) {
            "bus"
        } else {
            bail!("automation: there is no track or bus '{strip}'");
        };
        // The new points, before the document is touched.
        let edit = match edit {
            LaneEdit::Add { at, value } => Resolved::Add(seconds(at)?, *value),
            LaneEdit::Clear(None) => Resolved::Clear(f64::NEG_INFINITY, f64::INFINITY),
            LaneEdit::Clear(Some((a, b))) => {
                let (a, b) = (seconds(a)?, seconds(b)?);
                if b < a {
                    bail!("automation: clear from {a} s to {b} s: the end is before the start");
                }
                Resolved::Clear(a, b)
            }
            LaneEdit::Shape(shape) => {
                if shape != "linear" && shape != "step" {
                    bail!("automation: shape '{shape}': expected linear or step");
                }
                Resolved::Shape(shape == "step")
            }
            LaneEdit::Points(list) => {
                let mut points = Vec::with_capacity(list.len());
                for (at, v) in list {
                    let t = seconds(at)?;
                    if points.last().is_some_and(|&(p, _)| t <= p) {
                        bail!("automation: point at {at} is not later than the one before it");
                    }
                    points.push((t, *v));
                }
                Resolved::Replace(points)
            }
        };
        let table = named_mut(&mut self.doc, kind, strip)?;
        let lanes = tables_mut(table, "automation")?;
        let index = lanes
            .iter()
            .position(|l| l.get("param").and_then(Item::as_str) == Some(param));
        let mut points: Vec<(f64, f64)> = index
            .and_then(|i| lanes.get(i))
            .map(|lane| read_points(lane.get("points")))
            .unwrap_or_default();
        if let Resolved::Shape(step) = edit {
            let Some(lane) = index.and_then(|i| lanes.get_mut(i)) else {
                bail!("automation: '{strip}' has no {param} lane to shape");
            };
            // Linear is the default: the key is written only for a step lane.
            if step {
                lane.insert("shape", toml_edit::value("step"));
            } else {
                lane.remove("shape");
            }
            return Ok(());
        }
        match edit {
            Resolved::Shape(_) => {}
            Resolved::Add(t, v) => {
                points.retain(|p| (p.0 - t).abs() > 1e-9);
                let at = points.partition_point(|p| p.0 < t);
                points.insert(at, (t, v));
            }
            Resolved::Clear(a, b) => points.retain(|p| p.0 < a - 1e-9 || p.0 > b + 1e-9),
            Resolved::Replace(new) => points = new,
        }
        match (index, points.is_empty()) {
            (Some(i), true) => {
                lanes.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => {
                if let Some(lane) = lanes.get_mut(i) {
                    lane.insert("points", Item::Value(write_points(&points)));
                }
            }
            (None, false) => {
                let mut lane = toml_edit::Table::new();
                lane.insert("param", toml_edit::value(param));
                lane.insert("points", Item::Value(write_points(&points)));
                lanes.push(lane);
            }
        }
        if lanes.is_empty() {
            table.remove("automation");
        }
        Ok(())
    }
}

/// An edit with its times read on the session's clock.
enum Resolved {
    Shape(bool),
    Add(f64, f64),
    Clear(f64, f64),
    Replace(Vec<(f64, f64)>),
}

/// `[[t, v], …]` as numbers (what is not a pair of numbers is skipped; the check that
/// follows reports a malformed lane).
fn read_points(item: Option<&Item>) -> Vec<(f64, f64)> {
    let number = |v: &Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
    item.and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    let pair = p.as_array()?;
                    Some((number(pair.get(0)?)?, number(pair.get(1)?)?))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Points as an inline array of `[seconds, value]` pairs at a sensible precision.
fn write_points(points: &[(f64, f64)]) -> Value {
    let mut outer = Array::new();
    for &(t, v) in points {
        let mut pair = Array::new();
        pair.push(tidy(t));
        pair.push(tidy(v));
        outer.push(pair);
    }
    Value::Array(outer)
}
