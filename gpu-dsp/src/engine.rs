//! Choosing between the CPU and GPU backends (`--engine auto|gpu|cpu`).

use crate::gpu::{AdapterPolicy, GpuContext};
use crate::Result;
use std::sync::Arc;

/// What the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EngineChoice {
    /// A real (discrete or integrated) GPU if there is one, otherwise the CPU.
    #[default]
    Auto,
    /// Any wgpu adapter, software adapters such as lavapipe included; fails when none exists.
    Gpu,
    /// The CPU reference implementation.
    Cpu,
}

/// What the program will actually run on.
pub enum ResolvedEngine {
    /// The CPU path; `reason` says why when auto fell back to it.
    Cpu { reason: Option<String> },
    /// The GPU path on this context.
    Gpu(Arc<GpuContext>),
}

impl ResolvedEngine {
    /// Short name for reports: `cpu` or `gpu (<adapter>)`.
    pub fn describe(&self) -> String {
        match self {
            ResolvedEngine::Cpu { .. } => "cpu".to_string(),
            ResolvedEngine::Gpu(ctx) => format!("gpu ({})", ctx.info().name),
        }
    }

    /// The GPU context, `None` for the CPU.
    pub fn gpu(self) -> Option<Arc<GpuContext>> {
        match self {
            ResolvedEngine::Gpu(ctx) => Some(ctx),
            ResolvedEngine::Cpu { .. } => None,
        }
    }
}

impl EngineChoice {
    /// Resolves the choice against the adapters present on this machine.
    ///
    /// `Auto` never fails: without a hardware GPU it returns the CPU with the reason.
    /// `Gpu` fails when no adapter at all can be opened.
    pub fn resolve(self) -> Result<ResolvedEngine> {
        match self {
            EngineChoice::Cpu => Ok(ResolvedEngine::Cpu { reason: None }),
            EngineChoice::Gpu => Ok(ResolvedEngine::Gpu(Arc::new(GpuContext::new(
                AdapterPolicy::AllowSoftware,
            )?))),
            EngineChoice::Auto => match GpuContext::new(AdapterPolicy::HardwareOnly) {
                Ok(ctx) => Ok(ResolvedEngine::Gpu(Arc::new(ctx))),
                Err(e) => Ok(ResolvedEngine::Cpu {
                    reason: Some(format!("{e}; using the CPU engine")),
                }),
            },
        }
    }
}
