//! `find_peaks_cwt` transcribed step by step from scipy's algorithm, one spectrum at a time,
//! with plain vectors: the yardstick of the fast path.
use super::direct::convolve_same;
use super::params::{CwtParams, ResolvedParams, SnrFrom};
use super::ridges::{interpolate, noise_window, numpy_argsort, numpy_order, passes_snr};
use super::ridges::{percentile_at, PercentileAt};
use super::wavelet::Kernel;
use super::CwtError;

/// `scipy.signal.find_peaks_cwt(data, widths, ...)` with the Ricker wavelet: the sorted peak
/// indices, duplicates kept. Slow (a direct convolution per width, a full sort per noise
/// window); [`super::PeakFinder`] gives the same peaks much faster.
pub fn find_peaks_cwt(data: &[f64], params: &CwtParams) -> Result<Vec<usize>, CwtError> {
    let p = params.validate(data.len())?;
    Ok(peaks_from_cwt(&cwt_rows(data, &p.widths), &p))
}

/// scipy's `_cwt(data, _ricker, widths)`: one row per width, `data.len()` values each.
pub fn cwt_matrix(data: &[f64], params: &CwtParams) -> Result<Vec<Vec<f64>>, CwtError> {
    Ok(cwt_rows(data, &params.validate(data.len())?.widths))
}

fn cwt_rows(data: &[f64], widths: &[f64]) -> Vec<Vec<f64>> {
    let len = data.len();
    widths
        .iter()
        .map(|&w| {
            let mut row = vec![0.0; len];
            convolve_same(data, &Kernel::new(w, len), &mut row);
            row
        })
        .collect()
}

/// The ridge-line and filter stages of `find_peaks_cwt` on a given CWT matrix (`rows × len`,
/// one row per width of `p`, `p` as [`CwtParams::validate`] returns it): the sorted peak indices.
pub fn peaks_from_cwt(cwt: &[Vec<f64>], p: &ResolvedParams) -> Vec<usize> {
    let Some(row_one) = cwt.first() else {
        return Vec::new();
    };
    let len = row_one.len();
    let lines = identify_ridge_lines(cwt, &p.max_distances, p.gap_thresh);
    let noises: Vec<f64> = (0..len)
        .map(|col| {
            let mut window = row_one[noise_window(col, len, p.window_size)].to_vec();
            window.sort_by(numpy_order);
            match window.len() {
                0 => f64::NAN,
                n => match percentile_at(n, p.noise_perc) {
                    PercentileAt::Rank(i) => window[i],
                    PercentileAt::Between(i, wl, wh) => interpolate(window[i], window[i + 1], wl, wh),
                },
            }
        })
        .collect();
    let mut peaks: Vec<usize> = lines
        .iter()
        .filter(|(rows, cols)| {
            if rows.len() < p.min_length {
                return false;
            }
            let signal = match p.snr_from {
                SnrFrom::RidgeEnd => cwt[rows[0]][cols[0]],
                SnrFrom::RidgeMax => {
                    rows.iter().zip(cols.iter()).fold(f64::NAN, |m, (&r, &c)| m.max(cwt[r][c]))
                }
            };
            passes_snr(signal, noises[cols[0]], p.min_snr)
        })
        .map(|(_, cols)| cols[0])
        .collect();
    peaks.sort_unstable();
    peaks
}

/// scipy's `_identify_ridge_lines`: each line as (rows, cols) in scipy's order, closed lines
/// first, then the lines still open at row 0.
fn identify_ridge_lines(
    cwt: &[Vec<f64>],
    max_distances: &[f64],
    gap_thresh: f64,
) -> Vec<(Vec<usize>, Vec<usize>)> {
    let is_max: Vec<Vec<bool>> = cwt
        .iter()
        .map(|row| {
            (0..row.len())
                .map(|i| {
                    let left = row[i.saturating_sub(1)];
                    let right = row[(i + 1).min(row.len() - 1)];
                    row[i] > left && row[i] > right
                })
                .collect()
        })
        .collect();
    let maxima = |r: usize| -> Vec<usize> { (0..is_max[r].len()).filter(|&c| is_max[r][c]).collect() };
    let Some(start_row) = (0..cwt.len()).rev().find(|&r| is_max[r].contains(&true)) else {
        return Vec::new();
    };
    struct Line {
        rows: Vec<usize>,
        cols: Vec<usize>,
        gap: usize,
    }
    let mut open: Vec<Line> = maxima(start_row)
        .into_iter()
        .map(|c| Line { rows: vec![start_row], cols: vec![c], gap: 0 })
        .collect();
    let mut closed: Vec<Line> = Vec::new();
    for row in (0..start_row).rev() {
        for line in open.iter_mut() {
            line.gap += 1;
        }
        let prev_cols: Vec<usize> = open.iter().map(|l| l.cols[l.cols.len() - 1]).collect();
        for col in maxima(row) {
            let mut joined = false;
            if !prev_cols.is_empty() {
                let diffs: Vec<usize> = prev_cols.iter().map(|&c| c.abs_diff(col)).collect();
                let mut closest = 0;
                for (k, &d) in diffs.iter().enumerate() {
                    if d < diffs[closest] {
                        closest = k;
                    }
                }
                if diffs[closest] as f64 <= max_distances[row] {
                    let line = &mut open[closest];
                    line.cols.push(col);
                    line.rows.push(row);
                    line.gap = 0;
                    joined = true;
                }
            }
            if !joined {
                open.push(Line { rows: vec![row], cols: vec![col], gap: 0 });
            }
        }
        for k in (0..open.len()).rev() {
            if open[k].gap as f64 > gap_thresh {
                closed.push(open.remove(k));
            }
        }
    }
    let mut order = Vec::new();
    closed
        .into_iter()
        .chain(open)
        .map(|line| {
            let keys: Vec<i64> = line.rows.iter().map(|&r| r as i64).collect();
            numpy_argsort(&keys, &mut order);
            // scipy writes `rows[sortargs] = line[0]`: a scatter through the argsort, which
            // sorts only when the permutation is its own inverse. A line joined twice in one row
            // can come out unsorted, and its "first" point is then not its lowest one.
            let mut rows = vec![0; keys.len()];
            let mut cols = vec![0; keys.len()];
            for (k, &dest) in order.iter().enumerate() {
                rows[dest] = line.rows[k];
                cols[dest] = line.cols[k];
            }
            (rows, cols)
        })
        .collect()
}
