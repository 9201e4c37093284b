//! Every backend of a kernel family passes the family's one conformance check
//! (`gpu_dsp::conformance`): the CPU reference and the GPU engine (lavapipe in CI).

mod common;

use common::gpu;
use gpu_dsp::analysis::spectrogram::GpuSpectrogram;
use gpu_dsp::conformance::{
    check_convolution_backend, check_spectrogram_backend, ConvolutionBackend, CpuSpectrogram,
    SpectrogramBackend,
};
use gpu_dsp::conv::{Convolver, ConvolverConfig, GpuConvolverBank};

#[test]
fn every_spectrogram_backend_conforms() {
    let worst = check_spectrogram_backend(&mut |config, _| {
        Ok(Box::new(CpuSpectrogram { config }) as Box<dyn SpectrogramBackend>)
    })
    .unwrap();
    assert!(worst < 1e-5, "CPU {worst:e}");
    let Some(ctx) = gpu() else { return };
    let worst = check_spectrogram_backend(&mut |config, channels| {
        Ok(
            Box::new(GpuSpectrogram::new(ctx.clone(), config, channels)?)
                as Box<dyn SpectrogramBackend>,
        )
    })
    .unwrap();
    assert!(worst < 1e-5, "GPU {worst:e}");
}

/// The CPU convolver in each of its layouts, and the GPU bank.
#[test]
fn every_convolution_backend_conforms() {
    let layouts = [
        ConvolverConfig::default(),
        ConvolverConfig {
            zero_latency: true,
            ..ConvolverConfig::default()
        },
        ConvolverConfig::offline(3000),
        ConvolverConfig {
            block: 64,
            head_partitions: 2,
            max_partition: 1024,
            ..ConvolverConfig::default()
        },
    ];
    for config in layouts {
        let worst = check_convolution_backend(&mut |ir, inputs| {
            Ok(Box::new(Convolver::new(ir, inputs, config)?) as Box<dyn ConvolutionBackend>)
        })
        .unwrap_or_else(|e| panic!("{config:?}: {e}"));
        assert!(worst < 1e-5);
    }
    let Some(ctx) = gpu() else { return };
    for config in [ConvolverConfig::default(), ConvolverConfig::gpu_offline()] {
        let worst = check_convolution_backend(&mut |ir, inputs| {
            let planes: Vec<Vec<f32>> = ir.iter().map(|c| c.to_vec()).collect();
            Ok(Box::new(GpuConvolverBank::new(
                ctx.clone(),
                &[(planes, inputs)],
                config,
            )?) as Box<dyn ConvolutionBackend>)
        })
        .unwrap_or_else(|e| panic!("GPU {config:?}: {e}"));
        assert!(worst < 1e-5);
    }
}

/// The check fails a backend that is wrong: a convolver whose output is scaled by 1.001.
#[test]
fn the_convolution_check_catches_a_wrong_backend() {
    struct Off(Convolver);
    impl ConvolutionBackend for Off {
        fn name(&self) -> String {
            "scaled".into()
        }
        fn latency(&self) -> usize {
            self.0.latency()
        }
        fn process(&mut self, i: &[&[f32]], o: &mut [&mut [f32]]) -> gpu_dsp::Result<()> {
            self.0.process(i, o);
            o.iter_mut()
                .for_each(|c| c.iter_mut().for_each(|v| *v *= 1.001));
            Ok(())
        }
    }
    let r = check_convolution_backend(&mut |ir, inputs| {
        Ok(
            Box::new(Off(Convolver::new(ir, inputs, ConvolverConfig::default())?))
                as Box<dyn ConvolutionBackend>,
        )
    });
    assert!(r.is_err(), "{r:?}");
}

/// The CPU trackers and the GPU bank against the gain-tracking definition.
#[test]
fn every_gain_tracking_backend_conforms() {
    use gpu_dsp::conformance::{check_gain_tracking_backend, CpuGainBank, GainTrackingBackend};
    use gpu_dsp::spectral::GpuGainBank;
    let worst = check_gain_tracking_backend(&mut |bins, hop, rate, red, models| {
        Ok(Box::new(CpuGainBank::new(bins, hop, rate, red, models))
            as Box<dyn GainTrackingBackend>)
    })
    .unwrap();
    assert!(worst < 1e-4, "CPU {worst:e}");
    eprintln!("CPU gain tracking: worst {worst:e}");
    let Some(ctx) = gpu() else { return };
    let worst = check_gain_tracking_backend(&mut |bins, hop, rate, red, models| {
        Ok(
            Box::new(GpuGainBank::new(ctx.clone(), bins, hop, rate, red, models)?)
                as Box<dyn GainTrackingBackend>,
        )
    })
    .unwrap();
    eprintln!("GPU gain tracking: worst {worst:e}");
    assert!(worst < 1e-4, "GPU {worst:e}");
}
