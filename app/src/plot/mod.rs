//! Drawing analysis results into PNG files: an RGB canvas, a bitmap font, a colour map, and
//! the spectrogram plot with its axes.

mod colormap;
mod font;
mod spectrogram;

pub use colormap::magma;
pub use spectrogram::{
    render_spectrogram, FrequencyAxis, PlotOptions, SpectrogramColumns, MAX_COLUMN_VALUES,
};

use crate::io::{write_staged, Staged};
use anyhow::Result;
use std::path::Path;

/// An RGB image.
pub struct Canvas {
    pub width: usize,
    pub height: usize,
    pixels: Vec<[u8; 3]>,
}

impl Canvas {
    /// A canvas filled with `background`.
    pub fn new(width: usize, height: usize, background: [u8; 3]) -> Self {
        Self {
            width,
            height,
            pixels: vec![background; width * height],
        }
    }

    /// Sets a pixel; outside the canvas is ignored.
    pub fn set(&mut self, x: usize, y: usize, c: [u8; 3]) {
        if x < self.width && y < self.height {
            self.pixels[y * self.width + x] = c;
        }
    }

    /// The pixel at (x, y).
    pub fn get(&self, x: usize, y: usize) -> [u8; 3] {
        self.pixels[y * self.width + x]
    }

    /// Fills a rectangle.
    pub fn fill(&mut self, x: usize, y: usize, w: usize, h: usize, c: [u8; 3]) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.set(xx, yy, c);
            }
        }
    }

    /// Draws `text` with its top-left corner at (x, y), glyphs scaled by `scale`.
    pub fn text(&mut self, x: usize, y: usize, text: &str, scale: usize, c: [u8; 3]) {
        for (i, ch) in text.chars().enumerate() {
            let rows = font::glyph(ch);
            let gx = x + i * 6 * scale;
            for (r, bits) in rows.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0x10 >> col) != 0 {
                        self.fill(gx + col * scale, y + r * scale, scale, scale, c);
                    }
                }
            }
        }
    }

    /// Width in pixels of `text` at `scale`.
    pub fn text_width(text: &str, scale: usize) -> usize {
        (text.chars().count() * 6).saturating_sub(1) * scale
    }

    /// Writes the canvas as an 8-bit RGB PNG, atomically.
    pub fn save_png(&self, path: &Path) -> Result<()> {
        self.save_png_staged(path)?.commit()
    }

    /// Writes the PNG to a temporary file staged for `path` (renamed by the caller).
    pub fn save_png_staged(&self, path: &Path) -> Result<Staged> {
        write_staged(path, |file| {
            let mut encoder = png::Encoder::new(
                std::io::BufWriter::new(file),
                self.width as u32,
                self.height as u32,
            );
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header()?;
            let data: Vec<u8> = self.pixels.iter().flatten().copied().collect();
            writer.write_image_data(&data)?;
            writer.finish()?;
            Ok(())
        })
    }
}
