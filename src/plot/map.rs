//! One value per pixel over the position grid, with a colour bar.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::{ColorMap, ViridisRGB};
use plotters::style::text_anchor::{HPos, VPos};

use super::spectrum::range_of;
use super::{axis_label, centred_line, drawing, si_scale, text, Figure, Fonts, PlotError};

/// Grey for pixels without a value: outside viridis, so it cannot be mistaken for one.
const MISSING: RGBColor = RGBColor(170, 170, 170);

/// A map of one value per pixel: `values[row * x.len() + col]`, rows along Y, columns along X
/// (X varies fastest, as in USID's position order). NaN marks a pixel without a value.
#[derive(Debug, Clone)]
pub struct MapFigure {
    pub title: String,
    /// Position of each column (along X) and of each row (along Y), in their units.
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub x_name: String,
    pub x_units: String,
    pub y_name: String,
    pub y_units: String,
    /// `y.len() × x.len()` values, row-major; NaN = no value.
    pub values: Vec<f64>,
    /// What a value is (the colour bar's label) and its units (prefixed automatically).
    pub value_name: String,
    pub value_units: String,
    /// What a grey pixel means, e.g. `no peak (dead pixel)`.
    pub missing_meaning: String,
    /// Whether the values are counts or indices: the colour bar then has whole-number ticks.
    pub integers: bool,
}

/// The edges of the cells centred on `centres` (half-way between neighbours; a single cell gets
/// a unit width).
fn edges(centres: &[f64]) -> Vec<f64> {
    match centres {
        [] => vec![0.0, 1.0],
        [c] => vec![c - 0.5, c + 0.5],
        _ => {
            let n = centres.len();
            let mut e = Vec::with_capacity(n + 1);
            e.push(centres[0] - (centres[1] - centres[0]) / 2.0);
            e.extend(centres.windows(2).map(|w| (w[0] + w[1]) / 2.0));
            e.push(centres[n - 1] + (centres[n - 1] - centres[n - 2]) / 2.0);
            e
        }
    }
}

fn colour(t: f64) -> RGBColor {
    ViridisRGB.get_color_normalized(t.clamp(0.0, 1.0), 0.0, 1.0)
}

/// Where the map's pieces go: the margin and label areas around the plot, and the height to
/// spare that keeps the cells square (pixels).
struct Frame {
    margin: u32,
    x_area: u32,
    y_area: u32,
    extra_h: u32,
}

impl Frame {
    /// Above the plot area: the margin and the upper half of the height to spare. The cells
    /// and the colour bar share it, so the bar stands level with the map.
    fn top(&self) -> u32 {
        self.margin + self.extra_h / 2
    }

    /// Below the plot area (the x axis's labels not counted): the margin and the lower half.
    fn bottom(&self) -> u32 {
        self.margin + self.extra_h - self.extra_h / 2
    }
}

/// The colour scale of the values: their range (`v0..v1`, in prefixed units) and the prefix.
struct ValueScale {
    v0: f64,
    v1: f64,
    scale: super::Scaled,
}

impl ValueScale {
    /// Where `v` (unprefixed) falls on the colour scale, 0 to 1.
    fn t(&self, v: f64) -> f64 {
        (v * self.scale.factor - self.v0) / (self.v1 - self.v0)
    }
}

/// The room (width, height) to take off an `aw` × `ah` plot area so that cells spanning
/// `spx` × `spy` axis units are square. A 1-D map (one row) keeps the whole height rather than
/// a hairline.
fn room_to_spare(aw: f64, ah: f64, spx: f64, spy: f64, rows: usize) -> (u32, u32) {
    if !(spx > 0.0 && spy > 0.0 && rows > 1) {
        return (0, 0);
    }
    if spx / spy > aw / ah {
        (0, (ah - aw * spy / spx).max(0.0) as u32)
    } else {
        ((aw - ah * spx / spy).max(0.0) as u32, 0)
    }
}

impl Figure for MapFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let (nx, ny) = (self.x.len(), self.y.len());
        if self.values.len() != nx * ny {
            return Err(PlotError::usage(format!("a map of {ny} x {nx} pixels needs {} values", nx * ny)));
        }
        let (w, h) = root.dim_in_pixel();
        let f = Fonts::for_size(w, h);
        let (head, rest) = root.split_vertically(f.title * 2);
        centred_line(&head, &self.title, ((w / 2) as i32, f.title as i32), f.title, true)?;
        let (body, foot) = rest.split_vertically(rest.dim_in_pixel().1 - f.label * 2);
        let bar_width = (f.label * 8).min(w / 4);
        let (bw, _) = body.dim_in_pixel();
        let (pw, ph) = body.split_horizontally(bw - bar_width).0.dim_in_pixel();
        let max_v = self.values.iter().fold(0f64, |m, v| if v.is_finite() { m.max(v.abs()) } else { m });
        let scale = si_scale(&self.value_units, max_v);
        let (v0, v1) = range_of(self.values.iter().map(|v| v * scale.factor), 0.0);
        let values = ValueScale { v0, v1, scale };

        // Equal scales on both axes, so square pixels stay square: shrink the plot area along
        // the axis that has room to spare (centring it, the colour bar right beside it).
        let (margin, x_area, y_area) = (f.tick, f.label * 3, f.label * 4);
        let (aw, ah) = (
            pw.saturating_sub(2 * margin + y_area).max(1) as f64,
            ph.saturating_sub(2 * margin + x_area).max(1) as f64,
        );
        let (x0, x1, y0, y1) = self.extent();
        let (extra_w, extra_h) = room_to_spare(aw, ah, (x1 - x0).abs(), (y1 - y0).abs(), ny);
        let frame = Frame { margin, x_area, y_area, extra_h };
        let (_, rest) = body.split_horizontally(extra_w / 2);
        let (plot, rest) = rest.split_horizontally(pw - extra_w);
        let (bar, _) = rest.split_horizontally(bar_width);
        self.draw_cells(&plot, &frame, &f, &values)?;
        self.draw_colour_bar(&bar, &frame, &f, &values)?;
        self.draw_missing_note(&foot, &f)
    }
}

impl MapFigure {
    /// The prefixed scales of the two position axes.
    fn position_scales(&self) -> (super::Scaled, super::Scaled) {
        let pos_scale = |v: &[f64], units: &str| {
            let m = v.iter().fold(0f64, |m, x| if x.is_finite() { m.max(x.abs()) } else { m });
            si_scale(units, m)
        };
        (pos_scale(&self.x, &self.x_units), pos_scale(&self.y, &self.y_units))
    }

    /// The cells' edges along X and Y, in prefixed units.
    fn edges(&self) -> (Vec<f64>, Vec<f64>) {
        let (sx, sy) = self.position_scales();
        (
            edges(&self.x).iter().map(|v| v * sx.factor).collect(),
            edges(&self.y).iter().map(|v| v * sy.factor).collect(),
        )
    }

    /// The map's extent, `(x0, x1, y0, y1)` in prefixed units, lowest first.
    fn extent(&self) -> (f64, f64, f64, f64) {
        let (ex, ey) = self.edges();
        let (nx, ny) = (self.x.len().max(1), self.y.len().max(1));
        (ex[0].min(ex[nx]), ex[0].max(ex[nx]), ey[0].min(ey[ny]), ey[0].max(ey[ny]))
    }

    /// The cells, one per pixel, on axes with their labels.
    fn draw_cells<DB: DrawingBackend>(
        &self,
        plot: &DrawingArea<DB, Shift>,
        frame: &Frame,
        f: &Fonts,
        values: &ValueScale,
    ) -> Result<(), PlotError> {
        let err = drawing::<DB::ErrorType>("map");
        let (nx, ny) = (self.x.len(), self.y.len());
        let (sx, sy) = self.position_scales();
        let (ex, ey) = self.edges();
        let (x0, x1, y0, y1) = self.extent();
        let Frame { margin, x_area, y_area, .. } = *frame;
        let mut chart = ChartBuilder::on(plot)
            .margin_top(frame.top())
            .margin_bottom(frame.bottom())
            .margin_left(margin)
            .margin_right(margin)
            .x_label_area_size(x_area)
            .y_label_area_size(y_area)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(&err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(axis_label(&self.x_name, &sx.units))
            .y_desc(axis_label(&self.y_name, &sy.units))
            .axis_desc_style(("sans-serif", f.label))
            .label_style(("sans-serif", f.tick))
            .draw()
            .map_err(&err)?;
        chart
            .draw_series((0..ny).flat_map(|r| (0..nx).map(move |c| (r, c))).map(|(r, c)| {
                let v = self.values[r * nx + c];
                let fill = if v.is_finite() { colour(values.t(v)) } else { MISSING };
                Rectangle::new([(ex[c], ey[r]), (ex[c + 1], ey[r + 1])], fill.filled())
            }))
            .map_err(&err)?;
        Ok(())
    }

    /// The colour bar: a strip of the map's colours, its value axis on the right, level with the
    /// map.
    fn draw_colour_bar<DB: DrawingBackend>(
        &self,
        bar: &DrawingArea<DB, Shift>,
        frame: &Frame,
        f: &Fonts,
        values: &ValueScale,
    ) -> Result<(), PlotError> {
        let err = drawing::<DB::ErrorType>("map");
        let x_area = frame.x_area;
        let (v0, v1) = (values.v0, values.v1);
        let (bar_width, bar_h) = bar.dim_in_pixel();
        let (strip, gap, title_room) = (f.label + f.tick / 2, f.tick / 2, f.label * 2);
        let mut cb = ChartBuilder::on(bar)
            .margin_top(frame.top())
            .margin_bottom(frame.bottom() + x_area)
            .margin_left(gap)
            .margin_right(title_room)
            .set_label_area_size(LabelAreaPosition::Right, bar_width.saturating_sub(strip + gap + title_room))
            .build_cartesian_2d(0f64..1f64, v0..v1)
            .map_err(&err)?;
        let whole = |v: &f64| if (v - v.round()).abs() < 1e-9 { format!("{v:.0}") } else { String::new() };
        let ticks = if self.integers { ((v1 - v0).round() as usize + 1).clamp(2, 10) } else { 10 };
        let mut mesh = cb.configure_mesh();
        mesh.disable_mesh().disable_x_axis().y_labels(ticks);
        if self.integers {
            mesh.y_label_formatter(&whole);
        }
        mesh.label_style(("sans-serif", f.tick)).draw().map_err(&err)?;
        // plotters would write a right-hand axis title top to bottom; written bottom to top, as
        // the map's own y title, it reads the same way.
        let mid = frame.top() as i32 + (bar_h - frame.top() - frame.bottom() - x_area) as i32 / 2;
        bar.draw(&Text::new(
            axis_label(&self.value_name, &values.scale.units),
            ((bar_width - f.label) as i32, mid),
            text(f.label, false, HPos::Center, VPos::Center).transform(FontTransform::Rotate270),
        ))
        .map_err(&err)?;
        let steps = 256;
        cb.draw_series((0..steps).map(|i| {
            let (a, b) = (i as f64 / steps as f64, (i + 1) as f64 / steps as f64);
            let (va, vb) = (v0 + (v1 - v0) * a, v0 + (v1 - v0) * b);
            Rectangle::new([(0.0, va), (1.0, vb)], colour((a + b) / 2.0).filled())
        }))
        .map_err(&err)?;
        Ok(())
    }

    /// Under the map: what a grey cell means, and how many there are.
    fn draw_missing_note<DB: DrawingBackend>(
        &self,
        foot: &DrawingArea<DB, Shift>,
        f: &Fonts,
    ) -> Result<(), PlotError> {
        let err = drawing::<DB::ErrorType>("map");
        let missing = self.values.iter().filter(|v| !v.is_finite()).count();
        let note = format!("{}: {missing} of {} pixels", self.missing_meaning, self.values.len());
        let (fw, _) = foot.dim_in_pixel();
        let box_size = f.tick as i32;
        let text_w = foot
            .estimate_text_size(&note, &text(f.tick, false, HPos::Left, VPos::Center))
            .map_or(0, |s| s.0) as i32;
        let left = (fw as i32 - text_w - box_size * 2) / 2;
        let y = (f.label / 2) as i32;
        foot.draw(&Rectangle::new([(left, y), (left + box_size, y + box_size)], MISSING.filled()))
            .map_err(&err)?;
        foot.draw(&Text::new(
            note,
            (left + box_size * 2, y + box_size / 2),
            text(f.tick, false, HPos::Left, VPos::Center),
        ))
        .map_err(&err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::edges;

    #[test]
    fn cell_edges_lie_half_way_between_centres() {
        assert_eq!(edges(&[0.0, 1.0, 2.0]), vec![-0.5, 0.5, 1.5, 2.5]);
        assert_eq!(edges(&[3.0]), vec![2.5, 3.5]);
    }
}
