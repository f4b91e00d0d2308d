//! Reading the attributes a USID main dataset and its ancillary datasets carry: scalar strings,
//! string arrays (fixed-length bytes or variable-length, as numpy/h5py and pyUSID write them) and
//! object references.
//!
//! Every reader returns `Err(reason)` with a short reason (no dataset path) so that the caller can
//! phrase the one-line message; none of them allocates more than [`MAX_STRINGS`] strings.
use hdf5::types::{FixedAscii, FixedUnicode, H5Type, Reference, TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::{Attribute, Dataset, Location, ObjectReference1, ReferencedObject};

/// The most strings a `labels`/`units` attribute may hold (one per dimension).
pub const MAX_STRINGS: usize = 1024;

/// The longest fixed-length string we read, in bytes. Labels and units are short; a larger size
/// is a broken or hostile file.
const MAX_FIXED_LEN: usize = 1024;

/// The bytes of one string element, whichever of hdf5's four string types holds it. We go through
/// bytes (never the types' `as_str`) because a file may hold invalid UTF-8.
trait StringBytes: H5Type {
    fn bytes(&self) -> &[u8];
}

impl<const N: usize> StringBytes for FixedAscii<N> {
    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}
impl<const N: usize> StringBytes for FixedUnicode<N> {
    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}
impl StringBytes for VarLenAscii {
    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}
impl StringBytes for VarLenUnicode {
    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// The attribute `name` of `loc`, or `None` when it has none. Looks the name up first so that a
/// missing attribute is an answer, not an HDF5 error.
pub fn find(loc: &Location, name: &str) -> Result<Option<Attribute>, String> {
    let names = loc.attr_names().map_err(|e| format!("cannot list its attributes ({e})"))?;
    if !names.iter().any(|n| n == name) {
        return Ok(None);
    }
    loc.attr(name).map(Some).map_err(|e| format!("attribute {name} cannot be opened ({e})"))
}

/// Read every element of a string attribute into Rust strings via the memory type `T`.
fn read_as<T: StringBytes>(attr: &Attribute) -> Result<Vec<String>, String> {
    let raw: Vec<T> = attr.read_raw().map_err(|e| format!("cannot be read ({e})"))?;
    Ok(raw.iter().map(|s| String::from_utf8_lossy(s.bytes()).into_owned()).collect())
}

/// Fixed-length strings of any size up to [`MAX_FIXED_LEN`]: HDF5 converts between fixed-length
/// strings of different sizes, so one of a few buffer sizes reads them all.
fn read_fixed(attr: &Attribute, len: usize, utf8: bool) -> Result<Vec<String>, String> {
    match (len, utf8) {
        (0..=16, false) => read_as::<FixedAscii<16>>(attr),
        (0..=16, true) => read_as::<FixedUnicode<16>>(attr),
        (17..=128, false) => read_as::<FixedAscii<128>>(attr),
        (17..=128, true) => read_as::<FixedUnicode<128>>(attr),
        (129..=MAX_FIXED_LEN, false) => read_as::<FixedAscii<MAX_FIXED_LEN>>(attr),
        (129..=MAX_FIXED_LEN, true) => read_as::<FixedUnicode<MAX_FIXED_LEN>>(attr),
        _ => Err(format!("holds strings of {len} bytes, more than the {MAX_FIXED_LEN} read")),
    }
}

/// The elements of a string attribute of any shape, after checking the type is a string and the
/// element count is at most `max`.
fn read_strings(attr: &Attribute, max: usize) -> Result<Vec<String>, String> {
    let shape = attr.shape();
    if shape.len() > 1 {
        return Err(format!("is {}-D, not a list of strings", shape.len()));
    }
    let count = shape.iter().product::<usize>();
    if count > max {
        return Err(format!("holds {count} strings, more than the {max} expected"));
    }
    let desc =
        attr.dtype().and_then(|t| t.to_descriptor()).map_err(|e| format!("has an unreadable type ({e})"))?;
    match desc {
        TypeDescriptor::FixedAscii(n) => read_fixed(attr, n, false),
        TypeDescriptor::FixedUnicode(n) => read_fixed(attr, n, true),
        TypeDescriptor::VarLenAscii => read_as::<VarLenAscii>(attr),
        TypeDescriptor::VarLenUnicode => read_as::<VarLenUnicode>(attr),
        other => Err(format!("is not a string (its type is {other})")),
    }
}

/// A scalar string attribute (pyUSID's `quantity`, `units`). Like pyUSID, an array of strings is
/// not accepted here.
pub fn scalar_string(attr: &Attribute) -> Result<String, String> {
    if !attr.is_scalar() {
        return Err(match attr.shape() {
            shape if shape.is_empty() => "is empty (no value)".to_string(),
            shape => format!("is an array of shape {shape:?}, not a single string"),
        });
    }
    let mut all = read_strings(attr, 1)?;
    all.pop().ok_or_else(|| "is empty".to_string())
}

/// A list of strings (`labels`, `units` of an ancillary dataset): a 1-D array, or a scalar taken
/// as a list of one.
pub fn string_list(attr: &Attribute) -> Result<Vec<String>, String> {
    read_strings(attr, MAX_STRINGS)
}

/// The dataset a scalar object-reference attribute points at. `from` is any object in the same
/// file (references are resolved within the file that holds them).
pub fn dereference_dataset(attr: &Attribute, from: &Dataset) -> Result<Dataset, String> {
    let desc =
        attr.dtype().and_then(|t| t.to_descriptor()).map_err(|e| format!("has an unreadable type ({e})"))?;
    match desc {
        TypeDescriptor::Reference(Reference::Object) => {}
        TypeDescriptor::Reference(_) => {
            return Err("is a region reference, not an object reference".to_string())
        }
        other => return Err(format!("is not an object reference (its type is {other})")),
    }
    if !attr.is_scalar() {
        return Err(format!("is an array of shape {:?}, not a single reference", attr.shape()));
    }
    let reference: ObjectReference1 = attr.read_scalar().map_err(|e| format!("cannot be read ({e})"))?;
    match from.dereference(&reference) {
        Ok(ReferencedObject::Dataset(ds)) => Ok(ds),
        Ok(ReferencedObject::Group(g)) => Err(format!("points at the group {}", g.name())),
        Ok(ReferencedObject::Datatype(_)) => Err("points at a datatype".to_string()),
        Err(_) => Err("does not resolve (dangling reference)".to_string()),
    }
}
