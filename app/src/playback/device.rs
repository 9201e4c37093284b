//! The sound card side (cpal) and the `play` command's run loop.

use super::callback::{OutputCallback, PlaybackCounters};
use super::engine::spawn_engine;
use anyhow::{anyhow, bail, Result};
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use gpu_dsp::mix::Mixer;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Opens the default output device at `rate` Hz, stereo f32, running `callback` in the real
/// cpal audio callback. `each` runs inside the callback around `fill` (tests use it to count
/// allocations on the audio thread).
pub fn open_output(
    rate: u32,
    callback: OutputCallback,
    around: impl FnMut(bool) + Send + 'static,
) -> Result<cpal::Stream> {
    open_output_on(None, rate, callback, around)
}

/// [`open_output`] on the output device called `device` (the default one when `None`).
pub fn open_output_on(
    device: Option<&str>,
    rate: u32,
    callback: OutputCallback,
    around: impl FnMut(bool) + Send + 'static,
) -> Result<cpal::Stream> {
    // ALSA prints its own lines for every device it fails to open; ours says it once.
    quiet_stderr(|| open_output_inner(device, rate, callback, around))
}

/// Runs `f` with the process's standard error sent to the null device, restored after.
fn quiet_stderr<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(unix)]
    {
        // SAFETY: plain descriptor calls on fd 2 and a descriptor we opened; every one is
        // checked, and fd 2 is restored from the duplicate before returning.
        unsafe {
            let saved = libc::dup(2);
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if saved >= 0 && null >= 0 && libc::dup2(null, 2) >= 0 {
                libc::close(null);
                let result = f();
                libc::dup2(saved, 2);
                libc::close(saved);
                return result;
            }
            if null >= 0 {
                libc::close(null);
            }
            if saved >= 0 {
                libc::close(saved);
            }
        }
    }
    f()
}

fn open_output_inner(
    wanted: Option<&str>,
    rate: u32,
    mut callback: OutputCallback,
    mut around: impl FnMut(bool) + Send + 'static,
) -> Result<cpal::Stream> {
    let host = cpal::default_host();
    let device = match wanted {
        None => host.default_output_device().ok_or_else(|| {
            anyhow!("no audio output device (is a sound card or ALSA's null device configured?)")
        })?,
        Some(wanted) => {
            let devices: Vec<cpal::Device> = host
                .output_devices()
                .map_err(|e| anyhow!("cannot list the audio output devices: {e}"))?
                .collect();
            let names: Vec<String> = devices.iter().filter_map(|d| d.name().ok()).collect();
            devices
                .into_iter()
                .find(|d| d.name().is_ok_and(|n| n == wanted))
                .ok_or_else(|| {
                    anyhow!(
                        "--device {wanted}: no such output device (devices: {})",
                        if names.is_empty() {
                            "none".into()
                        } else {
                            names.join(", ")
                        }
                    )
                })?
        }
    };
    let name = device.name().unwrap_or_else(|_| "unknown".into());
    let supported = device
        .supported_output_configs()
        .map_err(|e| anyhow!("audio device {name}: {e}"))?
        .filter(|c| c.channels() == 2 && c.sample_format() == cpal::SampleFormat::F32)
        .find(|c| c.min_sample_rate().0 <= rate && rate <= c.max_sample_rate().0)
        .ok_or_else(|| anyhow!("audio device {name} cannot play stereo f32 at {rate} Hz"))?;
    let config = supported.with_sample_rate(cpal::SampleRate(rate)).config();
    let stream = device
        .build_output_stream(
            &config,
            move |data: &mut [f32], _: &cpal::OutputCallbackInfo| {
                around(true);
                callback.fill(data);
                around(false);
            },
            |e| eprintln!("audio stream error: {e}"),
            None,
        )
        .map_err(|e| anyhow!("audio device {name}: cannot open a stream: {e}"))?;
    stream
        .play()
        .map_err(|e| anyhow!("audio device {name}: cannot start: {e}"))?;
    Ok(stream)
}

/// Plays a mixer from its position to the end of the timeline (plus tails) and reports.
pub fn play_session(mixer: Mixer, from: u64) -> Result<()> {
    let rate = mixer.spec().sample_rate;
    let total = mixer.spec().length() + mixer.tail();
    if from >= total {
        bail!(
            "--from is past the end of the session ({:.2} s)",
            total as f64 / f64::from(rate)
        );
    }
    let frames = total - from;
    let counters = Arc::new(PlaybackCounters::default());
    let (audio_tx, audio_rx, _cmd_tx, cmd_rx) = super::rings(rate as usize / 2, 2);
    let stop = Arc::new(AtomicBool::new(false));
    let engine = spawn_engine(
        mixer,
        audio_tx,
        frames,
        2048,
        counters.clone(),
        stop.clone(),
    );
    let callback = OutputCallback::new(audio_rx, cmd_rx, 2, rate as f32, counters.clone());
    // Let the engine fill part of the ring before the device starts pulling.
    std::thread::sleep(Duration::from_millis(100));
    let stream = match open_output(rate, callback, |_| {}) {
        Ok(s) => s,
        Err(e) => {
            stop.store(true, Ordering::Relaxed);
            let _ = engine.join();
            return Err(e);
        }
    };
    let seconds = frames as f64 / f64::from(rate);
    say!(
        "playing {seconds:.2} s from {:.2} s",
        from as f64 / f64::from(rate)
    );
    let deadline = std::time::Instant::now() + Duration::from_secs_f64(seconds * 4.0 + 5.0);
    while counters.frames_played.load(Ordering::Relaxed) < frames
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stream);
    stop.store(true, Ordering::Relaxed);
    let stats = engine
        .join()
        .map_err(|_| anyhow!("the engine thread panicked"))?;
    say!(
        "  played {} frames in {} callbacks, {} underruns",
        counters.frames_played.load(Ordering::Relaxed),
        counters.callbacks.load(Ordering::Relaxed),
        counters.underruns.load(Ordering::Relaxed)
    );
    say!("  (underruns: callbacks that found the ring short; ALSA's null device is not paced in real time, so it counts many)");
    say!(
        "  engine load per block: mean {:.1} %, worst {:.1} % of real time ({} blocks of 2048)",
        100.0 * stats.mean_load,
        100.0 * stats.max_load,
        stats.blocks
    );
    Ok(())
}
