//! Session files: the TOML format ([`format`]), loading it into a mix description with every
//! error naming its place ([`load`]).

pub mod format;
pub mod groups;
mod load;
pub mod timecode;
mod vca;

pub use load::{
    check_session, load_session, load_session_text, load_session_with_offline, media_info, parse,
    LoadedSession, MediaCache, MediaInfo,
};

/// The file name of a stem: `DX.wav`; characters other than letters, digits, `-` and `_`
/// become `_` (names are checked non-empty when the session loads).
pub fn stem_file_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.wav")
}
