//! Pictures of spectra, maps and scaling studies, drawn in Rust with `plotters` (PNG, or SVG when
//! the file name ends in `.svg`) — so a user needs no Python to look at results.
//!
//! * [`SpectrumFigure`] — one pixel's spectrum as points with a vertical line at each peak.
//! * [`MapFigure`] — one value per pixel over the position grid, with a colour bar; pixels without
//!   a value (no peak, dead) are drawn grey.
//! * [`FitFigure`] — one pixel's complex spectrum (amplitude and phase, or real and imaginary
//!   part) with a fitted model curve.
//! * [`ScalingFigure`] — compute time and speed-up against cores (threads, MPI ranks).
//!
//! [`spectrum_figure`] and [`map_figure`] make the first two from a file: a pixel's spectrum and
//! peaks, and the newest complete results over the grid — peak finding's, or one field of the
//! SHO fit's records; [`sho_spectrum_figure`] a pixel's spectrum with its SHO fit.
//!
//! Text is rendered with a TrueType font read at run time (the file `USID_PEAKS_FONT` names, else
//! the system's DejaVu Sans, Liberation Sans or Arial), so no fontconfig or freetype is needed to
//! build or run.

mod fitted;
mod font;
mod map;
mod nsid;
mod peaks;
mod scaling;
mod sho;
mod spectrum;
mod units;

use std::path::Path;

use crate::error::Class;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub use fitted::{FitFigure, Parts};
pub use map::MapFigure;
pub use peaks::{map_figure, spectrum_figure, MapOf, MapQuery, MapWhat};
pub use scaling::{ScalingFigure, ScalingSeries};
pub use sho::{sho_field, sho_spectrum_figure, ShoPixelQuery, DEFAULT_SHO_FIELD};
pub use spectrum::SpectrumFigure;
pub(crate) use units::{si_scale, Scaled};

/// Why a picture could not be made: one line naming the file or what is missing, and whose to
/// fix — a missing font or a too-small size is the user's ([`Class::Usage`]); a file that cannot be
/// written is an output error ([`Class::Output`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PlotError {
    pub class: Class,
    pub message: String,
}

impl PlotError {
    /// A picture the user's options cannot make.
    pub fn usage(message: impl Into<String>) -> Self {
        PlotError { class: Class::Usage, message: message.into() }
    }
    /// A picture that cannot be written.
    pub fn output(message: impl Into<String>) -> Self {
        PlotError { class: Class::Output, message: message.into() }
    }
    /// A picture of data that cannot be read or is not what it should be.
    pub fn input(message: impl Into<String>) -> Self {
        PlotError { class: Class::Input, message: message.into() }
    }
}

impl std::fmt::Display for PlotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for PlotError {}

/// The picture's pixel size (width, height); SVG uses it as its view box.
pub type Size = (u32, u32);

/// The smallest picture that keeps every label readable.
pub const MIN_SIZE: Size = (400, 300);

/// A figure that can draw itself on any `plotters` backend.
pub trait Figure {
    /// Draw on `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

/// Whether `path` names an SVG file (by its extension, any case); everything else is PNG.
fn is_svg(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("svg"))
}

/// Draw `figure` into `path`: SVG when the name ends in `.svg`, PNG otherwise, `size` pixels.
pub fn save<F: Figure>(figure: &F, path: &Path, size: Size) -> Result<(), PlotError> {
    if size.0 < MIN_SIZE.0 || size.1 < MIN_SIZE.1 {
        return Err(PlotError::usage(format!(
            "a picture must be at least {}x{} pixels, not {}x{}",
            MIN_SIZE.0, MIN_SIZE.1, size.0, size.1
        )));
    }
    font::ensure()?;
    let here = path.display();
    // plotters would report a missing folder only as a nested backend error, after drawing.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.is_dir()) {
        return Err(PlotError::usage(format!(
            "{here}: cannot write the picture: {} is not a folder",
            dir.display()
        )));
    }
    if is_svg(path) {
        let root = SVGBackend::new(path, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| PlotError::usage(format!("{here}: {e}")))?;
        figure.draw(&root)?;
        root.present().map_err(|e| PlotError::output(format!("{here}: cannot write the picture: {e}")))
    } else {
        let root = BitMapBackend::new(path, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| PlotError::usage(format!("{here}: {e}")))?;
        figure.draw(&root)?;
        root.present().map_err(|e| PlotError::output(format!("{here}: cannot write the picture: {e}")))
    }
}

/// A plotters drawing error as a [`PlotError`] that says what was being drawn.
pub(crate) fn drawing<E: std::error::Error + Send + Sync>(
    what: &'static str,
) -> impl Fn(DrawingAreaErrorKind<E>) -> PlotError {
    move |e| PlotError::usage(format!("cannot draw the {what}: {e}"))
}

/// `name (units)`, or `name` alone when there are no units.
pub(crate) fn axis_label(name: &str, units: &str) -> String {
    if units.is_empty() {
        name.to_string()
    } else {
        format!("{name} ({units})")
    }
}

/// Text sizes, in pixels, scaled with the picture so large pictures stay readable. Every size is
/// even: plotters' pure-Rust text route puts each glyph's top at `size / 2` plus the glyph's
/// (whole-pixel) top and truncates that to a pixel, which rounds glyphs reaching above the
/// middle of the line down and glyphs below it (the decimal point) up — at an odd size the point
/// sat a pixel high against the digits, plain to see at small sizes. At an even size the sum is a
/// whole number and every glyph keeps its own baseline.
pub(crate) struct Fonts {
    pub title: u32,
    pub label: u32,
    pub tick: u32,
}

impl Fonts {
    pub(crate) fn for_size(w: u32, h: u32) -> Fonts {
        let s = (w.min(h * 4 / 3) as f64 / 1000.0).max(0.6);
        let px = |base: f64| even(base * s);
        Fonts { title: px(24.0), label: px(20.0), tick: px(16.0) }
    }
}

/// `px` rounded to the nearest even number of pixels (see [`Fonts`]).
fn even(px: f64) -> u32 {
    (px / 2.0).round() as u32 * 2
}

/// Our sans-serif at `size` pixels, anchored at the text's (`h`, `v`) point.
pub(crate) fn text(size: u32, bold: bool, h: HPos, v: VPos) -> TextStyle<'static> {
    let font = ("sans-serif", size).into_font();
    let font = if bold { font.style(FontStyle::Bold) } else { font };
    TextStyle::from(font).pos(Pos::new(h, v))
}

/// Draw one line of text centred at `(x, y)` of `area`, shrinking the font (down to 60 %) and
/// then shortening the text with `…` until it fits the area's width — a long list of peaks must
/// not run off the picture.
pub(crate) fn centred_line<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    line: &str,
    at: (i32, i32),
    size: u32,
    bold: bool,
) -> Result<(), PlotError> {
    let room = area.dim_in_pixel().0.saturating_sub(size * 2);
    let width = |t: &str, s: u32| {
        area.estimate_text_size(t, &text(s, bold, HPos::Center, VPos::Center)).map_or(u32::MAX, |d| d.0)
    };
    // Two pixels a step: the sizes stay even (see `Fonts`).
    let mut s = size;
    while s >= size * 6 / 10 + 2 && width(line, s) > room {
        s -= 2;
    }
    let mut chars: Vec<char> = line.chars().collect();
    let mut shown = line.to_string();
    while width(&shown, s) > room && chars.len() > 1 {
        chars.pop();
        shown = chars.iter().collect::<String>() + "…";
    }
    area.draw(&Text::new(shown, at, text(s, bold, HPos::Center, VPos::Center)))
        .map_err(|e| PlotError::usage(format!("cannot draw a title: {e}")))
}

/// The grid and axis texts of the charts with a grid (spectrum, scaling): our fonts, faint major
/// lines, no minor ones.
pub(crate) fn gridded<'m, 'a, 'b, X, Y, DB>(
    mesh: &'m mut plotters::chart::MeshStyle<'a, 'b, X, Y, DB>,
    f: &Fonts,
) -> &'m mut plotters::chart::MeshStyle<'a, 'b, X, Y, DB>
where
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
    DB: DrawingBackend,
{
    mesh.axis_desc_style(("sans-serif", f.label))
        .label_style(("sans-serif", f.tick))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
}

/// A chart with f64 axes, as every figure here draws.
pub(crate) type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// A chart of a spectrum on `area`: f64 axes over `x` and `y`, labelled `x_desc` and
/// `y_desc`, with the faint grid of [`gridded`] — the spectrum figures' one layout.
pub(crate) fn spectrum_chart<'a, DB: DrawingBackend + 'a>(
    area: &'a DrawingArea<DB, Shift>,
    x: (f64, f64),
    y: (f64, f64),
    (x_desc, y_desc): (String, String),
    f: &Fonts,
) -> Result<Chart<'a, DB>, PlotError> {
    let err = drawing::<DB::ErrorType>("spectrum");
    let mut chart = ChartBuilder::on(area)
        .margin(f.tick)
        .margin_right(f.tick * 2)
        .x_label_area_size(f.label * 3)
        .y_label_area_size(f.label * 4)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .map_err(&err)?;
    gridded(chart.configure_mesh().x_desc(x_desc).y_desc(y_desc), f).draw().map_err(&err)?;
    Ok(chart)
}

/// The measured values as points (the finite ones), with `label` in the legend.
pub(crate) fn draw_points<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    xs: &[f64],
    ys: impl Iterator<Item = f64>,
    label: &str,
) -> Result<(), PlotError> {
    let colour = RGBColor(31, 119, 180);
    chart
        .draw_series(
            xs.iter()
                .zip(ys)
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|(&x, y)| Circle::new((x, y), 3, colour.filled())),
        )
        .map_err(drawing::<DB::ErrorType>("spectrum"))?
        .label(label)
        .legend(move |(x, y)| Circle::new((x + 10, y), 3, colour.filled()));
    Ok(())
}

/// The series legend in one style for every figure: a light box at `pos`.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    pos: SeriesLabelPosition,
    size: u32,
) -> Result<(), PlotError> {
    chart
        .configure_series_labels()
        .position(pos)
        .label_font(("sans-serif", size))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(|e| PlotError::usage(format!("cannot draw the legend: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_size_is_even_so_the_decimal_point_keeps_the_digits_baseline() {
        for w in (MIN_SIZE.0..4000).step_by(13) {
            for h in [MIN_SIZE.1, w * 3 / 4, w] {
                let f = Fonts::for_size(w, h);
                for size in [f.title, f.label, f.tick] {
                    assert!(size % 2 == 0 && size >= 8, "{w}x{h}: text size {size}");
                }
            }
        }
    }
}
