//! The generic engine (being written).
