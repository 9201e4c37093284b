//! The edit language: one command per line, the same for `mixstation edit`, scripts and the
//! window. Times stay text here; they are read on the session's clock when applied (a
//! script may change the frame rate on the way).

use super::words::split_words;
use anyhow::{anyhow, bail, Result};
use gpu_dsp::mix::FadeShape;
use std::collections::HashMap;
use std::path::PathBuf;

/// A clip by its track and its place (from 1) in timeline order on that track: `dx:2`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClipRef {
    pub track: String,
    pub number: usize,
}

impl ClipRef {
    fn parse(text: &str) -> Result<Self> {
        let bad = || anyhow!("\"{text}\" is not a clip: expected TRACK:N (N from 1)");
        let (track, n) = text.rsplit_once(':').ok_or_else(bad)?;
        let number: usize = n.parse().map_err(|_| bad())?;
        if number == 0 || track.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            track: track.to_string(),
            number,
        })
    }
}

impl std::fmt::Display for ClipRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.track, self.number)
    }
}

/// One edit.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Import {
        file: PathBuf,
        track: String,
        at: Option<String>,
        stem: Option<String>,
        channel: Option<u32>,
    },
    AddTrack {
        name: String,
        stem: Option<String>,
    },
    RemoveTrack(String),
    RenameTrack {
        old: String,
        new: String,
    },
    AddBus(String),
    RemoveBus(String),
    /// Renames a bus and every output, send and send automation that names it.
    RenameBus {
        old: String,
        new: String,
    },
    Move {
        clip: ClipRef,
        to: Option<String>,
        by: Option<String>,
        track: Option<String>,
    },
    Trim {
        clip: ClipRef,
        start: Option<String>,
        end: Option<String>,
    },
    Split {
        clip: ClipRef,
        at: String,
    },
    Delete(ClipRef),
    Duplicate {
        clip: ClipRef,
        to: String,
    },
    Fade {
        clip: ClipRef,
        fade_in: Option<String>,
        fade_out: Option<String>,
        shape: Option<FadeShape>,
    },
    Gain {
        clip: ClipRef,
        db: f64,
    },
    Set {
        path: String,
        value: String,
    },
    Insert {
        target: String,
        kind: String,
        params: Vec<(String, String)>,
    },
    RemoveInsert {
        target: String,
        number: usize,
    },
    /// Moves insert `from` of a track or bus to position `to` (both from 1).
    MoveInsert {
        target: String,
        from: usize,
        to: usize,
    },
    /// Moves a track or bus (`kind`) to position `to` (from 1) in the console order.
    Reorder {
        kind: &'static str,
        name: String,
        to: usize,
    },
    Send {
        from: String,
        bus: String,
        level_db: f64,
    },
    RemoveSend {
        from: String,
        bus: String,
    },
    Route {
        track: String,
        /// `None`: straight into the track's stem.
        bus: Option<String>,
    },
    Marker {
        name: String,
        at: String,
    },
    RemoveMarker(String),
    /// Every clip and impulse response that uses file `old` uses `new` instead.
    Relink {
        old: String,
        new: PathBuf,
    },
    /// An automation lane of a track or bus: a point added, points cleared, or all replaced.
    Automation {
        strip: String,
        param: String,
        edit: super::automation::LaneEdit,
    },
    Undo,
    Redo,
}

/// Every command with its usage, for errors and `--help`.
pub const USAGE: &[(&str, &str)] = &[
    (
        "import",
        "import FILE --track NAME [--at T] [--stem S] [--channel K]",
    ),
    ("add-track", "add-track NAME [--stem S]"),
    ("remove-track", "remove-track NAME"),
    ("rename-track", "rename-track OLD NEW"),
    ("add-bus", "add-bus NAME"),
    ("remove-bus", "remove-bus NAME"),
    ("rename-bus", "rename-bus OLD NEW"),
    ("move-track", "move-track NAME --to N"),
    ("move-bus", "move-bus NAME --to N"),
    ("move", "move TRACK:N (--to T | --by D) [--track OTHER]"),
    ("trim", "trim TRACK:N [--start T] [--end T]"),
    ("split", "split TRACK:N --at T"),
    ("delete", "delete TRACK:N"),
    ("duplicate", "duplicate TRACK:N --to T"),
    (
        "fade",
        "fade TRACK:N [--in S] [--out S] [--shape linear|equal-power|s-curve]",
    ),
    ("gain", "gain TRACK:N DB"),
    ("set", "set PATH VALUE"),
    ("insert", "insert TRACK TYPE [KEY=VALUE]..."),
    ("remove-insert", "remove-insert TRACK N"),
    ("move-insert", "move-insert TRACK FROM TO"),
    ("send", "send TRACK BUS LEVEL_DB"),
    ("remove-send", "remove-send TRACK BUS"),
    ("route", "route TRACK (BUS | --direct)"),
    ("marker", "marker NAME --at T"),
    ("remove-marker", "remove-marker NAME"),
    ("relink", "relink OLD_FILE NEW_FILE"),
    (
        "automation",
        "automation STRIP PARAM (add T VALUE | clear [T0 T1] | points T=VALUE... | shape linear|step)",
    ),
    ("undo", "undo"),
    ("redo", "redo"),
];

/// Positional words and `--flag value` options of one command.
struct Args {
    verb: String,
    positional: Vec<String>,
    options: HashMap<String, String>,
    switches: Vec<String>,
}

impl Args {
    /// Splits `words` (after the verb); `options` take a value, `switches` do not. A word
    /// starting with `--` is an option; `-6` is a value.
    fn parse(verb: &str, words: &[String], options: &[&str], switches: &[&str]) -> Result<Self> {
        let mut args = Args {
            verb: verb.to_string(),
            positional: Vec::new(),
            options: HashMap::new(),
            switches: Vec::new(),
        };
        let mut it = words.iter();
        while let Some(w) = it.next() {
            if let Some(name) = w.strip_prefix("--") {
                let (name, inline) = match name.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (name, None),
                };
                if switches.contains(&name) && inline.is_none() {
                    args.switches.push(name.to_string());
                } else if options.contains(&name) {
                    let value = match inline {
                        Some(v) => v,
                        None => it
                            .next()
                            .cloned()
                            .ok_or_else(|| anyhow!("{verb}: --{name} needs a value"))?,
                    };
                    if args.options.insert(name.to_string(), value).is_some() {
                        bail!("{verb}: --{name} is given twice");
                    }
                } else {
                    let known: Vec<String> = options
                        .iter()
                        .chain(switches)
                        .map(|o| format!("--{o}"))
                        .collect();
                    bail!(
                        "{verb}: unknown option --{name} ({})",
                        if known.is_empty() {
                            "it takes none".to_string()
                        } else {
                            format!("options: {}", known.join(", "))
                        }
                    );
                }
            } else {
                args.positional.push(w.clone());
            }
        }
        Ok(args)
    }

    /// Fails unless there are `min..=max` positional words.
    fn count(&self, min: usize, max: usize) -> Result<()> {
        let n = self.positional.len();
        if n < min || n > max {
            bail!("{}: expected `{}`", self.verb, usage(&self.verb));
        }
        Ok(())
    }

    fn option(&mut self, name: &str) -> Option<String> {
        self.options.remove(name)
    }

    fn required(&mut self, name: &str) -> Result<String> {
        self.option(name).ok_or_else(|| {
            anyhow!(
                "{}: --{name} is required (`{}`)",
                self.verb,
                usage(&self.verb)
            )
        })
    }

    fn clip(&self) -> Result<ClipRef> {
        ClipRef::parse(&self.positional[0]).map_err(|e| anyhow!("{}: {e}", self.verb))
    }
}

fn usage(verb: &str) -> &'static str {
    USAGE
        .iter()
        .find(|(v, _)| *v == verb)
        .map_or("", |(_, u)| u)
}

fn number(verb: &str, what: &str, text: &str) -> Result<f64> {
    let v: f64 = text
        .parse()
        .map_err(|_| anyhow!("{verb}: {what} \"{text}\" is not a number"))?;
    if !v.is_finite() {
        bail!("{verb}: {what} must be a finite number");
    }
    Ok(v)
}

/// Parses one command line; `None` for a blank or comment line.
/// A number from 1 (`what` names it in the error).
fn ordinal(verb: &str, what: &str, text: &str) -> Result<usize> {
    text.parse::<usize>()
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| anyhow!("{verb}: \"{text}\" is not {what} (from 1)"))
}

pub fn parse_command(line: &str) -> Result<Option<Command>> {
    let words = split_words(line)?;
    let Some((verb, rest)) = words.split_first() else {
        return Ok(None);
    };
    let verb = verb.as_str();
    let args = |options: &[&str], switches: &[&str]| Args::parse(verb, rest, options, switches);
    let command = match verb {
        "import" => {
            let mut a = args(&["track", "at", "stem", "channel"], &[])?;
            a.count(1, 1)?;
            let channel = a
                .option("channel")
                .map(|c| {
                    c.parse::<u32>().ok().filter(|&c| c >= 1).ok_or_else(|| {
                        anyhow!("import: --channel {c}: expected a channel number from 1")
                    })
                })
                .transpose()?;
            Command::Import {
                file: PathBuf::from(&a.positional[0]),
                track: a.required("track")?,
                at: a.option("at"),
                stem: a.option("stem"),
                channel,
            }
        }
        "add-track" => {
            let mut a = args(&["stem"], &[])?;
            a.count(1, 1)?;
            Command::AddTrack {
                name: a.positional[0].clone(),
                stem: a.option("stem"),
            }
        }
        "remove-track" => {
            let a = args(&[], &[])?;
            a.count(1, 1)?;
            Command::RemoveTrack(a.positional[0].clone())
        }
        "rename-track" | "rename-bus" => {
            let a = args(&[], &[])?;
            a.count(2, 2)?;
            let (old, new) = (a.positional[0].clone(), a.positional[1].clone());
            if verb == "rename-track" {
                Command::RenameTrack { old, new }
            } else {
                Command::RenameBus { old, new }
            }
        }
        "add-bus" | "remove-bus" => {
            let a = args(&[], &[])?;
            a.count(1, 1)?;
            let name = a.positional[0].clone();
            if verb == "add-bus" {
                Command::AddBus(name)
            } else {
                Command::RemoveBus(name)
            }
        }
        "move" => {
            let mut a = args(&["to", "by", "track"], &[])?;
            a.count(1, 1)?;
            let (to, by, track) = (a.option("to"), a.option("by"), a.option("track"));
            if to.is_some() && by.is_some() {
                bail!("move: give --to or --by, not both");
            }
            if to.is_none() && by.is_none() && track.is_none() {
                bail!("move: expected `{}`", usage("move"));
            }
            Command::Move {
                clip: a.clip()?,
                to,
                by,
                track,
            }
        }
        "trim" => {
            let mut a = args(&["start", "end"], &[])?;
            a.count(1, 1)?;
            let (start, end) = (a.option("start"), a.option("end"));
            if start.is_none() && end.is_none() {
                bail!("trim: give --start T, --end T or both");
            }
            Command::Trim {
                clip: a.clip()?,
                start,
                end,
            }
        }
        "split" => {
            let mut a = args(&["at"], &[])?;
            a.count(1, 1)?;
            Command::Split {
                clip: a.clip()?,
                at: a.required("at")?,
            }
        }
        "delete" => {
            let a = args(&[], &[])?;
            a.count(1, 1)?;
            Command::Delete(a.clip()?)
        }
        "duplicate" => {
            let mut a = args(&["to"], &[])?;
            a.count(1, 1)?;
            Command::Duplicate {
                clip: a.clip()?,
                to: a.required("to")?,
            }
        }
        "fade" => {
            let mut a = args(&["in", "out", "shape"], &[])?;
            a.count(1, 1)?;
            let shape = a
                .option("shape")
                .map(|s| {
                    FadeShape::from_name(&s).ok_or_else(|| {
                        anyhow!("fade: shape \"{s}\": expected linear, equal-power or s-curve")
                    })
                })
                .transpose()?;
            let (fade_in, fade_out) = (a.option("in"), a.option("out"));
            if fade_in.is_none() && fade_out.is_none() && shape.is_none() {
                bail!("fade: expected `{}`", usage("fade"));
            }
            Command::Fade {
                clip: a.clip()?,
                fade_in,
                fade_out,
                shape,
            }
        }
        "gain" => {
            let a = args(&[], &[])?;
            a.count(2, 2)?;
            Command::Gain {
                clip: a.clip()?,
                db: number(verb, "gain", &a.positional[1])?,
            }
        }
        "set" => {
            let a = args(&[], &[])?;
            a.count(2, 2)?;
            Command::Set {
                path: a.positional[0].clone(),
                value: a.positional[1].clone(),
            }
        }
        "insert" => {
            let a = args(&[], &[])?;
            a.count(2, usize::MAX)?;
            let params = a.positional[2..]
                .iter()
                .map(|kv| {
                    kv.split_once('=')
                        .filter(|(k, _)| !k.is_empty())
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .ok_or_else(|| anyhow!("insert: \"{kv}\": expected KEY=VALUE"))
                })
                .collect::<Result<_>>()?;
            Command::Insert {
                target: a.positional[0].clone(),
                kind: a.positional[1].clone(),
                params,
            }
        }
        "remove-insert" => {
            let a = args(&[], &[])?;
            a.count(2, 2)?;
            Command::RemoveInsert {
                target: a.positional[0].clone(),
                number: ordinal(verb, "an insert number", &a.positional[1])?,
            }
        }
        "move-insert" => {
            let a = args(&[], &[])?;
            a.count(3, 3)?;
            Command::MoveInsert {
                target: a.positional[0].clone(),
                from: ordinal(verb, "an insert number", &a.positional[1])?,
                to: ordinal(verb, "an insert number", &a.positional[2])?,
            }
        }
        "move-track" | "move-bus" => {
            let mut a = args(&["to"], &[])?;
            a.count(1, 1)?;
            Command::Reorder {
                kind: if verb == "move-track" { "track" } else { "bus" },
                name: a.positional[0].clone(),
                to: ordinal(verb, "a position", &a.required("to")?)?,
            }
        }
        "send" => {
            let a = args(&[], &[])?;
            a.count(3, 3)?;
            Command::Send {
                from: a.positional[0].clone(),
                bus: a.positional[1].clone(),
                level_db: number(verb, "level", &a.positional[2])?,
            }
        }
        "remove-send" => {
            let a = args(&[], &[])?;
            a.count(2, 2)?;
            Command::RemoveSend {
                from: a.positional[0].clone(),
                bus: a.positional[1].clone(),
            }
        }
        "route" => {
            let a = args(&[], &["direct"])?;
            let direct = !a.switches.is_empty();
            a.count(if direct { 1 } else { 2 }, if direct { 1 } else { 2 })?;
            Command::Route {
                track: a.positional[0].clone(),
                bus: a.positional.get(1).cloned(),
            }
        }
        "marker" => {
            let mut a = args(&["at"], &[])?;
            a.count(1, 1)?;
            Command::Marker {
                name: a.positional[0].clone(),
                at: a.required("at")?,
            }
        }
        "remove-marker" => {
            let a = args(&[], &[])?;
            a.count(1, 1)?;
            Command::RemoveMarker(a.positional[0].clone())
        }
        "relink" => {
            let a = args(&[], &[])?;
            a.count(2, 2)?;
            Command::Relink {
                old: a.positional[0].clone(),
                new: PathBuf::from(&a.positional[1]),
            }
        }
        "automation" => {
            use super::automation::LaneEdit;
            let a = args(&[], &[])?;
            a.count(3, usize::MAX)?;
            let p = &a.positional;
            let edit = match (p[2].as_str(), p.len()) {
                ("add", 5) => LaneEdit::Add {
                    at: p[3].clone(),
                    value: number(verb, "value", &p[4])?,
                },
                ("clear", 3) => LaneEdit::Clear(None),
                ("shape", 4) => LaneEdit::Shape(p[3].clone()),
                ("clear", 5) => LaneEdit::Clear(Some((p[3].clone(), p[4].clone()))),
                ("points", n) if n > 3 => LaneEdit::Points(
                    p[3..]
                        .iter()
                        .map(|w| {
                            let (t, v) = w.rsplit_once('=').ok_or_else(|| {
                                anyhow!("{verb}: \"{w}\" is not a point: expected TIME=VALUE")
                            })?;
                            Ok((t.to_string(), number(verb, "value", v)?))
                        })
                        .collect::<Result<_>>()?,
                ),
                _ => bail!("{verb}: expected `{}`", usage(verb)),
            };
            Command::Automation {
                strip: p[0].clone(),
                param: p[1].clone(),
                edit,
            }
        }
        "undo" | "redo" => {
            args(&[], &[])?.count(0, 0)?;
            if verb == "undo" {
                Command::Undo
            } else {
                Command::Redo
            }
        }
        other => bail!(
            "unknown command \"{other}\" (commands: {})",
            USAGE.iter().map(|(v, _)| *v).collect::<Vec<_>>().join(", ")
        ),
    };
    Ok(Some(command))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Command {
        parse_command(line).unwrap().unwrap()
    }

    fn error(line: &str) -> String {
        format!("{:#}", parse_command(line).unwrap_err())
    }

    #[test]
    fn commands_parse_as_written() {
        assert_eq!(
            parse("move dx:2 --by -0.5"),
            Command::Move {
                clip: ClipRef {
                    track: "dx".into(),
                    number: 2
                },
                to: None,
                by: Some("-0.5".into()),
                track: None
            }
        );
        assert_eq!(
            parse("gain 'Boom 1:3' -6"),
            Command::Gain {
                clip: ClipRef {
                    track: "Boom 1".into(),
                    number: 3
                },
                db: -6.0
            }
        );
        assert!(matches!(
            parse("insert dx eq bands=[{type=\"bell\",freq=3000}]"),
            Command::Insert { params, .. } if params[0].0 == "bands"
        ));
        assert_eq!(
            parse("route music --direct"),
            Command::Route {
                track: "music".into(),
                bus: None
            }
        );
        assert_eq!(parse_command("   # nothing").unwrap(), None);
    }

    #[test]
    fn mistakes_are_named() {
        assert!(error("mvoe dx:1 --to 2").contains("unknown command \"mvoe\""));
        assert!(error("move dx --to 2").contains("expected TRACK:N"));
        assert!(error("move dx:0 --to 2").contains("expected TRACK:N"));
        assert!(error("move dx:1 --too 2").contains("unknown option --too"));
        assert!(error("split dx:1").contains("--at is required"));
        assert!(error("gain dx:1 loud").contains("is not a number"));
        assert!(error("fade dx:1 --shape cubic").contains("expected linear, equal-power"));
        assert!(error("undo 2").contains("expected `undo`"));
        assert!(error("move dx:1 --to").contains("--to needs a value"));
    }
}
