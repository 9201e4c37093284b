//! The engine's own worker pool. The mixer splits each block into fork-join jobs; called
//! from a thread outside a rayon pool, every block would be injected into the pool's
//! global queue, which allocates a new segment every 63 blocks and parks the caller on a
//! latch. Run from inside the pool, a block's jobs go on the engine thread's own deque and
//! the pool's other thread steals them: nothing is allocated per block on any thread
//! (`app/tests/window_engine.rs` counts every thread of the pool).

/// Runs `f` (the engine loop) on a pool of its own, as many threads as rayon's global
/// pool; `hook(true)` runs on each of the pool's threads when it starts and `hook(false)`
/// when it ends (the allocation test arms its counter there).
pub fn on_engine_pool<T: Send>(
    name: &str,
    hook: fn(bool),
    f: impl FnOnce() -> T + Send,
) -> anyhow::Result<T> {
    let prefix = name.to_string();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads())
        .thread_name(move |i| format!("{prefix}-{i}"))
        .start_handler(move |_| hook(true))
        .exit_handler(move |_| hook(false))
        .build()?;
    Ok(pool.install(f))
}
