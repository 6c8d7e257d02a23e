//! Packing placeholder.
