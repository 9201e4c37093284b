// Noise suppression gains for many channels at once (mirrors gpu-dsp/src/spectral/tracker.rs,
// and is tested against it). `track` runs one thread per (channel, bin) and walks the channel's
// frames of the batch in order, carrying the bin's state between batches; `smooth` runs one
// thread per (channel, frame slot, bin) and smooths the gains across frequency. Channels may
// bring different numbers of frames to a batch (a muted track's insert brings none).

struct Params {
    channels: u32,
    bins: u32,
    // Frame slots per channel in the batch layout.
    frames: u32,
    subwindow: u32,
    // Leading frames that reach back before the signal.
    warmup: u32,
    // Hz per bin.
    bin_hz: f32,
    pad0: u32,
    pad1: u32,
}

// One channel's part of the batch.
struct Lane {
    // Frames it brings (at most `frames`).
    count: u32,
    // Index of its first frame since the start of its signal.
    base: u32,
    pad0: u32,
    pad1: u32,
}

const SMOOTH: f32 = 0.8;
const NOISE_SMOOTH: f32 = 0.95;
const PRESENCE_SMOOTH: f32 = 0.2;
const PRESENCE_RATIO: f32 = 5.0;
const DD_ALPHA: f32 = 0.95;
// Below this, speech has no energy: a zero-phase low cut, gain ceiling (f / LOW_CUT_HZ)².
const LOW_CUT_HZ: f32 = 80.0;
const SLOTS: u32 = 9u;
const SILENT_POWER: f32 = 1e-10;
const F32_MAX: f32 = 3.40282347e38;

@group(0) @binding(0) var<uniform> params: Params;
// [channel][frame][bin]
@group(0) @binding(1) var<storage, read> power: array<f32>;
// [channel][bin][slot]: smoothed, current sub-window minimum, three previous sub-window minima,
// noise, presence, previous clean, started.
@group(0) @binding(2) var<storage, read_write> state: array<f32>;
// [channel][frame][bin], unsmoothed gains
@group(0) @binding(3) var<storage, read_write> raw: array<f32>;
// [channel][bin]: a fixed noise power, or negative where the noise is tracked.
@group(0) @binding(4) var<storage, read> profile: array<f32>;
// [channel][frame][bin], final gains
@group(0) @binding(5) var<storage, read_write> gains: array<f32>;
// [channel]
@group(0) @binding(6) var<storage, read> lanes: array<Lane>;
// [channel][frame]: each frame's gain floor (linear), so automation lands on its frame.
@group(0) @binding(7) var<storage, read> floors: array<f32>;

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
    var current_min = state[s + 1u];
    var min1 = state[s + 2u];
    var min2 = state[s + 3u];
    var min3 = state[s + 4u];
    var noise = state[s + 5u];
    var presence = state[s + 6u];
    var prev_clean = state[s + 7u];
    var started = state[s + 8u];
    let fixed = profile[item];
    let lane = lanes[c];
    for (var f = 0u; f < lane.count; f++) {
        let at = (c * params.frames + f) * params.bins + k;
        let p = power[at];
        let index = lane.base + f;
        if fixed >= 0.0 {
            noise = fixed;
        } else {
            if index >= params.warmup && p >= SILENT_POWER {
                if started == 0.0 {
                    smoothed = p;
                    noise = p;
                    started = 1.0;
                }
                smoothed = SMOOTH * smoothed + (1.0 - SMOOTH) * p;
                current_min = min(current_min, smoothed);
                let minimum = min(min(current_min, min1), min(min2, min3));
                let present = select(0.0, 1.0, smoothed > PRESENCE_RATIO * minimum);
                presence = PRESENCE_SMOOTH * presence + (1.0 - PRESENCE_SMOOTH) * present;
                let rate = NOISE_SMOOTH + (1.0 - NOISE_SMOOTH) * presence;
                noise = rate * noise + (1.0 - rate) * p;
            }
            if (index + 1u) % params.subwindow == 0u {
                min3 = min2;
                min2 = min1;
                min1 = current_min;
                current_min = F32_MAX;
            }
        }
        let n = max(noise, 1e-20);
        let post = p / n;
        let prior = DD_ALPHA * prev_clean / n + (1.0 - DD_ALPHA) * max(post - 1.0, 0.0);
        let g = max(prior / (1.0 + prior), floors[c * params.frames + f]);
        prev_clean = g * g * p;
        raw[at] = g;
    }
    state[s] = smoothed;
    state[s + 1u] = current_min;
    state[s + 2u] = min1;
    state[s + 3u] = min2;
    state[s + 4u] = min3;
    state[s + 5u] = noise;
    state[s + 6u] = presence;
    state[s + 7u] = prev_clean;
    state[s + 8u] = started;
}

@compute @workgroup_size(64)
fn smooth_gains(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let item = id.x + id.y * groups.x * 64u;
    if item >= params.channels * params.frames * params.bins {
        return;
    }
    let k = item % params.bins;
    let row = item - k;
    let c = item / (params.frames * params.bins);
    let lane = lanes[c];
    if (item / params.bins) % params.frames >= lane.count {
        return;
    }
    let left = raw[row + select(k - 1u, 0u, k == 0u)];
    let right = raw[row + min(k + 1u, params.bins - 1u)];
    let floor = floors[item / params.bins];
    let smoothed = max(0.25 * left + 0.5 * raw[item] + 0.25 * right, floor);
    let r = f32(k) * params.bin_hz / LOW_CUT_HZ;
    gains[item] = max(min(smoothed, min(r * r, 1.0)), floor);
}
