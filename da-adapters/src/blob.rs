//! Ethereum EIP-4844 blob backend. Being written; see the DA issue.
