//! Rollup status types in the OP Stack's JSON shapes: what `optimism_outputAtBlock` and
//! `optimism_syncStatus` answer (op-node's `eth.OutputResponse`, `eth.SyncStatus`,
//! `eth.L1BlockRef`, `eth.L2BlockRef`, `eth.BlockID`), so that OP tooling (proposers,
//! monitors, `cast rpc`) reads them unmodified.
//!
//! op-node writes block numbers, timestamps and sequence numbers of these refs as plain JSON
//! numbers (Go `uint64`), not as `0x` quantities, and the `SyncStatus` keys in snake case; both
//! are kept here.

use alloy_primitives::B256;
use serde::{Deserialize, Serialize};
use temporis_protocol::output::OutputRootV0;

/// A block's hash and number (op-node's `eth.BlockID`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockId {
    /// Block hash.
    pub hash: B256,
    /// Block number.
    pub number: u64,
}

/// An L1 block as the rollup refers to it (op-node's `eth.L1BlockRef`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct L1BlockRef {
    /// Block hash.
    pub hash: B256,
    /// Block number.
    pub number: u64,
    /// Parent block hash.
    pub parent_hash: B256,
    /// Block timestamp (seconds).
    pub timestamp: u64,
}

/// An L2 block with its L1 origin (op-node's `eth.L2BlockRef`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct L2BlockRef {
    /// Block hash.
    pub hash: B256,
    /// Block number.
    pub number: u64,
    /// Parent block hash.
    pub parent_hash: B256,
    /// Block timestamp (seconds).
    pub timestamp: u64,
    /// The L1 block the L2 block was built on (zero for standalone blocks, which have none).
    #[serde(rename = "l1origin")]
    pub l1_origin: BlockId,
    /// Distance to the first L2 block of the same L1 origin (the epoch).
    pub sequence_number: u64,
}

/// A snapshot of the rollup node's view of both chains (op-node's `eth.SyncStatus`; keys in
/// snake case as op-node writes them). Refs not known yet are zero, as op-node leaves them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// The L1 block the derivation last processed.
    pub current_l1: L1BlockRef,
    /// Deprecated by op-node; kept equal to `finalized_l1` as op-node does.
    pub current_l1_finalized: L1BlockRef,
    /// The newest L1 block seen.
    pub head_l1: L1BlockRef,
    /// The L1 safe block.
    pub safe_l1: L1BlockRef,
    /// The L1 finalized block.
    pub finalized_l1: L1BlockRef,
    /// The newest L2 block (the sequencer's head).
    pub unsafe_l2: L2BlockRef,
    /// The newest L2 block derived from L1 data (its batch is on L1).
    pub safe_l2: L2BlockRef,
    /// The newest L2 block derived from finalized L1 data.
    pub finalized_l2: L2BlockRef,
    /// Processed from a batch, not yet consolidated: the safe head here (no separate stage).
    pub pending_safe_l2: L2BlockRef,
    /// Pre-interop every unsafe block is cross-unsafe: the unsafe head.
    pub cross_unsafe_l2: L2BlockRef,
    /// Pre-interop the local-safe head is the safe head.
    pub local_safe_l2: L2BlockRef,
}

/// The L1 side of the [`SyncStatus`], as the L1 watcher reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct L1Heads {
    /// The L1 block the derivation last processed.
    pub current: L1BlockRef,
    /// The newest L1 block.
    pub head: L1BlockRef,
    /// The L1 safe block.
    pub safe: L1BlockRef,
    /// The L1 finalized block.
    pub finalized: L1BlockRef,
}

/// What the node stores per block for its output root: the `L2ToL1MessagePasser`'s storage
/// root in the block's post-state and the block's sequence number in its epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockOutput {
    /// Storage root of the `L2ToL1MessagePasser` predeploy after the block.
    pub message_passer_storage_root: B256,
    /// Distance to the first block of the same L1 origin.
    pub sequence_number: u64,
}

/// One block's output: its ref, state root and message passer storage root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputAtBlock {
    /// The block.
    pub block_ref: L2BlockRef,
    /// Its state root.
    pub state_root: B256,
    /// The `L2ToL1MessagePasser`'s storage root in its state (OP: `withdrawalStorageRoot`).
    pub message_passer_storage_root: B256,
}

impl OutputAtBlock {
    /// The version-0 output root preimage.
    pub fn preimage(&self) -> OutputRootV0 {
        OutputRootV0 {
            state_root: self.state_root,
            message_passer_storage_root: self.message_passer_storage_root,
            latest_block_hash: self.block_ref.hash,
        }
    }

    /// The version-0 output root.
    pub fn output_root(&self) -> B256 {
        self.preimage().root()
    }

    /// op-node's `eth.OutputResponse` with `status`.
    pub fn response(&self, status: SyncStatus) -> OutputResponse {
        OutputResponse {
            version: OutputRootV0::VERSION,
            output_root: self.output_root(),
            block_ref: self.block_ref,
            withdrawal_storage_root: self.message_passer_storage_root,
            state_root: self.state_root,
            sync_status: status,
        }
    }
}

/// What `optimism_outputAtBlock` answers (op-node's `eth.OutputResponse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputResponse {
    /// Output version (`bytes32(0)`).
    pub version: B256,
    /// The output root.
    pub output_root: B256,
    /// The block.
    pub block_ref: L2BlockRef,
    /// Storage root of the `L2ToL1MessagePasser`.
    pub withdrawal_storage_root: B256,
    /// State root of the block.
    pub state_root: B256,
    /// The node's sync status when it answered.
    pub sync_status: SyncStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shapes_are_op_nodes() {
        let r = L2BlockRef {
            hash: B256::repeat_byte(1),
            number: 10,
            parent_hash: B256::repeat_byte(2),
            timestamp: 1_700_000_000,
            l1_origin: BlockId { hash: B256::repeat_byte(3), number: 7 },
            sequence_number: 2,
        };
        let v = serde_json::to_value(r).unwrap();
        // Plain numbers (Go uint64), camelCase keys and `l1origin` in one word, as op-node.
        assert_eq!(v["number"], 10);
        assert_eq!(v["timestamp"], 1_700_000_000u64);
        assert_eq!(v["sequenceNumber"], 2);
        assert_eq!(v["l1origin"]["number"], 7);
        assert_eq!(v["parentHash"], format!("{}", B256::repeat_byte(2)));
        let s = serde_json::to_value(SyncStatus { unsafe_l2: r, ..Default::default() }).unwrap();
        for key in [
            "current_l1",
            "current_l1_finalized",
            "head_l1",
            "safe_l1",
            "finalized_l1",
            "unsafe_l2",
            "safe_l2",
            "finalized_l2",
            "pending_safe_l2",
            "cross_unsafe_l2",
            "local_safe_l2",
        ] {
            assert!(s.get(key).is_some(), "{key}");
        }
        assert_eq!(s["unsafe_l2"]["number"], 10);
        let back: SyncStatus = serde_json::from_value(s).unwrap();
        assert_eq!(back.unsafe_l2, r);
        let out = OutputAtBlock {
            block_ref: r,
            state_root: B256::repeat_byte(4),
            message_passer_storage_root: B256::repeat_byte(5),
        };
        let resp = serde_json::to_value(out.response(SyncStatus::default())).unwrap();
        assert_eq!(resp["version"], format!("{}", B256::ZERO));
        assert_eq!(resp["outputRoot"], format!("{}", out.output_root()));
        assert_eq!(resp["withdrawalStorageRoot"], format!("{}", B256::repeat_byte(5)));
        assert_eq!(resp["stateRoot"], format!("{}", B256::repeat_byte(4)));
        assert_eq!(resp["blockRef"]["hash"], format!("{}", B256::repeat_byte(1)));
        assert!(resp["syncStatus"]["safe_l2"].is_object());
    }
}
