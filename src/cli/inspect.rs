//! `usid-peaks inspect` (not yet implemented).
use super::{CliError, Exit};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The HDF5 file.
    pub file: std::path::PathBuf,
}

pub fn run(_args: Args) -> Result<(), CliError> {
    Err(CliError::new(Exit::Internal, "inspect is not implemented yet"))
}
