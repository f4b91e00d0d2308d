//! A complex spectrum with a fitted model: two panels over the same axis (amplitude and phase,
//! or real and imaginary part), the measured values as points and the model as a line.

use num_complex::Complex64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::spectrum::range_of;
use super::{
    axis_label, centred_line, draw_legend, draw_points, drawing, si_scale, spectrum_chart, Figure, Fonts,
    PlotError,
};

/// Which two parts of the complex values the panels show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parts {
    /// |r| above, arg r (rad) below.
    #[default]
    AmplitudePhase,
    /// Re r above, Im r below.
    RealImaginary,
}

/// A measured complex spectrum and a model curve of it.
#[derive(Debug, Clone)]
pub struct FitFigure {
    /// First title line (the dataset and pixel) and second (the fitted parameters).
    pub title: String,
    pub subtitle: String,
    /// The axis value of each measured bin (e.g. frequency) in `x_units`, without prefix.
    pub x: Vec<f64>,
    pub x_name: String,
    pub x_units: String,
    /// The measured values, one per `x`.
    pub measured: Vec<Complex64>,
    /// Where the model is drawn, and its values there (empty: no model, e.g. an unfitted
    /// spectrum).
    pub model_x: Vec<f64>,
    pub model: Vec<Complex64>,
    /// The values' units (e.g. `V`); the quantity goes in the title.
    pub units: String,
    pub parts: Parts,
}

/// One panel: a label with its units, and the part of a value it shows.
struct Panel {
    name: String,
    units: String,
    part: fn(&Complex64) -> f64,
}

impl FitFigure {
    /// The two panels; the quantity itself is in the title, the axes say which part.
    fn panels(&self) -> [Panel; 2] {
        let (u, rad) = (self.units.clone(), "rad".to_string());
        match self.parts {
            Parts::AmplitudePhase => [
                Panel { name: "amplitude".into(), units: u, part: |z| z.norm() },
                Panel { name: "phase".into(), units: rad, part: |z| z.arg() },
            ],
            Parts::RealImaginary => [
                Panel { name: "real part".into(), units: u.clone(), part: |z| z.re },
                Panel { name: "imaginary part".into(), units: u, part: |z| z.im },
            ],
        }
    }

    /// One panel on `area`: the measured points and the model line, on the axis scaled once
    /// for both panels (`sx`).
    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &Panel,
        sx: &super::Scaled,
        f: &Fonts,
    ) -> Result<(), PlotError> {
        let err = drawing::<DB::ErrorType>("spectrum");
        let ys: Vec<f64> = self.measured.iter().map(panel.part).collect();
        let ms: Vec<f64> = self.model.iter().map(panel.part).collect();
        let max_y = ys.iter().chain(&ms).fold(0f64, |m, v| if v.is_finite() { m.max(v.abs()) } else { m });
        let sy = si_scale(&panel.units, max_y);
        let xs = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| x * sx.factor).collect() };
        let (px, mx) = (xs(&self.x), xs(&self.model_x));
        let (x0, x1) = range_of(px.iter().chain(&mx).copied(), 0.02);
        let (y0, y1) = range_of(ys.iter().chain(&ms).map(|v| v * sy.factor), 0.05);
        let descs = (axis_label(&self.x_name, &sx.units), axis_label(&panel.name, &sy.units));
        let mut chart = spectrum_chart(area, (x0, x1), (y0, y1), descs, f)?;
        draw_points(&mut chart, &px, ys.iter().map(|y| y * sy.factor), "measured")?;
        if !mx.is_empty() {
            let line_colour = RGBColor(214, 39, 40);
            let pts = mx
                .iter()
                .zip(&ms)
                .map(|(&x, &y)| (x, y * sy.factor))
                .filter(|(x, y)| x.is_finite() && y.is_finite());
            chart
                .draw_series(LineSeries::new(pts, line_colour.stroke_width(2)))
                .map_err(&err)?
                .label("SHO fit")
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], line_colour.stroke_width(2)));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight, f.tick)
    }
}

impl Figure for FitFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let (w, h) = root.dim_in_pixel();
        let f = Fonts::for_size(w, h);
        let (head, body) = root.split_vertically(f.title * 7 / 2);
        centred_line(&head, &self.title, ((w / 2) as i32, f.title as i32), f.title, true)?;
        centred_line(&head, &self.subtitle, ((w / 2) as i32, (f.title * 5 / 2) as i32), f.label, false)?;
        let max_x = self.x.iter().fold(0f64, |m, v| if v.is_finite() { m.max(v.abs()) } else { m });
        let sx = si_scale(&self.x_units, max_x);
        let half = body.dim_in_pixel().1 / 2;
        let (top, bottom) = body.split_vertically(half);
        let [a, b] = self.panels();
        self.draw_panel(&top, &a, &sx, &f)?;
        self.draw_panel(&bottom, &b, &sx, &f)
    }
}
