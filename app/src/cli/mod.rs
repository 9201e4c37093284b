//! The command line: one subcommand per job, each with `--help`.

mod analyze;
mod clean;
mod convolve;
mod convolve_cpu;
mod edit;
mod gpu;
mod masking;
mod play;
mod render;
mod repair;
mod roomtone;
mod spectrogram;

pub use crate::options::{resolve_engine, resolve_engine_choice, Engine, EngineArgs, FormatArgs};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mixstation",
    version,
    about = "GPU-accelerated spectral mixing and analysis workstation"
)]
#[command(
    after_help = "Without a subcommand the workstation window opens the last session, or the demo."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Render a session to a master (and stems) with a loudness report.
    Render(render::RenderArgs),
    /// Play a session through the sound card.
    Play {
        session: PathBuf,
        /// Start position in seconds.
        #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
        from: f64,
        /// Listen for a control surface over OSC (UDP) at HOST:PORT.
        #[arg(long, value_name = "HOST:PORT")]
        osc: Option<String>,
        /// Arm every track for writing automation: touch, latch, write or trim.
        #[arg(long, value_name = "MODE")]
        write: Option<String>,
        /// Output device by name, or `none` to play paced by the clock without one.
        #[arg(long, value_name = "NAME")]
        device: Option<String>,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Loudness (BS.1770-4 / EBU R128), peaks and phase report of a file.
    Analyze(analyze::AnalyzeArgs),
    /// Which tracks cover the dialogue stem, per third-octave band, ranked.
    Masking(masking::MaskingArgs),
    /// Spectrogram of a file as a labelled PNG (and CSV).
    Spectrogram(spectrogram::SpectrogramArgs),
    /// Convolve a file with an impulse response (convolution reverb).
    Convolve(convolve::ConvolveArgs),
    /// Dialogue cleanup: broadband noise and mains hum removal.
    Clean(clean::CleanArgs),
    /// Spectral repair: attenuate, replace or pattern-fill time–frequency regions.
    Repair(repair::RepairArgs),
    /// Room tone: learn a region's noise floor and write any length of it.
    Roomtone(roomtone::RoomToneArgs),
    /// Edit a session with commands (import, move, trim, split, fade, set, …) and save it.
    Edit(edit::EditArgs),
    /// Generate demo material and render it (no input files needed).
    Demo(crate::demo::DemoArgs),
    /// Show the GPU adapter and its compute limits, and run a kernel self-test.
    Gpu {
        /// List every adapter wgpu sees.
        #[arg(long)]
        all: bool,
    },
    /// Open a session in the workstation window.
    Open {
        session: PathBuf,
        /// Play from the start, save a PNG of the window after --after seconds, and exit.
        #[arg(long, value_name = "PNG")]
        screenshot: Option<PathBuf>,
        /// Seconds of playback before the screenshot.
        #[arg(long, default_value_t = 4.0)]
        after: f64,
        /// Pan and zoom the timeline for N frames once the session is drawn, print the
        /// frame times, and exit (how smooth the window is on this machine).
        #[arg(long, value_name = "N")]
        measure_frames: Option<usize>,
        #[command(flatten)]
        engine: EngineArgs,
    },
}

/// Parses the command line, runs it, and turns errors into one line and an exit code.
pub fn run() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    crate::io::install_signal_cleanup();
    // `edit` applies -c commands and --script files in the order they were given.
    let positions = |name: &str| -> Vec<usize> {
        matches
            .subcommand_matches("edit")
            .and_then(|m| m.indices_of(name))
            .map(|i| i.collect())
            .unwrap_or_default()
    };
    let result = match cli.command {
        Some(Command::Convolve(args)) => convolve::run(&args),
        Some(Command::Gpu { all }) => gpu::run(all),
        Some(Command::Demo(args)) => crate::demo::run(&args),
        Some(Command::Render(args)) => render::run(&args),
        Some(Command::Play {
            session,
            from,
            osc,
            write,
            device,
            engine,
        }) => play::run(
            &session,
            from,
            engine.engine,
            &play::Control { osc, write, device },
        ),
        Some(Command::Analyze(args)) => analyze::run(&args),
        Some(Command::Masking(args)) => masking::run(&args),
        Some(Command::Spectrogram(args)) => spectrogram::run(&args),
        Some(Command::Clean(args)) => clean::run(&args),
        Some(Command::Repair(args)) => repair::run(&args),
        Some(Command::Roomtone(args)) => roomtone::run(&args),
        Some(Command::Edit(args)) => edit::run(&args, &positions("commands"), &positions("script")),
        Some(Command::Open {
            session,
            screenshot,
            after,
            measure_frames,
            engine,
        }) => crate::gui::run(crate::gui::Options {
            session: Some(session),
            screenshot,
            after,
            measure_frames,
            engine: engine.engine.into(),
        }),
        None => crate::gui::run(crate::gui::Options::default()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// `outer: inner: innermost` on one line.
fn chain(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}
