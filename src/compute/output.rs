//! Where results go and how they get there without ever damaging the user's file.
//!
//! The file that receives the results group (the input itself, or `--output`) is never modified in
//! place: rank 0 copies it (the kernel's copy_file_range, a reflink on copy-on-write file systems),
//! adds the group to the copy, syncs it and renames it over the original. A kill at any moment
//! leaves either the old file or the new one, both whole; a stale copy is removed by the next run.
//! A lock file beside the target keeps two runs from writing it at once.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::analysis::{Analysis, Param, RowItems, WriteTarget};
use super::checkpoint::sync_parent;
use super::input::{Input, Source};
use super::stream::StreamPlan;
use super::ComputeError;
use crate::nsid::Dimension;
use crate::usid::{self, results, MainDataset, UsidError};

/// The files of one run's target: the HDF5 file that receives the group and its side files.
#[derive(Debug, Clone)]
pub(crate) struct TargetPaths {
    /// The file that receives the results group.
    pub target: PathBuf,
    /// Held (flock) while a run works on `target`.
    pub lock: PathBuf,
    /// The copy being written, renamed over `target` when complete.
    pub staging: PathBuf,
}

impl TargetPaths {
    pub fn new(target: &Path) -> Self {
        TargetPaths {
            target: target.to_owned(),
            lock: side_file(target, "usid-peaks.lock"),
            staging: side_file(target, "usid-peaks-staging"),
        }
    }
    /// The checkpoint of the run whose fingerprint hashes to `key`.
    pub fn checkpoint(&self, key: u32) -> PathBuf {
        side_file(&self.target, &format!("usid-peaks-{key:08x}.ckpt"))
    }
}

/// `dir/.name.suffix`: hidden, beside the file, on the same file system (so rename is atomic).
fn side_file(path: &Path, suffix: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{suffix}"))
}

/// An exclusive lock on the target, released when dropped; the lock file is removed then too.
pub(crate) struct Lock {
    /// Held, never read: the lock lives as long as this open file.
    _file: File,
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Unlinked while still locked: a run that opened the old file meanwhile finds, once it
        // gets the lock, that the path no longer names what it locked, and starts again (see
        // `lock`), so two runs never both hold "the" lock.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Take the target's lock, or say which run holds it.
pub(crate) fn lock(paths: &TargetPaths) -> Result<Lock, ComputeError> {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::io::AsRawFd;
    // A few tries: each retry means another run ended and removed the file between our open and
    // our flock.
    for _ in 0..8 {
        let file =
            std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&paths.lock).map_err(
                |e| {
                    ComputeError::Output(format!(
                        "cannot create the lock file {} ({e}); is the directory writable?",
                        paths.lock.display()
                    ))
                },
            )?;
        // SAFETY: flock on a file descriptor we own; non-blocking, so it cannot hang.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                // Some parallel file systems (Lustre mounted without `flock`) have no locks at
                // all: say so, and go on unguarded rather than refuse every run.
                crate::say!(
                    "usid-peaks: warning: cannot lock {} ({err}); make sure no other run writes {}",
                    paths.lock.display(),
                    paths.target.display()
                );
                return Ok(Lock { _file: file, path: paths.lock.clone() });
            }
            return Err(ComputeError::Busy(format!(
                "{} is being written by another usid-peaks run (lock {} is held); wait for it to finish",
                paths.target.display(),
                paths.lock.display()
            )));
        }
        let same = |a: &std::fs::Metadata, b: &std::fs::Metadata| a.dev() == b.dev() && a.ino() == b.ino();
        match (file.metadata(), std::fs::metadata(&paths.lock)) {
            (Ok(ours), Ok(there)) if same(&ours, &there) => {
                return Ok(Lock { _file: file, path: paths.lock.clone() });
            }
            // The previous holder removed the file we locked: lock the new one.
            _ => continue,
        }
    }
    Err(ComputeError::Busy(format!(
        "{}: the lock {} keeps changing hands; wait for the other runs to finish",
        paths.target.display(),
        paths.lock.display()
    )))
}

/// Refuse, before any computing, a target that cannot receive a results group: it must be missing
/// (it is created) or an HDF5 file that no other program has open for writing.
pub(crate) fn check_target(paths: &TargetPaths) -> Result<(), ComputeError> {
    let shown = paths.target.display();
    match std::fs::metadata(&paths.target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ComputeError::Output(format!("{shown}: cannot be read ({e})"))),
        Ok(m) if m.is_dir() => {
            Err(ComputeError::Output(format!("{shown}: is a directory; the results go into an HDF5 file")))
        }
        Ok(m) if !m.is_file() => Err(ComputeError::Output(format!(
            "{shown}: is not a regular file; the results go into an HDF5 file"
        ))),
        Ok(_) => {
            usid::check_hdf5_file(&paths.target).map_err(|e| {
                ComputeError::Output(format!("{e}; usid-peaks adds results only to HDF5 files"))
            })?;
            check_not_open_for_writing(&paths.target)
        }
    }
}

/// Refuse a file another program (h5py, HDFView, another tool) has open for writing: results
/// renamed over it would be lost when that program writes to the file it holds, and reading it
/// while it changes gives garbage. HDF5 takes an exclusive flock on a file it opens read-write and
/// a shared one on a file it opens read-only, so a shared probe fails only against a writer.
/// A file that cannot be opened passes: the caller's own open reports why.
pub(crate) fn check_not_open_for_writing(path: &Path) -> Result<(), ComputeError> {
    let Ok(file) = File::open(path) else { return Ok(()) };
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a file descriptor we own; non-blocking, so it cannot hang. Closing the
    // descriptor (when `file` drops) releases the probe.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) };
    if rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK) {
        return Err(ComputeError::Busy(format!(
            "{} is open for writing in another program (it holds the file's HDF5 lock); close it there and run again",
            path.display()
        )));
    }
    Ok(())
}

/// The newest complete results group of `analysis` in `target` made with `fingerprint`, if any.
pub(crate) fn find_reusable<A: Analysis>(
    target: &Path,
    dset_path: &str,
    analysis: &A,
    fingerprint: &str,
) -> Option<String> {
    if !target.exists() {
        return None;
    }
    let file = hdf5::File::open(target).ok()?;
    results::newest_group_where(&file, dset_path, analysis.name(), |g| {
        g.complete_for(analysis.status_datasets()) && g.attr("usid_peaks_fingerprint") == Some(fingerprint)
    })
    .map(|g| g.path)
}

/// How many items a complete results group holds, as its analysis counts them (0 if it cannot).
pub(crate) fn items_in<A: Analysis>(analysis: &A, target: &Path, group: &str) -> u64 {
    hdf5::File::open(target)
        .and_then(|f| f.group(group))
        .ok()
        .and_then(|g| analysis.count_items(&g))
        .unwrap_or(0)
}

/// Facts about the run recorded on the results group.
#[derive(Clone, Copy)]
pub(crate) struct RunInfo<'a> {
    pub fingerprint: &'a str,
    pub ranks: usize,
    pub threads: usize,
}

/// The staged copy of a run's target, open for the results group: a copy of the target when it
/// exists (the kernel's copy_file_range, a reflink on copy-on-write file systems), else a new
/// file. A stale copy of an earlier run is replaced.
pub(crate) fn stage(paths: &TargetPaths) -> Result<hdf5::File, ComputeError> {
    let out_err = |what: &str, e: &dyn std::fmt::Display| {
        ComputeError::Output(format!("{}: {what}: {e}", paths.target.display()))
    };
    let _ = std::fs::remove_file(&paths.staging);
    let staged = (|| {
        if paths.target.exists() {
            std::fs::copy(&paths.target, &paths.staging)
                .map_err(|e| out_err("cannot copy it to stage the results", &e))?;
            hdf5::File::open_rw(&paths.staging)
        } else {
            hdf5::File::create_excl(&paths.staging)
        }
        .map_err(|e| out_err("cannot open the staging copy", &e))
    })();
    if staged.is_err() {
        discard(paths);
    }
    staged
}

/// Make the staged copy the target: flush and close it, sync it, rename it over the target. The
/// staged copy is removed on an error (the target itself untouched).
pub(crate) fn commit(file: hdf5::File, paths: &TargetPaths) -> Result<(), ComputeError> {
    let out_err = |what: &str, e: &dyn std::fmt::Display| {
        ComputeError::Output(format!("{}: {what}: {e}", paths.target.display()))
    };
    let done = (|| {
        file.flush().map_err(|e| out_err("cannot flush", &e))?;
        drop(file);
        File::open(&paths.staging)
            .and_then(|f| f.sync_all())
            .map_err(|e| out_err("cannot sync the staging copy", &e))?;
        std::fs::rename(&paths.staging, &paths.target)
            .map_err(|e| out_err("cannot move the results into place", &e))
    })();
    if done.is_err() {
        discard(paths);
    }
    done?;
    sync_parent(&paths.target);
    Ok(())
}

/// Remove the staged copy: a half-written copy is useless, and on a full disk it holds the space
/// the user needs to free before the rerun.
pub(crate) fn discard(paths: &TargetPaths) {
    let _ = std::fs::remove_file(&paths.staging);
}

/// A new results group of a USID source in a staged file, ready for the analysis's datasets: its
/// attributes and status datasets written, the position datasets to link to at hand.
pub(crate) struct UsidGroup {
    group: hdf5::Group,
    source: MainDataset,
    pos_ind: hdf5::Dataset,
    pos_val: hdf5::Dataset,
}

impl UsidGroup {
    /// Where the analysis writes.
    pub(crate) fn target(&self) -> WriteTarget<'_> {
        WriteTarget {
            group: &self.group,
            source: &self.source,
            position_indices: &self.pos_ind,
            position_values: &self.pos_val,
        }
    }

    /// The group's path in the file.
    pub(crate) fn path(&self) -> String {
        self.group.name()
    }

    /// Make the group for `analysis` on the dataset `dset_path` of `input` in `file` (the staged
    /// copy; `in_place` when it is a copy of the input itself).
    pub(crate) fn make<A: Analysis>(
        analysis: &A,
        input: &Path,
        dset_path: &str,
        file: &hdf5::File,
        in_place: bool,
        info: &RunInfo<'_>,
    ) -> Result<UsidGroup, UsidError> {
        // The source as seen from the file that gets the group: itself in place, else the input.
        let source_file = if in_place { file.clone() } else { usid::open_file(input)? };
        let source = MainDataset::open(&source_file, dset_path)?;
        let parent = group_or_create(file, results::parent_path(dset_path))?;
        let [src_pos_ind, src_pos_val, _, _] = source.ancillary_datasets();
        let (pos_ind, pos_val) = if in_place {
            (src_pos_ind.clone(), src_pos_val.clone())
        } else {
            let (ni, nv) =
                (usid::write::base_name(&src_pos_ind.name()), usid::write::base_name(&src_pos_val.name()));
            match (parent.dataset(&ni), parent.dataset(&nv)) {
                (Ok(i), Ok(v)) if i.shape() == src_pos_ind.shape() => (i, v),
                _ => usid::write::copy_ancillary(src_pos_ind, src_pos_val, &parent)?,
            }
        };
        let group = results::create_indexed_group(&parent, &results::stem(dset_path, analysis.name()))?;
        write_attrs(&group, analysis, dset_path, source.n_positions, info)?;
        results::mark_complete(&group, source.n_positions, analysis.status_datasets())?;
        Ok(UsidGroup { group, source, pos_ind, pos_val })
    }
}

/// The source's format, as its results group is made: USID (the results linked to the source's
/// position datasets), or NSID with the dimensions every per-spectrum result keeps.
pub(crate) enum Format {
    Usid,
    /// [`NsidWriteTarget::dims`] and how many of them are the positions.
    Nsid {
        dims: Vec<Dimension>,
        position_axes: usize,
    },
}

impl Format {
    pub(crate) fn of(input: &Input) -> Format {
        match &input.source {
            Source::Usid(_) => Format::Usid,
            Source::Nsid(ds, spectra) => {
                Format::Nsid { dims: spectra.result_dims(ds), position_axes: spectra.position_axes.len() }
            }
        }
    }
}

/// A new results group in a staged file, ready for the analysis's datasets: a USID source's
/// ([`UsidGroup`]) or pyNSID's `Log_<process>_NNN` beside an NSID source's group (made, with the
/// groups above it, in an `--output` file), the run's attributes and status datasets on it.
#[allow(clippy::large_enum_variant)] // one per run: boxing would only add an indirection
pub(crate) enum ResultsGroup<'a> {
    Usid(UsidGroup),
    Nsid { group: hdf5::Group, source: &'a str, dims: &'a [Dimension], position_axes: usize },
}

impl<'a> ResultsGroup<'a> {
    /// Make the group for `analysis` on the source of `plan` in `file`, its staged copy.
    pub(crate) fn make<A: Analysis>(
        analysis: &A,
        plan: &StreamPlan<'a>,
        file: &hdf5::File,
    ) -> Result<Self, UsidError> {
        let (dset_path, n_positions) = (plan.dataset, plan.n_pixels as usize);
        let Format::Nsid { dims, position_axes } = plan.format else {
            let made = UsidGroup::make(analysis, plan.input, dset_path, file, plan.in_place, &plan.info);
            return made.map(ResultsGroup::Usid);
        };
        let as_usid = |e: crate::nsid::NsidError| UsidError(e.message);
        let parent = group_or_create(file, &crate::nsid::results_parent(dset_path).map_err(as_usid)?)?;
        let group = crate::nsid::create_results_group(&parent, analysis.name()).map_err(as_usid)?;
        write_attrs(&group, analysis, dset_path, n_positions, &plan.info)?;
        results::mark_complete(&group, n_positions, analysis.status_datasets())?;
        Ok(ResultsGroup::Nsid { group, source: dset_path, dims, position_axes: *position_axes })
    }

    /// The group's path in the file.
    pub(crate) fn path(&self) -> String {
        match self {
            ResultsGroup::Usid(g) => g.path(),
            ResultsGroup::Nsid { group, .. } => group.name(),
        }
    }
}

/// Write the results group of `analysis` for the USID main dataset of `input` into
/// `paths.target` whole, through a staging copy renamed into place (an analysis that does not
/// stream its results; NSID results always do). Returns the group's path.
pub(crate) fn write_results<A: Analysis>(
    analysis: &A,
    results: &RowItems<A::Item>,
    input: &Input,
    paths: &TargetPaths,
    info: &RunInfo<'_>,
) -> Result<String, ComputeError> {
    let file = stage(paths)?;
    let in_place = usid::write::same_path(input.path(), &paths.target);
    let group = UsidGroup::make(analysis, input.path(), input.dataset(), &file, in_place, info)
        .and_then(|g| analysis.write(results, &g.target()).map(|()| g.path()))
        .map_err(|e| ComputeError::Output(format!("{}: {e}", paths.target.display())));
    match group {
        Ok(group) => commit(file, paths).map(|()| group),
        Err(e) => {
            drop(file);
            discard(paths);
            Err(e)
        }
    }
}

/// The group `name` of `file`, made (with the groups above it) when it is not there yet: the
/// results' parent group, which an `--output` file does not have.
fn group_or_create(file: &hdf5::File, name: &str) -> Result<hdf5::Group, UsidError> {
    file.group(name).or_else(|_| {
        file.create_group(name)
            .map_err(|e| UsidError(format!("cannot create {name}: {}", crate::error::one_line(e))))
    })
}

fn write_attrs<A: Analysis>(
    group: &hdf5::Group,
    analysis: &A,
    dset_path: &str,
    n_positions: usize,
    info: &RunInfo<'_>,
) -> Result<(), UsidError> {
    for (name, value) in analysis.parameters() {
        match value {
            Param::Str(s) => usid::write::write_str_attr(group, &name, &s)?,
            Param::Float(v) => usid::write::write_f64_attr(group, &name, v)?,
            Param::Int(v) => usid::write::write_i64_attr(group, &name, v)?,
            Param::Floats(v) => usid::write::write_f64_array_attr(group, &name, &v)?,
        }
    }
    usid::write::write_str_attr(group, "tool", env!("CARGO_PKG_NAME"))?;
    usid::write::write_str_attr(group, "tool_version", env!("CARGO_PKG_VERSION"))?;
    usid::write::write_str_attr(
        group,
        "timestamp",
        &humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    )?;
    usid::write::write_str_attr(group, "machine_id", &hostname())?;
    usid::write::write_str_attr(group, "source_dataset", dset_path)?;
    usid::write::write_i64_attr(group, "ranks", info.ranks as i64)?;
    usid::write::write_i64_attr(group, "threads", info.threads as i64)?;
    // pyUSID's Process marks a finished group by its last computed pixel.
    usid::write::write_i64_attr(group, "last_pixel", n_positions as i64)?;
    usid::write::write_str_attr(group, "usid_peaks_fingerprint", info.fingerprint)?;
    Ok(())
}

/// This machine's name, for the results group's `machine_id`.
pub(crate) fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}
