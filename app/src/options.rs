//! Options every front-end shares (the processing engine, the output format) and the one
//! place `--engine` is resolved. Below `demo`, `cli` and `gui`, so none imports another.

use crate::io::ExportFormat;
use clap::{Args, ValueEnum};
use gpu_dsp::EngineChoice;

/// Which backend runs the heavy processing.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum Engine {
    /// A real GPU when present, else the CPU (says why).
    #[default]
    Auto,
    /// Any wgpu adapter, software ones (lavapipe) included.
    Gpu,
    /// The CPU reference implementation.
    Cpu,
}

impl From<Engine> for EngineChoice {
    fn from(e: Engine) -> Self {
        match e {
            Engine::Auto => EngineChoice::Auto,
            Engine::Gpu => EngineChoice::Gpu,
            Engine::Cpu => EngineChoice::Cpu,
        }
    }
}

/// Options shared by every processing command.
#[derive(Args, Clone, Copy, Debug)]
pub struct EngineArgs {
    /// Processing backend.
    #[arg(long, value_enum, default_value_t = Engine::Auto)]
    pub engine: Engine,
}

/// Output sample format.
#[derive(Args, Clone, Copy, Debug)]
pub struct FormatArgs {
    /// WAV sample format of the output: 16-bit, 24-bit PCM or 32-bit float.
    #[arg(long, value_enum, default_value = "24")]
    pub format: ExportFormat,
}

/// Resolves `--engine`, printing one line when auto falls back to the CPU.
pub fn resolve_engine(engine: Engine) -> anyhow::Result<gpu_dsp::ResolvedEngine> {
    resolve_engine_choice(engine.into())
}

/// [`resolve_engine`] for an [`EngineChoice`].
pub fn resolve_engine_choice(choice: EngineChoice) -> anyhow::Result<gpu_dsp::ResolvedEngine> {
    let resolved = choice.resolve()?;
    if let gpu_dsp::ResolvedEngine::Cpu { reason: Some(why) } = &resolved {
        eprintln!("note: {why}");
    }
    Ok(resolved)
}
