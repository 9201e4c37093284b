//! Clip edits: move, trim, split, delete, duplicate, fade and gain. Clips are addressed in
//! timeline order on their track; positions are whole samples at the session rate, so a
//! split leaves two clips that meet on one sample.

use super::command::ClipRef;
use super::document::{
    find_named, names, number, seconds, set_or_remove, set_value, tables_mut, tidy,
};
use super::EditSession;
use anyhow::{anyhow, bail, Result};
use gpu_dsp::mix::FadeShape;
use toml_edit::{ArrayOfTables, Table};

/// A clip's place, in samples at the session rate.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    start: i64,
    offset: i64,
    /// Samples played: the `length` given, or the rest of the file.
    length: i64,
    /// Whether `length` is written in the file (else it runs to the file's end).
    explicit_length: bool,
    fade_in: i64,
    fade_out: i64,
}

/// A table with the keys and values of `table` but no place in the file yet (it is written
/// where it now belongs, not where its original was).
fn fresh_copy(table: &Table) -> Table {
    let mut copy = Table::new();
    for (key, item) in table.iter() {
        copy.insert(key, item.clone());
    }
    copy
}

/// Clip indices of a track in timeline order (by start, then file order).
pub(super) fn timeline_order(clips: &ArrayOfTables) -> Vec<usize> {
    let mut order: Vec<(f64, usize)> = clips
        .iter()
        .enumerate()
        .map(|(i, c)| (number(c, "start").unwrap_or(0.0), i))
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    order.into_iter().map(|(_, i)| i).collect()
}

impl EditSession {
    fn tracks(&mut self) -> Result<&mut ArrayOfTables> {
        tables_mut(self.doc.as_table_mut(), "track")
    }

    /// Index of track `name`.
    pub(super) fn track_index(&mut self, name: &str) -> Result<usize> {
        let tracks = self.tracks()?;
        find_named(tracks, name)
            .ok_or_else(|| anyhow!("there is no track '{name}' (tracks: {})", names(tracks)))
    }

    fn track_mut(&mut self, index: usize) -> Result<&mut Table> {
        Ok(self.tracks()?.get_mut(index).expect("a found track"))
    }

    /// The clips of track `index`, with its `file = …` shorthand made a clip of its own.
    pub(super) fn clips_mut(&mut self, index: usize) -> Result<&mut ArrayOfTables> {
        let track = self.track_mut(index)?;
        if let Some(file) = track.remove("file") {
            let start = track.remove("start");
            let mut clip = Table::new();
            clip.insert("file", file);
            if let Some(start) = start {
                clip.insert("start", start);
            }
            tables_mut(track, "clip")?.push(clip);
        }
        tables_mut(track, "clip")
    }

    /// (track, clip) indices of `r`.
    fn locate(&mut self, r: &ClipRef) -> Result<(usize, usize)> {
        let t = self.track_index(&r.track)?;
        let clips = self.clips_mut(t)?;
        let order = timeline_order(clips);
        let c = *order.get(r.number - 1).ok_or_else(|| {
            anyhow!(
                "track '{}' has {} clip{}; there is no clip {}",
                r.track,
                order.len(),
                if order.len() == 1 { "" } else { "s" },
                r.number
            )
        })?;
        Ok((t, c))
    }

    fn clip_mut(&mut self, (t, c): (usize, usize)) -> Result<&mut Table> {
        Ok(self.clips_mut(t)?.get_mut(c).expect("a located clip"))
    }

    /// Frames of a clip's file at the session rate (`None` when it is offline).
    fn file_frames(&mut self, file: &str) -> Result<Option<i64>> {
        let path = self.session_dir().join(file);
        let info = match self.media.get(&path) {
            Some(info) => *info,
            None => {
                let info = crate::session::media_info(&path)?;
                self.media.insert(path, info);
                info
            }
        };
        let rate = self.rate()?;
        Ok(info.map(|info| {
            (info.frames as f64 * rate / f64::from(info.sample_rate.max(1))).round() as i64
        }))
    }

    fn geometry(&mut self, at: (usize, usize)) -> Result<Geometry> {
        let rate = self.rate()?;
        let clip = self.clip_mut(at)?;
        let samples = |key: &str| (number(clip, key).unwrap_or(0.0) * rate).round() as i64;
        let (start, offset, fade_in, fade_out) = (
            samples("start"),
            samples("offset"),
            samples("fade_in"),
            samples("fade_out"),
        );
        let given = number(clip, "length").map(|l| (l * rate).round() as i64);
        let file = clip
            .get("file")
            .and_then(|f| f.as_str())
            .unwrap_or_default()
            .to_string();
        let available = self.file_frames(&file)?.map(|f| f - offset);
        let length = match (given, available) {
            (Some(l), Some(a)) => l.min(a),
            (Some(l), None) => l,
            (None, Some(a)) => a,
            (None, None) => bail!("the clip's file {file} is offline: its length is unknown"),
        };
        Ok(Geometry {
            start,
            offset,
            length,
            explicit_length: given.is_some(),
            fade_in,
            fade_out,
        })
    }

    /// Writes a clip's position fields (and keeps its fades inside it).
    fn write_geometry(&mut self, at: (usize, usize), g: Geometry) -> Result<()> {
        let rate = self.rate()?;
        let clip = self.clip_mut(at)?;
        set_value(clip, "start", seconds(g.start, rate));
        set_or_remove(clip, "offset", seconds(g.offset, rate), 0.0);
        if g.explicit_length {
            set_value(clip, "length", seconds(g.length, rate));
        } else {
            clip.remove("length");
        }
        set_or_remove(clip, "fade_in", seconds(g.fade_in.min(g.length), rate), 0.0);
        set_or_remove(
            clip,
            "fade_out",
            seconds(g.fade_out.min(g.length), rate),
            0.0,
        );
        for (key, len) in [("fade_in_shape", g.fade_in), ("fade_out_shape", g.fade_out)] {
            if len == 0 {
                clip.remove(key);
            }
        }
        Ok(())
    }

    pub(super) fn move_clip(
        &mut self,
        r: &ClipRef,
        to: Option<&str>,
        by: Option<&str>,
        track: Option<&str>,
    ) -> Result<()> {
        let at = self.locate(r)?;
        let mut g = self.geometry(at)?;
        if let Some(to) = to {
            g.start = self.position(to)?;
        }
        if let Some(by) = by {
            g.start += self.duration(by)?;
        }
        if g.start < 0 {
            bail!(
                "move: clip {r} would start {:.6} s before the session",
                -g.start as f64 / self.rate()?
            );
        }
        self.write_geometry(at, g)?;
        if let Some(other) = track {
            let target = self.track_index(other)?;
            if target != at.0 {
                let copy = fresh_copy(self.clip_mut(at)?);
                self.clips_mut(at.0)?.remove(at.1);
                self.clips_mut(target)?.push(copy);
            }
        }
        Ok(())
    }

    pub(super) fn trim(
        &mut self,
        r: &ClipRef,
        start: Option<&str>,
        end: Option<&str>,
    ) -> Result<()> {
        let at = self.locate(r)?;
        let mut g = self.geometry(at)?;
        let rate = self.rate()?;
        let s = |n: i64| n as f64 / rate;
        let end_now = g.start + g.length;
        if let Some(start) = start {
            let t = self.position(start)?;
            if t >= end_now {
                bail!(
                    "trim: --start {start} is not before the clip's end ({} s)",
                    s(end_now)
                );
            }
            let delta = t - g.start;
            if g.offset + delta < 0 {
                bail!(
                    "trim: the audio of clip {r} begins at {} s on the timeline; the clip cannot start before it",
                    s(g.start - g.offset)
                );
            }
            g.start = t;
            g.offset += delta;
            g.length -= delta;
        }
        if let Some(end) = end {
            let t = self.position(end)?;
            if t <= g.start {
                bail!(
                    "trim: --end {end} is not after the clip's start ({} s)",
                    s(g.start)
                );
            }
            let length = t - g.start;
            let file = self
                .clip_mut(at)?
                .get("file")
                .and_then(|f| f.as_str())
                .unwrap_or_default()
                .to_string();
            if let Some(frames) = self.file_frames(&file)? {
                if length > frames - g.offset {
                    bail!(
                        "trim: the audio of clip {r} ends at {} s on the timeline; the clip cannot end after it",
                        s(g.start + frames - g.offset)
                    );
                }
            }
            g.length = length;
            g.explicit_length = true;
        }
        self.write_geometry(at, g)
    }

    pub(super) fn split(&mut self, r: &ClipRef, at_text: &str) -> Result<()> {
        let at = self.locate(r)?;
        let g = self.geometry(at)?;
        let t = self.position(at_text)?;
        if t <= g.start || t >= g.start + g.length {
            let rate = self.rate()?;
            bail!(
                "split: {at_text} is not inside clip {r} ({} to {} s)",
                g.start as f64 / rate,
                (g.start + g.length) as f64 / rate
            );
        }
        let k = t - g.start;
        let right_copy = fresh_copy(self.clip_mut(at)?);
        let left = Geometry {
            length: k,
            explicit_length: true,
            fade_out: 0,
            ..g
        };
        self.write_geometry(at, left)?;
        let clips = self.clips_mut(at.0)?;
        clips.push(right_copy);
        let right_at = (at.0, clips.len() - 1);
        let right = Geometry {
            start: t,
            offset: g.offset + k,
            length: g.length - k,
            fade_in: 0,
            ..g
        };
        self.write_geometry(right_at, right)
    }

    pub(super) fn delete(&mut self, r: &ClipRef) -> Result<()> {
        let (t, c) = self.locate(r)?;
        self.clips_mut(t)?.remove(c);
        Ok(())
    }

    pub(super) fn duplicate(&mut self, r: &ClipRef, to: &str) -> Result<()> {
        let at = self.locate(r)?;
        let g = self.geometry(at)?;
        let start = self.position(to)?;
        let copy = fresh_copy(self.clip_mut(at)?);
        let clips = self.clips_mut(at.0)?;
        clips.push(copy);
        let new_at = (at.0, clips.len() - 1);
        self.write_geometry(new_at, Geometry { start, ..g })
    }

    pub(super) fn fade(
        &mut self,
        r: &ClipRef,
        fade_in: Option<&str>,
        fade_out: Option<&str>,
        shape: Option<FadeShape>,
    ) -> Result<()> {
        let at = self.locate(r)?;
        let g = self.geometry(at)?;
        let rate = self.rate()?;
        let mut lengths = Vec::new();
        for (key, text) in [("fade_in", fade_in), ("fade_out", fade_out)] {
            if let Some(text) = text {
                let n = self.duration(text)?;
                if n < 0 || n > g.length {
                    bail!(
                        "fade: {key} {text} must be from 0 to the clip's length ({} s)",
                        g.length as f64 / rate
                    );
                }
                lengths.push((key, n));
            }
        }
        let clip = self.clip_mut(at)?;
        for &(key, n) in &lengths {
            set_or_remove(clip, key, seconds(n, rate), 0.0);
        }
        if let Some(shape) = shape {
            // The shape goes to the fades named with it, or to both.
            let keys: Vec<&str> = if lengths.is_empty() {
                vec!["fade_in", "fade_out"]
            } else {
                lengths.iter().map(|(k, _)| *k).collect()
            };
            for key in keys {
                let shape_key = format!("{key}_shape");
                if shape == FadeShape::Linear {
                    clip.remove(&shape_key);
                } else {
                    set_value(clip, &shape_key, shape.name());
                }
            }
        }
        Ok(())
    }

    pub(super) fn clip_gain(&mut self, r: &ClipRef, db: f64) -> Result<()> {
        let at = self.locate(r)?;
        set_or_remove(self.clip_mut(at)?, "gain_db", tidy(db), 0.0);
        Ok(())
    }
}
