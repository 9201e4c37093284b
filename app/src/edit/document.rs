//! The session as an editable TOML document (`toml_edit`): finding tracks, buses, clips and
//! markers by name, and writing values so that the user's comments and layout stay and
//! numbers are written at a sensible precision.

use anyhow::{anyhow, bail, Result};
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, TableLike, Value};

/// The array of tables `key` of `table` (`[[track]]`, `[[track.clip]]`), created when
/// missing; an inline array of tables is turned into one.
pub fn tables_mut<'a>(table: &'a mut Table, key: &str) -> Result<&'a mut ArrayOfTables> {
    let item = table
        .entry(key)
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
    if !item.is_array_of_tables() {
        let taken = std::mem::take(item);
        *item = taken
            .into_array_of_tables()
            .map(Item::ArrayOfTables)
            .map_err(|_| anyhow!("`{key}` is not a list of tables"))?;
    }
    Ok(item.as_array_of_tables_mut().expect("made above"))
}

/// The tables of `key` (empty when missing).
pub fn tables<'a>(table: &'a Table, key: &str) -> Vec<&'a Table> {
    match table.get(key) {
        Some(Item::ArrayOfTables(a)) => a.iter().collect(),
        _ => Vec::new(),
    }
}

/// The `name` of a table.
pub fn name_of(table: &dyn TableLike) -> Option<&str> {
    table.get("name").and_then(Item::as_str)
}

/// Index of the table named `name` in `list`.
pub fn find_named(list: &ArrayOfTables, name: &str) -> Option<usize> {
    list.iter().position(|t| name_of(t) == Some(name))
}

/// The names in `list`, for error messages.
pub fn names(list: &ArrayOfTables) -> String {
    let names: Vec<&str> = list.iter().filter_map(|t| name_of(t)).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// The track or bus `name` (`kind` is `track` or `bus`).
pub fn named_mut<'a>(doc: &'a mut DocumentMut, kind: &str, name: &str) -> Result<&'a mut Table> {
    let list = tables_mut(doc.as_table_mut(), kind)?;
    match find_named(list, name) {
        Some(i) => Ok(list.get_mut(i).expect("found")),
        None => bail!("there is no {kind} '{name}' ({kind}s: {})", names(list)),
    }
}

/// Whether a track or bus called `name` exists.
pub fn exists(doc: &DocumentMut, kind: &str, name: &str) -> bool {
    tables(doc.as_table(), kind)
        .iter()
        .any(|t| name_of(*t) == Some(name))
}

/// A number (float or integer) under `key`.
pub fn number(table: &dyn TableLike, key: &str) -> Option<f64> {
    let v = table.get(key)?.as_value()?;
    v.as_float().or_else(|| v.as_integer().map(|i| i as f64))
}

/// Sets `key` to `value`, keeping the comment and spacing around an existing value.
pub fn set_value(table: &mut dyn TableLike, key: &str, value: impl Into<Value>) {
    let mut value = value.into();
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) => {
            let decor = old.decor().clone();
            *value.decor_mut() = decor;
            *old = value;
        }
        None => {
            table.insert(key, Item::Value(value));
        }
    }
}

/// Sets `key` to `value`, or removes it when `value` is the default (a tidy file).
pub fn set_or_remove(table: &mut dyn TableLike, key: &str, value: f64, default: f64) {
    if value == default {
        table.remove(key);
    } else {
        set_value(table, key, tidy(value));
    }
}

/// `value` rounded to 9 decimals (nanoseconds, below a sample at any rate; dB steps far
/// below hearing), so files hold `1.25`, not `1.2499999999999998`.
pub fn tidy(value: f64) -> f64 {
    let text = format!("{value:.9}");
    let v: f64 = text.parse().unwrap_or(value);
    if v == 0.0 {
        0.0
    } else {
        v
    }
}

/// Seconds of `samples` at `rate`, tidied.
pub fn seconds(samples: i64, rate: f64) -> f64 {
    tidy(samples as f64 / rate)
}

/// The session's sample rate.
pub fn sample_rate(doc: &DocumentMut) -> Result<f64> {
    doc.get("session")
        .and_then(Item::as_table_like)
        .and_then(|t| number(t, "sample_rate"))
        .filter(|r| *r > 0.0)
        .ok_or_else(|| anyhow!("[session] has no sample_rate"))
}

/// A string field of `[session]`.
pub fn session_str<'a>(doc: &'a DocumentMut, key: &str) -> Option<&'a str> {
    doc.get("session")?.as_table_like()?.get(key)?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_comments() {
        let mut doc: DocumentMut = "[[track]]\nname = \"a\"\ngain_db = -4.0   # quiet\n"
            .parse()
            .unwrap();
        let t = named_mut(&mut doc, "track", "a").unwrap();
        set_value(t, "gain_db", -3.5);
        set_or_remove(t, "pan", 0.25, 0.0);
        assert_eq!(
            doc.to_string(),
            "[[track]]\nname = \"a\"\ngain_db = -3.5   # quiet\npan = 0.25\n"
        );
        assert!(named_mut(&mut doc, "track", "b")
            .unwrap_err()
            .to_string()
            .contains("tracks: a"));
        assert_eq!(tidy(0.1 + 0.2), 0.3);
        assert_eq!(seconds(72_000, 48_000.0), 1.5);
    }
}
