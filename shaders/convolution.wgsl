// Partitioned convolution: complex multiply-accumulate over frequency-domain delay lines.
//
// One invocation computes one frequency bin of one job. A job is one (convolver instance,
// partition segment, channel route) that fires this block: it sums X[head - p] * H[p] over the
// segment's `count` partitions, where X is the ring of input spectra (the delay line) and H
// the partitioned impulse-response spectra. All jobs of all instances go in one dispatch.

struct Job {
    fdl_base: u32,   // index (in complex values) of slot 0 of this job's delay line
    ir_base: u32,    // index of partition 0 of this job's IR spectra
    count: u32,      // partitions in the segment (delay-line slots)
    bins: u32,       // complex bins per spectrum (partition size + 1)
    head: u32,       // delay-line slot holding the newest spectrum
    out_base: u32,   // where this job's accumulated spectrum goes
    _pad0: u32,
    _pad1: u32,
};

@group(0) @binding(0) var<storage, read> jobs: array<Job>;
@group(0) @binding(1) var<storage, read> fdl: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> ir: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> acc_out: array<vec2<f32>>;

@compute @workgroup_size(64)
fn mac(@builtin(global_invocation_id) gid: vec3<u32>) {
    let job = jobs[gid.y];
    let bin = gid.x;
    if (bin >= job.bins) {
        return;
    }
    var acc = vec2<f32>(0.0, 0.0);
    var slot = job.head;
    for (var p = 0u; p < job.count; p = p + 1u) {
        let x = fdl[job.fdl_base + slot * job.bins + bin];
        let h = ir[job.ir_base + p * job.bins + bin];
        acc = acc + vec2<f32>(x.x * h.x - x.y * h.y, x.x * h.y + x.y * h.x);
        slot = select(slot - 1u, job.count - 1u, slot == 0u);
    }
    acc_out[job.out_base + bin] = acc;
}
