//! The spectrogram plot: time across, frequency up (linear or log), dBFS through the colour
//! map, with labelled axes and a colour bar.

use super::{magma, Canvas};
use gpu_dsp::analysis::spectrogram::{Spectrogram, SpectrogramConfig};

/// How frequency maps to rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrequencyAxis {
    Linear,
    /// Logarithmic from 20 Hz (or the first bin above DC) to Nyquist.
    Log,
}

/// Size and scale of the plot.
#[derive(Clone, Copy, Debug)]
pub struct PlotOptions {
    /// Width and height of the data area in pixels.
    pub width: usize,
    pub height: usize,
    pub axis: FrequencyAxis,
    /// dB range shown below `top_db`.
    pub range_db: f32,
    pub top_db: f32,
}

impl Default for PlotOptions {
    fn default() -> Self {
        Self {
            width: 1200,
            height: 500,
            axis: FrequencyAxis::Linear,
            range_db: 120.0,
            top_db: 0.0,
        }
    }
}

const LEFT: usize = 80;
const RIGHT: usize = 110;
const TOP: usize = 40;
const BOTTOM: usize = 60;
const BACKGROUND: [u8; 3] = [24, 24, 28];
const INK: [u8; 3] = [220, 220, 225];
const GRID: [u8; 3] = [90, 90, 100];

/// Maps rows to frequencies for one plot.
pub struct FrequencyScale {
    axis: FrequencyAxis,
    height: usize,
    low: f64,
    nyquist: f64,
}

impl FrequencyScale {
    pub fn new(axis: FrequencyAxis, height: usize, bin_hz: f64, nyquist: f64) -> Self {
        let low = match axis {
            FrequencyAxis::Linear => 0.0,
            FrequencyAxis::Log => 20f64.max(bin_hz).min(nyquist / 2.0),
        };
        Self {
            axis,
            height,
            low,
            nyquist,
        }
    }

    /// Frequency at the top edge of row `y` (row 0 is the top of the plot); `y` may be
    /// fractional.
    pub fn hz_at(&self, y: f64) -> f64 {
        let t = 1.0 - y / self.height as f64;
        match self.axis {
            FrequencyAxis::Linear => t * self.nyquist,
            FrequencyAxis::Log => self.low * (self.nyquist / self.low).powf(t),
        }
    }

    /// Row (fractional) where `hz` lies.
    pub fn row_of(&self, hz: f64) -> f64 {
        let t = match self.axis {
            FrequencyAxis::Linear => hz / self.nyquist,
            FrequencyAxis::Log => (hz / self.low).ln() / (self.nyquist / self.low).ln(),
        };
        (1.0 - t) * self.height as f64
    }
}

/// Most pixel columns × bins a plot may hold (256 MiB of f32).
pub const MAX_COLUMN_VALUES: usize = 1 << 26;

/// The maxima of a spectrogram's frames over each pixel column, built frame by frame so the
/// whole spectrogram never has to be in memory (width × bins values).
pub struct SpectrogramColumns {
    config: SpectrogramConfig,
    sample_rate: u32,
    frames: usize,
    width: usize,
    bins: usize,
    columns: Vec<f32>,
    /// Frames pushed so far.
    seen: usize,
    /// The first column that may still take frames.
    first_open: usize,
}

impl SpectrogramColumns {
    /// Columns for `frames` frames of `config` drawn `width` pixels wide.
    pub fn new(config: SpectrogramConfig, sample_rate: u32, frames: usize, width: usize) -> Self {
        let width = width.max(16);
        let bins = config.bins();
        Self {
            config,
            sample_rate,
            frames: frames.max(1),
            width,
            bins,
            columns: vec![f32::NEG_INFINITY; width * bins],
            seen: 0,
            first_open: 0,
        }
    }

    /// The frames column `x` covers.
    fn span(&self, x: usize) -> (usize, usize) {
        let f0 = x * self.frames / self.width;
        let f1 = ((x + 1) * self.frames / self.width)
            .max(f0 + 1)
            .min(self.frames);
        (f0, f1)
    }

    /// Adds the next frame (its dB values, `bins` of them).
    pub fn push(&mut self, frame: &[f32]) {
        let f = self.seen;
        self.seen += 1;
        while self.first_open < self.width && self.span(self.first_open).1 <= f {
            self.first_open += 1;
        }
        let mut x = self.first_open;
        while x < self.width && self.span(x).0 <= f {
            let col = &mut self.columns[x * self.bins..(x + 1) * self.bins];
            for (c, &v) in col.iter_mut().zip(frame) {
                *c = c.max(v);
            }
            x += 1;
        }
    }

    /// Draws the columns with axes, labels and a colour bar.
    pub fn render(&self, opts: &PlotOptions) -> Canvas {
        let (w, h) = (self.width, opts.height.max(16));
        let mut canvas = Canvas::new(LEFT + w + RIGHT, TOP + h + BOTTOM, BACKGROUND);
        let nyquist = f64::from(self.sample_rate) / 2.0;
        let bin_hz = f64::from(self.sample_rate) / self.config.fft as f64;
        let bins = self.bins;
        let scale = FrequencyScale::new(opts.axis, h, bin_hz, nyquist);
        for x in 0..w {
            let column = &self.columns[x * bins..(x + 1) * bins];
            for y in 0..h {
                let (hi, lo) = (scale.hz_at(y as f64), scale.hz_at(y as f64 + 1.0));
                let b0 = ((lo / bin_hz).ceil() as usize).min(bins - 1);
                let b1 = ((hi / bin_hz).floor() as usize).min(bins - 1);
                let v = if b1 >= b0 {
                    column[b0..=b1]
                        .iter()
                        .fold(f32::NEG_INFINITY, |m, &v| m.max(v))
                } else {
                    column[(((hi + lo) / 2.0 / bin_hz).round() as usize).min(bins - 1)]
                };
                let t = (v - (opts.top_db - opts.range_db)) / opts.range_db;
                canvas.set(LEFT + x, TOP + y, magma(t));
            }
        }
        let seconds = (self.frames * self.config.hop) as f64 / f64::from(self.sample_rate);
        draw_frame(&mut canvas, w, h);
        draw_time_axis(&mut canvas, seconds, w, h);
        draw_frequency_axis(&mut canvas, &scale, opts.axis, w, nyquist);
        draw_colour_bar(&mut canvas, opts, w, h);
        canvas
    }
}

/// Draws `s` with axes, labels and a colour bar.
pub fn render_spectrogram(s: &Spectrogram, opts: &PlotOptions) -> Canvas {
    let mut columns = SpectrogramColumns::new(s.config, s.sample_rate, s.frames, opts.width);
    for f in 0..s.frames {
        columns.push(s.frame(f));
    }
    columns.render(opts)
}

fn draw_frame(c: &mut Canvas, w: usize, h: usize) {
    for x in LEFT - 1..=LEFT + w {
        c.set(x, TOP - 1, GRID);
        c.set(x, TOP + h, GRID);
    }
    for y in TOP - 1..=TOP + h {
        c.set(LEFT - 1, y, GRID);
        c.set(LEFT + w, y, GRID);
    }
}

/// A "nice" step (1, 2 or 5 × 10^k) giving at most `max_ticks` ticks over `span`.
fn nice_step(span: f64, max_ticks: f64) -> f64 {
    let raw = (span / max_ticks).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * mag)
}

fn draw_time_axis(c: &mut Canvas, seconds: f64, w: usize, h: usize) {
    let step = nice_step(seconds, 10.0);
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    let mut t = 0.0;
    while t <= seconds + 1e-9 {
        let x = LEFT + ((t / seconds.max(1e-9)) * w as f64).round().min(w as f64) as usize;
        for y in TOP + h..TOP + h + 6 {
            c.set(x, y, INK);
        }
        let label = format!("{t:.decimals$}");
        let lw = Canvas::text_width(&label, 2);
        c.text(x.saturating_sub(lw / 2), TOP + h + 10, &label, 2, INK);
        t += step;
    }
    let title = "time (s)";
    c.text(
        LEFT + w / 2 - Canvas::text_width(title, 2) / 2,
        TOP + h + 36,
        title,
        2,
        INK,
    );
}

fn hz_label(hz: f64) -> String {
    if hz >= 1000.0 {
        let k = hz / 1000.0;
        if (k - k.round()).abs() < 1e-9 {
            format!("{}k", k.round())
        } else {
            format!("{k:.1}k")
        }
    } else {
        format!("{}", hz.round())
    }
}

fn draw_frequency_axis(
    c: &mut Canvas,
    scale: &FrequencyScale,
    axis: FrequencyAxis,
    w: usize,
    nyquist: f64,
) {
    let ticks: Vec<f64> = match axis {
        FrequencyAxis::Linear => {
            let step = nice_step(nyquist, 8.0);
            (0..)
                .map(|i| i as f64 * step)
                .take_while(|&f| f <= nyquist)
                .collect()
        }
        FrequencyAxis::Log => [
            20.0, 50.0, 100.0, 200.0, 500.0, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5,
        ]
        .into_iter()
        .filter(|&f| f >= scale.low && f <= nyquist)
        .collect(),
    };
    for f in ticks {
        let y = TOP + scale.row_of(f).round().clamp(0.0, scale.height as f64) as usize;
        for x in LEFT - 6..LEFT {
            c.set(x, y, INK);
        }
        for x in (LEFT..LEFT + w).step_by(4) {
            c.set(x, y, GRID);
        }
        let label = hz_label(f);
        let lw = Canvas::text_width(&label, 2);
        c.text(LEFT - 10 - lw, y.saturating_sub(7), &label, 2, INK);
    }
    c.text(8, 10, "frequency (Hz)", 2, INK);
}

fn draw_colour_bar(c: &mut Canvas, opts: &PlotOptions, w: usize, h: usize) {
    let x0 = LEFT + w + 16;
    for y in 0..h {
        let t = 1.0 - y as f32 / (h - 1) as f32;
        c.fill(x0, TOP + y, 18, 1, magma(t));
    }
    let step = nice_step(f64::from(opts.range_db), 6.0);
    let mut d = 0.0;
    while d <= f64::from(opts.range_db) + 1e-9 {
        let y = TOP + ((d / f64::from(opts.range_db)) * (h - 1) as f64).round() as usize;
        let label = format!("{}", (f64::from(opts.top_db) - d).round());
        c.fill(x0 + 18, y, 4, 1, INK);
        c.text(x0 + 26, y.saturating_sub(7), &label, 2, INK);
        d += step;
    }
    c.text(x0 - 4, 10, "dBFS", 2, INK);
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpu_dsp::analysis::spectrogram::{spectrogram_cpu, SpectrogramConfig};

    fn tone(freq: f64) -> Spectrogram {
        let rate = 48_000u32;
        let x: Vec<f32> = (0..48_000)
            .map(|i| (0.5 * (std::f64::consts::TAU * freq * i as f64 / 48_000.0).sin()) as f32)
            .collect();
        spectrogram_cpu(&[&x], rate, SpectrogramConfig::new(2048, 512).unwrap())
    }

    /// Row of the brightest pixel in the middle column of the data area.
    fn brightest_row(c: &Canvas, opts: &PlotOptions) -> usize {
        let x = LEFT + opts.width / 2;
        (0..opts.height)
            .max_by_key(|&y| {
                let p = c.get(x, TOP + y);
                u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2])
            })
            .unwrap()
    }

    #[test]
    fn a_tone_lands_on_its_row_on_both_axes() {
        for axis in [FrequencyAxis::Linear, FrequencyAxis::Log] {
            let opts = PlotOptions {
                width: 300,
                height: 200,
                axis,
                ..Default::default()
            };
            for freq in [440.0, 1000.0, 8000.0] {
                let s = tone(freq);
                let c = render_spectrogram(&s, &opts);
                assert_eq!(
                    (c.width, c.height),
                    (LEFT + 300 + RIGHT, TOP + 200 + BOTTOM)
                );
                let scale = FrequencyScale::new(axis, 200, s.bin_hz(1), 24_000.0);
                let want = scale.row_of(freq);
                let got = brightest_row(&c, &opts) as f64;
                assert!(
                    (got - want).abs() <= 2.0,
                    "{axis:?} {freq} Hz: row {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn scales_invert() {
        for axis in [FrequencyAxis::Linear, FrequencyAxis::Log] {
            let s = FrequencyScale::new(axis, 400, 11.7, 24_000.0);
            for hz in [30.0, 440.0, 12_345.0] {
                assert!((s.hz_at(s.row_of(hz)) - hz).abs() < 1e-6 * hz);
            }
        }
        assert_eq!(hz_label(1000.0), "1k");
        assert_eq!(hz_label(2500.0), "2.5k");
        assert_eq!(hz_label(500.0), "500");
        assert_eq!(nice_step(60.0, 10.0), 10.0);
        assert_eq!(nice_step(7.0, 10.0), 1.0);
    }
}
