//! Compute pipelines compiled once per (kernel family, entry point) and shared.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Cache of compute pipelines with automatic bind group layouts.
#[derive(Default)]
pub struct PipelineCache {
    pipelines: Mutex<HashMap<(&'static str, &'static str), Arc<wgpu::ComputePipeline>>>,
}

impl PipelineCache {
    /// Returns the pipeline for `entry` in the WGSL `source` named `family`, compiling it the
    /// first time it is asked for.
    pub fn get(
        &self,
        device: &wgpu::Device,
        family: &'static str,
        source: &'static str,
        entry: &'static str,
    ) -> Arc<wgpu::ComputePipeline> {
        let mut map = self.pipelines.lock().unwrap_or_else(|e| e.into_inner());
        map.entry((family, entry))
            .or_insert_with(|| {
                let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(family),
                    source: wgpu::ShaderSource::Wgsl(source.into()),
                });
                Arc::new(
                    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some(entry),
                        layout: None,
                        module: &module,
                        entry_point: Some(entry),
                        compilation_options: Default::default(),
                        cache: None,
                    }),
                )
            })
            .clone()
    }
}
