//! Session files: the TOML format ([`format`]), loading it into a mix description with every
//! error naming its place ([`load`]).

pub mod format;
mod load;

pub use load::{load_session, parse, LoadedSession};
