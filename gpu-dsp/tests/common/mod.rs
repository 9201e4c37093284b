//! Helpers shared by the gpu-dsp integration tests.
#![allow(dead_code)]

use gpu_dsp::gpu::{AdapterPolicy, GpuContext};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;

pub mod speech;

/// Uniform noise in [-1, 1).
pub fn noise(rng: &mut StdRng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// The test adapter (lavapipe in CI). Under `CI` a missing adapter fails the test; on a
/// developer machine without Vulkan the GPU tests say so and return `None`.
pub fn gpu() -> Option<Arc<GpuContext>> {
    match GpuContext::new(AdapterPolicy::AllowSoftware) {
        Ok(ctx) => Some(Arc::new(ctx)),
        Err(e) => {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set and no GPU adapter is available: {e}");
            }
            eprintln!("SKIPPED GPU TEST (not in CI): {e}");
            None
        }
    }
}

/// Largest |a − b| over the largest |b|.
pub fn rel_err(a: &[f32], b: &[f64]) -> f64 {
    gpu_dsp::conv::reference::relative_error(a, b)
}
