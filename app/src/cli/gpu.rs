//! `mixstation gpu`: the adapter, its compute limits and a kernel self-test.

use anyhow::{bail, Result};
use gpu_dsp::gpu::{AdapterPolicy, GpuContext};

pub fn run(all: bool) -> Result<()> {
    if all {
        let adapters = GpuContext::list_adapters();
        if adapters.is_empty() {
            bail!("wgpu found no adapter (install a Vulkan driver, e.g. mesa-vulkan-drivers)");
        }
        for a in adapters {
            say!(
                "{} | {:?} | {:?} | {} {}",
                a.name,
                a.backend,
                a.device_type,
                a.driver,
                a.driver_info
            );
        }
        return Ok(());
    }
    let ctx = GpuContext::new(AdapterPolicy::AllowSoftware)?;
    let i = ctx.info();
    say!("adapter:      {}", i.name);
    say!("backend:      {}", i.backend);
    say!(
        "device type:  {}{}",
        i.device_type,
        if i.is_software {
            " (software: --engine auto will not use it)"
        } else {
            ""
        }
    );
    say!("driver:       {}", i.driver);
    say!("limits:");
    say!(
        "  max buffer size                 {} MiB",
        i.max_buffer_size >> 20
    );
    say!(
        "  max storage buffer binding      {} MiB",
        i.max_storage_buffer_binding_size >> 20
    );
    say!(
        "  storage buffers per stage       {}",
        i.max_storage_buffers_per_shader_stage
    );
    say!(
        "  workgroup size x                {}",
        i.max_compute_workgroup_size_x
    );
    say!(
        "  invocations per workgroup       {}",
        i.max_compute_invocations_per_workgroup
    );
    say!(
        "  workgroups per dimension        {}",
        i.max_compute_workgroups_per_dimension
    );
    say!(
        "  workgroup shared memory         {} KiB",
        i.max_compute_workgroup_storage_size >> 10
    );
    let err = ctx.self_test(1 << 16)?;
    if err > 1e-6 {
        bail!("self-test: the adapter computed wrong numbers (max error {err:e})");
    }
    say!("self-test:    scale_add kernel on 65536 values, max error {err:e}: ok");
    Ok(())
}
