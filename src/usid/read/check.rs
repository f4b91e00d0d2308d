//! pyUSID's `check_if_main`, with the reason on failure: the main dataset's shape, its four
//! object references, its quantity and units, and each pair of ancillary datasets against it.
use std::fmt::Write as _;

use hdf5::types::TypeDescriptor;
use hdf5::Dataset;

use super::attr;
use crate::usid::UsidError;

/// The most elements an ancillary (indices or values) dataset may have. Reading one costs 8 bytes
/// per element; this caps it at 2 GiB, far beyond any real map (a 8192 × 8192 scan with two
/// position dimensions is 2^27 elements), while a file that declares more gets an error instead
/// of an unbounded allocation.
pub(crate) const MAX_ANCILLARY_ELEMENTS: usize = 1 << 28;

/// The most position or spectroscopic dimensions a main dataset may have.
const MAX_DIMS: usize = attr::MAX_STRINGS;

/// Which pair of ancillary datasets: they differ in names and in which axis runs along the main
/// dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `Position_Indices`/`Position_Values`, shape (positions, dims): rows are positions.
    Position,
    /// `Spectroscopic_Indices`/`Spectroscopic_Values`, shape (dims, bins): columns are bins.
    Spectroscopic,
}

impl Kind {
    fn indices_name(self) -> &'static str {
        match self {
            Kind::Position => "Position_Indices",
            Kind::Spectroscopic => "Spectroscopic_Indices",
        }
    }
    fn values_name(self) -> &'static str {
        match self {
            Kind::Position => "Position_Values",
            Kind::Spectroscopic => "Spectroscopic_Values",
        }
    }
    /// The axis of the ancillary dataset (and of the main dataset) that runs over positions or
    /// bins; the other axis of the ancillary dataset runs over dimensions.
    fn step_axis(self) -> usize {
        match self {
            Kind::Position => 0,
            Kind::Spectroscopic => 1,
        }
    }
    fn steps_word(self) -> &'static str {
        match self {
            Kind::Position => "positions",
            Kind::Spectroscopic => "spectroscopic bins",
        }
    }
}

/// A validated pair of ancillary datasets.
#[derive(Debug, Clone)]
pub(super) struct Ancillary {
    pub kind: Kind,
    pub indices: Dataset,
    pub values: Dataset,
    pub labels: Vec<String>,
    pub units: Vec<String>,
}

impl Ancillary {
    pub fn n_dims(&self) -> usize {
        self.labels.len()
    }
}

/// What [`check_layout`] establishes about a main dataset.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    pub n_positions: usize,
    pub n_bins: usize,
    pub quantity: String,
    pub units: String,
    pub pos: Ancillary,
    pub spec: Ancillary,
}

/// The error for a dataset that fails the main-dataset test: `{path} is not a USID main dataset:
/// {why}`.
fn not_main(path: &str, why: impl std::fmt::Display) -> UsidError {
    UsidError(format!("{path} is not a USID main dataset: {why}"))
}

/// `(30, 3)`, as numpy prints a shape.
pub(super) fn shape_str(shape: &[usize]) -> String {
    let mut s = String::from("(");
    for (i, n) in shape.iter().enumerate() {
        let _ = write!(s, "{}{n}", if i > 0 { ", " } else { "" });
    }
    if shape.len() == 1 {
        s.push(',');
    }
    s.push(')');
    s
}

/// The dataset an object-reference attribute of `main` points at.
fn referenced(main: &Dataset, path: &str, name: &str) -> Result<Dataset, UsidError> {
    let a = attr::find(main, name)
        .map_err(|why| not_main(path, why))?
        .ok_or_else(|| not_main(path, format!("attribute {name} missing")))?;
    attr::dereference_dataset(&a, main).map_err(|why| not_main(path, format!("attribute {name} {why}")))
}

/// A scalar string attribute of `main`.
fn string_attr(main: &Dataset, path: &str, name: &str) -> Result<String, UsidError> {
    let a = attr::find(main, name)
        .map_err(|why| not_main(path, why))?
        .ok_or_else(|| not_main(path, format!("attribute {name} missing")))?;
    attr::scalar_string(&a).map_err(|why| not_main(path, format!("attribute {name} {why}")))
}

/// The `labels` or `units` list of an ancillary dataset.
fn anc_strings(ds: &Dataset, role: &str, path: &str, name: &str) -> Result<Vec<String>, UsidError> {
    let where_ = format!("{role} ({})", ds.name());
    let a = attr::find(ds, name)
        .map_err(|why| not_main(path, format!("{where_}: {why}")))?
        .ok_or_else(|| not_main(path, format!("attribute {name} of {where_} missing")))?;
    attr::string_list(&a).map_err(|why| not_main(path, format!("attribute {name} of {where_} {why}")))
}

/// Check one ancillary dataset on its own: 2-D, numeric, not too large.
fn check_anc_dataset(ds: &Dataset, role: &str, path: &str) -> Result<(), UsidError> {
    let where_ = format!("{role} ({})", ds.name());
    let shape = ds.shape();
    if shape.len() != 2 {
        return Err(not_main(path, format!("{where_} has shape {}; it must be 2-D", shape_str(&shape))));
    }
    let count = shape[0].saturating_mul(shape[1]);
    if count > MAX_ANCILLARY_ELEMENTS {
        return Err(not_main(
            path,
            format!("{where_} has {count} elements, more than the {MAX_ANCILLARY_ELEMENTS} usid-peaks reads"),
        ));
    }
    let numeric = ds.dtype().and_then(|t| t.to_descriptor()).map(|d| {
        matches!(d, TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) | TypeDescriptor::Float(_))
    });
    match numeric {
        Ok(true) => Ok(()),
        _ => Err(not_main(path, format!("{where_} does not hold numbers"))),
    }
}

/// Validate the indices/values pair of one kind against the main shape, and their labels/units
/// (pyUSID's `validate_anc_dset_attrs`, plus: one label per dimension).
fn check_ancillary(
    kind: Kind,
    indices: Dataset,
    values: Dataset,
    main_shape: &[usize],
    path: &str,
) -> Result<Ancillary, UsidError> {
    let (iname, vname) = (kind.indices_name(), kind.values_name());
    check_anc_dataset(&indices, iname, path)?;
    check_anc_dataset(&values, vname, path)?;
    let (ishape, vshape) = (indices.shape(), values.shape());
    if ishape != vshape {
        return Err(not_main(
            path,
            format!(
                "{iname} ({}) has shape {} but {vname} ({}) has shape {}",
                indices.name(),
                shape_str(&ishape),
                values.name(),
                shape_str(&vshape)
            ),
        ));
    }
    let axis = kind.step_axis();
    if ishape[axis] != main_shape[axis] {
        return Err(not_main(
            path,
            format!(
                "{iname} ({}) has shape {} but the dataset has {} {}",
                indices.name(),
                shape_str(&ishape),
                main_shape[axis],
                kind.steps_word()
            ),
        ));
    }
    let n_dims = ishape[1 - axis];
    if n_dims == 0 || n_dims > MAX_DIMS {
        return Err(not_main(
            path,
            format!("{iname} ({}) has {n_dims} dimensions; 1 to {MAX_DIMS} are supported", indices.name()),
        ));
    }
    let ilabels = anc_strings(&indices, iname, path, "labels")?;
    let iunits = anc_strings(&indices, iname, path, "units")?;
    let vlabels = anc_strings(&values, vname, path, "labels")?;
    let vunits = anc_strings(&values, vname, path, "units")?;
    for (role, labels, units) in [(iname, &ilabels, &iunits), (vname, &vlabels, &vunits)] {
        if labels.len() != units.len() {
            return Err(not_main(
                path,
                format!("{role} has {} labels but {} units", labels.len(), units.len()),
            ));
        }
    }
    if ilabels != vlabels {
        return Err(not_main(path, format!("labels of {iname} {ilabels:?} and {vname} {vlabels:?} differ")));
    }
    if iunits != vunits {
        return Err(not_main(path, format!("units of {iname} {iunits:?} and {vname} {vunits:?} differ")));
    }
    if ilabels.len() != n_dims {
        return Err(not_main(
            path,
            format!("{iname} ({}) has {n_dims} dimensions but {} labels", indices.name(), ilabels.len()),
        ));
    }
    Ok(Ancillary { kind, indices, values, labels: ilabels, units: iunits })
}

/// pyUSID's `check_if_main`, with the reason on failure: 2-D; the four object references resolve
/// to datasets; `quantity` and `units` are strings; the ancillary shapes match; labels and units
/// agree. Checks run in pyUSID's order so the first failure named is the one pyUSID meets first.
pub(super) fn check_layout(main: &Dataset, path: &str) -> Result<Layout, UsidError> {
    let shape = main.shape();
    if shape.len() != 2 {
        return Err(not_main(
            path,
            format!(
                "it is {}-D (shape {}), a main dataset is 2-D (positions × bins)",
                shape.len(),
                shape_str(&shape)
            ),
        ));
    }
    let pos_inds = referenced(main, path, Kind::Position.indices_name())?;
    let pos_vals = referenced(main, path, Kind::Position.values_name())?;
    let spec_inds = referenced(main, path, Kind::Spectroscopic.indices_name())?;
    let spec_vals = referenced(main, path, Kind::Spectroscopic.values_name())?;
    let quantity = string_attr(main, path, "quantity")?;
    let units = string_attr(main, path, "units")?;
    let pos = check_ancillary(Kind::Position, pos_inds, pos_vals, &shape, path)?;
    let spec = check_ancillary(Kind::Spectroscopic, spec_inds, spec_vals, &shape, path)?;
    Ok(Layout { n_positions: shape[0], n_bins: shape[1], quantity, units, pos, spec })
}
