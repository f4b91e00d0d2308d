//! Compute time and speed-up against cores: where scaling flattens.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{centred_line, draw_legend, drawing, gridded, Figure, Fonts, PlotError};
use crate::compute::bench;

/// One way of adding cores (rayon threads, MPI ranks): the median time at each count.
#[derive(Debug, Clone)]
pub struct ScalingSeries {
    /// The legend, e.g. `threads (1 rank)`.
    pub label: String,
    /// (cores, seconds), in any order.
    pub points: Vec<(usize, f64)>,
}

impl ScalingSeries {
    /// (cores, speed-up) against the series' fewest cores, scaled as if that count were ideal
    /// (speed-up = cores₀ · t₀ / t; exactly t₁ / t when one core was measured).
    fn speedups(&self) -> Vec<(usize, f64)> {
        let mut pts = self.points.clone();
        pts.sort_by_key(|p| p.0);
        let Some(&(n0, t0)) = pts.first() else { return Vec::new() };
        pts.iter().map(|&(n, t)| (n, n0 as f64 * t0 / t)).collect()
    }
}

/// Two panels side by side: compute time against cores, and speed-up against cores with the
/// ideal line.
#[derive(Debug, Clone)]
pub struct ScalingFigure {
    pub title: String,
    /// One line under the title: the data, the machine.
    pub subtitle: String,
    pub series: Vec<ScalingSeries>,
    /// The machine's cores: a dashed line marks where more workers can only share them.
    pub cores: Option<usize>,
}

impl ScalingFigure {
    /// The figure of `usid-peaks bench`: its thread timings (`threads`) and the MPI rank
    /// timings it was given (`ranks`, may be empty), of the main dataset of `file` (`shape`:
    /// pixels × bins), on a machine of `cores` cores, medians of `repeat` runs.
    pub fn of_bench(
        threads: &[bench::Row],
        ranks: &[bench::Row],
        file: &std::path::Path,
        shape: [usize; 2],
        cores: usize,
        repeat: usize,
    ) -> Self {
        let series = |label: &str, rows: &[bench::Row]| ScalingSeries {
            label: label.into(),
            points: rows.iter().map(|r| (r.workers, r.seconds)).collect(),
        };
        let mut all = vec![series("rayon threads (in memory)", threads)];
        if !ranks.is_empty() {
            all.push(series("MPI ranks x 1 thread (find)", ranks));
        }
        let name =
            file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into());
        ScalingFigure {
            title: "find_peaks_cwt over every pixel: time and speed-up against cores".into(),
            subtitle: format!(
                "{name}: {} pixels x {} bins; {cores} cores on this machine; median of {repeat} run{}",
                shape[0],
                shape[1],
                if repeat == 1 { "" } else { "s" }
            ),
            series: all,
            cores: Some(cores),
        }
    }
}

const COLOURS: [RGBColor; 4] =
    [RGBColor(31, 119, 180), RGBColor(255, 127, 14), RGBColor(44, 160, 44), RGBColor(148, 103, 189)];

impl Figure for ScalingFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let (w, h) = root.dim_in_pixel();
        let f = Fonts::for_size(w, h);
        let err = drawing::<DB::ErrorType>("scaling plot");

        let (head, body) = root.split_vertically(f.title * 3);
        centred_line(&head, &self.title, ((w / 2) as i32, f.title as i32), f.title, true)?;
        centred_line(&head, &self.subtitle, ((w / 2) as i32, (f.title * 9 / 4) as i32), f.tick, false)?;
        let (left, right) = body.split_horizontally(w / 2);

        let max_cores =
            self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).max().unwrap_or(1).max(2);
        let max_t = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(0f64, f64::max);
        let max_t = if max_t.is_finite() && max_t > 0.0 { max_t } else { 1.0 };
        let x_range = 0.5f64..max_cores as f64 + 0.5;
        let x_desc = "cores (threads or MPI ranks)";

        let mut time = ChartBuilder::on(&left)
            .margin(f.tick)
            .margin_right(f.tick * 2)
            .x_label_area_size(f.label * 3)
            .y_label_area_size(f.label * 4)
            .build_cartesian_2d(x_range.clone(), 0f64..max_t * 1.1)
            .map_err(&err)?;
        let mut speed = ChartBuilder::on(&right)
            .margin(f.tick)
            .margin_right(f.tick * 2)
            .x_label_area_size(f.label * 3)
            .y_label_area_size(f.label * 4)
            .build_cartesian_2d(x_range, 0f64..max_cores as f64 + 0.5)
            .map_err(&err)?;
        // Integer ticks only: a core count of 2.5 means nothing.
        let ticks = max_cores.min(16);
        let int_label =
            |v: &f64| if (v - v.round()).abs() < 1e-9 { format!("{}", v.round()) } else { String::new() };
        for (chart, y_desc) in [(&mut time, "compute time (s)"), (&mut speed, "speed-up (x)")] {
            gridded(
                chart
                    .configure_mesh()
                    .x_desc(x_desc)
                    .y_desc(y_desc)
                    .x_labels(ticks + 1)
                    .x_label_formatter(&int_label),
                &f,
            )
            .draw()
            .map_err(&err)?;
        }
        let grey = BLACK.mix(0.45);
        speed
            .draw_series(LineSeries::new(
                [(1.0, 1.0), (max_cores as f64, max_cores as f64)],
                grey.stroke_width(1),
            ))
            .map_err(&err)?
            .label("ideal")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey.stroke_width(1)));

        for (i, s) in self.series.iter().enumerate() {
            let c = COLOURS[i % COLOURS.len()];
            let mut pts: Vec<(f64, f64)> = s.points.iter().map(|&(n, t)| (n as f64, t)).collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let sp: Vec<(f64, f64)> = s.speedups().into_iter().map(|(n, v)| (n as f64, v)).collect();
            for (chart, data) in [(&mut time, &pts), (&mut speed, &sp)] {
                chart
                    .draw_series(LineSeries::new(data.iter().copied(), c.stroke_width(2)))
                    .map_err(&err)?
                    .label(s.label.clone())
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(2)));
                chart.draw_series(data.iter().map(|&p| Circle::new(p, 4, c.filled()))).map_err(&err)?;
            }
        }
        if let Some(n) = self.cores.filter(|&n| n < max_cores) {
            let x = n as f64 + 0.5;
            for (chart, top) in [(&mut time, max_t * 1.1), (&mut speed, max_cores as f64 + 0.5)] {
                chart
                    .draw_series(DashedLineSeries::new([(x, 0.0), (x, top)], 6, 4, grey.stroke_width(1)))
                    .map_err(&err)?
                    .label(format!("{n} cores: more workers share them"))
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey.stroke_width(1)));
            }
        }
        draw_legend(&mut time, SeriesLabelPosition::UpperRight, f.tick)?;
        draw_legend(&mut speed, SeriesLabelPosition::UpperLeft, f.tick)?;
        Ok(())
    }
}
