//! Work files that must not outlive the run: temporary outputs and render work folders are
//! registered here. SIGINT, SIGTERM and SIGHUP remove them before the process exits; files
//! left by a run that was killed outright (SIGKILL, power loss) are removed by the next run
//! that writes into the same folder, once their owning process is gone and nothing has
//! touched them for ten minutes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

static REGISTERED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A flag the next interrupt sets instead of ending the process (see [`interrupt_stops`]).
static STOP_INSTEAD: Mutex<Option<Arc<AtomicBool>>> = Mutex::new(None);

/// While `flag` is given, the next SIGINT, SIGTERM or SIGHUP sets it instead of ending the
/// process (a playback that saves what it wrote, then ends); a second one ends it as usual.
/// `None` restores the usual handling.
pub fn interrupt_stops(flag: Option<Arc<AtomicBool>>) {
    if let Ok(mut s) = STOP_INSTEAD.lock() {
        *s = flag;
    }
}

/// Marks `path` (a file or a folder) for removal if the process is interrupted.
pub fn register(path: &Path) {
    if let Ok(mut r) = REGISTERED.lock() {
        r.push(path.to_path_buf());
    }
}

/// `path` is no longer ours to remove (renamed into place, or already removed).
pub fn forget(path: &Path) {
    if let Ok(mut r) = REGISTERED.lock() {
        r.retain(|p| p != path);
    }
}

/// Removes every registered work file now.
pub fn remove_registered() {
    let paths = match REGISTERED.lock() {
        Ok(mut r) => std::mem::take(&mut *r),
        Err(_) => return,
    };
    for p in paths {
        if p.is_dir() {
            let _ = std::fs::remove_dir_all(&p);
        } else {
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// Installs the handler: on SIGINT, SIGTERM or SIGHUP, remove the work files, say so, and
/// exit with 128 + the signal number (130 for Ctrl-C), as shells expect.
pub fn install_signal_cleanup() {
    #[cfg(unix)]
    {
        // A file-size limit (`ulimit -f`) makes writes fail with an error we report and
        // clean up after, instead of killing the process with SIGXFSZ.
        // SAFETY: setting a signal's disposition to "ignore" has no preconditions.
        unsafe {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        }
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        std::thread::spawn(move || {
            for sig in signals.forever() {
                let graceful = STOP_INSTEAD.lock().ok().and_then(|mut s| s.take());
                if let Some(flag) = graceful {
                    flag.store(true, Ordering::Relaxed);
                    continue;
                }
                remove_registered();
                eprintln!("interrupted: no output written");
                std::process::exit(128 + sig);
            }
        });
    }
}

/// The process id in a work file name `.mixstation-<pid>-…` or `.mixstation-render-<pid>-…`.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(".mixstation-")?;
    let rest = rest.strip_prefix("render-").unwrap_or(rest);
    rest.split('-').next()?.parse().ok()
}

/// Whether process `pid` is running on this machine.
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(target_os = "linux")]
    {
        Path::new("/proc").join(pid.to_string()).exists()
    }
    #[cfg(not(target_os = "linux"))]
    {
        true
    }
}

/// How long a dead run's work file must have been untouched before it is removed: a run in
/// another PID namespace or on another host sharing the folder looks dead here, but it keeps
/// writing its files.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// The latest modification time of a file, or of a folder and the files in it.
fn last_touched(path: &Path, meta: &std::fs::Metadata) -> Option<std::time::SystemTime> {
    let own = meta.modified().ok();
    if !meta.is_dir() {
        return own;
    }
    std::fs::read_dir(path)
        .ok()?
        .flatten()
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .chain(own)
        .max()
}

/// Removes work files in `folder` whose owning process is gone and that nothing has touched
/// for [`STALE_AFTER`].
pub fn sweep_stale(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(owner_pid) else {
            continue;
        };
        if alive(pid) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let idle = last_touched(&path, &meta)
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|d| d >= STALE_AFTER);
        if !idle {
            continue;
        }
        if meta.is_dir() {
            let _ = std::fs::remove_dir_all(&path);
        } else if meta.is_file() {
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_file_names_carry_their_owner() {
        assert_eq!(owner_pid(".mixstation-1234-abc.tmp"), Some(1234));
        assert_eq!(owner_pid(".mixstation-render-99-x1"), Some(99));
        assert_eq!(owner_pid(".mixstation-5-backup-0"), Some(5));
        assert_eq!(owner_pid("mixstation-1-x"), None);
        assert_eq!(owner_pid(".mixstation-probe"), None);
    }
}
