// Noise suppression gains for many channels at once (mirrors gpu-dsp/src/spectral/tracker.rs,
// and is tested against it). `track` runs one thread per (channel, bin) and walks the batch's
// frames in order, carrying the bin's state between batches; `smooth` runs one thread per
// (channel, frame, bin) and smooths the gains across frequency.

struct Params {
    channels: u32,
    bins: u32,
    frames: u32,
    // Index of the batch's first frame since the start of the signal.
    frame_base: u32,
    min_window: u32,
    floor: f32,
    _pad0: u32,
    _pad1: u32,
}

const SMOOTH: f32 = 0.8;
const NOISE_SMOOTH: f32 = 0.95;
const PRESENCE_SMOOTH: f32 = 0.2;
const PRESENCE_RATIO: f32 = 5.0;
const DD_ALPHA: f32 = 0.98;
const SLOTS: u32 = 6u;

@group(0) @binding(0) var<uniform> params: Params;
// [channel][frame][bin]
@group(0) @binding(1) var<storage, read> power: array<f32>;
// [channel][bin][slot]: smoothed, minimum, window minimum, noise, presence, previous clean.
@group(0) @binding(2) var<storage, read_write> state: array<f32>;
// [channel][frame][bin], unsmoothed gains
@group(0) @binding(3) var<storage, read_write> raw: array<f32>;
// [channel][bin]: a fixed noise power, or negative where the noise is tracked.
@group(0) @binding(4) var<storage, read> profile: array<f32>;
// [channel][frame][bin], final gains
@group(0) @binding(5) var<storage, read_write> gains: array<f32>;

@compute @workgroup_size(64)
fn track_noise(@builtin(global_invocation_id) id: vec3<u32>) {
    let item = id.x;
    if item >= params.channels * params.bins {
        return;
    }
    let c = item / params.bins;
    let k = item % params.bins;
    let s = item * SLOTS;
    var smoothed = state[s];
    var minimum = state[s + 1u];
    var window_min = state[s + 2u];
    var noise = state[s + 3u];
    var presence = state[s + 4u];
    var prev_clean = state[s + 5u];
    let fixed = profile[item];
    for (var f = 0u; f < params.frames; f++) {
        let at = (c * params.frames + f) * params.bins + k;
        let p = power[at];
        let index = params.frame_base + f;
        let first = index == 0u;
        if fixed >= 0.0 {
            noise = fixed;
        } else {
            smoothed = select(SMOOTH * smoothed + (1.0 - SMOOTH) * p, p, first);
            window_min = min(window_min, smoothed);
            minimum = min(minimum, smoothed);
            let present = select(0.0, 1.0, smoothed > PRESENCE_RATIO * minimum);
            presence = PRESENCE_SMOOTH * presence + (1.0 - PRESENCE_SMOOTH) * present;
            let rate = NOISE_SMOOTH + (1.0 - NOISE_SMOOTH) * presence;
            noise = select(rate * noise + (1.0 - rate) * p, p, first);
            if (index + 1u) % params.min_window == 0u {
                minimum = window_min;
                window_min = 3.40282347e38;
            }
        }
        let n = max(noise, 1e-20);
        let post = p / n;
        let prior = DD_ALPHA * prev_clean / n + (1.0 - DD_ALPHA) * max(post - 1.0, 0.0);
        let g = max(prior / (1.0 + prior), params.floor);
        prev_clean = g * g * p;
        raw[at] = g;
    }
    state[s] = smoothed;
    state[s + 1u] = minimum;
    state[s + 2u] = window_min;
    state[s + 3u] = noise;
    state[s + 4u] = presence;
    state[s + 5u] = prev_clean;
}

@compute @workgroup_size(64)
fn smooth_gains(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let item = id.x + id.y * groups.x * 64u;
    if item >= params.channels * params.frames * params.bins {
        return;
    }
    let k = item % params.bins;
    let row = item - k;
    let left = raw[row + select(k - 1u, 0u, k == 0u)];
    let right = raw[row + min(k + 1u, params.bins - 1u)];
    gains[item] = max(0.25 * left + 0.5 * raw[item] + 0.25 * right, params.floor);
}
