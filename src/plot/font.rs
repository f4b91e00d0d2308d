//! The font for the pictures' text.
//!
//! plotters' default text route (`ttf`) links fontconfig and freetype, C libraries that would be
//! one more system dependency for every user and cluster. Its `ab_glyph` route is pure Rust but
//! ships no font, so we read a TrueType file at run time and register it as plotters'
//! `sans-serif` family. SVG files name that family too, so a browser shows them in its own sans.

use std::path::PathBuf;
use std::sync::OnceLock;

use plotters::style::FontStyle;

use super::PlotError;

/// Environment variable that names a `.ttf` file to use instead of the system fonts.
pub(crate) const FONT_ENV: &str = "USID_PEAKS_FONT";

/// Where common systems keep a plain sans-serif TrueType font, most likely first.
const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", // Debian, Ubuntu: fonts-dejavu-core
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",          // RHEL, older Fedora
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf", // Fedora
    "/usr/share/fonts/TTF/DejaVuSans.ttf",             // Arch
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf", // macOS
    "/Library/Fonts/Arial.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

/// Register the font once per process; later calls return the first call's outcome.
pub(crate) fn ensure() -> Result<(), PlotError> {
    static DONE: OnceLock<Result<(), PlotError>> = OnceLock::new();
    DONE.get_or_init(register).clone()
}

/// The font file that [`ensure`] uses: `$USID_PEAKS_FONT`, else the first of the usual places.
pub(crate) fn find() -> Result<PathBuf, PlotError> {
    if let Some(p) = std::env::var_os(FONT_ENV).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(PlotError::usage(format!("{FONT_ENV}={} is not a file", p.display())))
        };
    }
    CANDIDATES.iter().map(PathBuf::from).find(|p| p.is_file()).ok_or_else(|| {
        PlotError::usage(format!(
            "no TrueType font found for the picture's text: install fonts-dejavu-core (Debian/Ubuntu; \
             dejavu-sans-fonts elsewhere) or set {FONT_ENV} to a .ttf file"
        ))
    })
}

fn register() -> Result<(), PlotError> {
    let path = find()?;
    let bytes = std::fs::read(&path)
        .map_err(|e| PlotError::usage(format!("cannot read the font {}: {e}", path.display())))?;
    // plotters keeps the font for the life of the process and wants 'static bytes; this runs once.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    for style in [FontStyle::Normal, FontStyle::Bold] {
        plotters::style::register_font("sans-serif", style, bytes).map_err(|_| {
            PlotError::usage(format!("{} is not a TrueType font plotters can read", path.display()))
        })?;
    }
    Ok(())
}
