// Short-time Fourier transform for spectrograms: window and load frames, radix-2 Stockham
// FFT stages (one dispatch per stage, every frame of the batch at once), and power in dBFS
// averaged over channels.
//
// Items are (channel, frame) pairs, channel-major: item = channel * frames + frame.

struct Params {
    n: u32,          // FFT size (power of two)
    ns: u32,         // size of the sub-transforms already done (stage s: 2^s)
    items: u32,      // channels * frames in this batch
    hop: u32,        // samples between frames
    span: u32,       // samples per channel uploaded for this batch
    frames: u32,     // frames in this batch
    channels: u32,
    bins: u32,       // n / 2 + 1
    scale: f32,      // 2 / sum(window): a full-scale sine reads 0 dBFS
    floor_db: f32,   // lowest value written
    _pad0: u32,
    _pad1: u32,
};

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> samples: array<f32>;
@group(0) @binding(2) var<storage, read> window: array<f32>;
@group(0) @binding(3) var<storage, read> twiddle: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> a: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> b: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> power_db: array<f32>;
// [first, end) bins of each band (band_power only).
@group(0) @binding(7) var<storage, read> band_ranges: array<vec2<u32>>;

fn flat(gid: vec3<u32>) -> u32 {
    return gid.x + gid.y * 65535u * 256u;
}

// a[item * n + i] = window[i] * x[channel][frame * hop + i]
@compute @workgroup_size(256)
fn load_frames(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = flat(gid);
    if (t >= p.items * p.n) {
        return;
    }
    let item = t / p.n;
    let i = t % p.n;
    let channel = item / p.frames;
    let frame = item % p.frames;
    let pos = frame * p.hop + i;
    var x = 0.0;
    if (pos < p.span) {
        x = samples[channel * p.span + pos];
    }
    a[t] = vec2<f32>(x * window[i], 0.0);
}

fn cmul(x: vec2<f32>, y: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(x.x * y.x - x.y * y.y, x.x * y.y + x.y * y.x);
}

// One radix-2 Stockham stage: j in [0, n/2) per item. Twiddles e^{-2πik/n} come from a table.
fn butterfly(t: u32) -> vec4<u32> {
    let half = p.n / 2u;
    let item = t / half;
    let j = t % half;
    let k = j % p.ns;
    let base = item * p.n;
    let src0 = base + j;
    let dst0 = base + (j - k) * 2u + k;
    return vec4<u32>(src0, src0 + half, dst0, k * (p.n / (2u * p.ns)));
}

@compute @workgroup_size(256)
fn fft_stage_ab(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = flat(gid);
    if (t >= p.items * (p.n / 2u)) {
        return;
    }
    let idx = butterfly(t);
    let u = a[idx.x];
    let v = cmul(a[idx.y], twiddle[idx.w]);
    b[idx.z] = u + v;
    b[idx.z + p.ns] = u - v;
}

@compute @workgroup_size(256)
fn fft_stage_ba(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = flat(gid);
    if (t >= p.items * (p.n / 2u)) {
        return;
    }
    let idx = butterfly(t);
    let u = b[idx.x];
    let v = cmul(b[idx.y], twiddle[idx.w]);
    a[idx.z] = u + v;
    a[idx.z + p.ns] = u - v;
}

// power_db[frame * bins + k] = 10 log10(mean over channels of |scale · X_k|²), from the
// buffer the last stage wrote (`ns` = 1 selects a, otherwise b; see the host code).
@compute @workgroup_size(256)
fn power(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = flat(gid);
    if (t >= p.frames * p.bins) {
        return;
    }
    let frame = t / p.bins;
    let k = t % p.bins;
    var sum = 0.0;
    for (var c = 0u; c < p.channels; c = c + 1u) {
        let at = (c * p.frames + frame) * p.n + k;
        var x: vec2<f32>;
        if (p.ns == 1u) {
            x = a[at];
        } else {
            x = b[at];
        }
        sum = sum + dot(x, x);
    }
    var s = p.scale;
    if (k == 0u || k == p.bins - 1u) {
        s = s * 0.5;
    }
    let pw = sum / f32(p.channels) * s * s;
    power_db[t] = max(10.0 * log(max(pw, 1e-30)) / log(10.0), p.floor_db);
}

// Band powers of groups of `channels` consecutive items (one signal's channels in one frame):
// power_db[group * bins + band] = mean over the group's channels of Σ_{k in band} |scale·X_k|²
// (linear, not dB). Here `bins` counts bands and `ns` says which buffer holds the spectra.
@compute @workgroup_size(256)
fn band_power(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = flat(gid);
    let groups = p.items / p.channels;
    if (t >= groups * p.bins) {
        return;
    }
    let group = t / p.bins;
    let range = band_ranges[t % p.bins];
    var sum = 0.0;
    for (var c = 0u; c < p.channels; c = c + 1u) {
        let base = (group * p.channels + c) * p.n;
        for (var k = range.x; k < range.y; k = k + 1u) {
            var x: vec2<f32>;
            if (p.ns == 1u) {
                x = a[base + k];
            } else {
                x = b[base + k];
            }
            sum = sum + dot(x, x);
        }
    }
    power_db[t] = sum / f32(p.channels) * p.scale * p.scale;
}
