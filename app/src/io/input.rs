//! Input paths: refused before they are opened unless they are regular files, so a FIFO, a
//! device or a folder never blocks or floods a command.

use anyhow::{bail, Result};
use std::path::Path;

/// What kind of thing a non-regular path is, for the error message.
pub(crate) fn describe_kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

/// Checks that `path` names a regular, non-empty file (symlinks followed) and returns its
/// length. Errors say what is wrong without the file name (callers add it).
pub fn check_input_file(path: &Path) -> Result<u64> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!("file not found"),
        Err(e) => bail!("cannot open: {e}"),
    };
    if meta.is_dir() {
        bail!("is a folder, not a file");
    }
    if !meta.is_file() {
        bail!("is {}, not a regular file", describe_kind(&meta));
    }
    if meta.len() == 0 {
        bail!("file is empty (0 bytes)");
    }
    Ok(meta.len())
}
