//! The rules of results groups, in one place for `find` (reuse), `plot --map` and `inspect`:
//! where a group goes (`<dataset>-<Process>_NNN` beside the source dataset's path, in the source
//! file or at the same path in an `--output` file), when it is complete (every entry of
//! `completed_positions` is 1), and what it records (its source dataset, its parameters).

use hdf5::types::VarLenUnicode;
use hdf5::LocationType;

/// The name results groups of process `process` on `dset_path` get: `<dataset name>-<Process>_`.
pub fn group_base(dset_path: &str, process: &str) -> String {
    let name = dset_path.rsplit('/').next().unwrap_or(dset_path);
    format!("{name}-{process}_")
}

/// The parent group path of an HDF5 object path (`/` for top-level objects).
pub fn parent_path(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// A results group as found in a file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResultsGroup {
    /// The group's absolute path.
    pub path: String,
    /// The source dataset's path (its `source_dataset` attribute; in the source's file).
    pub source_dataset: String,
    /// Whether every position was computed.
    pub complete: bool,
    /// The group's string and number attributes (parameters, tool, time, …), as text.
    pub attributes: Vec<(String, String)>,
}

impl ResultsGroup {
    /// Read the group at `path`; `None` if it is not a results group (no `source_dataset`).
    pub fn open(file: &hdf5::File, path: &str) -> Option<ResultsGroup> {
        let g = file.group(path).ok()?;
        let source_dataset = string_attr(&g, "source_dataset")?;
        let complete = is_complete(&g);
        let mut names = g.attr_names().ok()?;
        names.sort();
        let attributes = names.into_iter().filter_map(|n| Some((n.clone(), attr_text(&g, &n)?))).collect();
        Some(ResultsGroup { path: g.name(), source_dataset, complete, attributes })
    }

    /// The attribute `name` as text, if the group has it.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Whether every position of the group was computed.
pub fn is_complete(g: &hdf5::Group) -> bool {
    g.dataset("completed_positions")
        .and_then(|d| d.read_raw::<u8>())
        .is_ok_and(|done| !done.is_empty() && done.iter().all(|&c| c == 1))
}

/// The string attribute `name` of `g`.
pub fn string_attr(g: &hdf5::Group, name: &str) -> Option<String> {
    g.attr(name).ok()?.read_scalar::<VarLenUnicode>().ok().map(|v| v.as_str().to_string())
}

/// A scalar or 1-D attribute as text: strings as they are, numbers as Rust prints them.
fn attr_text(g: &hdf5::Group, name: &str) -> Option<String> {
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

/// The newest results group of process `process` on the dataset at `dset_path` that `keep`
/// accepts, opening each group (newest first) only until one does.
pub fn newest_group_where(
    file: &hdf5::File,
    dset_path: &str,
    process: &str,
    keep: impl Fn(&ResultsGroup) -> bool,
) -> Option<ResultsGroup> {
    group_paths_for(file, dset_path, process)
        .iter()
        .rev()
        .filter_map(|p| ResultsGroup::open(file, p))
        .find(|g| keep(g))
}

/// The paths of the results groups of process `process` on the dataset at `dset_path`, found at
/// that path's parent in `file` (the source file, or an `--output` file), oldest first, none of
/// them opened yet: a caller after one group opens (and reads the completion of) only the ones it
/// looks at.
pub fn group_paths_for(file: &hdf5::File, dset_path: &str, process: &str) -> Vec<String> {
    let Ok(parent) = file.group(parent_path(dset_path)) else { return Vec::new() };
    let base = group_base(dset_path, process);
    let mut found: Vec<(u64, String)> = parent
        .member_names()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| Some((m.strip_prefix(&base)?.parse::<u64>().ok()?, m)))
        .filter(|(_, m)| matches!(parent.loc_type_by_name(m), Ok(LocationType::Group)))
        .collect();
    found.sort();
    found.into_iter().map(|(_, m)| format!("{}/{m}", parent.name())).collect()
}

/// How deep and how many groups [`all_groups`] looks.
const MAX_DEPTH: usize = 8;
const MAX_GROUPS_VISITED: usize = 10_000;

/// Every results group in `file`, wherever it is, in path order (for `inspect` and for a file
/// that holds only results).
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
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}
