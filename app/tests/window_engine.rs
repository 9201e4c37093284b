//! The window's engine thread allocates nothing per block: the demo session (reverb bus,
//! dynamics and EQ inserts, stems with a dialogue stem, so the masking taps are on) plays
//! in the window's engine with the window's live changes arriving, under a counting
//! allocator armed on the engine thread for every block and on the engine pool's other
//! thread for its life (after a warm-up of ten blocks, in which each pool thread sets up
//! its thread-locals once); the meter thread still delivers its frames.

use mixstation::gui::state::StripRef;
use mixstation::gui::{LiveEngine, LivePlay};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct CountingAlloc;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
}
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static BLOCKS: AtomicUsize = AtomicUsize::new(0);
/// Blocks before counting starts (one-time per-thread set-up, such as the work-stealing
/// deque's epoch handle on the first steal).
const WARM_UP: usize = 10;

fn note() {
    if ARMED.try_with(|a| a.get()).unwrap_or(false) && BLOCKS.load(Ordering::Relaxed) > WARM_UP {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note();
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// The engine's hook: counts allocations between `true` and `false` (around each block on
/// the engine thread, for their life on the pool's other threads); counts the calls.
fn arm(on: bool) {
    if on {
        BLOCKS.fetch_add(1, Ordering::Relaxed);
    }
    ARMED.with(|a| a.set(on));
}

#[test]
fn the_window_engine_thread_allocates_nothing_per_block() {
    // The allocator must see what it is meant to count.
    BLOCKS.store(WARM_UP + 1, Ordering::Relaxed);
    arm(true);
    let v = std::hint::black_box(vec![1u8; 64]);
    drop(v);
    arm(false);
    assert!(ALLOCATIONS.swap(0, Ordering::Relaxed) >= 2);
    BLOCKS.store(0, Ordering::Relaxed);

    let dir = tempfile::tempdir().unwrap();
    let path = mixstation::demo::write_demo(dir.path(), 3.0).unwrap();
    let session = mixstation::session::load_session(&path).unwrap();
    let spec = session.spec;
    let tracks = spec.tracks.len();
    let eq_track = spec
        .tracks
        .iter()
        .position(|t| !t.inserts.is_empty())
        .expect("the demo has an insert");
    let insert = &spec.tracks[eq_track].inserts[0];
    let info = gpu_dsp::mix::Insert::table_of(insert)[0];
    let id = gpu_dsp::mix::Insert::resolve(insert, info.name).unwrap();
    let sends = spec.tracks.iter().position(|t| !t.sends.is_empty());
    let mut engine = LiveEngine::start(
        spec,
        LivePlay {
            // Round the loop (a seek on the engine thread) several times.
            looped: Some((0.5, 1.2)),
            block_hook: arm,
            ..LivePlay::from(0.4)
        },
    )
    .unwrap();
    let started = Instant::now();
    let mut frames = Vec::new();
    let mut k = 0u32;
    while started.elapsed() < Duration::from_millis(2500) {
        // What the window sends while a user rides the console.
        k += 1;
        let x = (k % 20) as f32 / 20.0;
        engine.console(
            k as usize % tracks,
            -12.0 * x,
            x - 0.5,
            false,
            k.is_multiple_of(7),
        );
        engine.insert_param(eq_track, 0, id, info.min + (info.max - info.min) * x);
        engine.bypass(StripRef::Track(eq_track), 0, k.is_multiple_of(11));
        if let Some(t) = sends {
            engine.send_level(t, 0, -20.0 * x);
        }
        engine.bus_gain(0, -3.0 * x);
        engine.spectrum_of(k.is_multiple_of(3).then_some(0));
        frames.extend(engine.poll());
        std::thread::sleep(Duration::from_millis(15));
    }
    // Read before stopping: what the pool's threads do as they end is not a block's.
    let blocks = BLOCKS.load(Ordering::Relaxed);
    let allocations = ALLOCATIONS.load(Ordering::Relaxed);
    drop(engine);
    // 2.5 s at 48 kHz is ~117 blocks of 1024.
    assert!(blocks > 80, "only {blocks} blocks played");
    assert_eq!(
        allocations, 0,
        "{allocations} allocations on the engine thread in {blocks} blocks"
    );
    assert!(
        frames.len() > 60,
        "the meter thread delivered {} frames",
        frames.len()
    );
    assert!(frames.iter().all(|f| f.position <= 1.2 + 1e-9));
    assert!(
        frames.iter().any(|f| f.integrated.is_some()),
        "no loudness measured"
    );
    let loud = frames.iter().filter(|f| f.peak_db[0] > -60.0).count();
    assert!(loud > 30, "{loud} frames had sound");
}
