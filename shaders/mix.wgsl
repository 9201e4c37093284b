// Scale and accumulate: y[i] = a * x[i] + b * y[i].

struct MixParams {
    a: f32,
    b: f32,
    len: u32,
    _pad: u32,
};

@group(0) @binding(0) var<uniform> params: MixParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn scale_add(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.len) {
        return;
    }
    y[i] = params.a * x[i] + params.b * y[i];
}
