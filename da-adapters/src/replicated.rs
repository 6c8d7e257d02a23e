//! Replicated backend: writes to several backends, reads from the first that verifies. Being written.
