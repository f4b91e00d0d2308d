//! Spectra of an NSID dataset: the same "spectra along one dimension" view the USID model gives
//! ([`crate::usid::SpectraLayout`]), and the reader of a run of positions' spectra.
//!
//! Positions are the SPATIAL axes (any number, in any order, leading or not), numbered row-major
//! over them in storage order. A spectrum runs along one other axis; the remaining axes are the
//! "other" dimensions: a position holds one spectrum per combination of their steps. A run of
//! positions is a few boxes of the N-D dataset ([`position_boxes`]); each is read as one
//! hyperslab and, where the file's axis order is not (positions…, others…, along), reordered into
//! spectra in memory.
use std::ops::Range;

use hdf5::{Dataset, H5Type, Hyperslab, Selection, SliceOrIndex};

use super::{DimensionType, NsidDataset, NsidError};
use crate::error::{one_line, Class};
use crate::usid::write::DimSpec;
use crate::usid::Dim;

/// How an NSID dataset's values split into spectra along one axis.
#[derive(Debug, Clone)]
pub struct Spectra {
    /// The SPATIAL axes in storage order (the first varies slowest): position `p` is step
    /// `(p / stride) % size` along each, the stride being the product of the sizes after it.
    pub position_axes: Vec<usize>,
    /// The number of positions (the product of the spatial axes' sizes).
    pub n_positions: usize,
    /// The axis a spectrum runs along.
    pub along: usize,
    /// That axis as a USID dimension: its name, units and size (the length of a spectrum).
    pub along_dim: Dim,
    /// Its values by step, in its units: the x axis of every spectrum.
    pub axis: Vec<f64>,
    /// The other axes (neither spatial nor the along axis), fastest-varying first, with their
    /// values, as [`crate::usid::SpectraLayout::others`]: spectrum `s` of a position is at step
    /// `(s / stride) % size` of each, the stride being the product of the sizes before it.
    pub others: Vec<DimSpec>,
    /// The other axes' indices in storage order (slowest first): the reverse of `others`.
    other_axes: Vec<usize>,
    /// The dataset's shape.
    shape: Vec<usize>,
}

impl Spectra {
    /// The spectra of `ds` along axis `along` (`None`: [`Spectra::default_along`]).
    ///
    /// Fails when `ds` has no SPATIAL axis (positions), or no axis to run along by default
    /// ([`Class::Input`]), or when `along` is not an axis of it or is a spatial one
    /// ([`Class::Usage`]).
    pub fn new(ds: &NsidDataset, along: Option<usize>) -> Result<Self, NsidError> {
        let position_axes: Vec<usize> =
            (0..ds.ndim()).filter(|&a| ds.dims[a].dimension_type == DimensionType::Spatial).collect();
        if position_axes.is_empty() {
            return Err(NsidError::input(format!(
                "{}: no SPATIAL axis ({}); positions are the SPATIAL axes of an NSID dataset",
                ds.path,
                axes_list(ds)
            )));
        }
        let along = match along {
            Some(a) if a >= ds.ndim() => {
                return Err(NsidError::usage(format!("{}: no axis {a} ({})", ds.path, axes_list(ds))))
            }
            Some(a) if position_axes.contains(&a) => {
                return Err(NsidError::usage(format!(
                    "--along {}: {} is a SPATIAL axis of {} (positions); spectra run along another axis ({})",
                    ds.dims[a].name,
                    ds.dims[a].name,
                    ds.path,
                    axes_list(ds)
                )))
            }
            Some(a) => a,
            None => Self::default_along(ds).ok_or_else(|| {
                NsidError::input(format!(
                    "{}: no axis to run spectra along besides the SPATIAL ones ({}); name one with --along",
                    ds.path,
                    axes_list(ds)
                ))
            })?,
        };
        let other_axes: Vec<usize> =
            (0..ds.ndim()).filter(|a| *a != along && !position_axes.contains(a)).collect();
        let dim = &ds.dims[along];
        let spec = |a: &usize| {
            DimSpec::new(ds.dims[*a].name.clone(), ds.dims[*a].units.clone(), ds.dims[*a].values.clone())
        };
        let n_positions = position_axes.iter().map(|&a| ds.shape[a]).product();
        Ok(Spectra {
            n_positions,
            along,
            along_dim: Dim { name: dim.name.clone(), units: dim.units.clone(), size: ds.shape[along] },
            axis: dim.values.clone(),
            others: other_axes.iter().rev().map(spec).collect(),
            other_axes,
            position_axes,
            shape: ds.shape.clone(),
        })
    }

    /// The spectra along the axis named `along` (`None`: the default). An unknown name, or a
    /// SPATIAL axis, is a [`Class::Usage`] error naming the axes the dataset has.
    pub fn named(ds: &NsidDataset, along: Option<&str>) -> Result<Self, NsidError> {
        let axis = match along {
            None => None,
            Some(name) => Some(ds.axis(name).ok_or_else(|| {
                NsidError::usage(format!(
                    "--along {name}: {} has no axis {name} ({})",
                    ds.path,
                    axes_list(ds)
                ))
            })?),
        };
        Self::new(ds, axis)
    }

    /// The axis spectra run along by default: the fastest-varying (last) axis that is not
    /// SPATIAL, has more than one step and is not a CHANNEL axis (real files type a frequency
    /// axis UNKNOWN as often as SPECTRAL, so the type is not asked for); failing that, the last
    /// CHANNEL axis of more than one step. `None` when every non-spatial axis has one step.
    pub fn default_along(ds: &NsidDataset) -> Option<usize> {
        let candidates = |channel: bool| {
            (0..ds.ndim()).rev().find(|&a| {
                let t = ds.dims[a].dimension_type;
                t != DimensionType::Spatial && ds.shape[a] > 1 && (t == DimensionType::Channel) == channel
            })
        };
        candidates(false).or_else(|| candidates(true))
    }

    /// The number of values in a spectrum (the size of the along axis).
    pub fn len(&self) -> usize {
        self.along_dim.size
    }

    /// Whether a spectrum has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of spectra at each position (the product of the other axes' sizes).
    pub fn per_position(&self) -> usize {
        self.other_axes.iter().map(|&a| self.shape[a]).product()
    }

    /// The other axes' indices in the dataset, in storage order (slowest first).
    pub fn other_axes(&self) -> &[usize] {
        &self.other_axes
    }

    /// The dimensions per-spectrum results of `ds` (the dataset this layout was made from) are
    /// laid out over, as NSID results keep them: the spatial axes, then the other axes, both in
    /// storage order; an analysis adds its own after them (e.g. one for the peaks of a spectrum).
    /// Row-major over them is the order [`Self::read`] hands the spectra out in.
    pub fn result_dims(&self, ds: &NsidDataset) -> Vec<super::Dimension> {
        self.position_axes.iter().chain(&self.other_axes).map(|&a| ds.dims[a].clone()).collect()
    }

    /// The same spectra as the engine and the analyses see every dataset's: along
    /// [`Self::along_dim`], one per combination of [`Self::others`] at each position, as
    /// [`Self::read`] hands them out.
    pub fn layout(&self) -> crate::usid::SpectraLayout {
        crate::usid::SpectraLayout::arranged(self.along_dim.clone(), self.axis.clone(), self.others.clone())
    }

    /// The sizes of the spatial axes, in storage order.
    pub fn position_shape(&self) -> Vec<usize> {
        self.position_axes.iter().map(|&a| self.shape[a]).collect()
    }

    /// Read the positions `positions` (runs of position numbers, in order) of `dataset` (the
    /// dataset this layout was made from, through any handle of its file) as spectra: every
    /// position gives [`Self::per_position`] spectra of [`Self::len`] values, spectrum after
    /// spectrum, in the order of [`Self::others`]. Values are converted by HDF5 to `T` (e.g.
    /// `f64` for integers and float16: [`crate::usid::ElementType::read_as`]).
    pub fn read<T: H5Type + Copy + Default>(
        &self,
        dataset: &Dataset,
        positions: &[Range<usize>],
    ) -> Result<Vec<T>, NsidError> {
        let per_position = self.per_position() * self.len();
        let count: usize = positions.iter().map(|r| r.len()).sum();
        let total = count.checked_mul(per_position).ok_or_else(|| internal(dataset, "too many values"))?;
        let mut out: Vec<T> = Vec::with_capacity(total);
        let (position_shape, in_file_order) = (self.position_shape(), self.reads_in_place());
        for run in positions {
            if run.end > self.n_positions {
                return Err(internal(dataset, &format!("positions {run:?} of {}", self.n_positions)));
            }
            for boxed in position_boxes(&position_shape, run.clone()) {
                let block = self.read_box::<T>(dataset, &boxed)?;
                match in_file_order {
                    // One box is the whole answer as read: no copy.
                    true if out.is_empty() && block.len() == total => out = block,
                    true => out.extend_from_slice(&block),
                    false => self.arrange(&block, &boxed, &mut out),
                }
            }
        }
        Ok(out)
    }

    /// Whether a read hands out its blocks as HDF5 reads them: the file's axes already run
    /// (positions…, others…, along), so a block read is a run of spectra as it stands; otherwise
    /// a batch is held twice while it is arranged.
    pub fn reads_in_place(&self) -> bool {
        let order = self.position_axes.iter().chain(&self.other_axes).chain(std::iter::once(&self.along));
        order.copied().eq(0..self.shape.len())
    }

    /// The hyperslab of `dataset` spanning `boxed` (one range per spatial axis) and every step of
    /// the other axes, in file order.
    fn read_box<T: H5Type + Copy>(
        &self,
        dataset: &Dataset,
        boxed: &[Range<usize>],
    ) -> Result<Vec<T>, NsidError> {
        let slab: Vec<SliceOrIndex> = self.box_ranges(boxed).into_iter().map(SliceOrIndex::from).collect();
        let selection = Selection::from(Hyperslab::from(slab));
        dataset
            .as_reader()
            .conversion(hdf5::Conversion::Soft)
            .read_slice::<T, _, ndarray::IxDyn>(selection)
            .map(|a| a.into_raw_vec_and_offset().0)
            .map_err(|e| {
                NsidError::input(format!(
                    "{}: cannot read positions {boxed:?} ({})",
                    dataset.name(),
                    one_line(e)
                ))
            })
    }

    /// The range of every axis of the dataset for the box `boxed` of positions.
    fn box_ranges(&self, boxed: &[Range<usize>]) -> Vec<Range<usize>> {
        let mut ranges: Vec<Range<usize>> = self.shape.iter().map(|&n| 0..n).collect();
        for (&axis, r) in self.position_axes.iter().zip(boxed) {
            ranges[axis] = r.clone();
        }
        ranges
    }

    /// Append the values of `block` (the box `boxed` in file order) to `out` as spectra: positions
    /// in order, then the other axes in storage order, then the along axis.
    fn arrange<T: Copy + Default>(&self, block: &[T], boxed: &[Range<usize>], out: &mut Vec<T>) {
        let extents: Vec<usize> = self.box_ranges(boxed).iter().map(|r| r.len()).collect();
        let src = row_major_strides(&extents);
        // The axes of a spectrum's place (all but the along axis), in the order spectra go out.
        let outer: Vec<usize> = self.position_axes.iter().chain(&self.other_axes).copied().collect();
        if src[self.along] == 1 {
            // A spectrum is a run of the block (the axes after the along axis, if any, have one
            // step here): copy spectrum by spectrum.
            let len = extents[self.along];
            for_each_step(&outer, &extents, |step| {
                let at: usize = outer.iter().zip(step).map(|(&a, &i)| i * src[a]).sum();
                out.extend_from_slice(&block[at..at + len]);
            });
        } else {
            // The last axis with more than one step: its values are adjacent in the block.
            let inner = (0..extents.len()).rev().find(|&a| extents[a] > 1).unwrap_or(self.along);
            self.transpose(block, &extents, &src, &outer, inner, out);
        }
    }

    /// [`Self::arrange`] when a spectrum is strided in the block: a blocked transpose of the
    /// (`inner` × along axis) planes, `inner` being the axis whose values are adjacent in the
    /// block (a spatial or other axis after the along axis), reading runs of [`TILE`] values and
    /// writing each into [`TILE`] spectra, instead of gathering every value of a spectrum from a
    /// cache line of its own.
    fn transpose<T: Copy + Default>(
        &self,
        block: &[T],
        extents: &[usize],
        src: &[usize],
        outer: &[usize],
        inner: usize,
        out: &mut Vec<T>,
    ) {
        let order: Vec<usize> = outer.iter().copied().chain(std::iter::once(self.along)).collect();
        let dst_in_order = row_major_strides(&order.iter().map(|&a| extents[a]).collect::<Vec<_>>());
        let mut dst = vec![0usize; extents.len()];
        for (&a, &d) in order.iter().zip(&dst_in_order) {
            dst[a] = d;
        }
        let start = out.len();
        out.resize(start + block.len(), T::default());
        let out = &mut out[start..];
        let rest: Vec<usize> = outer.iter().copied().filter(|&a| a != inner).collect();
        let (n_inner, n_along) = (extents[inner], extents[self.along]);
        let (src_along, dst_inner) = (src[self.along], dst[inner]);
        for_each_step(&rest, extents, |step| {
            let from: usize = rest.iter().zip(step).map(|(&a, &i)| i * src[a]).sum();
            let to: usize = rest.iter().zip(step).map(|(&a, &i)| i * dst[a]).sum();
            for t0 in (0..n_inner).step_by(TILE) {
                let tile = t0..(t0 + TILE).min(n_inner);
                for j in 0..n_along {
                    let row = &block[from + j * src_along..][tile.clone()];
                    for (t, &v) in tile.clone().zip(row) {
                        out[to + t * dst_inner + j] = v;
                    }
                }
            }
        });
    }
}

/// Values of the innermost axis a transposing read copies as one run: 64 complex64 values are
/// 512 bytes, eight cache lines read in turn while 64 spectra take one value each.
const TILE: usize = 64;

/// Row-major strides (in elements) of an array of `extents`.
fn row_major_strides(extents: &[usize]) -> Vec<usize> {
    let mut stride = vec![1usize; extents.len()];
    for a in (0..extents.len().saturating_sub(1)).rev() {
        stride[a] = stride[a + 1] * extents[a + 1];
    }
    stride
}

/// Call `f` with every combination of steps along `axes` (of sizes `extents[axis]`), the last
/// axis fastest; once with no steps when `axes` is empty.
fn for_each_step(axes: &[usize], extents: &[usize], mut f: impl FnMut(&[usize])) {
    if axes.iter().any(|&a| extents[a] == 0) {
        return;
    }
    let mut step = vec![0usize; axes.len()];
    loop {
        f(&step);
        let mut k = axes.len();
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            step[k] += 1;
            if step[k] < extents[axes[k]] {
                break;
            }
            step[k] = 0;
        }
    }
}

/// `Frequency SPECTRAL, y SPATIAL, …`: a dataset's axes and their types, for messages.
fn axes_list(ds: &NsidDataset) -> String {
    let axes: Vec<String> =
        ds.dims.iter().map(|d| format!("{} {}", d.name, d.dimension_type.name())).collect();
    axes.join(", ")
}

fn internal(dataset: &Dataset, what: &str) -> NsidError {
    NsidError { class: Class::Internal, message: format!("{}: reading {what}", dataset.name()) }
}

/// The run `positions` of row-major position numbers over a grid of `shape` as boxes (one range
/// per axis), in order, each covering consecutive positions: at most `2 × shape.len() − 1` boxes,
/// one when the run is whole rows of the slowest axis. Empty for an empty run.
pub fn position_boxes(shape: &[usize], positions: Range<usize>) -> Vec<Vec<Range<usize>>> {
    let mut boxes = Vec::new();
    split_run(shape, positions, &mut Vec::new(), &mut boxes);
    boxes
}

/// Appends to `boxes` the boxes of `run` over `shape`, each prefixed by `prefix` (the fixed
/// ranges of the slower axes).
fn split_run(
    shape: &[usize],
    run: Range<usize>,
    prefix: &mut Vec<Range<usize>>,
    boxes: &mut Vec<Vec<Range<usize>>>,
) {
    if run.is_empty() {
        return;
    }
    let Some((_, rest)) = shape.split_first() else {
        boxes.push(prefix.clone());
        return;
    };
    let inner: usize = rest.iter().product();
    let full = |prefix: &Vec<Range<usize>>, r: Range<usize>| {
        let mut b = prefix.clone();
        b.push(r);
        b.extend(rest.iter().map(|&n| 0..n));
        b
    };
    let (mut first, last) = (run.start / inner, run.end / inner);
    let (head, tail) = (run.start % inner, run.end % inner);
    if first == last {
        prefix.push(first..first + 1);
        split_run(rest, head..tail, prefix, boxes);
        prefix.pop();
        return;
    }
    if head != 0 {
        prefix.push(first..first + 1);
        split_run(rest, head..inner, prefix, boxes);
        prefix.pop();
        first += 1;
    }
    if first < last {
        boxes.push(full(prefix, first..last));
    }
    if tail != 0 {
        prefix.push(last..last + 1);
        split_run(rest, 0..tail, prefix, boxes);
        prefix.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every position of every box, row-major, as position numbers.
    fn covered(shape: &[usize], boxes: &[Vec<Range<usize>>]) -> Vec<usize> {
        let mut out = Vec::new();
        for b in boxes {
            let mut idx: Vec<usize> = b.iter().map(|r| r.start).collect();
            'odometer: loop {
                out.push(idx.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i));
                for k in (0..idx.len()).rev() {
                    idx[k] += 1;
                    if idx[k] < b[k].end {
                        continue 'odometer;
                    }
                    idx[k] = b[k].start;
                }
                break;
            }
        }
        out
    }

    #[test]
    fn every_run_of_positions_is_a_few_boxes_covering_it_in_order() {
        for shape in [vec![7], vec![5, 7], vec![3, 4, 5], vec![1, 6, 1, 2]] {
            let n: usize = shape.iter().product();
            for start in 0..=n {
                for end in start..=n {
                    let boxes = position_boxes(&shape, start..end);
                    assert_eq!(
                        covered(&shape, &boxes),
                        (start..end).collect::<Vec<_>>(),
                        "{shape:?} {start}..{end}"
                    );
                    assert!(boxes.len() < 2 * shape.len(), "{shape:?} {start}..{end}: {boxes:?}");
                    assert!(boxes.iter().all(|b| b.len() == shape.len() && b.iter().all(|r| !r.is_empty())));
                }
            }
        }
    }

    #[test]
    fn whole_rows_are_one_box() {
        assert_eq!(position_boxes(&[5, 7], 7..21), vec![vec![1..3, 0..7]]);
        assert_eq!(position_boxes(&[5, 7], 3..5), vec![vec![0..1, 3..5]]);
        assert_eq!(
            position_boxes(&[5, 7], 5..16),
            vec![vec![0..1, 5..7], vec![1..2, 0..7], vec![2..3, 0..2]]
        );
        assert!(position_boxes(&[5, 7], 4..4).is_empty());
    }
}
