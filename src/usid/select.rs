//! Which main dataset a command works on when the user names none.

use std::path::Path;

use super::{find_main_datasets, UsidError};
use crate::error::Class;

/// Why no single main dataset could be chosen.
#[derive(Debug)]
pub enum SelectError {
    /// The file could not be read, or has no source main dataset.
    Input(UsidError),
    /// Several candidates: the user must name one (listed in the message).
    Ambiguous(String),
}

impl SelectError {
    /// An unreadable file is an input error; a choice the user must make is a usage error.
    pub fn class(&self) -> Class {
        match self {
            SelectError::Input(_) => Class::Input,
            SelectError::Ambiguous(_) => Class::Usage,
        }
    }
}

impl std::fmt::Display for SelectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SelectError::Input(e) => write!(f, "{e}"),
            SelectError::Ambiguous(m) => f.write_str(m),
        }
    }
}

/// Whether `path` lies in a pyUSID results group (`<source>-<Process>_NNN`): such datasets are
/// results of an analysis, not data to analyse.
pub fn is_in_results_group(path: &str) -> bool {
    path.rsplit('/').skip(1).any(|g| {
        let Some((head, index)) = g.rsplit_once('_') else { return false };
        index.len() == 3 && index.bytes().all(|b| b.is_ascii_digit()) && head.contains('-')
    })
}

/// The file's only main dataset that is not itself a result (pyUSID results groups are skipped).
pub fn only_source_dataset(file: &hdf5::File, name: &Path) -> Result<String, SelectError> {
    let mains = find_main_datasets(file).map_err(SelectError::Input)?;
    let sources: Vec<&String> = mains.iter().filter(|p| !is_in_results_group(p)).collect();
    match sources.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(SelectError::Input(UsidError(format!(
            "{} has no USID main dataset (name a dataset after the file to see why it is not one)",
            name.display()
        )))),
        many => Err(SelectError::Ambiguous(format!(
            "{} has {} main datasets ({}); name one after the file",
            name.display(),
            many.len(),
            many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_groups_are_recognised_by_pyusid_naming() {
        assert!(is_in_results_group("/M/C/Raw_Data-Peak_Finding_000/Peak_Indices"));
        assert!(is_in_results_group("/M/C/Raw_Data-SHO_Fit_012/Fit"));
        assert!(!is_in_results_group("/Measurement_000/Channel_000/Raw_Data"));
        assert!(!is_in_results_group("/a-b/Raw_Data_x/data"));
    }
}
