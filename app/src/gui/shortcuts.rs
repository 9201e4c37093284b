//! The keyboard and mouse map: one table for the help overlay and the docs, and the keys
//! without Ctrl turned into messages (Ctrl combinations are handled by the shell).

use super::arrange::TimelineMessage;
use super::state::Message;
use iced::keyboard::{key::Named, Key, Modifiers};

/// Every shortcut with what it does, in the order the help overlay lists them.
pub const MAP: &[(&str, &str)] = &[
    ("Space", "play / stop"),
    ("Home", "playhead to the start"),
    ("Ctrl+S", "save (only the edited values change in the file)"),
    ("Ctrl+Z", "undo"),
    ("Ctrl+Shift+Z, Ctrl+Y", "redo"),
    (
        "Ctrl+I",
        "import: type a file's path, Enter (or drop files on the window)",
    ),
    (
        "Ctrl+Shift+I",
        "import dialog: browse folders, see each file's channels and length",
    ),
    (
        "click a clip",
        "select it (click elsewhere: locate the playhead)",
    ),
    (
        "drag a clip",
        "move it, onto another lane too; snaps to clips, markers, playhead",
    ),
    ("Shift while dragging", "no snapping"),
    ("drag a clip's edge", "trim it"),
    ("drag a clip's top corner", "fade in / fade out"),
    (
        "drag the bar at a clip's top middle",
        "clip gain, 0.25 dB per pixel (Shift: finer)",
    ),
    ("S", "split the selected clips under the playhead"),
    ("Delete, Backspace", "delete the selected clips"),
    ("Ctrl+D", "duplicate the selected clips after themselves"),
    (
        "Left, Right",
        "nudge the selected clips 10 ms (Shift: 100 ms)",
    ),
    ("Ctrl+Up, Ctrl+Down", "selected clips' gain ±1 dB"),
    ("M", "marker at the playhead"),
    ("[, ]", "playhead to the previous, next marker"),
    (
        "click a marker's flag",
        "playhead there; rename (Enter) or remove it",
    ),
    (
        "Alt+Up, Alt+Down",
        "taller, shorter lanes (the selected clips' tracks, or all)",
    ),
    ("drag a lane's bottom edge by its name", "resize the lane"),
    (
        "drag one of several selected clips",
        "move them all by the same time",
    ),
    (
        "+, −, 0",
        "zoom in, out (around the playhead), whole session",
    ),
    (
        "Ctrl+wheel, Shift+wheel",
        "zoom around the pointer, scroll in time",
    ),
    ("T", "ruler and clock: minutes:seconds, timecode, samples"),
    (
        "I, O, L",
        "loop start, loop end at the playhead; loop playback on/off",
    ),
    ("Escape", "clear the selection"),
    ("F1", "show or hide this map"),
];

/// The message of a key pressed without Ctrl (Space is handled by the shell).
pub fn plain(key: Key<&str>, modifiers: Modifiers) -> Option<Message> {
    let step = if modifiers.shift() { 0.1 } else { 0.01 };
    match key {
        Key::Named(Named::Home) => Some(Message::Locate(0.0)),
        Key::Named(Named::ArrowUp) if modifiers.alt() => {
            Some(Message::Timeline(TimelineMessage::LaneHeights(1.25)))
        }
        Key::Named(Named::ArrowDown) if modifiers.alt() => {
            Some(Message::Timeline(TimelineMessage::LaneHeights(0.8)))
        }
        Key::Named(Named::Delete | Named::Backspace) => {
            Some(Message::Timeline(TimelineMessage::DeleteClip))
        }
        Key::Named(Named::ArrowLeft) => Some(Message::Timeline(TimelineMessage::Nudge(-step))),
        Key::Named(Named::ArrowRight) => Some(Message::Timeline(TimelineMessage::Nudge(step))),
        Key::Named(Named::F1) => Some(Message::ToggleHelp),
        Key::Named(Named::Escape) => Some(Message::Timeline(TimelineMessage::SelectClip(None))),
        Key::Character(c) => match c.to_lowercase().as_str() {
            "s" => Some(Message::Timeline(TimelineMessage::SplitAtPlayhead)),
            "m" => Some(Message::Timeline(TimelineMessage::AddMarker)),
            "=" | "+" => Some(Message::Timeline(TimelineMessage::ZoomAround(2.0))),
            "-" => Some(Message::Timeline(TimelineMessage::ZoomAround(0.5))),
            "0" => Some(Message::Timeline(TimelineMessage::ZoomFit)),
            "t" => Some(Message::Timeline(TimelineMessage::CycleRuler)),
            "i" => Some(Message::Timeline(TimelineMessage::LoopIn)),
            "o" => Some(Message::Timeline(TimelineMessage::LoopOut)),
            "l" => Some(Message::Timeline(TimelineMessage::ToggleLoop)),
            "?" => Some(Message::ToggleHelp),
            "[" => Some(Message::Timeline(TimelineMessage::JumpMarker(-1))),
            "]" => Some(Message::Timeline(TimelineMessage::JumpMarker(1))),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_messages() {
        let none = Modifiers::empty();
        assert!(matches!(
            plain(Key::Character("s"), none),
            Some(Message::Timeline(TimelineMessage::SplitAtPlayhead))
        ));
        assert!(matches!(
            plain(Key::Named(Named::ArrowLeft), Modifiers::SHIFT),
            Some(Message::Timeline(TimelineMessage::Nudge(d))) if d == -0.1
        ));
        assert!(matches!(
            plain(Key::Named(Named::Delete), none),
            Some(Message::Timeline(TimelineMessage::DeleteClip))
        ));
        assert!(plain(Key::Character("q"), none).is_none());
    }
}
