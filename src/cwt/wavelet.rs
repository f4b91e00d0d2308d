//! The Ricker wavelets scipy's `_cwt` convolves with, and how `scipy.signal.convolve` lines them
//! up with the spectrum.

/// One CWT row's wavelet, laid out the way scipy's `convolve(data, wavelet[::-1], mode='same')`
/// applies it: `cwt[i] = Σ_t taps[t] · x[i - shift + t]`, with `x` zero outside `0..len`.
#[derive(Debug, Clone)]
pub(crate) struct Kernel {
    /// `ceil(points)` samples of the Ricker wavelet.
    pub taps: Vec<f64>,
    /// `taps.len() / 2`: numpy's 'same' centring, for odd and even lengths alike.
    pub shift: usize,
    /// The taps are a palindrome, bit for bit (the wavelet has an integer number of points).
    pub symmetric: bool,
    /// scipy's `convolve(method='auto')` would take its FFT path for this row.
    pub scipy_uses_fft: bool,
}

impl Kernel {
    /// The wavelet of `width` samples for spectra of `len` samples: `N = min(10·width, len)`
    /// points, where N may be fractional.
    pub fn new(width: f64, len: usize) -> Kernel {
        let points = (10.0 * width).min(len as f64);
        let taps = ricker(points, width);
        let shift = taps.len() / 2;
        Kernel {
            symmetric: points == taps.len() as f64,
            scipy_uses_fft: scipy_prefers_fft(len, taps.len()),
            taps,
            shift,
        }
    }
}

/// scipy's private `_ricker(points, a)`, the wavelet of width `a` samples: numpy's
/// `arange(0, points)` has `ceil(points)` values, so a fractional `points` gives a wavelet
/// centred off its middle sample, at `(points - 1) / 2`. `find_peaks_cwt` uses
/// `points = min(10·a, len)`.
pub fn ricker(points: f64, a: f64) -> Vec<f64> {
    let amplitude = 2.0 / ((3.0 * a).sqrt() * std::f64::consts::PI.powf(0.25));
    let wsq = a * a;
    let centre = (points - 1.0) / 2.0;
    let n = if points > 0.0 { points.ceil() as usize } else { 0 };
    (0..n)
        .map(|t| {
            let v = t as f64 - centre;
            let xsq = v * v;
            // Same operation order as scipy: A * (1 - x²/a²) * exp(-x² / (2a²)).
            amplitude * (1.0 - xsq / wsq) * (-xsq / (2.0 * wsq)).exp()
        })
        .collect()
}

/// `scipy.signal.choose_conv_method` for a 1-D 'same' convolution of `len` data samples with
/// `taps` kernel samples (`taps <= len`): its cost model, constants included. Only long spectra
/// with wide wavelets (beyond 2048 samples) get there; it matters for non-finite input, which
/// the FFT spreads over the whole row.
pub(crate) fn scipy_prefers_fft(len: usize, taps: usize) -> bool {
    let full = (len + taps - 1) as f64;
    let fft_ops = 3.0 * full * full.ln();
    let direct_ops = (len * taps - (taps / 2) * taps.div_ceil(2)) as f64;
    3.2646654e-9 * fft_ops < 2.8478277e-10 * direct_ops - 1e-3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ricker_with_fractional_n_is_off_centre_like_numpy() {
        // width 0.25 → N = 2.5 points: arange(0, 2.5) - 0.75 = [-0.75, 0.25, 1.25], so the zero
        // crossing at x = a falls on the middle sample instead of the peak.
        let k = Kernel::new(0.25, 100);
        assert_eq!(k.taps.len(), 3);
        assert!(!k.symmetric);
        assert_eq!(k.shift, 1);
        let a = 0.25f64;
        let at = |v: f64| {
            2.0 / ((3.0 * a).sqrt() * std::f64::consts::PI.powf(0.25))
                * (1.0 - v * v / (a * a))
                * (-v * v / (2.0 * a * a)).exp()
        };
        assert_eq!(k.taps, vec![at(-0.75), at(0.25), at(1.25)]);
        // Values printed by numpy for scipy's _ricker(2.5, 0.25).
        let numpy = [-0.1541617793063885, 0.0, -0.0001551465468247445];
        for (ours, theirs) in k.taps.iter().zip(numpy) {
            assert!((ours - theirs).abs() <= 4.0 * f64::EPSILON * theirs.abs(), "{ours} {theirs}");
        }
    }

    #[test]
    fn ricker_with_integer_n_is_a_palindrome() {
        for (width, len) in [(20.0, 119), (20.0, 128), (2.5, 100), (0.3, 50)] {
            let k = Kernel::new(width, len);
            let rev: Vec<f64> = k.taps.iter().rev().copied().collect();
            assert!(k.symmetric);
            assert_eq!(k.taps, rev);
        }
        assert_eq!(Kernel::new(20.0, 119).taps.len(), 119);
        assert_eq!(Kernel::new(20.0, 128).shift, 64);
    }

    #[test]
    fn scipy_switches_to_fft_only_for_long_wide_convolutions() {
        assert!(!scipy_prefers_fft(119, 119));
        assert!(!scipy_prefers_fft(2048, 2048));
        assert!(!scipy_prefers_fft(4096, 600));
        assert!(scipy_prefers_fft(4096, 4096));
        assert!(scipy_prefers_fft(8192, 1000));
    }
}
