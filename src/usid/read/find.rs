//! Listing a file's main datasets, as pyUSID's `get_all_main` does.
use hdf5::{Dataset, LinkType, LocationToken, LocationType};

use super::check::check_layout;
use crate::error::one_line;
use crate::usid::UsidError;

/// The paths of every USID main dataset in `file`, in the order h5py's `visititems` walks them
/// (depth first, names in increasing order), as pyUSID's `get_all_main` lists them. Only hard
/// links are followed and an object reachable by several links is listed once. The test is
/// pyUSID's: the layout (rank, attributes, ancillary datasets); the element type is not
/// checked here but by [`crate::usid::MainDataset::open`].
pub fn find_main_datasets(file: &hdf5::File) -> Result<Vec<String>, UsidError> {
    let mut found = Vec::new();
    visit_datasets(file, |path, ds| {
        if check_layout(ds, path).is_ok() {
            found.push(path.to_string());
        }
    })?;
    Ok(found)
}

/// Call `visit` with the path and handle of every dataset in `file`, in the order h5py's
/// `visititems` walks them (depth first, names in increasing order): the walk pyUSID's and
/// pyNSID's `get_all_main` make. Only hard links are followed and an object reachable by several
/// links is visited once, under the first name met. Datasets that cannot be opened are passed
/// over.
pub(crate) fn visit_datasets(
    file: &hdf5::File,
    mut visit: impl FnMut(&str, &Dataset),
) -> Result<(), UsidError> {
    let file_name = file.filename();
    // Objects with more than one hard link, already visited (single-link objects cannot be met
    // twice, so this stays tiny and a hard-link cycle cannot loop).
    let mut seen: Vec<LocationToken> = Vec::new();
    // An explicit stack instead of recursion: a deep hierarchy cannot overflow the call stack.
    let mut stack = vec!["/".to_string()];
    while let Some(path) = stack.pop() {
        let info = file
            .loc_info_by_name(&path)
            .map_err(|e| UsidError(format!("{file_name}: cannot read {path} ({})", one_line(e))))?;
        if info.num_links > 1 {
            if seen.contains(&info.token) {
                continue;
            }
            seen.push(info.token);
        }
        match info.loc_type {
            LocationType::Group => {
                let group = file.group(&path).map_err(|e| {
                    UsidError(format!("{file_name}: cannot open group {path} ({})", one_line(e)))
                })?;
                let mut children = Vec::new();
                group
                    .iter_visit_default(|name, link| {
                        if link.link_type == LinkType::Hard {
                            children.push(name.to_string());
                        }
                        Ok(())
                    })
                    .map_err(|e| UsidError(format!("{file_name}: cannot list {path} ({})", one_line(e))))?;
                let prefix = if path == "/" { "" } else { path.as_str() };
                // Reversed, so that the first name is popped first.
                stack.extend(children.iter().rev().map(|name| format!("{prefix}/{name}")));
            }
            LocationType::Dataset => {
                if let Ok(ds) = file.dataset(&path) {
                    visit(&path, &ds);
                }
            }
            _ => {}
        }
    }
    Ok(())
}
