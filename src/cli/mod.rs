//! The command line: clap definitions and the one place where errors become a line on stderr and
//! an exit code.
use clap::{Parser, Subcommand};

mod bench;
mod find;
mod generate;
mod inspect;
mod inspect_nsid;
mod params;
mod pixel;
mod plot;
mod sho;

/// The class of an error on its way out, which is its exit code (the table is
/// [`usid_peaks::error::Class::exit_code`]).
pub use usid_peaks::error::Class as Exit;

/// An error on its way to the user: one line, one exit class.
#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
}

impl CliError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        CliError { exit, message: message.into() }
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }
    /// An error another process (MPI rank 0) reports: exit with its class, print nothing.
    pub fn silent(exit: Exit) -> Self {
        Self::new(exit, "")
    }
}

impl From<usid_peaks::compute::ComputeError> for CliError {
    fn from(e: usid_peaks::compute::ComputeError) -> Self {
        CliError::new(e.class(), e.to_string())
    }
}

impl From<usid_peaks::usid::UsidError> for CliError {
    fn from(e: usid_peaks::usid::UsidError) -> Self {
        CliError::new(Exit::Input, e.to_string())
    }
}

impl From<usid_peaks::nsid::NsidError> for CliError {
    fn from(e: usid_peaks::nsid::NsidError) -> Self {
        CliError::new(e.class, e.message)
    }
}

impl From<usid_peaks::usid::select::SelectError> for CliError {
    fn from(e: usid_peaks::usid::select::SelectError) -> Self {
        CliError::new(e.class(), e.to_string())
    }
}

impl From<usid_peaks::cwt::CwtError> for CliError {
    fn from(e: usid_peaks::cwt::CwtError) -> Self {
        CliError::new(Exit::Usage, e.to_string())
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "usid-peaks",
    version,
    about = "Per-pixel peak finding (scipy-exact find_peaks_cwt) over USID HDF5 maps, on all cores and MPI ranks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the USID main datasets of a file, or describe one.
    Inspect(inspect::Args),
    /// Write a synthetic Band Excitation PFM map (the built-in default data).
    Generate(generate::Args),
    /// Find the peaks of one pixel's spectrum.
    Pixel(pixel::Args),
    /// Find the peaks of every pixel and write a USID results group.
    Find(find::Args),
    /// Fit the simple harmonic oscillator to every spectrum (BGlib's SHO fit) and write Guess and Fit.
    Sho(sho::Args),
    /// Time the analysis over thread counts on data in memory; write bench.csv/json and scaling.png.
    Bench(bench::Args),
    /// Draw one pixel's spectrum and peaks (--pixel), or the results over the grid (--map).
    Plot(plot::Args),
}

/// Parse the command line, run the command, and turn any error into one line on stderr.
pub fn main() -> i32 {
    let started = std::time::Instant::now();
    ignore_file_size_signal();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { Exit::Usage.exit_code() } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Pixel(args) => pixel::run(args),
        Command::Find(args) => find::run(args, started),
        Command::Sho(args) => sho::run(args, started),
        Command::Bench(args) => bench::run(args),
        Command::Plot(args) => plot::run(args),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            if !e.message.is_empty() {
                // One line whatever the source: HDF5's messages carry line breaks of their own.
                usid_peaks::say!("usid-peaks: error: {}", usid_peaks::error::one_line(&e.message));
            }
            e.exit.exit_code()
        }
    }
}

/// Write to stdout, the one way every command does: a reader that went away (`| head`) is not an
/// error and no panic (Rust ignores SIGPIPE, so `println!` would panic on the closed pipe).
pub(crate) fn print_stdout(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError::new(Exit::Output, format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// A write past the file-size limit (`ulimit -f`, a batch system's limit) raises SIGXFSZ, whose
/// default action kills the process without a word. Ignored, the write fails with EFBIG instead,
/// which the writers report as an output error (exit 4) and clean up after.
fn ignore_file_size_signal() {
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler and has no
    // preconditions; it runs before any thread is started.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}
