//! One pixel's spectrum with its peaks — the seed's first figure.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    axis_label, centred_line, draw_legend, draw_points, drawing, si_scale, spectrum_chart, Figure, Fonts,
    PlotError,
};

/// One spectrum as points against the spectroscopic values, with a vertical line at each peak.
#[derive(Debug, Clone)]
pub struct SpectrumFigure {
    /// First title line, e.g. the dataset and pixel.
    pub title: String,
    /// Second title line, e.g. the peaks' bins and frequencies.
    pub subtitle: String,
    /// Spectroscopic value of each bin (e.g. frequency), in `x_units`.
    pub x: Vec<f64>,
    pub x_name: String,
    /// Units of `x` without prefix; the axis picks one (`Hz` → `kHz`).
    pub x_units: String,
    /// The plotted value of each bin (e.g. |z|), same length as `x`.
    pub y: Vec<f64>,
    /// What `y` is, e.g. `|Deflection|`, and its units without prefix (`V` → `mV`).
    pub y_name: String,
    pub y_units: String,
    /// Bins (indices into `x`) where a peak was found.
    pub peaks: Vec<usize>,
}

/// The smallest range `lo..hi` holding every finite value, widened by `pad` of its span (and
/// never empty, so a flat or single-point series still gets an axis).
pub(crate) fn range_of(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span <= 0.0 {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.05 };
        return (lo - d, hi + d);
    }
    (lo - span * pad, hi + span * pad)
}

impl Figure for SpectrumFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let (w, h) = root.dim_in_pixel();
        let f = Fonts::for_size(w, h);
        let err = drawing::<DB::ErrorType>("spectrum");

        let (head, body) = root.split_vertically(f.title * 7 / 2);
        centred_line(&head, &self.title, ((w / 2) as i32, f.title as i32), f.title, true)?;
        centred_line(&head, &self.subtitle, ((w / 2) as i32, (f.title * 5 / 2) as i32), f.label, false)?;

        let max_x = self.x.iter().fold(0f64, |m, v| if v.is_finite() { m.max(v.abs()) } else { m });
        let sx = si_scale(&self.x_units, max_x);
        let xs: Vec<f64> = self.x.iter().map(|v| v * sx.factor).collect();
        let (x0, x1) = range_of(xs.iter().copied(), 0.02);
        let max_y = self.y.iter().fold(0f64, |m, v| if v.is_finite() { m.max(v.abs()) } else { m });
        let sy = si_scale(&self.y_units, max_y);
        let ys: Vec<f64> = self.y.iter().map(|v| v * sy.factor).collect();
        let (y0, y1) = range_of(ys.iter().copied(), 0.05);

        let descs = (axis_label(&self.x_name, &sx.units), axis_label(&self.y_name, &sy.units));
        let mut chart = spectrum_chart(&body, (x0, x1), (y0, y1), descs, &f)?;

        let peak_colour = RGBColor(214, 39, 40);
        let mut first = true;
        for &p in &self.peaks {
            let Some(&x) = xs.get(p) else { continue };
            let series = chart
                .draw_series(LineSeries::new([(x, y0), (x, y1)], peak_colour.stroke_width(2)))
                .map_err(&err)?;
            if first {
                series.label("peak (find_peaks_cwt)").legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], peak_colour.stroke_width(2))
                });
                first = false;
            }
        }
        draw_points(&mut chart, &xs, ys.iter().copied(), "spectrum")?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight, f.tick)?;
        Ok(())
    }
}
