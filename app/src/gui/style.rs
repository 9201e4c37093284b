//! The window's colours and panel style.

use iced::widget::container;
use iced::Color;

pub const GREEN: Color = Color::from_rgb(0.30, 0.80, 0.40);
pub const AMBER: Color = Color::from_rgb(0.95, 0.70, 0.20);
pub const RED: Color = Color::from_rgb(0.95, 0.25, 0.25);
pub const DIM: Color = Color::from_rgb(0.45, 0.47, 0.52);
pub const PANEL: Color = Color::from_rgb(0.11, 0.12, 0.14);

/// A panel's background.
pub fn panel_style() -> container::Style {
    container::Style {
        background: Some(PANEL.into()),
        border: iced::Border {
            radius: 4.0.into(),
            ..Default::default()
        },
        ..Default::default()
    }
}
