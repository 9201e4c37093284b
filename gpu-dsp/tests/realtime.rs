//! The real-time contract: `process` never allocates (checked with a counting allocator).

mod common;

use common::{noise, rng};
use gpu_dsp::conv::{ConvolutionReverb, Convolver, ConvolverConfig, ReverbParams};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts allocations made by the current thread while `ARMED` is set.
struct CountingAlloc;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
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

fn note() {
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Runs `f` and returns how many allocations and frees it made on this thread.
fn allocations_in(f: impl FnOnce()) -> usize {
    COUNT.with(|c| c.set(0));
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    COUNT.with(|c| c.get())
}

#[test]
fn the_counter_sees_allocations() {
    let n = allocations_in(|| {
        let v = vec![1u8; 100];
        std::hint::black_box(v);
    });
    assert!(
        n >= 2,
        "the counting allocator must notice an allocation and a free ({n})"
    );
}

#[test]
fn convolver_process_does_not_allocate() {
    let mut r = rng(7);
    let ir = [
        noise(&mut r, 48_000),
        noise(&mut r, 48_000),
        noise(&mut r, 48_000),
        noise(&mut r, 48_000),
    ];
    for zero_latency in [false, true] {
        let config = ConvolverConfig {
            block: 256,
            zero_latency,
            ..Default::default()
        };
        let planes: Vec<&[f32]> = ir.iter().map(|c| c.as_slice()).collect();
        let mut conv = Convolver::new(&planes, 2, config).unwrap();
        let x = [noise(&mut r, 100_000), noise(&mut r, 100_000)];
        let mut y = [vec![0.0f32; 100_000], vec![0.0f32; 100_000]];
        let n = allocations_in(|| {
            let mut pos = 0;
            for &len in [256usize, 1, 255, 1000, 4096, 77].iter().cycle() {
                if pos + len > x[0].len() {
                    break;
                }
                let (a, b) = y.split_at_mut(1);
                conv.process(
                    &[&x[0][pos..pos + len], &x[1][pos..pos + len]],
                    &mut [&mut a[0][pos..pos + len], &mut b[0][pos..pos + len]],
                );
                pos += len;
            }
        });
        assert_eq!(
            n, 0,
            "zero_latency={zero_latency}: process allocated {n} times"
        );
        assert!(y[0].iter().any(|&v| v != 0.0));
    }
}

#[test]
fn reverb_process_and_ir_swap_do_not_allocate() {
    let mut r = rng(8);
    let ir = [noise(&mut r, 20_000), noise(&mut r, 20_000)];
    let planes: Vec<&[f32]> = ir.iter().map(|c| c.as_slice()).collect();
    let params = ReverbParams {
        dry: 0.5,
        predelay: 100,
        crossfade: 2048,
        ..Default::default()
    };
    let mut reverb =
        ConvolutionReverb::new(&planes, 1, params, ConvolverConfig::default(), 512).unwrap();
    let other = [noise(&mut r, 9_000), noise(&mut r, 9_000)];
    let other_planes: Vec<&[f32]> = other.iter().map(|c| c.as_slice()).collect();
    let prepared = reverb.prepare(&other_planes).unwrap();
    let x = noise(&mut r, 30_000);
    let mut y = [vec![0.0f32; 30_000], vec![0.0f32; 30_000]];
    let mut prepared = Some(prepared);
    let mut accepted = false;
    let n = allocations_in(|| {
        for (k, pos) in (0..30_000).step_by(300).enumerate() {
            if k == 20 {
                accepted = reverb.swap(prepared.take().unwrap()).is_ok();
            }
            let (a, b) = y.split_at_mut(1);
            reverb.process(
                &[&x[pos..pos + 300]],
                &mut [&mut a[0][pos..pos + 300], &mut b[0][pos..pos + 300]],
            );
        }
    });
    assert_eq!(n, 0, "reverb process/swap allocated {n} times");
    assert!(accepted);
    assert!(
        reverb.take_retired().is_some(),
        "the old IR is handed back for dropping off-thread"
    );
}

#[test]
fn stft_process_does_not_allocate() {
    use gpu_dsp::spectral::{Stft, StftConfig};
    let mut r = rng(9);
    let x = noise(&mut r, 20_000);
    let mut y = vec![0.0f32; 20_000];
    let mut stft = Stft::new(StftConfig::new(1024, 256).unwrap());
    let n = allocations_in(|| {
        for (a, b) in x.chunks(333).zip(y.chunks_mut(333)) {
            stft.process(a, b, |s| s.iter_mut().for_each(|v| *v *= 0.5));
        }
    });
    assert_eq!(n, 0, "STFT process allocated {n} times");
}

#[test]
fn cleaner_process_does_not_allocate() {
    use gpu_dsp::spectral::{Cleaner, DenoiseConfig, HumSpec};
    let mut r = rng(10);
    let mut x = noise(&mut r, 30_000);
    let mut y = vec![0.0f32; 30_000];
    let hum = HumSpec::all_harmonics(50.0, 48_000.0);
    let mut c = Cleaner::new(DenoiseConfig::dialogue(48_000.0), Some(&hum), 48_000.0);
    let n = allocations_in(|| {
        for (a, b) in x.chunks_mut(480).zip(y.chunks_mut(480)) {
            c.process(a, b);
        }
    });
    assert_eq!(n, 0, "cleaner (hum removal + denoiser) allocated {n} times");
    assert!(y.iter().all(|v| v.is_finite()));
}

#[test]
fn ducker_and_multiband_dynamics_do_not_allocate() {
    use gpu_dsp::spectral::{
        DuckParams, MultibandDynamics, MultibandParams, SpectralDucker, StftConfig,
    };
    let mut r = rng(11);
    let side = noise(&mut r, 20_000);
    let (mut a, mut b) = (noise(&mut r, 20_000), noise(&mut r, 20_000));
    let config = StftConfig::new(1024, 256).unwrap();
    let mut duck = SpectralDucker::new(DuckParams::default(), config, 48_000.0, 2);
    let mut dyns = MultibandDynamics::new(MultibandParams::default(), config, 48_000.0, 2);
    let n = allocations_in(|| {
        for ((x, y), s) in a
            .chunks_mut(480)
            .zip(b.chunks_mut(480))
            .zip(side.chunks(480))
        {
            duck.process(&mut [&mut *x, &mut *y], s);
            dyns.process(&mut [x, y]);
        }
    });
    assert_eq!(n, 0, "ducker/dynamics allocated {n} times");
}
