//! Peak finding's results written batch by batch ([`crate::compute::ResultsWriter`]), as USID
//! main datasets ([`PeakWriter`]) or as NSID datasets ([`PeakNsidWriter`]).
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
use crate::compute::{NsidWriteTarget, ResultsWriter, WriteTarget};
use crate::nsid::{
    create_growing_nsid_dataset, create_nsid_dataset, data_type_of, grow_last_axis, write_positions,
    Dimension, DimensionType, NsidError, NsidSpec,
};
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
                name: PEAK_COUNT,
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
                let indices = make(PEAK_INDICES, (-1i32).into(), false)
                    .map_err(|e| self.h5("cannot create Peak_Indices", e))?;
                let freqs = make(PEAK_FREQUENCIES, f64::NAN.into(), true)
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
        made(&self.slots)
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
        one_per_spectrum(counts, rows * pp)?;
        // HDF5 datasets need at least one column, even when no spectrum has a peak.
        let width = self.slots_for(widest(counts))?.width;
        // The peak slot varies fastest, then the other dimensions.
        let (indices, freqs) = self.finding.slot_rows(counts, items, width)?;
        let shaped = |e: ndarray::ShapeError| UsidError(format!("internal: {e}"));
        let indices = Array2::from_shape_vec((rows, pp * width), indices).map_err(shaped)?;
        let freqs = Array2::from_shape_vec((rows, pp * width), freqs).map_err(shaped)?;
        let count = ndarray::ArrayView2::from_shape((rows, pp), counts).map_err(shaped)?;
        let (a, b) = (pixels.start as usize, pixels.end as usize);
        let slots = made(&self.slots)?;
        self.count.write_slice(count, s![a..b, ..]).map_err(|e| self.h5("cannot write Peak_Count", e))?;
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
        let slots = made(&self.slots)?;
        let (g, t, f) = (self.target.group, self.target, self.finding);
        let pos = || Ancillary::Existing { indices: t.position_indices, values: t.position_values };
        let mut peak_axis = vec![DimSpec::linear(PEAK_AXIS, "", 0.0, 1.0, width)];
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

/// The widest row of `counts`: HDF5 datasets need at least one column, even when no spectrum has
/// a peak.
fn widest(counts: &[u32]) -> usize {
    counts.iter().copied().max().unwrap_or(0).max(1) as usize
}

impl PeakFinding {
    /// Each spectrum's peaks (`counts`, `items`: a [`ResultsWriter`]'s rows) in `width` slots,
    /// spectrum after spectrum: their indices (bins) padded with -1, and the along dimension's
    /// values at them padded with NaN.
    fn slot_rows(
        &self,
        counts: &[u32],
        items: &[u32],
        width: usize,
    ) -> Result<(Vec<i32>, Vec<f64>), UsidError> {
        let mut indices = vec![-1i32; counts.len() * width];
        let mut values = vec![f64::NAN; counts.len() * width];
        let mut at = 0usize;
        for (i, &c) in counts.iter().enumerate() {
            let peaks = items
                .get(at..at + c as usize)
                .ok_or_else(|| UsidError("too few peaks for their counts".into()))?;
            for (j, &p) in peaks.iter().enumerate() {
                indices[i * width + j] = p as i32;
                values[i * width + j] = self.axis.get(p as usize).copied().unwrap_or(f64::NAN);
            }
            at += c as usize;
        }
        Ok((indices, values))
    }
}

/// What [`PeakFinding`] writes NSID results as.
const MODALITY: &str = "peaks of scipy.signal.find_peaks_cwt";

/// [`PeakFinding`]'s streamed writer of NSID results: `Peak_Count` over the source's kept
/// dimensions ([`NsidWriteTarget::dims`]), `Peak_Indices` and `Peak_Frequencies` over them and
/// the peak slot, last. The slot axis is unlimited (chunked), made as wide as the first batch's
/// widest row and grown, with its scale, when a wider row arrives: an axis of its own, it moves
/// nothing written when it grows, and the slots it adds read as the datasets' fill values, -1
/// and NaN, as the whole write padded.
pub(super) struct PeakNsidWriter<'t> {
    finding: &'t PeakFinding,
    target: &'t NsidWriteTarget<'t>,
    positions: Vec<usize>,
    per_position: usize,
    /// Each result's `source` attribute.
    source: String,
    count: Dataset,
    slots: Option<NsidSlots>,
}

/// `Peak_Indices` and `Peak_Frequencies` of NSID results, and their slots.
struct NsidSlots {
    indices: Dataset,
    freqs: Dataset,
    width: usize,
}

impl<'t> PeakNsidWriter<'t> {
    /// Creates `Peak_Count`; the slot datasets come with the first batch.
    pub(super) fn begin(
        finding: &'t PeakFinding,
        target: &'t NsidWriteTarget<'t>,
    ) -> Result<Self, UsidError> {
        let source = format!("usid-peaks find ({})", target.source);
        let spec = nsid_spec((PEAK_COUNT, "Peak count", ""), target.dims, &source, None);
        let count = create_nsid_dataset::<u32>(target.group, &spec).map_err(|e| UsidError(e.message))?;
        let (positions, per_position) = (target.position_shape(), target.per_position());
        Ok(PeakNsidWriter { finding, target, positions, per_position, source, count, slots: None })
    }

    /// The slot datasets, at least `width` peaks wide (created or grown).
    fn slots_for(&mut self, width: usize) -> Result<&NsidSlots, UsidError> {
        let nsid = |e: NsidError| UsidError(e.message);
        match &mut self.slots {
            None => {
                let mut dims = self.target.dims.to_vec();
                dims.push(peak_axis(width));
                let shape: Vec<usize> = dims.iter().map(Dimension::size).collect();
                let chunk = nsid_chunk(&shape, self.target.position_axes);
                let (f, g, source) = (self.finding, self.target.group, self.source.as_str());
                let spec = |what| nsid_spec(what, &dims, source, Some(&chunk));
                let (index, along) =
                    ((PEAK_INDICES, "Peak index", ""), (PEAK_FREQUENCIES, &*f.axis_name, &*f.axis_units));
                let indices = create_growing_nsid_dataset(g, &spec(index), -1i32).map_err(nsid)?;
                let freqs = create_growing_nsid_dataset(g, &spec(along), f64::NAN).map_err(nsid)?;
                self.slots = Some(NsidSlots { indices, freqs, width });
            }
            Some(slots) if slots.width < width => {
                let axis = peak_axis(width);
                grow_last_axis(&slots.indices, &axis).map_err(nsid)?;
                grow_last_axis(&slots.freqs, &axis).map_err(nsid)?;
                slots.width = width;
            }
            Some(_) => {}
        }
        made(&self.slots)
    }
}

impl ResultsWriter<u32> for PeakNsidWriter<'_> {
    fn write_rows(&mut self, pixels: Range<u64>, counts: &[u32], items: &[u32]) -> Result<(), UsidError> {
        let rows = (pixels.end - pixels.start) as usize;
        one_per_spectrum(counts, rows * self.per_position)?;
        let width = self.slots_for(widest(counts))?.width;
        let (indices, freqs) = self.finding.slot_rows(counts, items, width)?;
        let (shape, at) = (&self.positions, pixels.start as usize..pixels.end as usize);
        let slots = made(&self.slots)?;
        let nsid = |e: NsidError| UsidError(e.message);
        write_positions(&self.count, shape, at.clone(), counts).map_err(nsid)?;
        write_positions(&slots.indices, shape, at.clone(), &indices).map_err(nsid)?;
        write_positions(&slots.freqs, shape, at, &freqs).map_err(nsid)
    }

    fn finish(mut self: Box<Self>) -> Result<(), UsidError> {
        self.slots_for(1).map(|_| ())
    }
}

/// The slot datasets a writer made at its first batch (the error is an internal one: every
/// writer makes them before it writes).
fn made<T>(slots: &Option<T>) -> Result<&T, UsidError> {
    slots.as_ref().ok_or_else(|| UsidError("the peak datasets were not made".into()))
}

/// A batch's results must be one count per spectrum.
fn one_per_spectrum(counts: &[u32], spectra: usize) -> Result<(), UsidError> {
    if counts.len() == spectra {
        return Ok(());
    }
    Err(UsidError(format!("{} results for {spectra} spectra", counts.len())))
}

/// The results' datasets and their peak slot dimension (USID and NSID alike).
const PEAK_COUNT: &str = "Peak_Count";
const PEAK_INDICES: &str = "Peak_Indices";
const PEAK_FREQUENCIES: &str = "Peak_Frequencies";
const PEAK_AXIS: &str = "Peak";
/// What [`PeakNsidWriter`] names in the results group: its datasets and the peak axis.
pub(super) const NSID_NAMES: &[&str] = &[PEAK_COUNT, PEAK_INDICES, PEAK_FREQUENCIES, PEAK_AXIS];

/// The peak slot axis, `width` slots.
fn peak_axis(width: usize) -> Dimension {
    let slots = (0..width).map(|k| k as f64).collect();
    Dimension::new(PEAK_AXIS, "Peak number", "a.u.", DimensionType::Unknown, slots)
}

/// One of [`PeakFinding`]'s NSID results: its (name, quantity, units) over `dims`.
fn nsid_spec<'a>(
    (name, quantity, units): (&'a str, &'a str, &'a str),
    dims: &'a [Dimension],
    source: &'a str,
    chunk: Option<&'a [usize]>,
) -> NsidSpec<'a> {
    NsidSpec { name, quantity, units, data_type: data_type_of(dims), modality: MODALITY, source, dims, chunk }
}

/// Chunks of about [`CHUNK_BYTES`] of float64 over `shape`, whose first `positions` axes are the
/// positions: every other axis whole, and as many positions as fit, row-major (the fastest
/// position axis whole first), so that a batch's run of positions is a few whole chunks.
fn nsid_chunk(shape: &[usize], positions: usize) -> Vec<usize> {
    let per_position: usize = shape[positions.min(shape.len())..].iter().product::<usize>() * 8;
    let mut fit = (CHUNK_BYTES / per_position.max(1)).max(1);
    let mut chunk = shape.to_vec();
    for axis in (0..positions.min(shape.len())).rev() {
        chunk[axis] = fit.clamp(1, shape[axis].max(1));
        fit = (fit / shape[axis].max(1)).max(1);
    }
    chunk
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use super::*;
    use crate::compute::{run_with, Binding, Job, ProgressMode, RowItems, Tuning, World};
    use crate::peaks::PeakParams;

    /// An NSID map (y 3, x 4, DC_Offset 2, Frequency 96, float32) whose spectra have one to four
    /// Lorentzian peaks, more further on in the map: batches of one position meet ever wider rows.
    fn map(path: &Path) {
        let axis =
            |name: &str, t, n: usize| Dimension::new(name, name, "u", t, (0..n).map(|i| i as f64).collect());
        let dims = [
            axis("y", DimensionType::Spatial, 3),
            axis("x", DimensionType::Spatial, 4),
            axis("DC_Offset", DimensionType::Spectral, 2),
            axis("Frequency", DimensionType::Spectral, 96),
        ];
        let f = hdf5::File::create(path).unwrap();
        let g = f.create_group("Measurement_000").unwrap().create_group("Channel_000").unwrap();
        let spec = nsid_spec(("Raw_Data", "Amplitude", "V"), &dims, "unit tests", None);
        let ds = create_nsid_dataset::<f32>(&g, &spec).unwrap();
        let values = ndarray::Array4::from_shape_fn((3, 4, 2, 96), |(y, x, dc, bin)| {
            let peaks = 1 + (8 * y + 2 * x + dc) / 6;
            (0..peaks)
                .map(|p| 1.0 / (1.0 + ((bin as f32 - 12.0 - 22.0 * p as f32) / 2.5).powi(2)))
                .sum::<f32>()
        });
        ds.write(&values).unwrap();
    }

    /// Peak finding over `input`'s map into `output` in batches of `batch` positions (`None`: one
    /// batch): the results group's path and every spectrum's peaks.
    fn find(input: &Path, output: &Path, batch: Option<u64>) -> (String, RowItems<u32>) {
        let job = Job {
            input: input.to_path_buf(),
            dataset: None,
            output: Some(output.to_path_buf()),
            threads: Some(2),
            max_mem_mb: 1024,
            force: true,
            progress: ProgressMode::Quiet,
            along: Some("Frequency".into()),
            bind_threads: Binding::None,
            rank_timeout: Duration::from_secs(30),
        };
        let make = |layout: &_| PeakFinding::new(layout, PeakParams::default());
        let tuning = Tuning { batch_rows: batch, keep_items: true };
        let (summary, items) = run_with(&World::single(), &job, Instant::now(), make, tuning).unwrap();
        (summary.group, items.expect("the items of a run that computed"))
    }

    /// What an NSID results group of peak finding holds.
    #[derive(Debug, PartialEq)]
    struct Written {
        counts: Vec<u32>,
        /// `Peak_Indices`' shape.
        shape: Vec<usize>,
        indices: Vec<i32>,
        freqs: Vec<f64>,
        /// The `Peak` scale's values.
        slots: Vec<f64>,
    }

    /// The NSID results group `group` in `file`.
    fn written(file: &Path, group: &str) -> Written {
        let f = hdf5::File::open(file).unwrap();
        let ds = |name: &str| f.dataset(&format!("{group}/{name}")).unwrap();
        let indices = ds("Peak_Indices/Peak_Indices");
        Written {
            counts: ds("Peak_Count/Peak_Count").read_raw().unwrap(),
            shape: indices.shape(),
            indices: indices.read_raw().unwrap(),
            freqs: ds("Peak_Frequencies/Peak_Frequencies").read_raw().unwrap(),
            slots: ds("Peak_Indices/Peak").read_raw().unwrap(),
        }
    }

    #[test]
    fn nsid_peaks_streamed_in_any_batches_and_in_place_are_every_spectrums_peaks_padded() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("map.h5");
        map(&source);
        let mut seen: Option<Written> = None;
        for (k, batch) in [Some(1), Some(5), None, Some(1)].into_iter().enumerate() {
            // The last run writes beside its input, in place.
            let (input, output) = if k == 3 {
                let copy: PathBuf = dir.path().join("in_place.h5");
                std::fs::copy(&source, &copy).unwrap();
                (copy.clone(), copy)
            } else {
                (source.clone(), dir.path().join(format!("out_{k}.h5")))
            };
            let (group, items) = find(&input, &output, batch);
            assert_eq!(items.n_rows(), 3 * 4 * 2);
            let got = written(&output, &group);
            let width = items.counts.iter().copied().max().unwrap() as usize;
            assert!(items.counts[..2].iter().all(|&c| (c as usize) < width), "rows grow: {:?}", items.counts);
            assert_eq!(got.counts, items.counts, "batch {batch:?}: Peak_Count");
            assert_eq!(got.shape, vec![3, 4, 2, width], "batch {batch:?}: (y, x, DC_Offset, Peak)");
            let mut padded = vec![-1i32; items.n_rows() * width];
            for (row, peaks) in items.rows().enumerate() {
                for (slot, &p) in peaks.iter().enumerate() {
                    padded[row * width + slot] = p as i32;
                }
            }
            assert_eq!(got.indices, padded, "batch {batch:?}: Peak_Indices");
            let values: Vec<f64> =
                padded.iter().map(|&p| if p < 0 { f64::NAN } else { f64::from(p) }).collect();
            assert!(
                got.freqs.iter().zip(&values).all(|(a, b)| a == b || a.is_nan() && b.is_nan()),
                "batch {batch:?}"
            );
            assert_eq!(
                got.slots,
                (0..width).map(|k| k as f64).collect::<Vec<_>>(),
                "batch {batch:?}: the Peak scale"
            );
            match &seen {
                None => seen = Some(got),
                Some(first) => {
                    assert_eq!(
                        first.indices, got.indices,
                        "batch {batch:?}: other peaks than the first run's"
                    )
                }
            }
        }
    }
}
