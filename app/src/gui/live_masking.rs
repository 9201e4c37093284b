//! The live masking matrix of the frequency-balance view: every track outside the dialogue
//! stem against the dialogue stem, per third-octave band, since playback started — the
//! figures `mixstation masking` gives for a whole render, from the same track taps.

use super::meters::Masker;
use gpu_dsp::analysis::{covered_share, MaskingMatrix};
use gpu_dsp::mix::MixSpec;

/// The dialogue stem: named `DX` or starting with `dia` (any case).
pub(super) fn dialogue_stem(stems: &[String]) -> Option<usize> {
    stems
        .iter()
        .position(|s| s.eq_ignore_ascii_case("dx") || s.to_ascii_lowercase().starts_with("dia"))
}

/// Every non-dialogue track against the dialogue stem.
pub(super) struct LiveMasking {
    dialogue: usize,
    /// Track indices of the maskers, and their names.
    maskers: Vec<usize>,
    names: Vec<String>,
    matrix: MaskingMatrix,
}

impl LiveMasking {
    /// `None` when the mix has no dialogue stem or no track outside it.
    pub fn for_mix(spec: &MixSpec) -> Option<Self> {
        let dialogue = dialogue_stem(&spec.stems)?;
        let maskers: Vec<usize> = (0..spec.tracks.len())
            .filter(|&t| spec.tracks[t].stem != dialogue)
            .collect();
        if maskers.is_empty() {
            return None;
        }
        let channels = spec.layout.channels();
        Some(Self {
            dialogue,
            names: maskers
                .iter()
                .map(|&t| spec.tracks[t].name.clone())
                .collect(),
            matrix: MaskingMatrix::new(channels, maskers.len(), channels, spec.sample_rate),
            maskers,
        })
    }

    /// The dialogue stem's index.
    pub fn dialogue(&self) -> usize {
        self.dialogue
    }

    /// True when `spec` has the same dialogue stem and maskers (an edit that changed neither
    /// keeps the figures gathered so far).
    pub fn measures(&self, spec: &MixSpec) -> bool {
        dialogue_stem(&spec.stems) == Some(self.dialogue)
            && self.maskers.len() == self.names.len()
            && self
                .maskers
                .iter()
                .zip(&self.names)
                .all(|(&t, name)| spec.tracks.get(t).is_some_and(|s| &s.name == name))
    }

    /// Feeds `n` samples: the dialogue stem's block and every masker's track tap (`tap(t)`
    /// is track `t`'s output, as [`gpu_dsp::mix::Mixer::track_tap`] gives it).
    pub fn push<'a>(
        &mut self,
        dialogue: &[Vec<f32>],
        tap: impl Fn(usize) -> Option<&'a [Vec<f32>]>,
        n: usize,
    ) {
        let mut views: [&[f32]; 8] = [&[]; 8];
        let k = dialogue.len().min(8);
        for (v, c) in views.iter_mut().zip(dialogue) {
            *v = &c[..n];
        }
        self.matrix.push_target(&views[..k]);
        for (m, &t) in self.maskers.iter().enumerate() {
            let Some(tap) = tap(t) else {
                continue;
            };
            let k = tap.len().min(8);
            for (v, c) in views.iter_mut().zip(tap) {
                *v = &c[..n];
            }
            self.matrix.push_masker(m, &views[..k]);
        }
    }

    /// The `count` tracks that cover the dialogue most so far, worst first.
    pub fn worst(&self, count: usize) -> Vec<Masker> {
        let mut all: Vec<Masker> = self
            .matrix
            .snapshot()
            .iter()
            .zip(&self.names)
            .map(|(bands, name)| Masker {
                name: name.clone(),
                covered: covered_share(bands) as f32,
                bands: bands
                    .iter()
                    .map(|b| b.covered_fraction.map(|c| c as f32))
                    .collect(),
            })
            .collect();
        all.sort_by(|a, b| b.covered.total_cmp(&a.covered));
        all.truncate(count);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpu_dsp::mix::{ClipSpec, Mixer, TrackSpec};

    /// Dialogue-like bursts (harmonics of 150 Hz up to 4 kHz), a 1–2 kHz noise track at the
    /// dialogue's level and a loud 60 Hz rumble, played block by block as the window does:
    /// the noise ranks first and covers the 1–2 kHz bands, the rumble covers nothing (the
    /// dialogue has no energy at 60 Hz).
    #[test]
    fn the_live_matrix_names_the_track_that_covers_the_dialogue() {
        let rate = 48_000u32;
        let n = 6 * rate as usize;
        let tau = std::f32::consts::TAU;
        let t = |i: usize| i as f32 / rate as f32;
        let dialogue: Vec<f32> = (0..n)
            .map(|i| {
                // Syllable-like swells (no hard edges: they would splash energy into every band).
                let swell = (tau * 1.5 * t(i)).sin().max(0.0).powi(2);
                let v: f32 = (1..=26)
                    .map(|k| (tau * 150.0 * k as f32 * t(i)).sin())
                    .sum();
                0.02 * swell * v
            })
            .collect();
        // Sines every 10 Hz from 1000 to 2000 Hz with scattered phases: flat 1–2 kHz noise.
        let band_noise: Vec<f32> = (0..n)
            .map(|i| {
                (0..100)
                    .map(|k| {
                        let f = 1000.0 + 10.0 * k as f32;
                        (tau * f * t(i) + (k * k) as f32 * 0.7).sin()
                    })
                    .sum::<f32>()
                    * 0.02
            })
            .collect();
        let rumble: Vec<f32> = (0..n).map(|i| 0.5 * (tau * 60.0 * t(i)).sin()).collect();
        let clip = |source| {
            vec![ClipSpec {
                source,
                length: n as u64,
                ..Default::default()
            }]
        };
        let mut tracks = vec![
            TrackSpec::new("dialogue", 1, clip(0)),
            TrackSpec::new("rumble", 1, clip(1)),
            TrackSpec::new("noise", 1, clip(2)),
        ];
        tracks[1].stem = 1;
        tracks[2].stem = 1;
        let mut spec = MixSpec::one_track(rate, dialogue);
        spec.sources.push(vec![rumble].into());
        spec.sources.push(vec![band_noise].into());
        spec.tracks = tracks;
        spec.stems = vec!["DX".into(), "FX".into()];
        let mut live = LiveMasking::for_mix(&spec).expect("a dialogue stem and maskers");
        assert_eq!(live.dialogue(), 0);
        assert!(live.measures(&spec));
        let mut mixer = Mixer::new(spec, 1024).unwrap();
        mixer.enable_track_taps();
        let mut dx = vec![vec![0.0f32; 1024]; 2];
        let mut done = 0;
        while done < n {
            let k = 1024.min(n - done);
            let stems = mixer.process_block(k);
            for (to, from) in dx.iter_mut().zip(&stems[0]) {
                to[..k].copy_from_slice(&from[..k]);
            }
            live.push(&dx, |t| mixer.track_tap(t), k);
            done += k;
        }
        let worst = live.worst(6);
        assert_eq!(worst.len(), 2);
        assert_eq!(worst[0].name, "noise", "{worst:?}");
        assert!(worst[0].covered > 0.1, "{worst:?}");
        assert!(worst[1].covered < 0.02, "rumble: {:?}", worst[1]);
        // The noise's covered bands lie within 1–2 kHz (third-octave centres 800 Hz–2.5 kHz).
        let centres = gpu_dsp::analysis::bands::third_octaves(rate);
        for (band, cov) in centres.iter().zip(&worst[0].bands) {
            if cov.is_some_and(|c| c > 0.5) {
                let hz = band.nominal_hz;
                assert!((800.0..=2500.0).contains(&hz), "covered at {hz} Hz");
            }
        }
        assert!(worst[0]
            .bands
            .iter()
            .zip(&centres)
            .any(|(c, b)| b.nominal_hz == 1600.0 && c.is_some_and(|c| c > 0.5)));
    }
}
