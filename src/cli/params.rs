//! The options shared by `pixel`, `find`, `plot` and `bench`: find_peaks_cwt's, `--along`, and
//! `--bind-threads`.

use usid_peaks::compute::Binding;
use usid_peaks::cwt::{parse_widths, CwtParams, SnrFrom};
use usid_peaks::peaks::Component;
use usid_peaks::usid::{MainDataset, SpectraLayout};

use super::CliError;

/// Which value the SNR's signal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SnrFromArg {
    /// scipy's: the CWT value where the ridge line ends (its smallest width).
    RidgeEnd,
    /// Du, Kibbe & Lin (2006): the largest CWT value along the ridge line.
    RidgeMax,
}

#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Peak finding (scipy.signal.find_peaks_cwt)")]
pub struct CwtArgs {
    /// Wavelet widths as START:STOP:NUM, exactly np.linspace(START, STOP, NUM).
    #[arg(long, default_value = "20:60:30", value_name = "START:STOP:NUM", conflicts_with = "width_list")]
    pub widths: String,
    /// Wavelet widths as an explicit list, e.g. 2,4.5,9.
    #[arg(long, value_name = "W1,W2,...")]
    pub width_list: Option<String>,
    /// Largest column distance per width for a ridge line to continue [default: widths/4].
    #[arg(long, value_name = "D1,D2,...")]
    pub max_distances: Option<String>,
    /// Rows a ridge line may skip [default: ceil(widths[0])].
    #[arg(long)]
    pub gap_thresh: Option<f64>,
    /// Fewest points a ridge line needs [default: ceil(number of widths / 4)].
    #[arg(long)]
    pub min_length: Option<usize>,
    /// Smallest signal-to-noise ratio kept.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub min_snr: f64,
    /// Percentile of the smallest-width CWT row taken as the noise floor.
    #[arg(long, default_value_t = 10.0, allow_negative_numbers = true)]
    pub noise_perc: f64,
    /// Width of the noise window in bins [default: ceil(bins / 20)].
    #[arg(long)]
    pub window_size: Option<usize>,
    /// The SNR's signal.
    #[arg(long, value_enum, default_value = "ridge-end")]
    pub snr_from: SnrFromArg,
    /// The real number of each value that peaks are found in.
    #[arg(long, value_enum, default_value = "abs")]
    pub component: Component,
}

impl CwtArgs {
    /// The kernel's parameters, or a usage error naming the bad option.
    pub fn params(&self) -> Result<CwtParams, CliError> {
        let widths = match &self.width_list {
            Some(list) => parse_widths(list).map_err(|e| CliError::usage(format!("--width-list: {e}")))?,
            None => parse_widths(&self.widths).map_err(|e| CliError::usage(format!("--widths: {e}")))?,
        };
        if self.min_snr.is_nan() {
            return Err(CliError::usage("--min-snr must be a number"));
        }
        let max_distances = match &self.max_distances {
            Some(list) => Some(
                list.split(',').map(|v| v.trim().parse::<f64>()).collect::<Result<Vec<f64>, _>>().map_err(
                    |_| CliError::usage(format!("--max-distances: {list:?} is not a list of numbers")),
                )?,
            ),
            None => None,
        };
        Ok(CwtParams {
            widths,
            max_distances,
            gap_thresh: self.gap_thresh,
            min_length: self.min_length,
            min_snr: self.min_snr,
            noise_perc: self.noise_perc,
            window_size: self.window_size,
            snr_from: match self.snr_from {
                SnrFromArg::RidgeEnd => SnrFrom::RidgeEnd,
                SnrFromArg::RidgeMax => SnrFrom::RidgeMax,
            },
        })
    }
}

/// Which spectroscopic dimension a spectrum runs along (`find`, `pixel`, `plot`, `bench`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AlongArg {
    /// The spectroscopic dimension a spectrum runs along, e.g. Frequency or DC_Offset
    /// [default: the fastest-varying one].
    #[arg(long, value_name = "DIM")]
    pub along: Option<String>,
}

impl AlongArg {
    /// The spectra of `main` along the chosen dimension.
    pub fn layout(&self, main: &MainDataset) -> Result<SpectraLayout, CliError> {
        SpectraLayout::named(main, self.along.as_deref())?.map_err(CliError::usage)
    }
}

/// `--bind-threads`, for `find` and `bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct BindArg {
    /// Bind each thread to a CPU: `auto` does when a rank has one thread per CPU it may run on
    /// and too few ranks on its node to share them (as OMP_PROC_BIND=close does for OpenMP
    /// threads; OMP_PROC_BIND=false turns it off).
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub bind_threads: Binding,
}
