//! The L1 shapes the pipeline hands to the node.
//!
//! These are the shapes of the issue-6 interface (`L1BlockInfo`, `DepositLog`, `L1Epoch`).
//! Helper E adds the same types to `temporis-protocol` (branch `exec`); until that is merged they
//! live here with identical fields, and the lead switches this module to re-export protocol's.

use alloy::primitives::{Address, B256, Bytes, U256};

/// An L1 block as the L2 needs it (origin of L2 blocks; input of the L1 attributes tx).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct L1BlockInfo {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// Hash of the parent block.
    pub parent_hash: B256,
    /// Block timestamp, seconds.
    pub timestamp: u64,
    /// EIP-1559 base fee, wei.
    pub base_fee: u64,
    /// EIP-4844 blob base fee, wei, computed from the header's excess blob gas.
    pub blob_base_fee: u128,
}

/// One `TransactionDeposited` log of the portal, as read from L1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositLog {
    /// Hash of the L1 block that holds the log.
    pub l1_block_hash: B256,
    /// Index of the log in that block.
    pub log_index: u64,
    /// `from` topic: the depositor (already aliased by the portal for contract senders).
    pub from: Address,
    /// `to` topic.
    pub to: Address,
    /// `version` topic (0).
    pub version: U256,
    /// `opaqueData`: `mint ‖ value ‖ gasLimit ‖ isCreation ‖ data`, packed.
    pub opaque_data: Bytes,
}

/// The L1 block and its deposits, in log order: one "epoch" input of the L2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L1Epoch {
    /// The L1 block.
    pub info: L1BlockInfo,
    /// Its portal deposits, in log order.
    pub deposits: Vec<DepositLog>,
}
