//! Peak finding as an Analysis (being written).
