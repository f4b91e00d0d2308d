//! Parameters described once.
//!
//! An analysis declares its parameters with the crate's `described!` macro (a struct whose every
//! field carries its [`Spec`]: kind, default, help, how the command line and Python spell it,
//! whether it joins the reuse key) and its choices with `choices!`. Everything else follows from
//! that one declaration:
//!
//! * the command line's options (`cli/params.rs` builds them from the [`Description`]; values in
//!   the grammar of [`Kind`], see `text.rs`);
//! * the Python keywords (the binding checks names and kinds against the description and fills
//!   in the defaults; the Python signatures and the committed `.pyi` stubs are made from
//!   [`Spec`]s the binding hands over);
//! * the typed struct the analysis reads (`from_values`), its defaults (`Default`);
//! * the results group's attributes and the reuse key (`values`, then [`Description::key`]).
//!
//! docs/EXTENDING.md shows how to add a parameter and a new analysis.

mod text;

pub use text::linspace;

/// A parameter value as results groups record it and the reuse key holds it (untagged in JSON:
/// `"abs"`, `1.0`, `8`, `[20.0, …]`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Param {
    Str(String),
    Float(f64),
    Int(i64),
    Floats(Vec<f64>),
}

/// One of the values a choice parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// As the command line and the results write it, e.g. `ridge-end`; Python writes it with `_`
    /// for `-` ([`Choice::python_name`]).
    pub name: &'static str,
    /// What it means, one line.
    pub help: &'static str,
}

impl Choice {
    /// Python's spelling: `ridge_end`.
    pub fn python_name(&self) -> String {
        self.name.replace('-', "_")
    }
}

/// What values a parameter takes, and so how each front end reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A real number. Command line: a number (`inf` is one, `nan` is not); Python: a real scalar.
    Float,
    /// A whole number ≥ 0 that a count is held to (`min_length`: a ridge line needs at least so
    /// many points). Python may give a real number: its ceiling is taken, as scipy's comparison
    /// `len(line) < min_length` does (NaN and negatives keep everything, +inf nothing).
    Count,
    /// A whole number ≥ 0 of samples (`window_size`). Python may give a real number: `int()` of
    /// it, as scipy takes; negatives are refused.
    Size,
    /// Real numbers, e.g. one per width. Command line: `a,b,c`; Python: a 1-D sequence.
    Floats,
    /// Real numbers that may be a range. Command line: `START:STOP:NUM`, exactly
    /// `np.linspace(START, STOP, NUM)`, or `a,b,c`; Python: a number or a 1-D sequence.
    Widths,
    /// One of named choices.
    Choice(&'static [Choice]),
}

impl Kind {
    /// The kind's name, as the Python binding hands it over.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Float => "float",
            Kind::Count => "count",
            Kind::Size => "size",
            Kind::Floats => "floats",
            Kind::Widths => "widths",
            Kind::Choice(_) => "choice",
        }
    }
}

/// A parameter's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultTo {
    /// This value, written in the command line's grammar (`1`, `20:60:30`, `ridge-end`).
    Text(&'static str),
    /// Derived from the data or the other parameters when the analysis is planned; the text says
    /// how (`widths / 4`), for help.
    Derived(&'static str),
}

/// Whether a parameter is one of scipy's own `find_peaks_cwt` parameters, which the Python
/// drop-in takes by position, in the description's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scipy {
    /// Not scipy's: keyword only in Python.
    No,
    /// Scipy's, with a default.
    Positional,
    /// Scipy's, without a default in scipy's signature (`widths`).
    Required,
}

/// When a parameter is part of the reuse key (what makes two runs' results interchangeable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Always: every parameter of the first release.
    Always,
    /// Only when it differs from its default (which must be a [`DefaultTo::Text`]): a parameter
    /// added later, whose default gives the results of before, so that groups and checkpoints
    /// written before it existed keep being reused and resumed.
    UnlessDefault,
}

/// A second command-line flag for the same parameter (`--width-list` beside `--widths`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alias {
    pub long: &'static str,
    pub value_name: &'static str,
    pub help: &'static str,
}

/// One parameter of an analysis: all the front ends, the results and the reuse key need of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// `snake_case`: the Python keyword, the results attribute; the command line's flag is
    /// `--kebab-case`.
    pub name: &'static str,
    pub kind: Kind,
    pub default: DefaultTo,
    /// What it is, one sentence without a final period, for `--help` and the Python docs.
    pub help: &'static str,
    /// The command line's placeholder for the value; `None`: the name in capitals.
    pub value_name: Option<&'static str>,
    pub alias: Option<Alias>,
    pub scipy: Scipy,
    pub key: Key,
}

impl Spec {
    /// A keyword parameter of the reuse key; the name is the field's ([`described!`] sets it).
    pub(crate) const fn new(kind: Kind, default: DefaultTo, help: &'static str) -> Self {
        Spec {
            name: "",
            kind,
            default,
            help,
            value_name: None,
            alias: None,
            scipy: Scipy::No,
            key: Key::Always,
        }
    }
    pub(crate) const fn named(self, name: &'static str) -> Self {
        Spec { name, ..self }
    }
    pub(crate) const fn value_name(self, value_name: &'static str) -> Self {
        Spec { value_name: Some(value_name), ..self }
    }
    pub(crate) const fn alias(self, alias: Alias) -> Self {
        Spec { alias: Some(alias), ..self }
    }
    pub(crate) const fn scipy(self, scipy: Scipy) -> Self {
        Spec { scipy, ..self }
    }
    /// See [`Key::UnlessDefault`].
    #[allow(dead_code)] // for the parameters added after release 0.1.0 (docs/EXTENDING.md)
    pub(crate) const fn key_unless_default(self) -> Self {
        Spec { key: Key::UnlessDefault, ..self }
    }

    /// The command line's flag, without dashes: `min-snr`.
    pub fn flag(&self) -> String {
        self.name.replace('_', "-")
    }

    /// The default as a value; `None` when it is derived from the data.
    pub fn default_value(&self) -> Option<Param> {
        match self.default {
            DefaultTo::Text(t) => text::parse(self.kind, t).ok(),
            DefaultTo::Derived(_) => None,
        }
    }

    /// `text` (the command line's grammar) as a value of this parameter, or why not (a clause
    /// naming the text, e.g. `"x" is not a number`).
    pub fn parse(&self, text: &str) -> Result<Param, String> {
        text::parse(self.kind, text)
    }

    /// `value` if it is of this parameter's kind (an integer is a real number too), else why not.
    fn check(&self, value: Param) -> Result<Param, ParamError> {
        let name = self.name;
        match (self.kind, value) {
            (Kind::Float, Param::Int(i)) => Ok(Param::Float(i as f64)),
            (Kind::Float, v @ Param::Float(_)) => Ok(v),
            (Kind::Count | Kind::Size, Param::Int(i)) if i < 0 => {
                Err(ParamError::Value(format!("{name} must be >= 0, got {i}")))
            }
            (Kind::Count | Kind::Size, v @ Param::Int(_)) => Ok(v),
            (Kind::Floats | Kind::Widths, v @ Param::Floats(_)) => Ok(v),
            (Kind::Choice(choices), Param::Str(s)) if choices.iter().any(|c| c.name == s) => {
                Ok(Param::Str(s))
            }
            (Kind::Choice(choices), Param::Str(s)) => {
                let names: Vec<&str> = choices.iter().map(|c| c.name).collect();
                Err(ParamError::Value(format!("{name} must be one of {}, got {s:?}", names.join(", "))))
            }
            (kind, v) => Err(ParamError::Type(format!("{name} takes a {} value, not {v:?}", kind.name()))),
        }
    }
}

/// An analysis's parameters: a title (the command line's help heading) and their [`Spec`]s, in
/// parts (e.g. peak finding's own, then the kernel's), in order.
#[derive(Debug, Clone, Copy)]
pub struct Description {
    pub title: &'static str,
    pub parts: &'static [&'static [Spec]],
}

impl Description {
    /// Every parameter, in order.
    pub fn specs(&self) -> impl Iterator<Item = &'static Spec> {
        self.parts.iter().flat_map(|p| p.iter())
    }

    /// The parameter named `name`.
    pub fn spec(&self, name: &str) -> Option<&'static Spec> {
        self.specs().find(|s| s.name == name)
    }

    /// The reuse key's part of `recorded` (an analysis's recorded parameters): all of them but
    /// those of [`Key::UnlessDefault`] parameters at their default.
    pub fn key(&self, recorded: Vec<(String, Param)>) -> Vec<(String, Param)> {
        recorded
            .into_iter()
            .filter(|(name, value)| match self.spec(name) {
                Some(s) if s.key == Key::UnlessDefault => s.default_value().as_ref() != Some(value),
                _ => true,
            })
            .collect()
    }
}

/// A parameter set with a description: what the front ends need to make its options and
/// keywords and to build it from what they were given.
pub trait Parameters: Sized {
    /// Its parameters.
    const DESCRIPTION: Description;
    /// The set from `values` (given or default).
    fn from_values(values: &Values) -> Result<Self, ParamError>;
}

/// Why a value cannot be given to a parameter: no parameter of that name, a value of the wrong
/// type, or a value it does not take. The message names the parameter (`snake_case`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    Unknown(String),
    Type(String),
    Value(String),
}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamError::Unknown(m) | ParamError::Type(m) | ParamError::Value(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ParamError {}

/// The values given to an analysis's parameters, checked against its description; every
/// parameter not given has its default.
#[derive(Debug, Clone)]
pub struct Values {
    description: Description,
    given: Vec<(&'static Spec, Param)>,
}

impl Values {
    /// No value given yet: every parameter at its default.
    pub fn new(description: Description) -> Self {
        Values { description, given: Vec::new() }
    }

    /// Give `name` the value `value` (again: the last one counts).
    pub fn set(&mut self, name: &str, value: Param) -> Result<(), ParamError> {
        let Some(spec) = self.description.spec(name) else {
            return Err(ParamError::Unknown(format!("unexpected parameter {name:?}")));
        };
        let value = spec.check(value)?;
        self.given.retain(|(s, _)| s.name != name);
        self.given.push((spec, value));
        Ok(())
    }

    /// The value of `name`: as given, else its default; `None` for a default derived from the
    /// data (and for a name the description does not have).
    pub(crate) fn get(&self, name: &str) -> Option<Param> {
        match self.given.iter().find(|(s, _)| s.name == name) {
            Some((_, v)) => Some(v.clone()),
            None => self.description.spec(name)?.default_value(),
        }
    }

    /// The value of `name` as the field type `T` of a described struct.
    pub(crate) fn take<T: FromParam>(&self, name: &str) -> Result<T, ParamError> {
        T::from_param(self.get(name)).map_err(|why| ParamError::Type(format!("{name}: {why}")))
    }
}

/// A field type of a described struct, made from its parameter's value (`None`: not set, its
/// default derived from the data).
pub(crate) trait FromParam: Sized {
    fn from_param(value: Option<Param>) -> Result<Self, String>;
}

/// A field type of a described struct, as recorded (`None`: nothing to record).
pub(crate) trait ToParam {
    fn to_param(&self) -> Option<Param>;
}

impl FromParam for f64 {
    fn from_param(value: Option<Param>) -> Result<Self, String> {
        match value {
            Some(Param::Float(v)) => Ok(v),
            other => Err(format!("expected a number, got {other:?}")),
        }
    }
}

impl FromParam for usize {
    fn from_param(value: Option<Param>) -> Result<Self, String> {
        match value {
            Some(Param::Int(i)) => usize::try_from(i).map_err(|_| format!("{i} is not a size")),
            other => Err(format!("expected a whole number, got {other:?}")),
        }
    }
}

impl FromParam for Vec<f64> {
    fn from_param(value: Option<Param>) -> Result<Self, String> {
        match value {
            Some(Param::Floats(v)) => Ok(v),
            other => Err(format!("expected numbers, got {other:?}")),
        }
    }
}

impl<T: FromParam> FromParam for Option<T> {
    fn from_param(value: Option<Param>) -> Result<Self, String> {
        value.map(|v| T::from_param(Some(v))).transpose()
    }
}

impl ToParam for f64 {
    fn to_param(&self) -> Option<Param> {
        Some(Param::Float(*self))
    }
}

impl ToParam for usize {
    fn to_param(&self) -> Option<Param> {
        Some(Param::Int(i64::try_from(*self).unwrap_or(i64::MAX)))
    }
}

impl ToParam for Vec<f64> {
    fn to_param(&self) -> Option<Param> {
        Some(Param::Floats(self.clone()))
    }
}

impl<T: ToParam> ToParam for Option<T> {
    fn to_param(&self) -> Option<Param> {
        self.as_ref().and_then(ToParam::to_param)
    }
}

/// A struct of described parameters: each field is one parameter, `= Spec` after its type (the
/// field's name is the parameter's). Generates the struct, its `SPECS` (in field order: the order
/// of the options, the keywords, the recorded attributes and the reuse key), `from_values`,
/// `values` (what is recorded) and `Default` (every described default).
macro_rules! described {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                pub $field:ident : $ty:ty = $spec:expr
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $name {
            /// The parameters, in order: the order of the command line's options, the Python
            /// keywords, the recorded attributes and the reuse key.
            pub(crate) const SPECS: &'static [$crate::params::Spec] = &[ $( $spec.named(stringify!($field)) ),* ];

            /// The parameters from `values` (given or default).
            pub(crate) fn from_values(values: &$crate::params::Values) -> Result<Self, $crate::params::ParamError> {
                Ok($name { $( $field: values.take(stringify!($field))?, )* })
            }

            /// Each parameter's value, in order, as the results group records it; a parameter
            /// without a value (a default derived from the data, not yet resolved) is left out.
            pub(crate) fn values(&self) -> Vec<(String, $crate::params::Param)> {
                let mut out = Vec::new();
                $(
                    if let Some(v) = $crate::params::ToParam::to_param(&self.$field) {
                        out.push((stringify!($field).to_string(), v));
                    }
                )*
                out
            }
        }

        impl Default for $name {
            /// Every parameter at its described default; derived ones unset.
            fn default() -> Self {
                let all = $crate::params::Description { title: "", parts: &[$name::SPECS] };
                // Only a description whose default text is not of its own kind can fail here: a
                // bug its unit test (`every_default_is_of_its_kind`) catches.
                $name::from_values(&$crate::params::Values::new(all))
                    .unwrap_or_else(|e| panic!("{}: a described default is not of its kind: {e}", stringify!($name)))
            }
        }
    };
}
pub(crate) use described;

/// An enum of named choices, each `Variant => "name": "help"`: generates the enum (the help as
/// each variant's doc), its `CHOICES` (for [`Kind::Choice`]), `name`, `from_name`, and its
/// conversions to and from [`Param::Str`].
macro_rules! choices {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal : $help:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( #[doc = $help] $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// The choices, as the command line and the results name them.
            pub(crate) const CHOICES: &'static [$crate::params::Choice] =
                &[ $( $crate::params::Choice { name: $text, help: $help } ),+ ];

            /// The choice's name, as the command line and the results write it.
            pub fn name(self) -> &'static str {
                match self { $( $name::$variant => $text, )+ }
            }

            /// The choice named `name`.
            #[allow(dead_code)] // a choice read back from a results group
            pub(crate) fn from_name(name: &str) -> Option<Self> {
                match name { $( $text => Some($name::$variant), )+ _ => None }
            }
        }

        impl $crate::params::FromParam for $name {
            fn from_param(value: Option<$crate::params::Param>) -> Result<Self, String> {
                match value {
                    Some($crate::params::Param::Str(s)) => {
                        $name::from_name(&s).ok_or_else(|| format!("{s:?} is not a choice"))
                    }
                    other => Err(format!("expected a choice, got {other:?}")),
                }
            }
        }

        impl $crate::params::ToParam for $name {
            fn to_param(&self) -> Option<$crate::params::Param> {
                Some($crate::params::Param::Str(self.name().to_string()))
            }
        }
    };
}
pub(crate) use choices;

#[cfg(test)]
mod tests {
    use super::*;

    choices! {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Shape {
            Round => "round": "a circle",
            #[allow(dead_code)]
            FlatTop => "flat-top": "a plateau",
        }
    }

    described! {
        #[derive(Debug, Clone, PartialEq)]
        struct Demo {
            pub width: f64 = Spec::new(Kind::Float, DefaultTo::Text("2.5"), "a width"),
            pub count: Option<usize> = Spec::new(Kind::Count, DefaultTo::Derived("width / 2"), "a count"),
            pub list: Vec<f64> = Spec::new(Kind::Widths, DefaultTo::Text("1:3:3"), "widths"),
            pub shape: Shape = Spec::new(Kind::Choice(Shape::CHOICES), DefaultTo::Text("round"), "a shape")
                .key_unless_default(),
        }
    }

    const DEMO: Description = Description { title: "Demo", parts: &[Demo::SPECS] };

    #[test]
    fn a_described_struct_has_its_specs_defaults_and_values_in_field_order() {
        let names: Vec<&str> = DEMO.specs().map(|s| s.name).collect();
        assert_eq!(names, ["width", "count", "list", "shape"]);
        let d = Demo::default();
        assert_eq!(d, Demo { width: 2.5, count: None, list: vec![1.0, 2.0, 3.0], shape: Shape::Round });
        let recorded = d.values();
        assert_eq!(
            recorded,
            [
                ("width".to_string(), Param::Float(2.5)),
                ("list".to_string(), Param::Floats(vec![1.0, 2.0, 3.0])),
                ("shape".to_string(), Param::Str("round".into()))
            ]
        );
        // At its default, a parameter added later stays out of the key.
        assert_eq!(DEMO.key(recorded).len(), 2);
    }

    #[test]
    fn values_are_checked_by_name_and_kind() {
        let mut v = Values::new(DEMO);
        v.set("width", Param::Int(3)).unwrap();
        v.set("count", Param::Int(4)).unwrap();
        v.set("shape", Param::Str("flat-top".into())).unwrap();
        let d = Demo::from_values(&v).unwrap();
        assert_eq!((d.width, d.count, d.shape), (3.0, Some(4), Shape::FlatTop));
        assert!(DEMO.key(d.values()).iter().any(|(n, _)| n == "shape"), "off its default, it is keyed");
        assert!(matches!(v.set("bogus", Param::Int(1)), Err(ParamError::Unknown(_))));
        assert!(matches!(v.set("width", Param::Str("x".into())), Err(ParamError::Type(_))));
        assert!(matches!(v.set("count", Param::Int(-1)), Err(ParamError::Value(_))));
        let e = v.set("shape", Param::Str("square".into())).unwrap_err();
        assert_eq!(e.to_string(), "shape must be one of round, flat-top, got \"square\"");
    }

    #[test]
    fn command_line_text_is_read_by_kind() {
        let width = DEMO.spec("width").unwrap();
        assert_eq!(width.parse("-1e3"), Ok(Param::Float(-1000.0)));
        assert_eq!(width.flag(), "width");
        assert_eq!(Shape::CHOICES[1].python_name(), "flat_top");
    }
}
