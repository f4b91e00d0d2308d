//! Opening a file: the checks that give the common mistakes (a typo, a directory, a file that is
//! not HDF5) one clear line before HDF5 sees the file.
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::one_line;
use crate::usid::UsidError;

/// The 8 bytes every HDF5 file starts with (at offset 0, or 512, 1024, 2048, … after a user
/// block).
pub(super) const HDF5_SIGNATURE: [u8; 8] = *b"\x89HDF\r\n\x1a\n";

/// Check that `path` names an existing regular file that carries the HDF5 signature, so that the
/// common mistakes (typo, directory, wrong file) get a crisp message before HDF5 sees the file.
/// Use it before opening a file some other way (e.g. with the MPI-IO driver).
pub(crate) fn check_hdf5_file(path: &Path) -> Result<(), UsidError> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => UsidError(format!("{shown}: no such file")),
        _ => UsidError(format!("{shown}: cannot be read ({})", one_line(e))),
    })?;
    if meta.is_dir() {
        return Err(UsidError(format!("{shown}: is a directory, not an HDF5 file")));
    }
    let mut file = std::fs::File::open(path)
        .map_err(|e| UsidError(format!("{shown}: cannot be read ({})", one_line(e))))?;
    let mut offset = 0u64;
    loop {
        let mut head = [0u8; 8];
        let found = file.seek(SeekFrom::Start(offset)).is_ok()
            && file.read_exact(&mut head).is_ok()
            && head == HDF5_SIGNATURE;
        if found {
            return Ok(());
        }
        // The signature sits at 0 or at a power of two from 512 on; stop at the end of the file.
        offset = if offset == 0 { 512 } else { offset * 2 };
        if offset.saturating_add(8) > meta.len() {
            return Err(UsidError(format!("{shown}: not an HDF5 file (no HDF5 signature)")));
        }
    }
}

/// Open an HDF5 file read-only, after checking it is one (`check_hdf5_file`). HDF5's error stack is silenced so the
/// user sees only our one line; a file with the signature that HDF5 still refuses is reported as
/// truncated or corrupt.
pub fn open_file(path: &Path) -> Result<hdf5::File, UsidError> {
    check_hdf5_file(path)?;
    hdf5::silence_errors(true);
    hdf5::File::open(path).map_err(|e| {
        UsidError(format!(
            "{}: cannot be opened as HDF5; the file may be truncated or corrupt ({})",
            path.display(),
            one_line(e)
        ))
    })
}
