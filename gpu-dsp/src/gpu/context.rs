//! Adapter selection and the device/queue pair every GPU processor shares.

use super::readback::Poller;
use super::{BufferPool, PipelineCache};
use crate::{DspError, Result};
use wgpu::util::DeviceExt;

/// Which adapters are acceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdapterPolicy {
    /// Only a discrete, integrated or virtual GPU (what `--engine auto` wants).
    HardwareOnly,
    /// Any adapter, software rasterisers such as lavapipe included (`--engine gpu`, tests).
    AllowSoftware,
}

/// What `mixstation gpu` prints about an adapter.
#[derive(Clone, Debug)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub is_software: bool,
    pub max_buffer_size: u64,
    pub max_storage_buffer_binding_size: u32,
    pub max_compute_workgroup_size_x: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub max_compute_workgroups_per_dimension: u32,
    pub max_compute_workgroup_storage_size: u32,
    pub max_storage_buffers_per_shader_stage: u32,
}

/// An opened adapter: device, queue, pipeline cache and buffer pool.
pub struct GpuContext {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: AdapterSummary,
    pipelines: PipelineCache,
    buffers: BufferPool,
    /// Drives the device for readback rings (started with the first one).
    poller: std::sync::OnceLock<Option<Poller>>,
}

fn rank(device_type: wgpu::DeviceType) -> u8 {
    match device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

impl GpuContext {
    /// Lists every adapter wgpu can see, best first.
    pub fn list_adapters() -> Vec<wgpu::AdapterInfo> {
        let instance = wgpu::Instance::new(&wgpu::InstanceDescriptor::from_env_or_default());
        let mut infos: Vec<_> = instance
            .enumerate_adapters(wgpu::Backends::all())
            .iter()
            .map(|a| a.get_info())
            .collect();
        infos.sort_by_key(|i| rank(i.device_type));
        infos
    }

    /// Opens the best adapter the policy allows.
    pub fn new(policy: AdapterPolicy) -> Result<Self> {
        let instance = wgpu::Instance::new(&wgpu::InstanceDescriptor::from_env_or_default());
        let mut adapters = instance.enumerate_adapters(wgpu::Backends::all());
        adapters.sort_by_key(|a| rank(a.get_info().device_type));
        let seen: Vec<String> = adapters
            .iter()
            .map(|a| {
                let i = a.get_info();
                format!("{} ({:?})", i.name, i.device_type)
            })
            .collect();
        let adapter = adapters
            .into_iter()
            .find(|a| {
                policy == AdapterPolicy::AllowSoftware
                    || a.get_info().device_type != wgpu::DeviceType::Cpu
            })
            .ok_or_else(|| {
                DspError::NoAdapter(if seen.is_empty() {
                    "wgpu found no adapter (install a Vulkan driver, e.g. mesa-vulkan-drivers)"
                        .to_string()
                } else {
                    format!(
                        "only software adapters present ({}); pass --engine gpu to use them",
                        seen.join(", ")
                    )
                })
            })?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let required_limits = wgpu::Limits {
            max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
            max_buffer_size: limits.max_buffer_size,
            max_storage_buffers_per_shader_stage: limits.max_storage_buffers_per_shader_stage,
            ..wgpu::Limits::downlevel_defaults()
        };
        // Timestamp queries where the adapter has them (GPU time per block in the benches).
        let required_features = adapter.features() & wgpu::Features::TIMESTAMP_QUERY;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("mixstation"),
            required_limits,
            required_features,
            ..Default::default()
        }))
        .map_err(|e| DspError::Device(e.to_string()))?;
        let summary = AdapterSummary {
            name: info.name.clone(),
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver: format!("{} {}", info.driver, info.driver_info)
                .trim()
                .to_string(),
            is_software: info.device_type == wgpu::DeviceType::Cpu,
            max_buffer_size: limits.max_buffer_size,
            max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
            max_compute_workgroup_size_x: limits.max_compute_workgroup_size_x,
            max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            max_compute_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
            max_compute_workgroup_storage_size: limits.max_compute_workgroup_storage_size,
            max_storage_buffers_per_shader_stage: limits.max_storage_buffers_per_shader_stage,
        };
        Ok(Self {
            device,
            queue,
            info: summary,
            pipelines: PipelineCache::default(),
            buffers: BufferPool::default(),
            poller: std::sync::OnceLock::new(),
        })
    }

    /// The adapter this context runs on.
    pub fn info(&self) -> &AdapterSummary {
        &self.info
    }

    /// True when the device writes GPU timestamps (`wgpu::Features::TIMESTAMP_QUERY`).
    pub fn has_timestamps(&self) -> bool {
        self.device
            .features()
            .contains(wgpu::Features::TIMESTAMP_QUERY)
    }

    /// The wgpu device.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The wgpu queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// Compiled compute pipelines, one per (kernel source, entry point).
    pub fn pipelines(&self) -> &PipelineCache {
        &self.pipelines
    }

    /// Reusable buffers.
    pub fn buffers(&self) -> &BufferPool {
        &self.buffers
    }

    /// Has the poll thread wait for submission `index`, so its map callbacks run as soon as
    /// the GPU finishes it (without one, mappings complete at the next poll).
    pub(crate) fn watch(&self, index: wgpu::SubmissionIndex) {
        let poller = self
            .poller
            .get_or_init(|| Poller::start(self.device.clone()).ok());
        if let Some(p) = poller {
            p.watch(index);
        }
    }

    /// Blocks until the GPU has finished all submitted work.
    pub fn wait_idle(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| DspError::Gpu(e.to_string()))
    }

    /// Copies `len` floats from `src` (which needs `COPY_SRC`) into `out` through `staging`
    /// (a `MAP_READ | COPY_DST` buffer at least as large), waiting for the GPU.
    pub fn read_f32(
        &self,
        src: &wgpu::Buffer,
        staging: &wgpu::Buffer,
        out: &mut [f32],
    ) -> Result<()> {
        let bytes = std::mem::size_of_val(out) as u64;
        let mut encoder = self.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(src, 0, staging, 0, bytes);
        let submission = self.queue.submit(Some(encoder.finish()));
        self.map_and_copy(staging, submission, out)
    }

    /// Maps `staging` (written by the copy in `submission`) and copies it out, waiting for
    /// that submission only (not the whole queue).
    pub fn map_and_copy(
        &self,
        staging: &wgpu::Buffer,
        submission: wgpu::SubmissionIndex,
        out: &mut [f32],
    ) -> Result<()> {
        let bytes = std::mem::size_of_val(out) as u64;
        let slice = staging.slice(..bytes);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(submission),
                timeout: None,
            })
            .map_err(|e| DspError::Gpu(e.to_string()))?;
        rx.recv()
            .map_err(|e| DspError::Gpu(e.to_string()))?
            .map_err(|e| DspError::Gpu(e.to_string()))?;
        out.copy_from_slice(bytemuck::cast_slice(&slice.get_mapped_range()));
        staging.unmap();
        Ok(())
    }

    /// Runs the `scale_add` kernel on known data and returns the largest error against the
    /// CPU result (0 on a correct adapter). Proves the adapter executes WGSL compute.
    pub fn self_test(&self, len: usize) -> Result<f32> {
        #[repr(C)]
        #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
        struct MixParams {
            a: f32,
            b: f32,
            len: u32,
            _pad: u32,
        }
        let x: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
        let y: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos()).collect();
        let params = MixParams {
            a: 0.75,
            b: -1.25,
            len: len as u32,
            _pad: 0,
        };
        let d = &self.device;
        let ubuf = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("self-test params"),
            contents: bytemuck::bytes_of(&params),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let xbuf = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("self-test x"),
            contents: bytemuck::cast_slice(&x),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let ybuf = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("self-test y"),
            contents: bytemuck::cast_slice(&y),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        });
        let staging = self.buffers.take(
            d,
            (len * 4) as u64,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );
        let pipeline = self
            .pipelines
            .get(d, "mix", super::shaders::MIX, "scale_add");
        let bind = d.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("self-test"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: ubuf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: xbuf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: ybuf.as_entire_binding(),
                },
            ],
        });
        let mut encoder = d.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind, &[]);
            pass.dispatch_workgroups(len.div_ceil(256) as u32, 1, 1);
        }
        self.queue.submit(Some(encoder.finish()));
        let mut out = vec![0.0f32; len];
        self.read_f32(&ybuf, &staging, &mut out)?;
        self.buffers.give(staging);
        Ok(out
            .iter()
            .zip(x.iter().zip(&y))
            .map(|(o, (x, y))| (o - (0.75 * x - 1.25 * y)).abs())
            .fold(0.0, f32::max))
    }
}
