//! The one rule of results groups, for writing (`find`), selection (which datasets are data),
//! reuse, `inspect` and `plot`:
//!
//! * **name** — pyUSID's: `<dataset name>-<Process>_<index>` beside the source dataset (in the
//!   source file, or at the same group path in an `--output` file). The process name holds no
//!   `-` (pyUSID replaces it), so the last `-` splits dataset from process.
//! * **number** — the index is at least three ASCII digits (`_000`, …, `_999`, `_1000`); a new
//!   group takes one more than the highest index of the groups already there (sidpy's
//!   `assign_group_index`).
//! * **completeness** — every status dataset of the process is all 1: pyUSID's
//!   `completed_positions`, or an analysis's own (an SHO fit's `completed_guess_positions` and
//!   `completed_fit_positions`). Without knowing the process, every `completed_*positions`
//!   dataset the group holds must be (and there must be one).
//!
//! The results of an NSID source follow pyNSID's `write_results` instead: `Log_<Process>_<index>`
//! *beside the source's own group* (`/Measurement_000/Log_Peak_Finding_000` for
//! `/Measurement_000/Channel_000/Raw_Data/Raw_Data`; see `crate::nsid::results_parent`), the
//! source named by the group's `source_dataset` attribute. Number and completeness are the same;
//! selection, reuse, `inspect` and `plot` know both names ([`GroupName::parse`],
//! [`newest_group_where`]).

use hdf5::types::VarLenUnicode;
use hdf5::{Group, LocationType};

use super::write::h5_error;
use super::UsidError;

/// pyUSID's status dataset (`Process._status_dset_name`): one uint8 per position, 1 once computed.
pub(crate) const STATUS: &str = "completed_positions";

/// The fewest digits of an index: pyUSID writes `{:03d}`.
const INDEX_DIGITS: usize = 3;

/// `name` split into its stem and index if it ends in `_` and at least three ASCII digits.
fn split_index(name: &str) -> Option<(&str, u64)> {
    let (stem, digits) = name.rsplit_once('_')?;
    if digits.len() < INDEX_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((stem, digits.parse().ok()?))
}

/// `stem` and `index` as an indexed name: `Raw_Data-Peak_Finding_007`, `…_1000`.
fn indexed_name(stem: &str, index: u64) -> String {
    format!("{stem}_{index:0INDEX_DIGITS$}")
}

/// The next free indexed name `stem_NNN` under `parent`: one more than the highest index of the
/// *groups* named so (datasets and other suffixes are ignored), as sidpy's `assign_group_index`
/// counts; `stem_000` when there is none or the members cannot be listed (creating it will then
/// report the problem). A trailing `_` in `stem` is not doubled.
pub fn next_indexed_name(parent: &Group, stem: &str) -> String {
    let stem = stem.strip_suffix('_').unwrap_or(stem);
    let next = parent
        .member_names()
        .unwrap_or_default()
        .iter()
        .filter(|m| matches!(parent.loc_type_by_name(m), Ok(LocationType::Group)))
        .filter_map(|m| split_index(m).filter(|(s, _)| *s == stem).map(|(_, i)| i.saturating_add(1)))
        .max()
        .unwrap_or(0);
    indexed_name(stem, next)
}

/// Create the group [`next_indexed_name`] names (pyUSID's `create_indexed_group`).
pub fn create_indexed_group(parent: &Group, stem: &str) -> Result<Group, UsidError> {
    let name = next_indexed_name(parent, stem);
    parent.create_group(&name).map_err(|e| {
        h5_error(&format!("{}:{}/{name}", parent.filename(), parent.name()), "cannot create the group", e)
    })
}

/// A results group's name, taken apart: `<dataset>-<process>_<index>`, or pyNSID's
/// `Log_<process>_<index>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GroupName<'a> {
    /// The source dataset's name (the last component of its path); empty in pyNSID's name, which
    /// does not hold it.
    pub dataset: &'a str,
    /// The process, e.g. `Peak_Finding` or `SHO_Fit`.
    pub process: &'a str,
    pub index: u64,
}

impl<'a> GroupName<'a> {
    /// `name` (one path component) as a results group's name, if it follows the rule.
    pub(crate) fn parse(name: &'a str) -> Option<Self> {
        let (stem, index) = split_index(name)?;
        if let Some((dataset, process)) = stem.rsplit_once('-') {
            return (!dataset.is_empty() && !process.is_empty()).then_some(GroupName {
                dataset,
                process,
                index,
            });
        }
        let process = stem.strip_prefix(NSID_PREFIX)?;
        (!process.is_empty()).then_some(GroupName { dataset: "", process, index })
    }
}

/// What pyNSID's `write_results` puts before the process in a results group's name.
const NSID_PREFIX: &str = "Log_";

/// The stem of the results groups of `process` on an NSID dataset: `Log_<Process>`.
pub(crate) fn nsid_stem(process: &str) -> String {
    format!("{NSID_PREFIX}{process}")
}

/// The stem of the results groups of `process` on the dataset at `dset_path`:
/// `<dataset name>-<Process>`.
pub(crate) fn stem(dset_path: &str, process: &str) -> String {
    format!("{}-{process}", base_name(dset_path))
}

/// Whether `path` lies in a results group: such datasets are results of an analysis, not data
/// to analyse.
pub fn is_in_results_group(path: &str) -> bool {
    path.rsplit('/').skip(1).any(|g| GroupName::parse(g).is_some())
}

/// The parent group path of an HDF5 object path (`/` for top-level objects).
pub(crate) fn parent_path(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Write `status` datasets (one uint8 per position, all 1) into `group`: its results are complete.
pub(crate) fn mark_complete(group: &Group, n_positions: usize, status: &[&str]) -> Result<(), UsidError> {
    let done = vec![1u8; n_positions];
    for name in status {
        group.new_dataset_builder().with_data(&done).create(*name).map_err(|e| {
            h5_error(&format!("{}:{}", group.filename(), group.name()), &format!("cannot write {name}"), e)
        })?;
    }
    Ok(())
}

/// Whether `name` is a status dataset's: pyUSID's `completed_positions`, or `completed_*_positions`.
fn is_status_name(name: &str) -> bool {
    name == STATUS || (name.starts_with("completed_") && name.ends_with("_positions"))
}

/// A results group as found in a file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResultsGroup {
    /// The group's absolute path.
    pub path: String,
    /// The source dataset's path: the group's `source_dataset` attribute (ours), else the
    /// dataset its name names beside it (pyUSID's own groups).
    pub source_dataset: String,
    /// Whether it is complete by the rule for a group of unknown process (see the module).
    pub complete: bool,
    /// The group's string and number attributes (parameters, tool, time, …), as text.
    pub attributes: Vec<(String, String)>,
    /// The process its name gives, e.g. `Peak_Finding`.
    #[serde(skip)]
    pub process: String,
    /// Its index.
    #[serde(skip)]
    pub index: u64,
    /// Each status dataset it holds, and whether it is all 1.
    #[serde(skip)]
    status: Vec<(String, bool)>,
}

impl ResultsGroup {
    /// Read the group at `path`; `None` if there is no group there or its name is not a results
    /// group's.
    pub(crate) fn open(file: &hdf5::File, path: &str) -> Option<ResultsGroup> {
        let g = file.group(path).ok()?;
        let full = g.name();
        let name = GroupName::parse(base_name(&full))?;
        let source_dataset = string_attr(&g, "source_dataset").unwrap_or_else(|| {
            let parent = parent_path(&full);
            match name.dataset {
                // pyNSID's own groups do not say whose results they are.
                "" => String::new(),
                dataset => format!("{}/{dataset}", parent.strip_suffix('/').unwrap_or(parent)),
            }
        });
        let mut names = g.member_names().unwrap_or_default();
        names.sort();
        let status: Vec<(String, bool)> =
            names.into_iter().filter(|n| is_status_name(n)).map(|n| (n.clone(), all_ones(&g, &n))).collect();
        let mut attr_names = g.attr_names().unwrap_or_default();
        attr_names.sort();
        let attributes =
            attr_names.into_iter().filter_map(|n| Some((n.clone(), attr_text(&g, &n)?))).collect();
        Some(ResultsGroup {
            complete: !status.is_empty() && status.iter().all(|(_, done)| *done),
            process: name.process.to_string(),
            index: name.index,
            path: full,
            source_dataset,
            attributes,
            status,
        })
    }

    /// Whether every one of the `status` datasets (a process's own) is there and all 1.
    pub(crate) fn complete_for(&self, status: &[&str]) -> bool {
        !status.is_empty() && status.iter().all(|s| self.status.iter().any(|(n, done)| n == s && *done))
    }

    /// The attribute `name` as text, if the group has it.
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Whether dataset `name` of `g` is non-empty and all 1.
fn all_ones(g: &Group, name: &str) -> bool {
    g.dataset(name)
        .and_then(|d| d.read_raw::<u8>())
        .is_ok_and(|done| !done.is_empty() && done.iter().all(|&c| c == 1))
}

/// The string attribute `name` of `g`.
fn string_attr(g: &Group, name: &str) -> Option<String> {
    g.attr(name).ok()?.read_scalar::<VarLenUnicode>().ok().map(|v| v.as_str().to_string())
}

/// A scalar or 1-D attribute as text: strings as they are, numbers as Rust prints them.
fn attr_text(g: &Group, name: &str) -> Option<String> {
    let a = g.attr(name).ok()?;
    if let Ok(v) = a.read_scalar::<VarLenUnicode>() {
        return Some(v.as_str().to_string());
    }
    if let Ok(v) = a.read_raw::<f64>() {
        return Some(match v.as_slice() {
            [one] if a.ndim() == 0 => one.to_string(),
            many => format!("{many:?}"),
        });
    }
    None
}

/// The newest (highest index) results group of `process` on the dataset at `dset_path` that
/// `keep` accepts, in `file` (the source file, or an `--output` file), opening each group, newest
/// first, only until one is kept: pyUSID's groups at that path's parent, else pyNSID's
/// `Log_<process>_NNN` groups one level up whose `source_dataset` is `dset_path` (only our NSID
/// results are there for a dataset: a USID source's never are).
pub(crate) fn newest_group_where(
    file: &hdf5::File,
    dset_path: &str,
    process: &str,
    keep: impl Fn(&ResultsGroup) -> bool,
) -> Option<ResultsGroup> {
    let own = parent_path(dset_path);
    newest_in(file, own, &stem(dset_path, process), &keep).or_else(|| {
        let ours = |g: &ResultsGroup| g.source_dataset == dset_path && keep(g);
        (own != "/").then(|| newest_in(file, parent_path(own), &nsid_stem(process), &ours)).flatten()
    })
}

/// The newest group `<stem>_NNN` in the group at `parent` that `keep` accepts.
fn newest_in(
    file: &hdf5::File,
    parent: &str,
    stem: &str,
    keep: &dyn Fn(&ResultsGroup) -> bool,
) -> Option<ResultsGroup> {
    let parent = file.group(parent).ok()?;
    let mut found: Vec<(u64, String)> = parent
        .member_names()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| split_index(&m).filter(|(s, _)| *s == stem).map(|(_, i)| i).map(|i| (i, m)))
        .collect();
    found.sort();
    let parent_name = parent.name();
    let at = parent_name.strip_suffix('/').unwrap_or(&parent_name).to_string();
    found.iter().rev().filter_map(|(_, m)| ResultsGroup::open(file, &format!("{at}/{m}"))).find(|g| keep(g))
}

/// How deep and how many groups [`all_groups`] looks.
const MAX_DEPTH: usize = 8;
const MAX_GROUPS_VISITED: usize = 10_000;

/// Every results group in `file`, wherever it is, ordered by parent, stem and index (so the
/// newest of a dataset's groups comes last, `_1000` after `_999`).
pub fn all_groups(file: &hdf5::File) -> Vec<ResultsGroup> {
    let mut out = Vec::new();
    // Hard links can make cycles and a hostile file can be deep or wide: the walk is bounded (a
    // results group sits a few levels down, beside its source).
    let mut todo = vec![(file.name(), 0usize)];
    let mut visited = 0usize;
    while let Some((path, depth)) = todo.pop() {
        visited += 1;
        if visited > MAX_GROUPS_VISITED {
            break;
        }
        let Ok(g) = file.group(&path) else { continue };
        for m in g.member_names().unwrap_or_default() {
            let child = if path == "/" { format!("/{m}") } else { format!("{path}/{m}") };
            if matches!(g.loc_type_by_name(&m), Ok(LocationType::Group)) {
                match ResultsGroup::open(file, &child) {
                    Some(r) => out.push(r),
                    None if depth < MAX_DEPTH => todo.push((child, depth + 1)),
                    None => {}
                }
            }
        }
    }
    let key = |g: &ResultsGroup| {
        let stem = split_index(base_name(&g.path)).map_or("", |(s, _)| s).to_string();
        (parent_path(&g.path).to_string(), stem, g.index)
    };
    out.sort_by_cached_key(key);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_pyusids_rule_past_999() {
        let n = GroupName::parse("Raw_Data-Peak_Finding_000").unwrap();
        assert_eq!((n.dataset, n.process, n.index), ("Raw_Data", "Peak_Finding", 0));
        let n = GroupName::parse("Raw-Data-SHO_Fit_1000").unwrap();
        assert_eq!((n.dataset, n.process, n.index), ("Raw-Data", "SHO_Fit", 1000));
        for not in
            ["Raw_Data_000", "Raw_Data-Peak_Finding_01", "Raw_Data-Peak_Finding_+12", "-P_000", "R-_000"]
        {
            assert_eq!(GroupName::parse(not), None, "{not}");
        }
        assert_eq!(indexed_name("Raw_Data-Peak_Finding", 7), "Raw_Data-Peak_Finding_007");
        assert_eq!(indexed_name("Raw_Data-Peak_Finding", 1000), "Raw_Data-Peak_Finding_1000");
        assert_eq!(stem("/M/C/Raw_Data", "Peak_Finding"), "Raw_Data-Peak_Finding");
        let n = GroupName::parse("Log_Peak_Finding_1000").unwrap();
        assert_eq!((n.dataset, n.process, n.index), ("", "Peak_Finding", 1000));
        assert_eq!(GroupName::parse("Log__000"), None);
        assert_eq!(nsid_stem("Peak_Finding"), "Log_Peak_Finding");
    }

    #[test]
    fn results_groups_are_recognised_by_their_names_at_any_depth() {
        assert!(is_in_results_group("/M/C/Raw_Data-Peak_Finding_000/Peak_Indices"));
        assert!(is_in_results_group("/M/C/Raw_Data-Peak_Finding_1000/Peak_Indices"));
        assert!(is_in_results_group("/M/C/Raw_Data-SHO_Fit_012/Fit"));
        assert!(is_in_results_group("/M/Log_Peak_Finding_000/Peak_Count/Peak_Count"));
        assert!(!is_in_results_group("/M/Log_000/Raw/Raw"), "a log without a process is not ours to skip");
        assert!(!is_in_results_group("/Measurement_000/Channel_000/Raw_Data"));
        assert!(!is_in_results_group("/a-b/Raw_Data_x/data"));
        assert!(!is_in_results_group("/M/Raw_Data-Peak_Finding_000"), "the dataset itself is not inside");
    }

    #[test]
    fn status_datasets_are_pyusids_and_an_analysiss_own() {
        assert!(is_status_name("completed_positions"));
        assert!(is_status_name("completed_fit_positions"));
        assert!(!is_status_name("completed"));
        assert_eq!(parent_path("/a/b"), "/a");
        assert_eq!(parent_path("/a"), "/");
    }
}
