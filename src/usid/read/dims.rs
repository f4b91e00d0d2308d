//! The size of each dimension, counted from the index table as pyUSID's `get_dimensionality`
//! counts it.
use ndarray::s;

use super::check::{Ancillary, Kind};
use crate::error::one_line;
use crate::usid::UsidError;

/// Sorts `v` and keeps one of each distinct value (numpy's `np.unique`, NaNs counted once).
pub(super) fn sort_distinct(v: &mut Vec<f64>) {
    v.sort_unstable_by(f64::total_cmp);
    v.dedup_by(|a, b| a == b || (a.is_nan() && b.is_nan()));
}

/// The size of each dimension as pyUSID's `get_dimensionality` finds it: the number of distinct
/// index values along it. Reads the index table in blocks of whole entries (all dimensions at
/// once): one read per block whatever the driver — through MPI-IO, a strided read of one column
/// costs one system call per element (half a million for a 512 × 512 map). Each dimension's
/// values are reduced to their distinct ones whenever they have doubled since the last time, so
/// memory stays about a block plus twice the distinct values, and the time O(N log N).
pub(super) fn dim_sizes(anc: &Ancillary, path: &str) -> Result<Vec<usize>, UsidError> {
    const BLOCK: usize = 1 << 16;
    let shape = anc.indices.shape();
    let entries = match anc.kind {
        Kind::Position => shape[0],
        Kind::Spectroscopic => shape[1],
    };
    // Per dimension: the values so far, and how many of them were distinct at the last reduction.
    let mut distinct: Vec<(Vec<f64>, usize)> = vec![(Vec::new(), 0); anc.n_dims()];
    for start in (0..entries).step_by(BLOCK) {
        let end = (start + BLOCK).min(entries);
        let read = match anc.kind {
            Kind::Position => anc.indices.read_slice_2d::<f64, _>(s![start..end, ..]),
            Kind::Spectroscopic => {
                anc.indices.read_slice_2d::<f64, _>(s![.., start..end]).map(|a| a.reversed_axes())
            }
        };
        let block = read.map_err(|e| {
            UsidError(format!("{path}: cannot read {} ({})", anc.indices.name(), one_line(e)))
        })?;
        for (d, (values, reduced)) in distinct.iter_mut().enumerate() {
            values.extend(block.column(d));
            if values.len() >= 2 * (*reduced).max(BLOCK) {
                sort_distinct(values);
                *reduced = values.len();
            }
        }
    }
    Ok(distinct
        .into_iter()
        .map(|(mut values, _)| {
            sort_distinct(&mut values);
            values.len()
        })
        .collect())
}
