//! `mixstation`: the command-line entry point.

use std::process::ExitCode;

fn main() -> ExitCode {
    quiet_wayland_probe();
    mixstation::cli::run()
}

/// libwayland-client, probed by the Vulkan driver when wgpu enumerates adapters, prints
/// "error: XDG_RUNTIME_DIR is invalid" on headless machines. Give it a private runtime folder
/// so the only error lines a user sees are ours. Runs first, while single-threaded.
fn quiet_wayland_probe() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return;
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "user".to_string());
    let dir = std::env::temp_dir().join(format!("mixstation-runtime-{user}"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    }
    if dir.is_dir() {
        std::env::set_var("XDG_RUNTIME_DIR", &dir);
    }
}
