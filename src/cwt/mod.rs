//! `scipy.signal.find_peaks_cwt`, peak for peak (being written).

/// An invalid parameter of the peak finder.
#[derive(Debug, Clone, PartialEq)]
pub struct CwtError(pub String);

impl std::fmt::Display for CwtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for CwtError {}
