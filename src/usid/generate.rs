//! A synthetic Band Excitation PFM map, laid out like `BELine_0004.h5` from pyUSID's
//! `parallel_compute` example — the built-in default data.
//!
//! The file holds one USID main dataset, [`RAW_DATA_PATH`]: complex64, shape
//! (rows·cols, bins), position dimensions `X` (cols steps, fastest) and `Y` (rows steps) in m,
//! spectroscopic dimension `Frequency` in Hz, quantity "Cantilever Vertical Deflection" in V.
//!
//! Each pixel is the response of a driven damped harmonic oscillator (the cantilever in contact),
//! `R(f) = D · a · H(f)`, `H(f) = 1 / (1 − (f/f0)² + i f/(f0 Q))`, plus complex Gaussian noise:
//! * the resonance `f0` (344–356 kHz) and quality factor `Q` (32–48) vary smoothly over the map;
//!   with the default band (320–380 kHz in 119 bins) `|R|` has one peak 25–40 bins wide (FWHM);
//! * `D` is the piezoresponse: two ferroelectric domains of opposite phase (π apart) and different
//!   amplitude (1.0 and 0.7), a wavy wall across the map and a round domain inside the first,
//!   with `|D|` dropping to zero across each wall (physical width ~1% of the scan);
//! * a few pixels are dead (all zero), never the showcase pixel (row 103, col 19).
//!
//! With `dc_steps > 1` the map is BEPS-like: a second spectroscopic dimension `DC_Offset` (V,
//! slower than `Frequency`) sweeps the DC bias from −10 V to +10 V; each domain switches (its
//! response changes sign through zero) past a coercive bias of ±5 V, and the resonance shifts by up
//! to ±1.5 kHz with the bias, so both the peak's position and height vary with the DC step.
//!
//! Every value depends only on the seed and the pixel's index, so the file is the same for any
//! thread count, and the map is computed and written in blocks of at most 64 MiB.
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use num_complex::Complex32;
use rayon::prelude::*;

use super::write::{self, Ancillary, DimSpec, MainSpec};
use super::UsidError;

/// Where the generator puts the main dataset.
pub const RAW_DATA_PATH: &str = "/Measurement_000/Channel_000/Raw_Data";
/// The pixel the README shows: row 103, column 19 (index `19 + 103·cols`).
const SHOWCASE_PIXEL: (usize, usize) = (103, 19);
/// Drive band: centre and width (Hz).
const BAND_CENTER_HZ: f64 = 350e3;
const BAND_WIDTH_HZ: f64 = 60e3;
/// Scan width along X (m); pixels are square, so the Y extent is `rows/cols` of it.
const SCAN_WIDTH_M: f64 = 5e-6;
/// Most bytes of data held in memory per block (two blocks are alive: one computed, one written).
const BLOCK_BYTES: usize = 64 << 20;

/// Response scale (V per unit of `|D·H|`) and noise (V, standard deviation of the real and of the
/// imaginary part); at resonance `|R| ≈ a·Q·1e-4 V`, 2–5 mV, about 50× the noise.
const RESPONSE_SCALE_V: f64 = 1e-4;
const NOISE_SIGMA_V: f64 = 5e-5;
/// Amplitudes of the two domains and the background phase (rad).
const AMP_UP: f64 = 1.0;
const AMP_DOWN: f64 = 0.7;
const PHASE0: f64 = 0.3;
/// Domain wall width as a fraction of the scan (so it is physical, not a pixel count).
const WALL_WIDTH: f64 = 0.01;

/// The size and seed of a synthetic map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateParams {
    /// Scan lines (the `Y` dimension).
    pub rows: usize,
    /// Pixels per line (the `X` dimension, varying fastest).
    pub cols: usize,
    /// Frequency bins per spectrum.
    pub bins: usize,
    /// Seed of the noise and of the choice of dead pixels.
    pub seed: u64,
    /// DC bias steps (the `DC_Offset` dimension, slower than `Frequency`); 1: a BELine map with
    /// Frequency as its only spectroscopic dimension.
    pub dc_steps: usize,
}

/// The coercive bias (V) past which a domain switches, and the DC sweep's end (V).
const COERCIVE_V: f64 = 5.0;
const DC_MAX_V: f64 = 10.0;

/// The DC bias of each step (V): evenly from −10 V to +10 V, or 0 V for a single step.
fn dc_offsets(steps: usize) -> Vec<f64> {
    if steps <= 1 {
        return vec![0.0];
    }
    (0..steps).map(|k| -DC_MAX_V + 2.0 * DC_MAX_V * k as f64 / (steps - 1) as f64).collect()
}

impl Default for GenerateParams {
    fn default() -> Self {
        GenerateParams { rows: 128, cols: 128, bins: 119, seed: 0, dc_steps: 1 }
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone)]
pub struct GenerateSummary {
    /// The file written.
    pub path: PathBuf,
    /// rows·cols.
    pub n_positions: usize,
    pub n_bins: usize,
    /// Size of the main dataset's data (bytes).
    pub data_bytes: usize,
    /// Indices (`col + row·cols`) of the all-zero pixels, ascending.
    pub dead_pixels: Vec<usize>,
    /// Wall-clock time of the whole run (s).
    pub seconds: f64,
}

/// Checks the parameters: every size at least 1 and the data small enough to address.
pub fn validate(params: &GenerateParams) -> Result<(), UsidError> {
    for (flag, v) in [
        ("rows", params.rows),
        ("cols", params.cols),
        ("bins", params.bins),
        ("spec-dims DC_Offset", params.dc_steps),
    ] {
        if v == 0 {
            return Err(UsidError(format!("--{flag} must be at least 1 (got 0)")));
        }
    }
    let bytes = params
        .rows
        .checked_mul(params.cols)
        .and_then(|n| n.checked_mul(params.bins))
        .and_then(|n| n.checked_mul(params.dc_steps))
        .and_then(|n| n.checked_mul(std::mem::size_of::<Complex32>()));
    match bytes {
        Some(b) if b <= isize::MAX as usize => Ok(()),
        _ => Err(UsidError(format!(
            "a map of {} x {} pixels x {} bins is too large",
            params.rows, params.cols, params.bins
        ))),
    }
}

/// The frequency of each bin (Hz): `bins` evenly spaced values across the band, both ends
/// included (the band centre for a single bin).
fn frequencies(bins: usize) -> Vec<f64> {
    if bins == 1 {
        return vec![BAND_CENTER_HZ];
    }
    let start = BAND_CENTER_HZ - BAND_WIDTH_HZ / 2.0;
    let step = BAND_WIDTH_HZ / (bins - 1) as f64;
    (0..bins).map(|i| start + step * i as f64).collect()
}

/// The ground truth of one pixel: resonance frequency (Hz), quality factor, and the complex
/// piezoresponse `D` (its modulus is 0 on a wall, 1.0 or 0.7 inside a domain).
#[derive(Debug, Clone, Copy, PartialEq)]
struct PixelTruth {
    pub f0_hz: f64,
    pub q: f64,
    pub re_d: f64,
    pub im_d: f64,
}

/// The smooth maps (resonance, Q) and the domain pattern at pixel (`row`, `col`).
fn pixel_truth(params: &GenerateParams, row: usize, col: usize) -> PixelTruth {
    use std::f64::consts::TAU;
    // Normalised coordinates in [0, 1): the pattern is the same whatever the resolution.
    let u = (col as f64 + 0.5) / params.cols as f64;
    let v = (row as f64 + 0.5) / params.rows as f64;
    let f0_hz = BAND_CENTER_HZ + 2e3 * (u - 0.5) + 4e3 * (TAU * (0.7 * u + 0.4 * v)).sin();
    let q = 40.0 + 8.0 * (TAU * (0.5 * u - 0.8 * v)).cos();
    // Signed distances (in scan widths) to the wavy wall and to the round domain's wall.
    let to_wall = (0.55 + 0.12 * (TAU * 1.5 * v).sin()) - u;
    let to_circle = ((u - 0.28).powi(2) + (v - 0.3).powi(2)).sqrt() - 0.12;
    // Up left of the wall and outside the circle; opposite sign (phase + π) elsewhere; the
    // product of the two wall profiles goes to zero on either wall.
    let s = (to_wall / WALL_WIDTH).tanh() * (to_circle / WALL_WIDTH).tanh();
    let amp = if s >= 0.0 { AMP_UP } else { AMP_DOWN };
    PixelTruth { f0_hz, q, re_d: amp * s * PHASE0.cos(), im_d: amp * s * PHASE0.sin() }
}

/// The indices of the dead pixels for these parameters, ascending: `n/2048` of them (at least one
/// for maps of 64 pixels or more), drawn from the seed, never the showcase pixel.
fn dead_pixels(params: &GenerateParams) -> Vec<usize> {
    let n = params.rows * params.cols;
    let count = if n < 64 { 0 } else { (n / 2048).max(1) };
    let showcase = showcase_index(params);
    let mut rng = SplitMix64::new(mix(params.seed, u64::MAX));
    let mut dead = Vec::with_capacity(count);
    while dead.len() < count {
        // Unbiased enough for a map index: n is far below 2^64.
        let i = (rng.next_u64() % n as u64) as usize;
        if Some(i) != showcase && !dead.contains(&i) {
            dead.push(i);
        }
    }
    dead.sort_unstable();
    dead
}

/// `Some(19 + 103·cols)` when the map has that pixel.
fn showcase_index(params: &GenerateParams) -> Option<usize> {
    let (r, c) = SHOWCASE_PIXEL;
    (r < params.rows && c < params.cols).then(|| c + r * params.cols)
}

/// Fills `out` (length `bins × dc_steps`, Frequency fastest) with the row of pixel `index` (V),
/// noise included.
fn pixel_spectrum(params: &GenerateParams, freqs: &[f64], index: usize, out: &mut [Complex32]) {
    let (row, col) = (index / params.cols, index % params.cols);
    let t = pixel_truth(params, row, col);
    let mut rng = SplitMix64::new(mix(params.seed, index as u64));
    let beps = params.dc_steps > 1;
    // The domain's sign: which way it switches along the DC sweep.
    let up = if t.re_d * PHASE0.cos() + t.im_d * PHASE0.sin() >= 0.0 { 1.0 } else { -1.0 };
    for (sweep, v) in out.chunks_mut(freqs.len().max(1)).zip(dc_offsets(params.dc_steps)) {
        // A BELine map has no bias: its response is D itself at the resonance of the pixel.
        let (switch, f0) = if beps {
            (up * ((v + up * COERCIVE_V) / 2.0).tanh(), t.f0_hz + 1.5e3 * v / DC_MAX_V)
        } else {
            (1.0, t.f0_hz)
        };
        let (re_d, im_d) = (t.re_d * switch, t.im_d * switch);
        let (inv_f0, inv_q) = (1.0 / f0, 1.0 / t.q);
        for (y, &f) in sweep.iter_mut().zip(freqs) {
            let x = f * inv_f0;
            // H = 1 / (a + ib) with a = 1 − x², b = x/Q; R = scale · D · H.
            let (a, b) = (1.0 - x * x, x * inv_q);
            let norm = RESPONSE_SCALE_V / (a * a + b * b);
            let (hr, hi) = (a * norm, -b * norm);
            let (nr, ni) = (rng.normal(), rng.normal());
            let re = re_d * hr - im_d * hi + NOISE_SIGMA_V * nr;
            let im = re_d * hi + im_d * hr + NOISE_SIGMA_V * ni;
            *y = Complex32::new(re as f32, im as f32);
        }
    }
}

/// Writes the synthetic map to `path` (replacing any file there). The file is written under a
/// temporary name next to `path` and renamed at the end, so `path` is never left half-written.
pub fn generate(path: &Path, params: &GenerateParams) -> Result<GenerateSummary, UsidError> {
    let started = Instant::now();
    validate(params)?;
    if path.is_dir() {
        return Err(UsidError(format!("{}: is a directory, not a file", path.display())));
    }
    let file_name =
        path.file_name().ok_or_else(|| UsidError(format!("{}: not a file name", path.display())))?;
    let tmp = path.with_file_name(format!(".{}.{}.tmp", file_name.to_string_lossy(), std::process::id()));
    let result = write_file(&tmp, path, params);
    match result {
        Ok(dead) => {
            std::fs::rename(&tmp, path).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                UsidError(format!("{}: cannot write: {e}", path.display()))
            })?;
            Ok(GenerateSummary {
                path: path.to_path_buf(),
                n_positions: params.rows * params.cols,
                n_bins: params.bins * params.dc_steps,
                data_bytes: params.rows
                    * params.cols
                    * params.bins
                    * params.dc_steps
                    * std::mem::size_of::<Complex32>(),
                dead_pixels: dead,
                seconds: started.elapsed().as_secs_f64(),
            })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            // Name the file the user asked for, not the temporary one.
            let tmp_name = tmp.display().to_string();
            Err(UsidError(e.0.replace(&tmp_name, &path.display().to_string())))
        }
    }
}

/// Writes everything into `tmp`; messages name `target`, the file the user asked for.
fn write_file(tmp: &Path, target: &Path, params: &GenerateParams) -> Result<Vec<usize>, UsidError> {
    let shown = target.display().to_string();
    let h5 = |what: &str, e: hdf5::Error| super::write::h5_error(&shown, what, e);
    let file = hdf5::File::create(tmp).map_err(|e| h5("cannot create the file", e))?;
    let meas = file.create_group("Measurement_000").map_err(|e| h5("cannot create a group", e))?;
    let chan = meas.create_group("Channel_000").map_err(|e| h5("cannot create a group", e))?;
    write_group_attrs(&meas, &chan, params)?;

    let (rows, cols) = (params.rows, params.cols);
    let pitch = SCAN_WIDTH_M / cols as f64;
    let freqs = frequencies(params.bins);
    let pos = vec![DimSpec::linear("X", "m", 0.0, pitch, cols), DimSpec::linear("Y", "m", 0.0, pitch, rows)];
    let mut spec = vec![DimSpec::new("Frequency", "Hz", freqs.clone())];
    if params.dc_steps > 1 {
        spec.push(DimSpec::new("DC_Offset", "V", dc_offsets(params.dc_steps)));
    }
    // A row: every frequency of every DC step.
    let bins = params.bins * params.dc_steps;
    let n = rows * cols;
    let main = write::create_main_dataset::<Complex32>(
        &chan,
        MainSpec {
            name: "Raw_Data",
            n_positions: n,
            n_bins: bins,
            quantity: "Cantilever Vertical Deflection",
            units: "V",
            pos: Ancillary::New(pos),
            spec: Ancillary::New(spec),
            chunk_rows: None,
        },
    )?;

    let dead = dead_pixels(params);
    let block = (BLOCK_BYTES / (bins * std::mem::size_of::<Complex32>())).clamp(1, n);
    // Compute block k+1 (all cores) while block k is written; two buffers travel between the
    // threads, so memory stays at two blocks whatever the map size.
    let (to_writer, from_main) = mpsc::sync_channel::<(usize, Vec<Complex32>)>(1);
    let (to_main, recycled) = mpsc::channel::<Vec<Complex32>>();
    std::thread::scope(|scope| {
        let (main, h5, shown) = (&main, &h5, &shown);
        let writer = scope.spawn(move || -> Result<(), UsidError> {
            for (start, buf) in from_main {
                let len = buf.len() / bins;
                let view = ndarray::ArrayView2::from_shape((len, bins), &buf)
                    .map_err(|e| UsidError(format!("{shown}: internal shape error: {e}")))?;
                main.write_slice(view, ndarray::s![start..start + len, ..])
                    .map_err(|e| h5(&format!("cannot write {RAW_DATA_PATH}"), e))?;
                // The main thread may have stopped early; a lost buffer is fine then.
                let _ = to_main.send(buf);
            }
            Ok(())
        });
        let mut spare = vec![Vec::new(), Vec::new()];
        for start in (0..n).step_by(block) {
            let len = block.min(n - start);
            let mut buf = match spare.pop() {
                Some(b) => b,
                None => match recycled.recv() {
                    Ok(b) => b,
                    Err(_) => break, // the writer failed; its error is reported below
                },
            };
            buf.resize(len * bins, Complex32::new(0.0, 0.0));
            buf.par_chunks_mut(bins).enumerate().for_each(|(k, spectrum)| {
                let index = start + k;
                if dead.binary_search(&index).is_ok() {
                    spectrum.fill(Complex32::new(0.0, 0.0));
                } else {
                    pixel_spectrum(params, &freqs, index, spectrum);
                }
            });
            if to_writer.send((start, buf)).is_err() {
                break;
            }
        }
        drop(to_writer);
        writer.join().unwrap_or_else(|_| Err(UsidError(format!("{shown}: the writer thread panicked"))))
    })?;
    file.close().map_err(|e| h5("cannot close the file", e))?;
    Ok(dead)
}

/// Attributes like those of pyUSID's Band Excitation examples, plus how the map was made.
fn write_group_attrs(
    meas: &hdf5::Group,
    chan: &hdf5::Group,
    params: &GenerateParams,
) -> Result<(), UsidError> {
    let beps = params.dc_steps > 1;
    write::write_str_attr(meas, "data_type", if beps { "BEPSData" } else { "BELineData" })?;
    write::write_i64_attr(meas, "num_dc_steps", params.dc_steps as i64)?;
    write::write_str_attr(meas, "VS_mode", "AC modulation mode")?;
    write::write_i64_attr(meas, "grid_num_rows", params.rows as i64)?;
    write::write_i64_attr(meas, "grid_num_cols", params.cols as i64)?;
    write::write_i64_attr(meas, "num_bins", params.bins as i64)?;
    write::write_f64_attr(meas, "BE_center_frequency_[Hz]", BAND_CENTER_HZ)?;
    write::write_f64_attr(meas, "BE_band_width_[Hz]", BAND_WIDTH_HZ)?;
    write::write_str_attr(
        meas,
        "synthetic",
        "usid-peaks generate: SHO response with domains, noise and dead pixels",
    )?;
    // As a string: an HDF5 int64 cannot hold every u64 seed.
    write::write_str_attr(meas, "seed", &params.seed.to_string())?;
    write::write_str_attr(chan, "Channel_Input", "IO_Analog_Input_1")?;
    write::write_str_attr(chan, "channel_type", "BE")?;
    Ok(())
}

/// Mixes the seed and a stream number (pixel index) into an independent generator state.
fn mix(seed: u64, stream: u64) -> u64 {
    let mut s = SplitMix64::new(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
    s.next_u64()
}

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast, and good enough for noise.
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(state: u64) -> Self {
        SplitMix64(state)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// An approximately standard normal deviate: the sum of four uniforms (the four 16-bit
    /// quarters of one draw), centred and scaled to unit variance (Irwin–Hall). Its tails stop at
    /// ±3.46σ, which noise on a synthetic map does not miss, and it costs no logarithm or
    /// trigonometry: the generator writes 10⁸ of them for a 1024² map.
    fn normal(&mut self) -> f64 {
        let r = self.next_u64();
        let sum = (r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48);
        // Each quarter is uniform on {0, ..., 65535}: mean 4 · 32767.5, variance 4 · (65536² − 1)/12.
        const MEAN: f64 = 4.0 * 32767.5;
        const INV_SD: f64 = 1.0 / 37_837.227_237_206_48; // 1 / sqrt(4 · (65536² − 1) / 12)
        (sum as f64 - MEAN) * INV_SD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amplitude(params: &GenerateParams, row: usize, col: usize) -> Vec<f32> {
        let freqs = frequencies(params.bins);
        let mut s = vec![Complex32::new(0.0, 0.0); params.bins];
        pixel_spectrum(params, &freqs, col + row * params.cols, &mut s);
        s.iter().map(|z| z.norm()).collect()
    }

    /// Bins above half the maximum, and the arg max.
    fn fwhm_and_peak(a: &[f32]) -> (usize, usize) {
        let (imax, &max) = a.iter().enumerate().max_by(|x, y| x.1.total_cmp(y.1)).unwrap_or((0, &0.0));
        (a.iter().filter(|&&v| v > max / 2.0).count(), imax)
    }

    #[test]
    fn showcase_pixel_has_one_clear_peak_20_to_60_bins_wide() {
        let p = GenerateParams::default();
        let (r, c) = SHOWCASE_PIXEL;
        let a = amplitude(&p, r, c);
        let (width, peak) = fwhm_and_peak(&a);
        assert!((20..=60).contains(&width), "FWHM {width} bins");
        assert!(peak > 20 && peak < 99, "peak at bin {peak}");
        assert!(a[peak] > 5.0 * a[0] && a[peak] > 5.0 * a[118], "peak stands out");
        assert!(!dead_pixels(&p).contains(&(c + r * p.cols)));
    }

    #[test]
    fn peaks_are_20_to_60_bins_wide_across_the_default_map_away_from_walls() {
        let p = GenerateParams::default();
        for row in (0..128).step_by(9) {
            for col in (0..128).step_by(7) {
                let t = pixel_truth(&p, row, col);
                if (t.re_d * t.re_d + t.im_d * t.im_d).sqrt() < 0.5 {
                    continue; // on a wall
                }
                let (width, _) = fwhm_and_peak(&amplitude(&p, row, col));
                assert!((20..=60).contains(&width), "pixel ({row}, {col}): FWHM {width} bins");
            }
        }
    }

    #[test]
    fn domains_have_opposite_phase() {
        let p = GenerateParams::default();
        let left = pixel_truth(&p, 100, 10);
        let right = pixel_truth(&p, 100, 120);
        assert!(left.re_d > 0.9 && right.re_d < -0.6, "{left:?} {right:?}");
        let ratio = left.im_d / left.re_d;
        assert!((ratio - right.im_d / right.re_d).abs() < 1e-9);
    }

    #[test]
    fn noise_has_zero_mean_and_unit_variance() {
        let mut rng = SplitMix64::new(mix(1, 2));
        let n = 200_000;
        let (mut sum, mut sq) = (0.0, 0.0);
        for _ in 0..n {
            let a = rng.normal();
            sum += a;
            sq += a * a;
        }
        let mean = sum / n as f64;
        let var = sq / n as f64 - mean * mean;
        assert!(mean.abs() < 0.01 && (var - 1.0).abs() < 0.02, "mean {mean} var {var}");
    }

    #[test]
    fn dead_pixels_are_few_distinct_and_seeded() {
        let p = GenerateParams::default();
        let d = dead_pixels(&p);
        assert_eq!(d.len(), 8);
        assert!(d.windows(2).all(|w| w[0] < w[1]));
        assert_ne!(d, dead_pixels(&GenerateParams { seed: 1, ..p }));
        assert!(dead_pixels(&GenerateParams { rows: 4, cols: 5, ..p }).is_empty());
    }

    #[test]
    fn zero_sizes_are_refused() {
        let p = GenerateParams::default();
        for bad in [
            GenerateParams { rows: 0, ..p },
            GenerateParams { cols: 0, ..p },
            GenerateParams { bins: 0, ..p },
        ] {
            assert!(validate(&bad).is_err());
        }
        assert!(validate(&GenerateParams { rows: usize::MAX, ..p }).is_err());
    }

    #[test]
    fn frequencies_span_the_band() {
        let f = frequencies(119);
        assert_eq!(f.len(), 119);
        assert!((f[0] - 320e3).abs() < 1e-6 && (f[118] - 380e3).abs() < 1e-6);
        assert_eq!(frequencies(1), vec![BAND_CENTER_HZ]);
    }
}
