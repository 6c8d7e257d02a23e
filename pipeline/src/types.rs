//! The L1 shapes the pipeline hands to the node: the protocol crate's, so the L1 watcher, the
//! derivation and the node's block producer share one definition.

pub use temporis_protocol::deposit::DepositLog;
pub use temporis_protocol::l1::{L1BlockInfo, L1Epoch};
