//! Session-level edits: importing files, tracks and buses, inserts, sends and routing,
//! markers, and `set` for any value by its path.

use super::clips::timeline_order;
use super::document::{
    exists, find_named, name_of, named_mut, names, set_value, tables, tables_mut, tidy,
};
use super::EditSession;
use anyhow::{anyhow, bail, Result};
use std::path::Path;
use toml_edit::{Array, ArrayOfTables, Item, Table, TableLike, Value};

/// Insert types a session knows.
const INSERT_TYPES: [&str; 8] = [
    "eq",
    "compressor",
    "gate",
    "limiter",
    "reverb",
    "clean",
    "duck",
    "multiband",
];

/// Keys whose values are whole numbers (every other number is written as a float).
const INTEGER_KEYS: [&str; 2] = ["sample_rate", "channel"];

/// Keys whose values are text, even when they look like numbers (`frame_rate = "24"`,
/// `hum = "50"`).
const STRING_KEYS: [&str; 17] = [
    "automation_mode",
    "name",
    "file",
    "stem",
    "output",
    "layout",
    "frame_rate",
    "start_timecode",
    "type",
    "bus",
    "ir",
    "hum",
    "mode",
    "sidechain",
    "param",
    "fade_in_shape",
    "fade_out_shape",
];

/// Keys that hold a time: they also take timecode.
const POSITION_KEYS: [&str; 2] = ["start", "at"];
const DURATION_KEYS: [&str; 4] = ["offset", "length", "fade_in", "fade_out"];

/// A new table `{ name = NAME }`.
fn named_table(name: &str) -> Result<Table> {
    if name.trim().is_empty() {
        bail!("a name cannot be empty");
    }
    let mut t = Table::new();
    t.insert("name", toml_edit::value(name));
    Ok(t)
}

impl EditSession {
    /// A command-line value for `key`: a TOML value (`-3`, `true`, `[1, 2]`), timecode for
    /// times, or else the text as a string (`DX`).
    fn value_for(&self, key: &str, text: &str) -> Result<Value> {
        if STRING_KEYS.contains(&key) {
            // `"quoted"` is TOML text; anything else is taken as written.
            return Ok(match text.parse::<Value>() {
                Ok(Value::String(s)) => Value::from(s.value().as_str()),
                _ => Value::from(text),
            });
        }
        let is_tc = text.contains(':') || text.contains(';');
        if is_tc && POSITION_KEYS.contains(&key) {
            return Ok(Value::from(tidy(self.clock()?.position(text)?)));
        }
        if is_tc && DURATION_KEYS.contains(&key) {
            return Ok(Value::from(tidy(self.clock()?.duration(text)?)));
        }
        let mut value = match text.parse::<Value>() {
            Ok(Value::Integer(i)) if !INTEGER_KEYS.contains(&key) => Value::from(*i.value() as f64),
            Ok(v) => v,
            Err(_) => Value::from(text),
        };
        value.decor_mut().clear();
        Ok(value)
    }

    /// The track or bus called `name` (for inserts and sends).
    fn strip_mut(&mut self, name: &str) -> Result<&mut Table> {
        match (
            exists(&self.doc, "track", name),
            exists(&self.doc, "bus", name),
        ) {
            (true, true) => bail!("both a track and a bus are called '{name}'; rename one"),
            (true, false) => named_mut(&mut self.doc, "track", name),
            (false, true) => named_mut(&mut self.doc, "bus", name),
            (false, false) => {
                let t = tables_mut(self.doc.as_table_mut(), "track")?;
                let tracks = names(t);
                let b = tables_mut(self.doc.as_table_mut(), "bus")?;
                bail!(
                    "there is no track or bus '{name}' (tracks: {tracks}; buses: {})",
                    names(b)
                )
            }
        }
    }

    fn require_bus(&mut self, name: &str) -> Result<()> {
        let buses = tables_mut(self.doc.as_table_mut(), "bus")?;
        if find_named(buses, name).is_none() {
            bail!("there is no bus '{name}' (buses: {})", names(buses));
        }
        Ok(())
    }

    /// Adds track `name` unless it exists; sets its stem when one is given.
    fn ensure_track(&mut self, name: &str, stem: Option<&str>) -> Result<usize> {
        let tracks = tables_mut(self.doc.as_table_mut(), "track")?;
        let index = match find_named(tracks, name) {
            Some(i) => i,
            None => {
                tracks.push(named_table(name)?);
                tracks.len() - 1
            }
        };
        if let Some(stem) = stem {
            set_value(tracks.get_mut(index).expect("found"), "stem", stem);
        }
        Ok(index)
    }

    pub(super) fn import(
        &mut self,
        file: &Path,
        track: &str,
        at: Option<&str>,
        stem: Option<&str>,
        channel: Option<u32>,
    ) -> Result<()> {
        let spelled = self.session_path(file)?;
        let audio = crate::io::AudioFile::open(&self.cwd.join(file))?;
        let channels = audio.channels() as u32;
        if let Some(c) = channel {
            if c > channels {
                bail!(
                    "import: --channel {c}: {} has {channels} channel{}",
                    file.display(),
                    if channels == 1 { "" } else { "s" }
                );
            }
        }
        let rate = self.rate()?;
        let start = match at {
            Some(t) => self.position(t)?,
            None => 0,
        };
        // A polyphonic file (a production recorder's boom and radio mics) becomes one mono
        // track per channel: NAME-1, NAME-2, …
        let parts: Vec<(String, Option<u32>)> = match channel {
            None if channels > 2 => (1..=channels)
                .map(|k| (format!("{track}-{k}"), Some(k)))
                .collect(),
            _ => vec![(track.to_string(), channel)],
        };
        for (name, channel) in parts {
            let t = self.ensure_track(&name, stem)?;
            let mut clip = Table::new();
            clip.insert("file", toml_edit::value(spelled.as_str()));
            clip.insert(
                "start",
                toml_edit::value(super::document::seconds(start, rate)),
            );
            if let Some(c) = channel {
                clip.insert("channel", toml_edit::value(i64::from(c)));
            }
            self.clips_mut(t)?.push(clip);
        }
        Ok(())
    }

    pub(super) fn add_track(&mut self, name: &str, stem: Option<&str>) -> Result<()> {
        if exists(&self.doc, "track", name) {
            bail!("add-track: a track called '{name}' exists");
        }
        self.ensure_track(name, stem).map(|_| ())
    }

    pub(super) fn add_bus(&mut self, name: &str) -> Result<()> {
        if exists(&self.doc, "bus", name) {
            bail!("add-bus: a bus called '{name}' exists");
        }
        tables_mut(self.doc.as_table_mut(), "bus")?.push(named_table(name)?);
        Ok(())
    }

    /// Removes track (or marker) `name`.
    pub(super) fn remove_named(&mut self, kind: &str, name: &str) -> Result<()> {
        let list = tables_mut(self.doc.as_table_mut(), kind)?;
        let i = find_named(list, name)
            .ok_or_else(|| anyhow!("there is no {kind} '{name}' ({kind}s: {})", names(list)))?;
        list.remove(i);
        Ok(())
    }

    pub(super) fn rename(&mut self, kind: &str, old: &str, new: &str) -> Result<()> {
        if exists(&self.doc, kind, new) {
            bail!("a {kind} called '{new}' exists");
        }
        named_table(new)?;
        set_value(named_mut(&mut self.doc, kind, old)?, "name", new);
        Ok(())
    }

    /// Renames bus `old`, and every output, send and `send.OLD` automation lane naming it.
    pub(super) fn rename_bus(&mut self, old: &str, new: &str) -> Result<()> {
        self.rename("bus", old, new)?;
        let (lane_old, lane_new) = (format!("send.{old}"), format!("send.{new}"));
        for kind in ["track", "bus"] {
            for strip in tables_mut(self.doc.as_table_mut(), kind)?.iter_mut() {
                if strip.get("output").and_then(Item::as_str) == Some(old) {
                    set_value(strip, "output", new);
                }
                for (sub, key, from, to) in [
                    ("send", "bus", old, new),
                    ("automation", "param", lane_old.as_str(), lane_new.as_str()),
                ] {
                    if let Some(Item::ArrayOfTables(list)) = strip.get_mut(sub) {
                        for t in list.iter_mut() {
                            if t.get(key).and_then(Item::as_str) == Some(from) {
                                set_value(t, key, to);
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) fn remove_bus(&mut self, name: &str) -> Result<()> {
        self.require_bus(name)?;
        let mut users = Vec::new();
        for kind in ["track", "bus"] {
            for t in tables(self.doc.as_table(), kind) {
                let who = name_of(t).unwrap_or("?");
                if t.get("output").and_then(Item::as_str) == Some(name) {
                    users.push(format!("{kind} '{who}' (output)"));
                }
                if tables(t, "send")
                    .iter()
                    .any(|s| s.get("bus").and_then(Item::as_str) == Some(name))
                {
                    users.push(format!("{kind} '{who}' (send)"));
                }
            }
        }
        if !users.is_empty() {
            bail!(
                "remove-bus: bus '{name}' is used by {}; remove those first",
                users.join(", ")
            );
        }
        self.remove_named("bus", name)
    }

    pub(super) fn insert(
        &mut self,
        target: &str,
        kind: &str,
        params: &[(String, String)],
    ) -> Result<()> {
        if !INSERT_TYPES.contains(&kind) {
            bail!(
                "insert: type \"{kind}\": expected one of {}",
                INSERT_TYPES.join(", ")
            );
        }
        let mut insert = Table::new();
        insert.insert("type", toml_edit::value(kind));
        for (key, text) in params {
            if key == "type" {
                bail!("insert: the type is given before the KEY=VALUE pairs");
            }
            let value = if key == "ir" {
                Value::from(self.session_path(Path::new(text))?)
            } else {
                self.value_for(key, text)?
            };
            insert.insert(key, Item::Value(value));
        }
        if kind == "eq" && !insert.contains_key("bands") {
            insert.insert("bands", Item::Value(Value::Array(Array::new())));
        }
        tables_mut(self.strip_mut(target)?, "insert")?.push(insert);
        Ok(())
    }

    pub(super) fn remove_insert(&mut self, target: &str, number: usize) -> Result<()> {
        let strip = self.strip_mut(target)?;
        let inserts = tables_mut(strip, "insert")?;
        if number > inserts.len() {
            bail!(
                "remove-insert: '{target}' has {} insert{}; there is no insert {number}",
                inserts.len(),
                if inserts.len() == 1 { "" } else { "s" }
            );
        }
        inserts.remove(number - 1);
        // Its automation goes with it; the inserts after it move up one.
        renumber_insert_automation(strip, |n| match n.cmp(&number) {
            std::cmp::Ordering::Less => Some(n),
            std::cmp::Ordering::Equal => None,
            std::cmp::Ordering::Greater => Some(n - 1),
        })
    }

    pub(super) fn move_insert(&mut self, target: &str, from: usize, to: usize) -> Result<()> {
        let strip = self.strip_mut(target)?;
        let inserts = tables_mut(strip, "insert")?;
        let count = inserts.len();
        if from > count || to > count {
            bail!(
                "move-insert: '{target}' has {count} insert{}; there is no insert {}",
                if count == 1 { "" } else { "s" },
                from.max(to)
            );
        }
        reorder(inserts, from - 1, to - 1);
        // Automation follows its insert; those in between shift by one.
        renumber_insert_automation(strip, |n| {
            Some(if n == from {
                to
            } else if from < to && (from + 1..=to).contains(&n) {
                n - 1
            } else if to < from && (to..from).contains(&n) {
                n + 1
            } else {
                n
            })
        })
    }

    /// `move-track` / `move-bus`: `name` to position `to` (from 1) among its kind.
    pub(super) fn reorder(&mut self, kind: &str, name: &str, to: usize) -> Result<()> {
        let list = tables_mut(self.doc.as_table_mut(), kind)?;
        let from = find_named(list, name)
            .ok_or_else(|| anyhow!("there is no {kind} '{name}' ({kind}s: {})", names(list)))?;
        if to > list.len() {
            bail!(
                "move-{kind}: there are {} {kind}s; position {to} is past the last",
                list.len()
            );
        }
        reorder(list, from, to - 1);
        Ok(())
    }

    pub(super) fn send(&mut self, from: &str, bus: &str, level_db: f64) -> Result<()> {
        self.require_bus(bus)?;
        let sends = tables_mut(self.strip_mut(from)?, "send")?;
        let found = sends
            .iter()
            .position(|s| s.get("bus").and_then(Item::as_str) == Some(bus));
        match found {
            Some(i) => set_value(sends.get_mut(i).expect("found"), "level_db", tidy(level_db)),
            None => {
                let mut send = Table::new();
                send.insert("bus", toml_edit::value(bus));
                send.insert("level_db", toml_edit::value(tidy(level_db)));
                sends.push(send);
            }
        }
        Ok(())
    }

    pub(super) fn remove_send(&mut self, from: &str, bus: &str) -> Result<()> {
        let strip = self.strip_mut(from)?;
        let sends = tables_mut(strip, "send")?;
        let i = sends
            .iter()
            .position(|s| s.get("bus").and_then(Item::as_str) == Some(bus))
            .ok_or_else(|| anyhow!("remove-send: '{from}' has no send to '{bus}'"))?;
        sends.remove(i);
        if strip.contains_key("automation") {
            let param = format!("send.{bus}");
            tables_mut(strip, "automation")?
                .retain(|lane| lane.get("param").and_then(Item::as_str) != Some(param.as_str()));
        }
        Ok(())
    }

    pub(super) fn route(&mut self, track: &str, bus: Option<&str>) -> Result<()> {
        if let Some(bus) = bus {
            self.require_bus(bus)?;
        }
        let t = named_mut(&mut self.doc, "track", track)?;
        match bus {
            Some(bus) => set_value(t, "output", bus),
            None => {
                t.remove("output");
            }
        }
        Ok(())
    }

    pub(super) fn marker(&mut self, name: &str, at: &str) -> Result<()> {
        let seconds = tidy(self.clock()?.position(at)?);
        let markers = tables_mut(self.doc.as_table_mut(), "marker")?;
        match find_named(markers, name) {
            Some(i) => set_value(markers.get_mut(i).expect("found"), "at", seconds),
            None => {
                let mut m = named_table(name)?;
                m.insert("at", toml_edit::value(seconds));
                markers.push(m);
            }
        }
        Ok(())
    }

    pub(super) fn relink(&mut self, old: &str, new: &Path) -> Result<()> {
        let spelled = self.session_path(new)?;
        crate::io::AudioFile::open(&self.cwd.join(new))?;
        let dir = self.session_dir();
        let same = |written: &str| written == old || dir.join(written) == dir.join(old);
        let mut count = 0;
        let mut relink_key = |t: &mut dyn TableLike, key: &str| {
            if t.get(key).and_then(Item::as_str).is_some_and(same) {
                set_value(t, key, spelled.as_str());
                count += 1;
            }
        };
        for kind in ["track", "bus"] {
            let list = tables_mut(self.doc.as_table_mut(), kind)?;
            for strip in list.iter_mut() {
                relink_key(strip, "file");
                for sub in ["clip", "insert"] {
                    if let Some(Item::ArrayOfTables(items)) = strip.get_mut(sub) {
                        for t in items.iter_mut() {
                            relink_key(t, if sub == "clip" { "file" } else { "ir" });
                        }
                    }
                }
            }
        }
        if count == 0 {
            bail!("relink: no clip or impulse response uses {old}");
        }
        Ok(())
    }

    pub(super) fn remove_marker(&mut self, name: &str) -> Result<()> {
        self.remove_named("marker", name)
    }

    /// `set PATH VALUE`: `session.frame_rate`, `master.loudness_target`,
    /// `track.NAME.gain_db`, `track.NAME.clip.N.gain_db` (N in timeline order),
    /// `bus.NAME.insert.N.wet`, `track.NAME.send.BUS.level_db`, `marker.NAME.at`,
    /// `track.NAME.insert.N.bands.K.freq`.
    pub(super) fn set(&mut self, path: &str, text: &str) -> Result<()> {
        let owned = split_path(path)?;
        let segments: Vec<&str> = owned.iter().map(String::as_str).collect();
        let key = *segments.last().expect("split gives one");
        let value = self.value_for(key, text)?;
        let bad_start = || {
            anyhow!("set: path {path}: expected session.KEY, master.KEY, track.NAME.…, bus.NAME.…, vca.NAME.KEY or marker.NAME.KEY")
        };
        let (table, rest): (&mut Table, &[&str]) = match segments.as_slice() {
            ["session" | "master", rest @ ..] => {
                let root = self.doc.as_table_mut();
                let t = root
                    .entry(segments[0])
                    .or_insert(Item::Table(Table::new()))
                    .as_table_mut()
                    .ok_or_else(|| anyhow!("set: [{}] is not a table", segments[0]))?;
                (t, rest)
            }
            [kind @ ("track" | "bus" | "marker" | "vca"), name, rest @ ..] => {
                if *kind == "track" && rest.first() == Some(&"clip") {
                    let t = self.track_index(name)?;
                    self.clips_mut(t)?;
                }
                (named_mut(&mut self.doc, kind, name)?, rest)
            }
            _ => return Err(bad_start()),
        };
        set_in(table, rest, value, path)
    }
}

/// Moves table `from` of `list` to index `to`. The moved table and its sub-tables forget
/// their place in the file, so they are written after their new neighbour.
fn reorder(list: &mut ArrayOfTables, from: usize, to: usize) {
    if from == to {
        return;
    }
    let mut table = list.remove(from);
    forget_position(&mut table);
    list.insert(to, table);
}

fn forget_position(table: &mut Table) {
    table.set_position(None);
    for (_, item) in table.iter_mut() {
        match item {
            Item::Table(t) => forget_position(t),
            Item::ArrayOfTables(list) => list.iter_mut().for_each(forget_position),
            _ => {}
        }
    }
}

/// Renumbers a strip's `insert.N.PARAMETER` automation lanes by `map` (`None` removes the
/// lane).
fn renumber_insert_automation(
    strip: &mut Table,
    map: impl Fn(usize) -> Option<usize>,
) -> Result<()> {
    if !strip.contains_key("automation") {
        return Ok(());
    }
    let lanes = tables_mut(strip, "automation")?;
    let mut k = 0;
    while k < lanes.len() {
        let lane = lanes.get_mut(k).expect("in range");
        let param = lane.get("param").and_then(Item::as_str).unwrap_or("");
        let numbered = param.strip_prefix("insert.").and_then(|rest| {
            let (n, name) = rest.split_once('.')?;
            Some((n.parse::<usize>().ok()?, name.to_string()))
        });
        if let Some((n, name)) = numbered {
            match map(n) {
                None => {
                    lanes.remove(k);
                    continue;
                }
                Some(m) if m != n => set_value(lane, "param", format!("insert.{m}.{name}")),
                Some(_) => {}
            }
        }
        k += 1;
    }
    Ok(())
}

/// The parts of a `set` path: split at dots, except inside double quotes
/// (`track."dx.1".gain_db`).
fn split_path(path: &str) -> Result<Vec<String>> {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    for c in path.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(String::new()),
            c => parts.last_mut().expect("one part").push(c),
        }
    }
    if quoted {
        bail!("set: path {path}: a quote is not closed");
    }
    if parts.iter().any(String::is_empty) {
        bail!("set: path {path}: an empty part");
    }
    Ok(parts)
}

/// A name as a `set` path part (quoted when it holds a dot).
pub fn path_part(name: &str) -> String {
    if name.contains('.') || name.contains('"') {
        format!("\"{}\"", name.replace('"', ""))
    } else {
        name.to_string()
    }
}

/// Sets the value at `path` (relative to `table`): keys, list numbers from 1 (clips in
/// timeline order), and sends by their bus name.
fn set_in(table: &mut dyn TableLike, path: &[&str], value: Value, full: &str) -> Result<()> {
    let missing = |what: &str| anyhow!("set {full}: there is no {what}");
    match path {
        [] => bail!("set {full}: name a value inside it (for example {full}.gain_db)"),
        [key] => {
            if let Some(item) = table.get(key) {
                if item.is_table_like() || item.is_array_of_tables() {
                    bail!("set {full}: this is a section, not a value");
                }
            }
            set_value(table, key, value);
            Ok(())
        }
        [key, index, rest @ ..] if table.get(key).is_some_and(Item::is_array_of_tables) => {
            let list = table
                .get_mut(key)
                .and_then(Item::as_array_of_tables_mut)
                .expect("checked");
            let i = match (*key, index.parse::<usize>()) {
                (_, Ok(n)) if n >= 1 => {
                    let order: Vec<usize> = if *key == "clip" {
                        timeline_order(list)
                    } else {
                        (0..list.len()).collect()
                    };
                    *order
                        .get(n - 1)
                        .ok_or_else(|| missing(&format!("{key} {n}")))?
                }
                ("send", _) => list
                    .iter()
                    .position(|s| s.get("bus").and_then(Item::as_str) == Some(*index))
                    .ok_or_else(|| missing(&format!("send to '{index}'")))?,
                _ => bail!("set {full}: `{index}` is not a number from 1"),
            };
            set_in(list.get_mut(i).expect("in range"), rest, value, full)
        }
        [key, index, rest @ ..] if table.get(key).is_some_and(Item::is_array) => {
            let list = table
                .get_mut(key)
                .and_then(Item::as_array_mut)
                .expect("checked");
            let n: usize = index
                .parse()
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(|| anyhow!("set {full}: `{index}` is not a number from 1"))?;
            let element = list
                .get_mut(n - 1)
                .ok_or_else(|| missing(&format!("{key} {n}")))?;
            match (element, rest) {
                (Value::InlineTable(t), _) => set_in(t, rest, value, full),
                (element, []) => {
                    let decor = element.decor().clone();
                    *element = value;
                    *element.decor_mut() = decor;
                    Ok(())
                }
                _ => Err(missing(full)),
            }
        }
        [key, rest @ ..] => match table.get_mut(key) {
            Some(item) if item.is_table_like() => set_in(
                item.as_table_like_mut().expect("checked"),
                rest,
                value,
                full,
            ),
            _ => Err(missing(&format!("`{key}` section here"))),
        },
    }
}
