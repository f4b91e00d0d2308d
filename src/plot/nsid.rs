//! The map of peak-finding results of an NSID source: pyNSID-style `Log_Peak_Finding_NNN`
//! groups, whose `Peak_Count` (SPATIAL axes, then the source's other axes) and `Peak_Indices` /
//! `Peak_Frequencies` (the same, then `Peak`) are N-D datasets with dimension scales. The grid
//! and the step choice come from those scales, as pyNSID reads them.

use super::peaks::{base_name, Found, MapOf};
use super::{MapFigure, PlotError};
use crate::nsid::{DimensionType, NsidDataset, NsidError};
use crate::usid::select::resolve_steps;

impl From<NsidError> for PlotError {
    fn from(e: NsidError) -> Self {
        PlotError { class: e.class, message: e.message }
    }
}

/// Whether the group `found` holds results written the NSID way.
pub(super) fn is_nsid_results(found: &Found) -> bool {
    found.file.dataset(&found.at("Peak_Count/Peak_Count")).is_ok()
}

/// The picked spectrum of each pixel: its index among a pixel's spectra (row-major over the
/// other axes, the last fastest, as the results store them) and its title label.
fn chosen_spectrum(
    others: &[crate::nsid::Dimension],
    along: &str,
    steps: &[(&str, usize)],
) -> Result<(usize, String), PlotError> {
    let dims: Vec<(String, usize)> = others.iter().map(|d| (d.name.clone(), d.size())).collect();
    let wanted = resolve_steps(steps, &dims, along)?;
    let mut column = 0;
    let mut parts = Vec::new();
    for (d, w) in others.iter().zip(&wanted) {
        let step = w.unwrap_or(0);
        column = column * d.size() + step;
        let v = d.values.get(step).copied().unwrap_or(f64::NAN) as f32;
        parts.push(if d.units.is_empty() {
            format!("{}={v}", d.name)
        } else {
            format!("{}={v} {}", d.name, d.units)
        });
    }
    let label = if parts.is_empty() { String::new() } else { format!(", {}", parts.join(", ")) };
    Ok((column, label))
}

/// The map of an NSID peak-finding group: `of` at the spectrum `steps` choose, over the grid of
/// its SPATIAL axes (the last one along X).
pub(super) fn peaks_map(found: Found, of: MapOf, steps: &[(&str, usize)]) -> Result<MapFigure, PlotError> {
    let open = |name: &str| NsidDataset::open(&found.file, &found.at(&format!("{name}/{name}")));
    let count = open("Peak_Count")?;
    let freqs = open("Peak_Frequencies")?;
    let n_spatial = count.dims.iter().take_while(|d| d.dimension_type == DimensionType::Spatial).count();
    if n_spatial == 0
        || n_spatial > 2
        || count.dims[n_spatial..].iter().any(|d| d.dimension_type == DimensionType::Spatial)
    {
        return Err(PlotError::usage(format!(
            "plot --map draws 1-D or 2-D position grids; {} has {n_spatial} leading SPATIAL axes",
            count.path
        )));
    }
    let n_positions: usize = count.dims[..n_spatial].iter().map(|d| d.size()).product();
    found.check_pixels(n_positions)?;
    let others = &count.dims[n_spatial..];
    let per_pixel: usize = others.iter().map(|d| d.size()).product();
    let (column, label) = chosen_spectrum(others, &freqs.quantity, steps)?;
    let read = |ds: &NsidDataset| {
        ds.dataset().read_raw::<f64>().map_err(|e| {
            PlotError::input(format!("{}: {}: {}", found.file.filename(), ds.path, crate::error::one_line(e)))
        })
    };
    // The first peak of the chosen spectrum of each position; the peak slot is the last axis.
    let first = |ds: &NsidDataset| -> Result<Vec<f64>, PlotError> {
        let width = ds.dims.last().map_or(1, |d| d.size()).max(1);
        let v = read(ds)?;
        Ok((0..n_positions)
            .map(|p| v.get((p * per_pixel + column) * width).copied().unwrap_or(f64::NAN))
            .collect())
    };
    let along = freqs.quantity.clone();
    let (values, value_name, value_units): (Vec<f64>, String, String) = match of {
        MapOf::Frequency => (first(&freqs)?, format!("first peak's {along}"), freqs.units.clone()),
        MapOf::Index => {
            let v = first(&open("Peak_Indices")?)?;
            (
                v.into_iter().map(|i| if i < 0.0 { f64::NAN } else { i }).collect(),
                "first peak's bin index".into(),
                String::new(),
            )
        }
        MapOf::Count => {
            let v = read(&count)?;
            let v = (0..n_positions).map(|p| v.get(p * per_pixel + column).copied().unwrap_or(f64::NAN));
            (
                v.map(|c| if c == 0.0 { f64::NAN } else { c }).collect(),
                "number of peaks".into(),
                String::new(),
            )
        }
    };
    let (x_dim, y_dim) = (&count.dims[n_spatial - 1], (n_spatial == 2).then(|| &count.dims[0]));
    Ok(MapFigure {
        title: format!(
            "{}: {value_name}{label} ({})",
            base_name(&found.group.source_dataset),
            base_name(&found.group.path)
        ),
        x: x_dim.values.clone(),
        y: y_dim.map_or(vec![0.0], |d| d.values.clone()),
        x_name: x_dim.name.clone(),
        x_units: x_dim.units.clone(),
        y_name: y_dim.map_or(String::new(), |d| d.name.clone()),
        y_units: y_dim.map_or(String::new(), |d| d.units.clone()),
        values,
        value_name,
        value_units,
        missing_meaning: "no peak, e.g. a dead pixel".into(),
        integers: of != MapOf::Frequency,
    })
}
