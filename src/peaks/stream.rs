//! Peak finding's results written batch by batch ([`crate::compute::ResultsWriter`]).
//!
//! The width of the peak slot (the most peaks of any spectrum) is known only once every spectrum
//! is: `Peak_Indices` and `Peak_Frequencies` are chunked datasets, unlimited along the columns,
//! created at the first batch as wide as its widest row and grown (resized, the new columns
//! HDF5's fill value: -1 and NaN, as the whole write pads) when a wider row arrives. With one
//! spectrum per pixel the columns are the peak slots, so growing moves nothing; with several
//! (`Peak × DC_Offset`), the peak slot varies fastest, so the rows already written are re-laid
//! to the new width, block by block. Their spectroscopic datasets (`Peak` × the others) are
//! written at the end, for the final width. `Peak_Count`'s width is known from the start.

use std::ops::Range;

use hdf5::{Dataset, H5Type};
use ndarray::{s, Array2};

use super::PeakFinding;
use crate::compute::{ResultsWriter, WriteTarget};
use crate::usid::write::{self, Ancillary, DimSpec, MainSpec};
use crate::usid::UsidError;

/// About this many bytes per chunk of the growing datasets: a batch's rows are written as a few
/// whole chunks, and a re-lay reads and writes one block of chunks at a time.
const CHUNK_BYTES: usize = 1 << 20;

/// [`PeakFinding`]'s streamed writer.
pub(super) struct PeakWriter<'t> {
    finding: &'t PeakFinding,
    target: &'t WriteTarget<'t>,
    per_pixel: usize,
    count: Dataset,
    /// `Peak_Indices`, `Peak_Frequencies`, their width and rows per chunk, from the first batch.
    slots: Option<Slots>,
    /// The pixels written so far (re-laid when the slot grows with several spectra per pixel).
    written: Vec<Range<u64>>,
}

struct Slots {
    indices: Dataset,
    freqs: Dataset,
    width: usize,
    chunk_rows: usize,
}

impl<'t> PeakWriter<'t> {
    /// Creates `Peak_Count` (and its own spectroscopic axes, renamed `Count_*` so that the peak
    /// axes can take the standard names at the end).
    pub(super) fn begin(finding: &'t PeakFinding, target: &'t WriteTarget<'t>) -> Result<Self, UsidError> {
        let per_pixel: usize = finding.others.iter().map(|d| d.values.len()).product();
        let g = target.group;
        let h5 = |what: &str, e: hdf5::Error| UsidError(format!("{}: {what}: {e}", g.name()));
        let count_axis = if finding.others.is_empty() {
            vec![DimSpec::new("Count", "", vec![0.0])]
        } else {
            finding.others.clone()
        };
        let count = write::create_main_dataset::<u32>(
            g,
            MainSpec {
                name: "Peak_Count",
                n_positions: target.source.n_positions,
                n_bins: per_pixel,
                quantity: "Peak count",
                units: "",
                pos: Ancillary::Existing { indices: target.position_indices, values: target.position_values },
                spec: Ancillary::New(count_axis),
                chunk_rows: None,
            },
        )?;
        // HDF5 1.14 (Debian 13) crashes inside the rename below (H5Lmove's name update, a null
        // file pointer) when its metadata cache holds entries it could not write, as past a
        // file-size limit; written out first, such a failure is this error instead.
        g.file().and_then(|f| f.flush()).map_err(|e| h5("cannot write Peak_Count", e))?;
        for name in ["Spectroscopic_Indices", "Spectroscopic_Values"] {
            g.relink(name, &format!("Count_{name}")).map_err(|e| h5("cannot rename the count axis", e))?;
        }
        Ok(PeakWriter { finding, target, per_pixel, count, slots: None, written: Vec::new() })
    }

    fn h5(&self, what: &str, e: hdf5::Error) -> UsidError {
        UsidError(format!("{}: {what}: {e}", self.target.group.name()))
    }

    /// The slot datasets, at least `width` peaks wide (created or grown).
    fn slots_for(&mut self, width: usize) -> Result<&Slots, UsidError> {
        let (n, pp) = (self.target.source.n_positions, self.per_pixel);
        match &mut self.slots {
            None => {
                let chunk_rows = (CHUNK_BYTES / (pp * width * 8)).clamp(1, n.max(1));
                let g = self.target.group;
                let make = |name: &str, fill: hdf5::types::OwnedDynValue, float: bool| {
                    let b = if float { g.new_dataset::<f64>() } else { g.new_dataset::<i32>() };
                    b.shape((n, (pp * width)..)).chunk((chunk_rows, pp * width)).fill_value(fill).create(name)
                };
                let indices = make("Peak_Indices", (-1i32).into(), false)
                    .map_err(|e| self.h5("cannot create Peak_Indices", e))?;
                let freqs = make("Peak_Frequencies", f64::NAN.into(), true)
                    .map_err(|e| self.h5("cannot create Peak_Frequencies", e))?;
                self.slots = Some(Slots { indices, freqs, width, chunk_rows });
            }
            Some(slots) if slots.width < width => {
                let old = slots.width;
                for ds in [&slots.indices, &slots.freqs] {
                    ds.resize((n, pp * width))
                        .map_err(|e| UsidError(format!("cannot grow {}: {e}", ds.name())))?;
                }
                slots.width = width;
                if pp > 1 {
                    for r in &self.written {
                        relay::<i32>(&slots.indices, r, slots.chunk_rows, pp, old, width, -1)?;
                        relay::<f64>(&slots.freqs, r, slots.chunk_rows, pp, old, width, f64::NAN)?;
                    }
                }
            }
            Some(_) => {}
        }
        self.slots.as_ref().ok_or_else(|| UsidError("the peak datasets were not made".into()))
    }
}

/// Re-lay the rows `rows` of `ds`, written `old` peaks wide with `pp` spectra per pixel, to `new`
/// peaks wide (the dataset already has the columns), `block` rows at a time.
fn relay<T: H5Type + Copy>(
    ds: &Dataset,
    rows: &Range<u64>,
    block: usize,
    pp: usize,
    old: usize,
    new: usize,
    fill: T,
) -> Result<(), UsidError> {
    let err = |e: hdf5::Error| UsidError(format!("cannot widen {}: {e}", ds.name()));
    let mut at = rows.start as usize;
    while at < rows.end as usize {
        let end = (at + block).min(rows.end as usize);
        let before: Array2<T> = ds.read_slice_2d(s![at..end, 0..pp * old]).map_err(err)?;
        let mut after = Array2::<T>::from_elem((end - at, pp * new), fill);
        for spectrum in 0..pp {
            after
                .slice_mut(s![.., spectrum * new..spectrum * new + old])
                .assign(&before.slice(s![.., spectrum * old..(spectrum + 1) * old]));
        }
        ds.write_slice(&after, s![at..end, ..]).map_err(err)?;
        at = end;
    }
    Ok(())
}

impl ResultsWriter<u32> for PeakWriter<'_> {
    fn write_rows(&mut self, pixels: Range<u64>, counts: &[u32], items: &[u32]) -> Result<(), UsidError> {
        let (rows, pp) = ((pixels.end - pixels.start) as usize, self.per_pixel);
        if counts.len() != rows * pp {
            return Err(UsidError(format!("{} results for {} spectra", counts.len(), rows * pp)));
        }
        // HDF5 datasets need at least one column, even when no spectrum has a peak.
        let widest = counts.iter().copied().max().unwrap_or(0).max(1) as usize;
        let width = self.slots_for(widest)?.width;
        let axis = &self.finding.axis;
        let mut indices = Array2::<i32>::from_elem((rows, pp * width), -1);
        let mut freqs = Array2::<f64>::from_elem((rows, pp * width), f64::NAN);
        let mut count = Array2::<u32>::zeros((rows, pp));
        let mut at = 0usize;
        for (i, &c) in counts.iter().enumerate() {
            let (pixel, spectrum) = (i / pp, i % pp);
            count[[pixel, spectrum]] = c;
            let peaks = items
                .get(at..at + c as usize)
                .ok_or_else(|| UsidError("too few peaks for their counts".into()))?;
            for (j, &p) in peaks.iter().enumerate() {
                // The peak slot varies fastest, then the other dimensions.
                indices[[pixel, spectrum * width + j]] = p as i32;
                freqs[[pixel, spectrum * width + j]] = axis.get(p as usize).copied().unwrap_or(f64::NAN);
            }
            at += c as usize;
        }
        let (a, b) = (pixels.start as usize, pixels.end as usize);
        let slots = self.slots.as_ref().ok_or_else(|| UsidError("the peak datasets were not made".into()))?;
        self.count.write_slice(&count, s![a..b, ..]).map_err(|e| self.h5("cannot write Peak_Count", e))?;
        slots
            .indices
            .write_slice(&indices, s![a..b, ..])
            .map_err(|e| self.h5("cannot write Peak_Indices", e))?;
        slots
            .freqs
            .write_slice(&freqs, s![a..b, ..])
            .map_err(|e| self.h5("cannot write Peak_Frequencies", e))?;
        if pp > 1 {
            self.written.push(pixels);
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), UsidError> {
        let width = self.slots_for(1)?.width;
        let Some(slots) = &self.slots else {
            return Err(UsidError("the peak datasets were not made".into()));
        };
        let (g, t, f) = (self.target.group, self.target, self.finding);
        let pos = || Ancillary::Existing { indices: t.position_indices, values: t.position_values };
        let mut peak_axis = vec![DimSpec::linear("Peak", "", 0.0, 1.0, width)];
        peak_axis.extend(f.others.iter().cloned());
        write::make_main(g, &slots.indices, "Peak index", "", pos(), Ancillary::New(peak_axis))?;
        let (si, sv) = (
            g.dataset("Spectroscopic_Indices").map_err(|e| self.h5("Spectroscopic_Indices", e))?,
            g.dataset("Spectroscopic_Values").map_err(|e| self.h5("Spectroscopic_Values", e))?,
        );
        let spec = Ancillary::Existing { indices: &si, values: &sv };
        write::make_main(g, &slots.freqs, &f.axis_name, &f.axis_units, pos(), spec)
    }
}
