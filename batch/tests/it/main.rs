//! Integration tests of temporis-batch: one binary, one module per concern.

mod channels;
mod corpus;
mod fuzz;
mod round_trip;
mod vectors;
