//! Integration tests of temporis-batch.
