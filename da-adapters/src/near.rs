//! NEAR DA backend (blob-store contract `submit`). Being written; see the DA issue.
